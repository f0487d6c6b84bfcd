package reply

import (
	"strings"
	"unicode"
)

// stripTail cuts from the end of a typed block what the sender did not type
// for this message: a signature after "-- ", a mobile footer, a disclaimer, a
// contact block, a sign-off and a signed name. It is conservative: a line it
// is not sure of stays.
func stripTail(ls []string, nm *names) []string {
	ls = cutDelimiter(ls, nm)
	ls = cutFooter(ls)
	for range 8 {
		ls = trimBlankEnd(ls)
		if len(ls) == 0 {
			return nil
		}
		p := paragraphStart(ls)
		para := ls[p:]
		switch {
		case isDisclaimer(para), isContactBlock(para, nm), isSignedName(para, nm):
			ls = ls[:p]
		default:
			k := valedictionAt(para, nm)
			if k == 0 && p == 0 && len(para) == 1 && isOneLine(ls) && isExclamation(para[0]) {
				return ls // "Thanks!" and nothing else: that is what was typed
			}
			if k < 0 {
				k = signatureInParagraph(para, nm)
			}
			if k < 0 {
				return ls
			}
			ls = ls[:p+k]
		}
	}
	return trimBlankEnd(ls)
}

// isExclamation reports a closing phrase said for itself ("Thanks!",
// "Merci beaucoup."), not a sign-off before a name ("Thanks,").
func isExclamation(t string) bool {
	t = strings.TrimSpace(t)
	return strings.HasSuffix(t, "!") || strings.HasSuffix(t, ".") || strings.HasSuffix(t, "！") || strings.HasSuffix(t, "。")
}

// isOneLine reports a block that is nothing but one line.
func isOneLine(ls []string) bool {
	n := 0
	for _, t := range ls {
		if t != "" {
			n++
		}
	}
	return n == 1
}

func trimBlankEnd(ls []string) []string {
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// paragraphStart is the index of the first line of the last paragraph.
func paragraphStart(ls []string) int {
	for i := len(ls) - 1; i > 0; i-- {
		if ls[i-1] == "" {
			return i
		}
	}
	return 0
}

// stripBanner drops a warning that a mail gateway put above the text
// ("CAUTION: This email originated from outside the organization...",
// "You don't often get email from ...").
func stripBanner(ls []string) []string {
	start := 0
	for start < len(ls) && ls[start] == "" {
		start++
	}
	if start == len(ls) || !hasAnyPrefix(strings.ToLower(strings.TrimLeft(ls[start], "*[( ")), bannerPrefixes) {
		return ls
	}
	end := start
	for end < len(ls) && ls[end] != "" && end-start < 6 {
		end++
	}
	return ls[end:]
}

// cutDelimiter cuts at a signature delimiter: "-- " (RFC 3676 section
// 4.3) or "--" always; "__", a lone dash or "—Name" when only a short
// signature follows.
func cutDelimiter(ls []string, nm *names) []string {
	for i, t := range ls {
		t = strings.TrimSpace(t)
		switch {
		case t == "--":
			return ls[:i]
		case t == "—" || t == "–" || isRule(t):
			if shortTail(ls[i+1:], 8) {
				return ls[:i]
			}
		case strings.HasPrefix(t, "—") || strings.HasPrefix(t, "–") || strings.HasPrefix(t, "--"):
			if nameLike(strings.TrimLeft(t, "—–- "), nm, nameAny) && shortTail(ls[i+1:], 6) {
				return ls[:i]
			}
		case strings.HasPrefix(t, "-") && nameLike(strings.TrimLeft(t, "- "), nm, nameMatch) && shortTail(ls[i+1:], 6):
			return ls[:i]
		case (strings.HasPrefix(t, "/") || strings.HasPrefix(t, "~")) && shortTail(ls[i+1:], 6):
			// "/Bjørn", "/B", "~Ana": a name or initial signed with a slash or tilde
			if name := strings.TrimLeft(t, "/~ "); nameLike(name, nm, nameMatch) || nm.isInitial(name) {
				return ls[:i]
			}
		}
	}
	return ls
}

// isRule reports a line drawn with dashes, underscores or the like.
func isRule(t string) bool {
	return len(t) >= 2 && strings.Trim(t, "-_=~*—–") == ""
}

// shortTail reports lines that could be a signature: few and short.
func shortTail(ls []string, maxLines int) bool {
	n := 0
	for _, t := range ls {
		if t == "" {
			continue
		}
		n++
		if n > maxLines || runeLen(t) > 80 {
			return false
		}
	}
	return true
}

// cutFooter cuts at a mobile client's footer near the end ("Sent from my
// iPhone", "Get Outlook for Android", in many languages).
func cutFooter(ls []string) []string {
	for i := max(0, len(ls)-6); i < len(ls); i++ {
		if isFooter(ls[i]) && shortTail(ls[i+1:], 3) {
			return ls[:i]
		}
	}
	return ls
}

func isFooter(t string) bool {
	if t == "" || len(t) > 160 || !footerInitial[unicode.ToLower(firstRune(t))] {
		return false
	}
	low := strings.ToLower(t)
	if runeLen(low) <= 60 && hasAnyPrefix(low, footerPossessive) {
		return true
	}
	for _, p := range footerPrefixes {
		if strings.HasPrefix(low, p) {
			return containsAny(low, footerDevices)
		}
	}
	return false
}

// isDisclaimer reports a confidentiality notice: a paragraph that opens like
// one and speaks of confidentiality, or holds three of its words.
func isDisclaimer(para []string) bool {
	if len(para) > 40 {
		return false
	}
	n := 0
	for _, t := range para {
		n += len(t)
	}
	if n < 60 {
		return false
	}
	if _, _, _, ok := numberToken(para[0]); ok {
		return false
	}
	head := strings.TrimLeft(para[0], "*_-=[( ")
	opener := false
	for _, o := range disclaimerOpeners {
		if len(head) >= len(o) && strings.EqualFold(head[:len(o)], o) {
			opener = true
			break
		}
	}
	if !opener && n < 200 {
		return false
	}
	kw := countAny(strings.ToLower(strings.Join(para, " ")), disclaimerWords)
	return opener && kw >= 1 || kw >= 3
}

// isContactBlock reports a name, title, company and phone block: short lines
// led by the sender's name, or holding two contact lines.
func isContactBlock(para []string, nm *names) bool {
	if len(para) < 2 || len(para) > 8 {
		return false
	}
	contacts, prose := 0, 0
	for _, t := range para {
		if runeLen(t) > 70 {
			return false
		}
		if _, _, _, ok := numberToken(t); ok {
			return false
		}
		if isContact(t) {
			contacts++
		} else if strings.HasSuffix(t, "?") || strings.HasSuffix(t, "!") || len(strings.Fields(t)) > 8 {
			prose++
		}
	}
	if prose > 0 {
		return false
	}
	named := nameLike(para[0], nm, nameMatch)
	return named && (contacts > 0 || len(para) <= 4) || contacts >= 2 ||
		contacts >= 1 && nameLike(para[0], nm, nameAny)
}

// isContact reports a phone, web, mail or "Title | Company" line.
func isContact(t string) bool {
	low := strings.ToLower(t)
	if strings.Contains(low, "www.") || strings.Contains(low, "http://") || strings.Contains(low, "https://") ||
		strings.Contains(t, "|") || strings.Contains(t, "@") && strings.Contains(t, ".") {
		return true
	}
	digits, letters := 0, 0
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case unicode.IsLetter(r):
			letters++
		}
	}
	return digits >= 7 && letters <= 15
}

