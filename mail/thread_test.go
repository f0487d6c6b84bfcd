package mail

import (
	"strings"
	"testing"
	"time"
)

func TestValidMessageID(t *testing.T) {
	for id, want := range map[string]bool{
		"CAF=x+y_z@mail.gmail.com":                  true,
		"AM0PR10MB1234.eurprd10.prod.outlook.com@x": true,
		"a.b@[127.0.0.1]":                           true,
		"mentord.0123abcd@example.org":              true,
		"":                                          false,
		"no-at-sign":                                false,
		"@example.org":                              false,
		"left@":                                     false,
		"a..b@example.org":                          false,
		".a@example.org":                            false,
		"a b@example.org":                           false,
		"a@example.org\r\nBcc: evil@x.example":      false,
		"a@example.org\nX-Evil: 1":                  false,
		"a\x00@example.org":                         false,
		`"quoted"@example.org`:                      false,
		"a@exa(comment)mple.org":                    false,
		"a>@example.org":                            false,
		"ä@example.org":                             false,
		"a@[1.2.3.4":                                false,
		"a@[1\\]":                                   false,
		strings.Repeat("x", 245) + "@example.org": false,
		strings.Repeat("x", 200) + "@example.org": true,
	} {
		if got := ValidMessageID(id); got != want {
			t.Errorf("ValidMessageID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestThread(t *testing.T) {
	for _, c := range []struct {
		name      string
		refs, irt []string
		id        string
		want      []string
	}{
		{"refs then the id", []string{"root@x", "mid@x"}, nil, "new@y", []string{"root@x", "mid@x", "new@y"}},
		{"in-reply-to without references", nil, []string{"parent@x"}, "new@y", []string{"parent@x", "new@y"}},
		{"in-reply-to naming two is no parent", nil, []string{"a@x", "b@x"}, "new@y", []string{"new@y"}},
		{"invalid ids left out", []string{"ok@x", "bad id@x", "x\r\nBcc: e@x"}, nil, "new@y", []string{"ok@x", "new@y"}},
		{"repeats left out", []string{"a@x", "A@x", "new@y"}, nil, "new@y", []string{"a@x", "new@y"}},
		{"invalid own id: no thread", []string{"a@x"}, nil, "bad\nid@y", nil},
		{"overlong own id: no thread", nil, nil, strings.Repeat("z", 300) + "@y", nil},
	} {
		got := Thread(c.refs, c.irt, c.id)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: Thread = %q, want %q", c.name, got, c.want)
		}
	}
	// A long thread keeps its root and its latest ids, within the line.
	var refs []string
	for i := range 60 {
		refs = append(refs, strings.Repeat("r", 40)+string(rune('a'+i%26))+strings.Repeat("0", i%7)+"@example.org")
	}
	got := Thread(refs, nil, "new@y")
	if len(got) > maxReferences || referencesLen(got) > maxReferencesLen || got[0] != refs[0] || got[len(got)-1] != "new@y" ||
		got[len(got)-2] != refs[len(refs)-1] {
		t.Errorf("long thread: %d ids, %d octets: %q", len(got), referencesLen(got), got)
	}
}

func TestReplySubject(t *testing.T) {
	for in, want := range map[string]string{
		"Plan your mentoring session 2 of 12": "Re: Plan your mentoring session 2 of 12",
		"Re: Plan your session":               "Re: Plan your session",
		"RE: Re: Plan your session":           "Re: Plan your session",
		"SV: Forbered din session":            "Re: Forbered din session",
		"AW: Fwd: Re[2]: Plan":                "Re: Plan",
		"Regarding: the plan":                 "Re: Regarding: the plan",
		"Re:   ":                              "",
		"":                                    "",
		"Plan\r\nBcc: evil@x.example":         "Re: Plan Bcc: evil@x.example",
		"回复：计划":                               "Re: 计划",
		strings.Repeat("long ", 100):          "Re: " + strings.TrimSpace(strings.Repeat("long ", 40)) + "…",
	} {
		if got := ReplySubject(in); got != want {
			t.Errorf("ReplySubject(%q) = %q, want %q", in, got, want)
		}
	}
}

// A hostile Message-ID never reaches the bytes of a message: Bytes refuses
// a line break in In-Reply-To or References, and Thread leaves out what is
// not a msg-id before that.
func TestThreadHeadersAreSafe(t *testing.T) {
	hostile := "x@y>\r\nBcc: victim@example.net\r\nX: <z"
	refs := Thread([]string{hostile, "ok@x"}, nil, "reply@mail.example.org")
	m := &Message{From: Address{Email: "m@example.org"}, To: Address{Email: "bo@example.org"}, Subject: ReplySubject("Re: hi"),
		Date: time.Date(2027, 3, 6, 9, 0, 0, 0, time.UTC), MessageID: "mentord.1@example.org", InReplyTo: refs[len(refs)-1], References: refs, Text: "x"}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "victim") || !strings.Contains(string(raw), "References: <ok@x> <reply@mail.example.org>\r\n") ||
		!strings.Contains(string(raw), "In-Reply-To: <reply@mail.example.org>\r\n") {
		t.Errorf("threaded message:\n%s", raw)
	}
	m.InReplyTo = hostile
	if _, err := m.Bytes(); err == nil {
		t.Error("Bytes took an In-Reply-To with a line break")
	}
}
