package reply

import (
	"strings"
	"unicode"
)

// segment is one block of typed lines between quoted lines.
type segment struct {
	lines []string
	owner int // the quoted question just above the block, or 0
}

// understood is what the text pipeline found.
type understood struct {
	newText string
	answers map[int]string
	ties    map[int]Tie
	quoted  bool // the body quotes something
}

// understand finds what the sender typed in text and the answers in it.
func understand(text string, p *Prompt, nm *names) understood {
	ls := splitLines(nfc(text))
	markStructure(ls)
	var qs questions
	if idx := newPromptIndex(p); idx != nil {
		ls = matchPrompt(ls, idx)
		applyPrompt(ls)
		qs = questionsOf(idx.max, p.Questions)
	} else {
		qs = questionsOf(inferQuestions(ls), nil)
		ls = splitSoftQuestions(ls)
		applySoft(ls)
		qs.addQuoted(ls)
	}
	segs := segments(ls)
	quoted := false
	for i := range ls {
		quoted = quoted || ls[i].role != roleTyped
	}
	var parts []string
	for i := range segs {
		if len(parts) == 0 {
			segs[i].lines = stripBanner(segs[i].lines)
		}
		segs[i].lines = stripTail(segs[i].lines, nm)
		if len(segs[i].lines) > 0 {
			parts = append(parts, strings.Join(segs[i].lines, "\n"))
		}
	}
	u := understood{newText: tidy(strings.Join(parts, "\n\n")), quoted: quoted}
	u.answers, u.ties = mapAnswers(segs, qs)
	return u
}

// segments gathers the typed lines into blocks. Blank lines neither start nor
// end a block.
func segments(ls []line) []segment {
	var segs []segment
	open := false
	for i := range ls {
		l := &ls[i]
		if l.blank() && l.role != roleMeta {
			if open {
				segs[len(segs)-1].lines = append(segs[len(segs)-1].lines, "")
			}
			continue
		}
		if l.role != roleTyped {
			open = false
			continue
		}
		if !open {
			segs = append(segs, segment{owner: ownerBefore(ls, i)})
			open = true
		}
		segs[len(segs)-1].lines = append(segs[len(segs)-1].lines, l.text)
	}
	return segs
}

// ownerBefore returns the question quoted right above line i (blank lines
// between are fine), or 0. The question may stand a few quoted lines higher
// in the same quoted paragraph: its wrapped end, or the answer an
// acknowledgement recorded under it.
func ownerBefore(ls []line, i int) int {
	j := i - 1
	for j >= 0 && ls[j].blank() {
		j--
	}
	for k := 0; j >= 0 && k < 8; j, k = j-1, k+1 {
		if ls[j].role != roleQuote || ls[j].blank() {
			return 0
		}
		if ls[j].q > 0 {
			return ls[j].q
		}
	}
	return 0
}

// questions is what is known of the questions asked.
type questions struct {
	max   int            // highest question number; 0 when unknown
	exact bool           // max comes from the prompt, not from the quote
	text  map[int]string // each question's text, when known
}

func questionsOf(maxQ int, qs []Question) questions {
	out := questions{max: maxQ, exact: qs != nil, text: map[int]string{}}
	for _, q := range qs {
		out.text[q.Number] = q.Text
	}
	return out
}

// addQuoted learns the questions' texts from the quoted question lines.
func (qs questions) addQuoted(ls []line) {
	for i := range ls {
		if ls[i].q > 0 && ls[i].role != roleTyped {
			if _, rest, _, ok := numberToken(ls[i].text); ok {
				qs.text[ls[i].q] = rest
			}
		}
	}
}

// mapAnswers ties typed blocks to question numbers: a block under a quoted
// question answers it; other blocks are read for numbered answers, and when
// none has a number, for paragraphs led by a question's topic or one for
// each question in order. It returns the answers and how each was tied.
func mapAnswers(segs []segment, qs questions) (map[int]string, map[int]Tie) {
	var drafts []draft
	firstSeg := true
	for _, s := range segs {
		if len(s.lines) == 0 {
			continue
		}
		if s.owner > 0 && distinctNumbers(s.lines, qs.max) < 2 {
			drafts = append(drafts, inlineDrafts(s, qs.max)...)
		} else {
			drafts = append(drafts, numberedDrafts(s.lines, qs.max, qs.exact, firstSeg)...)
		}
		firstSeg = false
	}
	if qs.max == 0 {
		drafts = filterUnknownRange(drafts)
	}
	if len(drafts) == 0 {
		drafts = proseDrafts(segs, qs)
	}
	stripTags(drafts)
	answers, ties := map[int]string{}, map[int]Tie{}
	for _, d := range drafts {
		text := qs.dropEcho(d.num, tidy(strings.Join(d.lines, "\n")))
		if text == "" {
			continue
		}
		if prev, ok := answers[d.num]; ok {
			text = prev + "\n\n" + text
		} else {
			ties[d.num] = d.tie
		}
		answers[d.num] = text
	}
	if len(answers) == 0 {
		return nil, nil
	}
	return answers, ties
}

