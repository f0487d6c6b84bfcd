package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
)

// delivery is a message the sink accepted, at the simulated time of the SendDue that sent it.
type delivery struct {
	At        time.Time
	MessageID string
	Subject   string
}

// drain runs the outbox as its loop does, on the simulated clock: send what
// is due, then move the clock to NextSend, until nothing is pending. Every
// NextSend must lie ahead, or the loop would spin. It returns the deliveries.
func (s *sim) drain(t *testing.T, maxSteps int) []delivery {
	t.Helper()
	ctx := context.Background()
	seen := len(s.sink.Messages())
	var out []delivery
	for step := 0; ; step++ {
		if step > maxSteps {
			t.Fatalf("still sending after %d passes; states %v", maxSteps, s.states(t))
		}
		if _, err := s.outbox.SendDue(ctx, ctx); err != nil {
			t.Fatalf("SendDue at %v: %v", s.now, err)
		}
		msgs := s.sink.Messages()
		for _, m := range msgs[seen:] {
			out = append(out, delivery{At: s.now, MessageID: headerOf(t, m.Data, "Message-Id"), Subject: headerOf(t, m.Data, "Subject")})
		}
		seen = len(msgs)
		next, err := s.outbox.NextSend(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			return out
		}
		if !next.After(s.now) {
			t.Fatalf("NextSend = %v at %v with %v: the loop would spin", next, s.now, s.states(t))
		}
		s.now = next
	}
}

// checkDeliveries asserts that the n messages to rcpt went once each, in the
// order they were enqueued, and that no window held more than its limit.
func checkDeliveries(t *testing.T, got []delivery, rcpt string, n int, limits map[time.Duration]int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d delivered, want %d", len(got), n)
	}
	ids := map[string]int{}
	for i, d := range got {
		ids[d.MessageID]++
		if want := fmt.Sprintf("test:%s:%d", rcpt, i); d.Subject != want {
			t.Fatalf("delivery %d is %q, want %q: out of order", i, d.Subject, want)
		}
	}
	for id, k := range ids {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	for window, limit := range limits {
		for i := 0; i+limit < len(got); i++ {
			if span := got[i+limit].At.Sub(got[i].At); span < window {
				t.Fatalf("deliveries %d to %d (%d messages) fall within %v (from %v): over the limit of %d per %v",
					i, i+limit, limit+1, span, got[i].At, limit, window)
			}
		}
	}
}

// A new cohort: 1,000 invites due at once, 30 a minute allowed. They go in
// order, 30 a minute, none failed, none twice, in the time outbox.EstimateDone says.
func TestLargeBatchIsSpreadOverMinutes(t *testing.T) {
	start := utc("2027-01-01T10:00Z")
	s := newSim(t, start, "")
	s.cfg.SMTP.MaxPerMinute = 30
	s.enqueue(t, "a@example.org", 1000)
	got := s.drain(t, 100)
	checkDeliveries(t, got, "a@example.org", 1000, map[time.Duration]int{time.Minute: 30})
	if st := s.states(t); st["sent"] != 1000 {
		t.Errorf("states %v, want all 1000 sent", st)
	}
	last := got[len(got)-1].At
	if took := last.Sub(start); took < 33*time.Minute || took > 34*time.Minute {
		t.Errorf("the last went %v after the first, want about 33 minutes (34 rounds of 30)", took)
	}
	if est := outbox.EstimateDone(1000, start, 30, 0, nil); !est.Equal(last) {
		t.Errorf("EstimateDone = %v, the outbox sent the last at %v", est, last)
	}
}

