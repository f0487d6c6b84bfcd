// Reading replies. ParseReplies reads the iTIP REPLY and COUNTER objects
// (RFC 5546 sections 3.2.3 and 3.2.7) that attendees' clients send back, one
// text/calendar part at a time:
//
//  1. Decode the part leniently and within bounds (content.go): at most
//     1 MiB, lines unfolded (RFC 5545 section 3.1) from CRLF or LF, names
//     in any case; a line that cannot be read is skipped and remembered,
//     never a panic. go-ical's types hold the result; its own Decoder is
//     not used (it panics on some input and is quadratic in parameter
//     length).
//  2. Take the method from the part's Content-Type method= parameter, else
//     from METHOD inside (RFC 6047 section 2.4, Thunderbird's fallback).
//     Anything but REPLY or COUNTER is ErrNotReply.
//  3. For every VEVENT read UID, RECURRENCE-ID, SEQUENCE and DTSTAMP. The
//     RECURRENCE-ID becomes a UTC instant (RFC 5545 section 3.3.5), its
//     TZID resolved through the message's own VTIMEZONE (section 3.6.5,
//     vtimezone.go), else as an IANA name, else as a Windows zone name via
//     CLDR (tz.go, windowszones.go): Outlook writes "Romance Standard
//     Time" and "Customized Time Zone".
//  4. Find the replying attendee: the single ATTENDEE (RFC 5546 section
//     3.2.3), address compared and returned without mailto: in lower case.
//     With several, a delegator's reply listing its delegate still has one
//     answer; otherwise only Options.Sender can choose, and the Reply
//     carries Attendee "" for the caller to quarantine.
//  5. Keep COMMENT (Google puts it in the ATTENDEE's X-RESPONSE-COMMENT);
//     for a COUNTER read the proposed DTSTART, DTEND or DURATION and
//     LOCATION (section 3.2.7). ORGANIZER and SUMMARY are not needed.
//  6. Return one Reply per UID and RECURRENCE-ID (the key of RFC 5546
//     section 2.1.5): if the object repeats one, the higher SEQUENCE, then
//     the later DTSTAMP, wins.
//
// The caller then does what needs its store (ITIP.md section 5): ignore
// unknown UIDs, check the attendee against the From address, and apply a
// reply only if its (SEQUENCE, DTSTAMP) is newer than the last applied.
package calendar

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// iTIP methods (RFC 5546 section 1.4) mentord reads.
const (
	MethodReply   = "REPLY"
	MethodCounter = "COUNTER"
)

var (
	// ErrMalformed: the object cannot be read (too large, broken structure,
	// no VEVENT, a VEVENT without UID, an unreadable date).
	ErrMalformed = errors.New("calendar: malformed calendar object")
	// ErrNotReply: the method is not REPLY or COUNTER (the message says
	// which), or there is none.
	ErrNotReply = errors.New("calendar: not a REPLY or COUNTER")
	// ErrUnknownZone: a TZID that neither a VTIMEZONE in the object, the
	// IANA database nor CLDR's Windows names resolve, or a floating time
	// without Options.Floating.
	ErrUnknownZone = errors.New("calendar: unknown time zone")
)

// errPanic marks a recovered panic, so that the fuzz test can tell one.
var errPanic = errors.New("internal error")

const (
	maxEvents     = 500  // VEVENTs of one object (a series with its overrides)
	maxTextOctets = 4096 // of Comment and Proposal.Location; longer is cut
)

// Reply is one attendee's answer for one event or occurrence.
type Reply struct {
	Method       string     // REPLY or COUNTER (from the part's Content-Type method= when given, else METHOD inside)
	UID          string     // UID, unescaped
	RecurrenceID *time.Time // nil for the whole event/series; else the occurrence's original start as a UTC instant
	Sequence     int        // SEQUENCE, 0 when absent
	Stamp        time.Time  // DTSTAMP, UTC; zero when absent or unreadable
	Attendee     string     // the replying attendee's address: lower-case, without mailto:; "" when it cannot be told
	Partstat     string     // ACCEPTED, TENTATIVE, DECLINED, DELEGATED, NEEDS-ACTION; "" when unreadable
	DelegatedTo  string     // DELEGATED-TO of the attendee (the first address), lower-case
	// DelegatedFrom is the attendee's DELEGATED-FROM (the first address): a
	// reply from a delegate, to be accepted only for a known delegator.
	DelegatedFrom string
	SentBy        string    // SENT-BY of the attendee: who answered on their behalf
	Comment       string    // COMMENT lines joined by newlines, or Google's X-RESPONSE-COMMENT; at most 4 KiB
	Proposed      *Proposal // COUNTER: the proposed new start/end (UTC) and location; nil otherwise or without DTSTART
}

// Proposal is the time and place a COUNTER proposes.
type Proposal struct {
	Start, End time.Time
	Location   string
}

// Options changes how ParseReplies reads an object; the zero value is what
// ParseReplies uses.
type Options struct {
	// Floating is the zone of DATE-TIME values without Z or TZID (RFC 5545
	// section 3.3.5 form 1), normally the organizer's. Without it such a
	// RECURRENCE-ID or proposal is ErrUnknownZone. DATE values are midnight
	// in this zone, or in UTC when it is nil.
	Floating *time.Location
	// Sender is the message's From address. It is used only to choose among
	// several ATTENDEEs of one VEVENT; it checks nothing.
	Sender string
}

