package records

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The doc: text and Markdown.

// doc is a record as a list of blocks, written as plain text or Markdown.
type doc []block

type blockKind int

const (
	headingBlock blockKind = iota // level 1 to 4
	fieldBlock                    // label: text
	answerBlock                   // a question (label, may be empty), the mentee's text, a note
	itemBlock                     // a list item
	paraBlock                     // a line of prose
)

type block struct {
	kind              blockKind
	level             int
	label, text, note string
}

func (d *doc) heading(level int, text string) {
	*d = append(*d, block{kind: headingBlock, level: level, text: text})
}
func (d *doc) field(label, text string) {
	*d = append(*d, block{kind: fieldBlock, label: label, text: text})
}
func (d *doc) item(text string) { *d = append(*d, block{kind: itemBlock, text: text}) }
func (d *doc) para(text string) { *d = append(*d, block{kind: paraBlock, text: text}) }
func (d *doc) answer(label, text, note string) {
	*d = append(*d, block{kind: answerBlock, label: label, text: text, note: note})
}

// numberPrefix is a numbered question's "10. ".
var numberPrefix = regexp.MustCompile(`^\d{1,4}\. `)

// writeText lays the blocks out for a terminal: underlined titles, aligned
// fields, the mentee's text indented under its question.
func (d doc) writeText(w io.Writer) error {
	var b strings.Builder
	for i, bl := range d {
		text := printable(bl.text)
		switch bl.kind {
		case headingBlock:
			if i > 0 && bl.level <= 3 {
				b.WriteString("\n")
			}
			b.WriteString(strings.Repeat("  ", max(bl.level-3, 0)) + text + "\n")
			if bl.level <= 2 {
				b.WriteString(strings.Repeat("=-"[bl.level-1:bl.level], len([]rune(text))) + "\n")
			}
		case fieldBlock:
			b.WriteString(indentLines(fmt.Sprintf("  %-14s", bl.label), text))
		case answerBlock:
			// The text starts under the question's first letter ("10. " is wider than "1. ").
			pad := "       "
			if bl.label != "" {
				label := printable(bl.label)
				b.WriteString(indentLines("    ", label))
				if m := numberPrefix.FindString(label); m != "" {
					pad = strings.Repeat(" ", 4+len(m))
				}
			}
			b.WriteString(indentLines(pad, text))
			if bl.note != "" {
				b.WriteString(pad + "(" + bl.note + ")\n")
			}
		case itemBlock:
			b.WriteString(indentLines("    - ", text))
		case paraBlock:
			b.WriteString(text + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// indentLines writes text with first before its first line and as many
// spaces before each further line.
func indentLines(first, text string) string {
	pad := strings.Repeat(" ", len([]rune(first)))
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p := pad
		if i == 0 {
			p = first
		}
		b.WriteString(strings.TrimRight(p+l, " ") + "\n")
	}
	return b.String()
}

// writeMarkdown writes CommonMark: headings, fields and items as lists, and
// the mentee's text quoted with its line breaks kept.
func (d doc) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	for i, bl := range d {
		list := bl.kind == fieldBlock || bl.kind == itemBlock
		if i > 0 && !(list && d[i-1].kind == bl.kind) {
			b.WriteString("\n")
		}
		text := mdEscape(bl.text)
		switch bl.kind {
		case headingBlock:
			b.WriteString(strings.Repeat("#", bl.level) + " " + text + "\n")
		case fieldBlock:
			b.WriteString("- **" + mdEscape(bl.label) + ":** " + mdLines(text, "  ") + "\n")
		case answerBlock:
			if bl.label != "" {
				b.WriteString("**" + mdEscape(bl.label) + "**\n\n")
			}
			b.WriteString("> " + mdLines(text, "> ") + "\n")
			if bl.note != "" {
				b.WriteString("\n*(" + bl.note + ")*\n")
			}
		case itemBlock:
			b.WriteString("- " + mdLines(text, "  ") + "\n")
		case paraBlock:
			b.WriteString(text + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdLines joins lines with hard breaks (a trailing backslash), each further
// line after prefix. Blank lines and list items start blocks of their own.
func mdLines(text, prefix string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
		if i+1 < len(lines) && lines[i] != "" && strings.TrimSpace(lines[i+1]) != "" && !mdListItem.MatchString(lines[i+1]) {
			lines[i] += `\`
		}
		if i > 0 {
			lines[i] = strings.TrimRight(prefix+lines[i], " ")
		}
	}
	return strings.Join(lines, "\n")
}

var mdListItem = regexp.MustCompile(`^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)`)

var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "&", `\&`, "~", `\~`, "#", `\#`)

// mdEscape makes text render as itself, not as Markdown or HTML.
func mdEscape(s string) string { return mdEscaper.Replace(printable(s)) }
