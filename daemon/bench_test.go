package daemon

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	gomail "github.com/wneessen/go-mail"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/mail/smtptest"
	"github.com/mentord/mentord/templates"
)

// benchProgramme is a programme of n pairs with 12 monthly sessions each, their
// starts spread over 30 days from 70 days before day, in steady state at day:
// every message due before day is enqueued and sent.
type benchProgramme struct {
	db  *store.DB
	cfg *config.Config
	tpl *templates.Set
	day time.Time
}

func newBenchProgramme(b testing.TB, n int, day time.Time) *benchProgramme {
	b.Helper()
	ctx := context.Background()
	cfg, err := config.Parse(filepath.Join(b.TempDir(), "c.yaml"), []byte(`programme: {name: Bench}
mailbox: {address: mentoring@example.org}
devserver: {enabled: true}
timings: {quiet_hours: {start: "21:00", end: "08:00"}}
`))
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "m.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tpl, err := templates.Load("")
	if err != nil {
		b.Fatal(err)
	}
	zones := []string{"Europe/Copenhagen", "Europe/London", "America/New_York", "Asia/Tokyo"}
	base := day.AddDate(0, 0, -70).Truncate(24 * time.Hour)
	r := &admin.Roster{DB: db, Cfg: cfg, Now: func() time.Time { return base.AddDate(0, 0, -1) }}
	// The roster's own import adds them all in one transaction.
	var csvFile bytes.Buffer
	w := csv.NewWriter(&csvFile)
	w.Write([]string{"mentor_name", "mentor_email", "mentee_name", "mentee_email", "tz", "lang", "start", "every", "sessions", "duration", "location"})
	for i := 0; i < n; i++ {
		start := base.AddDate(0, 0, i%30).Add(time.Duration(9+i%8) * time.Hour)
		w.Write([]string{fmt.Sprintf("Mentor %d", i), fmt.Sprintf("mentor%d@example.org", i), fmt.Sprintf("Mentee %d", i),
			fmt.Sprintf("mentee%d@example.net", i), zones[i%len(zones)], []string{"en", "da"}[i%2],
			start.In(mustZone(zones[i%len(zones)])).Format("2006-01-02T15:04"), "monthly", "12", "60m", "Room 1"})
	}
	w.Flush()
	if rep, err := r.Import(ctx, &csvFile, false); err != nil || rep.Failed > 0 {
		b.Fatalf("import: %v (%d rows failed)", err, rep.Failed)
	}
	p := &benchProgramme{db: db, cfg: cfg, tpl: tpl, day: day}
	// Steady state: what fell due before the day was sent.
	if _, err := compose.Plan(ctx, db, cfg, tpl, day, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	p.markSent(b)
	return p
}

func (p *benchProgramme) markSent(b testing.TB) {
	b.Helper()
	if err := p.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`DELETE FROM outbox_payloads WHERE outbox_id IN (SELECT id FROM outbox WHERE state = 'pending')`); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE outbox SET state = 'sent', sent_at = created_at WHERE state = 'pending'`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
}

// planDay runs the schedule from day to day+24h the way the loop does, a pass
// at each time a rule falls due, and returns the passes and messages.
func (p *benchProgramme) planDay(b *testing.B, plan func(now time.Time) (compose.PlanResult, error)) (passes, msgs int) {
	b.Helper()
	end := p.day.Add(24 * time.Hour)
	for now := p.day; now.Before(end); {
		res, err := plan(now)
		if err != nil {
			b.Fatal(err)
		}
		passes++
		msgs += res.Enqueued
		if res.Enqueued > 0 {
			p.markSent(b) // the outbox sends what was enqueued, so nudges can follow
			continue      // a pass at the same instant sees what was sent
		}
		if res.Next.IsZero() || !res.Next.Before(end) {
			break
		}
		now = res.Next
	}
	return passes, msgs
}

// BenchmarkPlanDay: one day's messages for 10,000 pairs of 12 sessions,
// planned and enqueued (rendered, with prompts, tokens and calendar state).
func BenchmarkPlanDay(b *testing.B) {
	day := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	log := slog.New(slog.DiscardHandler)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := newBenchProgramme(b, 10000, day)
		runtime.GC()
		b.StartTimer()
		passes, msgs := p.planDay(b, func(now time.Time) (compose.PlanResult, error) {
			return compose.Plan(context.Background(), p.db, p.cfg, p.tpl, now, log)
		})
		b.ReportMetric(float64(msgs), "msgs/day")
		b.ReportMetric(float64(passes), "passes/day")
	}
}

// BenchmarkRulesDay: the same day with the rules alone (load the relevant
// sessions and decide what is due), without composing or enqueueing.
func BenchmarkRulesDay(b *testing.B) {
	day := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	p := newBenchProgramme(b, 10000, day)
	t := compose.Timings(p.cfg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		acts, _, err := compose.DueActions(context.Background(), p.db.R(), t, day.Add(12*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(acts)), "due")
	}
}

// BenchmarkIdlePass: one pass when nothing is due, as the loop runs every minute.
func BenchmarkIdlePass(b *testing.B) {
	day := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	p := newBenchProgramme(b, 10000, day)
	log := slog.New(slog.DiscardHandler)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := compose.Plan(context.Background(), p.db, p.cfg, p.tpl, day, log); err != nil || res.Enqueued != 0 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkCompose: composing the messages of one pass (prefetch, templates,
// calendar, message bytes), reported per message.
func BenchmarkCompose(b *testing.B) {
	day := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	p := newBenchProgramme(b, 1000, day)
	acts, _, err := compose.DueActions(context.Background(), p.db.R(), compose.Timings(p.cfg), day.Add(24*time.Hour))
	if err != nil || len(acts) == 0 {
		b.Fatal(len(acts), err)
	}
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := compose.New(p.cfg, p.tpl, p.db, day)
		if err := c.Prefetch(context.Background(), acts); err != nil {
			b.Fatal(err)
		}
		for _, a := range acts {
			if _, err := c.Compose(context.Background(), a); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(acts)), "ns/msg")
	b.ReportMetric(float64(len(acts)), "msgs/pass")
}

// BenchmarkSend compares the outbox (claim, send, mark sent with fsync, token
// redacted) with a bare go-mail loop over one connection to the same go-smtp
// sink, with the same messages, in the same run. The ratio is the figure.
func BenchmarkSend(b *testing.B) {
	const batch = 500
	sink := smtptest.Start(b)
	s := &sim{sink: sink, now: time.Now()}
	cfg, err := config.Parse(filepath.Join(b.TempDir(), "c.yaml"), []byte(fmt.Sprintf(`programme: {name: Bench}
mailbox: {address: mentoring@example.org}
smtp: {host: 127.0.0.1, port: %d, tls: none, auth: none}
devserver: {enabled: true}
`, sink.Port())))
	if err != nil {
		b.Fatal(err)
	}
	// The same messages for both: a typical checklist's size.
	msgs := make([]*gomail.Msg, batch)
	raws := make([][]byte, batch)
	body := strings.Repeat("1. What have I accomplished since our last session?\n\n", 40)
	for i := range msgs {
		m := gomail.NewMsg()
		m.From("mentoring@example.org")
		m.To(fmt.Sprintf("m%d@example.org", i))
		m.Subject("compose.Plan your mentoring session")
		m.SetMessageIDWithValue(fmt.Sprintf("bench.%d@example.org", i))
		m.SetBodyString(gomail.TypeTextPlain, body)
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
		msgs[i], raws[i] = m, buf.Bytes()
	}
	b.Run("bare-go-mail", func(b *testing.B) {
		c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(sink.Port()), gomail.WithTLSPolicy(gomail.NoTLS))
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.DialAndSend(msgs...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("outbox", func(b *testing.B) {
		db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "m.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		s.db, s.cfg = db, cfg
		o := &outbox.Outbox{DB: db, Sender: sender.New(connect.SMTPConfig(cfg, nil), nil), Cfg: cfg, Log: slog.New(slog.DiscardHandler), Now: time.Now}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			t := &testing.T{}
			s.t = t
			s.now = time.Now()
			s.enqueueN(b, i, raws)
			b.StartTimer()
			ctx := context.Background()
			if n, err := o.SendDue(ctx, ctx); err != nil || n != batch {
				b.Fatal(n, err)
			}
		}
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// enqueueN puts the messages into the outbox for round.
func (s *sim) enqueueN(b *testing.B, round int, raws [][]byte) {
	b.Helper()
	ctx := context.Background()
	err := s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		for j, raw := range raws {
			key := fmt.Sprintf("bench:%d:%d", round, j)
			it := &store.OutboxItem{Key: key, Kind: "bench", Recipient: fmt.Sprintf("m%d@example.org", j), RecipientDomain: "example.org",
				EnvelopeFrom: "mentoring@example.org", MessageID: key + "@example.org", Payload: raw, NextAttemptAt: s.now, CreatedAt: s.now}
			if _, err := store.Enqueue(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// TestWriteBenchDB saves the benchmark programme's database to
// $MENTORD_BENCH_DB, for looking at query plans; without it, it does nothing.
func TestWriteBenchDB(t *testing.T) {
	path := os.Getenv("MENTORD_BENCH_DB")
	if path == "" {
		return
	}
	day := time.Now().UTC().Truncate(time.Hour)
	if d := os.Getenv("MENTORD_BENCH_DAY"); d != "" {
		day, _ = time.Parse(time.RFC3339, d)
	}
	p := newBenchProgramme(t, 10000, day)
	if err := p.db.VacuumInto(context.Background(), path); err != nil {
		t.Fatal(err)
	}
}
