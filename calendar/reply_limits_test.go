package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// replyTo turns mentord's own REQUEST into the REPLY a client sends back
// (RFC 5546 section 3.2.3): METHOD:REPLY, only the replying ATTENDEE with
// its PARTSTAT, a new DTSTAMP; edit changes the VEVENT further.
func replyTo(t *testing.T, req []byte, method, who, partstat string, stamp time.Time, edit func(ical.Props)) []byte {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(req)).Decode()
	if err != nil {
		t.Fatalf("decode own REQUEST: %v", err)
	}
	setValue(cal.Props, ical.PropMethod, method)
	ev := cal.Events()[0].Props
	var keep []ical.Prop
	for _, a := range ev.Values(ical.PropAttendee) {
		if strings.EqualFold(a.Value, "mailto:"+who) {
			a.Params.Set(ical.ParamParticipationStatus, partstat)
			a.Params.Del(ical.ParamRSVP)
			keep = append(keep, a)
		}
	}
	if len(keep) != 1 {
		t.Fatalf("REQUEST has %d ATTENDEEs for %s, want 1", len(keep), who)
	}
	ev[ical.PropAttendee] = keep
	ev.SetDateTime(ical.PropDateTimeStamp, stamp)
	if edit != nil {
		edit(ev)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		t.Fatalf("encode REPLY: %v", err)
	}
	return fold(buf.Bytes())
}

// TestReplyToOwnRequest reads replies made from mentord's own REQUEST.
func TestReplyToOwnRequest(t *testing.T) {
	e := with(func(e *Event) { e.Sequence = 2 })
	req, err := Request(e)
	if err != nil {
		t.Fatalf("Request() error = %v", err)
	}
	stamp := time.Date(2025, 3, 20, 9, 15, 0, 0, time.UTC)
	newStart := time.Date(2025, 4, 3, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, method, partstat string
		edit                   func(ical.Props)
		want                   func(*Reply)
	}{
		{"thunderbird-like accept", MethodReply, PartstatAccepted, nil, nil},
		{"outlook-like decline", MethodReply, PartstatDeclined, func(p ical.Props) {
			p.Del(ical.PropOrganizer)
			p.SetText(ical.PropSummary, "Declined: "+e.Summary)
			p.SetText(ical.PropComment, "Travelling; sorry, and thanks!")
		}, func(r *Reply) { r.Comment = "Travelling; sorry, and thanks!" }},
		{"counter with a new time", MethodCounter, PartstatTentative, func(p ical.Props) {
			p.SetDateTime(ical.PropDateTimeStart, newStart)
			p.SetDateTime(ical.PropDateTimeEnd, newStart.Add(time.Hour))
			p.SetText(ical.PropLocation, "Library, room 2")
		}, func(r *Reply) {
			r.Proposed = &Proposal{Start: newStart, End: newStart.Add(time.Hour), Location: "Library, room 2"}
		}},
	} {
		data := replyTo(t, req, tc.method, e.Attendees[1].Email, tc.partstat, stamp, tc.edit)
		got, err := ParseReplies(data, tc.method)
		if err != nil {
			t.Fatalf("%s: ParseReplies() error = %v\n%s", tc.name, err, data)
		}
		want := Reply{Method: tc.method, UID: e.UID, Sequence: 2, Stamp: stamp,
			Attendee: strings.ToLower(e.Attendees[1].Email), Partstat: tc.partstat}
		if tc.want != nil {
			tc.want(&want)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s: ParseReplies() = %+v, want [%+v]", tc.name, got, want)
		}
	}
}

// watch fails the test if f does not return within 10 s: a hang guard
// against quadratic work (go-ical's decoder took 20 s on a 100 KB CN),
// far above the milliseconds it takes (see the benchmarks).
func watch(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running after 10 s")
	}
}

