package daemon

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/store"
)

// Tests of who mentord believes a message comes from (issue 10, "Identity and
// trust"): each feeds whole raw messages through the Reader, as the inbox does.

const authserv = "imap: {host: 127.0.0.1, port: 1143, tls: none, password_file: /dev/null, authserv_id: mx.example.org}\n"

// withFrom replaces a message's From field with the given lines (none: no From).
func withFrom(raw []byte, lines ...string) []byte {
	re := regexp.MustCompile(`(?m)^From: [^\r\n]*\r\n`)
	done := false
	return re.ReplaceAllFunc(raw, func(m []byte) []byte {
		if done {
			return m
		}
		done = true
		var b strings.Builder
		for _, l := range lines {
			b.WriteString("From: " + l + "\r\n")
		}
		return []byte(b.String())
	})
}

// prepend puts header fields (LF-separated) on top of a message.
func prepend(raw []byte, fields string) []byte {
	return append([]byte(strings.ReplaceAll(fields, "\n", "\r\n")), raw...)
}

// From values that are not exactly one mailbox, each naming the mentee
// somewhere a loose reader would find her.
var malformedFroms = map[string][]string{
	"no closing angle bracket": {`"bo@example.org" <evil@x.example`},
	"two bare addresses":       {`bo@example.org evil@x.example`},
	"semicolon":                {`bo@example.org;evil@x.example`},
	"address list":             {`bo@example.org, evil@x.example`},
	"list, mentee last":        {`evil@x.example, Bo Jensen <bo@example.org>`},
	"group":                    {`Friends: bo@example.org;`},
	"empty group":              {`undisclosed-recipients:;`},
	"two From fields":          {`bo@example.org`, `evil@x.example`},
	"two From fields, reverse": {`evil@x.example`, `Bo Jensen <bo@example.org>`},
	"no From at all":           nil,
	"display name only":        {`Bo Jensen`},
	"angle address unclosed":   {`Bo Jensen <bo@example.org`},
}

// A reply whose From is not exactly one mailbox is quarantined with the
// reason, whatever else it carries: the token, the mentee's address
// somewhere in the field, a DMARC pass our server evaluated for another domain.
func TestMalformedFromIsQuarantined(t *testing.T) {
	r := newReading(t, authserv)
	before := r.count("outbox")
	n := 0
	for name, from := range malformedFroms {
		for _, ar := range []string{"", "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=x.example; dmarc=pass header.from=x.example\n"} {
			n++
			raw := withFrom(r.replyMsg(menteeAddr, r.token, "bad"+strings.Repeat("x", n)+"@x.example", typedAnswers), from...)
			out := r.ingest(prepend(raw, ar))
			if out.Outcome != store.OutcomeQuarantined || !strings.Contains(out.Reason, "bad_from") {
				t.Errorf("%s (%q, %q): outcome %s (%s), want quarantined for bad_from", name, from, ar, out.Outcome, out.Reason)
			}
		}
	}
	if got := r.count("progress_entries"); got != 0 {
		t.Errorf("%d answers logged from malformed senders", got)
	}
	if got := r.count("outbox"); got != before {
		t.Errorf("%d messages enqueued for malformed senders", got-before)
	}
	// The mentee's own reply still counts.
	if out := r.ingest(r.replyMsg(menteeAddr, r.token, "good@mail.example.org", typedAnswers)); out.Outcome != store.OutcomeLogged {
		t.Errorf("the genuine reply: %+v", out)
	}
}

// Our server evaluated DMARC for another domain than the one in From: the
// two read the sender differently, so the message is not the mentee's.
func TestDMARCForAnotherDomainIsQuarantined(t *testing.T) {
	r := newReading(t, authserv)
	raw := prepend(r.replyMsg(menteeAddr, r.token, "d1@mail.example.org", typedAnswers),
		"Authentication-Results: mx.example.org; dmarc=pass header.from=x.example\n")
	if out := r.ingest(raw); out.Outcome != store.OutcomeQuarantined || !strings.Contains(out.Reason, "dmarc") {
		t.Errorf("outcome = %+v, want quarantined for DMARC of another domain", out)
	}
	raw = prepend(r.replyMsg(menteeAddr, r.token, "d2@mail.example.org", typedAnswers),
		"Authentication-Results: mx.example.org; dmarc=pass header.from=EXAMPLE.org\n")
	if out := r.ingest(raw); out.Outcome != store.OutcomeLogged {
		t.Errorf("outcome = %+v, want logged for DMARC of the From's domain", out)
	}
}

