package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
	mail "net/mail"
)

const pairProgramme = "programme: {name: Staff Mentoring, organisation: Example University, admin_email: admin@example.org, mentor_reflection: true}\n"

// replyAs replies from from to the last message of kind sent to to.
func (r *reading) replyAs(t *testing.T, kind, to, from, msgID, typed string) ingest.Outcome {
	t.Helper()
	for i := len(r.got) - 1; i >= 0; i-- {
		if m := r.got[i]; m.Kind == kind && m.To == to {
			r.checklist = m
			break
		}
	}
	if r.checklist.Kind != kind || r.checklist.To != to {
		t.Fatalf("no %s was sent to %s", kind, to)
	}
	replyTo, err := mail.ParseAddress(headerOf(t, r.checklist.Raw, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	return r.ingest(r.replyMsg(from, replyTo.Address, msgID, typed))
}

// A year in which both confirm the agreement (after one change), the mentee
// is not sure of the match at first and then is, and the mentor reflects
// after every session and evaluates the programme at the end: the mentor's
// words stay in the mentor's own log, and both get a record without them.
func TestPairRunsTheRelationship(t *testing.T) {
	r := newReading(t, pairProgramme)
	matches := func() int { return r.mustCount(t, `SELECT COUNT(*) FROM match_answers`) }

	// Only the person asked answers: a stranger's reply and the mentor's
	// with the mentee's token change nothing.
	if out := r.replyAs(t, "match", menteeAddr, "eve@example.net", "eve1@x", "No"); out.Outcome == store.OutcomeLogged {
		t.Errorf("a stranger's answer to the match check: %s (%s)", out.Outcome, out.Reason)
	}
	if out := r.replyAs(t, "match", menteeAddr, mentorAddr, "ada0@x", "No"); out.Outcome == store.OutcomeLogged {
		t.Errorf("the mentor's answer with the mentee's token: %s (%s)", out.Outcome, out.Reason)
	}
	if out := r.replyAs(t, "agreement", menteeAddr, mentorAddr, "ada00@x", "I agree"); out.Outcome == store.OutcomeLogged {
		t.Errorf("the mentor confirming with the mentee's token: %s (%s)", out.Outcome, out.Reason)
	}
	if matches() != 0 || r.mustCount(t, `SELECT COUNT(*) FROM agreement_confirmations`) != 0 {
		t.Fatal("a reply from someone not asked was recorded")
	}

	r.replyAs(t, "match", menteeAddr, menteeAddr, "bo-m1@x", "Not sure yet, we only met once.")
	r.replyAs(t, "match", mentorAddr, mentorAddr, "ada-m1@x", "Yes, a good start.")
	if matches() != 2 {
		t.Fatalf("%d match answers, want 2", matches())
	}

	// The mentor changes the place: version 2, which both confirm.
	if out := r.replyAs(t, "agreement", mentorAddr, mentorAddr, "ada-a1@x", "Happy with it, one change:\n\n3. Room 5.01"); out.Outcome != store.OutcomeLogged {
		t.Fatalf("change: %s (%s)", out.Outcome, out.Reason)
	}
	r.step()
	if n := len(r.sentSince(0, "talk", menteeAddr)); n == 0 {
		t.Fatal("the mentee got no new version")
	}
	var v2 []simMsg
	for _, m := range r.got {
		if m.Kind == "talk" && strings.Contains(headerOf(t, m.Raw, "Subject"), "version 2") {
			v2 = append(v2, m)
		}
	}
	if len(v2) != 2 {
		t.Fatalf("version 2 went to %d people, want 2", len(v2))
	}
	for _, m := range v2 {
		r.checklist = m
		replyTo, _ := mail.ParseAddress(headerOf(t, m.Raw, "Reply-To"))
		if out := r.ingest(r.replyMsg(m.To, replyTo.Address, "agree-"+m.To, "I agree")); out.Outcome != store.OutcomeLogged {
			t.Fatalf("confirm v2 by %s: %s (%s)", m.To, out.Outcome, out.Reason)
		}
	}
	if n := r.mustCount(t, `SELECT COUNT(*) FROM agreement_versions WHERE version = 2 AND agreed_at IS NOT NULL`); n != 1 {
		t.Fatal("version 2 is not agreed")
	}
	if n := r.mustCount(t, `SELECT COUNT(*) FROM sessions WHERE status = 'planned' AND starts_at > ? AND location <> 'Room 5.01'`, store.UTC(r.now)); n != 0 {
		t.Errorf("%d sessions to come are not in the agreed room", n)
	}

	// After the next session the mentee is asked again, and is sure now.
	r.runUntil(utc("2027-02-13T12:00Z"))
	if out := r.replyAs(t, "match", menteeAddr, menteeAddr, "bo-m2@x", "Yes, I think so."); out.Outcome != store.OutcomeLogged {
		t.Fatalf("second match answer: %s (%s)", out.Outcome, out.Reason)
	}
	if n := r.mustCount(t, `SELECT COUNT(*) FROM match_answers WHERE answer = 'yes'`); n != 2 {
		t.Errorf("%d yes answers, want 2", n)
	}
	r.replyAs(t, "reflection", mentorAddr, mentorAddr, "ada-r1@x", "1. MENTORWORDS: seeing Bo plan the group.")
	r.runUntil(utc("2027-03-08T12:00Z")) // the third session's brief
	if out := r.replyAs(t, "brief", mentorAddr, mentorAddr, "ada-b3@x", "MENTORNOTE: ask Bo about the budget."); out.Outcome != store.OutcomeLogged {
		t.Fatalf("the mentor's reply to the brief: %s (%s)", out.Outcome, out.Reason)
	}
	r.runUntil(utc("2027-12-15T12:00Z"))
	final := r.sentSince(0, "reflection", mentorAddr)
	if len(final) != 12 {
		t.Fatalf("%d mentor reflections, want 12", len(final))
	}
	if txt := textOf(t, final[len(final)-1].Raw); !strings.Contains(txt, "What has being a mentor in the programme given me?") {
		t.Errorf("the final mentor reflection lacks the programme evaluation:\n%s", txt)
	}
	r.replyAs(t, "reflection", mentorAddr, mentorAddr, "ada-r12@x", "1. MENTORFINAL energy.\n\n4. MENTORVALUE a lot.")
	r.runUntil(utc("2028-01-31T00:00Z"))

	mentorWordsStayTheirs(t, r, []string{"MENTORWORDS", "MENTORFINAL", "MENTORVALUE", "MENTORNOTE"})
	records := 0
	for _, m := range r.got {
		if m.Kind != "record" {
			continue
		}
		records++
		_, data := attachmentOf(t, m.Raw, "application/pdf")
		text, _ := pdfText(t, data)
		if !strings.Contains(text, "Sessions held 12 of 12 planned") {
			t.Errorf("record to %s:\n%s", m.To, text)
		}
		for _, bad := range []string{"MENTORWORDS", "MENTORFINAL", "only met once", "Room 5.01"} {
			if strings.Contains(text, bad) {
				t.Errorf("record to %s carries %q", m.To, bad)
			}
		}
	}
	if records != 2 {
		t.Errorf("%d records, want 2", records)
	}
}

// A "no" from the mentor pauses the pair at once: the sessions to come are
// cancelled within one schedule pass, the admin is told, both hear kindly,
// and no prompt follows.
func TestMatchNoPausesThePair(t *testing.T) {
	r := newReading(t, pairProgramme)
	n := len(r.got)
	if out := r.replyAs(t, "match", mentorAddr, mentorAddr, "ada-no@x", "No. Our fields are too far apart."); out.Outcome != store.OutcomeLogged {
		t.Fatalf("no: %s (%s)", out.Outcome, out.Reason)
	}
	r.step()
	if len(r.sentSince(n, "cancel", menteeAddr)) == 0 || len(r.sentSince(n, "cancel", mentorAddr)) == 0 {
		t.Error("no cancellations within one pass")
	}
	if len(r.sentSince(n, "notice", "admin@example.org")) != 1 {
		t.Error("the admin was not told")
	}
	for _, to := range []string{menteeAddr, mentorAddr} {
		got := r.sentSince(n, "talk", to)
		if len(got) == 0 || !strings.Contains(flat(t, got[len(got)-1].Raw), "programme team will be in touch") {
			t.Errorf("%s was not told kindly", to)
		}
		for _, m := range got {
			if strings.Contains(string(m.Raw), "fields are too far apart") {
				t.Errorf("the reason reached %s", to)
			}
		}
	}
	m := len(r.got)
	r.runUntil(utc("2027-06-30T00:00Z"))
	for _, x := range r.got[m:] {
		if x.Kind != "notice" {
			t.Errorf("%s sent to %s while paused", x.Key, x.To)
		}
	}
}

// mentorWordsStayTheirs checks that the mentor's unique words are in the
// mentor's own log (every format) and nowhere else: in no outbox row to
// anyone but the mentor, in no format of the report, nor in status.
func mentorWordsStayTheirs(t *testing.T, r *reading, words []string) {
	t.Helper()
	ctx := context.Background()
	l, err := records.LoadMentorLog(ctx, r.db.R(), mentorAddr, r.now)
	if err != nil {
		t.Fatalf("records.LoadMentorLog = %v", err)
	}
	for _, f := range records.Formats {
		var b bytes.Buffer
		if err := records.WriteMentorLog(&b, l, f); err != nil {
			t.Fatalf("WriteMentorLog(%s) = %v", f, err)
		}
		for _, w := range words {
			if !strings.Contains(b.String(), w) {
				t.Errorf("the mentor's %s log lacks %q:\n%s", f, w, b.String())
			}
		}
		if strings.Contains(b.String(), "only met once") {
			t.Errorf("the mentor's %s log holds the mentee's words", f)
		}
	}

	// Every message sent (the outbox drops a row's bytes once sent; the
	// simulation's SMTP server kept them) and every row still queued.
	type msg struct {
		key, to string
		raw     []byte
	}
	var msgs []msg
	for _, m := range r.got {
		msgs = append(msgs, msg{m.Key, m.To, m.Raw})
	}
	var rows []struct {
		Key       string `db:"idempotency_key"`
		Recipient string `db:"recipient"`
		Data      []byte `db:"data"`
	}
	if err := r.db.R().SelectContext(ctx, &rows, `SELECT o.idempotency_key, o.recipient, p.data
		FROM outbox o JOIN outbox_payloads p ON p.outbox_id = o.id`); err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		raw, err := store.Unpack(row.Data)
		if err != nil {
			t.Fatalf("outbox row %s: %v", row.Key, err)
		}
		msgs = append(msgs, msg{row.Key, row.Recipient, raw})
	}
	toMentee := 0
	for _, m := range msgs {
		if strings.Contains(m.to, mentorAddr) {
			continue
		}
		if strings.Contains(m.to, menteeAddr) {
			toMentee++
		}
		for _, w := range words {
			if bytes.Contains(m.raw, []byte(w)) || strings.Contains(textOf(t, m.raw), w) {
				t.Errorf("%s to %s carries the mentor's %q", m.key, m.to, w)
			}
		}
	}
	if toMentee == 0 {
		t.Fatal("no message to the mentee to look in")
	}

	rep, err := records.LoadReport(ctx, r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.LoadStatus(ctx, r.db, r.cfg, r.now)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string][]byte{}
	for _, f := range records.Formats {
		var b bytes.Buffer
		if err := records.WriteReport(&b, rep, f); err != nil {
			t.Fatal(err)
		}
		outs["report "+f] = b.Bytes()
	}
	if outs["status"], err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	for name, out := range outs {
		for _, w := range words {
			if bytes.Contains(out, []byte(w)) {
				t.Errorf("%s carries the mentor's %q", name, w)
			}
		}
	}
}
