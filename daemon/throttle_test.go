package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/smtptest"
)

// A throttling reply, 4xx or 5xx, at any step: the message and the rest of the
// batch wait without spending an attempt, nothing is sent or dialled until
// the pause ends, and then all go, once each, in order.
func TestThrottlingReplyPausesSending(t *testing.T) {
	tests := []struct {
		name  string
		at    smtptest.Stage
		reply *smtp.SMTPError
		pause time.Duration
		quota bool
	}{
		{"Exchange submission rate at MAIL", smtptest.AtMail, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
			Message: "Message submission rate for this client has exceeded the configured limit"}, time.Minute, false},
		{"Gmail too many recipients at RCPT", smtptest.AtRcpt, &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3},
			Message: "Your message has too many recipients. For more information regarding Google's sending limits, visit\nhttps://support.google.com/mail/answer/6592 - gsmtp"}, time.Minute, false},
		{"Gmail unusual rate at end of DATA", smtptest.AtData, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 28},
			Message: "Gmail has detected an unusual rate of unsolicited mail. To protect\nour users from spam, mail has been temporarily rate limited. - gsmtp"}, time.Minute, false},
		{"Exchange submission quota at end of DATA", smtptest.AtData, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 2, 0},
			Message: "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message."}, time.Hour, true},
		{"Gmail daily quota at MAIL", smtptest.AtMail, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 4, 5},
			Message: "Daily user sending quota exceeded. a1si2 - gsmtp"}, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := utc("2027-01-01T10:00Z")
			s := newSim(t, start, "")
			s.enqueue(t, "a@example.org", 6)
			s.sink.FailAfter(2, tt.at, tt.reply)
			ctx := context.Background()
			n, err := s.outbox.SendDue(ctx, ctx)
			if n != 2 || !errors.Is(err, outbox.ErrThrottled) {
				t.Fatalf("SendDue = %d, %v; want 2 sent, then outbox.ErrThrottled", n, err)
			}
			if st := s.states(t); st["sent"] != 2 || st["pending"] != 4 {
				t.Fatalf("states %v, want 2 sent and 4 waiting", st)
			}
			var waiting []store.OutboxItem
			s.db.R().Select(&waiting, `SELECT * FROM outbox WHERE state = 'pending'`)
			for _, it := range waiting {
				if it.Attempts != 0 || !it.NextAttemptAt.Equal(start) {
					t.Errorf("%s waits with %d attempts, due %v; want no attempt spent, due as before", it.Key, it.Attempts, it.NextAttemptAt)
				}
			}
			p, err := s.outbox.Paused(ctx)
			if err != nil || !p.Until.Equal(start.Add(tt.pause)) || p.Quota != tt.quota || !strings.Contains(p.Reply, tt.reply.Message[:20]) {
				t.Errorf("Paused = %+v, %v; want until %v, quota %v, the server's reply", p, err, start.Add(tt.pause), tt.quota)
			}

			// While paused: no connection, no claim, whatever is due.
			conns := s.sink.Connections()
			for _, at := range []time.Time{start, start.Add(tt.pause - time.Second)} {
				s.now = at
				if n, err := s.outbox.SendDue(ctx, ctx); n != 0 || err != nil {
					t.Errorf("SendDue while paused at %v = %d, %v", at, n, err)
				}
			}
			if c := s.sink.Connections(); c != conns {
				t.Errorf("%d connections opened while paused", c-conns)
			}
			if next, _ := s.outbox.NextSend(ctx); !next.Equal(p.Until) {
				t.Errorf("NextSend while paused = %v, want the end of the pause %v", next, p.Until)
			}

			s.sink.FailAfter(0, tt.at, nil)
			s.now = p.Until
			if n, err := s.outbox.SendDue(ctx, ctx); n != 4 || err != nil {
				t.Errorf("SendDue after the pause = %d, %v; want the 4 that waited", n, err)
			}
			got := make([]delivery, 0, 6)
			for _, m := range s.sink.Messages() {
				got = append(got, delivery{MessageID: headerOf(t, m.Data, "Message-Id"), Subject: headerOf(t, m.Data, "Subject")})
			}
			checkDeliveries(t, got, "a@example.org", 6, nil)
			if p, _ := s.outbox.Paused(ctx); p != (outbox.Pause{}) {
				t.Errorf("after a message went through the pause is %+v, want it cleared", p)
			}
		})
	}
}

