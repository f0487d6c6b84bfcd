package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
)

// A setting that only a restart applies warns when a reload changes it from
// what runs, and not again when the change is taken back (before, the warning
// compared with the last file read, so taking it back warned a second time).
func TestReloadWarnsAgainstTheRunningValues(t *testing.T) {
	p := startPeerDaemon(t, devserver.Config{}, "", nil)
	orig, err := os.ReadFile(p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	reload := func(body string, n int) {
		t.Helper()
		if err := os.WriteFile(p.cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		p.reload <- struct{}{}
		for deadline := time.Now().Add(10 * time.Second); strings.Count(p.logs.String(), "configuration reloaded") < n; {
			if time.Now().After(deadline) {
				t.Fatalf("reload %d did not finish:\n%s", n, p.logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	warnings := func() int { return strings.Count(p.logs.String(), "this setting changes only at the next restart") }
	reload(strings.Replace(string(orig), p.httpAddr, other, 1), 1)
	if w := warnings(); w != 1 {
		t.Fatalf("after changing http.listen: %d warnings, want 1\n%s", w, p.logs)
	}
	reload(string(orig), 2)
	if w := warnings(); w != 1 {
		t.Errorf("after taking the change back: %d warnings, want still 1\n%s", w, p.logs)
	}
}

// From the start, `mentord status` sees every component (marked "starting"
// until each reports its own state).
func TestStatusSeesEveryComponentFromTheStart(t *testing.T) {
	p := startPeerDaemon(t, devserver.Config{}, "", nil)
	db, err := store.OpenReadOnly(context.Background(), p.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The report is saved right after READY.
	var rep *health.Report
	for deadline := time.Now().Add(10 * time.Second); rep == nil; time.Sleep(10 * time.Millisecond) {
		if rep, err = health.Load(context.Background(), db.R(), time.Now()); err != nil || (rep == nil && time.Now().After(deadline)) {
			t.Fatalf("health.Load = %v, %v", rep, err)
		}
	}
	seen := map[string]string{}
	for _, part := range rep.Parts {
		seen[part.Name] = part.State
	}
	for _, want := range []string{"schedule", "outbox", "inbox", "smtp", "imap", "database"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("status right after READY lacks %s: %v", want, seen)
		}
	}
}