func hugeCN(n int, folded bool) []byte {
	line := `ATTENDEE;CN="` + strings.Repeat("Å", n/2) + `";PARTSTAT=ACCEPTED:mailto:a@b.example`
	if folded {
		var sb strings.Builder
		for len(line) > 74 {
			sb.WriteString(line[:74] + "\r\n ")
			line = line[74:]
		}
		line = sb.String() + line
	}
	return []byte("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u@x\r\n" + line +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

func TestParseRepliesHugeCN(t *testing.T) {
	for _, tc := range []struct {
		size   int
		folded bool
		ok     bool
	}{{100 << 10, false, true}, {100 << 10, true, true}, {900 << 10, true, true}, {2 << 20, false, false}} {
		var got []Reply
		var err error
		watch(t, func() { got, err = ParseReplies(hugeCN(tc.size, tc.folded), "") })
		switch {
		case tc.ok && (err != nil || len(got) != 1 || got[0].Attendee != "a@b.example"):
			t.Errorf("CN of %d octets (folded %v): ParseReplies() = %v, %v; want the attendee", tc.size, tc.folded, got, err)
		case !tc.ok && !errors.Is(err, ErrMalformed):
			t.Errorf("CN of %d octets: ParseReplies() error = %v, want ErrMalformed (too large)", tc.size, err)
		}
	}
}

// costlyZone is a VTIMEZONE whose rules never match, so that every lookup
// searches back as far as it may, referenced by many VEVENTs.
func costlyZone(events int) []byte {
	var sb strings.Builder
	sb.WriteString("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VTIMEZONE\r\nTZID:slow\r\n")
	days := strings.TrimSuffix(strings.Repeat("30,", maxRuleList), ",")
	for i := 0; i < maxObservances; i++ {
		fmt.Fprintf(&sb, "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0100\r\n"+
			"TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=%s\r\nEND:STANDARD\r\n", days)
	}
	sb.WriteString("END:VTIMEZONE\r\n")
	for i := 0; i < events; i++ {
		fmt.Fprintf(&sb, "BEGIN:VEVENT\r\nUID:u%d\r\nRECURRENCE-ID;TZID=slow:20270101T000000\r\n"+
			"ATTENDEE:mailto:a@b.example\r\nEND:VEVENT\r\n", i)
	}
	sb.WriteString("END:VCALENDAR\r\n")
	return []byte(sb.String())
}

func TestParseRepliesCostlyZone(t *testing.T) {
	var err error
	watch(t, func() { _, err = ParseReplies(costlyZone(maxEvents), "") })
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseReplies(costly VTIMEZONE) error = %v, want ErrMalformed", err)
	}
}

func TestParseRepliesStructureErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          "",
		"not a calendar": "Hello,\r\nsee you Tuesday.\r\n",
		"truncated":      "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\n",
		"no VEVENT":      "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
		"no UID":         "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:a@b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"two UIDs":       "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\nUID:v\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"bad SEQUENCE":   "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\nSEQUENCE:-1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"bad RID":        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\nRECURRENCE-ID:20270231T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"unreadable UID": "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID;X=\"u\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"deep nesting":   "BEGIN:VCALENDAR\r\n" + strings.Repeat("BEGIN:X\r\n", 20),
		"VEVENT at top":  "BEGIN:VEVENT\r\nUID:u\r\nEND:VEVENT\r\n",
		"BEGIN no name":  "BEGIN:VCALENDAR\r\nBEGIN:\r\n",
		"counter end < start": "BEGIN:VCALENDAR\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\nUID:u\r\n" +
			"DTSTART:20270101T100000Z\r\nDTEND:20270101T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	} {
		if got, err := ParseReplies([]byte(data), ""); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseReplies() = %v, %v; want ErrMalformed", name, got, err)
		}
	}
}

// BenchmarkParseReplies covers a typical reply, the largest CN allowed
// and the costliest VTIMEZONE: all are linear or budgeted.
func BenchmarkParseReplies(b *testing.B) {
	outlook := calendarParts(b, readFile(b, filepath.Join("testdata", "itip", "outlook-counter-occurrence.eml")))[0]
	for _, bc := range []struct {
		name   string
		data   []byte
		method string
	}{
		{"outlook-counter", outlook.data, outlook.method},
		{"cn-900KiB", hugeCN(900<<10, true), ""},
		{"costly-vtimezone", costlyZone(maxEvents), ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				_, _ = ParseReplies(bc.data, bc.method)
			}
		})
	}
}

func TestParseRepliesLongComment(t *testing.T) {
	data := "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\nATTENDEE:mailto:a@b.example\r\n" +
		"COMMENT:x" + strings.Repeat("æ", 5000) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	got, err := ParseReplies([]byte(data), "")
	if err != nil {
		t.Fatalf("ParseReplies() error = %v", err)
	}
	if c := got[0].Comment; len(c) != maxTextOctets-1 || !utf8.ValidString(c) {
		t.Errorf("Comment has %d octets (valid UTF-8: %v), want %d", len(c), utf8.ValidString(c), maxTextOctets-1)
	}
}
