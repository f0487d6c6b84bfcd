package decode

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// maxTextBytes bounds the decoded text of one part.
const maxTextBytes = 2 << 20

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 section 6),
// leniently: bad characters are skipped, never an error.
func decodeTransfer(b []byte, cte string) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	}
	return b
}

func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 { // one dangling character carries no whole byte
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable (RFC 2045 section 6.7): =XX escapes, soft
// line breaks, and trailing white space deleted. A stray '=' is kept.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		end, next := lineAt(b, 0)
		ln := bytes.TrimRight(b[:end], " \t")
		soft := false
		for i := 0; i < len(ln); i++ {
			c := ln[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i == len(ln)-1 {
				soft = true
				break
			}
			if i+2 < len(ln) && isHex(ln[i+1]) && isHex(ln[i+2]) {
				out = append(out, unhex(ln[i+1])<<4|unhex(ln[i+2]))
				i += 2
				continue
			}
			out = append(out, c)
		}
		if !soft && next > end {
			out = append(out, '\n')
		}
		b = b[next:]
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// lookupCharset maps a MIME charset label to a decoder the way browsers do
// (WHATWG labels: iso-8859-1 and us-ascii read as windows-1252). nil means
// UTF-8 with the windows-1252 fallback.
func lookupCharset(label string) encoding.Encoding {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit", "default":
		return nil
	}
	e, err := htmlindex.Get(label)
	if err != nil || e == unicode.UTF8 {
		return nil
	}
	return e
}

// charsetReader is the mime.WordDecoder hook.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	e := lookupCharset(label)
	if e == nil {
		return r, nil
	}
	return e.NewDecoder().Reader(r), nil
}

// decodeCharset turns b, declared as label, into UTF-8. A single-byte label on
// bytes that are valid multi-byte UTF-8 is taken to be a mislabel.
func decodeCharset(b []byte, label string) string {
	if len(b) > maxTextBytes {
		b = b[:maxTextBytes]
	}
	e := lookupCharset(label)
	if e == nil || (isSingleByte(e) && hasHighBytes(b) && utf8.Valid(b)) {
		return toUTF8(string(b))
	}
	out, err := e.NewDecoder().Bytes(b)
	if err != nil {
		return toUTF8(string(b))
	}
	return string(out)
}

func isSingleByte(e encoding.Encoding) bool {
	_, ok := e.(*charmap.Charmap)
	return ok
}

func hasHighBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// toUTF8 returns s when it is valid UTF-8; otherwise each byte that is not
// part of a valid sequence is read as windows-1252.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = charmap.Windows1252.DecodeByte(s[i])
		}
		sb.WriteRune(r)
		i += n
	}
	return sb.String()
}

// unflow undoes format=flowed (RFC 3676 section 4): a line ending in a space
// continues on the next line of the same quote depth; space-stuffing goes;
// with DelSp=yes the trailing space goes too. The "-- " line stays as it is.
func unflow(s string, delsp bool) string {
	var sb strings.Builder
	sb.Grow(len(s))
	open, openDepth := false, 0
	for ln := range strings.Lines(s) {
		ln = strings.TrimRight(ln, "\r\n")
		depth := 0
		for depth < len(ln) && ln[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(ln[depth:], " ")
		if open && depth != openDepth {
			sb.WriteByte('\n')
			open = false
		}
		if !open {
			if depth > 0 {
				sb.WriteString(strings.Repeat(">", depth))
				sb.WriteByte(' ')
			}
		}
		soft := strings.HasSuffix(content, " ") && content != "-- "
		if soft && delsp {
			content = content[:len(content)-1]
		}
		sb.WriteString(content)
		if soft {
			open, openDepth = true, depth
			continue
		}
		open = false
		sb.WriteByte('\n')
	}
	return sb.String()
}

// NormalizeText makes line ends LF, turns no-break and other fixed-width spaces
// into plain spaces, and drops byte-order marks, zero-width spaces and the
// private mark the HTML renderer uses.
func NormalizeText(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', 0xc2, 0xe2, 0xee, 0xef: // CR, or the first byte of one of the runes replaced
			return textReplacer.Replace(s)
		}
	}
	return s
}

var textReplacer = strings.NewReplacer(
	"\r\n", "\n", "\r", "\n",
	"\u00a0", " ", "\u2007", " ", "\u202f", " ",
	"\ufeff", "", "\u200b", "", QuoteStart, "",
	"\u2028", "\n", "\u2029", "\n",
)
