package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Mailbox is the selected folder's state.
type Mailbox struct {
	Name        string
	UIDValidity uint32
	UIDNext     imap.UID
	Messages    uint32
}

// Handler is called once the folder is selected and again after every change
// the server announces (and at least every poll interval). It may run commands
// on c; it must not start IDLE. An error drops the connection and reconnects.
type Handler func(ctx context.Context, c *imapclient.Client, mb Mailbox) error

// State is the connection state Watch reports.
type State struct {
	Connected bool
	Idle      bool  // the server supports IDLE (else polling)
	Err       error // why the last connection ended, when not connected
	Retry     time.Duration
}

// WatchOptions tune Watch.
type WatchOptions struct {
	Folder       string        // default INBOX
	PollInterval time.Duration // without IDLE: how often to look; with IDLE: a safety re-check. Default 5m.
	MinBackoff   time.Duration // first wait after a failure; default 1s
	MaxBackoff   time.Duration // longest wait; default 5m
	OnState      func(State)   // called on every connect and disconnect; may be nil
	NoIdle       bool          // poll even when the server offers IDLE (for servers whose IDLE misbehaves)
	Heartbeat    func()        // optional: called every BeatEvery while waiting for the server (to reconnect, in IDLE, for an answer), a sign of life
	BeatEvery    time.Duration // default 5s
	Log          *slog.Logger
}

func (o *WatchOptions) defaults() {
	if o.Folder == "" {
		o.Folder = "INBOX"
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Minute
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.OnState == nil {
		o.OnState = func(State) {}
	}
	if o.Heartbeat == nil {
		o.Heartbeat = func() {}
	}
	if o.BeatEvery <= 0 {
		o.BeatEvery = 5 * time.Second
	}
}

// Watch keeps a connection to the folder until ctx ends, calling h on every
// change. Failures reconnect after an exponential backoff with jitter, so a
// server that is down costs no busy loop. It returns nil when ctx ends.
func Watch(ctx context.Context, cfg Config, opts WatchOptions, h Handler) error {
	opts.defaults()
	backoff := opts.MinBackoff
	for {
		started := time.Now()
		err := watchOnce(ctx, cfg, opts, h)
		if ctx.Err() != nil {
			opts.OnState(State{})
			return nil
		}
		if time.Since(started) > opts.MaxBackoff {
			backoff = opts.MinBackoff // it worked for a while: start the backoff afresh
		}
		wait := Jitter(backoff)
		lost := "imap connection lost, will retry"
		if errors.Is(err, ErrStalled) {
			lost = "imap server stalled: no answer in time, will reconnect"
		}
		opts.Log.Warn(lost, "err", err, "retry_in", wait.Round(time.Millisecond))
		opts.OnState(State{Err: err, Retry: wait})
		if opts.rest(ctx, wait) {
			return nil
		}
		backoff = min(2*backoff, opts.MaxBackoff)
	}
}

// rest waits d before the next connection, or until ctx ends (it reports
// which), calling Heartbeat meanwhile: waiting for the server, as designed,
// is a sign of life.
func (o *WatchOptions) rest(ctx context.Context, d time.Duration) (ended bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	beat := time.NewTicker(o.BeatEvery)
	defer beat.Stop()
	for {
		o.Heartbeat()
		select {
		case <-ctx.Done():
			return true
		case <-t.C:
			return false
		case <-beat.C:
		}
	}
}

// beating runs fn, a wait for the server that has a deadline of its own,
// calling Heartbeat meanwhile.
func beating[T any](o *WatchOptions, fn func() (T, error)) (T, error) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		beat := time.NewTicker(o.BeatEvery)
		defer beat.Stop()
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				o.Heartbeat()
			}
		}
	}()
	return fn()
}

// Jitter spreads a wait over [d/2, d) so reconnecting clients do not stampede.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func watchOnce(ctx context.Context, cfg Config, opts WatchOptions, h Handler) error {
	news := make(chan struct{}, 1)
	notify := func() {
		select {
		case news <- struct{}{}:
		default:
		}
	}
	dopts := &dialOptions{Options: imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				notify()
			}
		},
		Expunge: func(uint32) { notify() },
	}}, heartbeat: opts.Heartbeat, beatEvery: opts.BeatEvery}
	c, err := beating(&opts, func() (*imapclient.Client, error) { return dial(ctx, cfg, dopts) })
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()

	sel, err := awaitValue(c, c.Select(opts.Folder, nil).Wait)
	if err != nil {
		return fmt.Errorf("imap select %s: %w", opts.Folder, err)
	}
	mb := Mailbox{Name: opts.Folder, UIDValidity: sel.UIDValidity, UIDNext: sel.UIDNext, Messages: sel.NumMessages}
	idle := c.Caps().Has(imap.CapIdle) && !opts.NoIdle
	opts.Log.Info("imap connected", "server", cfg.addr(), "folder", opts.Folder, "messages", mb.Messages, "idle", idle)
	opts.OnState(State{Connected: true, Idle: idle})

	for {
		if err := h(ctx, c, mb); err != nil {
			return fmt.Errorf("handle %s: %w", opts.Folder, err)
		}
		if idle {
			err = waitIdle(ctx, c, news, opts)
		} else {
			err = waitPoll(ctx, c, opts)
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st, err := awaitValue(c, c.Status(opts.Folder, &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true}).Wait)
		switch {
		case errors.Is(err, ErrStalled):
			return fmt.Errorf("imap status %s: %w", opts.Folder, err)
		case err == nil:
			mb.UIDValidity, mb.UIDNext = st.UIDValidity, st.UIDNext
			if st.NumMessages != nil {
				mb.Messages = *st.NumMessages
			}
		}
	}
}

// waitIdle holds IDLE (go-imap re-issues it every 28 minutes, inside RFC 2177's
// 29) until the server announces news, the re-check interval passes or ctx ends.
func waitIdle(ctx context.Context, c *imapclient.Client, news <-chan struct{}, opts WatchOptions) error {
	cmd, err := awaitValue(c, c.Idle)
	if err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	t := time.NewTimer(opts.PollInterval)
	defer t.Stop()
	beat := time.NewTicker(opts.BeatEvery)
	defer beat.Stop()
wait:
	for {
		opts.Heartbeat()
		select {
		case <-news:
			break wait
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-beat.C:
		case <-c.Closed():
			return errors.New("imap: the server closed the connection")
		}
	}
	err = await(c, func() error {
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("done: %w", err)
		}
		return cmd.Wait()
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	return nil
}

// waitPoll sleeps one poll interval and asks the server for news with NOOP.
func waitPoll(ctx context.Context, c *imapclient.Client, opts WatchOptions) error {
	t := time.NewTimer(opts.PollInterval)
	defer t.Stop()
	beat := time.NewTicker(opts.BeatEvery)
	defer beat.Stop()
	for done := false; !done; {
		opts.Heartbeat()
		select {
		case <-ctx.Done():
			return nil
		case <-c.Closed():
			return errors.New("imap: the server closed the connection")
		case <-beat.C:
		case <-t.C:
			done = true
		}
	}
	if err := await(c, c.Noop().Wait); err != nil {
		return fmt.Errorf("imap noop: %w", err)
	}
	return nil
}
