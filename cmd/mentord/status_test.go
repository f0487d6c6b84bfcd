package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/oauth"
)

// fillOutbox puts n messages into the outbox, sent at sentAt, or pending and due at testNow when sentAt is zero.
func (h *harness) fillOutbox(n int, sentAt time.Time) {
	h.t.Helper()
	cfg, err := config.Load(h.config)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		var base int
		if err := tx.Get(&base, `SELECT COUNT(*) FROM outbox`); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("status-test:%d", base+i)
			it := &store.OutboxItem{Key: key, Kind: "invite", Recipient: "m@example.org", RecipientDomain: "example.org",
				EnvelopeFrom: "mentoring@example.org", MessageID: key + "@example.org", Subject: "Invitation",
				Payload: []byte("x"), NextAttemptAt: testNow, CreatedAt: testNow.Add(-time.Hour)}
			if _, err := store.Enqueue(ctx, tx, it); err != nil {
				return err
			}
			if !sentAt.IsZero() {
				if err := store.MarkSent(ctx, tx, it.ID, sentAt); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// setPause records that the server throttled sending, as the daemon does.
func (h *harness) setPause(p outbox.Pause) {
	h.t.Helper()
	cfg, _ := config.Load(h.config)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	b, _ := json.Marshal(p)
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return store.SetSetting(ctx, tx, "smtp_pause", string(b)) }); err != nil {
		h.t.Fatal(err)
	}
}

func TestStatusShowsQuota(t *testing.T) {
	h := newHarness(t)
	// Without limits and without a pause, status says nothing about quotas.
	if out := h.mustRun("status"); strings.Contains(out, "Quota") {
		t.Errorf("status without limits shows a quota:\n%s", out)
	}
	b, _ := os.ReadFile(h.config)
	os.WriteFile(h.config, append(b, []byte("smtp: {max_per_minute: 30, max_recipients_per_day: 10000}\n")...), 0o600)

	h.fillOutbox(282, testNow.Add(-3*time.Hour))
	h.fillOutbox(30, testNow.Add(-20*time.Second))
	h.fillOutbox(1000, time.Time{})
	out := h.mustRun("status")
	for _, want := range []string{
		"Quota      sent in the last 24 h: 312 of 10000; last minute: 30 of 30 (full until 09:00:41Z)",
		"1000 due now go out by about 2026-12-01 09:34Z (in 34 min)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	until := testNow.Add(time.Hour)
	h.setPause(outbox.Pause{Until: until, BackoffSeconds: 3600, Quota: true, At: testNow,
		Reply: "550 5.4.5 Daily user sending quota exceeded."})
	out = h.mustRun("status")
	for _, want := range []string{
		`paused   the server's daily sending quota is used up: no sending until 2026-12-01 10:00Z; it said "550 5.4.5 Daily user sending quota exceeded."`,
		"1000 due now go out by about 2026-12-01 10:33Z (in 94 min)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	var st admin.Status
	if err := json.Unmarshal([]byte(h.mustRun("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	q := st.Quota
	if q.Day.Used != 312 || q.Day.Limit != 10000 || q.Minute.Used != 30 || q.Minute.Limit != 30 || q.Minute.FreesAt == nil ||
		q.DueNow != 1000 || q.DoneBy == nil || q.Paused == nil || !q.Paused.Until.Equal(until) {
		t.Errorf("status --json quota = %+v", q)
	}
}

// status shows the OAuth token's state the daemon reported, never a token.
func TestStatusShowsTheToken(t *testing.T) {
	h := newHarness(t)
	h.mustRun("status") // creates the database
	cfg, err := config.Load(h.config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	report := health.Report{At: testNow, Parts: []health.Part{{Name: "oauth", OK: false, State: "no valid token",
		Error: "oauth token request to login.microsoftonline.com: invalid_client"}},
		OAuth: &oauth.State{Provider: "microsoft", Grant: "client_credentials", Identity: "mentoring@example.org",
			ValidUntil: testNow.Add(20 * time.Minute), LastRefresh: testNow.Add(-40 * time.Minute), Refreshes: 7, Failures: 2,
			LastError:   "oauth token request to login.microsoftonline.com: invalid_client (AADSTS7000222: The provided client secret keys are expired.)",
			LastErrorAt: testNow.Add(-time.Minute)}}
	b, _ := json.Marshal(report)
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return store.SetSetting(ctx, tx, "health", string(b)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := h.mustRun("status")
	for _, want := range []string{"OAuth      microsoft, grant client_credentials, as mentoring@example.org: token valid until 2026-12-01 09:20Z, last refresh 2026-12-01 08:20Z (7 since start)",
		"  last error 2026-12-01 08:59Z: oauth token request to login.microsoftonline.com: invalid_client (AADSTS7000222"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	var st admin.Status
	if err := json.Unmarshal([]byte(h.mustRun("status", "--json")), &st); err != nil || st.Daemon == nil || st.Daemon.OAuth == nil ||
		st.Daemon.OAuth.Refreshes != 7 {
		t.Errorf("status --json: %+v %v", st.Daemon, err)
	}
}

// When the next message is weeks away, status says so and names it, rather
// than a bare "0 due now".
func TestStatusSaysWhatComesNextWhenNothingIsDue(t *testing.T) {
	h := newHarness(t)
	h.mustRun("pair", "add", "--mentor-name", "Ada Lovelace", "--mentor-email", "ada@example.org",
		"--mentee-name", "Bo Jensen", "--mentee-email", "bo@example.org", "--start", "2027-04-01T14:00", "--tz", "Europe/Copenhagen",
		"--every", "monthly", "--sessions", "3", "--duration", "60m", "--location", "Room 1")
	out := h.mustRun("status")
	if !strings.Contains(out, "Next due   nothing due in the next 31 days; next: 2027-01-01 12:00Z invite to the ") ||
		strings.Contains(out, "0 due now") {
		t.Errorf("status =\n%s\nwant nothing due in the next 31 days and the invite next", out)
	}
	h.now = testNow.AddDate(2, 0, 0)
	if out := h.mustRun("status"); !strings.Contains(out, "Next due   nothing due in the next year: no session is planned") {
		t.Errorf("status with nothing planned =\n%s", out)
	}
}
