package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
)

// enqueue puts n simple messages to rcpt into the outbox, due now.
func (s *sim) enqueue(t *testing.T, rcpt string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("test:%s:%d", rcpt, i)
		msg := &mail.Message{
			From: mail.Address{Email: "mentoring@example.org"}, To: mail.Address{Email: rcpt},
			ReplyTo: mail.ReplyAddress("mentoring@example.org", "+", mail.NewToken()),
			Subject: key, Date: s.now, MessageID: mail.MessageID(s.db.Instance(), key, "example.org"), Text: "hello",
		}
		raw, err := msg.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		it := &store.OutboxItem{Key: key, Kind: "test", Recipient: rcpt, RecipientDomain: mail.Domain(rcpt),
			EnvelopeFrom: "mentoring@example.org", MessageID: msg.MessageID, Subject: key, Payload: raw,
			NextAttemptAt: s.now, CreatedAt: s.now}
		if err := s.db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := store.Enqueue(ctx, tx, it); return err }); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *sim) states(t *testing.T) map[string]int {
	t.Helper()
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := s.db.R().Select(&rows, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out
}

// delivered counts deliveries per Message-ID.
func (s *sim) delivered() map[string]int {
	out := map[string]int{}
	for _, m := range s.sink.Messages() {
		out[headerOf(s.t, m.Data, "Message-Id")]++
	}
	return out
}

func TestEnqueueTwiceSendsOnce(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 3)
	s.enqueue(t, "a@example.org", 3) // the same keys again
	ctx := context.Background()
	if n, err := s.outbox.SendDue(ctx, ctx); err != nil || n != 3 {
		t.Fatalf("SendDue = %d, %v", n, err)
	}
	if n, _ := s.outbox.SendDue(ctx, ctx); n != 0 {
		t.Errorf("a second SendDue sent %d", n)
	}
	if got := len(s.sink.Messages()); got != 3 {
		t.Errorf("%d delivered, want 3", got)
	}
	// Once sent, the database keeps no copy of the text or its live reply token.
	var kept int
	if err := s.db.R().Get(&kept, `SELECT COUNT(*) FROM outbox_payloads`); err != nil || kept != 0 {
		t.Errorf("sent messages keep their bytes: %d, %v", kept, err)
	}
}

