// Package schedule holds mentord's domain rules about time: when a pair's
// sessions fall, what kind each one is, and (in the loops that use it) what is
// due when. It does no I/O: times and the clock come in, decisions go out.
//
// The flow for a new pair:
//  1. ParseLocal reads the first session's wall-clock time in the pair's zone.
//  2. ParseCadence reads how often they meet ("monthly", "2w", ...).
//  3. Plan lays out the sessions on the same local time of day across daylight
//     saving changes, and names their kinds: the first is the chemistry meeting,
//     every review_every-th a relationship review, the last the final evaluation.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is what a session is for.
type Kind string

// The session kinds.
const (
	Chemistry Kind = "chemistry"
	Regular   Kind = "regular"
	Review    Kind = "review"
	Final     Kind = "final"
)

// Cadence is how often a pair meets: every Months months, or every Days days.
type Cadence struct {
	Months int
	Days   int
	// Weekday: a monthly cadence keeps the first session's weekday and its
	// place in the month ("the second Tuesday"; a fifth one is the month's
	// last) instead of its day of the month.
	Weekday bool
}

// ErrCadence is returned for a cadence that cannot be read.
var ErrCadence = errors.New(`invalid cadence: use weekly, fortnightly, monthly, monthly-weekday (the same weekday of the month: the first Tuesday), quarterly, or a number of weeks, days or months such as 2w, 10d, 2m`)

// ParseCadence reads "weekly", "fortnightly"/"biweekly", "monthly",
// "monthly-weekday", "quarterly", "Nw", "Nd" or "Nm" (N weeks, days or months).
func ParseCadence(s string) (Cadence, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "weekly":
		return Cadence{Days: 7}, nil
	case "fortnightly", "biweekly":
		return Cadence{Days: 14}, nil
	case "monthly":
		return Cadence{Months: 1}, nil
	case "monthly-weekday":
		return Cadence{Months: 1, Weekday: true}, nil
	case "quarterly":
		return Cadence{Months: 3}, nil
	}
	if len(s) < 2 {
		return Cadence{}, ErrCadence
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 {
		return Cadence{}, ErrCadence
	}
	var c Cadence
	switch s[len(s)-1] {
	case 'w':
		c = Cadence{Days: 7 * n}
	case 'd':
		c = Cadence{Days: n}
	case 'm':
		c = Cadence{Months: n}
	default:
		return Cadence{}, ErrCadence
	}
	if c.Days > 183 || c.Months > 6 {
		return Cadence{}, fmt.Errorf("cadence %q: sessions at most every six months", s)
	}
	return c, nil
}

// String gives the cadence's canonical form, which ParseCadence reads back.
func (c Cadence) String() string {
	switch {
	case c.Months == 1 && c.Weekday:
		return "monthly-weekday"
	case c.Months == 1:
		return "monthly"
	case c.Months == 3:
		return "quarterly"
	case c.Months > 0:
		return strconv.Itoa(c.Months) + "m"
	case c.Days == 7:
		return "weekly"
	case c.Days == 14:
		return "fortnightly"
	case c.Days%7 == 0:
		return strconv.Itoa(c.Days/7) + "w"
	default:
		return strconv.Itoa(c.Days) + "d"
	}
}

// Nth returns the n-th date after first (n = 0 is first), at the same local
// time of day in first's zone. Monthly dates keep the day of the month,
// falling back to the month's last day (31 January, 28 February, 31 March),
// and one that falls on a weekend moves to the nearest weekday of the same
// month (a Saturday to the Friday before, a Sunday to the Monday after);
// with Weekday they keep the weekday and its place in the month instead.
// The first date is always as given.
func (c Cadence) Nth(first time.Time, n int) time.Time {
	if c.Months == 0 {
		return first.AddDate(0, 0, n*c.Days)
	}
	y, m, d := first.Date()
	target := time.Date(y, m+time.Month(n*c.Months), 1, 0, 0, 0, 0, first.Location())
	at := func(day int) time.Time {
		return time.Date(target.Year(), target.Month(), day, first.Hour(), first.Minute(), first.Second(), 0, first.Location())
	}
	last := daysIn(target.Year(), target.Month())
	if c.Weekday {
		week := (d - 1) / 7 // 0 for the first Tuesday, ... 4 for a fifth, which is the last
		day := 1 + (int(first.Weekday())-int(target.Weekday())+7)%7 + 7*week
		for day > last {
			day -= 7
		}
		return at(day)
	}
	d = min(d, last)
	if n == 0 {
		return at(d)
	}
	switch at(d).Weekday() {
	case time.Saturday:
		if d > 1 {
			d--
		} else {
			d += 2
		}
	case time.Sunday:
		if d < last {
			d++
		} else {
			d -= 2
		}
	}
	return at(d)
}

// Weekend reports whether t falls on a Saturday or a Sunday.
func Weekend(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// KindOf names session n (from 1) of count: chemistry first, final last, and a
// review every reviewEvery-th in between (none when reviewEvery is 0).
func KindOf(n, count, reviewEvery int) Kind {
	switch {
	case n == 1:
		return Chemistry
	case n == count:
		return Final
	case reviewEvery > 0 && n%reviewEvery == 0:
		return Review
	default:
		return Regular
	}
}

// Planned is one session of a plan.
type Planned struct {
	Number int
	Kind   Kind
	Start  time.Time // in the pair's zone
}

// Plan lays out count sessions from first (in the pair's zone).
func Plan(first time.Time, c Cadence, count, reviewEvery int) []Planned {
	out := make([]Planned, count)
	for i := range out {
		out[i] = Planned{Number: i + 1, Kind: KindOf(i+1, count, reviewEvery), Start: c.Nth(first, i)}
	}
	return out
}

// ParseLocal reads a wall-clock time such as "2027-01-12T14:00" (or with a
// space, or with seconds) in loc. A time with a zone offset is refused, so that
// the time zone is always the one given separately.
func ParseLocal(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if t.Format(layout) != s {
				// The wall clock does not exist in loc (a daylight saving gap).
				return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it); choose another time", s, loc)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date and time %q: use YYYY-MM-DDTHH:MM, like 2027-01-12T14:00, in the pair's time zone", s)
}

// ParseDate reads a date "2027-12-31" as the start of that day in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid date %q: use YYYY-MM-DD", s)
	}
	return t, nil
}

// The window of dates an admin may give (a session's time, a pair's start
// or end): from Earliest to YearsAhead years after now. Anything outside is
// a typing mistake, and a date past 9999 (9999-12-31T23:30 in Etc/GMT+12 is
// in the year 10000 in UTC) cannot be stored in order.
var Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// YearsAhead is how far ahead a date may be.
const YearsAhead = 10

// ErrOutOfWindow is wrapped by CheckWindow's error.
var ErrOutOfWindow = errors.New("outside the dates mentord accepts")

// CheckWindow tells whether t lies in the window of dates at now.
func CheckWindow(t, now time.Time) error {
	last := now.AddDate(YearsAhead, 0, 0)
	if !t.Before(Earliest) && !t.After(last) {
		return nil
	}
	return fmt.Errorf("%s is %w: from %s to ten years from now (%s)", t.Format("2006-01-02 15:04 MST"), ErrOutOfWindow,
		Earliest.Format(time.DateOnly), last.UTC().Format(time.DateOnly))
}
