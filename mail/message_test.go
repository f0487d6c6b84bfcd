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
	f.Add("=?utf-8?q?admin@example.org=0D=0ABcc:_evil@x?=", "=?utf-8?b?DQpCY2M6IGV2aWxAeA==?=")
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
		// What a client shows is what was given, literally (up to the
		// spacing that header folding may change).
		dec := new(mime.WordDecoder)
		words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
		if a, err := netmail.ParseAddress(msg.Header.Get("To")); err != nil || words(a.Name) != words(name) {
			t.Fatalf("To = %q reads as %v (%v), want the name %q", msg.Header.Get("To"), a, err, name)
		}
		if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || words(s) != words(subject) {
			t.Fatalf("Subject = %q reads as %q (%v), want %q", msg.Header.Get("Subject"), s, err, subject)
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

// Text that looks like an RFC 2047 encoded-word, typed into a name or a
// subject, comes out as that literal text: encoded, so that no client
// decodes it into something else (here a line break and a Bcc header).
func TestEncodedWordsStayLiteral(t *testing.T) {
	const word = "=?utf-8?q?admin@example.org=0D=0ABcc:_evil@x?="
	for _, c := range []struct{ name, subject string }{
		{word, "Planning " + word + " now"},
		{"Bo " + word, word},
		{"=?UTF-8?B?QWRh?=", "=?iso-8859-1?q?=E5?="},
		{`Bo "the boss" \ Jensen`, "Åse Østergaard – tirsdag"},
		{"Åse =?utf-8?q?x?= Østergaard", "a =? b ?= c"},
	} {
		m := sample()
		m.To.Name, m.From.Name, m.Subject = c.name, c.name, c.subject
		raw, err := m.Bytes()
		if err != nil {
			t.Fatalf("Bytes(%q) = %v", c.name, err)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		for _, h := range []string{"To", "From"} {
			a, err := netmail.ParseAddress(msg.Header.Get(h))
			if err != nil || a.Name != c.name {
				t.Errorf("%s = %q: name %q (%v), want %q", h, msg.Header.Get(h), a, err, c.name)
			}
			// A client that decodes every encoded-word in the field, even in quotes.
			all, err := dec.DecodeHeader(msg.Header.Get(h))
			quoted := strings.ContainsAny(c.name, `"\\`) // shown with its quoted-pair escapes
			if err != nil || !quoted && !strings.Contains(all, c.name) || strings.ContainsAny(all, "\r\n") {
				t.Errorf("%s = %q decodes to %q (%v)", h, msg.Header.Get(h), all, err)
			}
		}
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || subj != c.subject {
			t.Errorf("Subject = %q decodes to %q (%v), want %q", msg.Header.Get("Subject"), subj, err, c.subject)
		}
	}
}

// A name or address no mail server and client can take is refused with the
// reason, naming neither the value nor the other field.
func TestUnmailableNamesAndAddresses(t *testing.T) {
	for _, c := range []struct{ name, email string }{
		{"Bo\x1bJensen", "bo@example.org"},
		{"Bo \u202eJensen", "bo@example.org"},
		{"Bo\u2028Jensen", "bo@example.org"},
		{"Bo \xffJensen", "bo@example.org"},
		{"Bo", "bø@example.org"},
		{"Bo", "bo\u202e@example.org"},
		{"Bo", "bo@exämple.org"},
		{"Bo", "bo jensen@example.org"},
		{"Bo", "Bo <bo@example.org>"},
		{"Bo", "bo"},
	} {
		m := sample()
		m.To = Address{Name: c.name, Email: c.email}
		_, err := m.Bytes()
		if !errors.Is(err, ErrUnmailable) {
			t.Errorf("Bytes(%q, %q) = %v, want ErrUnmailable", c.name, c.email, err)
			continue
		}
		if strings.Contains(err.Error(), c.email) || strings.Contains(err.Error(), "Jensen") {
			t.Errorf("the error names the value: %v", err)
		}
	}
}
