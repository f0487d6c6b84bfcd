package records

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Markdown keeps the mentee's text as it was written: nothing in it is markup.
// An answer starts under its question's first letter, for "10." as for "1.".
func TestTextAnswersAlign(t *testing.T) {
	var d doc
	d.answer("1. Q?", "one\ntwo", "corrected once")
	d.answer("10. Q?", "ten", "")
	var b bytes.Buffer
	if err := d.writeText(&b); err != nil {
		t.Fatal(err)
	}
	want := "    1. Q?\n       one\n       two\n       (corrected once)\n    10. Q?\n        ten\n"
	if got := b.String(); got != want {
		t.Errorf("text =\n%q\nwant\n%q", got, want)
	}
}

func TestMarkdownEscapes(t *testing.T) {
	var d doc
	d.answer("1. Q?", "a *b* <script>x</script> [l](u) | \x1b[31mred\n\n- one\n- two\nthree", "")
	var b bytes.Buffer
	if err := d.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "**1. Q?**\n\n> a \\*b\\* \\<script\\>x\\</script\\> \\[l\\](u) \\| \\[31mred\n>\n> - one\n> - two\\\n> three\n"
	if got := b.String(); got != want {
		t.Errorf("markdown =\n%s\nwant\n%s", got, want)
	}
}

// A cell a spreadsheet would take for a formula gets a leading quote (OWASP
// "CSV Injection"); hidden characters go first, so none can smuggle one in.
func TestCSVCells(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\r=x": "'=x", "\x1b=x": "'=x", "\u202e=x": "'=x", "a=b": "a=b", "": "", "12": "12",
		"line\r\nnext": "line\nnext", "'quoted": "'quoted",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// JSON keeps the text whole for programs, with every hidden character
// escaped, so printing it to a terminal does nothing.
func TestJSONEscapesHiddenCharacters(t *testing.T) {
	in := "a\x1b]0;t\x07b\u009bc\u202ed\x7fe\u00e9"
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]string{"s": in}); err != nil {
		t.Fatal(err)
	}
	for _, r := range b.String() {
		if Hidden(r) && r != '\n' {
			t.Fatalf("JSON holds %U: %q", r, b.String())
		}
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["s"] != in {
		t.Errorf("JSON read back = %q, %v; want %q", back["s"], err, in)
	}
}
