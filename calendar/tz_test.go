package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// vtimezones are time zone definitions as clients write them; each must
// give the same offset as the IANA zone at every hour of the years swept.
var vtimezones = []struct {
	name, iana string
	from, to   int // years swept
	text       string
}{
	{"tzurl Copenhagen (Google, Thunderbird)", "Europe/Copenhagen", 2026, 2029, `
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD`},
	{"Outlook Romance Standard Time", "Europe/Paris", 2026, 2029, `
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT`},
	{"New York with the 2007 rule change (UNTIL)", "America/New_York", 2005, 2009, `
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
DTSTART:19870405T020000
RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
DTSTART:19671029T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z
END:STANDARD
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
DTSTART:20070311T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
DTSTART:20071104T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD`},
	{"Lotus Notes London (BYHOUR, BYMINUTE)", "Europe/London", 2026, 2028, `
BEGIN:STANDARD
DTSTART:19501029T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19500326T010000
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT`},
	{"Sydney (southern hemisphere, BYMONTHDAY+BYDAY, COUNT)", "Australia/Sydney", 2026, 2029, `
BEGIN:STANDARD
DTSTART:20080406T030000
TZOFFSETFROM:+1100
TZOFFSETTO:+1000
RRULE:FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=1,2,3,4,5,6,7;BYDAY=SU;COUNT=40
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:20081005T020000
TZOFFSETFROM:+1000
TZOFFSETTO:+1100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYSETPOS=1
END:DAYLIGHT`},
	{"RDATE only", "Europe/Copenhagen", 2027, 2028, `
BEGIN:STANDARD
DTSTART:20261025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RDATE:20271031T030000,20281029T030000
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:20270328T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RDATE;VALUE=DATE-TIME:20280326T020000
END:DAYLIGHT`},
	{"India (no DST, one block)", "Asia/Kolkata", 2026, 2027, `
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0530
TZOFFSETTO:+0530
END:STANDARD`},
}

func buildTestZone(t *testing.T, body string) *vzone {
	t.Helper()
	text := "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:test" + body + "\nEND:VTIMEZONE\nEND:VCALENDAR\n"
	obj, err := decodeObject([]byte(text))
	if err != nil {
		t.Fatalf("decodeObject() error = %v", err)
	}
	z, err := buildVZone(obj.cal.Children[0], obj.broken, &budget{1 << 40})
	if err != nil {
		t.Fatalf("buildVZone() error = %v", err)
	}
	return z
}

func TestVTimezoneMatchesIANA(t *testing.T) {
	for _, tc := range vtimezones {
		z := buildTestZone(t, tc.text)
		iana := locZone{mustLoad(t, tc.iana)}
		bad := 0
		check := func(u time.Time) {
			if got, want := z.offsetAt(u), iana.offsetAt(u); got != want && bad < 3 {
				bad++
				t.Errorf("%s: offsetAt(%s) = %d, want %d (%s)", tc.name, u.Format(time.RFC3339), got, want, tc.iana)
			}
			// The wall clock time then maps to the same instant too.
			wall := u.Add(time.Duration(iana.offsetAt(u)) * time.Second)
			if got, want := toUTC(wall, z), toUTC(wall, iana); !got.Equal(want) && bad < 3 {
				bad++
				t.Errorf("%s: toUTC(%s) = %s, want %s", tc.name, wall.Format("2006-01-02T15:04"), got, want)
			}
		}
		// Every day, and every 15 minutes of a day in which IANA changes
		// offset (and the day either side).
		end := time.Date(tc.to+1, 1, 1, 0, 0, 0, 0, time.UTC)
		for u := time.Date(tc.from, 1, 1, 0, 0, 0, 0, time.UTC); u.Before(end); u = u.Add(24 * time.Hour) {
			check(u)
			if iana.offsetAt(u) != iana.offsetAt(u.Add(24*time.Hour)) {
				for v := u.Add(-24 * time.Hour); v.Before(u.Add(48 * time.Hour)); v = v.Add(15 * time.Minute) {
					check(v)
				}
			}
		}
	}
}

// TestToUTCGapAndOverlap checks RFC 5545 section 3.3.5's own examples.
func TestToUTCGapAndOverlap(t *testing.T) {
	ny := locZone{mustLoad(t, "America/New_York")}
	nyV := buildTestZone(t, vtimezones[2].text)
	for _, tc := range []struct{ wall, want string }{
		{"2007-03-11T02:30:00Z", "2007-03-11T07:30:00Z"}, // does not occur: offset before the gap, 03:30 EDT
		{"2007-11-04T01:30:00Z", "2007-11-04T05:30:00Z"}, // occurs twice: the first, EDT
		{"2007-07-01T12:00:00Z", "2007-07-01T16:00:00Z"},
		{"2007-01-01T12:00:00Z", "2007-01-01T17:00:00Z"},
	} {
		wall, _ := time.Parse(time.RFC3339, tc.wall)
		for name, zn := range map[string]offsetter{"IANA": ny, "VTIMEZONE": nyV} {
			if got := toUTC(wall, zn).Format(time.RFC3339); got != tc.want {
				t.Errorf("%s: toUTC(%s) = %s, want %s", name, tc.wall, got, tc.want)
			}
		}
	}
}

