// Package calendar builds the iMIP calendar objects mentord sends: a
// session invitation (METHOD:REQUEST) and a session cancellation
// (METHOD:CANCEL). It returns bytes; the mail packages carry them.
//
// Shape: mentord sends one VEVENT per session, each with its own stable UID
// and its own SEQUENCE, not one RRULE series. Sessions are moved and
// cancelled one at a time, and a plain REQUEST or CANCEL per event avoids the
// RECURRENCE-ID override bugs of Outlook and Nextcloud (nextcloud/calendar#4727,
// nextcloud/server#60159); an RSVP per session is then natural. Because no
// event recurs, DTSTART and DTEND are written in UTC ("...Z", RFC 5545 section
// 3.3.5 form 2): there is no TZID, so no VTIMEZONE is needed, no DST drift can
// occur, and every client converts to its viewer's zone.
//
// The flow of Request and Cancel:
//
//  1. Validate the Event (Event.Validate): UID, times, SEQUENCE, organizer
//     and attendee addresses. Every problem is reported at once, wrapped in
//     ErrInvalidEvent; the messages name fields, never people or addresses,
//     so they can be logged.
//  2. Clean the texts: line breaks become LF, control characters and invalid
//     UTF-8 are dropped or replaced; SUMMARY and LOCATION become one line.
//     Display names (CN, RFC 5545 section 3.2.2) must hold no control
//     characters; '"' cannot appear in a parameter value (section 3.1) and
//     becomes an apostrophe, as does a '^' that would start an RFC 6868
//     escape; a backslash becomes '/' (ical.js unescapes parameter values).
//  3. Build the VCALENDAR (RFC 5545 section 3.4, 3.7) with PRODID, VERSION,
//     CALSCALE and METHOD (RFC 5546 section 1.4), holding one VEVENT (3.6.1)
//     with UID (3.8.4.7), SEQUENCE (3.8.7.4), DTSTAMP (3.8.7.2), DTSTART/DTEND,
//     SUMMARY, DESCRIPTION, LOCATION, ORGANIZER (3.8.4.3), one ATTENDEE
//     per person (3.8.4.1) with CN, CUTYPE, ROLE, PARTSTAT and, in a
//     REQUEST, RSVP=TRUE, plus STATUS (3.8.1.11) and TRANSP:OPAQUE (3.8.2.7).
//     REQUEST follows RFC 5546 section 3.2.2 (STATUS:CONFIRMED); CANCEL
//     follows section 3.2.5 (STATUS:CANCELLED, the attendees it goes to).
//     TEXT values are escaped by go-ical (RFC 5545 section 3.3.11).
//  4. Encode with go-ical (CRLF line ends) and fold every content line at 75
//     octets (RFC 5545 section 3.1) without splitting a UTF-8 sequence;
//     go-ical does not fold.
//  5. The caller sends the bytes as a text/calendar part whose Content-Type
//     is ContentTypeRequest or ContentTypeCancel: its method= parameter must
//     equal METHOD (RFC 6047 section 2.4), one email per recipient.
//
// State is the caller's job (RFC 5546 section 2.1.4): keep the UID for the
// life of the session, raise SEQUENCE when the time or STATUS changes (so a
// CANCEL carries a SEQUENCE above the last REQUEST's), and give every message
// a fresh Stamp.
//
// No X-MICROSOFT-CDO-BUSYSTATUS is written: Outlook derives the busy status
// from TRANSP when that property is absent (MS-OXCICAL section
// 2.1.3.1.1.20.25, OPAQUE maps to busy), so it would only repeat TRANSP
// in a non-standard form that must then be kept consistent on CANCEL.
package calendar

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/emersion/go-ical"
)

// ProdID identifies mentord as the producer (RFC 5545 section 3.7.3).
const ProdID = "-//mentord//mentord//EN"

// iTIP methods (RFC 5546 section 1.4) mentord sends.
const (
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
)

// MIME types of the text/calendar part; method= must equal METHOD inside
// (RFC 6047 section 2.4).
const (
	ContentTypeRequest = "text/calendar; charset=UTF-8; method=" + MethodRequest
	ContentTypeCancel  = "text/calendar; charset=UTF-8; method=" + MethodCancel
)

