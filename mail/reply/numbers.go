package reply

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxUnknownQuestion is the highest answer number read when the questions
// are not known.
const maxUnknownQuestion = 20

// numberToken reads the number that opens an answer at the start of a line:
// "1.", "1)", "1:", "1 -", "(1)", "#1", "Q1:", "Question 1:" and their
// localised forms. strong is true for the forms that cannot be prose.
func numberToken(t string) (num int, rest string, strong bool, ok bool) {
	s := strings.TrimLeft(t, " \t*_")
	if s == "" {
		return 0, "", false, false
	}
	if n, r, ok := wordNumber(s); ok {
		return n, r, true, true
	}
	switch s[0] {
	case '#':
		n, r, ok := digitsThen(s[1:], ":.)-", true)
		return n, r, true, ok
	case '(', '[':
		n, r, ok := digitsThen(s[1:], ")]", false)
		return n, r, true, ok
	}
	s = asciiDigits(s)
	if !isDigit(s[0]) {
		return 0, "", false, false
	}
	n, r, ok := plainNumber(s)
	return n, r, false, ok
}

// plainNumber reads "1.", "1)", "1.)", "1:", "1 -", "1-", "1/", "1、" (also
// "1.Text" and the keycap emoji "1️⃣").
func plainNumber(s string) (int, string, bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i > 2 {
		return 0, "", false
	}
	n, _ := strconv.Atoi(s[:i])
	after := strings.TrimPrefix(strings.TrimPrefix(s[i:], "\ufe0f"), "\u20e3")
	keycap := len(after) < len(s[i:])
	switch {
	case keycap:
	case hasPrefix(after, ".)", ")", "）", "、", "．", ":", "：", "/"):
		after = after[len(prefixOf(after, ".)", ")", "）", "、", "．", ":", "：", "/")):]
	case strings.HasPrefix(after, "."):
		after = after[1:]
	default:
		trimmed := strings.TrimLeft(after, " \t")
		dash := dashPrefix(trimmed)
		if dash == 0 {
			return 0, "", false
		}
		rest := trimmed[dash:]
		if trimmed == after && (rest == "" || !isSpaceRune(firstRune(rest))) {
			return 0, "", false // "1-2 hours"
		}
		after = rest
	}
	after = strings.TrimLeft(after, "*_")
	if r := firstRune(after); after != "" && !isSpaceRune(r) && !(unicode.IsLetter(r) && !unicode.IsLower(r)) {
		return 0, "", false // "1.5", "3:30", "2/3", "1.x"
	}
	return n, strings.TrimSpace(strings.TrimLeft(after, "*_ \t")), n > 0
}

func hasPrefix(s string, prefixes ...string) bool {
	return prefixOf(s, prefixes...) != ""
}

