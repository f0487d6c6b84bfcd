package intent

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dates and times in free text ("Tuesday the 14th at 3pm", "14/1 kl. 15",
// "next Monday 10:00", "tirsdag den 14. januar kl. 15.00"), resolved in the
// sender's zone. The flow of FindWhen:
//  1. Find the time of day ("15:00", "15.00", "kl. 15", "3pm", "at 10")
//     and cut it out, so "kl. 15" is never read as a year nor "at 3" as
//     March.
//  2. Find the date phrases (a weekday, a day with a month name, "the
//     14th", "den 14.", "14/1", "tomorrow", "i morgen") and turn each into
//     a date, preferring the future, day before month, the day of the
//     month nearest the session. The month and weekday names of both
//     languages are in the tables here: a general date parser
//     (go-dateparser) was measured and left out, see the commit that did.
//  3. Question what cannot be told for sure instead of guessing: a weekday
//     that is not the date's ("Tuesday the 14th" when the 14th is a
//     Thursday), an hour from 1 to 7 without am or pm, a day and month
//     that may be either way round ("2/3" from an English writer), two
//     different dates, a weekday alone for a session more than a week
//     away, a date in the past.

// When is a date and time found in a text.
type When struct {
	Start   time.Time // in the zone it was resolved in; the time of day is the session's when HasTime is false
	HasDate bool
	HasTime bool
	Phrase  string // the words it was read from
	// Unclear says why the text's date cannot be taken as it stands (ask
	// back); "" when it is clear.
	Unclear string
}

var (
	clockRe   = regexp.MustCompile(`(?:^|[^\pL\pN/.])(?:(?:kl\.?|klokken|at|@|from|fra|om) ?)?([01]?\d|2[0-3])[:.]([0-5]\d)(?: ?(am|pm|a\.m\.|p\.m\.))?(?:$|[^\pN/.])`)
	ampmRe    = regexp.MustCompile(`(?:^|[^\pL\pN])(?:at |@ ?)?(1[0-2]|0?[1-9]) ?(am|pm|a\.m\.|p\.m\.)(?:$|[^\pL])`)
	hourRe    = regexp.MustCompile(`(?:^|[^\pL\pN])(?:kl\.?|klokken|at|@) ?([01]?\d|2[0-3])(?:$|[^\pL\pN:./])`)
	weekdayRe = regexp.MustCompile(`(?:^|[^\pL])((?:next |this |on |coming |på |næste |kommende |på næste )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag))(?:$|[^\pL])`)
	months    = `jan(?:uary|uar)?|feb(?:ruary|ruar)?|mar(?:ch|ts)?|apr(?:il)?|may|maj|jun(?:e|i)?|jul(?:y|i)?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?`
	dayMonRe  = regexp.MustCompile(`(?:^|[^\pL\pN])((?:the )?(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|\.)? (?:of )?(?:` + months + `)(?: \d{4})?)(?:$|[^\pL])`)
	monDayRe  = regexp.MustCompile(`(?:^|[^\pL\pN])((?:` + months + `) (?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?:,? \d{4})?)(?:$|[^\pL\pN])`)
	ordinalRe = regexp.MustCompile(`(?:^|[^\pL\pN])((?:the |den )(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|\.)|(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th))(?:$|[^\pL\pN])`)
	numericRe = regexp.MustCompile(`(?:^|[^\pN.:/])((?:[12]\d|3[01]|0?[1-9])([/.])(1[0-2]|0?[1-9])(?:[/.](\d{4}|\d{2}))?)\.?(?:$|[^\pN:/])`)
	relDayRe  = regexp.MustCompile(`(?:^|[^\pL])(tomorrow|the day after tomorrow|i morgen|i overmorgen)(?:$|[^\pL])`)
	vagueRe   = regexp.MustCompile(`(?:^|[^\pL])(next week|later this month|next month|sometime|some time|in a few weeks|næste uge|senere på måneden|næste måned|om et par uger)(?:$|[^\pL])`)
)

var weekdays = map[string]time.Weekday{
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
	"mandag": time.Monday, "tirsdag": time.Tuesday, "onsdag": time.Wednesday, "torsdag": time.Thursday,
	"fredag": time.Friday, "lørdag": time.Saturday, "søndag": time.Sunday,
}

// FindWhen looks for a new date and time for a session in text. now and loc
// are the sender's clock and zone; session is the session's present start
// (its date is not taken for a new one: "instead of the 12th, the 14th"),
// whose time of day a date alone keeps. ok is false when the text names no
// date or time at all.
func FindWhen(text string, now time.Time, loc *time.Location, session time.Time, danish bool) (w When, ok bool) {
	t := " " + strings.Join(strings.Fields(normalise(text)), " ") + " "
	now, session = now.In(loc), session.In(loc)
	hour, minute, timeUnclear, t := findClock(t)
	w.HasTime = hour >= 0

	type found struct {
		date   time.Time
		phrase string
	}
	var dates []found
	var unclear []string
	add := func(d time.Time, phrase string) {
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		if sameDay(d, session) {
			return // the session's present date, named to say what moves
		}
		for _, f := range dates {
			if sameDay(f.date, d) {
				return
			}
		}
		dates = append(dates, found{d, phrase})
	}
	var wd *time.Weekday
	var wdPhrase string
	if m := weekdayRe.FindStringSubmatch(t); m != nil {
		f := strings.Fields(m[1])
		d := weekdays[f[len(f)-1]]
		wd, wdPhrase = &d, m[1]
	}
	used := false
	for _, re := range []*regexp.Regexp{dayMonRe, monDayRe} {
		for _, m := range re.FindAllStringSubmatch(t, 3) {
			if d, ok := monthDay(m[1], now); ok {
				add(d, m[1])
				used = true
			}
		}
	}
	if !used {
		for _, m := range numericRe.FindAllStringSubmatch(t, 3) {
			day, _ := strconv.Atoi(m[1][:strings.IndexAny(m[1], "/.")])
			mon, _ := strconv.Atoi(m[3])
			if m[2] == "/" && !danish && day <= 12 && mon <= 12 && day != mon {
				unclear = append(unclear, fmt.Sprintf("%q may be day/month or month/day", m[1]))
			}
			d := nextDate(now, time.Month(mon), day, m[4])
			if d.IsZero() {
				unclear = append(unclear, fmt.Sprintf("%q is not a date", m[1]))
				continue
			}
			add(d, m[1])
			used = true
		}
	}
	if !used {
		for _, m := range ordinalRe.FindAllStringSubmatch(t, 3) {
			day := leadingNumber(m[1])
			d := nearestDayOfMonth(now, session, day)
			if d.IsZero() {
				continue
			}
			add(d, m[1])
			used = true
		}
	}
	if !used {
		if m := relDayRe.FindStringSubmatch(t); m != nil {
			days := 1
			if strings.Contains(m[1], "after") || strings.Contains(m[1], "over") {
				days = 2
			}
			add(now.AddDate(0, 0, days), m[1])
			used = true
		}
	}
	if !used && wd != nil {
		// A weekday alone: the next one; for a session more than a week
		// away, the one in the session's week ("can we do Thursday
		// instead?" means that week's Thursday).
		from := now
		if session.Sub(now) > 7*24*time.Hour {
			from = session.AddDate(0, 0, -int((session.Weekday()+6)%7)-1) // the Sunday before the session's week
		}
		d := from.AddDate(0, 0, 1)
		for d.Weekday() != *wd {
			d = d.AddDate(0, 0, 1)
		}
		if strings.HasPrefix(wdPhrase, "next ") && d.Sub(now) < 2*24*time.Hour {
			unclear = append(unclear, fmt.Sprintf("%q may mean this one or the one after", wdPhrase))
		}
		add(d, wdPhrase)
		wd = nil // it named the date itself
	}
	if !used && wd == nil && len(dates) == 0 {
		if m := vagueRe.FindStringSubmatch(t); m != nil {
			w.Phrase, w.Unclear = m[1], fmt.Sprintf("%q names no day", m[1])
			return w, true
		}
	}
	switch {
	case len(dates) == 0 && hour < 0:
		return w, false
	case len(dates) > 1:
		var ps []string
		for _, f := range dates {
			ps = append(ps, f.phrase)
		}
		unclear = append(unclear, "more than one date: "+strings.Join(ps, ", "))
	}
	day := session
	if len(dates) > 0 {
		day, w.HasDate, w.Phrase = dates[0].date, true, dates[0].phrase
		if wd != nil && day.Weekday() != *wd {
			unclear = append(unclear, fmt.Sprintf("%s is a %s, not a %s", dates[0].phrase, day.Weekday(), *wd))
		}
	}
	h, mi := session.Hour(), session.Minute()
	if w.HasTime {
		h, mi = hour, minute
		if timeUnclear != "" {
			unclear = append(unclear, timeUnclear)
		}
	}
	w.Start = time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, loc)
	if !w.Start.After(now) {
		unclear = append(unclear, "it is in the past")
	}
	w.Unclear = strings.Join(unclear, "; ")
	return w, true
}

