package reply

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/reply/decode"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		max  int64
		want error
	}{
		{"empty", nil, 0, ErrEmpty},
		{"blank", []byte(" \r\n\r\n"), 0, ErrEmpty},
		{"no header", []byte("Just some text\nwithout a header.\n"), 0, ErrNoHeader},
		{"too large", []byte("Subject: x\r\n\r\n" + strings.Repeat("a", 100)), 50, ErrTooLarge},
	} {
		if _, err := Parse(tc.raw, Options{MaxBytes: tc.max}); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Parse([]byte("Subject: only a header"), Options{}); err != nil {
		t.Errorf("header without body: %v", err)
	}
}

func TestHeader(t *testing.T) {
	raw := "Return-Path: <bounce+x@mentord.example>\r\n" +
		"Delivered-To: mentoring+tok@mentord.example\r\n" +
		"Authentication-Results: mx.mentord.example; dmarc=pass header.from=example.org\r\n" +
		"From: =?iso-8859-1?Q?Joaqu=EDn_N=FA=F1ez?= <Joaquin.Nunez@Example.ORG>\r\n" +
		"To: \"Mentoring\" <mentoring+tok@mentord.example>, other@example.org\r\n" +
		"Cc: third@example.org\r\n" +
		"Subject: =?UTF-8?Q?Re:_Planning_f=C3=B6r?=\r\n =?UTF-8?Q?_the_session?=\r\n" +
		"Date: Thu, 08 Apr 2027 09:17:33 +0200 (CEST)\r\n" +
		"Message-ID: <a1@example.org>\r\n" +
		"In-Reply-To: <plan.1@mentord.example>\r\n" +
		"References: <x@y> <plan.1@mentord.example>\r\n" +
		"Auto-Submitted: no\r\n\r\nBody\r\n"
	res, err := Parse([]byte(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := res.Header
	want := Header{
		From: "joaquin.nunez@example.org", FromName: "Joaquín Núñez",
		FromField: "=?iso-8859-1?Q?Joaqu=EDn_N=FA=F1ez?= <Joaquin.Nunez@Example.ORG>",
		To:        []string{"mentoring+tok@mentord.example", "other@example.org"}, Cc: []string{"third@example.org"},
		DeliveredTo: []string{"mentoring+tok@mentord.example"}, Subject: "Re: Planning för the session",
		MessageID: "a1@example.org", InReplyTo: []string{"plan.1@mentord.example"},
		References: []string{"x@y", "plan.1@mentord.example"}, ReturnPath: "bounce+x@mentord.example",
		AuthResults:   []string{"mx.mentord.example; dmarc=pass header.from=example.org"},
		AutoSubmitted: "no",
	}
	if got, w := fmt.Sprintf("%+v", withoutDate(h)), fmt.Sprintf("%+v", want); got != w {
		t.Errorf("Header =\n %s\nwant\n %s", got, w)
	}
	if !h.Date.Equal(time.Date(2027, 4, 8, 7, 17, 33, 0, time.UTC)) {
		t.Errorf("Date = %v", h.Date)
	}
}

func withoutDate(h Header) Header {
	h.Date = time.Time{}
	return h
}

func TestMIMEBodies(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"qp soft breaks and =3D", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"caf=C3=A9 a=3Db soft=\r\nbreak =\r\n", "café a=b softbreak"},
		{"base64 with junk", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVq\r\nIGTDpg==\r\n!!\r\n", "Hej dæ"},
		{"latin1 as windows-1252", "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n\x80 \x92s caf\xe9", "€ ’s café"},
		{"utf-8 mislabelled latin1", "Content-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xc3\xa9", "café"},
		{"broken utf-8 falls back per byte", "Content-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9 and caf\xe9", "café and café"},
		{"unknown charset", "Content-Type: text/plain; charset=x-klingon\r\n\r\nplain", "plain"},
		{"koi8-r", "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"flowed delsp", "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\nThis is a lo \r\nng line.\r\n> quo \r\n> ted\r\n-- \r\nsig", "This is a long line."},
		{"attachment skipped", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nBody\r\n" +
			"--b\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\n1. Not me\r\n--b--\r\n", "Body"},
		{"rfc822 skipped", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nBody\r\n" +
			"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: old\r\n\r\n1. Not me either\r\n--b--\r\n", "Body"},
		{"html when no plain", "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n \r\n" +
			"--b\r\nContent-Type: text/html\r\n\r\n<p>From &lt;html&gt;</p>\r\n--b--\r\n", "From <html>"},
		{"nested boundary prefix", "Content-Type: multipart/mixed; boundary=ab\r\n\r\n--ab\r\nContent-Type: multipart/alternative; boundary=abc\r\n\r\n" +
			"--abc\r\nContent-Type: text/plain\r\n\r\nInner\r\n--abc--\r\n--ab--\r\n", "Inner"},
		{"missing close delimiter", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCut short", "Cut short"},
	} {
		raw := "From: a@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n" + tc.raw
		res, err := Parse([]byte(raw), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := strings.Join(strings.Fields(res.NewText), " "); got != tc.want {
			t.Errorf("%s: NewText = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	// MIME depth: parts nested deeper than decode.MaxDepth are not read.
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i <= decode.MaxDepth+2; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n", decode.MaxDepth+2)
	res, err := Parse([]byte(b.String()), Options{})
	if err != nil || res.NewText != "" {
		t.Errorf("too deep: NewText = %q, %v", res.NewText, err)
	}
	// Parts: at most decode.MaxParts are read.
	b.Reset()
	b.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < 3*decode.MaxParts; i++ {
		fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain\r\n\r\np%d\r\n", i)
	}
	b.WriteString("--b--\r\n")
	res, _ = Parse([]byte(b.String()), Options{})
	if n := strings.Count(res.NewText, "p"); n >= decode.MaxParts {
		t.Errorf("read %d parts", n)
	}
	// Header block: over 64 KiB the rest of the header is skipped, the body still read.
	raw := "From: a@example.org\r\nX-Big: " + strings.Repeat("x", 70<<10) + "\r\nSubject: late\r\n\r\nBody text\r\n"
	res, err = Parse([]byte(raw), Options{})
	if err != nil || res.NewText != "Body text" {
		t.Errorf("big header: NewText = %q, %v", res.NewText, err)
	}
}

// From is read strictly: a field that is not exactly one mailbox gives no
// sender and says why, while the message is still classified as before.
func TestHeaderFromIsStrict(t *testing.T) {
	for _, c := range []struct{ from, want, problem string }{
		{"From: Bo <bo@example.org>\r\n", "bo@example.org", ""},
		{"From: \"bo@example.org\" <evil@x.example\r\n", "", "From is not exactly one mailbox"},
		{"From: bo@example.org, evil@x.example\r\n", "", "From is not exactly one mailbox: a list of 2"},
		{"From: Friends: bo@example.org;\r\n", "", "From is a group"},
		{"From: bo@example.org\r\nFrom: evil@x.example\r\n", "", "From is given more than once (2 times)"},
		{"", "", "From is missing"},
	} {
		res, err := Parse([]byte(c.from+"To: mentoring@example.org\r\nSubject: Re: plan\r\n\r\n1. Yes\r\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if h := res.Header; h.From != c.want || !strings.HasPrefix(h.FromProblem, c.problem) || (c.problem == "") != (h.FromProblem == "") {
			t.Errorf("%q: From %q, problem %q; want %q, %q", c.from, h.From, h.FromProblem, c.want, c.problem)
		}
	}
	// A bounce from a mailer daemon without a domain is still a bounce.
	res, err := Parse([]byte("From: Mail Delivery Subsystem <MAILER-DAEMON>\r\nSubject: Returned mail\r\n\r\nThe message could not be delivered.\r\n"), Options{})
	if err != nil || res.Kind != KindBounce || res.Header.From != "" {
		t.Errorf("bounce without a domain: %v %+v", err, res)
	}
}