// A 5xx that is not throttling still fails its message at once, and the
// others go on without a pause.
func TestNonThrottling5xxStillFails(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "gone@example.org", 1)
	s.enqueue(t, "ok@example.org", 2)
	s.sink.Fail("gone@example.org", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "RESOLVER.ADR.RecipNotFound; not found"})
	ctx := context.Background()
	if n, err := s.outbox.SendDue(ctx, ctx); n != 2 || err != nil {
		t.Errorf("SendDue = %d, %v; want the 2 others sent", n, err)
	}
	if st := s.states(t); st["failed"] != 1 || st["sent"] != 2 {
		t.Errorf("states %v", st)
	}
	if p, _ := s.outbox.Paused(ctx); p != (outbox.Pause{}) {
		t.Errorf("a 5.1.1 paused sending: %+v", p)
	}

	// An account blocked for spam (5.1.8) is for a person to fix: its messages fail, nothing waits.
	s.enqueue(t, "b@example.org", 2)
	s.sink.FailAfter(0, smtptest.AtMail, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 8},
		Message: "Access denied, bad outbound sender"})
	s.outbox.SendDue(ctx, ctx)
	if st := s.states(t); st["failed"] != 3 || st["pending"] != 0 {
		t.Errorf("states after 5.1.8: %v", st)
	}
	if p, _ := s.outbox.Paused(ctx); p != (outbox.Pause{}) {
		t.Errorf("a 5.1.8 paused sending: %+v", p)
	}
}

