package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/converse"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

// The conversation (issue 13), message by message: an .eml in (Gmail,
// Outlook and Apple Mail layouts, English and Danish, in testdata/talk),
// the rows and the mail out checked.

const talkAdmin = "programme: {name: Staff Mentoring, admin_email: admin@example.org}\n"

// talkFixture reads testdata/talk/name with its placeholders filled.
func talkFixture(t *testing.T, name string, fields map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/talk/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range fields {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if strings.Contains(s, "{{") {
		t.Fatalf("%s: a placeholder is left: %s", name, s)
	}
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// sent returns the messages of a kind sent to an address since the n-th.
func (r *reading) sentSince(n int, kind, to string) []simMsg {
	var out []simMsg
	for _, m := range r.got[n:] {
		if m.Kind == kind && (to == "" || m.To == to) {
			out = append(out, m)
		}
	}
	return out
}

// replyFields are the fields of a reply to m (its token address, thread and subject).
func replyFields(t *testing.T, m simMsg, from, msgID string) map[string]string {
	t.Helper()
	to, err := netmail.ParseAddress(headerOf(t, m.Raw, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(headerOf(t, m.Raw, "Subject"))
	return map[string]string{"FROM": from, "TO": to.Address, "MSGID": msgID, "SUBJECT": subject,
		"INREPLYTO": strings.Trim(m.MessageID, "<>")}
}

// inviteOf is the invite of session number n sent to addr.
func (r *reading) inviteOf(t *testing.T, n int, addr string) simMsg {
	t.Helper()
	sid := r.sessionID(n)
	for _, m := range r.got {
		if m.Kind == "invite" && m.To == addr && strings.HasPrefix(m.Key, "invite:"+itoa(sid)+":") {
			return m
		}
	}
	t.Fatalf("no invite of session %d to %s", n, addr)
	return simMsg{}
}

func decodeB64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *reading) mustCount(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := r.db.R().Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func flat(t *testing.T, raw []byte) string { return strings.Join(strings.Fields(textOf(t, raw)), " ") }

func TestTalkCheckIn(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	// A new message from the mentee (Gmail, English): her own log, tied to the
	// next session, acknowledged; not verified, so not for the mentor.
	out := r.ingest(talkFixture(t, "gmail-checkin-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "ci1@mail.gmail.com"}))
	if out.Outcome != store.OutcomeLogged || out.Reason != "check-in" {
		t.Fatalf("check-in: %+v", out)
	}
	var ci store.CheckIn
	if err := r.db.R().Get(&ci, `SELECT * FROM checkins`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ci.Text, "the grant went in!") || strings.Contains(ci.Text, "-- ") || ci.SessionID == nil ||
		*ci.SessionID != r.sessionID(2) || ci.Relayable {
		t.Errorf("check-in row = %+v", ci)
	}
	l, err := records.LoadMenteeLog(context.Background(), r.db.R(), menteeAddr, r.now)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	records.WriteMenteeLog(&md, l, "markdown")
	if !strings.Contains(md.String(), "Check-in before this session") || !strings.Contains(md.String(), "the grant went in!") {
		t.Errorf("the check-in is not in her log:\n%s", md.String())
	}
	r.step()
	acks := r.sentSince(n, "talk", menteeAddr)
	if len(acks) != 1 || !strings.Contains(flat(t, acks[0].Raw), "is now in your own progress log as a check-in") ||
		headerOf(t, acks[0].Raw, "In-Reply-To") != "<ci1@mail.gmail.com>" {
		t.Fatalf("acknowledgements = %d", len(acks))
	}

	// A reply to the invite of session 3 (Outlook, Danish, HTML only): the
	// token verifies her, so with her consent to share plans it goes into
	// the mentor's brief for that session, quoted; the quote is not taken.
	inv := r.inviteOf(t, 3, menteeAddr)
	out = r.ingest(talkFixture(t, "outlook-checkin-da.eml", replyFields(t, inv, menteeAddr, "AM0PR01@eurprd.outlook.com")))
	if out.Outcome != store.OutcomeLogged || out.Reason != "check-in" {
		t.Fatalf("Danish check-in: %+v", out)
	}
	var da store.CheckIn
	r.db.R().Get(&da, `SELECT * FROM checkins WHERE about = 'invite'`)
	if !strings.Contains(da.Text, "ansøgningen er sendt ind") || strings.Contains(da.Text, "mentorsamtale") || !da.Relayable ||
		da.SessionID == nil || *da.SessionID != r.sessionID(3) {
		t.Errorf("Danish check-in row = %+v", da)
	}
	r.runUntil(r.sessionStart(t, 3).Add(-12 * time.Hour))
	briefs := r.sentSince(n, "brief", mentorAddr)
	if len(briefs) != 2 {
		t.Fatalf("briefs = %d", len(briefs))
	}
	last := flat(t, briefs[1].Raw)
	if !strings.Contains(last, "> Kort status: ansøgningen er sendt ind") || strings.Contains(last, "grant went in") {
		t.Errorf("the brief for session 3 should quote the verified check-in only:\n%s", last)
	}
	if first := flat(t, briefs[0].Raw); strings.Contains(first, "grant went in") {
		t.Errorf("an unverified check-in reached the mentor:\n%s", first)
	}
}

func TestTalkKeptForAPerson(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	out := r.ingest(talkFixture(t, "gmail-question-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "q1@mail.gmail.com"}))
	if out.Outcome != store.OutcomeKept {
		t.Fatalf("question: %+v", out)
	}
	items, err := store.ListInbox(context.Background(), r.db.R(), false, 10)
	if err != nil || len(items) != 1 || items[0].PersonName != "Bo Jensen" || items[0].PairID == nil || *items[0].PairID != r.pairID {
		t.Fatalf("inbox = %+v, %v", items, err)
	}
	r.step()
	told := r.sentSince(n, "talk", menteeAddr)
	if len(told) != 1 || !strings.Contains(flat(t, told[0].Raw), "a person will read it") {
		t.Errorf("the sender should be told a person will read it")
	}
	// A stranger's mail stays unrelated, and is counted.
	out = r.ingest(talkFixture(t, "gmail-question-en.eml", map[string]string{"FROM": "someone@example.net", "MSGID": "q2@mail.gmail.com"}))
	if out.Outcome != store.OutcomeUnrelated {
		t.Fatalf("stranger: %+v", out)
	}
	a, err := converse.LoadAttention(context.Background(), r.db.R(), r.now, r.now.Add(-time.Hour), r.cfg.Timings.AgreementWithin.D())
	if err != nil || len(a.Kept) != 1 || a.Strangers != 1 {
		t.Errorf("attention = %+v, %v", a, err)
	}
}

func TestTalkPauseConfirmedAndResumed(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	planned := r.mustCount(t, `SELECT COUNT(*) FROM sessions WHERE status = 'planned'`)
	// Apple Mail, English, a new message: the From alone is no proof, so
	// nothing changes until the address on file confirms.
	out := r.ingest(talkFixture(t, "apple-pause-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "p1@icloud.com"}))
	if out.Outcome != store.OutcomeLogged || r.mustCount(t, `SELECT COUNT(*) FROM requests WHERE kind = 'pause' AND status = 'asked'`) != 1 {
		t.Fatalf("pause: %+v", out)
	}
	if got := r.mustCount(t, `SELECT COUNT(*) FROM sessions WHERE status = 'planned'`); got != planned {
		t.Fatalf("an unconfirmed pause cancelled sessions")
	}
	r.step()
	confirm := r.sentSince(n, "talk", menteeAddr)
	if len(confirm) != 1 || !strings.Contains(flat(t, confirm[0].Raw), "pause your mentoring until Saturday 1 May 2027") {
		t.Fatalf("confirmation asked: %d", len(confirm))
	}
	// The mentor cannot confirm with the mentee's token.
	yes := "From: Ada Lovelace <{{FROM}}>\nTo: {{TO}}\nSubject: Re: {{SUBJECT}}\nMessage-ID: <{{MSGID}}>\nIn-Reply-To: <{{INREPLYTO}}>\n" +
		"Date: Tue, 9 Feb 2027 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\nYes, please.\n"
	f := replyFields(t, confirm[0], mentorAddr, "y0@example.com")
	if out := r.ingest(fill(yes, f)); out.Outcome != store.OutcomeQuarantined {
		t.Fatalf("the mentor's yes on the mentee's token: %+v", out)
	}
	// The mentee's yes pauses: sessions until May cancelled, both told, the admin too.
	n = len(r.got)
	f = replyFields(t, confirm[0], menteeAddr, "y1@icloud.com")
	if out := r.ingest(fill(strings.Replace(yes, "Ada Lovelace", "Bo Jensen", 1), f)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("confirmation: %+v", out)
	}
	cancelled := r.mustCount(t, `SELECT COUNT(*) FROM paused_sessions`)
	if cancelled != 3 || r.mustCount(t, `SELECT COUNT(*) FROM sessions WHERE status = 'cancelled'`) != 3 {
		t.Fatalf("paused sessions = %d", cancelled)
	}
	r.step()
	if got := len(r.sentSince(n, "cancel", "")); got != 6 {
		t.Errorf("cancellations sent = %d, want 3 sessions × 2", got)
	}
	for _, to := range []string{menteeAddr, mentorAddr} {
		if m := r.sentSince(n, "talk", to); len(m) != 1 || !strings.Contains(flat(t, m[0].Raw), "paused until Saturday 1 May 2027") {
			t.Errorf("%s not told of the pause", to)
		}
	}
	if len(r.sentSince(n, "notice", "admin@example.org")) != 1 {
		t.Errorf("the admin was not told")
	}
	rep, err := records.LoadReport(context.Background(), r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil || rep.Totals.Paused != 1 {
		t.Errorf("report: paused = %+v, %v", rep.Totals, err)
	}

	// "I'm back", in reply to the pause notice: the three sessions are planned again.
	n = len(r.got)
	notice := r.sentSince(0, "talk", menteeAddr)
	back := "From: Bo Jensen <{{FROM}}>\nTo: {{TO}}\nSubject: Re: {{SUBJECT}}\nMessage-ID: <{{MSGID}}>\nIn-Reply-To: <{{INREPLYTO}}>\n" +
		"Date: Tue, 9 Feb 2027 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\nGood news: I'm back early and ready to start again.\n"
	if out := r.ingest(fill(back, replyFields(t, notice[len(notice)-1], menteeAddr, "b1@icloud.com"))); out.Outcome != store.OutcomeLogged || out.Reason != "resume" {
		t.Fatalf("resume: %+v", out)
	}
	if got := r.mustCount(t, `SELECT COUNT(*) FROM sessions WHERE status = 'planned'`); got != planned {
		t.Errorf("planned after resume = %d, want %d", got, planned)
	}
	r.step()
	if got := len(r.sentSince(n, "invite", "")); got != 6 {
		t.Errorf("invitations for the sessions planned again = %d, want 6", got)
	}
}

func fill(s string, f map[string]string) []byte {
	for k, v := range f {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func TestTalkPauseVerifiedDanishAndForged(t *testing.T) {
	const pass = "Authentication-Results: mx.example.org; spf=pass; dkim=pass header.d=example.org; dmarc=pass (p=reject) header.from=example.org\n"
	const fail = "Authentication-Results: mx.example.org; spf=fail; dmarc=fail (p=reject) header.from=example.org\n"
	// A forged From: our server says DMARC failed. Nothing is applied.
	r := newReading(t, talkAdmin+authserv)
	if out := r.ingest(prepend(talkFixture(t, "outlook-pause-da.eml", map[string]string{"FROM": menteeAddr, "MSGID": "f1@evil.example"}), fail)); out.Outcome != store.OutcomeQuarantined {
		t.Fatalf("forged: %+v", out)
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM requests`)+r.mustCount(t, `SELECT COUNT(*) FROM pauses`) != 0 {
		t.Fatalf("a forged request left rows")
	}
	// Outlook, Danish, DMARC pass: applied at once, until 1 May.
	n := len(r.got)
	out := r.ingest(prepend(talkFixture(t, "outlook-pause-da.eml", map[string]string{"FROM": menteeAddr, "MSGID": "p2@eurprd.outlook.com"}), pass))
	if out.Outcome != store.OutcomeLogged || !strings.HasPrefix(out.Reason, "pause until 2027-04-30") && !strings.HasPrefix(out.Reason, "pause until 2027-05-01") {
		t.Fatalf("pause: %+v", out)
	}
	var pa store.Pause
	if err := r.db.R().Get(&pa, `SELECT * FROM pauses`); err != nil || pa.RequestedBy == nil {
		t.Fatalf("pause = %+v, %v", pa, err)
	}
	r.step()
	m := r.sentSince(n, "talk", menteeAddr)
	// Read in Danish, answered in the language on file (English for Bo).
	if len(m) != 1 || !strings.Contains(flat(t, m[0].Raw), "Your mentoring is paused until Saturday 1 May 2027") {
		t.Errorf("the answer: %d %s", len(m), flat(t, m[0].Raw))
	}
	// The pause ends by itself on 1 May: the sessions are planned again.
	next, err := converse.Tick(context.Background(), r.db, r.cfg, r.tpl, pa.Until.Add(time.Hour), r.log)
	if err != nil {
		t.Fatal(err)
	}
	_ = next
	if r.mustCount(t, `SELECT COUNT(*) FROM pauses WHERE ended_at IS NULL`) != 0 {
		t.Errorf("the pause did not end at its end")
	}
}

func TestTalkLog(t *testing.T) {
	r := newReading(t, talkAdmin)
	r.ingest(r.replyMsg(menteeAddr, r.token, "answers@mail.example.org", typedAnswers))
	n := len(r.got)
	out := r.ingest(talkFixture(t, "gmail-log-da.eml", map[string]string{"FROM": menteeAddr, "MSGID": "l1@mail.gmail.com"}))
	if out.Outcome != store.OutcomeLogged || out.Reason != "log sent" {
		t.Fatalf("log: %+v", out)
	}
	r.step()
	m := r.sentSince(n, "talk", menteeAddr)
	if len(m) != 1 {
		t.Fatalf("log messages = %d", len(m))
	}
	l, err := records.LoadMenteeLog(context.Background(), r.db.R(), menteeAddr, r.now)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	records.WriteMenteeLog(&want, l, "markdown")
	if got := attachment(t, m[0].Raw, "progress-log.md"); got != want.String() {
		t.Errorf("the attachment is not `mentord log --format markdown`:\n%s\nwant:\n%s", got, want.String())
	}
	if body := textOf(t, m[0].Raw); !strings.Contains(body, "Got the grant draft") {
		t.Errorf("the body lacks the log:\n%s", body)
	}
	// Again the same day (Apple Mail, English, with a Reply-To elsewhere):
	// not sent again, and never to the Reply-To.
	n = len(r.got)
	out = r.ingest(talkFixture(t, "apple-log-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "l2@icloud.com"}))
	if out.Reason != "log already sent today" {
		t.Fatalf("second log: %+v", out)
	}
	r.step()
	for _, m := range r.got[n:] {
		if m.To != menteeAddr || m.Kind != "talk" {
			t.Errorf("sent %s to %s", m.Kind, m.To)
		}
	}
	// The next day it goes again, to the address on file only.
	r.now = r.now.Add(25 * time.Hour)
	n = len(r.got)
	if out := r.ingest(talkFixture(t, "apple-log-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "l3@icloud.com"})); out.Reason != "log sent" {
		t.Fatalf("next day: %+v", out)
	}
	r.step()
	if m := r.sentSince(n, "talk", ""); len(m) != 1 || m[0].To != menteeAddr || attachment(t, m[0].Raw, "progress-log.md") == "" {
		t.Errorf("the log went elsewhere or without its attachment")
	}
	// The mentor has no log to ask for.
	if out := r.ingest(talkFixture(t, "apple-log-en.eml", map[string]string{"FROM": mentorAddr, "MSGID": "l4@icloud.com"})); !strings.Contains(out.Reason, "mentee-only") {
		t.Errorf("the mentor's request: %+v", out)
	}
}

// attachment returns the decoded attachment called name.
func attachment(t *testing.T, raw []byte, name string) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct string, h interface{ Get(string) string }, body io.Reader) string
	walk = func(ct string, h interface{ Get(string) string }, body io.Reader) string {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextPart()
				if err != nil {
					return ""
				}
				if s := walk(p.Header.Get("Content-Type"), p.Header, p); s != "" {
					return s
				}
			}
		}
		if _, dp, _ := mime.ParseMediaType(h.Get("Content-Disposition")); dp["filename"] == name {
			b, _ := io.ReadAll(body)
			if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64") {
				b = decodeB64(t, b)
			}
			return string(b)
		}
		return ""
	}
	return walk(m.Header.Get("Content-Type"), m.Header, m.Body)
}

func TestTalkStop(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	inv := r.inviteOf(t, 3, menteeAddr)
	out := r.ingest(talkFixture(t, "outlook-stop-en.eml", replyFields(t, inv, menteeAddr, "s1@eurprd.outlook.com")))
	if out.Outcome != store.OutcomeLogged || out.Reason != "stop requested" {
		t.Fatalf("stop: %+v", out)
	}
	r.step()
	if m := r.sentSince(n, "notice", "admin@example.org"); len(m) != 1 || !strings.Contains(flat(t, m[0].Raw), "wish to stop taking part") {
		t.Errorf("the admin was not told")
	}
	if m := r.sentSince(n, "talk", menteeAddr); len(m) != 1 || !strings.Contains(flat(t, m[0].Raw), "will get in touch") {
		t.Errorf("the sender was not answered")
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM pairs WHERE status = 'active'`) != 1 {
		t.Errorf("a stop request ended the pair by itself")
	}
	stops, _ := store.StopRequests(context.Background(), r.db.R())
	if len(stops) != 1 {
		t.Errorf("stop requests = %d", len(stops))
	}
}

// A mentor's written proposal to the invite (Gmail, English), accepted by
// the mentee's reply (Apple Mail, Danish): the session moves, SEQUENCE+1,
// and both get the update.
func TestTalkMoveByEmail(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	sid := r.sessionID(3)
	var before store.Session
	r.db.R().Get(&before, `SELECT * FROM sessions WHERE id = ?`, sid)
	inv := r.inviteOf(t, 3, mentorAddr)
	out := r.ingest(talkFixture(t, "gmail-move-en.eml", replyFields(t, inv, mentorAddr, "m1@mail.gmail.com")))
	if out.Outcome != store.OutcomeLogged || !strings.Contains(out.Reason, "mentor proposes 2027-03-11T14:00:00Z") {
		t.Fatalf("proposal: %+v", out)
	}
	r.step()
	ask := r.sentSince(n, "talk", menteeAddr)
	if len(ask) != 1 || !strings.Contains(flat(t, ask[0].Raw), "Ada Lovelace proposes to move") ||
		!strings.Contains(flat(t, ask[0].Raw), "> Sorry, I'm at a conference") {
		t.Fatalf("the mentee was not asked, with the mentor's words quoted")
	}
	if m := r.sentSince(n, "talk", mentorAddr); len(m) != 1 || !strings.Contains(flat(t, m[0].Raw), "We have asked Bo Jensen") {
		t.Errorf("the proposer was not told")
	}
	n = len(r.got)
	out = r.ingest(talkFixture(t, "apple-yes-da.eml", replyFields(t, ask[0], menteeAddr, "y@icloud.com")))
	if out.Outcome != store.OutcomeLogged || !strings.Contains(out.Reason, "accepted") {
		t.Fatalf("yes: %+v", out)
	}
	var after store.Session
	r.db.R().Get(&after, `SELECT * FROM sessions WHERE id = ?`, sid)
	want := time.Date(2027, 3, 11, 15, 0, 0, 0, cph(t))
	if !after.StartsAt.Equal(want) || after.Sequence != before.Sequence+1 {
		t.Fatalf("session = %v seq %d, want %v seq %d", after.StartsAt, after.Sequence, want, before.Sequence+1)
	}
	r.step()
	for _, to := range []string{menteeAddr, mentorAddr} {
		ups := r.sentSince(n, "update", to)
		if len(ups) != 1 {
			t.Fatalf("updates to %s = %d", to, len(ups))
		}
		method, ev := calendarOf(t, ups[0].Raw)
		start, _ := ev.Props.DateTime(ical.PropDateTimeStart, time.UTC)
		if seq := ev.Props.Get(ical.PropSequence).Value; method != "REQUEST" || seq != "1" || !start.Equal(want) {
			t.Errorf("update to %s: %s SEQUENCE %s DTSTART %v", to, method, seq, start)
		}
	}
}

// A mentee's written decline of an invite without a new time (Outlook,
// Danish): it counts as a decline, the mentor is told as for a calendar's
// decline (without the mentee's words), the admin is told, and the mentee
// hears a person will read it.
func TestTalkWrittenDeclineTellsTheOther(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	sid := r.sessionID(3)
	inv := r.inviteOf(t, 3, menteeAddr)
	out := r.ingest(talkFixture(t, "outlook-decline-da.eml", replyFields(t, inv, menteeAddr, "d1@EURPRD10.PROD.OUTLOOK.COM")))
	if out.Outcome != store.OutcomeLogged || !strings.Contains(out.Reason, "mentee declined in writing") {
		t.Fatalf("written decline: %+v", out)
	}
	var partstat string
	r.db.R().Get(&partstat, `SELECT partstat FROM session_attendees a JOIN people p ON p.id = a.person_id
		WHERE a.session_id = ? AND p.email = ?`, sid, menteeAddr)
	if partstat != store.PartstatDeclined {
		t.Errorf("the mentee's answer is %q, want DECLINED", partstat)
	}
	told := r.told(t, "declined")
	says(t, "the mentor", told[mentorAddr], []string{"Bo Jensen", "declined", "session 3 of 12"}, "kursus", "Odense")
	if len(told) != 1 {
		t.Errorf("the decline notice went to %d people, want the mentor alone (the admin hears by a notice)", len(told))
	}
	r.step()
	if m := r.sentSince(n, "talk", menteeAddr); len(m) != 1 {
		t.Errorf("the mentee got %d answers, want 1", len(m))
	}
	admin := r.sentSince(n, "notice", adminAddr)
	if len(admin) != 1 || !strings.Contains(flat(t, admin[0].Raw), "wrote that they cannot come to the session") {
		for _, m := range r.got[n:] {
			t.Logf("sent %s to %s", m.Kind, m.To)
		}
		t.Errorf("the admin was not told of the decline: %d messages", len(admin))
	}
}

func cph(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A calendar's "propose new time" for a session already held is declined
// at once, with a DECLINECOUNTER; an unclear written time is asked back.
func TestTalkCounterQuestioned(t *testing.T) {
	r := newReading(t, talkAdmin)
	n := len(r.got)
	if out := r.ingest(r.counter(t, "Could we do Thursday?")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("counter: %+v", out)
	}
	r.step()
	m := r.sentSince(n, "talk", mentorAddr)
	if len(m) != 1 {
		t.Fatalf("answers to the proposer = %d", len(m))
	}
	if method, ev := calendarOf(t, m[0].Raw); method != "DECLINECOUNTER" || ev.Props.Get(ical.PropSequence).Value != "0" {
		t.Errorf("DECLINECOUNTER: %s", method)
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM moves WHERE settled_reason = 'past'`) != 1 {
		t.Errorf("the proposal was not settled as past")
	}
	// "Tuesday the 14th at 3" names a Thursday and no half of the day.
	inv := r.inviteOf(t, 3, mentorAddr)
	f := replyFields(t, inv, mentorAddr, "m2@mail.gmail.com")
	raw := strings.Replace(string(talkFixture(t, "gmail-move-en.eml", f)), "Thursday the 11th at\r\n15:00", "Tuesday the 11th at\r\n3", 1)
	if out := r.ingest([]byte(raw)); !strings.Contains(out.Reason, "move questioned: unclear") {
		t.Fatalf("unclear: %+v", out)
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM proposals WHERE status = 'open'`) != 0 {
		t.Errorf("an unclear time became a proposal")
	}
}

// The admin digest lists what needs a person, once a day.
func TestTalkAdminDigest(t *testing.T) {
	r := newReading(t, talkAdmin)
	r.ingest(talkFixture(t, "gmail-question-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "q1@mail.gmail.com"}))
	at := time.Date(2027, 2, 10, 9, 30, 0, 0, cph(t))
	for i := 0; i < 2; i++ {
		if _, err := converse.Tick(context.Background(), r.db, r.cfg, r.tpl, at, r.log); err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		Key string `db:"idempotency_key"`
	}
	r.db.R().Select(&rows, `SELECT idempotency_key FROM outbox WHERE recipient = 'admin@example.org' AND idempotency_key LIKE 'admin-digest:%'`)
	if len(rows) != 1 {
		t.Fatalf("digests = %d, want 1", len(rows))
	}
	text := r.outboxText(t, "notice")["admin@example.org"]
	if !strings.Contains(text, "Bo Jensen <bo@example.org>") || strings.Contains(text, "parking permit") {
		t.Errorf("the digest should name who, and hold no content:\n%s", text)
	}
	// 29 days after the first meeting, within timings.agreement_within (30d).
	if strings.Contains(text, "no agreement") {
		t.Errorf("the digest lists a pair without an agreement before timings.agreement_within:\n%s", text)
	}
}

// A pair without an agreement both confirmed timings.agreement_within after
// the first meeting is listed in the admin digest, and leaves it once both
// confirmed.
func TestDigestListsPairsWithoutAgreement(t *testing.T) {
	r := newReading(t, talkAdmin)
	r.cfg.Timings.AgreementWithin = config.Duration(20 * 24 * time.Hour)
	at := time.Date(2027, 2, 10, 9, 30, 0, 0, cph(t))
	if _, err := converse.Tick(context.Background(), r.db, r.cfg, r.tpl, at, r.log); err != nil {
		t.Fatal(err)
	}
	text := r.outboxText(t, "notice")["admin@example.org"]
	want := fmt.Sprintf("pair %d (Ada Lovelace with Bo Jensen): no agreement both confirmed since their first meeting on Tue 12 Jan 2027", r.pairID)
	if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
		t.Fatalf("the digest lacks %q:\n%s", want, text)
	}
	for _, to := range []string{menteeAddr, mentorAddr} {
		if out := r.replyAs(t, "agreement", to, to, "agree-"+to, "I agree"); out.Outcome != store.OutcomeLogged {
			t.Fatalf("confirm by %s: %s (%s)", to, out.Outcome, out.Reason)
		}
	}
	a, err := converse.LoadAttention(context.Background(), r.db.R(), r.now, r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil || len(a.Unagreed) != 0 {
		t.Errorf("after both confirmed: unagreed %v, %v", a.Unagreed, err)
	}
}

// The admin releases a kept message after fixing its cause: it is read
// again on the same row, and releasing it twice changes nothing twice.
func TestTalkReleaseKept(t *testing.T) {
	r := newReading(t, talkAdmin)
	// From an address not yet on file: a stranger's, unrelated.
	raw := talkFixture(t, "gmail-checkin-en.eml", map[string]string{"FROM": "bo.jensen@private.example", "MSGID": "r1@mail.gmail.com"})
	out := r.ingest(raw)
	if out.Outcome != store.OutcomeUnrelated {
		t.Fatalf("unknown address: %+v", out)
	}
	// Released as it is, it is still a stranger's.
	if res, err := r.reader.Release(context.Background(), out.InboundID); err != nil || res.Outcome != store.OutcomeUnrelated {
		t.Fatalf("release of a stranger's message: %+v, %v", res, err)
	}
	// The admin learns it is Bo's new address and changes it: released, it is Bo's check-in.
	if err := r.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`UPDATE people SET email = 'bo.jensen@private.example' WHERE email = ?`, menteeAddr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.reader.Release(context.Background(), out.InboundID); err != nil || res.Reason != "check-in" {
		t.Fatalf("release after the address changed: %+v, %v", res, err)
	}
	if _, err := r.reader.Release(context.Background(), out.InboundID); err == nil {
		t.Fatalf("a message released and logged was released again")
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM checkins`) != 1 {
		t.Fatalf("check-ins after release = %d", r.mustCount(t, `SELECT COUNT(*) FROM checkins`))
	}
	if err := r.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`UPDATE people SET email = ? WHERE email = 'bo.jensen@private.example'`, menteeAddr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The same text, kept (a question), then released: still kept, told once.
	q := r.ingest(talkFixture(t, "gmail-question-en.eml", map[string]string{"FROM": menteeAddr, "MSGID": "r2@mail.gmail.com"}))
	if q.Outcome != store.OutcomeKept {
		t.Fatalf("question: %+v", q)
	}
	before := r.mustCount(t, `SELECT COUNT(*) FROM outbox`)
	for i := 0; i < 2; i++ {
		res, err := r.reader.Release(context.Background(), q.InboundID)
		if err != nil || res.Outcome != store.OutcomeKept {
			t.Fatalf("release %d: %+v, %v", i, res, err)
		}
	}
	if got := r.mustCount(t, `SELECT COUNT(*) FROM outbox`); got != before {
		t.Errorf("releasing sent %d messages again", got-before)
	}
	if r.mustCount(t, `SELECT COUNT(*) FROM inbound`) != 2 { // the stranger's (now Bo's) and the question
		t.Errorf("releasing made new inbound rows")
	}
	// Dismissed, it is no longer waiting.
	if err := r.db.Tx(context.Background(), func(tx *sqlx.Tx) error { return store.DismissInbound(context.Background(), tx, q.InboundID, r.now) }); err != nil {
		t.Fatal(err)
	}
	if items, _ := store.ListInbox(context.Background(), r.db.R(), false, 10); len(items) != 0 {
		t.Errorf("inbox after dismiss = %+v", items)
	}
	if _, err := r.reader.Release(context.Background(), q.InboundID); err == nil {
		t.Errorf("a dismissed message was released")
	}
}

// A calendar's proposal for a session to come is asked of the mentee; her
// no sends the mentor a DECLINECOUNTER and tells the admin. A written one
// nobody answers is declined when timings.move_wait has passed.
func TestTalkMoveDeclinedAndTimedOut(t *testing.T) {
	r := newReading(t, talkAdmin)
	s3 := r.sessionID(3)
	var s store.Session
	r.db.R().Get(&s, `SELECT * FROM sessions WHERE id = ?`, s3)
	proposed := s.StartsAt.AddDate(0, 0, -1).Add(time.Hour) // Thursday 11 March, 15:00 in Copenhagen
	const f = "20060102T150405Z"
	inv := r.inviteOf(t, 3, mentorAddr)
	_, ev := calendarOf(t, inv.Raw)
	uid := ev.Props.Get(ical.PropUID).Value
	counter := strings.ReplaceAll(fmt.Sprintf(`From: <%[1]s>
To: mentoring@example.org
Subject: New Time Proposed: Mentoring
Message-ID: <counter.3@outlook.example>
MIME-Version: 1.0
Content-Type: text/calendar; charset=UTF-8; method=COUNTER

BEGIN:VCALENDAR
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
METHOD:COUNTER
BEGIN:VEVENT
UID:%[2]s
RECURRENCE-ID:%[3]s
SEQUENCE:0
DTSTAMP:%[4]s
DTSTART:%[5]s
DTEND:%[6]s
ATTENDEE;PARTSTAT=TENTATIVE;CN=Ada:mailto:%[1]s
COMMENT:At a conference on Friday\, sorry.
END:VEVENT
END:VCALENDAR
`, mentorAddr, uid, s.StartsAt.UTC().Format(f), r.now.UTC().Format(f), proposed.UTC().Format(f), proposed.Add(time.Hour).UTC().Format(f)), "\n", "\r\n")
	n := len(r.got)
	if out := r.ingest([]byte(counter)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("counter: %+v", out)
	}
	r.step()
	ask := r.sentSince(n, "talk", menteeAddr)
	if len(ask) != 1 || !strings.Contains(flat(t, ask[0].Raw), "> At a conference on Friday, sorry.") {
		t.Fatalf("the mentee was not asked, with the comment quoted")
	}
	n = len(r.got)
	no := "From: Bo Jensen <{{FROM}}>\nTo: {{TO}}\nSubject: Re: {{SUBJECT}}\nMessage-ID: <{{MSGID}}>\nIn-Reply-To: <{{INREPLYTO}}>\n" +
		"Date: Tue, 9 Feb 2027 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\nNo, sorry, Thursdays I teach all day.\n"
	if out := r.ingest(fill(no, replyFields(t, ask[0], menteeAddr, "no1@example.org"))); !strings.Contains(out.Reason, "declined") {
		t.Fatalf("no: %+v", out)
	}
	r.step()
	m := r.sentSince(n, "talk", mentorAddr)
	if len(m) != 1 {
		t.Fatalf("answers to the mentor = %d", len(m))
	}
	if method, ev := calendarOf(t, m[0].Raw); method != "DECLINECOUNTER" || ev.Props.Get(ical.PropUID).Value != uid {
		t.Errorf("the mentor's calendar gets %s", method)
	}
	if len(r.sentSince(n, "notice", "admin@example.org")) != 1 {
		t.Errorf("the admin was not told")
	}
	var after store.Session
	r.db.R().Get(&after, `SELECT * FROM sessions WHERE id = ?`, s3)
	if !after.StartsAt.Equal(s.StartsAt) || after.Sequence != s.Sequence {
		t.Errorf("a declined proposal moved the session")
	}

	// A written proposal nobody answers: declined after move_wait (3 days).
	f2 := replyFields(t, r.inviteOf(t, 3, mentorAddr), mentorAddr, "m9@mail.gmail.com")
	if out := r.ingest(talkFixture(t, "gmail-move-en.eml", f2)); !strings.Contains(out.Reason, "proposes") {
		t.Fatalf("written proposal: %+v", out)
	}
	res, err := converse.Tick(context.Background(), r.db, r.cfg, r.tpl, r.now.Add(72*time.Hour+time.Minute), r.log)
	if err != nil || res.Acted == 0 {
		t.Fatalf("Tick = %+v, %v", res, err)
	}
	var reason string
	r.db.R().Get(&reason, `SELECT settled_reason FROM moves ORDER BY proposal_id DESC LIMIT 1`)
	if reason != "timeout" {
		t.Errorf("the unanswered proposal was settled %q", reason)
	}
	n = len(r.got)
	r.now = r.now.Add(72*time.Hour + time.Minute)
	r.step()
	told := 0
	for _, m := range r.sentSince(n, "talk", mentorAddr) {
		if strings.Contains(flat(t, m.Raw), "no answer came in time") {
			told++
		}
	}
	if told != 1 {
		t.Errorf("the proposer was told %d times that it timed out", told)
	}
}

// Nothing a participant sends ends unseen in Unrelated: what mentord cannot
// read as a reply is kept for the admin when its From is on the roster.
func TestTalkParticipantsOtherMailIsKept(t *testing.T) {
	r := newReading(t, talkAdmin)
	report := "From: Bo Jensen <{{FROM}}>\nTo: mentoring@example.org\nSubject: Abuse report\nMessage-ID: <{{MSGID}}>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nA report.\n" +
		"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n--b--\n"
	if out := r.ingest(fill(report, map[string]string{"FROM": menteeAddr, "MSGID": "arf1@example.org"})); out.Outcome != store.OutcomeKept {
		t.Fatalf("a participant's report: %+v", out)
	}
	if out := r.ingest(fill(report, map[string]string{"FROM": "abuse@isp.example", "MSGID": "arf2@isp.example"})); out.Outcome != store.OutcomeUnrelated {
		t.Fatalf("a stranger's report: %+v", out)
	}
	items, err := store.ListInbox(context.Background(), r.db.R(), false, 10)
	if err != nil || len(items) != 1 || items[0].From != menteeAddr {
		t.Errorf("inbox = %+v, %v", items, err)
	}
}
