package records

import (
	"bytes"
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