// A day quota that runs out pushes the rest to the next 24 hours, never
// failing them: 250 messages with 30 a minute and 100 a day.
func TestDayQuotaSpreadsOverDays(t *testing.T) {
	start := utc("2027-01-01T10:00Z")
	s := newSim(t, start, "")
	s.cfg.SMTP.MaxPerMinute, s.cfg.SMTP.MaxRecipientsPerDay = 30, 100
	s.enqueue(t, "a@example.org", 250)
	got := s.drain(t, 100)
	checkDeliveries(t, got, "a@example.org", 250, map[time.Duration]int{time.Minute: 30, 24 * time.Hour: 100})
	if st := s.states(t); st["sent"] != 250 {
		t.Errorf("states %v, want all 250 sent", st)
	}
	last := got[len(got)-1].At
	if took := last.Sub(start); took < 48*time.Hour || took > 49*time.Hour {
		t.Errorf("the last went %v after the first, want just over two days", took)
	}
	if est := outbox.EstimateDone(250, start, 30, 100, nil); !est.Equal(last) {
		t.Errorf("EstimateDone = %v, the outbox sent the last at %v", est, last)
	}
}

// The windows are counted from the database: a new process (a restart) on
// the same database sends no more than the old one left room for.
func TestQuotaHoldsAcrossRestart(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.cfg.SMTP.MaxPerMinute = 30
	s.enqueue(t, "a@example.org", 50)
	ctx := context.Background()
	if n, err := s.outbox.SendDue(ctx, ctx); n != 30 || err != nil {
		t.Fatalf("SendDue = %d, %v; want 30", n, err)
	}
	s.restart(t)
	conns := s.sink.Connections()
	if n, err := s.outbox.SendDue(ctx, ctx); n != 0 || err != nil {
		t.Errorf("after a restart in the same minute SendDue = %d, %v; want 0", n, err)
	}
	if c := s.sink.Connections(); c != conns {
		t.Errorf("%d connections opened with the quota used up", c-conns)
	}
	next, _ := s.outbox.NextSend(ctx)
	if want := s.now.Add(61 * time.Second); !next.Equal(want) {
		t.Errorf("NextSend = %v, want %v", next, want)
	}
	s.now = next
	if n, err := s.outbox.SendDue(ctx, ctx); n != 20 || err != nil {
		t.Errorf("a minute on SendDue = %d, %v; want the other 20", n, err)
	}
}

// restart closes the database and opens it again with a new Outbox, as a new
// process would, releasing claims left behind.
func (s *sim) restart(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	path := s.db.Path()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.db = db
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := store.ReleaseClaims(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	s.outbox = &outbox.Outbox{DB: db, Sender: sender.New(connect.SMTPConfig(s.cfg, nil), nil), Cfg: s.cfg, Log: s.log, Now: func() time.Time { return s.now }}
}

func TestEstimateDone(t *testing.T) {
	start := utc("2027-01-01T10:00Z")
	at := func(d time.Duration, n int) []time.Time {
		out := make([]time.Time, n)
		for i := range out {
			out[i] = start.Add(d)
		}
		return out
	}
	tests := []struct {
		name              string
		n, perMin, perDay int
		history           []time.Time
		want              time.Time
	}{
		{"nothing due", 0, 30, 0, nil, time.Time{}},
		{"no limits", 500, 0, 0, nil, start},
		{"within the minute", 30, 30, 0, nil, start},
		{"1000 at 30 a minute: 34 rounds, a minute and a second apart", 1000, 30, 0, nil, start.Add(33 * 61 * time.Second)},
		{"the minute partly used", 30, 30, 0, at(-30*time.Second, 10), start.Add(31 * time.Second)},
		{"the day used up 23 hours ago", 10, 30, 100, at(-23*time.Hour, 100), start.Add(time.Hour + time.Second)},
		{"the day runs out: the rest waits for the next window", 50, 30, 100, at(-time.Hour, 90),
			start.Add(23*time.Hour + time.Second + 61*time.Second)},
	}
	for _, tt := range tests {
		if got := outbox.EstimateDone(tt.n, start, tt.perMin, tt.perDay, tt.history); !got.Equal(tt.want) {
			t.Errorf("%s: outbox.EstimateDone = %v, want %v", tt.name, got, tt.want)
		}
	}
}
