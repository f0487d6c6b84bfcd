package intent

import (
	"regexp"
	"strings"
)

// Unsure is the third answer to "Are we the right match? (yes / not sure
// yet / no)".
const Unsure Answer = "unsure"

var (
	// unsureRe comes first: "not sure yet" must not read as a no, nor
	// "ja, måske" as a yes.
	unsureRe   = regexp.MustCompile(`^(?:not sure(?: yet)?|i'?m not sure|i am not sure|unsure|undecided|don'?t know(?: yet)?|i don'?t know(?: yet)?|too early to (?:say|tell)|maybe|perhaps|possibly|hard to say|(?:yes|ja),? (?:maybe|perhaps|måske)|ikke sikker(?: endnu)?|jeg er ikke sikker(?: endnu)?|usikker|ved ikke(?: endnu)?|jeg ved det ikke(?: endnu)?|det ved jeg ikke(?: endnu)?|for tidligt at sige|måske|muligvis)(?:$|[^\pL\pN])`)
	matchYesRe = regexp.MustCompile(`^(?:i think so|i believe so|i think we are|i think we're|definitely|absolutely|very much|jeg tror det|det tror jeg|det synes jeg|helt sikkert|bestemt|afgjort)(?:$|[^\pL\pN])`)
	matchNoRe  = regexp.MustCompile(`^(?:i don'?t think so|i do not think so|i'?m afraid not|not really|i think not|jeg tror det ikke|det tror jeg ikke|det synes jeg ikke|desværre ikke|ikke rigtigt|nej tak)(?:$|[^\pL\pN])`)
)

// Verdict reads an answer to "Are we the right match? (yes / not sure yet /
// no)" from its first line: yes ("yes", "I think so", "ja", "det tror jeg"),
// Unsure ("not sure yet", "maybe", "ikke sikker endnu", "måske") or no
// ("no", "I don't think so", "nej"); "" when it opens with none of them.
// reason is everything written after the answer's own words, trimmed.
func Verdict(text string) (a Answer, reason string) {
	lines := strings.Split(normalise(text), "\n")
	orig := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		first := strings.TrimLeft(strings.Join(strings.Fields(l), " "), " -*>\"'(")
		if first == "" {
			continue
		}
		for _, c := range []struct {
			re *regexp.Regexp
			a  Answer
		}{{unsureRe, Unsure}, {matchNoRe, No}, {matchYesRe, Yes}, {noRe, No}, {yesRe, Yes}} {
			if m := c.re.FindString(first); m != "" {
				rest := strings.Join(strings.Fields(orig[i]), " ")
				rest = strings.TrimLeft(rest, " -*>\"'(")
				if n := len([]rune(strings.TrimRight(m, " ,.;:!-"))); n <= len([]rune(rest)) {
					rest = string([]rune(rest)[n:])
				}
				more := append([]string{rest}, orig[i+1:]...)
				return c.a, strings.Trim(strings.TrimSpace(strings.Join(more, "\n")), " ,.;:!-–—\n")
			}
		}
		return "", strings.TrimSpace(text)
	}
	return "", ""
}