// isSignedName reports a paragraph that is only the sender's name or initials.
func isSignedName(para []string, nm *names) bool {
	return len(para) == 1 && nameLike(para[0], nm, nameStrict)
}

// signatureInParagraph returns where the sender's name, alone or leading a
// contact block, ends a paragraph after a finished sentence, or -1.
func signatureInParagraph(para []string, nm *names) int {
	last := len(para) - 1
	if last > 0 && nameLike(para[last], nm, nameStrict) {
		return last
	}
	for k := max(1, len(para)-8); k < len(para); k++ {
		if !endsStatement(para[k-1]) || !nameLike(para[k], nm, nameMatch) {
			continue
		}
		if tail := para[k:]; isSignedName(tail, nm) || isContactBlock(tail, nm) {
			return k
		}
	}
	return -1
}

// valedictionAt returns the line of the paragraph where a sign-off starts
// ("Best,", "Viele Grüße", "Thanks, Priya" with only names and titles after
// it), or -1.
func valedictionAt(para []string, nm *names) int {
	for k := max(0, len(para)-6); k < len(para); k++ {
		if isValediction(para[k], nm) && signatureLines(para[k+1:]) {
			return k
		}
	}
	return -1
}

func signatureLines(ls []string) bool {
	if len(ls) > 4 {
		return false
	}
	for _, t := range ls {
		if runeLen(t) > 60 || len(strings.Fields(t)) > 7 || strings.HasSuffix(t, "?") {
			return false
		}
		if _, _, _, ok := numberToken(t); ok {
			return false
		}
	}
	return true
}

// isValediction reports a closing phrase alone or followed by a name.
func isValediction(t string, nm *names) bool {
	if t == "" || runeLen(t) > 60 {
		return false
	}
	s := strings.TrimRight(strings.TrimLeft(t, "-—– "), " ,.!:;，。！")
	if valedictions[strings.ToLower(s)] {
		return true
	}
	if head, tail, ok := cutAny(s, ",", " - ", " – ", "—"); ok && valedictions[strings.ToLower(strings.TrimSpace(head))] {
		return nameLike(strings.TrimSpace(tail), nm, nameAny)
	}
	words := strings.Fields(s)
	for k := min(len(words)-1, 4); k >= 1; k-- {
		if valedictions[strings.ToLower(strings.TrimRight(strings.Join(words[:k], " "), ".,:;!"))] {
			return nameLike(strings.Join(words[k:], " "), nm, nameMatch)
		}
	}
	return false
}

func cutAny(s string, seps ...string) (string, string, bool) {
	for _, sep := range seps {
		if h, t, ok := strings.Cut(s, sep); ok {
			return h, t, true
		}
	}
	return s, "", false
}
