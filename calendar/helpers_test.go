package calendar

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// parsed is what a parser read back from one calendar object. The go-ical
// reader below and the Python and ical.js scripts in testdata fill the same
// fields, so one comparison serves all three.
type parsed struct {
	Name        string  `json:"name"`
	Error       string  `json:"error,omitempty"`
	Parser      string  `json:"parser,omitempty"` // parser and version
	ProdID      string  `json:"prodid"`
	Version     string  `json:"version"`
	Calscale    string  `json:"calscale"`
	Method      string  `json:"method"`
	Events      int     `json:"events"`
	UID         string  `json:"uid"`
	Sequence    int     `json:"sequence"`
	Stamp       string  `json:"stamp"` // UTC, 2006-01-02T15:04:05Z
	Start       string  `json:"start"`
	End         string  `json:"end"`
	Summary     string  `json:"summary"`
	Description string  `json:"description"`
	Location    string  `json:"location"`
	Status      string  `json:"status"`
	Transp      string  `json:"transp"`
	Organizer   party   `json:"organizer"`
	Attendees   []party `json:"attendees"`
}

type party struct {
	Email    string `json:"email"` // without mailto:
	CN       string `json:"cn"`
	Cutype   string `json:"cutype"`
	Role     string `json:"role"`
	Partstat string `json:"partstat"`
	RSVP     string `json:"rsvp"`
}

const isoUTC = "2006-01-02T15:04:05Z"

// expect is what every parser must read from build(method, e).
func expect(method string, e Event) parsed {
	p := parsed{
		ProdID: ProdID, Version: "2.0", Calscale: "GREGORIAN", Method: method, Events: 1,
		UID: e.UID, Sequence: e.Sequence,
		Stamp:       e.Stamp.UTC().Format(isoUTC),
		Start:       e.Start.UTC().Format(isoUTC),
		End:         e.End.UTC().Format(isoUTC),
		Summary:     cleanLine(e.Summary),
		Description: cleanText(e.Description),
		Location:    cleanLine(e.Location),
		Status:      "CONFIRMED",
		Transp:      "OPAQUE",
		Organizer:   party{Email: e.Organizer.Email, CN: cleanName(e.Organizer.Name)},
	}
	rsvp := "TRUE"
	if method == MethodCancel {
		p.Status, rsvp = "CANCELLED", ""
	}
	for _, a := range e.Attendees {
		p.Attendees = append(p.Attendees, party{
			Email: a.Email, CN: cleanName(a.Name), Cutype: "INDIVIDUAL",
			Role: "REQ-PARTICIPANT", Partstat: partstat(a.Partstat), RSVP: rsvp,
		})
	}
	return p
}

// diff lists the fields where got differs from want. quirk, when not nil,
// may excuse a difference in a field ("summary", "attendees[1].cn").
func diff(got, want parsed, quirk func(field, got, want string) bool) []string {
	gm := make(map[string]string)
	for _, kv := range flatten(got) {
		gm[kv[0]] = kv[1]
	}
	var out []string
	for _, kv := range flatten(want) {
		field, w := kv[0], kv[1]
		g, ok := gm[field]
		if ok && g == w || ok && quirk != nil && quirk(field, g, w) {
			continue
		}
		out = append(out, fmt.Sprintf("%s = %q, want %q", field, g, w))
	}
	return out
}

func flatten(p parsed) [][2]string {
	f := [][2]string{
		{"prodid", p.ProdID}, {"version", p.Version}, {"calscale", p.Calscale},
		{"method", p.Method}, {"events", strconv.Itoa(p.Events)}, {"uid", p.UID},
		{"sequence", strconv.Itoa(p.Sequence)}, {"stamp", p.Stamp}, {"start", p.Start},
		{"end", p.End}, {"summary", p.Summary}, {"description", p.Description},
		{"location", p.Location}, {"status", p.Status}, {"transp", p.Transp},
		{"attendees", strconv.Itoa(len(p.Attendees))},
	}
	addParty := func(prefix string, q party) {
		f = append(f, [][2]string{
			{prefix + ".email", q.Email}, {prefix + ".cn", q.CN}, {prefix + ".cutype", q.Cutype},
			{prefix + ".role", q.Role}, {prefix + ".partstat", q.Partstat}, {prefix + ".rsvp", q.RSVP},
		}...)
	}
	addParty("organizer", p.Organizer)
	for i, a := range p.Attendees {
		addParty(fmt.Sprintf("attendees[%d]", i), a)
	}
	return f
}

