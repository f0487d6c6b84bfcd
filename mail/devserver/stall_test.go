package devserver

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A stalled command is read and goes unanswered until it is released; other
// commands are answered meanwhile.
func TestStall(t *testing.T) {
	logs := &lockedBuffer{}
	s := start(t, Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := dialIMAP(t, s, "mentoring@example.org", nil)
	release := s.Stall("select")
	answered := make(chan error, 1)
	go func() {
		_, err := c.Select("INBOX", nil).Wait()
		answered <- err
	}()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(logs.String(), "stalling") {
		if time.Now().After(deadline) {
			t.Fatalf("the SELECT never reached the server:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	other := dialIMAP(t, s, "other@example.org", nil)
	if err := other.Noop().Wait(); err != nil {
		t.Errorf("another connection's NOOP = %v", err)
	}
	select {
	case err := <-answered:
		t.Fatalf("a stalled SELECT was answered: %v", err)
	default:
	}
	release()
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("SELECT after the release = %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("SELECT still unanswered after the release")
	}
	release() // twice is fine
}
