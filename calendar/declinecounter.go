package calendar

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/emersion/go-ical"
)

// MethodDeclineCounter answers an attendee's COUNTER with no.
const MethodDeclineCounter = "DECLINECOUNTER"

// DeclineCounter builds the organizer's no to a COUNTER (RFC 5546 section
// 3.2.8): the VEVENT holds only what that section lets it: the original UID
// and SEQUENCE, a new DTSTAMP, the ORGANIZER, the proposer as ATTENDEE, and
// an optional COMMENT; no time, summary or place, which stay as the last
// REQUEST said. e.Attendees should hold only the proposer.
func DeclineCounter(e Event, comment string) ([]byte, error) {
	if e.UID == "" || e.Stamp.IsZero() || len(e.Attendees) == 0 {
		return nil, fmt.Errorf("calendar: DECLINECOUNTER needs a UID, a DTSTAMP and the proposer")
	}
	ev := ical.NewEvent()
	p := ev.Props
	p.SetText(ical.PropUID, e.UID)
	setValue(p, ical.PropSequence, strconv.Itoa(e.Sequence))
	p.SetDateTime(ical.PropDateTimeStamp, e.Stamp.UTC())
	p.Set(calAddress(ical.PropOrganizer, e.Organizer))
	for _, a := range e.Attendees {
		p.Add(calAddress(ical.PropAttendee, a.Person))
	}
	if c := cleanText(comment); c != "" {
		p.SetText(ical.PropComment, c)
	}
	cal := ical.NewCalendar()
	setValue(cal.Props, ical.PropProductID, ProdID)
	setValue(cal.Props, ical.PropVersion, "2.0")
	setValue(cal.Props, ical.PropMethod, MethodDeclineCounter)
	cal.Children = append(cal.Children, ev.Component)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("calendar: encode DECLINECOUNTER: %w", err)
	}
	return fold(buf.Bytes()), nil
}
