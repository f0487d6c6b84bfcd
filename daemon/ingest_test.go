package daemon

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
)

// reading is a pair whose first planning checklist has been sent.
type reading struct {
	*sim
	reader    *ingest.Reader
	checklist simMsg
	token     string
	pairID    int64
}

const (
	menteeAddr = "bo@example.org"
	mentorAddr = "ada@example.com"
)

func newReading(t testing.TB, extra string) *reading {
	t.Helper()
	s := newSim(t, utc("2026-12-01T09:00Z"), extra)
	pairID := addPair(t, s.roster, admin.PairInput{
		MentorName: "Ada Lovelace", MentorEmail: mentorAddr, MenteeName: "Bo Jensen", MenteeEmail: menteeAddr,
		TZ: "Europe/Copenhagen", Start: "2027-01-12T14:00", Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 4.12",
		SharePlans: "yes",
	})
	s.runUntil(utc("2027-02-09T08:00Z")) // a month of mail, to the second (regular) session's checklist
	r := &reading{sim: s, pairID: pairID, reader: &ingest.Reader{DB: s.db, Cfg: s.cfg, Tpl: s.tpl, Log: s.log, Now: func() time.Time { return s.now }}}
	for _, m := range s.got {
		if m.Kind == "checklist" {
			r.checklist = m
		}
	}
	if r.checklist.Raw == nil {
		t.Fatal("no checklist was sent")
	}
	replyTo, err := mail.ParseAddress(headerOf(t, r.checklist.Raw, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	r.token = replyTo.Address
	return r
}

// replyMsg is a reply as Gmail writes it: the typed text on top, the original quoted.
func (r *reading) replyMsg(from, to, msgID, typed string) []byte {
	r.t.Helper()
	orig := r.checklist
	quoted := "> " + strings.ReplaceAll(strings.TrimSpace(textOf(r.t, orig.Raw)), "\n", "\n> ")
	body := typed + "\n\nOn Tue, 9 Feb 2027 at 09:00, Staff Mentoring <mentoring@example.org> wrote:\n" + quoted + "\n"
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: Bo Jensen <%s>
To: %s
Subject: Re: %s
Date: Sat, 9 Jan 2027 18:30:00 +0100
Message-ID: <%s>
In-Reply-To: %s
References: %s
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

%s`, from, to, headerOf(r.t, orig.Raw, "Subject"), msgID, orig.MessageID, orig.MessageID, body), "\n", "\r\n"))
}

func (r *reading) ingest(raw []byte) ingest.Outcome {
	r.t.Helper()
	out, err := r.reader.Ingest(context.Background(), raw, ingest.Source{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(r.count("inbound") + 1)})
	if err != nil {
		r.t.Fatalf("Ingest = %v", err)
	}
	return out
}

func (r *reading) count(table string) int {
	r.t.Helper()
	var n int
	if err := r.db.R().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *reading) answers() map[int]string {
	r.t.Helper()
	var es []store.Entry
	if err := r.db.R().Select(&es, `SELECT * FROM progress_entries WHERE superseded_by IS NULL ORDER BY question_no`); err != nil {
		r.t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range es {
		out[e.QuestionNo] = e.Answer
	}
	return out
}

const typedAnswers = `Hi, here is my plan.

1. Got the grant draft to the research office.

2. Did not call the department head.

5. - Send the draft to two colleagues
   - Book the room for the group day

6. Help me think about delegating.

Best,
Bo`

func TestReplyLoggedAndAcknowledged(t *testing.T) {
	r := newReading(t, "")
	out := r.ingest(r.replyMsg(menteeAddr, r.token, "reply1@mail.example.org", typedAnswers))
	if out.Outcome != store.OutcomeLogged || out.Answers != 4 {
		t.Fatalf("outcome = %+v", out)
	}
	got := r.answers()
	if !strings.Contains(got[1], "grant draft") || !strings.Contains(got[6], "delegating") || got[3] != "" {
		t.Errorf("answers = %v", got)
	}
	var items []string
	r.db.R().Select(&items, `SELECT text FROM action_items ORDER BY id`)
	if len(items) != 2 || items[0] != "Send the draft to two colleagues" {
		t.Errorf("action items = %q", items)
	}
	var replied int
	r.db.R().Get(&replied, `SELECT COUNT(*) FROM prompts WHERE purpose = 'checklist' AND replied_at IS NOT NULL`)
	if replied != 1 {
		t.Errorf("the checklist is not marked answered")
	}
	// The mentee is told what was recorded; no nudge follows an answered checklist.
	r.runUntil(utc("2027-02-12T12:00Z"))
	var kinds []string
	for _, m := range r.got {
		if m.To == menteeAddr && !m.At.Before(utc("2027-02-09T08:00Z")) && m.Kind != "invite" && m.Kind != "checklist" {
			kinds = append(kinds, m.Kind)
		}
	}
	if strings.Join(kinds, ",") != "ack" {
		t.Errorf("to the mentee after the reply: %v, want only the acknowledgement", kinds)
	}
	for _, m := range r.got {
		if m.Kind == "ack" && !strings.Contains(textOf(t, m.Raw), "Got the grant draft to the research office.") {
			t.Errorf("the acknowledgement does not quote the answer:\n%s", textOf(t, m.Raw))
		}
		if m.Kind == "brief" && m.At.After(utc("2027-02-09T08:00Z")) && !strings.Contains(textOf(t, m.Raw), "Help me think about delegating.") {
			t.Errorf("the mentor's brief lacks the support asked for:\n%s", textOf(t, m.Raw))
		}
		// The consent question names topics and support: what was done,
		// not done and promised stays in the mentee's own log.
		for _, own := range []string{"grant draft", "department head", "Book the room"} {
			if m.Kind == "brief" && strings.Contains(textOf(t, m.Raw), own) {
				t.Errorf("the mentor's brief carries %q, which the mentee did not agree to share:\n%s", own, textOf(t, m.Raw))
			}
		}
	}
}

func TestRedeliveredTenTimesChangesOnce(t *testing.T) {
	r := newReading(t, "")
	raw := r.replyMsg(menteeAddr, r.token, "reply1@mail.example.org", typedAnswers)
	for i := 0; i < 10; i++ {
		out := r.ingest(raw)
		if i > 0 && !out.Duplicate {
			t.Fatalf("delivery %d was not recognised as a duplicate", i+1)
		}
	}
	if n := r.count("progress_entries"); n != 4 {
		t.Errorf("%d progress entries after 10 deliveries, want 4", n)
	}
	if n := r.count("inbound"); n != 1 {
		t.Errorf("%d inbound rows", n)
	}
	r.step() // the schedule's next pass composes the acknowledgement
	r.step()
	var acks int
	r.db.R().Get(&acks, `SELECT COUNT(*) FROM outbox WHERE kind = 'ack'`)
	if acks != 1 {
		t.Errorf("%d acknowledgements", acks)
	}
}

func TestLaterReplyCorrects(t *testing.T) {
	r := newReading(t, "")
	r.ingest(r.replyMsg(menteeAddr, r.token, "reply1@mail.example.org", typedAnswers))
	r.ingest(r.replyMsg(menteeAddr, r.token, "reply2@mail.example.org", "1. Sent the grant draft AND the budget.\n\n3. Time."))
	got := r.answers()
	if !strings.Contains(got[1], "budget") || got[3] != "Time." || !strings.Contains(got[6], "delegating") {
		t.Errorf("answers after the correction = %v", got)
	}
	var history int
	r.db.R().Get(&history, `SELECT COUNT(*) FROM progress_entries WHERE question_no = 1`)
	if history != 2 {
		t.Errorf("question 1 has %d entries, want the first kept as history", history)
	}
}

func TestReplyChecks(t *testing.T) {
	for _, c := range []struct {
		name, extra, from, header, want, reason string
	}{
		{"mentor uses the mentee's token", "", mentorAddr, "", store.OutcomeQuarantined, "sender_mismatch"},
		{"stranger", "", "eve@evil.example", "", store.OutcomeQuarantined, "sender_mismatch"},
		{"dmarc fail from our server", "imap: {host: 127.0.0.1, port: 1143, tls: none, password_file: /dev/null, authserv_id: mx.example.org}", menteeAddr,
			"Authentication-Results: mx.example.org; spf=fail; dmarc=fail header.from=example.org\n", store.OutcomeQuarantined, "dmarc_fail"},
		{"dmarc fail from another server", "imap: {host: 127.0.0.1, port: 1143, tls: none, password_file: /dev/null, authserv_id: mx.example.org}", menteeAddr,
			"Authentication-Results: mx.evil.example; dmarc=fail\n", store.OutcomeLogged, ""},
		{"dmarc pass", "imap: {host: 127.0.0.1, port: 1143, tls: none, password_file: /dev/null, authserv_id: mx.example.org}", menteeAddr,
			"Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n", store.OutcomeLogged, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReading(t, c.extra)
			raw := r.replyMsg(c.from, r.token, "x@mail.example.org", typedAnswers)
			raw = append([]byte(strings.ReplaceAll(c.header, "\n", "\r\n")), raw...)
			before := r.count("outbox")
			out := r.ingest(raw)
			if out.Outcome != c.want || !strings.Contains(out.Reason, c.reason) {
				t.Errorf("outcome = %+v, want %s %s", out, c.want, c.reason)
			}
			if c.want == store.OutcomeQuarantined && (r.count("progress_entries") != 0 || r.count("outbox") != before) {
				t.Errorf("a quarantined reply changed the log or sent mail")
			}
		})
	}
}

// Without a token (Exchange has no plus-addressing), a reply is tied by its
// In-Reply-To; forged references from a stranger are quarantined.
func TestThreadMatch(t *testing.T) {
	r := newReading(t, "")
	out := r.ingest(r.replyMsg(menteeAddr, "mentoring@example.org", "t1@mail.example.org", typedAnswers))
	if out.Outcome != store.OutcomeLogged {
		t.Errorf("reply by thread: %+v", out)
	}
	out = r.ingest(r.replyMsg("eve@evil.example", "mentoring@example.org", "t2@mail.example.org", typedAnswers))
	if out.Outcome != store.OutcomeQuarantined {
		t.Errorf("stranger with our references: %+v", out)
	}
	raw := []byte(strings.ReplaceAll("From: someone@example.net\nTo: mentoring@example.org\nSubject: Hello\nMessage-ID: <u1@example.net>\n\nA question about the programme.\n", "\n", "\r\n"))
	if out := r.ingest(raw); out.Outcome != store.OutcomeUnrelated {
		t.Errorf("unrelated mail: %+v", out)
	}
}

func TestEmptyAndAutoRepliesChangeNothing(t *testing.T) {
	r := newReading(t, "")
	before := r.count("outbox")
	if out := r.ingest(r.replyMsg(menteeAddr, r.token, "e1@mail.example.org", "")); out.Outcome != store.OutcomeIgnored {
		t.Errorf("empty reply: %+v", out)
	}
	ooo := strings.ReplaceAll(`From: Bo Jensen <bo@example.org>
To: mentoring@example.org
Subject: Automatic reply: compose.Plan your mentoring session
Auto-Submitted: auto-replied
Message-ID: <ooo1@mail.example.org>
In-Reply-To: `+r.checklist.MessageID+`

I am out of the office until 20 January.
`, "\n", "\r\n")
	if out := r.ingest([]byte(ooo)); out.Outcome != store.OutcomeIgnored || out.Kind != "auto_reply" {
		t.Errorf("auto-reply: %+v", out)
	}
	if r.count("progress_entries") != 0 || r.count("outbox") != before {
		t.Errorf("an empty reply or auto-reply changed the log or sent mail")
	}
}

// The chemistry checklist asks whether the mentor may read the plans; a clear
// yes or no is the mentee's choice, anything else leaves it as it was, and
// the brief and the receipt follow it.
func TestShareAnswerSetsConsent(t *testing.T) {
	r := newReading(t, "") // added with share-plans yes
	regular := r.checklist
	var chemistry simMsg
	for _, m := range r.got {
		if m.Kind == "checklist" && chemistry.Raw == nil {
			chemistry = m
		}
	}
	q8 := "8. Do I want my mentor to read, the day before each session, the topics I want to discuss, the support I ask for and my check-ins? (yes or no)"
	if !strings.Contains(strings.Join(strings.Fields(textOf(t, chemistry.Raw)), " "), q8) {
		t.Fatalf("the chemistry checklist does not ask %q:\n%s", q8, textOf(t, chemistry.Raw))
	}
	shares := func() bool {
		var share bool
		if err := r.db.R().Get(&share, `SELECT share_plans FROM pairs WHERE id = ?`, r.pairID); err != nil {
			t.Fatal(err)
		}
		return share
	}
	answer := func(to simMsg, id, typed string) {
		t.Helper()
		replyTo, err := mail.ParseAddress(headerOf(t, to.Raw, "Reply-To"))
		if err != nil {
			t.Fatal(err)
		}
		r.checklist, r.token = to, replyTo.Address
		if out := r.ingest(r.replyMsg(menteeAddr, r.token, id, typed)); out.Outcome != store.OutcomeLogged {
			t.Fatalf("%q: %+v", typed, out)
		}
	}
	lastAck := func() string {
		t.Helper()
		r.step()
		for i := len(r.got) - 1; i >= 0; i-- {
			if r.got[i].Kind == "ack" {
				return strings.Join(strings.Fields(textOf(t, r.got[i].Raw)), " ")
			}
		}
		t.Fatal("no receipt was sent")
		return ""
	}

	answer(chemistry, "c1@mail.example.org", "1. A sparring partner.\n\n8. No, I would rather keep my plans to myself.")
	if shares() {
		t.Error("a no left the plans shared")
	}
	if ack := lastAck(); !strings.Contains(ack, "Your plan is not shared with your mentor.") {
		t.Errorf("the receipt does not say the plan stays private:\n%s", ack)
	}
	answer(chemistry, "c2@mail.example.org", "8. Let me think about it until we meet.")
	if shares() {
		t.Error("an unclear answer changed the choice")
	}
	answer(regular, "r1@mail.example.org", typedAnswers)
	r.runUntil(utc("2027-02-12T12:00Z"))
	for _, m := range r.got {
		if m.Kind == "brief" && m.At.After(utc("2027-02-09T08:00Z")) {
			if text := textOf(t, m.Raw); strings.Contains(text, "delegating") || !strings.Contains(text, "prepares for the session privately") {
				t.Errorf("the brief after a no shows the plan:\n%s", text)
			}
		}
	}

	answer(chemistry, "c3@mail.example.org", "8. Ja, gerne.")
	if !shares() {
		t.Error("a yes left the plans private")
	}
	if ack := lastAck(); !strings.Contains(ack, "As you chose, your mentor reads the topics you want to discuss, the support you ask for and your check-ins") {
		t.Errorf("the receipt does not say the mentor reads the plan:\n%s", ack)
	}
}

// Without briefs there is nothing to share, and the question is not asked.
func TestNoShareQuestionWithoutBriefs(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "programme: {name: Staff Mentoring, mentor_brief: false}\n")
	addPair(t, s.roster, admin.PairInput{
		MentorName: "Ada Lovelace", MentorEmail: mentorAddr, MenteeName: "Bo Jensen", MenteeEmail: menteeAddr,
		TZ: "Europe/Copenhagen", Start: "2027-01-12T14:00", Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 4.12",
	})
	s.runUntil(utc("2027-01-10T08:00Z"))
	var n int
	for _, m := range s.got {
		if m.Kind == "checklist" {
			n++
			text := textOf(t, m.Raw)
			if strings.Contains(text, "Do I want my mentor to read") || !strings.Contains(text, "7. Is there anything else my mentor should know about me?") {
				t.Errorf("the chemistry checklist without briefs:\n%s", text)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d checklists, want the chemistry one", n)
	}
}
