package intent

import (
	"regexp"
	"strconv"
	"strings"
)

var agreeRe = regexp.MustCompile(`^(?:i agree|agreed|i confirm|confirmed|i accept|(?:yes|ja),? (?:i agree|agreed|jeg er enig|enig)|jeg er enig|enig|jeg bekræfter|bekræftet|jeg accepterer)(?:$|[^\pL\pN])`)

// Agrees reports whether a reply to the agreement confirms it: its first
// line opens with "I agree" (or "agreed", "jeg er enig", "enig", ...) or a
// plain yes, and it changes no numbered item.
func Agrees(text string) bool {
	for _, l := range strings.Split(normalise(text), "\n") {
		first := strings.TrimLeft(strings.Join(strings.Fields(l), " "), " -*>\"'(")
		if first == "" {
			continue
		}
		return (agreeRe.MatchString(first) || yesRe.MatchString(first)) && len(Items(text, 9)) == 0
	}
	return false
}

var itemRe = regexp.MustCompile(`^\s*[-*>]?\s*(\d{1,2})\s*[.):]\s*(\S.*)$`)

// Items reads the numbered lines of a reply ("3. Room 5.01", "2) monthly")
// for items 1 to max: the text after each number, by number (a later line
// with the same number wins). Lines without a number belong to none.
func Items(text string, max int) map[int]string {
	out := map[int]string{}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		m := itemRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > max {
			continue
		}
		out[n] = strings.TrimSpace(m[2])
	}
	return out
}

var (
	minutesRe = regexp.MustCompile(`(\d+)\s*(?:min|minutes|minutter|m)(?:$|[^\pL])`)
	hoursRe   = regexp.MustCompile(`(\d+(?:[.,]\d+)?)\s*(?:h|hours?|timer?|t)(?:$|[^\pL])`)
	numberRe  = regexp.MustCompile(`\d+`)
)

// Minutes reads a length of time ("90 minutes", "1.5 hours", "1 time"),
// 0 when there is none.
func Minutes(text string) int {
	t := normalise(text)
	if m := minutesRe.FindStringSubmatch(t); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if m := hoursRe.FindStringSubmatch(t); m != nil {
		f, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", "."), 64)
		if err == nil {
			return int(f * 60)
		}
	}
	return 0
}

// Cadence reads how often in words ("every two weeks", "hver måned") as
// daemon/schedule names it (weekly, fortnightly, monthly, quarterly, or the
// text as written when it is already such a name, like "6w"); "" when none.
func Cadence(text string) string {
	t := strings.Trim(strings.Join(strings.Fields(normalise(text)), " "), " .!")
	for _, c := range []struct{ name, re string }{
		{"fortnightly", `fortnight|every (?:two|2|other) weeks?|biweekly|hver (?:anden|2\.?|14\.?) (?:uge|dag)|hver fjortende dag|hver 14\. dag`},
		{"weekly", `weekly|every week|once a week|ugentlig|hver uge|en gang om ugen`},
		{"quarterly", `quarterly|every (?:three|3) months|kvartalsvis|hver(?:t)? (?:tredje|3\.?) måned|hvert kvartal`},
		{"monthly", `monthly|every month|once a month|månedlig|hver måned|en gang om måneden`},
	} {
		if regexp.MustCompile(`(?:^|[^\pL])(?:` + c.re + `)(?:$|[^\pL])`).MatchString(t) {
			return c.name
		}
	}
	if regexp.MustCompile(`^\d{1,2}[wdm]$`).MatchString(t) {
		return t
	}
	return ""
}

// Every reads a review rhythm ("every 4 sessions", "hver 3. samtale",
// "never"/"aldrig" is 0); ok is false when there is none.
func Every(text string) (n int, ok bool) {
	t := normalise(text)
	if regexp.MustCompile(`(?:^|[^\pL])(?:never|no|none|aldrig|ingen)(?:$|[^\pL])`).MatchString(t) {
		return 0, true
	}
	if m := numberRe.FindString(t); m != "" {
		n, _ = strconv.Atoi(m)
		return n, n <= 52
	}
	return 0, false
}
