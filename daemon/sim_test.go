package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

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

// sim runs the schedule and the outbox on a simulated clock against an
// in-process SMTP server, recording when each message arrived.
type sim struct {
	t      testing.TB
	db     *store.DB
	cfg    *config.Config
	tpl    *templates.Set
	roster *admin.Roster
	sink   *smtptest.Sink
	outbox *outbox.Outbox
	log    *slog.Logger
	now    time.Time
	got    []simMsg
	seen   int // sink messages already recorded
	steps  int
}

// simMsg is one delivered message.
type simMsg struct {
	At        time.Time
	Key, Kind string
	To        string
	MessageID string
	Raw       []byte
}

// simLog, when set, is the logger of the sims made (instead of none).
var simLog *slog.Logger

func newSim(t testing.TB, start time.Time, extra string) *sim {
	t.Helper()
	s := &sim{t: t, now: start, sink: smtptest.Start(t), log: slog.New(slog.DiscardHandler)}
	if simLog != nil {
		s.log = simLog
	}
	imap := "imap: {host: 127.0.0.1, port: 1143, tls: none, password_file: /dev/null}\n"
	if strings.Contains(extra, "imap:") {
		imap = "" // the test gives its own
	}
	programme := "programme: {name: Staff Mentoring, organisation: Example University}\n"
	if strings.Contains(extra, "programme:") {
		programme = ""
	}
	mailbox := "mailbox: {address: mentoring@example.org}\n"
	if strings.Contains(extra, "mailbox:") {
		mailbox = ""
	}
	body := fmt.Sprintf(`%s%ssmtp: {host: 127.0.0.1, port: %d, tls: none, auth: none}
defaults: {timezone: Europe/Copenhagen}
timings: {quiet_hours: {start: "21:00", end: "08:00"}}
%s%s`, programme, mailbox, s.sink.Port(), imap, extra)
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	if s.db, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "m.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	if s.tpl, err = templates.Load(""); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return s.now }
	s.roster = &admin.Roster{DB: s.db, Cfg: cfg, Now: clock}
	s.outbox = &outbox.Outbox{DB: s.db, Sender: sender.New(connect.SMTPConfig(cfg, nil), nil), Cfg: cfg, Log: s.log, Now: clock}
	return s
}

// step runs one schedule pass and sends what is due, at s.now. It returns
// the next time anything is due (a rule or an outbox retry), or zero.
func (s *sim) step() time.Time {
	s.t.Helper()
	ctx := context.Background()
	var res compose.PlanResult
	for first := true; first || res.Enqueued > 0; first = false {
		// Again at the same instant after sending, as the daemon's next tick
		// would: what was just sent sets the time of its nudge.
		var err error
		if res, err = compose.Plan(ctx, s.db, s.cfg, s.tpl, s.now, s.log); err != nil {
			s.t.Fatalf("compose.Plan at %v: %v", s.now, err)
		}
		_, _ = s.outbox.SendDue(ctx, ctx)
		s.collect()
	}
	next := res.Next
	if due, err := store.NextDue(ctx, s.db.R()); err == nil && due != nil && (next.IsZero() || due.Before(next)) {
		next = *due
	}
	return next
}

func (s *sim) collect() {
	s.t.Helper()
	msgs := s.sink.Messages()
	for _, m := range msgs[s.seen:] {
		id := headerOf(s.t, m.Data, "Message-Id")
		var row struct {
			Key  string `db:"idempotency_key"`
			Kind string `db:"kind"`
		}
		if err := s.db.R().Get(&row, `SELECT idempotency_key, kind FROM outbox WHERE message_id = ?`, strings.Trim(id, "<>")); err != nil {
			s.t.Fatalf("delivered message %s is not in the outbox: %v", id, err)
		}
		s.got = append(s.got, simMsg{At: s.now, Key: row.Key, Kind: row.Kind, To: m.To[0], MessageID: id, Raw: m.Data})
	}
	s.seen = len(msgs)
}

