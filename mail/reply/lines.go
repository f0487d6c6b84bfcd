package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mentord/mentord/mail/reply/decode"
)

// Limits on the text read for quotes and answers.
const (
	maxBodyText = 512 << 10
	maxLines    = 20_000
)

// role is what a line of the body is.
type role uint8

const (
	roleTyped role = iota // typed by the sender in this message
	roleQuote             // quoted: '>' lines, or an unprefixed copy of the original
	roleMeta              // attribution, quoted header block, separator
)

// line is one line of the body.
type line struct {
	text   string // without quote prefix and surrounding white space
	depth  int    // quote depth ('>' count)
	role   role
	q      int  // the question this quoted line asks, if any
	soft   bool // inside an unprefixed quote (after a header block or separator)
	prompt bool // matches the text mentord sent
	typed  bool // typed for sure: the rest of a quoted question's line
	// foreign is set in a soft quote of a message other than the prompt
	// (an acknowledgement, an earlier reply): nothing in it was typed.
	foreign bool
	indent  uint8 // leading white space of an unprefixed line (a tab counts 4)
}

func (l *line) blank() bool { return l.text == "" }

// splitLines cuts text into lines and reads their quote prefixes.
func splitLines(text string) []line {
	if len(text) > maxBodyText {
		text = text[:maxBodyText]
		if nl := strings.LastIndexByte(text, '\n'); nl > 0 {
			text = text[:nl]
		}
	}
	ls := make([]line, 0, strings.Count(text, "\n")+1)
	var opens, closes []int
	for raw := range strings.SplitSeq(text, "\n") {
		if len(ls) >= maxLines {
			break
		}
		trimmed := strings.TrimSpace(raw)
		switch trimmed {
		case decode.QuoteStart:
			ls = append(ls, line{text: decode.QuoteStart, role: roleMeta})
			continue
		case ">>>":
			opens = append(opens, len(ls))
		case "<<<":
			closes = append(closes, len(ls))
		}
		d, rest := quoteDepth(raw)
		l := line{text: strings.TrimSpace(rest), depth: d}
		if d == 0 {
			l.indent = indentOf(raw)
		}
		if d > 0 {
			l.role = roleQuote
		}
		ls = append(ls, l)
	}
	markTripleQuotes(ls, opens, closes)
	return ls
}

// indentOf measures the white space that leads s, up to 255.
func indentOf(s string) uint8 {
	n := 0
	for i := 0; i < len(s) && n < 255; i++ {
		switch s[i] {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return uint8(min(n, 255))
		}
	}
	return 0
}

// quoteDepth counts the quote marks at the start of s: '>' marks with optional
// white space before and between them, or one '|' mark.
func quoteDepth(s string) (int, string) {
	d, i := 0, 0
	for i < len(s) {
		switch s[i] {
		case '>':
			d++
		case ' ', '\t':
		default:
			goto done
		}
		i++
	}
done:
	if d > 0 {
		return d, s[i:]
	}
	t := strings.TrimLeft(s, " \t")
	if t == "|" || strings.HasPrefix(t, "| ") && !strings.HasSuffix(strings.TrimSpace(t), "|") {
		return 1, t[1:]
	}
	return 0, s
}

// markTripleQuotes reads a ">>>" line up to a "<<<" line as one quote block.
func markTripleQuotes(ls []line, opens, closes []int) {
	for _, o := range opens {
		for _, c := range closes {
			if c <= o {
				continue
			}
			ls[o].role, ls[o].depth, ls[o].text = roleMeta, 1, ""
			ls[c].role, ls[c].depth, ls[c].text = roleMeta, 1, ""
			for i := o + 1; i < c; i++ {
				if ls[i].depth == 0 {
					ls[i].depth, ls[i].role = 1, roleQuote
				}
			}
			break
		}
	}
}

// normWords is s as a run of lower-case words (letters and digits), each
// followed by one space and the whole led by one: " what didn t get done ".
// Matching on it ignores case, punctuation, quote marks and wrapping.
func normWords(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 2)
	sb.WriteByte(' ')
	inWord := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			sb.WriteRune(unicode.ToLower(r))
			inWord = true
			continue
		}
		if inWord {
			sb.WriteByte(' ')
			inWord = false
		}
	}
	if inWord {
		sb.WriteByte(' ')
	}
	return sb.String()
}

// wordCount counts the words of a normWords string.
func wordCount(nw string) int {
	return strings.Count(nw, " ") - 1
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// hasYear reports a four-digit year 1900-2099.
func hasYear(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if (s[i] == '1' && s[i+1] == '9' || s[i] == '2' && s[i+1] == '0') && isDigit(s[i+2]) && isDigit(s[i+3]) &&
			(i == 0 || !isDigit(s[i-1])) && (i+4 == len(s) || !isDigit(s[i+4])) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// endsSentence reports a line that ends a sentence or a clause that stands alone.
func endsSentence(s string) bool {
	s = strings.TrimRight(s, " \t")
	if s == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune(".!?:;)…\"”»。！？：", r)
}

// endsStatement reports a line that ends with a full stop, an exclamation or
// question mark, or a colon: typed text, not the start of a wrapped line.
func endsStatement(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(strings.TrimRight(s, " \t"))
	return strings.ContainsRune(".!?:…。！？：", r)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// containsAny reports whether s contains one of the words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// countAny counts the distinct words s contains.
func countAny(s string, words []string) int {
	n := 0
	for _, w := range words {
		if strings.Contains(s, w) {
			n++
		}
	}
	return n
}

// nextContent returns the index of the next non-blank line after i, or len(ls).
func nextContent(ls []line, i int) int {
	for j := i + 1; j < len(ls); j++ {
		if !ls[j].blank() {
			return j
		}
	}
	return len(ls)
}
