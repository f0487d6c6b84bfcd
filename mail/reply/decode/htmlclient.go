package decode

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The HTML marks of each client's quote and signature (REPLIES.md section 5).

// skipElement leaves out what a reader never sees and the signatures clients
// mark as such.
func skipElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Head, atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript,
		atom.Svg, atom.Object, atom.Iframe, atom.Math:
		return true
	}
	if hasClass(n, "gmail_signature") || hasClass(n, "moz-signature") {
		return true
	}
	switch attr(n, "id") {
	case "ms-outlook-mobile-signature", "Signature":
		return true
	}
	return styleHas(n, "display:none")
}

// isHardQuote reports an element whose whole content is quoted text: it is
// rendered with '>' prefixes.
func isHardQuote(n *html.Node) bool {
	switch {
	case n.DataAtom == atom.Blockquote:
		// Gmail's indent button makes a borderless blockquote: not a quote.
		return strings.EqualFold(attr(n, "type"), "cite") || hasClassPart(n, "quote") ||
			!styleHas(n, "border:none")
	case hasClass(n, "gmail_attr"), hasClass(n, "moz-cite-prefix"), hasClass(n, "yahoo_quoted"),
		hasClass(n, "protonmail_quote"), hasClass(n, "zmail_extra"):
		return true
	case strings.HasPrefix(attr(n, "id"), "yahoo_quoted"):
		return true
	}
	switch attr(n, "data-marker") {
	case "__QUOTED_TEXT__", "__HEADERS__":
		return true
	}
	return false
}

// startsSoftQuote reports an element where an unquoted copy of the original
// begins: it and everything after it is the quote, unless the sender typed
// inside it (Outlook's divRplyFwdMsg and its border div, Outlook for Mac,
// Zimbra's divider).
func startsSoftQuote(n *html.Node) bool {
	switch attr(n, "id") {
	case "divRplyFwdMsg", "appendonsend", "OLK_SRC_BODY_SECTION", "zwchr", "x_divRplyFwdMsg":
		return true
	}
	if attr(n, "data-marker") == "__DIVIDER__" {
		return true
	}
	if n.DataAtom == atom.Hr && attr(n, "tabindex") == "-1" {
		return true
	}
	if n.DataAtom == atom.Div || n.DataAtom == atom.P {
		st := compactStyle(n)
		return strings.Contains(st, "border:none") &&
			(strings.Contains(st, "border-top:solid#e1e1e1") || strings.Contains(st, "border-top:solid#b5c4df"))
	}
	return false
}

// isParagraph reports a block that a browser sets apart by a blank line.
// Outlook's MsoNormal paragraphs have no margin: its blank lines are empty
// paragraphs of their own.
func isParagraph(n *html.Node) bool {
	switch n.DataAtom {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre:
	default:
		return false
	}
	if hasClassPart(n, "msonormal") {
		return false
	}
	st := compactStyle(n)
	return !strings.Contains(st, "margin:0;") && !strings.HasSuffix(st, "margin:0") &&
		!strings.Contains(st, "margin-top:0") && !strings.Contains(st, "margin:0px")
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Body, atom.Center, atom.Dd,
		atom.Div, atom.Dl, atom.Dt, atom.Fieldset, atom.Figure, atom.Footer, atom.Form,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header, atom.Li, atom.Main,
		atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section, atom.Table, atom.Tr, atom.Ul, atom.Html:
		return true
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasClass reports whether class is one of the element's class names.
func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// hasClassPart reports whether some class name contains part (case-insensitive).
func hasClassPart(n *html.Node, part string) bool {
	return strings.Contains(strings.ToLower(attr(n, "class")), part)
}

// compactStyle is the style attribute lower-cased without white space.
func compactStyle(n *html.Node) string {
	st := attr(n, "style")
	if st == "" {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.ToLower(st))
}

func styleHas(n *html.Node, decl string) bool {
	return strings.Contains(compactStyle(n), decl)
}