// draft is an answer being gathered.
type draft struct {
	num    int
	lines  []string
	strong bool // opened by "Q2:", "#2", "Question 2" or at the very start
	inline bool // typed under the quoted question
	tie    Tie
}

// inlineDrafts reads a block typed under a quoted question: it answers that
// question, up to a paragraph led by another question's number ("Forgot
// 3: ...").
func inlineDrafts(s segment, maxQ int) []draft {
	ls := append([]string(nil), s.lines...)
	if n, rest, _, ok := numberToken(ls[0]); ok && n == s.owner {
		ls[0] = rest
	}
	low := strings.ToLower(ls[0])
	for _, m := range answerMarks {
		if strings.HasPrefix(low, m) {
			ls[0] = strings.TrimSpace(ls[0][len(m):])
			break
		}
	}
	out := []draft{{num: s.owner, strong: true, inline: true, tie: TieInline}}
	for i, t := range ls {
		if startsParagraph(ls, i) {
			if n, rest, ok := lateNumber(t); ok && inRange(n, maxQ) && (i > 0 || n != s.owner) {
				out = append(out, draft{num: n, strong: true, tie: TieLateNumber})
				if rest != "" {
					out[len(out)-1].lines = append(out[len(out)-1].lines, rest)
				}
				continue
			}
		}
		out[len(out)-1].lines = append(out[len(out)-1].lines, t)
	}
	return out
}

// stripTags removes the initials Outlook users put in front of inline
// answers ("[AK] ...", "AK: ..."), when every inline answer, two or more,
// carries the same tag.
func stripTags(ds []draft) {
	tag, n := "", 0
	for _, d := range ds {
		if !d.inline || len(d.lines) == 0 {
			continue
		}
		t := initialsTag(d.lines[0])
		if t == "" || tag != "" && t != tag {
			return
		}
		tag, n = t, n+1
	}
	if n < 2 {
		return
	}
	for i := range ds {
		if ds[i].inline && len(ds[i].lines) > 0 {
			ds[i].lines[0] = strings.TrimSpace(strings.TrimPrefix(ds[i].lines[0], tag))
		}
	}
}

// initialsTag reads "[AK]" or "AK:" at the start of s.
func initialsTag(s string) string {
	end := strings.IndexAny(s, "]:")
	if end < 2 || end > 5 {
		return ""
	}
	body := strings.TrimPrefix(s[:end], "[")
	if s[end] == ']' && s[0] != '[' || s[end] == ':' && s[0] == '[' || body == "" {
		return ""
	}
	for _, r := range body {
		if !unicode.IsUpper(r) {
			return ""
		}
	}
	return s[:end+1]
}

// dropEcho removes the question's own words when the sender copied them in
// front of the answer.
func (qs questions) dropEcho(num int, text string) string {
	q := qs.text[num]
	if q == "" || len(text) < len(q)/2 || !sameFirstLetter(text, q) {
		return text
	}
	qw := normWords(nfc(q))
	if wordCount(qw) < 2 {
		return text
	}
	if strings.HasPrefix(normWords(text[:min(len(text), 2*len(q)+16)]), qw) {
		_, rest := cutWords(text, wordCount(qw))
		return strings.TrimLeft(rest, "?:.-–— \n")
	}
	return text
}

func sameFirstLetter(a, b string) bool {
	ra, rb := firstRune(strings.TrimLeft(a, " *_\"'“")), firstRune(strings.TrimLeft(b, " *_\"'“"))
	return unicode.ToLower(ra) == unicode.ToLower(rb)
}

// tidy trims the ends and keeps at most one empty line in a row.
func tidy(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "\n\n\n") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if run++; run > 2 {
				continue
			}
		} else {
			run = 0
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
