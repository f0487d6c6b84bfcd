package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
)

// Tests of issue 12 at the level a mentee meets it: a checklist is sent, the
// mentee replies, the acknowledgement goes out in the same thread, and a
// reply to the acknowledgement corrects the log without taking any of the
// acknowledgement's own text for an answer.

// lastSent is the newest message of a kind delivered so far.
func (r *reading) lastSent(t *testing.T, kind string) simMsg {
	t.Helper()
	for i := len(r.got) - 1; i >= 0; i-- {
		if r.got[i].Kind == kind {
			return r.got[i]
		}
	}
	t.Fatalf("no %s was sent", kind)
	return simMsg{}
}

// outlookReply is a reply as Outlook for Windows writes it in plain text:
// the typed text on top, then an underscore rule and a From/Sent/To/Subject
// block, and the original under it without any prefix.
func outlookReply(t *testing.T, orig simMsg, msgID, typed string) []byte {
	t.Helper()
	replyTo, err := mail.ParseAddress(headerOf(t, orig.Raw, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	refs := strings.TrimSpace(headerOf(t, orig.Raw, "References") + " " + orig.MessageID)
	quoted := strings.ReplaceAll(strings.TrimRight(textOf(t, orig.Raw), "\r\n"), "\r\n", "\n")
	body := typed + "\n\nBo\n\n________________________________\n" +
		"From: Staff Mentoring <" + replyTo.Address + ">\n" +
		"Sent: Wednesday, February 10, 2027 09:00\n" +
		"To: Bo Jensen <bo@example.org>\n" +
		"Subject: " + headerOf(t, orig.Raw, "Subject") + "\n\n" + quoted + "\n"
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: Bo Jensen <bo@example.org>
To: Staff Mentoring <%s>
Subject: RE: %s
Date: Wed, 10 Feb 2027 18:05:00 +0100
Message-ID: <%s>
In-Reply-To: %s
References: %s
Thread-Topic: %s
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
X-Mailer: Microsoft Outlook 16.0

%s`, replyTo.Address, headerOf(t, orig.Raw, "Subject"), msgID, orig.MessageID, refs, headerOf(t, orig.Raw, "Subject"), body), "\n", "\r\n"))
}

func TestReplyToAcknowledgementFromOutlookCorrects(t *testing.T) {
	r := newReading(t, "")
	first := r.replyMsg(menteeAddr, r.token, "first.reply@mail.example.org", typedAnswers)
	if out := r.ingest(first); out.Outcome != store.OutcomeLogged || out.Answers != 4 {
		t.Fatalf("the first reply: %+v", out)
	}
	before := r.answers()
	r.step()
	ack := r.lastSent(t, "ack")

	// The acknowledgement is in the mentee's thread.
	if got := headerOf(t, ack.Raw, "In-Reply-To"); got != "<first.reply@mail.example.org>" {
		t.Errorf("the acknowledgement's In-Reply-To = %q, want the reply's Message-ID", got)
	}
	refs := strings.Fields(headerOf(t, ack.Raw, "References"))
	if len(refs) != 2 || refs[0] != r.checklist.MessageID || refs[1] != "<first.reply@mail.example.org>" {
		t.Errorf("the acknowledgement's References = %q, want the checklist's and the reply's", refs)
	}
	if got, want := headerOf(t, ack.Raw, "Subject"), "Re: "+headerOf(t, r.checklist.Raw, "Subject"); got != want {
		t.Errorf("the acknowledgement's Subject = %q, want %q", got, want)
	}

	correction := "2. I did call the department head after all, on Friday."
	out := r.ingest(outlookReply(t, ack, "AM0PR10MB1234.outlook@mail.example.org", correction))
	if out.Outcome != store.OutcomeLogged || out.Answers != 1 {
		t.Fatalf("the reply to the acknowledgement: %+v (want one answer logged)", out)
	}
	after := r.answers()
	if after[2] != "I did call the department head after all, on Friday." {
		t.Errorf("answer 2 after the correction = %q", after[2])
	}
	for n, a := range before {
		if n != 2 && after[n] != a {
			t.Errorf("answer %d changed from %q to %q", n, a, after[n])
		}
	}
	ackText := textOf(t, ack.Raw)
	var es []store.Entry
	if err := r.db.R().Select(&es, `SELECT * FROM progress_entries`); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, line := range strings.Split(e.Answer, "\n") {
			line = strings.TrimSpace(line)
			if len(line) > 12 && strings.Contains(ackText, line) && !strings.Contains(typedAnswers, line) {
				t.Errorf("answer %d holds the acknowledgement's text %q", e.QuestionNo, line)
			}
		}
	}
	var newText string
	if err := r.db.R().Get(&newText, `SELECT new_text FROM replies ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(newText, "progress log") || strings.Contains(newText, "department head?") {
		t.Errorf("the reply's new text holds the acknowledgement:\n%s", newText)
	}
}

// Outlook users often type inside the unprefixed quote, under the answer
// they correct: only what they typed there is new.
func TestInlineCorrectionInsideOutlookQuoteOfAcknowledgement(t *testing.T) {
	r := newReading(t, "")
	if out := r.ingest(r.replyMsg(menteeAddr, r.token, "first.reply@mail.example.org", typedAnswers)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("the first reply: %+v", out)
	}
	before := r.answers()
	r.step()
	ack := r.lastSent(t, "ack")
	raw := outlookReply(t, ack, "AM0PR10MB9.outlook@mail.example.org", "See my correction below.")
	// Typed under the acknowledgement's answer 2, inside the quote.
	old := "   Did not call the department head.\r\n"
	if !strings.Contains(string(raw), old) {
		t.Fatalf("the acknowledgement does not show answer 2 as expected:\n%s", raw)
	}
	raw = []byte(strings.Replace(string(raw), old, old+"\r\nBJ: Correction, I called him on Friday.\r\n", 1))
	// mentord inspect reads it as the inbox will, and says how it tied it.
	in, err := ingest.Inspect(context.Background(), raw, r.cfg, r.db.R())
	if err != nil || !strings.Contains(in.Answers["2"], "I called him on Friday") || in.Tied["2"] != "inline" || len(in.Answers) != 1 {
		t.Errorf("inspect: answers %q, tied %q (%v), want answer 2 typed inline", in.Answers, in.Tied, err)
	}
	out := r.ingest(raw)
	if out.Outcome != store.OutcomeLogged {
		t.Fatalf("the reply to the acknowledgement: %+v", out)
	}
	after := r.answers()
	if !strings.Contains(after[2], "I called him on Friday") || strings.Contains(after[2], "Did not call") {
		t.Errorf("answer 2 after the inline correction = %q", after[2])
	}
	for n, a := range before {
		if n != 2 && after[n] != a {
			t.Errorf("answer %d changed from %q to %q", n, a, after[n])
		}
	}
}

// A calendar answer about a UID mentord never sent (another organiser's
// meeting, a forwarded invite, an event deleted long ago) is for a person:
// it goes to Unrelated, changes nothing and tells nobody. One that also
// fails a check is still quarantined, and one for a known session still
// applies.
func TestCalendarAnswerForUnknownUIDIsForAPerson(t *testing.T) {
	ir := newIMAPReading(t)
	deliver := func(raw []byte) {
		t.Helper()
		if err := ir.dev.Deliver("mentoring@example.org", raw); err != nil {
			t.Fatal(err)
		}
	}
	// Stamped an hour ago by the real clock, which the inbox loop reads by.
	known := ir.rsvp(t, menteeAddr, menteeAddr, "REPLY", "ACCEPTED", 0, time.Now().Add(-time.Hour), "")
	uid := regexp.MustCompile(`\nUID:([^\r\n]+)`).FindSubmatch(known)[1]
	foreign := func(method, partstat, from string) []byte {
		raw := ir.rsvp(t, menteeAddr, from, method, partstat, 0, ir.now, "")
		return bytes.ReplaceAll(raw, append([]byte("UID:"), uid...), []byte("UID:someone-elses-meeting@calendar.example"))
	}
	deliver(foreign("REPLY", "DECLINED", menteeAddr))
	deliver(foreign("COUNTER", "NEEDS-ACTION", menteeAddr))
	deliver(withFrom(foreign("REPLY", "ACCEPTED", menteeAddr), "bo@example.org, eve@evil.example")) // fails a check first
	deliver(known)
	before := ir.count("outbox")
	if err := ir.drainOnce(ir.dial()); err != nil {
		t.Fatal(err)
	}
	for folder, want := range map[string]int{"INBOX": 0, "Processed": 1, "Quarantine": 1, "Unrelated": 2} {
		if got := ir.folder(folder); got != want {
			t.Errorf("%s holds %d messages, want %d", folder, got, want)
		}
	}
	var reasons []string
	if err := ir.db.R().Select(&reasons, `SELECT reason FROM inbound WHERE outcome = 'unrelated' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	for _, r := range reasons {
		if !strings.Contains(r, "unknown UID someone-elses-meeting@calendar.example") {
			t.Errorf("unrelated for another reason: %q", r)
		}
	}
	if got := ir.partstat(t, menteeAddr); got != "ACCEPTED" {
		t.Errorf("the known session's answer: %s", got)
	}
	if n := ir.count("proposals"); n != 0 {
		t.Errorf("%d proposals stored from a foreign COUNTER", n)
	}
	if ir.count("outbox") != before {
		t.Error("a foreign calendar answer told someone")
	}
}

// ackText is the text of the newest acknowledgement, on one line.
func (r *reading) ackText(t *testing.T) string {
	t.Helper()
	r.step()
	return strings.Join(strings.Fields(textOf(t, r.lastSent(t, "ack").Raw)), " ")
}

// tiedBy is how each answer in force was tied to its question.
func (r *reading) tiedBy(t *testing.T) map[int]string {
	t.Helper()
	var es []store.Entry
	if err := r.db.R().Select(&es, `SELECT * FROM progress_entries WHERE superseded_by IS NULL`); err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range es {
		out[e.QuestionNo] = e.TiedBy
	}
	return out
}

// Prose answers without numbers are placed where a careful reader would
// place them, and never silently: the log records how, the acknowledgement
// says so under each such answer and how to correct it, and a numbered
// answer in a reply to the acknowledgement replaces the guess.
func TestProseAnswersArePlacedVisiblyAndCorrected(t *testing.T) {
	r := newReading(t, "")
	prose := "Hi,\n\n" +
		"Submitted the grant draft.\n\n" +
		"The call with the department head.\n\n" +
		"Too little time for my own research.\n\n" +
		"How to delegate supervision.\n\n" +
		"Book the room for the group day.\n\n" +
		"Listen, and push back when I overcommit.\n\n" +
		"Thanks,\nBo"
	if out := r.ingest(r.replyMsg(menteeAddr, r.token, "prose@mail.example.org", prose)); out.Outcome != store.OutcomeLogged || out.Answers != 6 {
		t.Fatalf("the prose reply: %+v, want six answers", out)
	}
	for n, tie := range r.tiedBy(t) {
		if tie != "order" {
			t.Errorf("answer %d tied by %q, want order", n, tie)
		}
	}
	ack := r.ackText(t)
	for _, want := range []string{
		"2. What didn't get done? The call with the department head. (No number: placed here as your 2nd paragraph.)",
		"If one is under the wrong question, send your answers again with numbers",
	} {
		if !strings.Contains(ack, want) {
			t.Errorf("the acknowledgement lacks %q:\n%s", want, ack)
		}
	}
	// The mentee corrects answer 2 by replying to the acknowledgement.
	out := r.ingest(outlookReply(t, r.lastSent(t, "ack"), "prose.fix@mail.example.org", "2. Nothing: I did everything I planned."))
	if out.Outcome != store.OutcomeLogged || out.Answers != 1 {
		t.Fatalf("the correction: %+v", out)
	}
	got, ties := r.answers(), r.tiedBy(t)
	if got[2] != "Nothing: I did everything I planned." || ties[2] != "number" || got[1] != "Submitted the grant draft." || ties[1] != "order" {
		t.Errorf("after the correction: answers %v, ties %v", got, ties)
	}
	if ack := r.ackText(t); strings.Contains(ack, "No number") || strings.Contains(ack, "wrong question") {
		t.Errorf("the acknowledgement of a numbered correction marks a guess:\n%s", ack)
	}

	// Paragraphs led by a question's topic are placed by it.
	out = r.ingest(r.replyMsg(menteeAddr, r.token, "topics@mail.example.org", "Support: a second pair of eyes on my budget.\n\nBo"))
	if out.Outcome != store.OutcomeLogged || out.Answers != 1 {
		t.Fatalf("the reply by topic: %+v", out)
	}
	if got, ties := r.answers(), r.tiedBy(t); !strings.Contains(got[6], "budget") || ties[6] != "topic" {
		t.Errorf("answer 6 = %q tied by %q, want the budget, by topic", got[6], ties[6])
	}
	if ack := r.ackText(t); !strings.Contains(ack, "(No number: placed here by the topic of your paragraph.)") {
		t.Errorf("the acknowledgement does not mark the answer placed by topic:\n%s", ack)
	}
}

// A sign-off with the roster's name ends the answer even when the From has
// no display name (or another one): the names mentord knows are passed on.
func TestRosterNameEndsTheAnswer(t *testing.T) {
	r := newReading(t, "")
	raw := r.replyMsg(menteeAddr, r.token, "signed@mail.example.org", "1. Sent the grant draft to the office.\n\nBo Jensen")
	raw = withFrom(raw, "bo@example.org")
	if out := r.ingest(raw); out.Outcome != store.OutcomeLogged {
		t.Fatalf("the reply: %+v", out)
	}
	if got := r.answers()[1]; got != "Sent the grant draft to the office." {
		t.Errorf("answer 1 = %q, want it without the sign-off", got)
	}
}

// Nothing a reply's header carries is written into the acknowledgement's
// header unless it is a msg-id: a hostile Message-ID leaves the
// acknowledgement out of any thread, hostile References are left out.
func TestHostileMessageIDsAreNotWrittenBack(t *testing.T) {
	for _, c := range []struct {
		name, msgID, refs string
		wantIRT, wantRefs string
	}{
		{"overlong", "<" + strings.Repeat("a", 400) + "@mail.example.org>", "", "", ""},
		{"quoted local part", `<"x> Bcc: victim@example.net <y"@mail.example.org>`, "", "", ""},
		{"spaces", "<a b@mail.example.org>", "", "", ""},
		{"folded with a header inside", "<ok1@mail.example.org\r\n X-Injected: yes>", "", "", ""},
		{"hostile references", "<ok2@mail.example.org>", "<bad ref@x> <" + strings.Repeat("r", 300) + "@x> <fine@x>",
			"<ok2@mail.example.org>", "<fine@x> <ok2@mail.example.org>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReading(t, "")
			raw := string(r.replyMsg(menteeAddr, r.token, "placeholder@mail.example.org", "1. An answer."))
			raw = strings.Replace(raw, "Message-ID: <placeholder@mail.example.org>", "Message-ID: "+c.msgID, 1)
			if c.refs != "" {
				raw = regexp.MustCompile(`(?m)^References: [^\r\n]*`).ReplaceAllLiteralString(raw, "References: "+c.refs)
			}
			if out := r.ingest([]byte(raw)); out.Outcome != store.OutcomeLogged {
				t.Fatalf("the reply: %+v", out)
			}
			r.step()
			ack := r.lastSent(t, "ack")
			if got := headerOf(t, ack.Raw, "In-Reply-To"); got != c.wantIRT {
				t.Errorf("In-Reply-To = %q, want %q", got, c.wantIRT)
			}
			if got := headerOf(t, ack.Raw, "References"); got != c.wantRefs {
				t.Errorf("References = %q, want %q", got, c.wantRefs)
			}
			head, _, _ := strings.Cut(string(ack.Raw), "\r\n\r\n")
			if strings.Contains(head, "victim") || strings.Contains(head, "X-Injected") || strings.Contains(head, "bad ref") {
				t.Errorf("the acknowledgement's header carries the hostile id:\n%s", head)
			}
			if c.wantIRT == "" && !strings.HasPrefix(headerOf(t, ack.Raw, "Subject"), "Recorded: ") {
				t.Errorf("outside a thread the acknowledgement's subject = %q, want the template's", headerOf(t, ack.Raw, "Subject"))
			}
		})
	}
}

// A nudge keeps its text too: answers typed inside an Outlook quote of it
// are found, and none of its own words is taken for one.
func TestOutlookReplyToNudge(t *testing.T) {
	r := newReading(t, "")
	r.runUntil(utc("2027-02-11T12:00Z"))
	nudge := r.lastSent(t, "nudge")
	var kept int
	if err := r.db.R().Get(&kept, `SELECT COUNT(*) FROM sent_texts t JOIN outbox o ON o.id = t.outbox_id WHERE o.message_id = ?`,
		strings.Trim(nudge.MessageID, "<>")); err != nil || kept != 1 {
		t.Fatalf("the nudge's text is kept %d times (%v), want once", kept, err)
	}
	raw := string(outlookReply(t, nudge, "nudge.reply@mail.example.org", "Sorry for the delay, answers below."))
	q4 := "4. What topics or issues do I want to discuss at the next session?\r\n"
	if !strings.Contains(raw, q4) {
		t.Fatalf("the nudge does not ask question 4 on a line of its own:\n%s", raw)
	}
	raw = strings.Replace(raw, q4, q4+"\r\nHow to say no to more committee work.\r\n\r\n", 1)
	if out := r.ingest([]byte(raw)); out.Outcome != store.OutcomeLogged || out.Answers != 1 {
		t.Fatalf("the reply to the nudge: %+v, want one answer", out)
	}
	if got := r.answers(); len(got) != 1 || got[4] != "How to say no to more committee work." {
		t.Errorf("answers = %v", got)
	}
}
