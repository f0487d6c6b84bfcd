package e2e

import (
	"bytes"
	"context"
	"mime"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/templates"
)

// TestPairInvitesAndChecklistThroughPostfix adds a pair whose first session is
// two days away, runs a pass of the schedule and the outbox with mentord's
// configuration against the stack, and reads the invites and the planning
// checklist back from the mentor's and the mentee's Dovecot mailboxes.
func TestPairInvitesAndChecklistThroughPostfix(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cfg := mentordConfig(t, "daemon")
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	now := time.Now()
	roster := &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}
	start := now.Add(50 * time.Hour).In(time.UTC).Truncate(time.Hour)
	mentor, mentee := stack.User("mentor"), stack.User("mentee")
	res, err := roster.AddPair(ctx, admin.PairInput{
		MentorName: "Ada Mentor", MentorEmail: mentor, MenteeName: "Bo Mentee", MenteeEmail: mentee,
		TZ: "UTC", Start: start.Format("2006-01-02T15:04"), Every: "monthly", Sessions: "6", Duration: "60m",
		Location: "Room 4.12",
	})
	if err != nil {
		t.Fatal(err)
	}

	plan, err := compose.Plan(ctx, db, cfg, tpl, now, log)
	if err != nil {
		t.Fatal(err)
	}
	// Sessions 1 to 3 start within 90 days: 6 invites; session 1's checklist is due.
	const want = 7
	if plan.Enqueued != want {
		t.Fatalf("Plan enqueued %d messages, want %d (6 invites and a checklist)", plan.Enqueued, want)
	}
	o := &outbox.Outbox{DB: db, Sender: sender.New(connect.SMTPConfig(cfg, nil), log), Cfg: cfg, Log: log, Now: time.Now}
	if n, err := o.SendDue(ctx, ctx); err != nil || n != want {
		t.Fatalf("SendDue = %d, %v", n, err)
	}

	items, err := store.ListOutbox(ctx, db.R(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.State != store.OutboxSent || *it.PairID != res.PairID {
			t.Errorf("%s is %s", it.Key, it.State)
		}
		user := "mentee"
		if it.Recipient == mentor {
			user = "mentor"
		}
		got, err := stack.WaitForMessage(ctx, it.Recipient, it.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := netmail.ReadMessage(bytes.NewReader(got.Raw))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		replyTo, _ := netmail.ParseAddress(m.Header.Get("Reply-To"))
		switch {
		case m.Header.Get("Auto-Submitted") != "auto-generated":
			t.Errorf("%s: Auto-Submitted %q", it.Key, m.Header.Get("Auto-Submitted"))
		case replyTo == nil || !strings.HasPrefix(replyTo.Address, "daemon+"):
			t.Errorf("%s: Reply-To %q carries no token", it.Key, m.Header.Get("Reply-To"))
		case m.Header.Get("Return-Path") != "<"+it.EnvelopeFrom+">" || !strings.Contains(it.EnvelopeFrom, "+bounce-"):
			t.Errorf("%s: Return-Path %q, envelope %s", it.Key, m.Header.Get("Return-Path"), it.EnvelopeFrom)
		case subject != it.Subject:
			t.Errorf("%s: Subject %q, want %q", it.Key, subject, it.Subject)
		}
		isInvite := strings.HasPrefix(it.Key, "invite:")
		if hasCal := bytes.Contains(got.Raw, []byte("text/calendar; method=REQUEST")); hasCal != isInvite {
			t.Errorf("%s: text/calendar method=REQUEST part present = %v", it.Key, hasCal)
		}
		t.Logf("%s → %s: %q", it.Key, user, subject)
	}
	if len(items) != want {
		t.Errorf("%d outbox rows, want %d", len(items), want)
	}
}
