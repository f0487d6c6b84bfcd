package decode

import (
	"errors"
	netmail "net/mail"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneMailbox(t *testing.T) {
	for _, c := range []struct {
		name       string
		values     []string
		addr, disp string
		err        error
	}{
		{"name and address", []string{`Bo Jensen <Bo@Example.ORG>`}, "bo@example.org", "Bo Jensen", nil},
		{"bare address", []string{`bo@example.org`}, "bo@example.org", "", nil},
		{"angle address", []string{`<bo@example.org>`}, "bo@example.org", "", nil},
		{"quoted name with comma", []string{`"Jensen, Bo" <bo@example.org>`}, "bo@example.org", "Jensen, Bo", nil},
		{"name with a dot (obs-phrase)", []string{`Bo J. Jensen <bo@example.org>`}, "bo@example.org", "Bo J. Jensen", nil},
		{"comment", []string{`bo@example.org (Bo Jensen)`}, "bo@example.org", "Bo Jensen", nil},
		{"encoded word", []string{`=?iso-8859-1?Q?Joaqu=EDn_N=FA=F1ez?= <joaquin@example.org>`}, "joaquin@example.org", "Joaquín Núñez", nil},
		{"raw latin-1 name", []string{"\"Bj\xf8rn\" <bjorn@example.org>"}, "bjorn@example.org", "Bjørn", nil},
		{"raw utf-8 name", []string{"Bjørn Ødegård <bjorn@example.org>"}, "bjorn@example.org", "Bjørn Ødegård", nil},
		{"colon in a quoted name", []string{`"Re: Bo" <bo@example.org>`}, "bo@example.org", "Re: Bo", nil},

		{"missing", nil, "", "", ErrNoField},
		{"twice", []string{`bo@example.org`, `eve@x.example`}, "", "", ErrManyFields},
		{"empty", []string{``}, "", "", ErrNotOneMailbox},
		{"no closing bracket", []string{`"bo@example.org" <evil@x.example`}, "", "", ErrNotOneMailbox},
		{"two bare addresses", []string{`bo@example.org evil@x.example`}, "", "", ErrNotOneMailbox},
		{"semicolon", []string{`bo@example.org;evil@x.example`}, "", "", ErrNotOneMailbox},
		{"list", []string{`bo@example.org, evil@x.example`}, "", "", ErrNotOneMailbox},
		{"list, trailing comma", []string{`bo@example.org,`}, "", "", ErrNotOneMailbox},
		{"group of one", []string{`Friends: bo@example.org;`}, "", "", ErrGroup},
		{"empty group", []string{`undisclosed-recipients:;`}, "", "", ErrGroup},
		{"name only", []string{`Bo Jensen`}, "", "", ErrNotOneMailbox},
		{"no domain", []string{`MAILER-DAEMON`}, "", "", ErrNotOneMailbox},
		{"at in the display name", []string{`bo@example.org <evil@x.example>`}, "", "", ErrNotOneMailbox},
		{"something after the address", []string{`Bo <bo@example.org> evil@x.example`}, "", "", ErrNotOneMailbox},
		{"two angle addresses", []string{`Bo <bo@example.org> <evil@x.example>`}, "", "", ErrNotOneMailbox},
		{"nested brackets", []string{`Bo <<bo@example.org>>`}, "", "", ErrNotOneMailbox},
		{"quoted at in local part", []string{`"bo@example.org"@x.example`}, "", "", ErrNotOneMailbox},
		{"quoted angle bracket in local part", []string{`"<"@example.org`}, "", "", ErrNotOneMailbox},
		{"quoted space in local part", []string{`"bo jensen"@example.org`}, "", "", ErrNotOneMailbox},
		{"quoted plain local part", []string{`"bo"@example.org`}, "", "", ErrNotOneMailbox},
		{"escaped local part", []string{`"b\o"@example.org`}, "", "", ErrNotOneMailbox},
		{"domain literal", []string{`bo@[192.0.2.1]`}, "", "", ErrNotOneMailbox},
		{"trailing dot in the domain", []string{`bo@example.org.`}, "", "", ErrNotOneMailbox},
		{"plus and dots", []string{`Bo.J+mentoring@sub.example.org`}, "bo.j+mentoring@sub.example.org", "", nil},
		{"utf-8 local part", []string{`jørgen@example.dk`}, "jørgen@example.dk", "", nil},
		{"too long", []string{strings.Repeat("a", 3000) + "@example.org"}, "", "", ErrNotOneMailbox},
	} {
		addr, name, err := OneMailbox(c.values)
		if addr != c.addr || name != c.disp || !errors.Is(err, c.err) {
			t.Errorf("%s: OneMailbox(%q) = %q, %q, %v; want %q, %q, %v", c.name, c.values, addr, name, err, c.addr, c.disp, c.err)
		}
	}
}

// FuzzOneMailbox checks the strict reading of From and Sender: it never
// panics, and whatever it accepts is one plain address that net/mail reads
// the same way on its own, as one mailbox and as a list of exactly one, and
// that appears in the field as written.
func FuzzOneMailbox(f *testing.F) {
	for _, s := range []string{
		`Bo Jensen <bo@example.org>`, `bo@example.org`, `"Jensen, Bo" <bo@example.org>`, `bo@example.org (Bo)`,
		`=?utf-8?q?Bo_J=C3=B8rgensen?= <bo@example.org>`, `"q@example.org" <evil@x.example`, `q@example.org evil@x.example`,
		`a;b`, `a, b`, `g: a@b.example;`, `g:;`, `<@route:bo@example.org>`, `"a\"b" <c@d.example>`, `(c (nested)) a@b.example`,
		"\"Bj\xf8rn\" <b@example.org>", `Bo <bo@example.org>, `, `=?utf-8?b?PGV2aWxAeC5leGFtcGxlPg==?= <bo@example.org>`,
	} {
		f.Add(s, "")
		f.Add(s, "eve@x.example")
	}
	f.Fuzz(func(t *testing.T, v, second string) {
		values := []string{v}
		if second != "" {
			values = append(values, second)
		}
		addr, name, err := OneMailbox(values)
		if err != nil {
			if addr != "" || name != "" {
				t.Fatalf("OneMailbox(%q) = %q, %q with error %v", values, addr, name, err)
			}
			return
		}
		if len(values) != 1 {
			t.Fatalf("OneMailbox accepted %d fields", len(values))
		}
		if addr != asciiLower(addr) || strings.Count(addr, "@") != 1 || strings.ContainsAny(addr, " \t\r\n<>") || !utf8.ValidString(addr) {
			t.Fatalf("OneMailbox(%q) = %q: not a plain lower-case address", v, addr)
		}
		u := toUTF8(strings.TrimSpace(v))
		p := &netmail.AddressParser{WordDecoder: wordDecoder}
		one, err := p.Parse(u)
		if err != nil || asciiLower(one.Address) != addr {
			t.Fatalf("OneMailbox(%q) = %q, but net/mail.ParseAddress gives %v, %v", v, addr, one, err)
		}
		list, err := p.ParseList(u)
		if err != nil || len(list) != 1 || asciiLower(list[0].Address) != addr {
			t.Fatalf("OneMailbox(%q) = %q, but as a list net/mail gives %v, %v", v, addr, list, err)
		}
		if !strings.Contains(asciiLower(u), addr) {
			t.Fatalf("OneMailbox(%q) = %q: an address the field does not hold as written", v, addr)
		}
	})
}

// Only ASCII letters are lower-cased: a Kelvin sign stays what it is.
func TestOneMailboxLowersASCIIOnly(t *testing.T) {
	addr, _, err := OneMailbox([]string{"\u212aIM@Example.ORG"})
	if err != nil || addr != "\u212aim@example.org" {
		t.Errorf("OneMailbox = %q, %v; want %q", addr, err, "\u212aim@example.org")
	}
}