// A stranger's calendar decline with a From that names the mentor loosely
// changes nothing and tells nobody.
func TestMalformedFromCalendarAnswerChangesNothing(t *testing.T) {
	r := newReading(t, "")
	before := r.count("outbox")
	for name, from := range malformedFroms {
		raw := r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "COMMENT:Re-register at http://evil.example/login\n")
		var lines []string
		for _, l := range from {
			lines = append(lines, strings.ReplaceAll(l, menteeAddr, mentorAddr))
		}
		out := r.ingest(withFrom(raw, lines...))
		if out.Outcome != store.OutcomeQuarantined || !strings.Contains(out.Reason, "bad_from") {
			t.Errorf("%s: outcome %s (%s), want quarantined for bad_from", name, out.Outcome, out.Reason)
		}
	}
	if got := r.partstat(t, mentorAddr); got != "NEEDS-ACTION" {
		t.Errorf("the mentor's answer became %s", got)
	}
	if got := r.count("outbox"); got != before {
		t.Errorf("%d messages enqueued after forged declines", got-before)
	}
}

// A calendar answer that names a message mentord sent to someone else (its
// reply token or thread) is quarantined, as a written reply would be.
func TestCalendarAnswerWithAnotherPersonsToken(t *testing.T) {
	r := newReading(t, "")
	raw := r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "")
	raw = []byte(strings.Replace(string(raw), "To: mentoring@example.org", "To: "+r.token, 1)) // the mentee's checklist token
	if out := r.ingest(raw); out.Outcome != store.OutcomeQuarantined || !strings.Contains(out.Reason, "sender_mismatch") {
		t.Errorf("outcome = %+v, want quarantined for sender_mismatch", out)
	}
	if got := r.partstat(t, mentorAddr); got != "NEEDS-ACTION" {
		t.Errorf("the mentor's answer became %s", got)
	}
}