func TestTemporaryFailuresRetryWithBackoff(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "busy@example.org", 1)
	s.enqueue(t, "ok@example.org", 2)
	s.sink.Fail("busy@example.org", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
	ctx := context.Background()
	s.outbox.SendDue(ctx, ctx)
	// The 451 came first: it waits; the rest of its batch goes on the next connection at once.
	s.outbox.SendDue(ctx, ctx)
	if st := s.states(t); st["sent"] != 2 || st["pending"] != 1 {
		t.Fatalf("states after a 451: %v", st)
	}
	var it store.OutboxItem
	s.db.R().Get(&it, `SELECT * FROM outbox WHERE recipient = 'busy@example.org'`)
	if wait := it.NextAttemptAt.Sub(s.now); it.Attempts != 1 || wait < 30*time.Second || wait > time.Minute {
		t.Errorf("after the first failure: attempts %d, retry in %v", it.Attempts, wait)
	}
	// Not before its time, and backing off while the server still says 451.
	s.outbox.SendDue(ctx, ctx)
	s.now = it.NextAttemptAt
	s.outbox.SendDue(ctx, ctx)
	s.db.R().Get(&it, `SELECT * FROM outbox WHERE recipient = 'busy@example.org'`)
	if wait := it.NextAttemptAt.Sub(s.now); it.Attempts != 2 || wait < time.Minute || wait > 2*time.Minute {
		t.Errorf("after the second failure: attempts %d, retry in %v", it.Attempts, wait)
	}
	s.sink.Fail("busy@example.org", nil)
	s.now = it.NextAttemptAt
	s.outbox.SendDue(ctx, ctx)
	if st := s.states(t); st["sent"] != 3 {
		t.Errorf("states after recovery: %v", st)
	}
	for id, n := range s.delivered() {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

func TestPermanentFailureFailsAtOnce(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "gone@example.org", 1)
	s.sink.Fail("gone@example.org", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	ctx := context.Background()
	s.outbox.SendDue(ctx, ctx)
	s.now = s.now.Add(24 * time.Hour)
	s.outbox.SendDue(ctx, ctx)
	var it store.OutboxItem
	s.db.R().Get(&it, `SELECT * FROM outbox`)
	if it.State != "failed" || it.Attempts != 1 || !strings.Contains(it.LastError, "550") {
		t.Errorf("after a 550: %+v", it)
	}
}

func TestDroppedConnectionRetries(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 3)
	s.sink.DropNext(1)
	ctx := context.Background()
	if _, err := s.outbox.SendDue(ctx, ctx); err == nil {
		t.Error("SendDue after a dropped connection reported no error")
	}
	st := s.states(t)
	if st["pending"] != 3 {
		t.Fatalf("states after a drop: %v", st)
	}
	// The two never tried are due at once, not charged an attempt; the dropped one backs off.
	s.outbox.SendDue(ctx, ctx)
	if st := s.states(t); st["sent"] != 2 || st["pending"] != 1 {
		t.Errorf("states: %v", st)
	}
	s.now = s.now.Add(time.Minute)
	s.outbox.SendDue(ctx, ctx)
	if st := s.states(t); st["sent"] != 3 {
		t.Errorf("states after the retry: %v", st)
	}
	for id, n := range s.delivered() {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

func TestServerDownRetriesAll(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 2)
	s.sink.Close()
	ctx := context.Background()
	if _, err := s.outbox.SendDue(ctx, ctx); err == nil {
		t.Error("no error with the server down")
	}
	if st := s.states(t); st["pending"] != 2 {
		t.Errorf("states: %v", st)
	}
	if next, _ := store.NextDue(ctx, s.db.R()); next == nil || !next.After(s.now) {
		t.Errorf("next attempt %v is not later than now", next)
	}
}

// A process killed after claiming a batch, before sending it, loses nothing:
// at the next start the claims are released and each message goes once.
func TestCrashBetweenClaimAndSend(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 5)
	ctx := context.Background()
	if err := s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := store.ClaimDue(ctx, tx, s.now, store.Limits{Batch: 50})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// "Crash": nothing more happens to the claimed rows. A new process starts.
	if n, _ := s.outbox.SendDue(ctx, ctx); n != 0 {
		t.Fatalf("claimed rows sent before release: %d", n)
	}
	var released int
	s.db.Tx(ctx, func(tx *sqlx.Tx) (err error) { released, err = store.ReleaseClaims(ctx, tx); return err })
	if released != 5 {
		t.Errorf("released %d claims", released)
	}
	s.outbox.SendDue(ctx, ctx)
	if d := s.delivered(); len(d) != 5 {
		t.Errorf("%d distinct messages delivered, want 5", len(d))
	}
	for id, n := range s.delivered() {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// Killed between the server's 250 and the commit: that one message is sent
// again after restart, with the same Message-ID, and no other.
func TestCrashBetween250AndCommit(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 5)
	ctx := context.Background()
	crashed := false
	s.outbox.AfterSend = func(it store.OutboxItem) {
		if it.Key == "test:a@example.org:2" {
			crashed = true
			panic("killed")
		}
	}
	func() {
		defer func() { recover() }()
		s.outbox.SendDue(ctx, ctx)
	}()
	if !crashed {
		t.Fatal("the crash hook did not run")
	}
	s.outbox.AfterSend = nil
	s.db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := store.ReleaseClaims(ctx, tx); return err })
	s.outbox.SendDue(ctx, ctx)
	d := s.delivered()
	twice := 0
	for id, n := range d {
		if n == 2 {
			twice++
			if !strings.Contains(id, mail.MessageID(s.db.Instance(), "test:a@example.org:2", "example.org")) {
				t.Errorf("resent %s, not the message in flight", id)
			}
		} else if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if len(d) != 5 || twice != 1 {
		t.Errorf("%d distinct, %d twice; want 5 and 1", len(d), twice)
	}
}

// On a graceful stop the message in flight finishes and is recorded; the
// rest of the batch waits for the next start.
func TestGracefulStopFinishesInFlight(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 5)
	soft, stop := context.WithCancel(context.Background())
	s.outbox.AfterSend = func(store.OutboxItem) { stop() }
	n, _ := s.outbox.SendDue(soft, context.Background())
	if n != 1 {
		t.Errorf("sent %d before stopping, want the one in flight", n)
	}
	if st := s.states(t); st["sent"] != 1 || st["pending"] != 4 {
		t.Errorf("states: %v", st)
	}
	var attempts int
	s.db.R().Get(&attempts, `SELECT MAX(attempts) FROM outbox WHERE state = 'pending'`)
	if attempts != 0 {
		t.Errorf("untried messages were charged %d attempts", attempts)
	}
}

func TestRateLimitPerDomain(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.cfg.SMTP.MaxPerDomainPerMinute = 2
	s.enqueue(t, "a@example.org", 5)
	s.enqueue(t, "b@other.example", 1)
	ctx := context.Background()
	s.outbox.SendDue(ctx, ctx)
	if got := len(s.sink.Messages()); got != 3 {
		t.Errorf("%d sent in the first minute, want 2 to example.org and 1 to other.example", got)
	}
	s.now = s.now.Add(61 * time.Second)
	s.outbox.SendDue(ctx, ctx)
	if got := len(s.sink.Messages()); got != 5 {
		t.Errorf("%d sent after a minute, want 5", got)
	}
}
