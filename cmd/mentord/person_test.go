package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
)

// exec runs SQL on the harness's database, for state a test cannot reach
// through the commands (a suspension after bounces, a message in flight).
func (h *harness) exec(query string, args ...any) {
	h.t.Helper()
	cfg, err := config.Load(h.config)
	if err != nil {
		h.t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	if err := db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
}

// person edit checks each value as pair add does, and changes nothing on bad input.
func TestPersonEdit(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)
	for _, c := range []struct{ flag, value, want string }{
		{"--email", "bø@example.org", "other than ASCII"},
		{"--email", "ada&co@example.org", "mailto"},
		{"--email", "Ada <ada2@example.org>", "not a plain email address"},
		{"--email", "ada@example.org", "already person 1"},
		{"--name", "Bo\x1b[31mJensen", "control character"},
		{"--lang", "sv", "language must be one of"},
		{"--tz", "Mars/Olympus", "unknown time zone"},
	} {
		code, _, errOut := h.run("person", "edit", "bo@example.org", c.flag, c.value)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("person edit %s %q = %d\n%s", c.flag, c.value, code, errOut)
		}
	}
	if code, _, errOut := h.run("person", "edit", "bo@example.org"); code != exitUsage {
		t.Errorf("person edit with nothing to change = %d %s", code, errOut)
	}
	if code, _, _ := h.run("person", "edit", "nobody@example.org", "--name", "X"); code == 0 {
		t.Error("person edit of nobody succeeded")
	}

	out := h.mustRun("person", "edit", "2", "--name", "Bo Kærgård", "--lang", "da", "--tz", "Europe/Oslo")
	if !strings.Contains(out, "person 2: Bo Kærgård <bo@example.org>, da, Europe/Oslo") {
		t.Errorf("person edit = %s", out)
	}
	// Nothing sent yet: the new address simply gets everything from now on.
	out = h.mustRun("person", "edit", "bo@example.org", "--email", "bo.k@example.org")
	if !strings.Contains(out, "<bo.k@example.org>") || strings.Contains(out, "sent again") {
		t.Errorf("person edit --email = %s", out)
	}
	if show := h.mustRun("pair", "show", "1"); !strings.Contains(show, "bo.k@example.org") {
		t.Errorf("pair show after the address change:\n%s", show)
	}
}

// An address change is refused while mail to the old address waits, and
// lifts a bounce suspension; unsuspend lifts one by itself.
func TestPersonAddressQueuedAndUnsuspend(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)
	h.exec(`INSERT INTO outbox (idempotency_key, kind, recipient, message_id, state, next_attempt_at, created_at)
		VALUES ('checklist:1:2', 'checklist', 'bo@example.org', 'x@example.org', 'pending', ?, ?)`, testNow, testNow)
	code, _, errOut := h.run("person", "edit", "bo@example.org", "--email", "bo.k@example.org")
	if code != exitFailure || !strings.Contains(errOut, "still waiting to be sent (1)") {
		t.Errorf("person edit with mail queued = %d %s", code, errOut)
	}
	h.exec(`UPDATE outbox SET state = 'failed'`)
	h.exec(`UPDATE people SET suspended_at = ?, bounce_score = 3 WHERE id = 1`, testNow)
	out := h.mustRun("person", "unsuspend", "ada@example.org")
	if !strings.Contains(out, "suspension is lifted") {
		t.Errorf("person unsuspend = %s", out)
	}
	if out := h.mustRun("person", "unsuspend", "1"); !strings.Contains(out, "nothing changed") {
		t.Errorf("person unsuspend again = %s", out)
	}
	h.exec(`UPDATE people SET suspended_at = ?, bounce_score = 3 WHERE id = 2`, testNow.Add(time.Hour))
	out = h.mustRun("person", "edit", "bo@example.org", "--email", "bo.k@example.org", "--json")
	if !strings.Contains(out, `"unsuspended": true`) {
		t.Errorf("person edit --email of a suspended address = %s", out)
	}
}
