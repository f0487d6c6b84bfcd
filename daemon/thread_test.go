package daemon

import (
	"bytes"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

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
