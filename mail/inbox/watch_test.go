package inbox

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/mail/devserver"
)

func startDev(t *testing.T, smtpAddr, imapAddr string) *devserver.Server {
	t.Helper()
	s, err := devserver.Start(devserver.Config{SMTPAddr: smtpAddr, IMAPAddr: imapAddr})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func devConfig(s *devserver.Server) Config {
	host, port, _ := net.SplitHostPort(s.IMAPAddr())
	p, _ := strconv.Atoi(port)
	return Config{Host: host, Port: p, Security: TLSNone, Username: "mentoring@example.org", Password: "x", Timeout: 5 * time.Second}
}

// recorder collects handler calls and states.
type recorder struct {
	mu     sync.Mutex
	counts []uint32
	states []State
	calls  chan uint32
}

func newRecorder() *recorder { return &recorder{calls: make(chan uint32, 100)} }

func (r *recorder) handle(_ context.Context, _ *imapclient.Client, mb Mailbox) error {
	r.mu.Lock()
	r.counts = append(r.counts, mb.Messages)
	r.mu.Unlock()
	r.calls <- mb.Messages
	return nil
}

func (r *recorder) state(s State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) waitCount(t *testing.T, want uint32) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-r.calls:
			if n == want {
				return
			}
		case <-deadline:
			t.Fatalf("handler never saw %d messages; saw %v", want, r.counts)
		}
	}
}

const rawMsg = "From: mentee@example.org\r\nTo: mentoring@example.org\r\nSubject: Re: plan\r\nMessage-ID: <r1@example.org>\r\n\r\n1. done\r\n"

func TestWatchSeesNewMailWithIdle(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	defer dev.Close()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, devConfig(dev), WatchOptions{OnState: rec.state}, rec.handle)
	}()
	rec.waitCount(t, 0)
	if err := dev.Deliver("mentoring@example.org", []byte(rawMsg)); err != nil {
		t.Fatal(err)
	}
	rec.waitCount(t, 1) // announced during IDLE, long before the 5-minute re-check
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
	if len(rec.states) == 0 || !rec.states[0].Connected || !rec.states[0].Idle {
		t.Errorf("states = %+v", rec.states)
	}
}

func TestWatchReconnectsAfterServerRestart(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	smtpAddr, imapAddr := dev.SMTPAddr(), dev.IMAPAddr()
	cfg := devConfig(dev)
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, cfg, WatchOptions{OnState: rec.state, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, rec.handle)
	}()
	rec.waitCount(t, 0)
	dev.Close()
	time.Sleep(300 * time.Millisecond) // several failed reconnects while the server is down
	dev = startDev(t, smtpAddr, imapAddr)
	defer dev.Close()
	dev.Deliver("mentoring@example.org", []byte(rawMsg))
	rec.waitCount(t, 1)
	cancel()
	<-done

	rec.mu.Lock()
	defer rec.mu.Unlock()
	var failures int
	for _, s := range rec.states {
		if s.Err != nil {
			failures++
			if s.Retry > 100*time.Millisecond {
				t.Errorf("retry after %v, over MaxBackoff", s.Retry)
			}
		}
	}
	// Backoff grows, so a 300ms outage costs a handful of attempts, not a busy loop.
	if failures < 1 || failures > 10 {
		t.Errorf("%d failed connection attempts during a 300ms outage", failures)
	}
}

func TestWatchWrongFolderRetries(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	defer dev.Close()
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := Watch(ctx, devConfig(dev), WatchOptions{Folder: "NoSuchFolder", OnState: rec.state, MinBackoff: 50 * time.Millisecond}, rec.handle)
	if err != nil {
		t.Errorf("Watch = %v", err)
	}
	if len(rec.counts) != 0 {
		t.Errorf("handler called without a selected folder")
	}
	if len(rec.states) == 0 || rec.states[0].Err == nil {
		t.Errorf("states = %+v, want the select error reported", rec.states)
	}
}

func TestJitter(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if j := Jitter(time.Second); j < 500*time.Millisecond || j >= time.Second {
			t.Fatalf("Jitter(1s) = %v", j)
		}
	}
}

// Without IDLE, Watch polls: new mail is seen at the next poll, not before.
func TestWatchPollsWithoutIdle(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	defer dev.Close()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, devConfig(dev), WatchOptions{OnState: rec.state, NoIdle: true, PollInterval: 300 * time.Millisecond}, rec.handle)
	}()
	rec.waitCount(t, 0)
	start := time.Now()
	dev.Deliver("mentoring@example.org", []byte(rawMsg))
	rec.waitCount(t, 1)
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("seen after %v: that was not a poll", waited)
	}
	cancel()
	<-done
	if len(rec.states) == 0 || rec.states[0].Idle {
		t.Errorf("states = %+v, want polling", rec.states)
	}
}
