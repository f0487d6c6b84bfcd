package reply

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/mentord/mentord/mail/reply/decode"
)

// promptIndex is the text mentord sent, ready for matching reply lines
// against it whatever their prefix, case, punctuation and wrapping.
type promptIndex struct {
	words string          // normWords of the whole body
	lines map[string]bool // normWords of each body line
	qs    []promptQuestion
	max   int // the highest question number
}

type promptQuestion struct {
	num   int
	words string // normWords of the question text
}

func newPromptIndex(p *Prompt) *promptIndex {
	if p == nil || len(p.Questions) == 0 && strings.TrimSpace(p.Body) == "" {
		return nil
	}
	body := nfc(decode.NormalizeText(p.Body))
	idx := &promptIndex{words: normWords(body), lines: map[string]bool{}}
	for ln := range strings.SplitSeq(body, "\n") {
		if w := normWords(ln); wordCount(w) > 0 {
			idx.lines[w] = true
		}
	}
	for _, q := range p.Questions {
		w := normWords(nfc(q.Text))
		if q.Number <= 0 || wordCount(w) == 0 {
			continue
		}
		idx.qs = append(idx.qs, promptQuestion{num: q.Number, words: w})
		idx.max = max(idx.max, q.Number)
	}
	return idx
}

// stripNumber drops a leading number word: " 2 what didn t " -> " what didn t ".
func stripNumber(w string) (string, bool) {
	end := strings.IndexByte(w[1:], ' ')
	if end <= 0 || end > 2 {
		return w, false
	}
	if _, err := strconv.Atoi(w[1 : 1+end]); err != nil {
		return w, false
	}
	return w[1+end:], true
}

// question returns the question the line's words ask, and the number of words
// (the number included) the question takes at the start of the line. A line
// with more words holds an answer typed after the question.
func (idx *promptIndex) question(w string) (num, words int) {
	rest, numbered := stripNumber(w)
	extra := 0
	if numbered {
		extra = 1
	}
	for _, q := range idx.qs {
		switch {
		case rest == q.words || w == q.words:
			return q.num, wordCount(w)
		case strings.HasPrefix(rest, q.words):
			return q.num, wordCount(q.words) + extra
		}
	}
	return 0, 0
}

// matchPrompt marks the lines that copy what mentord sent and the questions
// among them. A line that is a question followed by more words is split: the
// sender typed an answer after the question.
func matchPrompt(ls []line, idx *promptIndex) []line {
	out := make([]line, 0, len(ls)+4)
	for _, l := range ls {
		if l.role == roleMeta || l.blank() {
			out = append(out, l)
			continue
		}
		w := normWords(l.text)
		q, n := idx.question(w)
		switch {
		case q > 0 && n == wordCount(w):
			l.q, l.prompt = q, true
		case q > 0 && l.depth > 0:
			l.q, l.prompt = q, true
		case q > 0:
			// The question, then more: an answer typed on its line, if a
			// mark ends the question ("?", ":", a dash).
			if head, tail := cutWords(l.text, n); endsStatement(head) || dashSuffix(head) {
				l.q, l.prompt, l.text = q, true, head
				out = append(out, l, line{text: tail, soft: l.soft, typed: true})
				continue
			}
		case idx.lines[w]:
			// A whole line of the prompt; a short one ("Hello,") may as well
			// be typed unless it sits in a quote.
			l.prompt = l.depth > 0 || l.soft || wordCount(w) >= 3
		case strings.Contains(idx.words, w):
			// A fragment of the prompt: in a quote or a soft quote four words
			// do; typed text needs more to be taken for a copy.
			l.prompt = wordCount(w) >= 6 || wordCount(w) >= 4 && (l.depth > 0 || l.soft)
		}
		out = append(out, l)
	}
	matchWrapped(out, idx)
	return out
}

// matchWrapped marks short lines that continue a matched line (a wrapped
// fragment), and questions wrapped over two lines.
func matchWrapped(ls []line, idx *promptIndex) {
	for i := 1; i < len(ls); i++ {
		prev, cur := &ls[i-1], &ls[i]
		if cur.prompt || cur.blank() || prev.blank() || cur.role == roleMeta || (prev.depth > 0) != (cur.depth > 0) {
			continue
		}
		pw, cw := normWords(prev.text), normWords(cur.text)
		joined := pw + cw[1:]
		if q, n := idx.question(joined); q > 0 && n == wordCount(joined) {
			prev.prompt, cur.prompt, cur.q = true, true, q
			continue
		}
		if prev.prompt && wordCount(cw) > 0 && strings.Contains(idx.words, joined) {
			cur.prompt = true
		}
	}
}

func dashSuffix(s string) bool {
	return strings.HasSuffix(s, "-") || strings.HasSuffix(s, "–") || strings.HasSuffix(s, "—")
}

// cutWords splits s after its first n words (runs of letters and digits) and
// the punctuation that follows them.
func cutWords(s string, n int) (head, tail string) {
	inWord, count := false, 0
	for i, r := range s {
		isW := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		if isW && !inWord {
			if count == n {
				return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i:])
			}
			count++
		}
		inWord = isW
	}
	return s, ""
}

