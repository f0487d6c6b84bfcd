package daemon

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
)

// The restore drill: a backup taken while mentord writes holds everything
// committed before it began, passes integrity_check, and a daemon started on
// it sends nothing that was sent already.
func TestBackupRestoreDrill(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	addPair(t, s.roster, yearPair)
	s.runUntil(utc("2027-02-20T00:00Z"))
	var sentBefore int
	s.db.R().Get(&sentBefore, `SELECT COUNT(*) FROM outbox WHERE state = 'sent'`)
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writes going on during the backup
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.db.Tx(ctx, func(tx *sqlx.Tx) error {
				_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, 'x')`, "load."+time.Now().Format(time.RFC3339Nano))
				return err
			})
		}
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	err := s.db.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup = %v", err)
	}
	if err := s.db.Backup(ctx, path); err == nil {
		t.Error("a backup over an existing file was written")
	}
	restored, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.QuickCheck(ctx); err != nil {
		t.Fatal(err)
	}
	var sent int
	restored.R().Get(&sent, `SELECT COUNT(*) FROM outbox WHERE state = 'sent'`)
	if sent != sentBefore || restored.Instance() != s.db.Instance() {
		t.Errorf("the backup has %d sent messages, want %d (instance %s vs %s)", sent, sentBefore, restored.Instance(), s.db.Instance())
	}
	// Start on the restored database at the same moment: nothing is sent again.
	mark := len(s.sink.Messages())
	if _, err := compose.Plan(ctx, restored, s.cfg, s.tpl, s.now, s.log); err != nil {
		t.Fatal(err)
	}
	o := &outbox.Outbox{DB: restored, Sender: sender.New(connect.SMTPConfig(s.cfg, nil), nil), Cfg: s.cfg, Log: s.log, Now: func() time.Time { return s.now }}
	o.SendDue(ctx, ctx)
	if n := len(s.sink.Messages()) - mark; n != 0 {
		t.Errorf("the restored database sent %d messages again", n)
	}
}

// status holds no word a mentee wrote.
func TestStatusHasNoMenteeText(t *testing.T) {
	r := newReading(t, "")
	secret := "ZEBRA-PLANS-42"
	r.ingest(r.replyMsg(menteeAddr, r.token, "s1@mail.example.org", "1. "+secret+" for the group.\n\n5. Tell nobody about "+secret))
	r.ingest(r.replyMsg("eve@evil.example", r.token, "s2@mail.example.org", "1. "+secret))
	st, err := admin.LoadStatus(context.Background(), r.db, r.cfg, r.now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if strings.Contains(string(b), "ZEBRA") {
		t.Errorf("status shows a mentee's words:\n%s", b)
	}
	if len(st.Quarantined) != 1 || !strings.Contains(st.Quarantined[0].Reason, "sender_mismatch") {
		t.Errorf("quarantine = %+v", st.Quarantined)
	}
	if len(st.Upcoming) == 0 {
		t.Error("nothing upcoming")
	}
	for _, u := range st.Upcoming {
		if u.Pair != r.pairID || u.Number < 1 || u.To == "" || !u.At.After(r.now) {
			t.Errorf("upcoming %+v: want pair %d, a session number, a recipient, a time to come", u, r.pairID)
		}
	}

	// A pair added while the daemon is not running: its invites are due at once.
	addPair(t, r.roster, admin.PairInput{MentorName: "Cy Mentor", MentorEmail: "cy@example.net", MenteeName: "Di Mentee",
		MenteeEmail: "di@example.net", TZ: "Europe/Copenhagen", Start: r.now.Add(30 * 24 * time.Hour).Format("2006-01-02T15:04"),
		Every: "monthly", Sessions: "6", Duration: "60m", Location: "Room 1"})
	if st, err = admin.LoadStatus(context.Background(), r.db, r.cfg, r.now); err != nil {
		t.Fatal(err)
	}
	invites := 0
	for _, u := range st.Upcoming {
		if u.Kind == "invite" && !u.At.After(r.now) && u.Number == 1 {
			invites++
		}
	}
	if st.DueNow < 2 || invites != 2 {
		t.Errorf("due now %d, first-session invites listed %d: want the new pair's invites due at once\n%+v", st.DueNow, invites, st.Upcoming)
	}
}

func TestSendTest(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	ids, err := admin.SendTest(context.Background(), s.cfg, s.tpl, "admin@example.net", s.now)
	if err != nil || len(ids) != 2 {
		t.Fatalf("SendTest = %v, %v", ids, err)
	}
	msgs := s.sink.Messages()
	if len(msgs) != 2 || msgs[0].To[0] != "admin@example.net" {
		t.Fatalf("sink got %d messages", len(msgs))
	}
	if method, _ := calendarOf(t, msgs[0].Data); method != "REQUEST" {
		t.Errorf("the test invite's METHOD is %q", method)
	}
	if !strings.Contains(textOf(t, msgs[1].Data), "1. ") {
		t.Errorf("the test checklist has no questions")
	}
}

// The mentor sees none of the mentee's words unless the mentee opted in.
func TestBriefRespectsConsent(t *testing.T) {
	r := newReading(t, "")
	if err := r.roster.SetSharePlans(context.Background(), r.pairID, false); err != nil {
		t.Fatal(err)
	}
	r.ingest(r.replyMsg(menteeAddr, r.token, "c1@mail.example.org", "1. ZEBRA-PLANS-42 went well.\n\n4. Delegation."))
	r.runUntil(utc("2027-02-12T12:00Z"))
	briefs := 0
	for _, m := range r.got {
		if m.Kind == "brief" && m.At.After(utc("2027-02-09T08:00Z")) {
			briefs++
			text := textOf(t, m.Raw)
			if strings.Contains(text, "ZEBRA") || strings.Contains(text, "Delegation") || !strings.Contains(text, "privately") {
				t.Errorf("the brief without consent:\n%s", text)
			}
		}
	}
	if briefs != 1 {
		t.Errorf("%d briefs, want 1", briefs)
	}
}

// Before the final session the mentee, and only the mentee, gets their year in
// review: what they planned, what they took away and what they promised.
func TestDigestReviewsTheYear(t *testing.T) {
	r := newReading(t, "")
	r.ingest(r.replyMsg(menteeAddr, r.token, "d1@mail.example.org", typedAnswers))
	r.runUntil(utc("2027-12-13T00:00Z")) // past the final session (12 December)
	var digests []simMsg
	for _, m := range r.got {
		if m.Kind == "digest" {
			digests = append(digests, m)
		}
	}
	if len(digests) != 1 || digests[0].To != menteeAddr {
		t.Fatalf("%d digests (%v), want one to the mentee", len(digests), digests)
	}
	d := digests[0]
	var final time.Time
	if err := r.db.R().Get(&final, `SELECT starts_at FROM sessions WHERE kind = 'final'`); err != nil {
		t.Fatal(err)
	}
	if !d.At.Before(final.Add(-72*time.Hour)) || d.At.Before(final.Add(-5*24*time.Hour)) {
		t.Errorf("digest at %v, final session at %v: want it a day before the final checklist", d.At, final)
	}
	text := textOf(t, d.Raw)
	for _, want := range []string{
		"Session 2, ", // the session answered
		"Got the grant draft to the research office.", // its plan
		"Help me think about delegating.",
		"Send the draft to two colleagues (", // a promise, with what became of it
		"Book the room for the group day (",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Session 12,") {
		t.Errorf("the digest reviews the final session itself:\n%s", text)
	}
	if !strings.Contains(headerOf(t, d.Raw, "Subject"), "review") {
		t.Errorf("subject %q", headerOf(t, d.Raw, "Subject"))
	}
}
