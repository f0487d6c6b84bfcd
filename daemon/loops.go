package daemon

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/converse"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/sender"
)

// loopFunc is one of the daemon's loops. It returns when soft ends (stop taking
// new work); hard ends when in-flight work must be cut off.
type loopFunc func(soft, hard context.Context) error

// startLoops starts the schedule, outbox and inbox loops under supervision and
// returns a channel closed when all have returned.
func (d *Daemon) startLoops(soft, hard context.Context) <-chan struct{} {
	loops := []struct {
		name string
		run  loopFunc
	}{
		{"schedule", d.scheduleLoop},
		{"outbox", d.outboxLoop},
		{"inbox", d.inboxLoop},
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.supervise(soft, hard, l.name, l.run)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// supervise runs a loop until soft ends, restarting it after a backoff when it
// fails or panics, so one bad message or bug cannot stop the daemon.
func (d *Daemon) supervise(soft, hard context.Context, name string, run loopFunc) {
	backoff := time.Second
	for {
		d.health.Set(name, true, "running", nil)
		d.health.Beat(name) // a loop (re)starting is alive
		err := safeRun(func() error { return run(soft, hard) })
		if soft.Err() != nil {
			d.health.Set(name, true, "stopped", nil)
			return
		}
		if err == nil {
			err = fmt.Errorf("returned unexpectedly")
		}
		d.log.Error("loop failed; restarting it", "loop", name, "err", err, "retry_in", backoff)
		d.health.Set(name, false, "restarting", err)
		if d.waitFor(soft, time.After(backoff), name, nil) { // a backoff as designed: alive, and failing in /healthz
			d.health.Set(name, true, "stopped", nil)
			return
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// safeRun calls fn, turning a panic into an error with its stack.
func safeRun(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}

// reclaimStep is the most pages (4 KiB each) one pass of the outbox loop
// gives back to the file system.
const reclaimStep = 2048

// smtpQuietSlack is the outbox's time between beats beyond the SMTP
// timeouts: an OAuth token request (15 s) and the database's busy timeout (10 s).
const smtpQuietSlack = 30 * time.Second

// scheduleTick is the longest the schedule loop sleeps.
const scheduleTick = time.Minute

// changesEvery is how often the daemon looks for commits by another process
// (pair add, session move, ...), so that the schedule acts on them within
// seconds rather than at its next tick.
const changesEvery = 2 * time.Second

// watchChanges wakes the schedule loop when another process committed to the
// database. It runs on real time: the question is about other processes.
// last and err are the look taken before the schedule loop started, so that
// a commit between its first pass and this goroutine's start still wakes it.
func (d *Daemon) watchChanges(soft context.Context, last int64, err error) {
	t := time.NewTicker(changesEvery)
	defer t.Stop()
	for {
		select {
		case <-soft.Done():
			return
		case <-t.C:
		}
		v, verr := d.db.ChangedElsewhere(soft)
		if verr != nil || err != nil { // a failed look wakes nobody; the tick still comes
			last, err = v, verr
			continue
		}
		if v != last {
			last = v
			d.wakeSchedule()
		}
	}
}

// wakeSchedule makes the schedule loop run a pass now rather than at its
// next due time or tick.
func (d *Daemon) wakeSchedule() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// scheduleLoop runs a pass of the schedule rules every tick and wakes the
// outbox when it enqueued something.
func (d *Daemon) scheduleLoop(soft, hard context.Context) error {
	for {
		now := d.clock.Now()
		kicked := 0
		// The conversation's timed work first (pauses ending, proposals
		// unanswered, the admin digest), so this pass invites to what it
		// planned again.
		talk, err := converse.Tick(hard, d.db, d.Config(), d.templates(), now, d.log)
		if err != nil {
			d.log.Error("the conversation's timed work", "err", err)
		}
		res, err := compose.Plan(hard, d.db, d.Config(), d.templates(), now, d.log, compose.PlanOptions{
			Stop: soft,
			// Each part committed is a sign of life, and can go out at once.
			Progress: func(r compose.PlanResult) {
				d.health.Beat("schedule")
				if r.Enqueued > kicked {
					kicked = r.Enqueued
					d.Kick()
				}
			},
		})
		if err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
		d.health.Progress("schedule")
		d.writeHealth(hard)
		if now.Sub(d.lastPurge) > 24*time.Hour {
			ret := d.Config().Retention
			if p, err := store.Purge(hard, d.db, now, ret.RawMessages.D(), ret.PairLog.D(), false); err != nil {
				d.log.Error("purge (retention)", "err", err)
			} else {
				d.lastPurge = now
				if p.RawMessages+p.Pairs > 0 {
					d.log.Info("purged what retention allows no longer", "raw_messages", p.RawMessages, "pairs", p.Pairs, "entries", p.Entries)
				}
			}
			// The texts kept to read replies that quote them go when replies
			// about their session are no longer taken.
			if n, err := store.DropSentTexts(hard, d.db, now, d.Config().Timings.ReplyWindow.D()); err != nil {
				d.log.Error("drop the texts of messages no longer answered", "err", err)
			} else if n > 0 {
				d.log.Info("dropped the texts of messages no longer answered", "texts", n)
			}
		}
		if res.Enqueued > 0 {
			d.log.Info("messages enqueued", "count", res.Enqueued)
			d.Kick()
		}
		if !talk.Next.IsZero() && (res.Next.IsZero() || talk.Next.Before(res.Next)) {
			res.Next = talk.Next
		}
		if talk.Acted > 0 {
			d.Kick()
		}
		wait := scheduleTick
		if !res.Next.IsZero() {
			wait = min(max(res.Next.Sub(now), time.Second), scheduleTick)
		}
		if d.sleep(soft, wait, "schedule", d.changed) {
			return nil
		}
	}
}

// outboxLoop sends what is due, then sleeps until the next message can go (a
// retry due, a slot of the sending quota freeing, the server's pause ending),
// a kick after an enqueue, or a tick. The sleep beats for the watchdog, so a
// long wait for the quota is a sign of life, not a wedged loop.
func (d *Daemon) outboxLoop(soft, hard context.Context) error {
	for {
		cfg := d.Config()
		o := &outbox.Outbox{DB: d.db, Sender: sender.New(connect.SMTPConfig(cfg, d.Tokens()), d.log.With("component", "smtp")), Cfg: cfg,
			Log: d.log, Now: d.clock.Now, Beat: func() { d.health.Beat("outbox") }}
		// The outbox beats per message; between two beats it may wait on the
		// SMTP server (dialling, with a token to fetch, or one transaction,
		// each within smtp.timeout) and on the database: a server that is down
		// or slow is no sign of a wedged loop.
		d.health.Quiet("outbox", 2*cfg.SMTP.Timeout.D()+smtpQuietSlack)
		_, err := o.SendDue(soft, hard)
		// The pages of what was sent go back to the file system, a bounded
		// step at a time (a write transaction, like any other).
		if n, err := d.db.Reclaim(hard, reclaimStep); err != nil {
			d.log.Warn("cannot give the space of sent messages back", "err", err)
		} else if n > 0 {
			d.log.Debug("gave the space of sent messages back", "pages", n)
		}
		d.health.Quiet("outbox", 0)
		now := d.clock.Now()
		p, perr := o.Paused(hard)
		if perr != nil && err == nil {
			err = perr
		}
		ok, state, cause := smtpState(now, p, err)
		d.health.Set("smtp", ok, state, cause)
		d.health.Progress("outbox")
		wait := scheduleTick
		if next, err := o.NextSend(hard); err == nil && !next.IsZero() {
			wait = min(max(next.Sub(now), time.Second), scheduleTick)
		}
		if d.sleep(soft, wait, "outbox", d.kick) {
			return nil
		}
	}
}

// inboxLoop keeps a connection to the programme mailbox, reconnecting when a
// reload changes the IMAP settings.
func (d *Daemon) inboxLoop(soft, hard context.Context) error {
	for soft.Err() == nil {
		cfg := d.Config()
		ctx, cancel := context.WithCancel(soft)
		go func() {
			for {
				select {
				case <-d.Reloaded():
					if !sameIMAP(d.Config().IMAP, cfg.IMAP) || !sameOAuth(d.Config(), cfg) {
						d.log.Info("imap settings changed; reconnecting")
						cancel()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		err := inbox.Watch(ctx, connect.IMAPConfig(cfg, d.Tokens()), inbox.WatchOptions{
			Folder:       cfg.IMAP.Folders.Inbox,
			PollInterval: cfg.IMAP.PollInterval.D(),
			NoIdle:       cfg.IMAP.Idle != nil && !*cfg.IMAP.Idle,
			Heartbeat:    func() { d.health.Beat("inbox") },
			BeatEvery:    d.heartbeatEvery(),
			Log:          d.log.With("component", "imap"),
			OnState:      d.imapState,
		}, d.handleInbox)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// sameIMAP compares IMAP settings by value (the CA pool by its file's name).
func sameIMAP(a, b config.IMAP) bool {
	a.RootCAs, b.RootCAs = nil, nil
	return reflect.DeepEqual(a, b)
}

func (d *Daemon) imapState(s inbox.State) {
	switch {
	case s.Connected:
		mode := "idle"
		if !s.Idle {
			mode = "polling"
		}
		d.health.Set("imap", true, "connected ("+mode+")", nil)
	case errors.Is(s.Err, inbox.ErrStalled):
		d.health.Set("imap", false, "stalled: the server stopped answering; reconnecting in "+s.Retry.Round(time.Second).String(), s.Err)
	case s.Err != nil:
		d.health.Set("imap", false, "disconnected, retrying in "+s.Retry.Round(time.Second).String(), s.Err)
	default:
		d.health.Set("imap", true, "closed", nil)
	}
}

// handleInbox reads what is new in the inbox; on a new connection, all of it.
func (d *Daemon) handleInbox(ctx context.Context, c *imapclient.Client, mb inbox.Mailbox) error {
	if d.faults != nil && d.faults.BeforeInbox != nil {
		d.faults.BeforeInbox()
	}
	r := &ingest.Reader{DB: d.db, Cfg: d.Config(), Tpl: d.templates(), Log: d.log, Now: d.clock.Now,
		Beat: func() { d.health.Beat("inbox") }}
	n, err := r.ReadFolder(ctx, c, mb, d.inboxConn != c)
	if err == nil {
		d.inboxConn = c
	}
	if n > 0 {
		d.wakeSchedule() // it composes the receipts for what was logged
		d.Kick()         // notices the reading enqueued may wait in the outbox
	}
	d.health.Progress("inbox")
	return err
}

// smtpState is the health of the "smtp" component after a pass of the outbox:
// a throttling server is not a failure.
func smtpState(now time.Time, p outbox.Pause, err error) (ok bool, state string, cause error) {
	switch {
	case p.Active(now):
		state := "throttled by the server until " + p.Until.UTC().Format("15:04Z")
		if p.Quota {
			state += " (its daily sending quota is used up)"
		}
		return true, state, nil
	case err != nil && !errors.Is(err, outbox.ErrThrottled):
		return false, "failing", err
	default:
		return true, "ok", nil
	}
}