// outboxText is the text body of each message of a kind enqueued, by recipient.
func (r *reading) outboxText(t *testing.T, kind string) map[string]string {
	t.Helper()
	var rows []struct {
		Recipient string `db:"recipient"`
		Payload   []byte `db:"payload"`
	}
	if err := r.db.R().Select(&rows, `SELECT o.recipient, p.data AS payload FROM outbox o
		JOIN outbox_payloads p ON p.outbox_id = o.id WHERE o.kind = ?`, kind); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, row := range rows {
		raw, err := store.Unpack(row.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out[row.Recipient] = strings.Join(strings.Fields(textOf(t, raw)), " ")
	}
	return out
}

// counter is the mentor's COUNTER for session 1, two days later, with a comment.
func (r *reading) counter(t *testing.T, comment string) []byte {
	t.Helper()
	var s store.Session
	if err := r.db.R().Get(&s, `SELECT * FROM sessions WHERE number = 1`); err != nil {
		t.Fatal(err)
	}
	const f = "20060102T150405Z"
	proposed := s.StartsAt.Add(48 * time.Hour)
	raw := string(r.rsvp(t, mentorAddr, mentorAddr, "COUNTER", "TENTATIVE", s.Sequence, r.now, "COMMENT:"+comment+"\n"))
	raw = strings.Replace(raw, "DTSTART:"+s.StartsAt.UTC().Format(f), "RECURRENCE-ID:"+s.StartsAt.UTC().Format(f)+"\r\nDTSTART:"+proposed.UTC().Format(f), 1)
	raw = strings.Replace(raw, "DTEND:"+s.End().UTC().Format(f), "DTEND:"+proposed.Add(time.Hour).UTC().Format(f), 1)
	return []byte(raw)
}

// What the mentor's calendar says goes to the mentee (and the admin) quoted,
// set apart from the programme's own words, and only when the sender passed
// every check: with a DMARC verdict read, only on a pass.
func TestRelayedWordsAreQuotedAndChecked(t *testing.T) {
	const words = "Away at a conference, sorry. Re-register at http://evil.example/login"
	const quoted = "> Away at a conference, sorry. Re-register at http://evil.example/login"
	admin := "programme: {name: Staff Mentoring, admin_email: admin@example.org, rescheduling: admin}\n"
	pass := "Authentication-Results: mx.example.org; dkim=pass header.d=example.com; dmarc=pass (p=reject) header.from=example.com\n"
	for _, c := range []struct {
		name, config, header string
		relayed              bool
	}{
		{"DMARC not read", admin, "", true},
		{"DMARC pass", admin + authserv, pass, true},
		{"no DMARC verdict", admin + authserv, "", false},
		{"DMARC none", admin + authserv, "Authentication-Results: mx.example.org; dmarc=none header.from=example.com\n", false},
		{"a pass from another server", admin + authserv, "Authentication-Results: mx.evil.example; dmarc=pass header.from=example.com\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReading(t, c.config)
			out := r.ingest(prepend(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "COMMENT:"+words+"\n"), c.header))
			if out.Outcome != store.OutcomeLogged {
				t.Fatalf("decline: %+v", out)
			}
			r.now = r.now.Add(time.Minute)
			if out := r.ingest(prepend(r.counter(t, words), c.header)); out.Outcome != store.OutcomeLogged {
				t.Fatalf("counter: %+v", out)
			}
			got := map[string]string{}
			for to, text := range r.outboxText(t, "declined") {
				got["declined to "+to] = text
			}
			for to, text := range r.outboxText(t, "counter") {
				got["counter to "+to] = text
			}
			if len(got) != 4 {
				t.Fatalf("told %d times, want the mentee and the admin of the decline and of the counter: %v", len(got), got)
			}
			for what, text := range got {
				switch {
				case c.relayed && !strings.Contains(text, quoted):
					t.Errorf("%s does not quote the note:\n%s", what, text)
				case !c.relayed && strings.Contains(text, "evil.example"):
					t.Errorf("%s passes on the words of a sender DMARC did not vouch for:\n%s", what, text)
				case strings.Contains(text, `"`+words):
					t.Errorf("%s runs the note into its own prose:\n%s", what, text)
				}
			}
		})
	}
}

// A message read before is recognised by its Message-ID, its sender and its
// content together; a quarantined message never makes a later genuine one
// "read before", while the same delivery read again still changes nothing.
func TestDuplicatesAreNotTakenOnTheMessageIDAlone(t *testing.T) {
	r := newReading(t, authserv)
	const id = "genuine.1@mail.example.org"
	genuine := r.replyMsg(menteeAddr, r.token, id, typedAnswers)
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"a stranger with the token", r.replyMsg("eve@evil.example", r.token, id, "1. Nothing."), store.OutcomeQuarantined},
		{"a stranger, unrelated", []byte(strings.ReplaceAll("From: eve@evil.example\nTo: mentoring@example.org\nSubject: Hi\nMessage-ID: <"+id+">\n\nHello.\n", "\n", "\r\n")), store.OutcomeUnrelated},
		{"a copy of the reply that failed DMARC", prepend(genuine, "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org\n"), store.OutcomeQuarantined},
		{"a malformed From naming the mentee", withFrom(genuine, `"bo@example.org" <evil@x.example`), store.OutcomeQuarantined},
	} {
		if out := r.ingest(c.raw); out.Outcome != c.want || out.Duplicate {
			t.Errorf("%s: %+v, want %s", c.name, out, c.want)
		}
	}
	out := r.ingest(genuine)
	if out.Duplicate || out.Outcome != store.OutcomeLogged {
		t.Fatalf("the genuine reply after the others: %+v, want logged", out)
	}
	// The same reply again, as read after a crash or delivered a second time
	// (to the token address and in Cc to the mailbox, say): nothing changes.
	for _, again := range [][]byte{genuine, prepend(genuine, "Delivered-To: mentoring@example.org\nReceived: from mx2.example.org by mx.example.org; Sat, 9 Jan 2027 18:31:00 +0100\n")} {
		if out := r.ingest(again); !out.Duplicate || out.Outcome != store.OutcomeLogged {
			t.Errorf("the genuine reply again: %+v, want read before", out)
		}
	}
	// A quarantined message read again is recognised too (no second row).
	rows := r.count("inbound")
	bad := withFrom(genuine, `bo@example.org, evil@x.example`)
	r.ingest(bad)
	if out := r.ingest(bad); !out.Duplicate || out.Outcome != store.OutcomeQuarantined {
		t.Errorf("a quarantined message again: %+v, want read before", out)
	}
	if got := r.count("inbound") - rows; got != 1 {
		t.Errorf("%d rows for one quarantined message read twice", got)
	}
	if got := r.count("replies"); got != 1 {
		t.Errorf("%d replies logged, want 1", got)
	}
}

