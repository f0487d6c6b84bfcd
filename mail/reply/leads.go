package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tie is how an answer was tied to its question, for the admin to see why
// (mentord inspect) and for the acknowledgement to show a mapping that was
// read rather than written.
type Tie string

// The ways an answer is tied to its question.
const (
	TieNumber     Tie = "number"      // opened by its number ("3.", "Q3:", "Zu 3:")
	TieInline     Tie = "inline"      // typed under the quoted question
	TieLateNumber Tie = "late-number" // a lead naming the number out of turn ("Forgot 3:", "Also on 2:")
	TieTopic      Tie = "topic"       // led by the question's topic ("About support: ...")
	TieOrder      Tie = "order"       // one paragraph per question, in their order
)

// lateLeadWords may make up the lead of a late answer named by its number:
// "Forgot 3:", "Sorry, forgot number 3:", "Also on 3:", "PS re 3:", "Ad 3)",
// "Nachtrag zu 3:", "Glemte lige 3:", "J'ai oublié la 3 :". Every word before
// the number must be one of them, so prose ("We hired 3: ...") is not a lead.
var lateLeadWords = wordSet(
	// en
	"forgot|forgotten|forgetting|sorry|oops|oh|ah|and|also|plus|ps|p.s|pps|btw|re|regarding|about|on|for|to|" +
		"as|concerning|answer|answering|adding|add|addition|addendum|update|updated|correction|correcting|" +
		"missed|skipped|one|more|thing|late|i|my|the|a|an|question|number|no|nr|point|item|just|sorry,|" +
		// de
		"vergessen|vergaß|vergass|sorry|noch|auch|und|nachtrag|ergänzung|korrektur|zu|zur|zum|ad|betr|betreff|" +
		"bzgl|bezüglich|betreffend|frage|punkt|nummer|ich|habe|hab|die|der|das|" +
		// da, no, sv
		"glemte|glemt|glömde|også|og|lige|tilføjelse|tillæg|rettelse|til|om|vedr|vedrørende|angående|ang|" +
		"spørgsmål|spørsmål|fråga|nummer|jeg|har|og|ogs|också|och|undskyld|beklager|förlåt|" +
		// fr
		"oublié|oublie|pardon|désolé|desole|désolée|et|aussi|pour|sur|concernant|quant|à|a|la|le|j'ai|" +
		"j’ai|précision|correction|numéro|" +
		// es, pt, it, nl
		"olvidé|olvide|perdón|perdon|lo|siento|también|tambien|y|sobre|respecto|en|cuanto|al|el|pregunta|" +
		"número|numero|esqueci|desculpe|também|e|sobre|sulla|anche|dimenticato|vergeten|ook|en|over|vraag|nog")

// lateNumber reads a lead that names a question by its number, at the start
// of a line, and returns the number and the text after it.
func lateNumber(t string) (int, string, bool) {
	s := strings.TrimLeft(t, " \t*_")
	if s == "" {
		return 0, "", false
	}
	if n, rest, ok := cjkLateNumber(s); ok {
		return n, rest, true
	}
	words := 0
	for words < 8 {
		r := firstRune(s)
		if isDigit(s[0]) || r == '#' {
			break
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return 0, "", false
		}
		w := strings.ToLower(strings.Trim(s[:end], ",.;:!-–—()"))
		if w != "" && !lateLeadWords[w] {
			return 0, "", false
		}
		s = strings.TrimLeft(s[end:], " \t")
		words++
	}
	if words == 0 || s == "" {
		return 0, "", false
	}
	s = strings.TrimPrefix(s, "#")
	n, rest, ok := digitsThen(s, ":.)-", false)
	if !ok {
		return 0, "", false
	}
	return n, rest, true
}

// cjkLateNumber reads the Chinese and Japanese forms: "关于第3题：", "补充问题3：",
// "3番について：", "第3問：".
func cjkLateNumber(s string) (int, string, bool) {
	if r := firstRune(s); r < 0x3000 && !(isDigit(s[0]) && hasCJK(s[:min(len(s), 8)])) {
		return 0, "", false
	}
	for _, p := range []string{"另外", "还有", "補足", "补充", "忘了", "关于", "關於", "对于", "對於", "追加", "追記", "再"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimLeft(s, "，、, ")
	for _, p := range []string{"第", "问题", "問題", "質問", "题", "題"} {
		s = strings.TrimPrefix(s, p)
	}
	s = asciiDigits(s)
	i := 0
	for i < len(s) && i < 3 && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 2 {
		return 0, "", false
	}
	n := int(s[0] - '0')
	if i == 2 {
		n = n*10 + int(s[1]-'0')
	}
	s = s[i:]
	for _, p := range []string{"个问题", "個問題", "道题", "题", "題", "问", "問", "番", "について", "的"} {
		s = strings.TrimPrefix(s, p)
	}
	for _, sep := range []string{"：", ":", "、", "）", ")", "，"} {
		if strings.HasPrefix(s, sep) {
			return n, strings.TrimSpace(s[len(sep):]), n > 0
		}
	}
	return 0, "", false
}

// isCJK reports a rune of a script written without spaces between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// hasCJK reports whether s holds such a rune.
func hasCJK(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x1100 && isCJK(r) {
			return true
		}
		i += size
	}
	return false
}
