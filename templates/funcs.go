package templates

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// locale is how one language writes dates, times and possessives.
type locale struct {
	days, shortDays     [7]string // from Sunday, as time.Weekday
	months, shortMonths [12]string
	longDate            func(l *locale, t time.Time) string // "Tuesday 12 January 2027"
	shortDate           func(l *locale, t time.Time) string // "Tue 12 Jan"
	clock               string                              // time.Format layout: "15:04"
	at                  string                              // between a long date and a clock time
	shortAt             string                              // between a short date and a clock time
	genitive            func(name string) string
	// cadence words: the named rhythms, then "every %d" days, weeks, months
	cadences                           map[string]string
	everyDays, everyWeeks, everyMonths string
	ordinal                            func(n int) string                  // "2nd", "2."
	and                                string                              // the last joint of a list: "3, 5 and 7"
	date                               func(l *locale, t time.Time) string // "12 January 2027", no weekday
	// hours and minutes, singular and plural, and the joint between them: "10 hours and 45 minutes"
	hour, hours, minute, minutes string
}

// locales has one entry per embedded language; Load refuses a language
// directory without one.
var locales = map[string]*locale{
	"en": {
		days:        [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		shortDays:   [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		months:      [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		shortMonths: [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		longDate: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%s %d %s %d", l.days[t.Weekday()], t.Day(), l.months[t.Month()-1], t.Year())
		},
		shortDate: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%s %d %s", l.shortDays[t.Weekday()], t.Day(), l.shortMonths[t.Month()-1])
		},
		clock:   "15:04",
		at:      ", ",
		shortAt: " ",
		genitive: func(name string) string {
			return name + "'s"
		},
		cadences:    map[string]string{"weekly": "weekly", "fortnightly": "every two weeks", "monthly": "monthly", "monthly-weekday": "monthly, on the same weekday of the month", "quarterly": "every three months"},
		everyDays:   "every %d days",
		everyWeeks:  "every %d weeks",
		everyMonths: "every %d months",
		ordinal: func(n int) string {
			suffix := "th"
			if n%100 < 11 || n%100 > 13 {
				switch n % 10 {
				case 1:
					suffix = "st"
				case 2:
					suffix = "nd"
				case 3:
					suffix = "rd"
				}
			}
			return strconv.Itoa(n) + suffix
		},
		and: " and ",
		date: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%d %s %d", t.Day(), l.months[t.Month()-1], t.Year())
		},
		hour: "hour", hours: "hours", minute: "minute", minutes: "minutes",
	},
	"da": {
		days:        [7]string{"søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"},
		shortDays:   [7]string{"søn.", "man.", "tirs.", "ons.", "tors.", "fre.", "lør."},
		months:      [12]string{"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"},
		shortMonths: [12]string{"jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."},
		longDate: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%s den %d. %s %d", l.days[t.Weekday()], t.Day(), l.months[t.Month()-1], t.Year())
		},
		shortDate: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%s %d. %s", l.shortDays[t.Weekday()], t.Day(), l.shortMonths[t.Month()-1])
		},
		clock:   "15.04",
		at:      " kl. ",
		shortAt: " kl. ",
		genitive: func(name string) string {
			// Retskrivningsordbogen: names ending in s, x or z take an apostrophe.
			if n := strings.TrimSpace(name); n != "" && strings.ContainsRune("sxzSXZ", rune(n[len(n)-1])) {
				return n + "'"
			}
			return name + "s"
		},
		cadences:    map[string]string{"weekly": "hver uge", "fortnightly": "hver anden uge", "monthly": "en gang om måneden", "monthly-weekday": "en gang om måneden, på samme ugedag", "quarterly": "hvert kvartal"},
		everyDays:   "hver %d. dag",
		everyWeeks:  "hver %d. uge",
		everyMonths: "hver %d. måned",
		ordinal:     func(n int) string { return strconv.Itoa(n) + "." },
		and:         " og ",
		date: func(l *locale, t time.Time) string {
			return fmt.Sprintf("%d. %s %d", t.Day(), l.months[t.Month()-1], t.Year())
		},
		hour: "time", hours: "timer", minute: "minut", minutes: "minutter",
	},
}