// sentMsg is a message mentord sent, with its VERP return path.
type sentMsg struct {
	Msg      simMsg
	Envelope string
}

// sentTo returns the messages mentord sent to addr, oldest first.
func (r *reading) sentTo(t *testing.T, addr string) []sentMsg {
	t.Helper()
	var out []sentMsg
	for _, m := range r.got {
		if m.To != addr {
			continue
		}
		var env string
		if err := r.db.R().Get(&env, `SELECT envelope_from FROM outbox WHERE message_id = ?`, strings.Trim(m.MessageID, "<>")); err != nil {
			t.Fatal(err)
		}
		out = append(out, sentMsg{m, env})
	}
	return out
}

func (r *reading) bounceScore(t *testing.T, addr string) (score float64, suspended bool) {
	t.Helper()
	var p store.Person
	if err := r.db.R().Get(&p, `SELECT * FROM people WHERE email = ?`, addr); err != nil {
		t.Fatal(err)
	}
	return p.BounceScore, p.SuspendedAt != nil
}

// Forged or repeated delivery reports never suspend an address: a bounce
// counts once per message sent, only when the report matches what mentord
// sent (its VERP return path, or its Message-ID and the recipient it went
// to), and never when it comes from a participant's own address.
func TestForgedBouncesSuspendNobody(t *testing.T) {
	r := newReading(t, "programme: {name: Staff Mentoring, admin_email: admin@example.org}\n")
	sent := r.sentTo(t, menteeAddr)
	if len(sent) < 3 {
		t.Fatalf("%d messages sent to the mentee, want 3 or more", len(sent))
	}
	first := sent[0]
	n := 100
	report := func(raw []byte) store.Inbound {
		t.Helper()
		n++
		out := r.ingest(raw)
		var in store.Inbound
		if err := r.db.R().Get(&in, `SELECT * FROM inbound WHERE id = ?`, out.InboundID); err != nil && !out.Duplicate {
			t.Fatal(err)
		}
		return in
	}
	// The genuine report, and two more copies of it (new Message-IDs).
	for i := 0; i < 3; i++ {
		report(dsn(t, first.Msg, first.Envelope, n, "5.1.1"))
	}
	if score, _ := r.bounceScore(t, menteeAddr); score != 1 {
		t.Errorf("score %.1f after three reports of one message, want 1", score)
	}
	// Reports naming the message sent to the mentee but another recipient,
	// without the VERP return path.
	for i := 0; i < 3; i++ {
		raw := dsn(t, sent[1].Msg, "mentoring@example.org", n, "5.1.1")
		raw = []byte(strings.ReplaceAll(string(raw), "Final-Recipient: rfc822; "+menteeAddr, "Final-Recipient: rfc822; someone@else.example"))
		if in := report(raw); in.Outcome == store.OutcomeLogged {
			t.Errorf("a report for another recipient was counted: %s", in.Reason)
		}
	}
	// A "delivery report" from the mentee's own address, with the return path.
	for i := 0; i < 3; i++ {
		raw := withFrom(dsn(t, sent[2].Msg, sent[2].Envelope, n, "5.1.1"), "Bo Jensen <"+menteeAddr+">")
		if in := report(raw); in.Outcome != store.OutcomeQuarantined || !strings.Contains(in.Reason, "participant") {
			t.Errorf("a report from the participant: %s %s, want quarantined", in.Outcome, in.Reason)
		}
	}
	// Reports without anything of ours: only the mailbox and the address.
	for i := 0; i < 3; i++ {
		raw := dsn(t, simMsg{To: menteeAddr, MessageID: "<made.up@example.org>"}, "mentoring@example.org", n, "5.1.1")
		if in := report(raw); in.Outcome == store.OutcomeLogged {
			t.Errorf("a report of nothing mentord sent was counted: %s", in.Reason)
		}
	}
	if score, suspended := r.bounceScore(t, menteeAddr); score != 1 || suspended {
		t.Errorf("after the forged reports: score %.1f, suspended %v; want 1, not suspended", score, suspended)
	}
}

