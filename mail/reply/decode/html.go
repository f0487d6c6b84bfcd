package decode

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on HTML rendering: input bytes, nodes visited, nesting followed.
const (
	maxHTMLBytes = 1 << 20
	maxHTMLNodes = 200_000
	maxHTMLDepth = 256
)

// QuoteStart is a line the renderer writes where an unprefixed quote starts
// (Outlook's divRplyFwdMsg, Zimbra's divider). Input text never holds it:
// NormalizeText removes it.
const QuoteStart = "\ue000"

// renderHTML renders an HTML body to text the way a reader sees it. Quote
// containers of the known clients become '>' lines; the start of an Outlook or
// Zimbra style quote becomes a QuoteStart line; signatures the client marks are
// left out.
func renderHTML(src string) string {
	if len(src) > maxHTMLBytes {
		src = src[:maxHTMLBytes]
	}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	r := &renderer{}
	r.node(doc, 0)
	return r.sb.String()
}

type renderer struct {
	sb     strings.Builder
	col    int  // bytes written on the current line
	quote  int  // '>' depth of what is written now
	pre    int  // inside <pre>
	blank  bool // a blank line is due before the next text
	lists  []int
	nodes  int
	lastSp bool
	empty  bool // the last line written is empty
}

func (r *renderer) node(n *html.Node, depth int) {
	r.nodes++
	if r.nodes > maxHTMLNodes || depth > maxHTMLDepth {
		return
	}
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.ElementNode:
		r.element(n, depth)
		return
	case html.DocumentNode:
		r.children(n, depth)
	}
}

func (r *renderer) children(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c, depth+1)
	}
}

func (r *renderer) element(n *html.Node, depth int) {
	if skipElement(n) {
		return
	}
	soft := startsSoftQuote(n)
	if soft {
		r.endLine()
		r.sb.WriteString(QuoteStart + "\n")
		r.empty, r.blank = false, false
	}
	if isHardQuote(n) {
		r.endLine()
		r.quote++
		defer func() { r.endLine(); r.quote-- }()
	}
	block, para := isBlock(n.DataAtom), isParagraph(n)
	if block {
		r.endLine()
		r.blank = r.blank || para
	}
	switch n.DataAtom {
	case atom.Br:
		r.newline()
		return
	case atom.Img:
		// Webmail shows typed emoji as images; their alt text is the emoji.
		if alt := attr(n, "alt"); alt != "" && runeLen(alt) <= 2 && firstRune(alt) > 0x2000 {
			r.text(alt)
		}
		return
	case atom.Hr:
		r.endLine()
		r.blank = !soft
		return
	case atom.Pre:
		r.pre++
		defer func() { r.pre-- }()
	case atom.Ol, atom.Ul:
		r.lists = append(r.lists, listStart(n))
		defer func() { r.lists = r.lists[:len(r.lists)-1] }()
	case atom.Li:
		r.text(r.bullet())
	case atom.Td, atom.Th:
		if r.col > 0 {
			r.text(" ")
		}
	}
	r.children(n, depth)
	if block {
		r.endLine()
		r.blank = r.blank || para
	}
}

// text writes a text node: white space collapsed as a browser does, except in <pre>.
func (r *renderer) text(s string) {
	if r.col == 0 && strings.Contains(s, "\u00a0") && strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", "")) == "" {
		r.newline() // Outlook's empty paragraph, <p>&nbsp;</p>: an empty line
		return
	}
	s = NormalizeText(s)
	if r.pre > 0 {
		for i, ln := range strings.Split(s, "\n") {
			if i > 0 {
				r.newline()
			}
			r.write(ln)
		}
		return
	}
	lead := s != "" && isHTMLSpace(rune(s[0]))
	for i, w := range strings.FieldsFunc(s, isHTMLSpace) {
		if r.col > 0 && (i > 0 || lead || r.lastSp) {
			r.write(" ")
		}
		r.write(w)
		r.lastSp = false
	}
	if s != "" && isHTMLSpace(rune(s[len(s)-1])) {
		r.lastSp = true
	}
}

func isHTMLSpace(c rune) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f'
}

// write puts s on the current line, opening it with the quote prefix.
func (r *renderer) write(s string) {
	if s == "" {
		return
	}
	if r.col == 0 {
		if r.blank && r.sb.Len() > 0 && !r.empty {
			r.sb.WriteByte('\n')
		}
		r.blank, r.empty = false, false
		if r.quote > 0 {
			r.sb.WriteString(strings.Repeat("> ", r.quote))
		}
	}
	r.sb.WriteString(s)
	r.col += len(s)
}

// newline ends the current line; on an empty line it writes an empty line (<br>).
func (r *renderer) newline() {
	if r.col == 0 && r.quote > 0 {
		r.sb.WriteString(strings.TrimSpace(strings.Repeat("> ", r.quote)))
	}
	r.empty = r.col == 0
	r.sb.WriteByte('\n')
	r.col, r.lastSp = 0, false
}

// endLine ends the current line if anything is on it.
func (r *renderer) endLine() {
	if r.col > 0 {
		r.sb.WriteByte('\n')
		r.col, r.lastSp = 0, false
	}
}

func (r *renderer) bullet() string {
	if len(r.lists) == 0 {
		return "- "
	}
	top := &r.lists[len(r.lists)-1]
	if *top < 0 {
		return "- "
	}
	s := strconv.Itoa(*top) + ". "
	*top++
	return s
}

// listStart is the first number of an <ol>, or -1 for a <ul>.
func listStart(n *html.Node) int {
	if n.DataAtom == atom.Ul {
		return -1
	}
	if v, err := strconv.Atoi(attr(n, "start")); err == nil && v >= 0 && v < 1000 {
		return v
	}
	return 1
}

// runeLen and firstRune are the same small helpers mail/reply has for its
// lines; copied, as decode cannot import reply.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
