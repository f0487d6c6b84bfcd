package reply

import (
	"os"
	"reflect"
	"testing"
)

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
				Address: "nobody@example.test", Action: "failed", Status: "5.1.1",
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