// Without plus-addressing every message has the mailbox as its return path:
// a report that only names the mailbox matches nothing of ours.
func TestBounceToTheBareMailboxMatchesNothing(t *testing.T) {
	r := newReading(t, "mailbox: {address: mentoring@example.org, plus_delimiter: none}\n")
	for i := 0; i < 3; i++ {
		raw := dsn(t, simMsg{To: menteeAddr, MessageID: "<made.up@example.org>"}, "mentoring@example.org", 200+i, "5.1.1")
		if out := r.ingest(raw); out.Outcome == store.OutcomeLogged {
			t.Errorf("report %d counted: %s", i+1, out.Reason)
		}
	}
	var counted int
	r.db.R().Get(&counted, `SELECT COUNT(*) FROM bounces`)
	if counted != 0 {
		t.Errorf("%d bounces counted", counted)
	}
	// The genuine report is matched by the original's Message-ID and its recipient.
	first := r.sentTo(t, menteeAddr)[0]
	if out := r.ingest(dsn(t, first.Msg, "mentoring@example.org", 300, "5.1.1")); out.Outcome != store.OutcomeLogged {
		t.Errorf("the genuine report: %+v", out)
	}
}

// A calendar answer for a version of the session mentord never sent (its
// SEQUENCE above the session's) or stamped in the future is not an answer:
// it is ignored with the reason, and it never blocks the genuine ones after it.
func TestCalendarAnswerFromTheFutureFreezesNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		seq   int
		stamp time.Time // zero: now
		why   string
	}{
		{"SEQUENCE 2147483647", 2147483647, time.Time{}, "SEQUENCE"},
		{"SEQUENCE 1 before any change", 1, time.Time{}, "SEQUENCE"},
		{"DTSTAMP in 9999", 0, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "DTSTAMP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReading(t, "")
			stamp := c.stamp
			if stamp.IsZero() {
				stamp = r.now
			}
			out := r.ingest(r.rsvp(t, menteeAddr, menteeAddr, "REPLY", "ACCEPTED", c.seq, stamp, ""))
			if out.Outcome != store.OutcomeIgnored || !strings.Contains(out.Reason, c.why) {
				t.Errorf("%s (%s), want ignored for its %s", out.Outcome, out.Reason, c.why)
			}
			if got := r.partstat(t, menteeAddr); got != "NEEDS-ACTION" {
				t.Errorf("the mentee's answer became %s", got)
			}
			r.now = r.now.Add(time.Minute)
			if out := r.ingest(r.rsvp(t, menteeAddr, menteeAddr, "REPLY", "DECLINED", 0, r.now, "")); out.Outcome != store.OutcomeLogged {
				t.Errorf("the genuine answer after it: %+v", out)
			}
			if got := r.partstat(t, menteeAddr); got != "DECLINED" {
				t.Errorf("the mentee's answer = %s, want DECLINED", got)
			}
		})
	}
}

// sessionEnd is when the pair's session of the given number ends.
func (r *reading) sessionEnd(t *testing.T, number int) time.Time {
	t.Helper()
	var s store.Session
	if err := r.db.R().Get(&s, `SELECT * FROM sessions WHERE number = ?`, number); err != nil {
		t.Fatal(err)
	}
	return s.End()
}

