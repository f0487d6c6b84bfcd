package mail

import (
	"encoding/base64"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names and addresses as the message carries them. The admin's commands check
// a person with CheckName and CheckAddress, the very checks Message.Bytes
// applies, so that nobody is accepted who can never be mailed.

// unmailable is a problem with a name or an address. Its message names the
// field and the reason, never the value: it is safe to log.
type unmailable struct{ what, problem string }

func (e *unmailable) Error() string        { return "the " + e.what + " " + e.problem }
func (e *unmailable) Is(target error) bool { return target == ErrUnmailable }

// maxAddress is the longest address SMTP takes (RFC 5321 section 4.5.3.1.3,
// the path limit less the angle brackets).
const maxAddress = 254

// CheckAddress tells why addr cannot be a sender or recipient. It must be a
// plain addr-spec (local@domain, RFC 5322 section 3.4.1) that net/mail, the
// parser go-mail uses, reads back as itself, in printable ASCII: mentord
// asks no server for SMTPUTF8 (RFC 6531), and a server without it refuses
// any other address; an internationalised domain is written in its xn-- form.
func CheckAddress(addr string) error {
	bad := func(problem string) error { return &unmailable{"address", problem} }
	switch {
	case addr == "":
		return bad("is empty")
	case len(addr) > maxAddress:
		return bad(fmt.Sprintf("is longer than %d characters", maxAddress))
	}
	for _, r := range addr {
		if r <= ' ' || r >= 0x7f {
			return bad("holds a space, a control character or a character other than ASCII, which mail servers " +
				"without SMTPUTF8 refuse (write an internationalised domain in its xn-- form)")
		}
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || !strings.Contains(addr, "@") {
		return bad("is not a plain address local@domain")
	}
	return nil
}

// CheckName tells why name cannot be a display name: it must be valid UTF-8
// without control characters (a terminal escape, a line break), line or
// paragraph separators, or the bidirectional embedding, override and isolate
// controls (U+202A..U+202E, U+2066..U+2069), which show a name other than it
// is. An empty name is fine (the address stands alone).
func CheckName(name string) error {
	bad := func(problem string) error { return &unmailable{"name", problem} }
	if !utf8.ValidString(name) {
		return bad("is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return bad("holds a control character (a line break, a tab, a terminal escape)")
		case r == '\u2028' || r == '\u2029':
			return bad("holds a line or paragraph separator")
		case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			return bad("holds a bidirectional override, embedding or isolate character, which shows it reversed or reordered")
		}
	}
	return nil
}

// addressField is the header value of a named mailbox, after CheckName and
// CheckAddress. net/mail writes it (quoting the name, or encoding it in
// RFC 2047 encoded-words when it is not plain ASCII), except for a name that
// holds "=?": text that looks like an encoded-word would be decoded by many
// clients even inside quotes, so the whole name is encoded and reads back as
// the literal text typed.
func addressField(a Address) (string, error) {
	if err := CheckName(a.Name); err != nil {
		return "", err
	}
	if err := CheckAddress(a.Email); err != nil {
		return "", err
	}
	if strings.Contains(a.Name, "=?") {
		return encodeWords(a.Name) + " " + (&netmail.Address{Address: a.Email}).String(), nil
	}
	return (&netmail.Address{Name: a.Name, Address: a.Email}).String(), nil
}

// headerText is an unstructured header value (the Subject) for go-mail, which
// encodes it with its word encoder (Q encoding, UTF-8) when it is not plain
// ASCII; plain ASCII passes unencoded. Text holding "=?" is encoded whole
// here, so a client shows it as typed instead of decoding what it claims.
func headerText(s string) string {
	if strings.Contains(s, "=?") {
		return encodeWords(s)
	}
	return s
}

// encodeWords writes s as RFC 2047 encoded-words in B encoding (base64 of
// UTF-8), each at most 75 characters and split between characters (RFC 2047
// sections 2 and 5); the spaces between them are dropped by decoders (section
// 6.2). It is for text the standard library's encoder would leave as it is
// (plain ASCII), which mime.WordEncoder cannot be told to encode.
func encodeWords(s string) string {
	const prefix, suffix = "=?UTF-8?b?", "?="
	const maxBytes = (75 - len(prefix) - len(suffix)) / 4 * 3 // 45 bytes: 60 base64 characters
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, prefix+base64.StdEncoding.EncodeToString([]byte(s[:n]))+suffix)
		s = s[n:]
	}
	return strings.Join(words, " ")
}
