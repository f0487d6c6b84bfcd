package records

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// What reaches the admin's terminal and spreadsheet. Everything mentord
// prints holds text others wrote (a mentee's answers, names, a stranger's
// From): it must not act on the terminal, nor run in a spreadsheet.

// Hidden reports whether r is a character a terminal acts on or that hides
// what text says: C0 controls but tab and line feed, DEL, C1 controls (U+009B
// is CSI, U+009D OSC), and the bidirectional embedding, override and isolate
// controls (U+202A..U+202E, U+2066..U+2069) that show text reversed.
func Hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Clean drops the hidden characters from s, keeping line breaks (a CR LF
// pair becomes a line feed) and tabs; invalid UTF-8 becomes U+FFFD.
func Clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if Hidden(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// printable is Clean, for the text and Markdown documents.
func printable(s string) string { return Clean(s) }

// csvCell makes s safe as a spreadsheet cell: cleaned, and with a leading
// single quote when it starts with a character a spreadsheet takes for the
// start of a formula (=, +, -, @, tab or carriage return: OWASP "CSV
// Injection"). The quote shows the cell as text; the rest is unchanged.
func csvCell(s string) string {
	s = Clean(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cellWriter is an RFC 4180 writer (encoding/csv) whose every cell goes
// through csvCell.
type cellWriter struct{ *csv.Writer }

func newCSV(w io.Writer) cellWriter { return cellWriter{csv.NewWriter(w)} }

func (w cellWriter) Write(record []string) error {
	cells := make([]string, len(record))
	for i, c := range record {
		cells[i] = csvCell(c)
	}
	return w.Writer.Write(cells)
}

// WriteJSON writes v as indented JSON in which every hidden character that
// encoding/json leaves as it is (DEL, C1, bidi controls) is escaped as \uXXXX:
// the data is unchanged for a program, and inert on a terminal.
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := make([]byte, 0, b.Len())
	for rest := b.Bytes(); len(rest) > 0; {
		r, n := utf8.DecodeRune(rest)
		if Hidden(r) { // inside a string: the encoder escaped C0 controls itself
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, rest[:n]...)
		}
		rest = rest[n:]
	}
	_, err := w.Write(out)
	return err
}
