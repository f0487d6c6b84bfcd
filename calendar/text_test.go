package calendar

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, line string
	}{
		{"empty value", "X:"},
		{"exactly 75", "SUMMARY:" + strings.Repeat("a", 67)},
		{"76", "SUMMARY:" + strings.Repeat("a", 68)},
		{"long ascii", "DESCRIPTION:" + strings.Repeat("The quick brown fox jumps over the lazy dog. ", 10)},
		{"spaces at fold points", "SUMMARY:" + strings.Repeat(" ", 200)},
		{"danish", "SUMMARY:" + strings.Repeat("Ærø, Øresund og Åbenrå: blåbær, æbler og røde pølser. ", 6)},
		{"danish at boundary", "SUMMARY:" + strings.Repeat("a", 66) + strings.Repeat("æ", 40)},
		{"cjk", "DESCRIPTION:" + strings.Repeat("日本語の文章と中文句子", 20)},
		{"cjk offset", "DESCRIPTION:x" + strings.Repeat("日本語の文章と中文句子", 20)},
		{"emoji", "SUMMARY:" + strings.Repeat("🎉👩🏽‍🏫🇩🇰", 20)},
		{"emoji offsets", "SUMMARY:ab" + strings.Repeat("🎉x😀yz", 30)},
		{"mixed", "LOCATION:" + strings.Repeat("aæ日🎉", 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.line + "\r\n")
			out := fold(in)
			lines := bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n"))
			for i, l := range lines {
				if len(l) > maxLineOctets {
					t.Errorf("line %d has %d octets", i, len(l))
				}
				if i > 0 && (len(l) < 2 || l[0] != ' ') {
					t.Errorf("continuation line %d = %q, want a space and content", i, l)
				}
				if !utf8.Valid(l) {
					t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
				}
				// Fold as late as possible: a line is only short when
				// the next character would not have fitted.
				if i < len(lines)-1 {
					_, size := utf8.DecodeRune(lines[i+1][1:])
					if len(l)+size <= maxLineOctets {
						t.Errorf("line %d folded early: %d octets, next rune %d", i, len(l), size)
					}
				}
			}
			if len(tt.line) <= maxLineOctets && len(lines) != 1 {
				t.Errorf("fold(%d octets) made %d lines, want 1", len(tt.line), len(lines))
			}
			if got := unfold(out); !bytes.Equal(got, in) {
				t.Errorf("unfold(fold(x)) = %q, want %q", got, in)
			}
		})
	}
}

func TestFoldManyLines(t *testing.T) {
	in := "A:1\r\nB:" + strings.Repeat("ø", 100) + "\r\nC:3\r\n"
	out := fold([]byte(in))
	if got := string(unfold(out)); got != in {
		t.Errorf("unfold(fold(x)) = %q, want %q", got, in)
	}
	if !strings.HasPrefix(string(out), "A:1\r\nB:") || !strings.HasSuffix(string(out), "\r\nC:3\r\n") {
		t.Errorf("fold() = %q: short lines must stay as they are", out)
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, text, line string }{
		{"plain", "plain", "plain"},
		{"a\r\nb\rc\nd", "a\nb\nc\nd", "a b c d"},
		{"tab\tkept", "tab\tkept", "tab kept"},
		{"bell\a nul\x00 esc\x1b del\x7f c1\u0085", "bell nul esc del c1", "bell nul esc del c1"},
		{"bad \xff utf8", "bad \uFFFD utf8", "bad \uFFFD utf8"},
		{"  padded\n", "  padded\n", "padded"},
		{"æøå 日本 🎉", "æøå 日本 🎉", "æøå 日本 🎉"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.text {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.text)
		}
		if got := cleanLine(tt.in); got != tt.line {
			t.Errorf("cleanLine(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Søren Ærø", "Søren Ærø"},
		{` Pat "PJ" O'Neil `, `Pat 'PJ' O'Neil`},
		{"Smith, Jo; Dept: HR", "Smith, Jo; Dept: HR"},
		{"a^'b", "a''b"},
		{`a^"b`, "a''b"},
		{"a^^b", "a'^b"},
		{"a^nb^Nc", "a'nb'Nc"},
		{"a^b^", "a^b^"},
		{`DOM\user\n, x\;y`, "DOM/user/n, x/;y"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameQuotingInOutput(t *testing.T) {
	e := with(func(e *Event) { e.Attendees[0].Name = `Smith, "Jo"; Dept: HR` })
	b, err := Request(e)
	if err != nil {
		t.Fatalf("Request() error = %v", err)
	}
	if want := `ATTENDEE;CN="Smith, 'Jo'; Dept: HR";`; !strings.Contains(string(unfold(b)), want) {
		t.Errorf("Request() lacks %q in\n%s", want, unfold(b))
	}
}