func TestBuildVZoneRejects(t *testing.T) {
	for name, body := range map[string]string{
		"monthly rule":    "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nRRULE:FREQ=MONTHLY\nEND:STANDARD",
		"BYDAY no month":  "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYDAY=20MO\nEND:STANDARD",
		"bad offset":      "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+2500\nTZOFFSETTO:+0100\nEND:STANDARD",
		"no offset":       "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETTO:+0100\nEND:STANDARD",
		"no observance":   "\nX-FOO:bar",
		"unreadable line": "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nRRULE;FREQ=YEARLY\nEND:STANDARD",
	} {
		text := "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:x" + body + "\nEND:VTIMEZONE\nEND:VCALENDAR\n"
		obj, err := decodeObject([]byte(text))
		if err != nil {
			t.Fatalf("%s: decodeObject() error = %v", name, err)
		}
		if _, err := buildVZone(obj.cal.Children[0], obj.broken, &budget{1 << 40}); err == nil {
			t.Errorf("%s: buildVZone() error = nil, want one", name)
		}
	}
}

// A VTIMEZONE that cannot be read leaves the TZID to the name lookup.
func TestUnusableVTimezoneFallsBackToName(t *testing.T) {
	data := "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\n" +
		"RRULE:FREQ=WEEKLY\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:u\r\n" +
		"RECURRENCE-ID;TZID=Europe/Berlin:20270810T140000\r\nATTENDEE:mailto:a@b.example\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	got, err := ParseReplies([]byte(data), "")
	if err != nil || len(got) != 1 || got[0].RecurrenceID.Format(time.RFC3339) != "2027-08-10T12:00:00Z" {
		t.Fatalf("ParseReplies() = %v, %v; want one reply for 2027-08-10T12:00:00Z", got, err)
	}
}

func TestNamedZone(t *testing.T) {
	for name, want := range map[string]string{
		"Europe/Copenhagen":                     "Europe/Copenhagen",
		"W. Europe Standard Time":               "Europe/Berlin",
		"  romance standard time ":              "Europe/Paris",
		"Eastern Standard Time":                 "America/New_York",
		"India Standard Time":                   "Asia/Kolkata",
		"UTC":                                   "UTC",
		"/mozilla.org/20050126_1/Europe/Berlin": "Europe/Berlin",
		"/softwarestudio.org/Olson_20011030_5/America/New_York": "America/New_York",
		"Local":                "",
		"":                     "",
		"../../etc/passwd":     "",
		"Mars/Olympus_Mons":    "",
		"Customized Time Zone": "",
	} {
		got := ""
		if loc := namedZone(name); loc != nil {
			got = loc.String()
		}
		if got != want {
			t.Errorf("namedZone(%q) = %q, want %q", name, got, want)
		}
	}
}

// Every CLDR target must load, with the system's tz database or Go's.
func TestWindowsZonesLoad(t *testing.T) {
	for win, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("windowsZones[%q] = %q: %v", win, iana, err)
		}
	}
	if n := len(windowsZones); n < 200 {
		t.Errorf("windowsZones has %d entries, want IDs and display names (over 200)", n)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in         string
		days, secs int64
		ok         bool
	}{
		{"PT1H", 0, 3600, true}, {"PT1H30M", 0, 5400, true}, {"P1D", 1, 0, true},
		{"P1W", 7, 0, true}, {"P1DT2H3M4S", 1, 7384, true}, {"+PT15M", 0, 900, true},
		{"pt45m", 0, 2700, true}, {"-PT1H", 0, 0, false}, {"PT", 0, 0, false},
		{"P", 0, 0, false}, {"1H", 0, 0, false}, {"PT1X", 0, 0, false}, {"P1H", 0, 0, false},
		{"PT9999999H", 0, 0, false}, {"PTH", 0, 0, false},
	} {
		days, secs, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || tc.ok && (int64(days) != tc.days || secs != tc.secs) {
			t.Errorf("parseDuration(%q) = %d, %d, %v; want %d, %d, ok %v", tc.in, days, secs, err, tc.days, tc.secs, tc.ok)
		}
	}
}

// A DURATION in days keeps the wall clock across a DST change (RFC 5545
// section 3.3.6): P1D from 27 March 2027 10:00 Copenhagen ends 28 March
// 10:00 CEST, 23 hours later.
func TestDurationNominalDays(t *testing.T) {
	z := &zones{defs: nil, cache: map[string]zoneResult{}}
	start := timeValue{wall: time.Date(2027, 3, 27, 10, 0, 0, 0, time.UTC), tzid: "Europe/Copenhagen"}
	s, err := z.instant(start)
	if err != nil {
		t.Fatal(err)
	}
	e, err := z.after(start, "P1D")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Sub(s); d != 23*time.Hour {
		t.Errorf("P1D across the spring change lasts %v, want 23h", d)
	}
}

func TestFloatingTimes(t *testing.T) {
	data := []byte("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:f\nRECURRENCE-ID:20270810T140000\n" +
		"ATTENDEE:mailto:a@b.example\nEND:VEVENT\nEND:VCALENDAR\n")
	if _, err := ParseReplies(data, ""); !errors.Is(err, ErrUnknownZone) {
		t.Errorf("floating RECURRENCE-ID without a zone: error = %v, want ErrUnknownZone", err)
	}
	got, err := Options{Floating: mustLoad(t, "Europe/Copenhagen")}.ParseReplies(data, "")
	if err != nil || got[0].RecurrenceID.Format(time.RFC3339) != "2027-08-10T12:00:00Z" {
		t.Errorf("floating RECURRENCE-ID in Copenhagen = %v, %v; want 2027-08-10T12:00:00Z", got, err)
	}
	date := []byte(strings.Replace(string(data), "RECURRENCE-ID:20270810T140000", "RECURRENCE-ID;VALUE=DATE:20270810", 1))
	got, err = Options{Floating: mustLoad(t, "Europe/Copenhagen")}.ParseReplies(date, "")
	if err != nil || got[0].RecurrenceID.Format(time.RFC3339) != "2027-08-09T22:00:00Z" {
		t.Errorf("DATE RECURRENCE-ID in Copenhagen = %v, %v; want midnight there, 2027-08-09T22:00:00Z", got, err)
	}
}