// findClock finds the time of day (hour -1 when none) and returns the text
// without it, with why it is unclear ("" when it is not).
func findClock(t string) (hour, minute int, unclear, rest string) {
	if m := clockRe.FindStringSubmatchIndex(t); m != nil {
		h, _ := strconv.Atoi(t[m[2]:m[3]])
		mi, _ := strconv.Atoi(t[m[4]:m[5]])
		h, unclear = withHalf(h, t, m[6], m[7], t[m[0]:m[1]])
		return h, mi, unclear, t[:m[0]] + " " + t[m[1]:]
	}
	if m := ampmRe.FindStringSubmatchIndex(t); m != nil {
		h, _ := strconv.Atoi(t[m[2]:m[3]])
		h, unclear = withHalf(h, t, m[4], m[5], t[m[0]:m[1]])
		return h, 0, unclear, t[:m[0]] + " " + t[m[1]:]
	}
	if m := hourRe.FindStringSubmatchIndex(t); m != nil {
		h, _ := strconv.Atoi(t[m[2]:m[3]])
		h, unclear = withHalf(h, t, -1, -1, t[m[0]:m[1]])
		return h, 0, unclear, t[:m[0]] + " " + t[m[1]:]
	}
	return -1, 0, "", t
}

// withHalf applies am or pm; an hour from 1 to 7 without either may be
// morning or afternoon.
func withHalf(h int, t string, from, to int, phrase string) (int, string) {
	if from >= 0 {
		switch half := strings.ReplaceAll(t[from:to], ".", ""); {
		case half == "pm" && h < 12:
			return h + 12, ""
		case half == "am" && h == 12:
			return 0, ""
		}
		return h, ""
	}
	if h >= 1 && h <= 7 {
		return h, fmt.Sprintf("%q may be morning or afternoon", strings.TrimSpace(phrase))
	}
	return h, ""
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func leadingNumber(s string) int {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "the "), "den ")
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// nextDate is day/mon in year (when given) or the next such date from now.
func nextDate(now time.Time, mon time.Month, day int, year string) time.Time {
	y := now.Year()
	if year != "" {
		y, _ = strconv.Atoi(year)
		if y < 100 {
			y += 2000
		}
	}
	d := time.Date(y, mon, day, 0, 0, 0, 0, now.Location())
	if d.Day() != day {
		return time.Time{} // the 31st of a shorter month
	}
	if year == "" && d.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())) {
		d = d.AddDate(1, 0, 0)
	}
	return d
}

