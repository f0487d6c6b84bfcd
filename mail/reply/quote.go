package reply

import (
	"strings"
	"unicode"
)

// maxHeaderBlock is the most lines a quoted header block has.
const maxHeaderBlock = 14

// attrKind is how an attribution line introduces the quote.
type attrKind uint8

const (
	attrNone     attrKind = iota
	attrHard              // followed by '>' lines
	attrSoft              // followed by the unprefixed original (Yahoo)
	attrTrailing          // nothing follows: the sender deleted the quote
)

// markStructure marks attributions, quoted header blocks and separators as
// meta lines, and every unprefixed line after a header block, a separator, an
// HTML quote mark or a Yahoo-style attribution as soft quote.
func markStructure(ls []line) {
	soft := false
	for i := 0; i < len(ls); i++ {
		l := &ls[i]
		if soft && l.depth == 0 {
			l.soft = true
		}
		if l.depth > 0 || l.blank() {
			continue
		}
		if l.role == roleMeta { // the HTML renderer's sentinel
			soft, l.soft = true, true
			continue
		}
		if n := separatorAt(ls, i); n == 0 {
			n = headerBlockAt(ls, i)
			if n > 0 {
				markMeta(ls, i, i+n)
				soft, i = true, i+n-1
				continue
			}
		} else {
			markMeta(ls, i, i+n)
			soft = true
			continue
		}
		if s, kind := attributionEndingAt(ls, i); kind != attrNone {
			markMeta(ls, s, i+1)
			if kind == attrSoft {
				soft = true
			}
		}
	}
}

func markMeta(ls []line, from, to int) {
	for i := from; i < to && i < len(ls); i++ {
		ls[i].role, ls[i].soft = roleMeta, true
	}
}

// separatorAt reports (as 1) a separator line at i: "-----Original
// Message-----" and its translations, forward banners, or a rule of
// underscores or dashes that a quoted header block follows.
func separatorAt(ls []line, i int) int {
	t := ls[i].text
	if !strings.ContainsAny(t[:1], "-_=*<>~") && !strings.HasSuffix(t, ":") {
		return 0
	}
	core := strings.Trim(t, "-_=*<>~ \t")
	if core == "" {
		if runeLen(t) < 10 {
			return 0
		}
		if j := nextContent(ls, i); j < len(ls) && ls[j].depth == 0 && (headerBlockAt(ls, j) > 0 || ls[j].role == roleMeta) {
			return 1
		}
		return 0
	}
	decor := len(t) - len(core)
	phrase := strings.ToLower(strings.TrimSpace(strings.TrimRight(core, ":： ")))
	if separatorPhrases[phrase] && (decor >= 2 || beginPhrases[phrase]) {
		return 1
	}
	return 0
}

// labelOf reads a "Label: value" line of a quoted header block. generic is
// true for any short alphabetic label.
func labelOf(t string) (kind headerKind, generic bool, value string) {
	t = strings.TrimLeft(t, "* ")
	head := t[:min(len(t), 44)]
	i := strings.IndexByte(head, ':')
	if w := strings.Index(head, "："); w >= 0 && (i < 0 || w < i) {
		i = w
	}
	if i <= 0 || i > 40 {
		return hNone, false, ""
	}
	label := strings.ToLower(strings.Trim(t[:i], "* \t"))
	value = strings.TrimLeft(t[i:], ":：* \t")
	if k, ok := headerLabels[label]; ok {
		return k, true, value
	}
	if runeLen(label) > 25 || strings.Count(label, " ") > 2 {
		return hNone, false, ""
	}
	for _, r := range label {
		if !unicode.IsLetter(r) && r != ' ' && r != '-' && r != '.' {
			return hNone, false, ""
		}
	}
	return hNone, true, value
}

// headerBlockAt returns the number of lines of a quoted header block starting
// at i (From/Sent/To/Subject in any language), or 0. Unknown labels count too
// when the block looks like one: a first value with an address, a date, three
// lines or more.
func headerBlockAt(ls []line, i int) int {
	var kinds [hReplyTo + 1]bool
	distinct, generic, cont := 0, 0, 0
	addrFirst, dated := false, false
	last := hNone
	j := i
	for ; j < len(ls) && ls[j].depth == 0 && !ls[j].blank() && ls[j].role != roleMeta; j++ {
		if j-i >= maxHeaderBlock {
			return 0 // a run this long is text, not a quoted header block
		}
		k, isLabel, value := labelOf(ls[j].text)
		if !isLabel {
			if (last == hTo || last == hCc) && cont < 2 && strings.ContainsAny(ls[j].text, "@;,") {
				cont++
				continue
			}
			break
		}
		if j == i {
			addrFirst = strings.Contains(value, "@")
		}
		dated = dated || hasYear(value) || strings.Contains(value, ":")
		generic++
		if k != hNone && !kinds[k] {
			kinds[k] = true
			distinct++
		}
		last = k
	}
	n := j - i
	switch {
	case distinct >= 2 && (kinds[hFrom] || distinct >= 3):
		return n
	case generic >= 3 && generic <= 6 && addrFirst && dated:
		return n
	}
	return 0
}

// attributionEndingAt reports an attribution ("On ..., Name <addr> wrote:")
// whose last line is e, joined over up to four wrapped lines, and where it
// starts. It needs a date or time digit and either a verb of writing in some
// language or an address (the Russian form has no verb).
func attributionEndingAt(ls []line, e int) (int, attrKind) {
	t := ls[e].text
	if !strings.HasSuffix(t, ":") && !strings.HasSuffix(t, "：") {
		return 0, attrNone
	}
	s := e
	for s > 0 && e-s < 3 && ls[s-1].depth == 0 && !ls[s-1].blank() && ls[s-1].role == roleTyped {
		s--
	}
	for s < e && endsStatement(ls[s].text) {
		s++
	}
	joined := joinText(ls[s : e+1])
	if len(joined) > 500 {
		return 0, attrNone
	}
	low := strings.ToLower(joined)
	quoting := hasAnyPrefix(low, quotingOpeners)
	if !hasDigit(joined) && !quoting {
		return 0, attrNone
	}
	verb := containsAny(low, attributionVerbs)
	addr := strings.Contains(joined, "@")
	next := nextContent(ls, e)
	switch {
	case next < len(ls) && ls[next].depth > 0:
		if verb || addr || quoting {
			return s, attrHard
		}
	case !verb:
	case next == len(ls):
		return s, attrTrailing
	case addr || hasYear(joined):
		return s, attrSoft
	}
	return 0, attrNone
}

func joinText(ls []line) string {
	if len(ls) == 1 {
		return ls[0].text
	}
	parts := make([]string, len(ls))
	for i := range ls {
		parts[i] = ls[i].text
	}
	return strings.Join(parts, " ")
}
