package decode

import (
	"errors"
	"fmt"
	"strings"
)

// Why an originator field is not one mailbox.
var (
	ErrNoField       = errors.New("missing")
	ErrManyFields    = errors.New("given more than once")
	ErrGroup         = errors.New("a group (RFC 5322 section 3.4), not one mailbox")
	ErrNotOneMailbox = errors.New("not exactly one mailbox")
)

// maxOriginatorBytes bounds one From or Sender value; a real one is short.
const maxOriginatorBytes = 2 << 10

// OneMailbox reads an originator field (From or Sender, RFC 5322 section
// 3.6.2) strictly: the field must occur once (values holds every occurrence)
// and hold exactly one mailbox, "Name <local@domain>" or "local@domain", as
// net/mail parses RFC 5322 section 3.4, with no group syntax and nothing
// after it. Unlike the rest of this package it does not guess: a field that
// is not exactly one mailbox gives an error saying why, and no address.
// Bytes that are not UTF-8 are read as windows-1252 first, as everywhere
// here. addr has its ASCII letters lower-cased; name has its RFC 2047 words
// decoded.
func OneMailbox(values []string) (addr, name string, err error) {
	switch {
	case len(values) == 0:
		return "", "", ErrNoField
	case len(values) > 1:
		return "", "", fmt.Errorf("%w (%d times)", ErrManyFields, len(values))
	}
	v := strings.TrimSpace(values[0])
	switch {
	case v == "":
		return "", "", fmt.Errorf("%w: empty", ErrNotOneMailbox)
	case len(v) > maxOriginatorBytes:
		return "", "", fmt.Errorf("%w: over %d bytes", ErrNotOneMailbox, maxOriginatorBytes)
	}
	v = toUTF8(v)
	if isGroup(v) {
		return "", "", ErrGroup
	}
	// The errors never quote the field: it may hold addresses, and reasons
	// are logged at info level.
	a, err := addrParser.Parse(v)
	if err != nil {
		if list, lerr := addrParser.ParseList(v); lerr == nil && len(list) > 1 {
			return "", "", fmt.Errorf("%w: a list of %d", ErrNotOneMailbox, len(list))
		}
		return "", "", fmt.Errorf("%w (RFC 5322 section 3.4)", ErrNotOneMailbox)
	}
	addr = asciiLower(a.Address)
	// The address must be written as it is: no quoted or escaped local part
	// ("b\o"@x is bo@x to net/mail, and something else to a loose reader).
	if !plainAddress(addr) || !strings.Contains(asciiLower(v), addr) {
		return "", "", fmt.Errorf("%w: the address is not a plain local@domain", ErrNotOneMailbox)
	}
	return addr, a.Name, nil
}

// plainAddress reports local@domain as people's addresses are written: a
// dot-atom local part (RFC 5322 section 3.4.1; UTF-8 allowed, RFC 6532) and a
// host name. A local part that needs quoting ("<"@x, "a b"@x, "a@b"@x) or a
// domain literal is refused: no participant has one, and each reads
// differently to different parsers.
func plainAddress(addr string) bool {
	at := strings.IndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || at != strings.LastIndexByte(addr, '@') {
		return false
	}
	local, domain := addr[:at], addr[at+1:]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x80 && !isAlnum(c) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", rune(c)) {
			return false
		}
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c < 0x80 && !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return !strings.HasPrefix(local, ".") && !strings.HasSuffix(local, ".") && !strings.Contains(local, "..") &&
		!strings.HasPrefix(domain, ".") && !strings.Contains(domain, "..")
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// asciiLower lower-cases ASCII letters only. Unicode lower-casing would make
// other characters ASCII ones (the Kelvin sign a "k"), and so another address
// one of the roster's.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isGroup reports a colon outside quoted strings, comments and angle
// brackets: the "display-name:" that opens a group (RFC 5322 section 3.4).
// A mailbox has none there (a colon is a special), but net/mail reads a
// group of one member as that member.
func isGroup(v string) bool {
	depth, angle, quoted := 0, false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			i++ // a quoted-pair
		case quoted:
			quoted = c != '"'
		case depth > 0:
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
		case c == '"':
			quoted = true
		case c == '(':
			depth = 1
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ':' && !angle:
			return true
		}
	}
	return false
}