// runUntil moves the clock from one due time to the next until end, the way
// the daemon's loops sleep until the next due time.
func (s *sim) runUntil(end time.Time) {
	for {
		next := s.step()
		if next.IsZero() || next.After(end) {
			break
		}
		if !next.After(s.now) {
			s.t.Fatalf("next due time %v is not after now %v", next, s.now)
		}
		s.now = next
		s.steps++
	}
	s.now = end
	s.step()
}

func headerOf(t testing.TB, raw []byte, name string) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get(name)
}

// calendarOf returns the METHOD and VEVENT of a message's text/calendar part.
func calendarOf(t testing.TB, raw []byte) (string, *ical.Component) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var find func(ct, cte string, body io.Reader) []byte
	find = func(ct, cte string, body io.Reader) []byte {
		mt, params, _ := mime.ParseMediaType(ct)
		if mt == "text/calendar" {
			if strings.EqualFold(cte, "base64") {
				body = base64.NewDecoder(base64.StdEncoding, body)
			}
			b, _ := io.ReadAll(body)
			return b
		}
		if !strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextPart()
			if err != nil {
				return nil
			}
			if b := find(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); b != nil {
				return b
			}
		}
	}
	ics := find(m.Header.Get("Content-Type"), "", m.Body)
	if ics == nil {
		t.Fatalf("no text/calendar part")
	}
	cal, err := ical.NewDecoder(bytes.NewReader(ics)).Decode()
	if err != nil {
		t.Fatalf("decode calendar: %v\n%s", err, ics)
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			return cal.Props.Get(ical.PropMethod).Value, c
		}
	}
	t.Fatal("no VEVENT")
	return "", nil
}

