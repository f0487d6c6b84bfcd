package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// Limits on interpreting a VTIMEZONE (no real zone comes near them).
const (
	maxObservances = 64  // STANDARD and DAYLIGHT blocks of one VTIMEZONE
	maxRuleList    = 64  // values in one BYxxx list
	maxYearsBack   = 100 // how far back the last onset of a rule is looked for
	maxCountYears  = 500 // how far a COUNT-limited rule is expanded
	// zoneBudget bounds the candidate days all rules of one object may
	// generate, so that no VTIMEZONE makes a message expensive (see
	// BenchmarkParseReplies). One reply in Outlook's zone form uses a few
	// hundred; 500 COUNTER VEVENTs with three times each about 140,000.
	zoneBudget = 1_000_000
)

// budget counts down the work left for one object's time zones.
type budget struct{ left int }

func (b *budget) exhausted() bool { return b.left < 0 }

var errUnsupportedRule = errors.New("RRULE is not a FREQ=YEARLY rule of the kind time zones use")

// vzone is a VTIMEZONE interpreted (RFC 5545 section 3.6.5): each STANDARD
// or DAYLIGHT observance switches to TZOFFSETTO at its onsets: DTSTART,
// RDATEs and the RRULE's recurrences, all local times in TZOFFSETFROM.
type vzone struct {
	obs    []observance
	before int // offset before the first onset: the earliest block's TZOFFSETFROM
}

type observance struct {
	from, to int         // seconds east of UTC
	start    time.Time   // DTSTART wall clock
	rdates   []time.Time // sorted wall clocks
	rules    []*yearlyRule
}

// buildVZone interprets c. Outlook's "Romance Standard Time" or
// "Customized Time Zone" (DTSTART 16010101, RRULE BYDAY=-1SU;BYMONTH=10),
// tzurl/Apple/Google forms, Lotus Notes' BYHOUR/BYMINUTE and RDATE-only
// blocks are understood; anything else is an error and the TZID is then
// tried as a name.
func buildVZone(c *ical.Component, broken map[*ical.Component]map[string]bool, b *budget) (*vzone, error) {
	if len(broken[c]) > 0 {
		return nil, errors.New("unreadable line")
	}
	z := &vzone{}
	var first time.Time
	for _, block := range c.Children {
		if block.Name != ical.CompTimezoneStandard && block.Name != ical.CompTimezoneDaylight {
			continue
		}
		if len(broken[block]) > 0 {
			return nil, fmt.Errorf("%s: unreadable line", block.Name)
		}
		if len(z.obs) == maxObservances {
			return nil, fmt.Errorf("more than %d observances", maxObservances)
		}
		o, err := buildObservance(block, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", block.Name, err)
		}
		if len(z.obs) == 0 || o.start.Before(first) {
			first, z.before = o.start, o.from
		}
		z.obs = append(z.obs, o)
	}
	if len(z.obs) == 0 {
		return nil, errors.New("no STANDARD or DAYLIGHT")
	}
	return z, nil
}

func buildObservance(b *ical.Component, work *budget) (observance, error) {
	var o observance
	var err error
	dt := b.Props.Get(ical.PropDateTimeStart)
	from, to := b.Props.Get(ical.PropTimezoneOffsetFrom), b.Props.Get(ical.PropTimezoneOffsetTo)
	if dt == nil || from == nil || to == nil {
		return o, errors.New("needs DTSTART, TZOFFSETFROM and TZOFFSETTO")
	}
	if o.start, _, _, err = parseWall(dt.Value); err != nil {
		return o, fmt.Errorf("DTSTART: %w", err)
	}
	if o.from, err = parseOffset(from.Value); err != nil {
		return o, fmt.Errorf("TZOFFSETFROM: %w", err)
	}
	if o.to, err = parseOffset(to.Value); err != nil {
		return o, fmt.Errorf("TZOFFSETTO: %w", err)
	}
	for _, p := range b.Props.Values(ical.PropRecurrenceDates) {
		for _, v := range strings.Split(p.Value, ",") {
			v, _, _ = strings.Cut(v, "/") // VALUE=PERIOD: the start
			w, _, _, err := parseWall(v)
			if err != nil {
				return o, fmt.Errorf("RDATE: %w", err)
			}
			o.rdates = append(o.rdates, w)
		}
	}
	slices.SortFunc(o.rdates, time.Time.Compare)
	for _, p := range b.Props.Values(ical.PropRecurrenceRule) {
		r, err := parseYearlyRule(p.Value, o.start, o.from, work)
		if err != nil {
			return o, err
		}
		o.rules = append(o.rules, r)
	}
	return o, nil
}

// parseOffset reads a UTC-OFFSET (RFC 5545 section 3.3.14), "+0100" or
// "-053000"; a missing sign or a colon is tolerated.
func parseOffset(v string) (int, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ":", "")
	sign := 1
	if v != "" && (v[0] == '+' || v[0] == '-') {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	if len(v) != 4 && len(v) != 6 {
		return 0, errors.New("not [+-]hhmm[ss]")
	}
	var f [3]int
	for i := 0; i < len(v); i += 2 {
		n, err := strconv.Atoi(v[i : i+2])
		if err != nil {
			return 0, errors.New("not [+-]hhmm[ss]")
		}
		f[i/2] = n
	}
	if f[0] > 23 || f[1] > 59 || f[2] > 59 {
		return 0, errors.New("out of range")
	}
	return sign * (f[0]*3600 + f[1]*60 + f[2]), nil
}

func (z *vzone) offsetAt(u time.Time) int {
	var best time.Time
	off, found := z.before, false
	for i := range z.obs {
		if on, ok := z.obs[i].lastOnset(u); ok && (!found || on.After(best)) {
			best, off, found = on, z.obs[i].to, true
		}
	}
	return off
}

// lastOnset is the latest onset of o at or before instant u, as an instant.
func (o *observance) lastOnset(u time.Time) (time.Time, bool) {
	limit := u.Add(time.Duration(o.from) * time.Second) // u on this block's wall clock
	var best time.Time
	found := false
	consider := func(w time.Time) {
		if !w.After(limit) && (!found || w.After(best)) {
			best, found = w, true
		}
	}
	consider(o.start)
	if i, _ := slices.BinarySearchFunc(o.rdates, limit, func(r, t time.Time) int {
		if r.After(t) {
			return 1
		}
		return -1
	}); i > 0 {
		consider(o.rdates[i-1])
	}
	for _, r := range o.rules {
		if w, ok := r.last(limit); ok {
			consider(w)
		}
	}
	return best.Add(-time.Duration(o.from) * time.Second), found
}
