package inbox

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stalled reports whether err says the server stopped answering.
func stalled(err error) bool { return errors.Is(err, ErrStalled) }

// A server that stops answering SELECT (Dovecot waiting on its own index
// lock) makes Watch give up on the connection after the timeout, say so, and
// reconnect; once the server answers again, the folder is read. Before,
// Watch waited for the answer forever, without a word.
func TestWatchReconnectsWhenTheServerStalls(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	defer dev.Close()
	cfg := devConfig(dev)
	cfg.Timeout = 300 * time.Millisecond
	release := dev.Stall("SELECT")
	defer release()
	states := make(chan State, 100)
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, cfg, WatchOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			OnState: func(s State) { states <- s }}, rec.handle)
	}()
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case s := <-states:
			if s.Connected {
				t.Fatalf("connected while SELECT goes unanswered")
			}
			got = stalled(s.Err)
			if s.Err != nil && !got {
				t.Errorf("the connection ended with %v, want the stall named", s.Err)
			}
		case <-deadline:
			t.Fatal("no stall reported: Watch waits for an answer that never comes")
		}
	}
	release()
	rec.waitCount(t, 0)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
}

// Every command after login has the deadline, here a FETCH inside Drain.
func TestDrainGivesUpOnAStalledFetch(t *testing.T) {
	dev := startDev(t, "127.0.0.1:0", "127.0.0.1:0")
	defer dev.Close()
	if err := dev.Deliver("mentoring@example.org", []byte(rawMsg)); err != nil {
		t.Fatal(err)
	}
	cfg := devConfig(dev)
	cfg.Timeout = 300 * time.Millisecond
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	release := dev.Stall("FETCH")
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := Drain(context.Background(), c, Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity}, DrainOptions{},
			func(context.Context, []Message) ([]string, error) { return nil, nil })
		done <- err
	}()
	select {
	case err := <-done:
		if !stalled(err) {
			t.Errorf("Drain = %v, want the stall named", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Drain still waits for a FETCH the server never answers")
	}
	select {
	case <-c.Closed():
	case <-time.After(10 * time.Second):
		t.Error("the stalled connection was not closed")
	}
}
