package mail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"
)

func sample() *Message {
	return &Message{
		From:      Address{Name: "Staff Mentoring", Email: "mentoring@example.org"},
		To:        Address{Name: "Åse Østergaard", Email: "ase@example.org"},
		ReplyTo:   ReplyAddress("mentoring@example.org", "+", NewToken()),
		Subject:   "Planning for session 3 of 12 – tirsdag",
		Date:      time.Date(2027, 3, 6, 9, 0, 0, 0, time.UTC),
		MessageID: MessageID("inst", "checklist:3", "example.org"),
		Text:      "1. What have I accomplished since our last session?\n\n",
		HTML:      "<p>1. What have I accomplished?</p>",
	}
}

func TestBytesStructure(t *testing.T) {
	m := sample()
	m.Calendar = &Calendar{Method: "REQUEST", Data: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for k, want := range map[string]string{
		"Message-Id": "<" + m.MessageID + ">", "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All",
		"Date": "Sat, 06 Mar 2027 09:00:00 +0000",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(h.Get("Subject")); subj != m.Subject {
		t.Errorf("Subject = %q", subj)
	}
	if rt, err := netmail.ParseAddress(h.Get("Reply-To")); err != nil || rt.Address != m.ReplyTo {
		t.Errorf("Reply-To = %q (%v)", h.Get("Reply-To"), err)
	}
	// multipart/mixed { multipart/alternative { text, html, calendar }, application/ics }
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %s", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	alt, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	amt, aparams, _ := mime.ParseMediaType(alt.Header.Get("Content-Type"))
	if amt != "multipart/alternative" {
		t.Fatalf("first part %s", amt)
	}
	ar := multipart.NewReader(alt, aparams["boundary"])
	var types []string
	for {
		p, err := ar.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cparams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		if ct == "text/calendar" && cparams["method"] != "REQUEST" {
			t.Errorf("calendar part method = %q", cparams["method"])
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html,text/calendar" {
		t.Errorf("alternatives = %v", types)
	}
	att, err := mr.NextPart()
	if err != nil || !strings.HasPrefix(att.Header.Get("Content-Type"), "application/ics") {
		t.Errorf("attachment = %v %v", att, err)
	}
}

func TestHeaderInjectionRejected(t *testing.T) {
	for _, mutate := range []func(*Message){
		func(m *Message) { m.Subject = "hi\r\nBcc: victim@example.org" },
		func(m *Message) { m.To.Name = "Bo\nX-Evil: 1" },
		func(m *Message) { m.From.Name = "Prog\rramme" },
		func(m *Message) { m.References = []string{"a@b\r\nX: y"} },
	} {
		m := sample()
		mutate(m)
		if _, err := m.Bytes(); !errors.Is(err, ErrHeaderInjection) {
			t.Errorf("Bytes() = %v, want ErrHeaderInjection", err)
		}
	}
}

func FuzzNoInjectedHeaders(f *testing.F) {
	f.Add("Bo Jensen", "Planning for session 3")
	f.Add("x\r\nBcc: a@b.c", "y\nX-Evil: 1")
	f.Add("\"quoted\" <name>", "=?utf-8?q?encoded?=")
	f.Fuzz(func(t *testing.T, name, subject string) {
		m := sample()
		m.To.Name, m.Subject = name, subject
		raw, err := m.Bytes()
		if err != nil {
			return
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unparseable message for %q %q: %v", name, subject, err)
		}
		for k := range msg.Header {
			switch k {
			case "From", "To", "Reply-To", "Subject", "Date", "Message-Id", "Auto-Submitted", "X-Auto-Response-Suppress",
				"User-Agent", "X-Mailer", "Mime-Version", "Content-Type", "Content-Transfer-Encoding":
			default:
				t.Fatalf("unexpected header %q from name %q subject %q", k, name, subject)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := NewToken()
		if len(tok) != TokenLen || seen[tok] {
			t.Fatalf("token %q (len %d) repeated or wrong length", tok, len(tok))
		}
		seen[tok] = true
	}
	tok := NewToken()
	addr := ReplyAddress("mentoring@example.org", "+", tok)
	if addr != "mentoring+"+tok+"@example.org" {
		t.Errorf("ReplyAddress = %q", addr)
	}
	for _, in := range []string{addr, strings.ToUpper(addr), "Programme <" + addr + ">"} {
		if got, ok := TokenFrom(in, "mentoring@example.org", "+"); !ok || got != tok {
			t.Errorf("TokenFrom(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"mentoring@example.org", "other+" + tok + "@example.org", "mentoring+" + tok + "@evil.org",
		"mentoring+short@example.org", "mentoring+" + tok + "x@example.org"} {
		if _, ok := TokenFrom(bad, "mentoring@example.org", "+"); ok {
			t.Errorf("TokenFrom(%q) found a token", bad)
		}
	}
	if ReplyAddress("m@example.org", "none", tok) != "m@example.org" {
		t.Error("no plus-addressing must give the mailbox itself")
	}
	if HashToken(tok) == tok || HashToken(tok) != HashToken(strings.ToUpper(tok)) {
		t.Error("HashToken must hash and ignore case")
	}
	if MessageID("i", "k", "example.org") != MessageID("i", "k", "example.org") || MessageID("i", "k", "example.org") == MessageID("i", "k2", "example.org") {
		t.Error("MessageID must be deterministic per key")
	}
	if MessageID("i", "k", "example.org") == MessageID("j", "k", "example.org") {
		t.Error("two installations must not mint the same Message-ID")
	}
}

func TestBounceAddress(t *testing.T) {
	id := MessageID("inst", "checklist:3", "example.org")
	b := BounceAddress("mentoring@example.org", "+", id)
	if !strings.HasPrefix(b, "mentoring+bounce-") || !strings.HasSuffix(b, "@example.org") || b != BounceAddress("mentoring@example.org", "+", id) {
		t.Errorf("BounceAddress = %q", b)
	}
	if _, ok := TokenFrom(b, "mentoring@example.org", "+"); ok {
		t.Error("a bounce address must not read as a reply token")
	}
	if BounceAddress("m@example.org", "none", id) != "m@example.org" {
		t.Error("without plus-addressing the bounce address is the mailbox")
	}
}