func addPair(t testing.TB, r *admin.Roster, in admin.PairInput) int64 {
	t.Helper()
	res, err := r.AddPair(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return res.PairID
}

var yearPair = admin.PairInput{
	MentorName: "Ada Lovelace", MentorEmail: "ada@example.com", MentorTZ: "America/New_York",
	MenteeName: "Bo Jensen", MenteeEmail: "bo@example.org", TZ: "Europe/Copenhagen", Lang: "da", MentorLang: "en",
	Start: "2027-01-12T14:00", Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 4.12",
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

// A year of one pair, with no replies: every session is invited, planned for,
// briefed, reflected on and nudged once, each at its time, in each person's
// own zone across the EU and US changes to and from summer time.
func TestSimulatedYear(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	addPair(t, s.roster, yearPair)
	s.runUntil(utc("2028-01-31T00:00Z"))

	count := map[string]int{}
	ids := map[string]bool{}
	for _, m := range s.got {
		count[m.Kind+" "+m.To]++
		if ids[m.MessageID] {
			t.Errorf("message %s (%s) delivered twice", m.MessageID, m.Key)
		}
		ids[m.MessageID] = true
	}
	want := map[string]int{
		"invite ada@example.com": 12, "invite bo@example.org": 12, "checklist bo@example.org": 12,
		"nudge bo@example.org": 24, "brief ada@example.com": 12, "reflection bo@example.org": 12,
		"digest bo@example.org":  1,                             // the year in review, before the final session
		"record ada@example.com": 1, "record bo@example.org": 1, // the record for promotion, once the final session is held
		"match ada@example.com": 1, "match bo@example.org": 1, // "Are we the right match?" after the chemistry meeting
		"agreement ada@example.com": 1, "agreement bo@example.org": 1, // the agreement's draft, to confirm
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d × %s, want %d", count[k], k, n)
		}
	}
	if len(s.got) != 91 {
		t.Errorf("%d messages in the year, want 91: %v", len(s.got), count)
	}

	at := map[string]time.Time{}
	for _, m := range s.got {
		at[m.Key] = m.At
	}
	sessionID := func(n int) int64 {
		var id int64
		if err := s.db.R().Get(&id, `SELECT id FROM sessions WHERE number = ?`, n); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Mentee bo (2) in Copenhagen, mentor ada (1) in New York.
	for _, c := range []struct {
		key  string
		want time.Time
	}{
		{fmt.Sprintf("invite:%d:1:0", sessionID(1)), utc("2026-12-01T09:00Z")},
		{fmt.Sprintf("invite:%d:2:0", sessionID(3)), utc("2026-12-12T13:00Z")},          // 90 days before 12 March 13:00Z
		{fmt.Sprintf("checklist:%d:2", sessionID(1)), utc("2027-01-09T08:00Z")},         // 09:00 CET
		{fmt.Sprintf("nudge:checklist:%d:2", sessionID(1)), utc("2027-01-11T08:00Z")},   // two days later
		{fmt.Sprintf("brief:%d:1", sessionID(1)), utc("2027-01-11T14:00Z")},             // 09:00 EST the day before
		{fmt.Sprintf("reflection:%d:2", sessionID(1)), utc("2027-01-12T16:00Z")},        // 17:00 CET
		{fmt.Sprintf("nudge:reflection:%d:2", sessionID(1)), utc("2027-01-14T16:00Z")},  //
		{fmt.Sprintf("brief:%d:1", sessionID(3)), utc("2027-03-11T14:00Z")},             // 09:00 EST (US summer time from 14 March)
		{fmt.Sprintf("brief:%d:1", sessionID(4)), utc("2027-04-11T13:00Z")},             // 09:00 EDT
		{fmt.Sprintf("checklist:%d:2", sessionID(4)), utc("2027-04-09T07:00Z")},         // 09:00 CEST (EU summer time from 28 March)
		{fmt.Sprintf("reflection:%d:2", sessionID(7)), utc("2027-07-12T15:00Z")},        // 17:00 CEST
		{fmt.Sprintf("checklist:%d:2", sessionID(11)), utc("2027-11-09T08:00Z")},        // 09:00 CET again
		{fmt.Sprintf("nudge:reflection:%d:2", sessionID(12)), utc("2027-12-15T16:00Z")}, // Sunday 12 December moved to Monday the 13th
		{fmt.Sprintf("digest:%d:2", sessionID(12)), utc("2027-12-09T08:00Z")},           // the day before the final checklist
		{"record:1:2", utc("2027-12-13T16:00Z")},                                        // with the final reflection, 17:00 CET
		{"record:1:1", utc("2027-12-13T16:00Z")},                                        // 11:00 EST
	} {
		if got, ok := at[c.key]; !ok || !got.Equal(c.want) {
			t.Errorf("%s sent at %v, want %v", c.key, got, c.want)
		}
	}

	// Every invite's event is at the session's instant; each person reads it in
	// their own zone in the text.
	for _, m := range s.got {
		if m.Kind != "invite" {
			continue
		}
		method, ev := calendarOf(t, m.Raw)
		start, err := ev.Props.DateTime(ical.PropDateTimeStart, time.UTC)
		if method != "REQUEST" || err != nil || start.In(mustZone("Europe/Copenhagen")).Hour() != 14 {
			t.Errorf("%s: METHOD %s, DTSTART %v (%v)", m.Key, method, start, err)
		}
	}
	// Prompts arrive outside quiet hours, in the recipient's zone.
	for _, m := range s.got {
		zone := "Europe/Copenhagen"
		if m.To == "ada@example.com" {
			zone = "America/New_York"
		}
		if h := m.At.In(mustZone(zone)).Hour(); m.Kind != "invite" && (h < 8 || h >= 21) {
			t.Errorf("%s arrived at %v local", m.Key, m.At.In(mustZone(zone)))
		}
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// textOf returns the decoded text/plain part of a message.
func textOf(t testing.TB, raw []byte) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct string, body io.Reader) string
	walk = func(ct string, body io.Reader) string {
		mt, params, _ := mime.ParseMediaType(ct)
		if mt == "text/plain" {
			b, _ := io.ReadAll(body)
			return string(b)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			return ""
		}
		r := multipart.NewReader(body, params["boundary"]) // decodes quoted-printable parts
		for {
			p, err := r.NextPart()
			if err != nil {
				return ""
			}
			if s := walk(p.Header.Get("Content-Type"), p); s != "" {
				return s
			}
		}
	}
	return walk(m.Header.Get("Content-Type"), m.Body)
}