func prefixOf(s string, prefixes ...string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// asciiDigits turns full-width digits at the start of s ("１．") into ASCII.
func asciiDigits(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r < '０' || r > '９' {
		return s
	}
	var sb strings.Builder
	for r >= '０' && r <= '９' {
		sb.WriteByte(byte('0' + r - '０'))
		s = s[size:]
		r, size = utf8.DecodeRuneInString(s)
	}
	return sb.String() + s
}

// digitsThen reads digits and one of the separators; with optional the
// separator may be missing but a space must follow.
func digitsThen(s, seps string, optional bool) (int, string, bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 2 {
		return 0, "", false
	}
	n, _ := strconv.Atoi(s[:i])
	after := strings.TrimLeft(s[i:], " ")
	if k := sepPrefix(after, seps); k > 0 {
		after = after[k:]
	} else if !optional || after != "" && len(after) == len(s[i:]) {
		return 0, "", false
	}
	return n, strings.TrimSpace(after), n > 0
}

// sepPrefix returns the length of a separator at the start of s: one of the
// ASCII seps, a dash or a full-width colon.
func sepPrefix(s, seps string) int {
	switch {
	case s == "":
		return 0
	case s[0] < 0x80:
		if strings.IndexByte(seps, s[0]) >= 0 {
			return 1
		}
		return 0
	}
	for _, d := range []string{"–", "—", "："} {
		if strings.HasPrefix(s, d) {
			return len(d)
		}
	}
	return 0
}

// wordNumber reads "Q1:", "Q 1.", "Question 1:", "Spørgsmål 1", "Answer 1 -".
func wordNumber(s string) (int, string, bool) {
	if (s[0] == 'Q' || s[0] == 'q' || s[0] == 'A') && len(s) > 1 && (isDigit(s[1]) || s[1] == ' ' && len(s) > 2 && isDigit(s[2])) {
		return digitsThen(strings.TrimLeft(s[1:], " "), ":.)-", false)
	}
	for _, w := range regardingWords {
		if len(s) > len(w) && strings.EqualFold(s[:len(w)], w) && isDigit(s[len(w)]) {
			return digitsThen(s[len(w):], ":.)-", false)
		}
	}
	if !questionInitial[unicode.ToLower(firstRune(s))] {
		return 0, "", false
	}
	for _, w := range questionWords {
		if len(s) < len(w) || !strings.EqualFold(s[:len(w)], w) {
			continue
		}
		after := strings.TrimLeft(s[len(w):], " #nN°ºr.o")
		if after == "" || !isDigit(after[0]) {
			return 0, "", false
		}
		return digitsThen(after, ":.)-", true)
	}
	return 0, "", false
}

func dashPrefix(s string) int {
	for _, d := range []string{"-", "–", "—"} {
		if strings.HasPrefix(s, d) {
			return len(d)
		}
	}
	return 0
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func isSpaceRune(r rune) bool { return r == ' ' || r == '\t' }

// inRange reports a number that can be a question: 1..max, or 1..20 when the
// questions are not known.
func inRange(n, maxQ int) bool {
	if maxQ > 0 {
		return n >= 1 && n <= maxQ
	}
	return n >= 1 && n <= maxUnknownQuestion
}

// distinctNumbers counts the different answer numbers opening lines.
func distinctNumbers(ls []string, maxQ int) int {
	seen := map[int]bool{}
	for _, t := range ls {
		if n, _, _, ok := numberToken(t); ok && inRange(n, maxQ) {
			seen[n] = true
		}
	}
	return len(seen)
}

// numberedDrafts reads numbered answers in a block: each runs to the next
// number, across paragraphs. Numbers may come in any order ("3. ...", "1.
// ...", "2. ..."): a lower number than the last opens its answer when it
// starts a paragraph, is written the same way as the first answer's number
// and was not answered yet in the block; a list after a colon ("We did:",
// "1. this", "2. that") stays text. A number that sits inside a wrapped
// sentence is text. A number past the last question ends the answer before
// it. A lead that names a question ("Forgot 3:", "Also on 2:", "Zu 4:") opens
// its answer wherever it stands (tied by a late number).
//
// The range is 1..maxQ when the prompt says so (exact); numbers seen in the
// quote are a floor only, as a quote may be cut short: once answers have
// begun they may go on past it.
func numberedDrafts(ls []string, maxQ int, exact, firstSeg bool) []draft {
	var out []draft
	var seen numberSet
	last, open, sub, style := 0, false, 0, ""
	bare := bareNumbers(ls, maxQ)
	for i, t := range ls {
		if t == "" {
			sub = 0 // a list inside an answer ends with its paragraph
		}
		limit := maxQ
		if !exact && last > 0 {
			limit = max(maxQ, maxUnknownQuestion)
		}
		n, rest, strong, ok := numberToken(t)
		if !ok && bare {
			n, rest, ok = bareNumber(t)
		}
		tie := TieNumber
		switch {
		case ok && n > last && inRange(n, limit) && (last > 0 || startsParagraph(ls, i)):
			if style == "" {
				style = markStyle(t, rest)
			}
			sub = 0
		case ok && n < last && inRange(n, limit) && !seen.has(n) && sub == 0 && startsParagraph(ls, i) &&
			!strings.HasSuffix(prevContent(ls, i), ":") && markStyle(t, rest) == style:
			// an answer out of order
		default:
			if ok && n <= last && strings.HasSuffix(prevContent(ls, i), ":") || ok && sub > 0 && n == sub+1 {
				sub = n // a list inside the answer
			}
			if ln, lrest, lok := lateNumber(t); lok && inRange(ln, limit) && startsParagraph(ls, i) {
				n, rest, strong, ok, tie = ln, lrest, true, true, TieLateNumber
				break
			}
			if ok && exact && n > maxQ && n <= maxUnknownQuestion && startsParagraph(ls, i) {
				open = false
			}
			if open {
				out[len(out)-1].lines = append(out[len(out)-1].lines, t)
			}
			continue
		}
		strong = strong || firstSeg && firstContent(ls, i)
		d := draft{num: n, strong: strong, tie: tie}
		if rest != "" {
			d.lines = append(d.lines, rest)
		}
		out = append(out, d)
		seen.add(n)
		last, open = max(last, n), true
	}
	return out
}

// numberSet is a set of question numbers (1..63).
type numberSet uint64

func (s *numberSet) add(n int) {
	if n > 0 && n < 64 {
		*s |= 1 << n
	}
}

func (s numberSet) has(n int) bool { return n > 0 && n < 64 && s&(1<<n) != 0 }

// markStyle is how a number is written, without its digits and the text
// after it: "3. Text" -> ".", "Q3: Text" -> "q:", "(3) Text" -> "()".
func markStyle(t, rest string) string {
	head := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(t), rest))
	var sb strings.Builder
	for _, r := range strings.ToLower(head) {
		if !unicode.IsDigit(r) && !unicode.IsSpace(r) && r != '*' && r != '_' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// prevContent is the last line before i that is not empty, or "".
func prevContent(ls []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if ls[j] != "" {
			return strings.TrimSpace(ls[j])
		}
	}
	return ""
}

// bareNumber reads a number with no mark after it, "1 Finished the plan",
// which counts only in a block with two or more such lines in rising order.
func bareNumber(t string) (int, string, bool) {
	s := strings.TrimLeft(t, " \t")
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 2 || i+1 >= len(s) || s[i] != ' ' || !unicode.IsUpper(firstRune(s[i+1:])) {
		return 0, "", false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, strings.TrimSpace(s[i+1:]), n > 0
}

func bareNumbers(ls []string, maxQ int) bool {
	count, last := 0, 0
	for _, t := range ls {
		if n, _, ok := bareNumber(t); ok && n > last && inRange(n, maxQ) {
			count, last = count+1, n
		}
	}
	return count >= 2
}

// startsParagraph reports a line that can open an answer: the first of its
// paragraph, or after a line that ends a sentence or a short one (a greeting,
// a heading). A number after a long line that runs on is a wrapped sentence.
func startsParagraph(ls []string, i int) bool {
	if i == 0 || ls[i-1] == "" {
		return true
	}
	prev := ls[i-1]
	return endsSentence(prev) || runeLen(prev) < 40
}

func firstContent(ls []string, i int) bool {
	for j := 0; j < i; j++ {
		if ls[j] != "" {
			return false
		}
	}
	return true
}

// filterUnknownRange keeps numbered answers when the questions are unknown
// only if two different numbers appear, or one appears in a form that
// cannot be prose.
func filterUnknownRange(ds []draft) []draft {
	seen := map[int]bool{}
	for _, d := range ds {
		seen[d.num] = true
	}
	if len(seen) >= 2 {
		return ds
	}
	var out []draft
	for _, d := range ds {
		if d.strong {
			out = append(out, d)
		}
	}
	return out
}
