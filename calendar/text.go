package calendar

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLineOctets is the longest content line RFC 5545 section 3.1 allows,
// excluding the CRLF.
const maxLineOctets = 75

// cleanText prepares a TEXT value (RFC 5545 section 3.3.11): invalid UTF-8
// becomes U+FFFD, CRLF and lone CR become LF, and control characters other
// than LF and HTAB (which TEXT cannot hold) are dropped. go-ical escapes the
// rest; it rejects a raw CR, hence the conversion.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n', r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// cleanLine is cleanText for one-line values (SUMMARY, LOCATION): line
// breaks and tabs become spaces, and surrounding space is trimmed.
func cleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, cleanText(s))
	return strings.TrimSpace(s)
}

// cleanName makes a display name safe as a CN parameter value (RFC 5545
// section 3.1) and read alike by every client:
//   - '"' cannot stand in a parameter value and go-ical refuses to encode
//     it: it becomes an apostrophe.
//   - A '^' that would start an RFC 6868 escape (^^, ^', ^n, ^N) becomes an
//     apostrophe: ical.js decodes those, go-ical and python-icalendar do not.
//   - A backslash becomes '/': RFC 5545 has no escapes in parameter values,
//     but ical.js unescapes them like TEXT and python-icalendar 4 rewrites
//     them too.
//
// Validate has already refused control characters; any left are dropped.
func cleanName(s string) string {
	s = strings.ReplaceAll(cleanLine(s), `"`, "'")
	s = strings.ReplaceAll(s, `\`, "/")
	if !strings.Contains(s, "^") {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '^' && strings.IndexByte("^'nN", b[i+1]) >= 0 {
			b[i] = '\''
		}
	}
	return string(b)
}

// fold folds every CRLF-terminated content line of b at maxLineOctets
// (RFC 5545 section 3.1): a continuation line starts with one space, which
// counts toward its 75 octets, and no UTF-8 sequence is split.
func fold(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/(maxLineOctets-1)*3)
	for len(b) > 0 {
		line := b
		if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
			line, b = b[:i], b[i+2:]
		} else {
			b = nil
		}
		foldLine(&out, line)
	}
	return out.Bytes()
}

func foldLine(out *bytes.Buffer, line []byte) {
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		for cut > limit-utf8.UTFMax && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if !utf8.RuneStart(line[cut]) {
			cut = limit // not UTF-8 here: nothing to keep whole
		}
		out.Write(line[:cut])
		out.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLineOctets - 1
	}
	out.Write(line)
	out.WriteString("\r\n")
}
