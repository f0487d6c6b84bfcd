package calendar

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidEvent wraps every problem Event.Validate finds.
var ErrInvalidEvent = errors.New("calendar: invalid event")

// Limits on what Validate accepts.
const (
	maxUIDOctets   = 255  // RFC 5545 sets none; long UIDs are cut by some servers
	maxAddrOctets  = 254  // RFC 5321 section 4.5.3.1.3 path limit minus brackets
	maxNameOctets  = 256  // a display name, not a text
	minYear        = 1970 // an earlier DTSTAMP means a broken clock
	maxYear        = 9999 // DATE-TIME has four year digits (RFC 5545 section 3.3.4)
	mailtoReserved = "%/?#&=[]{}|^`\\"
)

// Validate reports every problem that stops e from being sent, wrapped in
// ErrInvalidEvent. Messages name fields and indexes, never names or
// addresses, so they are safe to log.
func (e Event) Validate() error {
	var probs []string
	add := func(format string, args ...any) {
		probs = append(probs, fmt.Sprintf(format, args...))
	}

	if p := uidProblem(e.UID); p != "" {
		add("uid: %s", p)
	}
	if e.Sequence < 0 || e.Sequence > math.MaxInt32 {
		add("sequence: %d is outside 0..%d", e.Sequence, math.MaxInt32)
	}
	timesOK := true
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"stamp", e.Stamp}, {"start", e.Start}, {"end", e.End}} {
		if p := timeProblem(f.t); p != "" {
			add("%s: %s", f.name, p)
			timesOK = false
		}
	}
	// DATE-TIME has whole seconds: compare what will be written.
	if timesOK && !e.End.Truncate(time.Second).After(e.Start.Truncate(time.Second)) {
		add("end: not after start (to the second)")
	}
	if cleanLine(e.Summary) == "" {
		add("summary: empty")
	}

	for _, p := range personProblems(e.Organizer) {
		add("organizer.%s", p)
	}
	if len(e.Attendees) == 0 {
		add("attendees: none; an invitation needs at least one")
	}
	seen := make(map[string]int, len(e.Attendees))
	for i, a := range e.Attendees {
		for _, p := range personProblems(a.Person) {
			add("attendees[%d].%s", i, p)
		}
		if !validPartstat(a.Partstat) {
			add("attendees[%d].partstat: want one of NEEDS-ACTION, ACCEPTED, TENTATIVE, DECLINED, DELEGATED", i)
		}
		key := strings.ToLower(a.Email)
		if j, dup := seen[key]; dup && key != "" {
			add("attendees[%d].email: same address as attendees[%d]", i, j)
		} else {
			seen[key] = i
		}
	}

	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidEvent, strings.Join(probs, "; "))
}

// uidProblem accepts printable ASCII without space, '\\', ';' and ',':
// mentord makes its UIDs ("<random>@<host>"), and such a UID needs no TEXT
// escaping, so every client compares the same string.
func uidProblem(uid string) string {
	switch {
	case uid == "":
		return "empty"
	case len(uid) > maxUIDOctets:
		return fmt.Sprintf("longer than %d octets", maxUIDOctets)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`\;,`, c) >= 0 {
			return `holds a space, control, non-ASCII, '\', ';' or ',' character`
		}
	}
	return ""
}

func timeProblem(t time.Time) string {
	if t.IsZero() {
		return "not set"
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return fmt.Sprintf("year %d is outside %d..%d", y, minYear, maxYear)
	}
	return ""
}

// ErrInvalidPerson is wrapped by CheckName's and CheckAddress's errors.
var ErrInvalidPerson = errors.New("cannot be an attendee")

// CheckName tells why name cannot be an attendee's or the organizer's CN,
// with the check Validate applies; the error names no value.
func CheckName(name string) error {
	if probs := personProblems(Person{Name: name, Email: "x@example.org"}); len(probs) > 0 {
		return fmt.Errorf("%w: the %s", ErrInvalidPerson, probs[0])
	}
	return nil
}

// CheckAddress tells why addr cannot be an attendee's or the organizer's
// address, with the check Validate applies; the error names no value.
func CheckAddress(addr string) error {
	if p := addressProblem(addr); p != "" {
		return fmt.Errorf("%w: the address %s", ErrInvalidPerson, p)
	}
	return nil
}

func personProblems(p Person) []string {
	var probs []string
	switch {
	case !utf8.ValidString(p.Name):
		probs = append(probs, "name: not valid UTF-8")
	case strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		probs = append(probs, "name: holds a line break, tab or other control character")
	case len(p.Name) > maxNameOctets:
		probs = append(probs, fmt.Sprintf("name: longer than %d octets", maxNameOctets))
	}
	if msg := addressProblem(p.Email); msg != "" {
		probs = append(probs, "email: "+msg)
	}
	return probs
}

// addressProblem accepts a plain ASCII addr-spec (RFC 5322 section 3.4.1)
// that net/mail parses back to itself and that can stand in a mailto: URI
// without percent-encoding (RFC 6068 section 2), so that replies can be
// matched by comparing addresses.
func addressProblem(addr string) string {
	switch {
	case addr == "":
		return "empty"
	case len(addr) > maxAddrOctets:
		return fmt.Sprintf("longer than %d octets", maxAddrOctets)
	case strings.HasPrefix(strings.ToLower(addr), "mailto:"):
		return "give the address without mailto:"
	}
	for _, r := range addr {
		if r <= ' ' || r >= 0x7f {
			return "holds a space, control or non-ASCII character (internationalised addresses are not supported)"
		}
	}
	if strings.ContainsAny(addr, mailtoReserved) {
		return "holds a character that must be percent-encoded in a mailto: URI (one of " + mailtoReserved + ")"
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "not a plain address local@domain (no display name, brackets or quotes)"
	}
	return ""
}

func validPartstat(s string) bool {
	switch partstat(s) {
	case PartstatNeedsAction, PartstatAccepted, PartstatTentative, PartstatDeclined, PartstatDelegated:
		return true
	}
	return false
}

// partstat is the PARTSTAT to write: upper case, NEEDS-ACTION when empty.
func partstat(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return PartstatNeedsAction
	}
	return s
}
