package calendar

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
)

//go:generate go run gen_windowszones.go -cldr /usr/share/unicode/cldr/common/supplemental/windowsZones.xml -tzdata /usr/share/zoneinfo/tzdata.zi -o windowszones.go

// timeValue is a DATE or DATE-TIME value (RFC 5545 sections 3.3.4 and
// 3.3.5) as written: the wall clock digits and what anchors them.
type timeValue struct {
	wall time.Time // the digits, carried in time.UTC
	date bool      // a DATE: a day, no time
	utc  bool      // form 2, "...Z"
	tzid string    // form 3; empty without utc means floating (form 1)
}

// parseTimeValue reads p's value by its shape, as clients do whatever
// VALUE= says: 8 digits are a DATE, "T" and 6 more a DATE-TIME, a final Z
// makes it UTC (and a TZID is then ignored, section 3.3.5).
func parseTimeValue(p *ical.Prop) (timeValue, error) {
	wall, date, utc, err := parseWall(p.Value)
	if err != nil {
		return timeValue{}, fmt.Errorf("%w: %s: %v", ErrMalformed, p.Name, err)
	}
	tv := timeValue{wall: wall, date: date, utc: utc}
	if !date && !utc {
		tv.tzid = strings.TrimSpace(p.Params.Get(ical.ParamTimezoneID))
	}
	return tv, nil
}

func parseWall(v string) (wall time.Time, date, utc bool, err error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if utc = strings.HasSuffix(v, "Z"); utc {
		v = v[:len(v)-1]
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return -1
			}
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	var y, mo, d, h, mi, s int
	switch {
	case len(v) == 8 && !utc:
		date = true
		y, mo, d = num(v[:4]), num(v[4:6]), num(v[6:8])
	case len(v) == 15 && v[8] == 'T':
		y, mo, d = num(v[:4]), num(v[4:6]), num(v[6:8])
		h, mi, s = num(v[9:11]), num(v[11:13]), num(v[13:15])
	default:
		return time.Time{}, false, false, fmt.Errorf("not a DATE or DATE-TIME")
	}
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) ||
		h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return time.Time{}, false, false, fmt.Errorf("date or time out of range")
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), date, utc, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// offsetter gives the UTC offset in seconds in effect at an instant.
type offsetter interface {
	offsetAt(u time.Time) int
}

type locZone struct{ loc *time.Location }

func (z locZone) offsetAt(u time.Time) int {
	_, off := u.In(z.loc).Zone()
	return off
}

// zones resolves the times of one calendar object to instants.
type zones struct {
	defs     map[string]*ical.Component // VTIMEZONE by TZID, the first of each
	folded   map[string]*ical.Component // the same by lower-case TZID
	broken   map[*ical.Component]map[string]bool
	floating *time.Location
	cache    map[string]zoneResult
	work     budget
}

type zoneResult struct {
	z   offsetter
	err error
}

func newZones(obj *object, floating *time.Location) *zones {
	z := &zones{defs: map[string]*ical.Component{}, folded: map[string]*ical.Component{}, broken: obj.broken,
		floating: floating, cache: map[string]zoneResult{}, work: budget{zoneBudget}}
	for _, c := range obj.cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		if p := c.Props.Get(ical.PropTimezoneID); p != nil {
			id := strings.TrimSpace(p.Value)
			if _, dup := z.defs[id]; !dup {
				z.defs[id] = c
			}
			if _, dup := z.folded[strings.ToLower(id)]; !dup {
				z.folded[strings.ToLower(id)] = c
			}
		}
	}
	return z
}

// instant is the UTC instant of tv. A DATE is midnight in Options.Floating,
// or in UTC when there is none (a day, not an instant: the key only has to
// be stable). A floating DATE-TIME needs Options.Floating.
func (z *zones) instant(tv timeValue) (time.Time, error) {
	switch {
	case tv.utc:
		return tv.wall, nil
	case tv.date && z.floating == nil:
		return tv.wall, nil
	case tv.date || tv.tzid == "":
		if z.floating == nil {
			return time.Time{}, fmt.Errorf("%w: floating time and no zone given for it", ErrUnknownZone)
		}
		return toUTC(tv.wall, locZone{z.floating}), nil
	}
	zn, err := z.lookup(tv.tzid)
	if err != nil {
		return time.Time{}, err
	}
	t := toUTC(tv.wall, zn)
	if z.work.exhausted() {
		return time.Time{}, fmt.Errorf("%w: VTIMEZONE rules too costly to expand", ErrMalformed)
	}
	return t, nil
}

