package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// yearlyRule is the subset of RRULE (RFC 5545 section 3.3.10) that time
// zone observances use: FREQ=YEARLY with INTERVAL, UNTIL, COUNT, BYMONTH,
// BYDAY, BYMONTHDAY, BYSETPOS and one BYHOUR/BYMINUTE/BYSECOND.
type yearlyRule struct {
	start     time.Time // DTSTART; also the time of day unless BY* says otherwise
	interval  int
	months    []time.Month
	days      []weekdayNum
	monthDays []int
	setPos    []int
	hms       [3]int
	until     time.Time // last allowed onset wall clock; zero: none
	work      *budget
}

type weekdayNum struct {
	n  int // 0: every such weekday of the month
	wd time.Weekday
}

func parseYearlyRule(v string, start time.Time, from int, work *budget) (*yearlyRule, error) {
	r := &yearlyRule{start: start, interval: 1, hms: [3]int{start.Hour(), start.Minute(), start.Second()}, work: work}
	freq, count := "", 0
	for _, part := range strings.Split(strings.TrimSpace(v), ";") {
		key, val, _ := strings.Cut(part, "=")
		key, val = strings.ToUpper(strings.TrimSpace(key)), strings.ToUpper(strings.TrimSpace(val))
		var err error
		switch key {
		case "FREQ":
			freq = val
		case "INTERVAL":
			r.interval, err = intIn(val, 1, 1000)
		case "COUNT":
			count, err = intIn(val, 1, 1<<20)
		case "UNTIL":
			err = r.setUntil(val, from)
		case "BYMONTH":
			err = eachInt(val, 1, 12, func(n int) { r.months = append(r.months, time.Month(n)) })
		case "BYMONTHDAY":
			err = eachInt(val, -31, 31, func(n int) { r.monthDays = append(r.monthDays, n) })
		case "BYSETPOS":
			err = eachInt(val, -366, 366, func(n int) { r.setPos = append(r.setPos, n) })
		case "BYDAY":
			err = r.setDays(val)
		case "BYHOUR":
			r.hms[0], err = intIn(val, 0, 23)
		case "BYMINUTE":
			r.hms[1], err = intIn(val, 0, 59)
		case "BYSECOND":
			r.hms[2], err = intIn(val, 0, 60)
		case "WKST", "":
		default:
			err = errUnsupportedRule
		}
		if err != nil {
			return nil, fmt.Errorf("RRULE %.20s: %w", key, err)
		}
	}
	if freq != "YEARLY" || len(r.months) == 0 && (len(r.days) > 0 || len(r.monthDays) > 0) {
		return nil, errUnsupportedRule
	}
	if len(r.months) == 0 {
		r.months = []time.Month{start.Month()}
	}
	if last := r.nth(count); !last.IsZero() && (r.until.IsZero() || last.Before(r.until)) {
		r.until = last
	}
	return r, nil
}

func intIn(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || n == 0 && lo < 0 {
		return 0, fmt.Errorf("%.20q is not a number in %d..%d", s, lo, hi)
	}
	return n, nil
}

func eachInt(list string, lo, hi int, add func(int)) error {
	if strings.Count(list, ",") >= maxRuleList {
		return errUnsupportedRule
	}
	for _, s := range strings.Split(list, ",") {
		n, err := intIn(s, lo, hi)
		if err != nil {
			return err
		}
		add(n)
	}
	return nil
}

func (r *yearlyRule) setDays(list string) error {
	names := map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday,
		"WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}
	if strings.Count(list, ",") >= maxRuleList {
		return errUnsupportedRule
	}
	for _, s := range strings.Split(list, ",") {
		if len(s) < 2 {
			return errUnsupportedRule
		}
		wd, ok := names[s[len(s)-2:]]
		if !ok {
			return errUnsupportedRule
		}
		n := 0
		if num := s[:len(s)-2]; num != "" {
			var err error
			if n, err = intIn(strings.TrimPrefix(num, "+"), -5, 5); err != nil {
				return err
			}
		}
		r.days = append(r.days, weekdayNum{n, wd})
	}
	return nil
}

