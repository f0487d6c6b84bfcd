package e2e

import (
	"context"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/sender"
	"github.com/mentord/mentord/templates"
)

// TestRepliesThroughPostfixIntoTheLog sends a pair's invites and checklist
// through Postfix, answers them through Postfix the way Gmail (English),
// Outlook (Danish), Apple Mail (German) and Thunderbird (French) quote, adds an
// out-of-office reply, a calendar acceptance and a real DSN (a second pair's
// mentee is unknown to Dovecot), and reads mentord's Dovecot inbox with its own
// IMAP client: each message ends as the right log rows and in the right folder.
func TestRepliesThroughPostfixIntoTheLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cfg := mentordConfig(t, "daemon")
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	roster := &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}
	start := time.Now().Add(50 * time.Hour).UTC().Truncate(time.Hour).Format("2006-01-02T15:04")
	mentor, mentee := stack.User("mentor"), stack.User("mentee")
	for _, p := range []admin.PairInput{
		{MentorName: "Ada Mentor", MentorEmail: mentor, MenteeName: "Bo Mentee", MenteeEmail: mentee},
		{MentorName: "Cy Mentor", MentorEmail: stack.User("other"), MenteeName: "Gone", MenteeEmail: stack.Bounce},
	} {
		p.TZ, p.Start, p.Every, p.Sessions, p.Duration, p.Location = "UTC", start, "monthly", "6", "60m", "Room 1"
		if _, err := roster.AddPair(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := compose.Plan(ctx, db, cfg, tpl, time.Now(), log); err != nil {
		t.Fatal(err)
	}
	out := &outbox.Outbox{DB: db, Sender: sender.New(connect.SMTPConfig(cfg, nil), log), Cfg: cfg, Log: log, Now: time.Now}
	if _, err := out.SendDue(ctx, ctx); err != nil {
		t.Fatal(err)
	}

	// The checklist as the mentee received it, and the invite's UID.
	var ck checklistRef
	if err := db.R().Get(&ck, `SELECT message_id, subject FROM outbox WHERE kind = 'checklist' AND recipient = ?`, mentee); err != nil {
		t.Fatal(err)
	}
	got, err := stack.WaitForMessage(ctx, mentee, ck.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := mail.ReadMessage(strings.NewReader(string(got.Raw)))
	replyTo, err := mail.ParseAddress(msg.Header.Get("Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	var uid string
	db.R().Get(&uid, `SELECT s.uid FROM sessions s JOIN pairs p ON p.id = s.pair_id JOIN people m ON m.id = p.mentee_id
		WHERE m.email = ? AND s.number = 1`, mentee)

	quote := "Dear Bo Mentee,\nThis is your first meeting.\n1. What do I hope to get out of mentoring?\n2. Which objectives do I want to work on this year?"
	replies := []string{
		// Gmail, English, top-posted, '>' quote.
		gmailReply(mentee, replyTo.Address, ck, "1. A sparring partner for my first year as a group leader.\n\nThanks,\nBo", quote),
		// Outlook, Danish, header block and an unprefixed quote.
		outlookReply(mentee, replyTo.Address, ck, "2. At blive bedre til at delegere.\n\nVenlig hilsen\nBo", quote),
		// Apple Mail, German, attribution inside the quote.
		appleReply(mentee, replyTo.Address, ck, "3. Einmal im Monat, eine Stunde, im Büro.\n\nViele Grüße\nBo", quote),
		// Thunderbird, French, bottom-posted.
		thunderbirdReply(mentee, replyTo.Address, ck, quote, "4. Par courriel entre les séances."),
		outOfOffice(mentor, ck),
		calendarAccept(mentor, uid),
	}
	submit := sender.New(sender.Config{Host: stack.Host, Port: stack.SubmissionPort, Security: sender.TLSStartTLS, Auth: "plain",
		Username: mentee, Password: stack.Password, RootCAs: stack.CertPool, Timeout: 10 * time.Second}, log)
	conn, err := submit.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range replies {
		from, to := mentee, replyTo.Address
		if i >= 4 {
			from = mentor
		}
		if i == 5 {
			// A calendar client answers the ORGANIZER, the programme's own
			// address; the mentee's reply address is the mentee's alone.
			to = cfg.Mailbox.Address
		}
		if err := conn.Send(ctx, sender.Envelope{From: from, To: []string{to}}, []byte(raw)); err != nil {
			t.Fatalf("submit reply %d: %v", i, err)
		}
	}
	conn.Close()
	// The mailbox is the machine's: it may still hold mail from earlier runs,
	// which mentord reads too. The checks below count this run's messages.
	ours := map[string]bool{}
	for _, raw := range replies {
		m, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ours[strings.Trim(m.Header.Get("Message-ID"), "<> ")] = true
	}
	type inboundRow struct {
		MessageID string `db:"message_id"`
		Kind      string `db:"kind"`
		Outcome   string `db:"outcome"`
		Reason    string `db:"reason"`
	}
	// thisRun is what mentord read of this run's messages: the six sent and
	// the DSNs for the mail it sent to the unknown address.
	thisRun := func() []inboundRow {
		var all, mine []inboundRow
		db.R().Select(&all, `SELECT message_id, kind, outcome, reason FROM inbound ORDER BY id`)
		for _, r := range all {
			if ours[strings.Trim(r.MessageID, "<> ")] || r.Kind == "bounce" && r.Outcome == "logged" {
				mine = append(mine, r)
			}
		}
		return mine
	}

	// mentord reads its mailbox until everything has arrived: the 6 messages,
	// and a DSN for each message sent to the address Dovecot does not know.
	var wantBounces int
	db.R().Get(&wantBounces, `SELECT COUNT(*) FROM outbox WHERE recipient = ? AND state = 'sent'`, stack.Bounce)
	reader := &ingest.Reader{DB: db, Cfg: cfg, Tpl: tpl, Log: log, Now: time.Now}
	c, err := inbox.Dial(ctx, connect.IMAPConfig(cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	full := true
	for {
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reader.ReadFolder(ctx, c, inbox.Mailbox{Name: "INBOX", UIDValidity: sel.UIDValidity}, full); err != nil {
			t.Fatal(err)
		}
		full = false
		rows := thisRun()
		bounces := 0
		for _, r := range rows {
			if r.Kind == "bounce" {
				bounces++
			}
		}
		n := len(rows) - bounces
		if n == len(ours) && bounces >= wantBounces {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d messages read (%d bounces)\n%s", n, bounces, stack.PostfixTrace(""))
		case <-time.After(200 * time.Millisecond):
		}
	}

	count := map[string]int{}
	for _, r := range thisRun() {
		count[r.Kind+"/"+r.Outcome]++
		t.Logf("%s: %s (%s)", r.Kind, r.Outcome, r.Reason)
	}
	for k, want := range map[string]int{"reply/logged": 4, "auto_reply/ignored": 1, "calendar/logged": 1} {
		if count[k] != want {
			t.Errorf("%d × %s, want %d", count[k], k, want)
		}
	}
	if count["bounce/logged"] < wantBounces || wantBounces == 0 {
		t.Errorf("%d bounces logged, want one for each of the %d messages sent to %s", count["bounce/logged"], wantBounces, stack.Bounce)
	}
	answers := map[int]string{}
	var es []store.Entry
	db.R().Select(&es, `SELECT * FROM progress_entries WHERE superseded_by IS NULL`)
	for _, e := range es {
		answers[e.QuestionNo] = e.Answer
	}
	want := map[int]string{1: "A sparring partner for my first year as a group leader.", 2: "At blive bedre til at delegere.",
		3: "Einmal im Monat, eine Stunde, im Büro.", 4: "Par courriel entre les séances."}
	for n, a := range want {
		if answers[n] != a {
			t.Errorf("answer %d = %q, want %q", n, answers[n], a)
		}
	}
	if len(answers) != 4 {
		t.Errorf("answers = %v", answers)
	}
	var partstat string
	db.R().Get(&partstat, `SELECT a.partstat FROM session_attendees a JOIN people p ON p.id = a.person_id
		JOIN sessions s ON s.id = a.session_id WHERE p.email = ? AND s.uid = ?`, mentor, uid)
	if partstat != "ACCEPTED" {
		t.Errorf("the mentor's PARTSTAT = %q", partstat)
	}
	var score float64
	db.R().Get(&score, `SELECT bounce_score FROM people WHERE email = ?`, stack.Bounce)
	if score < 1 {
		t.Errorf("bounce score %v for %s", score, stack.Bounce)
	}
	// Everything this run sent to the mailbox was moved out of the inbox,
	// after its commit. (The mailbox is shared with the suite's other tests,
	// whose mail may still be arriving, so the inbox itself need not be empty.)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for id := range ours {
		res, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + id + ">"}}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.AllUIDs()) != 0 {
			t.Errorf("<%s> is still in the INBOX", id)
		}
	}
	st, err := c.Status("Processed", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := int(*st.NumMessages); n < 7 {
		t.Errorf("Processed holds %d messages", n)
	}
}

func header(from, to, msgID, subject, extra string, ck checklistRef) string {
	return fmt.Sprintf("From: Bo Mentee <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nMIME-Version: 1.0\r\n%s",
		from, to, subject, time.Now().Format(time.RFC1123Z), msgID, ck.MessageID, ck.MessageID, extra)
}

type checklistRef = struct {
	MessageID string `db:"message_id"`
	Subject   string `db:"subject"`
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func gmailReply(from, to string, ck checklistRef, typed, quote string) string {
	return crlf(header(from, to, newMessageID(), "Re: "+ck.Subject, "Content-Type: text/plain; charset=UTF-8\n", ck) + "\n" +
		typed + "\n\nOn Mon, 23 Nov 2026 at 09:00, Staff Mentoring <daemon@example.test> wrote:\n\n> " +
		strings.ReplaceAll(quote, "\n", "\n> ") + "\n")
}

func outlookReply(from, to string, ck checklistRef, typed, quote string) string {
	return crlf(header(from, to, newMessageID(), "SV: "+ck.Subject, "Content-Type: text/plain; charset=UTF-8\nThread-Topic: "+ck.Subject+"\n", ck) + "\n" +
		typed + "\n\n________________________________\nFra: Staff Mentoring <daemon@example.test>\nSendt: 23. november 2026 09:00\nTil: Bo Mentee <" + from + ">\nEmne: " + ck.Subject + "\n\n" +
		quote + "\n")
}

func appleReply(from, to string, ck checklistRef, typed, quote string) string {
	return crlf(header(from, to, newMessageID(), "Re: "+ck.Subject, "Content-Type: text/plain; charset=UTF-8\nX-Mailer: Apple Mail (2.3774)\n", ck) + "\n" +
		typed + "\n\n> Am 23.11.2026 um 09:00 schrieb Staff Mentoring <daemon@example.test>:\n> \n> " +
		strings.ReplaceAll(quote, "\n", "\n> ") + "\n")
}

func thunderbirdReply(from, to string, ck checklistRef, quote, typed string) string {
	return crlf(header(from, to, newMessageID(), "Re: "+ck.Subject, "Content-Type: text/plain; charset=UTF-8; format=flowed\nUser-Agent: Mozilla Thunderbird\n", ck) + "\n" +
		"Le 23/11/2026 à 09:00, Staff Mentoring a écrit :\n> " + strings.ReplaceAll(quote, "\n", "\n> ") + "\n\n" + typed + "\n\n-- \nBo\n")
}

func outOfOffice(from string, ck checklistRef) string {
	return crlf(fmt.Sprintf("From: Ada Mentor <%s>\nTo: <daemon@example.test>\nSubject: Automatic reply: %s\nDate: %s\nMessage-ID: <%s>\nAuto-Submitted: auto-replied\nIn-Reply-To: <%s>\nContent-Type: text/plain; charset=UTF-8\n\nI am away until Monday.\n",
		from, ck.Subject, time.Now().Format(time.RFC1123Z), newMessageID(), ck.MessageID))
}

func calendarAccept(from, uid string) string {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	ics := "BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nVERSION:2.0\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:" + uid +
		"\nSEQUENCE:0\nDTSTAMP:" + stamp + "\nATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;CN=Ada Mentor:mailto:" + from + "\nEND:VEVENT\nEND:VCALENDAR\n"
	return crlf(fmt.Sprintf("From: Ada Mentor <%s>\nTo: <daemon@example.test>\nSubject: Accepted: Mentoring\nDate: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/calendar; charset=UTF-8; method=REPLY\n\n%s\n--x--\n",
		from, time.Now().Format(time.RFC1123Z), newMessageID(), ics))
}