// lateRows are the messages kept as late, as `mentord status` lists them.
func (r *reading) lateRows(t *testing.T) []store.Quarantined {
	t.Helper()
	st, err := admin.LoadStatus(context.Background(), r.db, r.cfg, r.now)
	if err != nil {
		t.Fatal(err)
	}
	return st.Late
}

// A reply after its session's reply window, or after its pair ended, is kept
// for the admin: recorded as late and listed in `mentord status`, never
// logged and never acknowledged. A reply in time is logged as before.
func TestLateRepliesAreKeptNotApplied(t *testing.T) {
	for _, c := range []struct {
		name  string
		late  func(r *reading)
		why   string
		fresh bool // the reply is the first (else a replay of the logged one)
	}{
		{"60 days after the session", func(r *reading) { r.now = r.sessionEnd(t, 2).Add(61 * 24 * time.Hour) }, "reply window", true},
		{"after the pair ended", func(r *reading) {
			r.now = r.now.Add(time.Hour)
			if _, err := r.roster.EndPair(context.Background(), r.pairID); err != nil {
				t.Fatal(err)
			}
			r.now = r.now.Add(time.Hour)
		}, "pair ended", true},
		{"a replay after the pair ended", func(r *reading) {
			if out := r.ingest(r.replyMsg(menteeAddr, r.token, "first@mail.example.org", typedAnswers)); out.Outcome != store.OutcomeLogged {
				t.Fatalf("the reply in time: %+v", out)
			}
			r.step() // its acknowledgement
			r.now = r.now.Add(24 * time.Hour)
			if _, err := r.roster.EndPair(context.Background(), r.pairID); err != nil {
				t.Fatal(err)
			}
			r.now = r.now.Add(24 * time.Hour)
		}, "pair ended", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReading(t, "")
			c.late(r)
			entries, replies, acks := r.count("progress_entries"), r.count("replies"), r.countKind("ack")
			for _, to := range []string{r.token, "mentoring@example.org"} { // by token, and by thread
				out := r.ingest(r.replyMsg(menteeAddr, to, "late."+to+"@mail.example.org", typedAnswers))
				if out.Outcome != store.OutcomeLate || !strings.Contains(out.Reason, c.why) {
					t.Errorf("to %s: %s (%s), want late for %q", to, out.Outcome, out.Reason, c.why)
				}
			}
			r.step()
			if r.count("progress_entries") != entries || r.count("replies") != replies || r.countKind("ack") != acks {
				t.Errorf("a late reply was logged or acknowledged")
			}
			if late := r.lateRows(t); len(late) != 2 || late[0].Kind != "reply" {
				t.Errorf("status lists %d late replies, want 2: %+v", len(late), late)
			}
		})
	}
	// A calendar answer about a session of an ended pair is late too: the
	// answer stays as it was and nobody is told.
	r := newReading(t, "")
	if _, err := r.roster.EndPair(context.Background(), r.pairID); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(time.Hour)
	declines := r.countKind("declined")
	if out := r.ingest(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "COMMENT:Sorry\n")); out.Outcome != store.OutcomeLate {
		t.Errorf("a calendar answer after the pair ended: %+v, want late", out)
	}
	if got := r.partstat(t, mentorAddr); got != "NEEDS-ACTION" || r.countKind("declined") != declines {
		t.Errorf("a late calendar answer was applied (%s) or passed on", got)
	}
	// A stranger with an expired token is still a stranger (quarantined).
	r = newReading(t, "")
	r.now = r.sessionEnd(t, 2).Add(61 * 24 * time.Hour)
	if out := r.ingest(r.replyMsg("eve@evil.example", r.token, "eve@x.example", typedAnswers)); out.Outcome != store.OutcomeQuarantined {
		t.Errorf("a stranger's late reply: %+v, want quarantined", out)
	}
}

func (r *reading) countKind(kind string) int {
	r.t.Helper()
	var n int
	if err := r.db.R().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, kind); err != nil {
		r.t.Fatal(err)
	}
	return n
}