// setUntil keeps UNTIL as a wall clock of this block: a UTC UNTIL (what
// RFC 5545 requires here) is moved to the TZOFFSETFROM wall clock in which
// onsets are written, a DATE covers its whole day.
func (r *yearlyRule) setUntil(v string, from int) error {
	w, date, utc, err := parseWall(v)
	switch {
	case err != nil:
		return err
	case utc:
		w = w.Add(time.Duration(from) * time.Second)
	case date:
		w = w.Add(24*time.Hour - time.Second)
	}
	if r.until.IsZero() || w.Before(r.until) {
		r.until = w
	}
	return nil
}

// last is the latest onset at or before limit (a wall clock).
func (r *yearlyRule) last(limit time.Time) (time.Time, bool) {
	if !r.until.IsZero() && limit.After(r.until) {
		limit = r.until
	}
	for y := limit.Year(); y >= r.start.Year() && y > limit.Year()-maxYearsBack; y-- {
		occ := r.inYear(y)
		for i := len(occ) - 1; i >= 0; i-- {
			if !occ[i].After(limit) && !occ[i].Before(r.start) {
				return occ[i], true
			}
		}
	}
	return time.Time{}, false
}

// nth is the count-th onset, for COUNT; zero for no COUNT or when it is
// too far away.
func (r *yearlyRule) nth(count int) time.Time {
	if count <= 0 {
		return time.Time{}
	}
	for y := r.start.Year(); y < r.start.Year()+maxCountYears; y++ {
		for _, w := range r.inYear(y) {
			if !w.Before(r.start) {
				if count--; count == 0 {
					return w
				}
			}
		}
	}
	return time.Time{}
}

// inYear lists the rule's onsets in year y, sorted, before UNTIL/COUNT.
func (r *yearlyRule) inYear(y int) []time.Time {
	if (y-r.start.Year())%r.interval != 0 {
		return nil
	}
	if r.work.left -= len(r.months) * max(1, len(r.monthDays), 5*len(r.days)); r.work.exhausted() {
		return nil
	}
	var days []time.Time
	add := func(m time.Month, d int) {
		if d >= 1 && d <= daysIn(m, y) {
			days = append(days, time.Date(y, m, d, r.hms[0], r.hms[1], r.hms[2], 0, time.UTC))
		}
	}
	for _, m := range r.months {
		n := daysIn(m, y)
		first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
		switch {
		case len(r.monthDays) > 0:
			for _, d := range r.monthDays {
				if d < 0 {
					d += n + 1
				}
				if d >= 1 && d <= n && r.weekdayOK(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) {
					add(m, d)
				}
			}
		case len(r.days) > 0:
			for _, wd := range r.days {
				d1 := 1 + (int(wd.wd)-int(first)+7)%7 // the first such weekday
				switch {
				case wd.n > 0:
					add(m, d1+7*(wd.n-1))
				case wd.n < 0:
					add(m, d1+7*((n-d1)/7+wd.n+1))
				default:
					for d := d1; d <= n; d += 7 {
						add(m, d)
					}
				}
			}
		default:
			add(m, r.start.Day())
		}
	}
	slices.SortFunc(days, time.Time.Compare)
	days = slices.Compact(days)
	if len(r.setPos) == 0 {
		return days
	}
	var out []time.Time
	for _, p := range r.setPos {
		if p < 0 {
			p += len(days) + 1
		}
		if p >= 1 && p <= len(days) {
			out = append(out, days[p-1])
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.Compact(out)
}

func (r *yearlyRule) weekdayOK(wd time.Weekday) bool {
	if len(r.days) == 0 {
		return true
	}
	for _, d := range r.days {
		if d.wd == wd {
			return true
		}
	}
	return false
}