// ParseReplies reads every VEVENT of one calendar object. method is the
// part's Content-Type method= ("" if absent). It never panics, bounds the
// work by the input size, and returns one Reply per (UID, RECURRENCE-ID).
// Errors wrap ErrNotReply, ErrMalformed or ErrUnknownZone and name
// properties and TZIDs, never people or their words.
func ParseReplies(data []byte, method string) ([]Reply, error) {
	return Options{}.ParseReplies(data, method)
}

// ParseReplies is the package's ParseReplies with o applied.
func (o Options) ParseReplies(data []byte, method string) (replies []Reply, err error) {
	defer func() {
		if r := recover(); r != nil {
			replies, err = nil, fmt.Errorf("%w: %w: %v", ErrMalformed, errPanic, r)
		}
	}()
	obj, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	m := strings.ToUpper(strings.TrimSpace(method))
	if m == "" {
		if p := obj.cal.Props.Get(ical.PropMethod); p != nil {
			m = strings.ToUpper(strings.TrimSpace(p.Value))
		}
	}
	if m != MethodReply && m != MethodCounter {
		if m == "" {
			return nil, fmt.Errorf("%w: no METHOD", ErrNotReply)
		}
		return nil, fmt.Errorf("%w: METHOD is %.20q", ErrNotReply, m)
	}
	z := newZones(obj, o.Floating)
	n := 0
	for _, c := range obj.cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		if n++; n > maxEvents {
			return nil, fmt.Errorf("%w: more than %d VEVENTs", ErrMalformed, maxEvents)
		}
		r, err := o.reply(obj, z, c, m)
		if err != nil {
			return nil, fmt.Errorf("VEVENT %d: %w", n, err)
		}
		replies = mergeReply(replies, r)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no VEVENT", ErrMalformed)
	}
	return replies, nil
}

func (o Options) reply(obj *object, z *zones, ev *ical.Component, method string) (Reply, error) {
	r := Reply{Method: method}
	broken := obj.broken[ev]
	for _, name := range []string{ical.PropUID, ical.PropRecurrenceID, ical.PropSequence} {
		if broken[name] {
			return r, fmt.Errorf("%w: unreadable %s line", ErrMalformed, name)
		}
		if len(ev.Props[name]) > 1 {
			return r, fmt.Errorf("%w: more than one %s", ErrMalformed, name)
		}
	}
	if p := ev.Props.Get(ical.PropUID); p != nil {
		r.UID = strings.TrimSpace(unescapeText(p.Value))
	}
	if r.UID == "" {
		return r, fmt.Errorf("%w: no UID", ErrMalformed)
	}
	if p := ev.Props.Get(ical.PropRecurrenceID); p != nil {
		t, err := z.resolve(p)
		if err != nil {
			return r, err
		}
		r.RecurrenceID = &t
	}
	if p := ev.Props.Get(ical.PropSequence); p != nil {
		n, err := strconv.Atoi(strings.TrimSpace(p.Value))
		if err != nil || n < 0 || n > math.MaxInt32 {
			return r, fmt.Errorf("%w: SEQUENCE %.20q is not a number in 0..%d", ErrMalformed, p.Value, math.MaxInt32)
		}
		r.Sequence = n
	}
	if p := ev.Props.Get(ical.PropDateTimeStamp); p != nil {
		r.Stamp, _ = z.resolve(p) // zero when unreadable: the oldest possible answer
	}
	responseComment := o.attendee(&r, ev, broken[ical.PropAttendee])
	var comments []string
	for _, p := range ev.Props.Values(ical.PropComment) {
		if c := strings.TrimSpace(unescapeText(p.Value)); c != "" {
			comments = append(comments, c)
		}
	}
	r.Comment = strings.Join(comments, "\n")
	if r.Comment == "" {
		r.Comment = strings.TrimSpace(strings.ToValidUTF8(responseComment, "\uFFFD"))
	}
	r.Comment = clip(r.Comment)
	if method == MethodCounter {
		var err error
		if r.Proposed, err = z.proposal(ev); err != nil {
			return r, err
		}
	}
	return r, nil
}

// resolve reads a DATE or DATE-TIME property as a UTC instant.
func (z *zones) resolve(p *ical.Prop) (time.Time, error) {
	tv, err := parseTimeValue(p)
	if err != nil {
		return time.Time{}, err
	}
	t, err := z.instant(tv)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	return t, nil
}

// mergeReply adds r to rs unless rs holds the same UID and RECURRENCE-ID;
// then the newer one (SEQUENCE, then DTSTAMP; RFC 5546 section 2.1.5)
// stays. Two different attendees for one key cannot both be the replier:
// the attendee is then unknown.
func mergeReply(rs []Reply, r Reply) []Reply {
	for i, old := range rs {
		if old.UID != r.UID || !sameInstant(old.RecurrenceID, r.RecurrenceID) {
			continue
		}
		conflict := old.Attendee != r.Attendee
		if r.Sequence > old.Sequence || r.Sequence == old.Sequence && r.Stamp.After(old.Stamp) {
			rs[i] = r
		}
		if conflict {
			rs[i].Attendee, rs[i].Partstat = "", ""
		}
		return rs
	}
	return append(rs, r)
}

// clip cuts s to maxTextOctets without splitting a UTF-8 sequence.
func clip(s string) string {
	if len(s) <= maxTextOctets {
		return s
	}
	s = s[:maxTextOctets]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
