package e2e

import (
	"bytes"
	"context"
	"fmt"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/templates"
)

// TestWrittenDeclineWithNewTimeMovesTheSession: the mentor answers the
// invitation in writing ("I'm at a conference, can we do Thursday ... at
// 15:00 instead?"), mentord asks the mentee, the mentee replies yes, and
// both calendars get the update (METHOD:REQUEST, SEQUENCE 1, the new time),
// every message through Postfix and Dovecot.
func TestWrittenDeclineWithNewTimeMovesTheSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
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
	roster := &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}
	// Session 1 on a weekday at 10:00 UTC, at least three days ahead; the
	// new time is the next weekday at 15:00.
	first := time.Now().UTC().AddDate(0, 0, 3).Truncate(24 * time.Hour).Add(10 * time.Hour)
	for first.Weekday() == time.Saturday || first.Weekday() == time.Sunday || first.Weekday() == time.Friday {
		first = first.AddDate(0, 0, 1)
	}
	proposed := first.Truncate(24*time.Hour).AddDate(0, 0, 1).Add(15 * time.Hour)
	mentor, mentee := stack.User("mentor"), stack.User("mentee")
	res, err := roster.AddPair(ctx, admin.PairInput{
		MentorName: "Ada Mentor", MentorEmail: mentor, MenteeName: "Bo Mentee", MenteeEmail: mentee,
		TZ: "UTC", Start: first.Format("2006-01-02T15:04"), Every: "monthly", Sessions: "6", Duration: "60m", Location: "Room 4.12",
	})
	if err != nil {
		t.Fatal(err)
	}
	var session store.Session
	if err := db.R().Get(&session, `SELECT * FROM sessions WHERE pair_id = ? AND number = 1`, res.PairID); err != nil {
		t.Fatal(err)
	}
	out := &outbox.Outbox{DB: db, Sender: sender.New(connect.SMTPConfig(cfg, nil), log), Cfg: cfg, Log: log, Now: time.Now}
	planAndSend := func() {
		t.Helper()
		if _, err := compose.Plan(ctx, db, cfg, tpl, time.Now(), log); err != nil {
			t.Fatal(err)
		}
		if _, err := out.SendDue(ctx, ctx); err != nil {
			t.Fatal(err)
		}
	}
	planAndSend()

	// received is a message of ours as its recipient's mailbox holds it.
	received := func(where string, args ...any) (store.OutboxItem, *netmail.Message, []byte) {
		t.Helper()
		var it store.OutboxItem
		if err := db.R().Get(&it, `SELECT id, idempotency_key, kind, recipient, message_id, subject, state, next_attempt_at, created_at
			FROM outbox WHERE `+where+` ORDER BY id DESC LIMIT 1`, args...); err != nil {
			t.Fatalf("no message %s %v: %v", where, args, err)
		}
		got, err := stack.WaitForMessage(ctx, it.Recipient, it.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := netmail.ReadMessage(bytes.NewReader(got.Raw))
		if err != nil {
			t.Fatal(err)
		}
		return it, m, got.Raw
	}
	reader := &ingest.Reader{DB: db, Cfg: cfg, Tpl: tpl, Log: log, Now: time.Now}
	c, err := inbox.Dial(ctx, connect.IMAPConfig(cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// readUntil reads mentord's inbox until the message msgID was read.
	full := true
	readUntil := func(msgID string) store.Inbound {
		t.Helper()
		for {
			sel, err := c.Select("INBOX", nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reader.ReadFolder(ctx, c, inbox.Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity}, full); err != nil {
				t.Fatal(err)
			}
			full = false
			var in store.Inbound
			if err := db.R().Get(&in, `SELECT id, message_id, outcome, reason FROM inbound WHERE message_id = ?`, msgID); err == nil {
				return in
			}
			select {
			case <-ctx.Done():
				t.Fatalf("<%s> was never read\n%s", msgID, stack.PostfixTrace(""))
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	submit := func(from, to, raw string) {
		t.Helper()
		s := sender.New(sender.Config{Host: stack.Host, Port: stack.SubmissionPort, Security: sender.TLSStartTLS, Auth: "plain",
			Username: mentee, Password: stack.Password, RootCAs: stack.CertPool, Timeout: 10 * time.Second}, log)
		conn, err := s.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Send(ctx, sender.Envelope{From: from, To: []string{to}}, []byte(crlf(raw))); err != nil {
			t.Fatal(err)
		}
	}
	replyTo := func(m *netmail.Message) string {
		t.Helper()
		a, err := netmail.ParseAddress(m.Header.Get("Reply-To"))
		if err != nil {
			t.Fatal(err)
		}
		return a.Address
	}

	// 1. The mentor answers the invitation in writing, from Gmail.
	inv, invMsg, _ := received(`kind = 'invite' AND recipient = ? AND session_id = ?`, mentor, session.ID)
	stamp := fmt.Sprint(time.Now().UnixNano())
	decline := fmt.Sprintf(`From: Ada Mentor <%s>
To: %s
Subject: Re: %s
Date: %s
Message-ID: <decline.%s@mail.gmail.com>
In-Reply-To: <%s>
References: <%s>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Sorry, I'm at a conference that day and can't make it. Can we do
%s at 15:00 instead?

Ada

On %s, mentord e2e <%s> wrote:
> You are invited to mentoring session 1 of 6 with Bo Mentee.
`, mentor, replyTo(invMsg), inv.Subject, time.Now().Format(time.RFC1123Z), stamp, inv.MessageID, inv.MessageID,
		proposed.Format("Monday 2 January"), time.Now().Format("Mon, 2 Jan 2006 at 15:04"), cfg.Mailbox.Address)
	submit(mentor, replyTo(invMsg), decline)
	if in := readUntil("decline." + stamp + "@mail.gmail.com"); in.Outcome != store.OutcomeLogged || !strings.Contains(in.Reason, "mentor proposes") {
		t.Fatalf("the written decline: %s (%s)", in.Outcome, in.Reason)
	}

	// 2. mentord asks the mentee, who says yes from Apple Mail.
	planAndSend()
	_, askMsg, askRaw := received(`kind = 'talk' AND recipient = ? AND idempotency_key LIKE 'talk:move-ask:%'`, mentee)
	if !bytes.Contains(bytes.ReplaceAll(askRaw, []byte("=\r\n"), nil), []byte("Ada Mentor proposes to move")) {
		t.Fatalf("the question to the mentee:\n%s", askRaw)
	}
	yes := fmt.Sprintf(`From: Bo Mentee <%s>
To: %s
Subject: Re: %s
Date: %s
Message-ID: <yes.%s@icloud.com>
In-Reply-To: %s
Content-Type: text/plain; charset=utf-8
Mime-Version: 1.0 (1.0)

Yes, that works for me.

Sent from my iPhone

> On %s, mentord e2e <%s> wrote:
>
> Ada Mentor proposes to move your mentoring session 1 of 6.
`, mentee, replyTo(askMsg), askMsg.Header.Get("Subject"), time.Now().Format(time.RFC1123Z), stamp, askMsg.Header.Get("Message-ID"),
		time.Now().Format("2 Jan 2006, at 15:04"), cfg.Mailbox.Address)
	submit(mentee, replyTo(askMsg), yes)
	if in := readUntil("yes." + stamp + "@icloud.com"); in.Outcome != store.OutcomeLogged || !strings.Contains(in.Reason, "accepted") {
		t.Fatalf("the yes: %s (%s)", in.Outcome, in.Reason)
	}

	// 3. The session moved, SEQUENCE 1, and both calendars get the update.
	var moved store.Session
	db.R().Get(&moved, `SELECT * FROM sessions WHERE id = ?`, session.ID)
	if !moved.StartsAt.Equal(proposed) || moved.Sequence != session.Sequence+1 {
		t.Fatalf("session = %v SEQUENCE %d, want %v SEQUENCE %d", moved.StartsAt, moved.Sequence, proposed, session.Sequence+1)
	}
	planAndSend()
	for _, to := range []string{mentor, mentee} {
		_, _, raw := received(`kind = 'update' AND recipient = ? AND session_id = ?`, to, session.ID)
		flat := string(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")))
		if !strings.Contains(flat, "method=REQUEST") {
			t.Errorf("the update to %s is no REQUEST", to)
		}
		validateICS(t, raw)
	}
	var seqs []int
	db.R().Select(&seqs, `SELECT sequence FROM calendar_sent WHERE session_id = ? ORDER BY person_id`, session.ID)
	if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 1 {
		t.Errorf("calendar state sent = %v, want SEQUENCE 1 to both", seqs)
	}
}

// validateICS runs the shared validator (parsers nobody here wrote) on a
// delivered message, in its strict mode, when it is there.
func validateICS(t *testing.T, raw []byte) {
	t.Helper()
	tool, err := filepath.Abs("../../shared/tools/validate_ics.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tool); err != nil {
		t.Logf("no %s: the update is not validated here", tool)
		return
	}
	f := filepath.Join(t.TempDir(), "update.eml")
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", tool, "--strict", "--method", "REQUEST", f).CombinedOutput()
	if err != nil {
		t.Errorf("validate_ics.sh --strict: %v\n%s", err, out)
	}
}
