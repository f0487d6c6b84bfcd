package decode

import (
	"strings"
	"testing"
)

func TestRenderHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"divs and br", "<div>Hi,</div><div><br></div><div>1. One<br>2. Two</div>",
			"Hi,\n\n1. One\n2. Two\n"},
		{"entities and nbsp", "<p>Caf&eacute; &amp; tea&nbsp;&lt;3</p>", "Café & tea <3\n"},
		{"collapsed white space", "<div>a\n   b\t c</div>", "a b c\n"},
		{"ordered list with start", "<ol><li>A</li><li>B</li></ol><ol start=\"4\"><li>D</li></ol>",
			"1. A\n2. B\n4. D\n"},
		{"gmail quote", "<div>Mine</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Tue wrote:</div>" +
			"<blockquote class=\"gmail_quote\">Theirs<br>more</blockquote></div>",
			"Mine\n> On Tue wrote:\n> Theirs\n> more\n"},
		{"apple cite", "<div>Mine</div><blockquote type=\"cite\"><div>Theirs</div></blockquote>", "Mine\n> Theirs\n"},
		{"gmail indent is no quote", "<blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">Indented</blockquote>", "Indented\n"},
		{"outlook reply header", "<p class=MsoNormal>Mine</p><div id=\"divRplyFwdMsg\"><b>From:</b> X</div><div>Theirs</div>",
			"Mine\n" + QuoteStart + "\nFrom: X\nTheirs\n"},
		{"outlook border div", "<div class=WordSection1><p class=MsoNormal>Mine</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=MsoNormal><b>Fra:</b> X</p></div><p class=MsoNormal>Theirs</p></div>",
			"Mine\n" + QuoteStart + "\nFra: X\nTheirs\n"},
		{"outlook empty paragraphs", "<p class=MsoNormal>Hej</p><p class=MsoNormal>&nbsp;</p><p class=MsoNormal>1. En</p>", "Hej\n\n1. En\n"},
		{"zimbra", "<div>Mine</div><hr id=\"zwchr\" data-marker=\"__DIVIDER__\"><div data-marker=\"__QUOTED_TEXT__\">Theirs</div>",
			"Mine\n" + QuoteStart + "\n> Theirs\n"},
		{"yahoo", "<div>Mine</div><div class=\"yahoo_quoted\"><div>On Thursday wrote:</div><div>Theirs</div></div>",
			"Mine\n> On Thursday wrote:\n> Theirs\n"},
		{"thunderbird", "<p>Mine</p><div class=\"moz-cite-prefix\">On 9/3 A wrote:<br></div><blockquote type=\"cite\">Theirs</blockquote>",
			"Mine\n\n> On 9/3 A wrote:\n> Theirs\n"},
		{"signatures left out", "<div>Mine</div><div class=\"gmail_signature\">Name<br>Title</div><div id=\"Signature\">Sig</div>", "Mine\n"},
		{"hidden and scripts", "<style>p{}</style><div style=\"display:none\">preheader</div><script>x()</script><div>Seen</div>", "Seen\n"},
		{"pre keeps lines", "<pre>a\n  b</pre>", "a\n  b\n"},
		{"private mark in input is dropped", "<div>a\ue000b</div>", "ab\n"},
		{"emoji images keep their emoji", "<div>Fun <img alt=\"😅\" data-emoji=\"😅\" src=\"x.png\"> <img alt=\"logo\" src=\"l.png\"></div>", "Fun 😅\n"},
	} {
		if got := renderHTML(tc.in); got != tc.want {
			t.Errorf("%s: renderHTML = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRenderHTMLBounded(t *testing.T) {
	deep := strings.Repeat("<div>", 50_000) + "x" + strings.Repeat("</div>", 50_000)
	_ = renderHTML(deep)
	wide := strings.Repeat("<p>word</p>", 300_000)
	if got := renderHTML(wide); len(got) > 2*maxHTMLBytes {
		t.Errorf("rendered %d bytes from a capped input", len(got))
	}
}