// nearestDayOfMonth is the date from today on whose day of the month is
// day, nearest to the session ("the 14th" of a session on the 12th is its
// month's); without a session, the next one.
func nearestDayOfMonth(now, session time.Time, day int) time.Time {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	ref := session
	if ref.IsZero() || ref.Before(today) {
		ref = today
	}
	var best time.Time
	for i := -1; i <= 2; i++ {
		d := time.Date(ref.Year(), ref.Month()+time.Month(i), day, 0, 0, 0, 0, now.Location())
		if d.Day() != day || d.Before(today) {
			continue
		}
		if best.IsZero() || absDur(d.Sub(ref)) < absDur(best.Sub(ref)) {
			best = d
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

var (
	untilRe     = regexp.MustCompile(`(?:^|[^\pL])(?:until|till|til|indtil|through|to|frem til|ind i)\s+((?:the |den |start of |end of |the end of |the start of |slutningen af |udgangen af |starten af |begyndelsen af )?[\pL\pN./ ]{1,30})`)
	monthOnlyRe = regexp.MustCompile(`^(?:the |den )?(start of |the start of |starten af |begyndelsen af |end of |the end of |slutningen af |udgangen af )?(` + months + `)(?: (\d{4}))?(?:$|[^\pL])`)
	forRe       = regexp.MustCompile(`(?:^|[^\pL])(?:for|i|in)\s+(?:the next\s+|de næste\s+)?(\d{1,2}|two|three|four|five|six|to|tre|fire|fem|seks)\s+(weeks?|months?|uger?|måned(?:er)?)(?:$|[^\pL])`)
)

var monthNumbers = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "maj": 5, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12}

var smallNumbers = map[string]int{"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6}

// FindUntil finds until when a pause is to run ("until March", "till 1
// April", "indtil 1. marts", "til udgangen af februar", "for three
// months"): the day it ends, at midnight in loc (the pause covers the days
// before it). A month alone means its first day, "the end of" a month the
// first day of the next.
func FindUntil(text string, now time.Time, loc *time.Location, danish bool) (time.Time, bool) {
	t := " " + strings.Join(strings.Fields(normalise(text)), " ") + " "
	now = now.In(loc)
	day := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc) }
	for _, m := range untilRe.FindAllStringSubmatch(t, 4) {
		phrase := m[1]
		if mo := monthOnlyRe.FindStringSubmatch(phrase); mo != nil {
			month := monthNumbers[mo[2][:3]]
			y := now.Year()
			if mo[3] != "" {
				y, _ = strconv.Atoi(mo[3])
			} else if month < now.Month() || month == now.Month() && mo[1] == "" {
				y++
			}
			first := time.Date(y, month, 1, 0, 0, 0, 0, loc)
			if strings.Contains(mo[1], "end") || strings.Contains(mo[1], "slutning") || strings.Contains(mo[1], "udgang") {
				first = first.AddDate(0, 1, 0)
			}
			if first.After(now) {
				return first, true
			}
			continue
		}
		if w, ok := FindWhen(phrase, now, loc, time.Time{}, danish); ok && w.HasDate && w.Unclear == "" {
			return day(w.Start), true
		}
	}
	if m := forRe.FindStringSubmatch(t); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			n = smallNumbers[m[1]]
		}
		if n > 0 {
			if strings.HasPrefix(m[2], "week") || strings.HasPrefix(m[2], "uge") {
				return day(now.AddDate(0, 0, 7*n)), true
			}
			return day(now.AddDate(0, n, 0)), true
		}
	}
	return time.Time{}, false
}

// monthDay reads "14 january", "14. januar", "the 14th of march", "march
// 14th, 2027": the next such date from today, or in the year written.
func monthDay(phrase string, now time.Time) (time.Time, bool) {
	var day int
	var month time.Month
	year := ""
	for _, w := range strings.FieldsFunc(phrase, func(r rune) bool { return r == ' ' || r == ',' || r == '.' }) {
		switch n := leadingNumber(w); {
		case n >= 1000:
			year = strconv.Itoa(n)
		case n >= 1 && n <= 31 && day == 0:
			day = n
		case len(w) >= 3 && monthNumbers[w[:3]] != 0 && month == 0:
			month = monthNumbers[w[:3]]
		}
	}
	if day == 0 || month == 0 {
		return time.Time{}, false
	}
	d := nextDate(now, month, day, year)
	return d, !d.IsZero()
}
