package reply

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// msg builds a small text/plain message from header lines and a body.
func msg(headers, body string) []byte {
	h := "From: Ana Silva <ana@example.org>\nTo: mentoring+tok@mentord.example\n" +
		"Message-ID: <m1@example.org>\nIn-Reply-To: <plan.1@mentord.example>\n" + headers
	return []byte(strings.ReplaceAll(strings.TrimRight(h, "\n")+"\n\n"+body, "\n", "\r\n"))
}

const quoted = "\n\nOn Tue, 9 Mar 2027 at 08:00, Mentoring <mentoring@mentord.example> wrote:\n> 1. What went well?\n"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, headers, body string
		want                Kind
	}{
		{"plain reply", "Subject: Re: Planning\n", "1. Fine." + quoted, KindReply},
		{"auto-submitted", "Subject: Re: Planning\nAuto-Submitted: auto-replied\n", "Away.", KindAutoReply},
		{"auto-submitted no", "Subject: Re: Planning\nAuto-Submitted: no\n", "1. Fine." + quoted, KindReply},
		{"precedence bulk", "Subject: News\nPrecedence: bulk\n", "News.", KindAutoReply},
		{"precedence junk", "Subject: News\nPrecedence: junk\n", "News.", KindAutoReply},
		{"precedence list alone", "Subject: News\nPrecedence: list\n", "News.", KindAutoReply},
		{"list relays a reply", "Subject: Re: Planning\nPrecedence: list\nList-Id: <group.example.org>\n", "1. Fine." + quoted, KindReply},
		{"list-id alone", "Subject: Re: Planning\nList-Id: <group.example.org>\nList-Unsubscribe: <mailto:u@example.org>\n", "1. Fine." + quoted, KindReply},
		{"x-autoreply", "Subject: Re: Planning\nX-Autoreply: yes\n", "Away.", KindAutoReply},
		{"x-autorespond", "Subject: Re: Planning\nX-Autorespond: vacation\n", "Away.", KindAutoReply},
		{"x-auto-response-suppress proves nothing", "Subject: Re: Planning\nX-Auto-Response-Suppress: All\n", "1. Fine." + quoted, KindReply},
		{"automatic reply", "Subject: Automatic reply: Planning\n", "Away.", KindAutoReply},
		{"abwesenheitsnotiz", "Subject: Abwesenheitsnotiz: Planning\n", "Nicht da.", KindAutoReply},
		{"réponse automatique", "Subject: Réponse automatique : Planning\n", "Absent.", KindAutoReply},
		{"automatisk svar", "Subject: Automatisk svar: Planning\n", "Ferie.", KindAutoReply},
		{"autosvar", "Subject: Autosvar: Planning\n", "Ferie.", KindAutoReply},
		{"automatisch antwoord", "Subject: Automatisch antwoord: Planning\n", "Weg.", KindAutoReply},
		{"respuesta automática", "Subject: Respuesta automática: Planning\n", "Fuera.", KindAutoReply},
		{"out of office", "Subject: Out of Office: Planning\n", "Away.", KindAutoReply},
		{"gateway tag", "Subject: [EXTERNAL] Automatic reply: Planning\n", "Away.", KindAutoReply},
		{"自动回复", "Subject: 自动回复：Planning\n", "休假。", KindAutoReply},
		{"re out of office planning", "Subject: Re: Out of Office planning\n", "Can we move it?" + quoted, KindReply},
		{"out of office planning", "Subject: Out of office planning\n", "Can we move it?", KindReply},
		{"person on leave, no quote", "Subject: Re: Planning\n",
			"I'm out of the office from 12 to 23 April, so could we move the session? I will be back on the 24th.", KindReply},
		{"notice text, no marks", "Subject: Re: Planning\n",
			"Thank you for your email. I am currently out of the office with limited access to email.", KindAutoReply},
		{"notice text, quoted", "Subject: Re: Planning\n",
			"Thank you for your email. I am currently out of the office with limited access to email." + quoted, KindReply},
		{"no-reply sender", "Subject: Ticket received\nFrom: Helpdesk <no-reply@example.org>\n", "We got it.", KindAutoReply},
		{"mailer-daemon", "Subject: failure notice\nFrom: MAILER-DAEMON@example.org\n", "Sorry.", KindBounce},
		{"postmaster", "Subject: Undeliverable: Planning\nFrom: postmaster@example.org\n", "Sorry.", KindBounce},
		{"x-failed-recipients", "Subject: Mail delivery failed\nX-Failed-Recipients: a@example.org\n", "Sorry.", KindBounce},
		{"null return path and bounce subject", "Subject: Undelivered Mail Returned to Sender\nReturn-Path: <>\n", "Sorry.", KindBounce},
		{"null return path alone is a vacation", "Subject: Re: Planning\nReturn-Path: <>\nAuto-Submitted: auto-replied\n", "Away.", KindAutoReply},
		{"bounce subject from a person", "Subject: Re: Undeliverable mail to my old address\n", "It's fixed now." + quoted, KindReply},
	} {
		raw := msg(tc.headers, tc.body)
		if strings.Contains(tc.headers, "From:") {
			raw = []byte(strings.Replace(string(raw), "From: Ana Silva <ana@example.org>\r\n", "", 1))
		}
		res, err := Parse(raw, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Kind != tc.want {
			t.Errorf("%s: Kind = %s (%s), want %s", tc.name, res.Kind, res.Reason, tc.want)
		}
		if res.Kind != KindReply && (res.NewText != "" || len(res.Answers) > 0) {
			t.Errorf("%s: %s with text %q, answers %v", tc.name, res.Kind, res.NewText, res.Answers)
		}
		if res.Kind != KindReply && res.Reason == "" {
			t.Errorf("%s: no reason", tc.name)
		}
	}
}