// decodeGoical reads b back with go-ical (recovering its panics).
func decodeGoical(b []byte) (p parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("go-ical panicked: %v", r)
		}
	}()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		return p, err
	}
	text := func(c *ical.Component, name string) string {
		s, terr := c.Props.Text(name)
		if terr != nil && err == nil {
			err = fmt.Errorf("%s: %w", name, terr)
		}
		return s
	}
	p.ProdID = text(cal.Component, ical.PropProductID)
	p.Version = text(cal.Component, ical.PropVersion)
	p.Calscale = text(cal.Component, ical.PropCalendarScale)
	p.Method = text(cal.Component, ical.PropMethod)
	evs := cal.Events()
	p.Events = len(evs)
	if len(evs) == 0 {
		return p, fmt.Errorf("no VEVENT")
	}
	ev := evs[0].Component
	p.UID = text(ev, ical.PropUID)
	if s := ev.Props.Get(ical.PropSequence); s != nil {
		p.Sequence, err = s.Int()
	}
	when := func(name string) string {
		prop := ev.Props.Get(name)
		if prop == nil || !strings.HasSuffix(prop.Value, "Z") || len(prop.Params) > 0 {
			err = fmt.Errorf("%s missing or not in UTC", name)
			return ""
		}
		t, terr := prop.DateTime(time.UTC)
		if terr != nil {
			err = terr
		}
		return t.Format(isoUTC)
	}
	p.Stamp, p.Start, p.End = when(ical.PropDateTimeStamp), when(ical.PropDateTimeStart), when(ical.PropDateTimeEnd)
	p.Summary = text(ev, ical.PropSummary)
	p.Description = text(ev, ical.PropDescription)
	p.Location = text(ev, ical.PropLocation)
	p.Status = text(ev, ical.PropStatus)
	p.Transp = text(ev, ical.PropTransparency)
	if o := ev.Props.Get(ical.PropOrganizer); o != nil {
		p.Organizer = partyOf(o)
	}
	for _, a := range ev.Props.Values(ical.PropAttendee) {
		p.Attendees = append(p.Attendees, partyOf(&a))
	}
	return p, err
}

func partyOf(prop *ical.Prop) party {
	email := prop.Value
	if len(email) >= 7 && strings.EqualFold(email[:7], "mailto:") {
		email = email[7:]
	}
	return party{
		Email: email, CN: prop.Params.Get(ical.ParamCommonName),
		Cutype:   prop.Params.Get(ical.ParamCalendarUserType),
		Role:     prop.Params.Get(ical.ParamRole),
		Partstat: prop.Params.Get(ical.ParamParticipationStatus),
		RSVP:     prop.Params.Get(ical.ParamRSVP),
	}
}

var foldRE = regexp.MustCompile("\r\n[ \t]")

// unfold undoes folding (RFC 5545 section 3.1).
func unfold(b []byte) []byte { return foldRE.ReplaceAll(b, nil) }

// structureProblems checks the bytes of a calendar object: valid UTF-8,
// every line ends in CRLF and is at most 75 octets, no bare CR or LF, and
// METHOD equals method.
func structureProblems(b []byte, method string) []string {
	var out []string
	if !utf8.Valid(b) {
		out = append(out, "not valid UTF-8")
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		out = append(out, "does not end in CRLF")
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\r\n")), []byte("\r\n"))
	for i, l := range lines {
		if len(l) > maxLineOctets {
			out = append(out, fmt.Sprintf("line %d has %d octets: %q", i+1, len(l), l))
		}
		if bytes.ContainsAny(l, "\r\n") {
			out = append(out, fmt.Sprintf("line %d holds a bare CR or LF: %q", i+1, l))
		}
		if !utf8.Valid(l) {
			out = append(out, fmt.Sprintf("line %d splits a UTF-8 sequence: %q", i+1, l))
		}
	}
	var methods []string
	for _, l := range bytes.Split(unfold(b), []byte("\r\n")) {
		if m, ok := bytes.CutPrefix(l, []byte("METHOD:")); ok {
			methods = append(methods, string(m))
		}
	}
	if len(methods) != 1 || methods[0] != method {
		out = append(out, fmt.Sprintf("METHOD lines %q, want exactly [%q]", methods, method))
	}
	return out
}