// lookup resolves a TZID as ITIP.md section 7 orders it: the VTIMEZONE in
// the message (RFC 5545 section 3.2.19: it defines the TZID), then an IANA
// name, then a Windows zone name through CLDR's windowsZones table.
func (z *zones) lookup(tzid string) (offsetter, error) {
	if r, ok := z.cache[tzid]; ok {
		return r.z, r.err
	}
	var r zoneResult
	def := z.defs[tzid]
	if def == nil {
		def = z.folded[strings.ToLower(tzid)]
	}
	why := "no VTIMEZONE, not an IANA or Windows zone name"
	if def != nil {
		vz, err := buildVZone(def, z.broken, &z.work)
		if err == nil {
			r.z = vz
		} else {
			why = "VTIMEZONE unusable (" + err.Error() + "), not an IANA or Windows zone name"
		}
	}
	if r.z == nil {
		if loc := namedZone(tzid); loc != nil {
			r.z = locZone{loc}
		} else {
			r.err = fmt.Errorf("%w: TZID %.64q: %s", ErrUnknownZone, tzid, why)
		}
	}
	z.cache[tzid] = r
	return r.z, r.err
}

// toUTC turns a wall clock time in zone zn into an instant as RFC 5545
// section 3.3.5 says: a local time that occurs twice means the first one;
// one skipped by a gap is read with the offset in effect before the gap
// (TZID=America/New_York:20070311T023000 is 03:30 EDT). Probes a day either
// side find every offset that can apply.
func toUTC(wall time.Time, zn offsetter) time.Time {
	var best time.Time
	found := false
	maxOff := math.MinInt
	for _, probe := range [...]time.Duration{-26 * time.Hour, 0, 26 * time.Hour} {
		off := zn.offsetAt(wall.Add(probe))
		maxOff = max(maxOff, off)
		u := wall.Add(-time.Duration(off) * time.Second)
		if zn.offsetAt(u) == off && (!found || u.Before(best)) {
			best, found = u, true
		}
	}
	if found {
		return best
	}
	before := zn.offsetAt(wall.Add(-time.Duration(maxOff) * time.Second))
	return wall.Add(-time.Duration(before) * time.Second)
}

// namedZone finds a zone by name: an IANA name (also behind an old
// "/mozilla.org/20050126_1/Europe/Berlin" style prefix), else a Windows
// zone ID or display name mapped to IANA by CLDR (windowszones.go).
func namedZone(name string) *time.Location {
	if loc := loadIANA(name); loc != nil {
		return loc
	}
	if strings.HasPrefix(name, "/") { // IANA names hold at most two slashes
		parts := strings.Split(name, "/")
		for n := 3; n >= 1; n-- {
			if len(parts) > n {
				if loc := loadIANA(strings.Join(parts[len(parts)-n:], "/")); loc != nil {
					return loc
				}
			}
		}
	}
	if iana := windowsZone(name); iana != "" {
		return loadIANA(iana)
	}
	return nil
}

var ianaCache sync.Map // name -> *time.Location; successes only, so bounded by the tz database

// loadIANA loads an IANA zone, refusing "Local" (the daemon's own zone is
// no sender's) and names that cannot be tz database names, so that junk
// TZIDs never reach the file system.
func loadIANA(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("/_+-", c) >= 0) {
			return nil
		}
	}
	if v, ok := ianaCache.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	ianaCache.Store(name, loc)
	return loc
}

var windowsZonesFold = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(windowsZones))
	for k, v := range windowsZones {
		m[strings.ToLower(k)] = v
	}
	return m
})

// windowsZone maps a Windows zone name to its IANA zone (CLDR territory
// "001"), ignoring case and surrounding space.
func windowsZone(name string) string {
	if iana, ok := windowsZones[name]; ok {
		return iana
	}
	return windowsZonesFold()[strings.ToLower(strings.TrimSpace(name))]
}
