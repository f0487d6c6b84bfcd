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
	ready      bool
	words      map[string]bool // folded words of the display name and the address's local part
	initials   map[string]bool // folded initials, in both orders ("ht", "th")
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
	for _, w := range words {
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

// matches reports a folded word that is one of the sender's names or initials.
func (nm *names) matches(f string) bool {
	nm.load()
	if nm.words[f] || nm.initials[strings.ReplaceAll(f, ".", "")] {
		return true
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
