package mail

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Threading a message mentord sends in answer to one it received (an
// acknowledgement of a reply): In-Reply-To names the received message,
// References its References and then its Message-ID (RFC 5322 section
// 3.6.4), and the subject is the received one with "Re: " (section 3.6.5).
// Every id comes from outside, so only one that is a msg-id by the RFC's
// syntax is written back, and the field stays within a line's limit.

const (
	// MaxMessageIDLen bounds a msg-id written back (without angle brackets).
	// RFC 5322 sets no bound but the 998-octet line; real ids are under 100.
	MaxMessageIDLen = 250
	// maxReferences and maxReferencesLen bound the References written: the
	// field must fit one line of 998 octets with "References: " before it.
	maxReferences    = 20
	maxReferencesLen = 900
	// maxSubjectRunes bounds a subject taken from a received message.
	maxSubjectRunes = 200
)

// ValidMessageID reports whether id (without angle brackets) is a msg-id of
// RFC 5322 section 3.6.4: id-left "@" id-right, id-left a dot-atom-text,
// id-right a dot-atom-text or a no-fold-literal, printable US-ASCII only,
// and at most MaxMessageIDLen octets. The obsolete forms (quoted strings,
// comments, folding) are refused: nothing of them is written back.
func ValidMessageID(id string) bool {
	if id == "" || len(id) > MaxMessageIDLen {
		return false
	}
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 {
		return false
	}
	left, right := id[:at], id[at+1:]
	if !dotAtomText(left) {
		return false
	}
	if strings.HasPrefix(right, "[") {
		return noFoldLiteral(right)
	}
	return dotAtomText(right)
}

// dotAtomText is 1*atext *("." 1*atext) (RFC 5322 section 3.2.3).
func dotAtomText(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// noFoldLiteral is "[" *dtext "]", dtext being printable US-ASCII but
// "[", "]" and "\" (RFC 5322 section 3.6.4 and 3.4.1).
func noFoldLiteral(s string) bool {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '[' || c == ']' || c == '\\' {
			return false
		}
	}
	return true
}

// Thread returns the References of a message answering one whose
// Message-ID is id, and whose References are refs (or, without them, its
// In-Reply-To inReplyTo, when that names one message): refs, then id. Ids
// that are not valid msg-ids are left out, and so are repeats. It returns nil
// when id itself is not valid: then there is nothing to answer. When the
// list is too long the oldest ids after the first (the thread's root) go,
// so the root and the latest stay, as RFC 5537 section 3.4.4 does for
// Netnews.
func Thread(refs, inReplyTo []string, id string) []string {
	if !ValidMessageID(id) {
		return nil
	}
	if len(refs) == 0 && len(inReplyTo) == 1 {
		refs = inReplyTo
	}
	seen := map[string]bool{strings.ToLower(id): true}
	var out []string
	for _, r := range refs {
		if ValidMessageID(r) && !seen[strings.ToLower(r)] {
			seen[strings.ToLower(r)] = true
			out = append(out, r)
		}
	}
	out = append(out, id)
	for len(out) > 1 && (len(out) > maxReferences || referencesLen(out) > maxReferencesLen) {
		if len(out) == 2 { // the root and the latest: keep the latest alone
			out = out[1:]
			break
		}
		out = append(out[:1], out[2:]...)
	}
	return out
}

// referencesLen is the length of the References value "<a> <b> ...".
func referencesLen(ids []string) int {
	n := 0
	for _, id := range ids {
		n += len(id) + 3
	}
	return n
}

// replyPrefix is one reply or forward marker at the start of a subject, as
// clients write them: "Re:", "RE:", "Sv:", "AW:", "Antw:", "Fwd:", "Re[2]:",
// "回复：", ...
var replyPrefix = regexp.MustCompile(`(?i)^\s*(?:re|sv|aw|vs|antw|antwort|odp|ynt|ref|réf|rif|r|res|fw|fwd|wg|tr|vb|rv|enc|回复|答复|回覆)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*`)

// ReplySubject is the subject of an answer to a message with subject s:
// "Re: " and s without its own reply and forward markers (RFC 5322 section
// 3.6.5), control characters dropped and at most 200 characters. It returns
// "" when nothing is left of s.
func ReplySubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	for {
		loc := replyPrefix.FindStringIndex(s)
		if loc == nil || loc[1] == 0 {
			break
		}
		s = s[loc[1]:]
	}
	if s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		s = strings.TrimSpace(string([]rune(s)[:maxSubjectRunes])) + "…"
	}
	return "Re: " + s
}