// applyPrompt sets the roles once the prompt is matched: unprefixed copies of
// the prompt are quote; in a soft quote only what lies between the first and
// the last copied line (or after a last copied question) was typed.
func applyPrompt(ls []line) {
	markForeign(ls)
	first, last := -1, -1
	for i := range ls {
		if ls[i].soft && ls[i].prompt && ls[i].depth == 0 && !ls[i].foreign {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	stop := len(ls)
	if last >= 0 {
		for j := last + 1; j < len(ls); j++ {
			if ls[j].role == roleMeta {
				stop = j
				break
			}
		}
	}
	for i := range ls {
		l := &ls[i]
		if l.depth > 0 || l.role == roleMeta {
			continue
		}
		switch {
		case l.foreign:
			l.role = roleQuote
		case l.typed:
			l.role = roleTyped
		case l.prompt:
			l.role = roleQuote
		case !l.soft:
		case first >= 0 && i > first && (i < last || i > last && i < stop && ls[last].q > 0):
			l.role = roleTyped
		default:
			l.role = roleQuote
		}
	}
}

// markForeign marks the soft quotes that are not a copy of what mentord
// sent: before their first question, more of their words differ from the
// prompt than match it. Such a quote is another message the sender answers
// (mentord's acknowledgement, the sender's own earlier reply): its header
// block ends the new text, whatever follows, and its question lines with
// what stands under them are no inline answers.
func markForeign(ls []line) {
	for i := 0; i < len(ls); {
		if ls[i].role != roleMeta {
			i++
			continue
		}
		for i < len(ls) && ls[i].role == roleMeta {
			i++
		}
		start, matched, other, preamble := i, 0, 0, true
		for ; i < len(ls) && ls[i].role != roleMeta; i++ {
			l := &ls[i]
			if !l.soft || l.depth > 0 || l.blank() {
				continue
			}
			preamble = preamble && l.q == 0
			if !preamble {
				continue
			}
			if n := wordCount(normWords(l.text)); l.prompt {
				matched += n
			} else {
				other += n
			}
		}
		if other >= 4 && other > matched {
			for j := start; j < i; j++ {
				if ls[j].soft && ls[j].depth == 0 {
					ls[j].foreign = true
				}
			}
		}
	}
}

// inferQuestions stands in for a prompt: numbered lines in the quote
// ("> 2. What didn't get done?") are the questions, in rising order. It
// returns the highest number.
func inferQuestions(ls []line) int {
	last := 0
	for i := range ls {
		l := &ls[i]
		if l.depth == 0 && !l.soft || l.role == roleMeta {
			continue
		}
		if n, ok := questionNumber(l.text); ok && n > last && n <= 30 {
			l.q, last = n, n
		}
	}
	return last
}

// questionNumber reads "N. text" or "N) text".
func questionNumber(t string) (int, bool) {
	i := 0
	for i < len(t) && i < 3 && isDigit(t[i]) {
		i++
	}
	if i == 0 || i > 2 || i+1 >= len(t) || t[i] != '.' && t[i] != ')' || t[i+1] != ' ' {
		return 0, false
	}
	n, _ := strconv.Atoi(t[:i])
	return n, n > 0
}

// splitSoftQuestions splits a question line of a soft quote that goes on
// after its question mark ("6. How ...? Mostly by asking."): the sender typed
// the rest. A remark in brackets after the mark belongs to the question.
func splitSoftQuestions(ls []line) []line {
	var out []line
	for i, l := range ls {
		q := strings.IndexByte(l.text, '?')
		if l.q == 0 || !l.soft || l.depth > 0 || l.role == roleMeta || q < 0 || q == len(l.text)-1 {
			if out != nil {
				out = append(out, l)
			}
			continue
		}
		rest := strings.TrimLeft(l.text[q+1:], "-–—: \t")
		if strings.HasPrefix(rest, "(") || len(strings.Fields(rest)) < 2 {
			if out != nil {
				out = append(out, l)
			}
			continue
		}
		if out == nil {
			out = append(make([]line, 0, len(ls)+4), ls[:i]...)
		}
		l.text = l.text[:q+1]
		out = append(out, l, line{text: rest, soft: true, role: roleTyped, typed: true})
	}
	if out == nil {
		return ls
	}
	return out
}

// applySoft sets the roles of a soft quote without a prompt: all of it is
// quote, except lines between two consecutive questions that ask something
// ('?') and lines right under the last such question, where the original
// had nothing (its questions are followed by the next one or an empty line).
func applySoft(ls []line) {
	prev := -1
	for i := range ls {
		l := &ls[i]
		if !l.soft || l.depth > 0 || l.role == roleMeta {
			if l.role == roleMeta {
				typedUnder(ls, prev)
				prev = -1
			}
			continue
		}
		if l.typed {
			continue
		}
		l.role = roleQuote
		if l.q == 0 {
			continue
		}
		if prev >= 0 && l.q == ls[prev].q+1 && strings.Contains(ls[prev].text, "?") && strings.Contains(l.text, "?") {
			for j := prev + 1; j < i; j++ {
				if ls[j].soft && ls[j].depth == 0 && !ls[j].blank() && ls[j].role != roleMeta && !layoutUnder(ls, prev, j) {
					ls[j].role = roleTyped
				}
			}
		}
		prev = i
	}
	typedUnder(ls, prev)
}

// layoutUnder reports a line indented deeper than the question at q: the
// original's own text under its question (an acknowledgement lists each
// recorded answer indented under its question), not an answer typed into it.
func layoutUnder(ls []line, q, j int) bool {
	return ls[j].indent >= ls[q].indent+2
}

// typedUnder marks as typed the lines right under the question at q, up to
// the next empty line.
func typedUnder(ls []line, q int) {
	if q < 0 || !strings.Contains(ls[q].text, "?") {
		return
	}
	for j := q + 1; j < len(ls) && !ls[j].blank() && ls[j].soft && ls[j].depth == 0 && ls[j].role != roleMeta && ls[j].q == 0 && !layoutUnder(ls, q, j); j++ {
		ls[j].role = roleTyped
	}
}