// The pause doubles while the server keeps throttling, up to an hour, and
// starts again at a minute once a message went through. It outlives a
// restart, and a server that turns us away at EHLO pauses sending too.
func TestThrottlingBackoff(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.enqueue(t, "a@example.org", 3)
	ctx := context.Background()
	s.sink.Refuse(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Try again later, closing connection. (EHLO)"})
	var pauses []time.Duration
	for range 8 {
		if _, err := s.outbox.SendDue(ctx, ctx); !errors.Is(err, outbox.ErrThrottled) {
			t.Fatalf("SendDue = %v, want outbox.ErrThrottled", err)
		}
		p, _ := s.outbox.Paused(ctx)
		pauses = append(pauses, p.Until.Sub(s.now))
		s.now = p.Until
	}
	if got := fmt.Sprint(pauses); got != "[1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s 1h0m0s]" {
		t.Errorf("pauses %s, want doubling from a minute up to an hour", got)
	}
	var attempts int
	s.db.R().Get(&attempts, `SELECT MAX(attempts) FROM outbox`)
	if st := s.states(t); st["pending"] != 3 || attempts != 0 {
		t.Errorf("states %v, attempts %d: want all 3 waiting, no attempt spent", st, attempts)
	}

	// A restart keeps the pause.
	s.restart(t)
	s.sink.Refuse(nil)
	s.now = s.now.Add(-time.Second)
	conns := s.sink.Connections()
	if n, _ := s.outbox.SendDue(ctx, ctx); n != 0 || s.sink.Connections() != conns {
		t.Errorf("after a restart within the pause: %d sent, %d connections", n, s.sink.Connections()-conns)
	}
	s.now = s.now.Add(time.Second)
	s.sink.FailAfter(1, smtptest.AtMail, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Message submission rate for this client has exceeded the configured limit"})
	if n, err := s.outbox.SendDue(ctx, ctx); n != 1 || !errors.Is(err, outbox.ErrThrottled) {
		t.Fatalf("SendDue = %d, %v; want one through, then throttled", n, err)
	}
	if p, _ := s.outbox.Paused(ctx); p.Until.Sub(s.now) != time.Minute {
		t.Errorf("after a success the next pause is %v, want a minute again", p.Until.Sub(s.now))
	}
}

func TestSMTPHealthWhenThrottled(t *testing.T) {
	now := utc("2027-01-01T10:00Z")
	p := outbox.Pause{Until: utc("2027-01-01T10:05Z")}
	if ok, state, err := smtpState(now, p, fmt.Errorf("%w: 421", outbox.ErrThrottled)); !ok || state != "throttled by the server until 10:05Z" || err != nil {
		t.Errorf("smtpState = %v, %q, %v; want ok, throttled until 10:05Z", ok, state, err)
	}
	if ok, state, _ := smtpState(p.Until, p, nil); !ok || state != "ok" {
		t.Errorf("smtpState after the pause = %v, %q", ok, state)
	}
	if ok, state, _ := smtpState(now, outbox.Pause{}, errors.New("connection refused")); ok || state != "failing" {
		t.Errorf("smtpState with the server down = %v, %q", ok, state)
	}
}

// simClock is the simulation's clock, for a Daemon built around a sim.
type simClock struct{ s *sim }

func (c simClock) Now() time.Time                         { return c.s.now }
func (c simClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestQuotaMetrics(t *testing.T) {
	s := newSim(t, utc("2027-01-01T10:00Z"), "")
	s.cfg.SMTP.MaxPerMinute, s.cfg.SMTP.MaxRecipientsPerDay = 30, 10000
	s.enqueue(t, "a@example.org", 40)
	ctx := context.Background()
	s.outbox.SendDue(ctx, ctx)
	d := &Daemon{db: s.db, clock: simClock{s}, health: health.New(simClock{s}.Now)}
	d.cfg.Store(s.cfg)
	reg := d.registry()
	scrape := func() string {
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	value := func(text, metric string) float64 {
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(l, metric+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatalf("no %s in\n%s", metric, text)
		return 0
	}
	m := scrape()
	for metric, want := range map[string]float64{
		`mentord_smtp_quota_used{window="minute"}`: 30, `mentord_smtp_quota_limit{window="minute"}`: 30,
		`mentord_smtp_quota_used{window="day"}`: 30, `mentord_smtp_quota_limit{window="day"}`: 10000,
		`mentord_smtp_paused`: 0,
	} {
		if got := value(m, metric); got != want {
			t.Errorf("%s = %v, want %v", metric, got, want)
		}
	}
	throttled := value(m, "mentord_smtp_throttled_total")

	s.now = s.now.Add(61 * time.Second)
	s.sink.FailAfter(0, smtptest.AtMail, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Message submission rate for this client has exceeded the configured limit"})
	if _, err := s.outbox.SendDue(ctx, ctx); !errors.Is(err, outbox.ErrThrottled) {
		t.Fatalf("SendDue = %v, want outbox.ErrThrottled", err)
	}
	m = scrape()
	for metric, want := range map[string]float64{
		`mentord_smtp_quota_used{window="minute"}`: 0, `mentord_smtp_quota_used{window="day"}`: 30,
		`mentord_smtp_paused`: 1, `mentord_smtp_throttled_total`: throttled + 1,
	} {
		if got := value(m, metric); got != want {
			t.Errorf("after a throttling reply %s = %v, want %v", metric, got, want)
		}
	}
}

// The daemon with a server that throttles: the smtp component is ok and says
// until when, the warning is logged once, and the watchdog keeps getting its
// pings while the outbox waits out the pause.
func TestThrottledServerIsNotAFailure(t *testing.T) {
	n := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	sink := smtptest.Start(t)
	sink.FailAfter(0, smtptest.AtMail, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Message submission rate for this client has exceeded the configured limit"})
	path, httpAddr := testConfig(t, fmt.Sprintf("smtp: {host: 127.0.0.1, port: %d, tls: none, auth: none, max_per_minute: 30}\n", sink.Port()))
	ctx := context.Background()
	db, err := store.Open(ctx, loadConfigFile(t, path).Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := store.Enqueue(ctx, tx, &store.OutboxItem{Key: "k1", Kind: "test", Recipient: "a@example.org",
			RecipientDomain: "example.org", EnvelopeFrom: "mentoring@example.org", MessageID: "k1@example.org",
			Payload: []byte("Subject: hi\r\n\r\nhi\r\n"), NextAttemptAt: time.Now(), CreatedAt: time.Now()})
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- Run(runCtx, Options{ConfigPath: path, LogOutput: logs}) }()
	n.wait(t, started, "READY=1")
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, h := getHealth(t, httpAddr)
		var smtpPart *health.Part
		for i := range h.Parts {
			if h.Parts[i].Name == "smtp" {
				smtpPart = &h.Parts[i]
			}
		}
		if smtpPart != nil && strings.HasPrefix(smtpPart.State, "throttled by the server until ") {
			if code != 200 || !smtpPart.OK {
				t.Errorf("/healthz = %d, smtp %+v: a throttling server is not a failure", code, smtpPart)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the smtp component never said it was throttled: %d %+v", code, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	paused := time.Now()
	n.wait(t, paused.Add(1100*time.Millisecond), "WATCHDOG=1")
	if k := strings.Count(logs.String(), "the SMTP server is throttling sending"); k != 1 {
		t.Errorf("the throttling warning was logged %d times, want once:\n%s", k, logs.String())
	}
	if !strings.Contains(logs.String(), "Message submission rate for this client") {
		t.Errorf("the log lacks the server's reply:\n%s", logs.String())
	}
}
