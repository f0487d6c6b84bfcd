package reply

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// names are the sender's name words, for telling a signed name or a contact
// block from text.
type names struct {
	name, addr string
	known      []string // other names mentord knows for the sender (Options.Names)
	ready      bool
	words      map[string]bool // folded words of the display name, the known names and the address's local part
	initials   map[string]bool // folded initials, in both orders ("ht", "th")
	first      rune            // the first letter of the display name, folded
	cjk        []string        // the names written in a script without spaces, each run and all runs joined
}

func namesOf(h Header) *names {
	return &names{name: h.FromName, addr: h.From}
}

// load works the words out on first use.
func (nm *names) load() {
	if nm.ready {
		return
	}
	nm.ready = true
	nm.words, nm.initials = map[string]bool{}, map[string]bool{}
	var first []rune
	for _, w := range nameWords(nm.name) {
		nm.words[w] = true
		first = append(first, []rune(w)[0])
	}
	if len(first) > 0 {
		nm.first = first[0]
	}
	for _, n := range append([]string{nm.name}, nm.known...) {
		var joined string
		for _, w := range nameWords(n) {
			nm.words[w] = true
			if hasCJK(w) {
				nm.cjk = append(nm.cjk, w)
				joined += w
			}
		}
		if joined != "" {
			nm.cjk = append(nm.cjk, joined)
		}
	}
	for w := range nm.words {
		if t := translit(w); t != w {
			nm.words[t] = true
		}
	}
	local, _, _ := strings.Cut(nm.addr, "@")
	for _, w := range nameWords(local) {
		nm.words[w] = true
	}
	if len(first) >= 2 && len(first) <= 3 {
		nm.initials[string(first)] = true
		rev := make([]rune, len(first))
		for i, r := range first {
			rev[len(first)-1-i] = r
		}
		nm.initials[string(rev)] = true
	}
}

// nameWords splits a name into folded words of two letters or more.
func nameWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 2 {
			out = append(out, w)
		}
	}
	return out
}

// fold lower-cases s and drops its diacritics.
func fold(s string) string {
	s = strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Mn, r) {
					return -1
				}
				return r
			}, norm.NFD.String(s))
		}
	}
	return s
}

// nfc composes s (NFC), as the corpus compares text.
func nfc(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// How closely a line must match the sender's name.
type nameMode uint8

const (
	nameAny    nameMode = iota // up to three capitalised words
	nameMatch                  // capitalised words, one of them the sender's
	nameStrict                 // only the sender's name words or initials
)

// nameLike reports whether t looks like a name under the mode.
func nameLike(t string, nm *names, mode nameMode) bool {
	words := strings.Fields(strings.TrimRight(strings.TrimSpace(t), ",.!"))
	if len(words) == 0 || len(words) > 4 || mode == nameAny && len(words) > 3 {
		return false
	}
	matched := 0
	for i, w := range words {
		if i > 0 && isSignSuffix(w) {
			matched++ // "山田 拝", "길동 드림": the name's own mark
			continue
		}
		f := fold(strings.Trim(w, `()"'`))
		if nm.matches(f) {
			matched++
			continue
		}
		if !capitalised(w) {
			return false
		}
	}
	switch mode {
	case nameStrict:
		return matched == len(words)
	case nameMatch:
		return matched > 0
	}
	return true
}

func isSignSuffix(w string) bool {
	for _, s := range cjkSignSuffixes {
		if w == s {
			return true
		}
	}
	return false
}

// matches reports a folded word that is one of the sender's names or initials.
func (nm *names) matches(f string) bool {
	nm.load()
	if nm.words[f] || nm.initials[strings.ReplaceAll(f, ".", "")] {
		return true
	}
	if hasCJK(f) {
		return nm.matchesCJK(f)
	}
	if t := translit(f); t != f && nm.words[t] {
		return true // "Иван" signed by Ivan Petrov
	}
	parts := strings.FieldsFunc(f, func(r rune) bool { return r == '-' || r == '\'' || r == '.' })
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if len(p) >= 2 && !nm.words[p] {
			return false
		}
	}
	return true
}

// translitTable writes Cyrillic and Greek letters in Latin ones, so a name
// signed in one script matches the display name in the other.
var translitTable = func() map[rune]string {
	m := map[rune]string{}
	add := func(from, to string) {
		ts := strings.Split(to, " ")
		for i, r := range []rune(from) {
			m[r] = ts[i]
		}
	}
	add("абвгдеёжзийклмнопрстуфхцчшщъыьэюяєіїґ",
		"a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya ye i yi g")
	add("αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
		"a v g d e z i th i k l m n x o p r s s t y f ch ps o a e i i o y o i y i y")
	return m
}()

// translit is a folded word with its Cyrillic and Greek letters in Latin
// ones; other words come back as they are.
func translit(f string) string {
	var sb strings.Builder
	changed := false
	for _, r := range f {
		if t, ok := translitTable[r]; ok {
			changed = true
			if t != "_" {
				sb.WriteString(t)
			}
			continue
		}
		sb.WriteRune(r)
	}
	if !changed {
		return f
	}
	return sb.String()
}

// cjkSignSuffixes follow a name in a Japanese, Chinese or Korean sign-off:
// "山田より" (from Yamada), "山田 拝", "王伟 敬上", "길동 드림".
var cjkSignSuffixes = []string{"より", "拝", "拜", "拜上", "敬上", "上", "です", "でした", "드림", "올림", "씀"}

// matchesCJK reports a word in a script without spaces that is the sender's
// name or a part of it: the family name alone ("山田" of "山田太郎"), the given
// name, the whole name, with a sign-off suffix ("山田より") or a familiar
// prefix ("小王" of "王伟").
func (nm *names) matchesCJK(f string) bool {
	for _, s := range cjkSignSuffixes {
		if g := strings.TrimSuffix(f, s); g != f && g != "" {
			f = g
			break
		}
	}
	for _, p := range []string{"小", "老", "阿"} {
		if g := strings.TrimPrefix(f, p); g != f && g != "" {
			if nm.matchesCJK(g) {
				return true
			}
		}
	}
	for _, n := range nm.cjk {
		if n == f || strings.HasPrefix(n, f) || strings.HasSuffix(n, f) {
			return true
		}
	}
	return false
}

// isInitial reports a lone letter (with an optional dot) that is the first
// letter of the sender's name: the "/B" a Danish writer signs with.
func (nm *names) isInitial(t string) bool {
	nm.load()
	t = strings.TrimSuffix(strings.TrimSpace(t), ".")
	r := []rune(fold(t))
	return len(r) == 1 && nm.first != 0 && r[0] == nm.first
}

// capitalised reports a word that starts with an upper-case letter and holds
// only letters and name punctuation.
func capitalised(w string) bool {
	for i, r := range w {
		switch {
		case i == 0 && !unicode.IsUpper(r):
			return false
		case !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '.':
			return false
		}
	}
	return w != ""
}