// Participation status values (RFC 5545 section 3.2.12) for a VEVENT.
const (
	PartstatNeedsAction = "NEEDS-ACTION"
	PartstatAccepted    = "ACCEPTED"
	PartstatTentative   = "TENTATIVE"
	PartstatDeclined    = "DECLINED"
	PartstatDelegated   = "DELEGATED"
)

// Person is a calendar user: a display name (may be empty) and a plain
// address such as "mentor@uni.example".
type Person struct {
	Name, Email string
}

// Attendee is a person invited to a session.
type Attendee struct {
	Person
	Partstat string // NEEDS-ACTION (default), ACCEPTED, TENTATIVE, DECLINED, DELEGATED
}

// Event is one mentoring session as sent in one message.
type Event struct {
	UID         string
	Sequence    int
	Stamp       time.Time // DTSTAMP: when this message was created; written in UTC
	Start       time.Time // written in UTC
	End         time.Time
	Summary     string
	Description string // may be multi-line
	Location    string // omitted when empty
	Organizer   Person // the programme mailbox
	Attendees   []Attendee
}

// Request returns a VCALENDAR with METHOD:REQUEST holding e as one VEVENT
// with STATUS:CONFIRMED and RSVP=TRUE for every attendee (RFC 5546 section
// 3.2.2). It is used for the first invitation and for every update.
func Request(e Event) ([]byte, error) {
	return build(MethodRequest, e)
}

// Cancel returns a VCALENDAR with METHOD:CANCEL holding e as one VEVENT with
// STATUS:CANCELLED (RFC 5546 section 3.2.5). e.Attendees are the people the
// cancellation goes to; e.Sequence must be above the last REQUEST's.
func Cancel(e Event) ([]byte, error) {
	return build(MethodCancel, e)
}

func build(method string, e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	ev := ical.NewEvent()
	p := ev.Props
	p.SetText(ical.PropUID, e.UID)
	setValue(p, ical.PropSequence, strconv.Itoa(e.Sequence))
	p.SetDateTime(ical.PropDateTimeStamp, e.Stamp.UTC())
	p.SetDateTime(ical.PropDateTimeStart, e.Start.UTC())
	p.SetDateTime(ical.PropDateTimeEnd, e.End.UTC())
	p.SetText(ical.PropSummary, cleanLine(e.Summary))
	if d := cleanText(e.Description); d != "" {
		p.SetText(ical.PropDescription, d)
	}
	if l := cleanLine(e.Location); l != "" {
		p.SetText(ical.PropLocation, l)
	}
	p.Set(calAddress(ical.PropOrganizer, e.Organizer))
	for _, a := range e.Attendees {
		prop := calAddress(ical.PropAttendee, a.Person)
		prop.Params.Set(ical.ParamCalendarUserType, "INDIVIDUAL")
		prop.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
		prop.Params.Set(ical.ParamParticipationStatus, partstat(a.Partstat))
		if method == MethodRequest {
			prop.Params.Set(ical.ParamRSVP, "TRUE")
		}
		p.Add(prop)
	}
	status := "CONFIRMED"
	if method == MethodCancel {
		status = "CANCELLED"
	}
	setValue(p, ical.PropStatus, status)
	setValue(p, ical.PropTransparency, "OPAQUE")

	cal := ical.NewCalendar()
	setValue(cal.Props, ical.PropProductID, ProdID)
	setValue(cal.Props, ical.PropVersion, "2.0")
	setValue(cal.Props, ical.PropCalendarScale, "GREGORIAN")
	setValue(cal.Props, ical.PropMethod, method)
	cal.Children = append(cal.Children, ev.Component)

	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("calendar: encode %s: %w", method, err)
	}
	return fold(buf.Bytes()), nil
}

// setValue sets a property whose value is written as is (tokens, integers).
func setValue(p ical.Props, name, value string) {
	prop := ical.NewProp(name)
	prop.Value = value
	p.Set(prop)
}

// calAddress is an ORGANIZER or ATTENDEE property: mailto: URI (RFC 5545
// section 3.3.3) with the display name in CN when there is one.
func calAddress(name string, who Person) *ical.Prop {
	prop := ical.NewProp(name)
	prop.Value = "mailto:" + who.Email
	if cn := cleanName(who.Name); cn != "" {
		prop.Params.Set(ical.ParamCommonName, cn)
	}
	return prop
}