// when writes a session's time span with its zone: "Tuesday 12 January 2027,
// 14:00–15:00 (Europe/Copenhagen)". A session that ends on another day names
// both days; a missing end is the start plus Minutes.
func (l *locale) when(s Session) string {
	end := s.End
	if end.IsZero() || end.Before(s.Start) {
		end = s.Start.Add(time.Duration(s.Minutes) * time.Minute)
	}
	var b strings.Builder
	b.WriteString(l.longDate(l, s.Start) + l.at + s.Start.Format(l.clock))
	if y, m, d := end.Date(); y == s.Start.Year() && m == s.Start.Month() && d == s.Start.Day() {
		b.WriteString("–" + end.Format(l.clock))
	} else {
		b.WriteString(" – " + l.longDate(l, end) + l.at + end.Format(l.clock))
	}
	if s.Zone != "" {
		b.WriteString(" (" + s.Zone + ")")
	}
	return b.String()
}

// cadence writes how often a pair meets, from its canonical form (weekly,
// fortnightly, monthly, quarterly, or a count of days, weeks or months: 10d,
// 3w, 2m). Anything else, such as free text from an import, is left as it is.
func (l *locale) cadence(c string) string {
	key := strings.ToLower(strings.TrimSpace(c))
	if w, ok := l.cadences[key]; ok {
		return w
	}
	if len(key) >= 2 {
		if n, err := strconv.Atoi(key[:len(key)-1]); err == nil && n > 0 {
			switch key[len(key)-1] {
			case 'd':
				return fmt.Sprintf(l.everyDays, n)
			case 'w':
				return fmt.Sprintf(l.everyWeeks, n)
			case 'm':
				return fmt.Sprintf(l.everyMonths, n)
			}
		}
	}
	return c
}

// funcs is the template function map for one language.
func (l *locale) funcs() map[string]any {
	return map[string]any{
		"longDate":  func(t time.Time) string { return l.longDate(l, t) },
		"shortDate": func(t time.Time) string { return l.shortDate(l, t) },
		"short":     func(t time.Time) string { return l.shortDate(l, t) + l.shortAt + t.Format(l.clock) },
		"clock":     func(t time.Time) string { return t.Format(l.clock) },
		"when":      l.when,
		"genitive":  l.genitive,
		"cadence":   l.cadence,
		"indent":    indent,
		"lines":     lines,
		"isURL":     isURL,
		"oneline":   oneLine,
		"ordinal":   l.ordinal,
		"numbers":   l.numbers,
		"date":      func(t time.Time) string { return l.date(l, t) },
		"duration":  l.duration,
	}
}

// duration writes a number of minutes as hours and minutes: "11 hours",
// "1 hour and 30 minutes", "45 minutes".
func (l *locale) duration(minutes int) string {
	unit := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	h, m := minutes/60, minutes%60
	switch {
	case h == 0:
		return unit(m, l.minute, l.minutes)
	case m == 0:
		return unit(h, l.hour, l.hours)
	}
	return unit(h, l.hour, l.hours) + l.and + unit(m, l.minute, l.minutes)
}

// numbers writes a list of session numbers as prose: "3", "3 and 7",
// "3, 5 and 7".
func (l *locale) numbers(ns []int) string {
	var b strings.Builder
	for i, n := range ns {
		switch {
		case i == 0:
		case i == len(ns)-1:
			b.WriteString(l.and)
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// indent puts prefix before every line of s but the first, so a multi-line
// answer stays under its bullet or question.
func indent(prefix, s string) string {
	return strings.Join(lines(s), "\n"+prefix)
}

// lines splits s into lines, whatever its line endings, without trailing
// blank lines.
func lines(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	return strings.Split(strings.TrimRight(s, " \t\n"), "\n")
}

// isURL reports whether a location is a web link (a video meeting), which
// the HTML body makes clickable.
func isURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && !strings.ContainsAny(s, " \t\n")
}