func TestCalendarKind(t *testing.T) {
	for _, tc := range []struct {
		ctype, data string
		want        Kind
	}{
		{"text/calendar; method=REPLY", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", KindCalendar},
		{"text/calendar; method=counter", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", KindCalendar},
		{"text/calendar", "BEGIN:VCALENDAR\r\nmethod:REPLY\r\nEND:VCALENDAR\r\n", KindCalendar},
		{"application/ics; name=invite.ics", "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", KindCalendar},
		{"text/calendar; method=REQUEST", "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", KindReply},
	} {
		raw := "From: a@example.org\r\nSubject: Accepted: Session\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nSee you.\r\n--b\r\nContent-Type: " + tc.ctype + "\r\n\r\n" + tc.data + "--b--\r\n"
		res, err := Parse([]byte(raw), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != tc.want || len(res.Calendar) != 1 || !strings.Contains(string(res.Calendar[0].Data), "VCALENDAR") {
			t.Errorf("%s: Kind = %s, Calendar = %+v", tc.ctype, res.Kind, res.Calendar)
		}
	}
}

func TestBounces(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Bounce
	}{
		{"testdata/corpus/bounce_dsn_multipart_report.eml", Bounce{
			Recipients: []BounceRecipient{{
				Address: "oskar.lindqvist@lindqvist-bygg.example", Action: "failed", Status: "5.1.1",
				Diagnostic: "550 5.1.1 <oskar.lindqvist@lindqvist-bygg.example>: Recipient address rejected: User unknown in virtual mailbox table",
			}},
			OriginalMessageID: "plan.20270608.0800.3f7a1c@mentord.example",
			OriginalTo:        "oskar.lindqvist@lindqvist-bygg.example",
			Permanent:         true,
		}},
		{"testdata/cases/postfix_dsn_rfc822_headers.eml", Bounce{
			Recipients: []BounceRecipient{{
				Address: "nobody@example.test", Original: "nobody@example.test", Action: "failed", Status: "5.1.1",
				Diagnostic: "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table",
			}},
			OriginalMessageID: "plan.20270309.0800.0a0b0c@mentord.example",
			OriginalTo:        "nobody@example.test",
			Permanent:         true,
		}},
		{"testdata/cases/exim_bounce_plain_copy.eml", Bounce{
			Recipients: []BounceRecipient{{
				Address: "oskar.lindqvist@lindqvist-bygg.example", Action: "failed", Status: "5.1.1",
				Diagnostic: "550 5.1.1 <oskar.lindqvist@lindqvist-bygg.example>: Recipient address rejected: User unknown",
			}},
			OriginalMessageID: "plan.20270309.0800.3f7a1c@mentord.example",
			OriginalTo:        "oskar.lindqvist@lindqvist-bygg.example",
			Permanent:         true,
		}},
	} {
		raw, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Parse(raw, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != KindBounce || res.Bounce == nil {
			t.Fatalf("%s: Kind = %s", tc.file, res.Kind)
		}
		if !reflect.DeepEqual(*res.Bounce, tc.want) {
			t.Errorf("%s:\n Bounce = %+v\n want     %+v", tc.file, *res.Bounce, tc.want)
		}
	}
}

func TestDelayedDSN(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example\r\nSubject: Delayed Mail (still being retried)\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n" +
		"Final-Recipient: rfc822; slow@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n--b--\r\n"
	res, err := Parse([]byte(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindBounce || res.Bounce.Permanent || len(res.Bounce.Recipients) != 1 || res.Bounce.Recipients[0].Action != "delayed" {
		t.Errorf("delayed DSN: %s %+v", res.Kind, res.Bounce)
	}
}

func TestEnhancedStatus(t *testing.T) {
	for in, want := range map[string]string{
		"said: 550 5.1.1 <a@b>": "5.1.1", "version 1.2.3 then 4.4.7": "4.4.7", "no code": "", "15.1.1": "", "5.1.": "",
	} {
		if got := enhancedStatus(in); got != want {
			t.Errorf("enhancedStatus(%q) = %q, want %q", in, got, want)
		}
	}
}
