package calendar

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emersion/go-ical"
)

// Limits on a received calendar object, checked while it is read so that
// no input costs more than linear time and bounded memory. An iMIP reply is
// a few kilobytes; Outlook's largest (with an HTML description) stay far
// below these.
const (
	maxObjectOctets = 1 << 20 // the whole text/calendar part
	maxParams       = 64      // parameter values of one property
	maxDepth        = 8       // VCALENDAR > VEVENT > VALARM is 3
	maxComponents   = 2000
)

// object is one decoded calendar object: the VCALENDAR component and, per
// component, the names of properties with a content line that could not be
// read (a reader must not trust what it cannot see: a broken second
// ATTENDEE line makes the first one ambiguous).
type object struct {
	cal    *ical.Component
	broken map[*ical.Component]map[string]bool
}

// decodeObject reads the first VCALENDAR of data (RFC 5545 section 3.4).
// It replaces go-ical's Decoder, which panics on some malformed parameters,
// copies parameter values in quadratic time and gives up on the whole
// object at the first bad line. Here a content line that cannot be split
// into name, parameters and value is skipped and remembered in
// object.broken; only a broken component structure (BEGIN/END) or an
// oversized object is an error. The result uses go-ical's types.
func decodeObject(data []byte) (*object, error) {
	if len(data) > maxObjectOctets {
		return nil, fmt.Errorf("%w: larger than %d octets", ErrMalformed, maxObjectOctets)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := decoder{obj: &object{broken: map[*ical.Component]map[string]bool{}}}
	for _, l := range unfoldLines(data) {
		if err := d.line(l); err != nil {
			return nil, err
		}
		if d.done {
			return d.obj, nil
		}
	}
	if d.obj.cal == nil {
		return nil, fmt.Errorf("%w: no BEGIN:VCALENDAR", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: no END:VCALENDAR (truncated?)", ErrMalformed)
}

// unfoldLines splits data into logical content lines (RFC 5545 section
// 3.1): CRLF or a bare LF ends a line (a bare CR when there is no LF at
// all), and a line starting with a space or tab continues the previous one.
// Continuations are joined as bytes, so a fold inside a UTF-8 sequence
// heals.
func unfoldLines(data []byte) []string {
	sep := []byte("\n")
	if bytes.IndexByte(data, '\n') < 0 {
		sep = []byte("\r")
	}
	var lines []string
	var cur []byte
	started := false
	for _, phys := range bytes.Split(data, sep) {
		phys = bytes.TrimSuffix(phys, []byte("\r"))
		if started && len(phys) > 0 && (phys[0] == ' ' || phys[0] == '\t') {
			cur = append(cur, phys[1:]...)
			continue
		}
		if started {
			lines = append(lines, string(cur))
		}
		cur, started = append(cur[:0], phys...), true
	}
	if started {
		lines = append(lines, string(cur))
	}
	return lines
}

type decoder struct {
	obj      *object
	stack    []*ical.Component
	count    int
	lastName string // the previous property, blamed for a line without a name
	done     bool
}

func (d *decoder) line(l string) error {
	if strings.TrimSpace(l) == "" {
		return nil
	}
	prop, ok := parseContentLine(l)
	if !ok {
		name := d.lastName
		if i := strings.IndexAny(l, ";:"); i > 0 && validName(l[:i]) {
			name = strings.ToUpper(l[:i])
		}
		if name == "BEGIN" || name == "END" {
			return fmt.Errorf("%w: unreadable %s line", ErrMalformed, name)
		}
		if len(d.stack) > 0 && name != "" {
			d.markBroken(d.stack[len(d.stack)-1], name)
		}
		d.lastName = name
		return nil
	}
	switch prop.Name {
	case "BEGIN":
		return d.begin(strings.ToUpper(strings.TrimSpace(prop.Value)))
	case "END":
		d.end(strings.ToUpper(strings.TrimSpace(prop.Value)))
	default:
		if len(d.stack) == 0 {
			return nil // text before BEGIN:VCALENDAR
		}
		c := d.stack[len(d.stack)-1]
		c.Props[prop.Name] = append(c.Props[prop.Name], *prop)
		d.lastName = prop.Name
	}
	return nil
}

func (d *decoder) begin(name string) error {
	switch {
	case !validName(name):
		return fmt.Errorf("%w: BEGIN without a component name", ErrMalformed)
	case len(d.stack) == 0 && name != ical.CompCalendar:
		return fmt.Errorf("%w: BEGIN:%.20s outside VCALENDAR", ErrMalformed, name)
	case len(d.stack) >= maxDepth:
		return fmt.Errorf("%w: components nested deeper than %d", ErrMalformed, maxDepth)
	case d.count >= maxComponents:
		return fmt.Errorf("%w: more than %d components", ErrMalformed, maxComponents)
	}
	d.count++
	c := &ical.Component{Name: name, Props: ical.Props{}}
	if len(d.stack) == 0 {
		d.obj.cal = c
	} else {
		parent := d.stack[len(d.stack)-1]
		parent.Children = append(parent.Children, c)
	}
	d.stack = append(d.stack, c)
	d.lastName = ""
	return nil
}

// end closes the innermost open component called name, and any left open
// inside it (a missing END:VALARM); an END that matches nothing is ignored.
func (d *decoder) end(name string) {
	for i := len(d.stack) - 1; i >= 0; i-- {
		if d.stack[i].Name == name {
			d.stack = d.stack[:i]
			d.done = i == 0
			d.lastName = ""
			return
		}
	}
}

func (d *decoder) markBroken(c *ical.Component, name string) {
	if d.obj.broken[c] == nil {
		d.obj.broken[c] = map[string]bool{}
	}
	d.obj.broken[c][name] = true
}

// parseContentLine splits name *(";" param) ":" value (RFC 5545 section
// 3.1) in one pass. Lenient where clients are sloppy: a parameter without
// "=" is dropped, text after a closing quote joins the value, a stray
// DQUOTE in an unquoted value is kept, and an unquoted mailto: URI in a
// parameter (SENT-BY=mailto:a@b) is read whole. Parameter values are
// decoded per RFC 6868. It reports false when there is no name or no colon.
func parseContentLine(l string) (*ical.Prop, bool) {
	i := strings.IndexAny(l, ";:")
	if i <= 0 || !validName(l[:i]) {
		return nil, false
	}
	prop := &ical.Prop{Name: strings.ToUpper(l[:i]), Params: ical.Params{}}
	s := l[i:]
	n := 0 // parameter values so far
	for s != "" && s[0] == ';' {
		s = s[1:]
		j := strings.IndexAny(s, "=;:")
		if j < 0 {
			return nil, false
		}
		if s[j] != '=' {
			s = s[j:] // "RSVP;": no value, drop it
			continue
		}
		name := strings.ToUpper(s[:j])
		s = s[j+1:]
		for {
			var v string
			var ok bool
			if v, s, ok = paramValue(s); !ok {
				return nil, false
			}
			if n++; n > maxParams {
				return nil, false
			}
			if validName(name) {
				prop.Params[name] = append(prop.Params[name], decodeCaret(v))
			}
			if s == "" || s[0] != ',' {
				break
			}
			s = s[1:]
		}
	}
	if s == "" || s[0] != ':' {
		return nil, false
	}
	prop.Value = s[1:]
	return prop, true
}

// paramValue reads one parameter value from the start of s and returns the
// rest, which starts with ',', ';' or ':'.
func paramValue(s string) (v, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", false
		}
		v, s = s[1:1+end], s[end+2:]
		k := strings.IndexAny(s, ",;:")
		if k < 0 {
			return "", "", false
		}
		return v + s[:k], s[k:], true
	}
	k := strings.IndexAny(s, ",;:")
	if k < 0 {
		return "", "", false
	}
	if strings.EqualFold(s[:k], "mailto") && s[k] == ':' {
		if m := strings.IndexAny(s[k+1:], ",;:"); m > 0 {
			k += 1 + m
		}
	}
	return s[:k], s[k:], true
}

// decodeCaret undoes RFC 6868 escapes: ^n newline, ^' DQUOTE, ^^ caret; any
// other caret stays.
func decodeCaret(v string) string {
	if !strings.Contains(v, "^") {
		return v
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '^' && i+1 < len(v) {
			switch v[i+1] {
			case 'n', 'N':
				sb.WriteByte('\n')
				i++
				continue
			case '\'':
				sb.WriteByte('"')
				i++
				continue
			case '^':
				sb.WriteByte('^')
				i++
				continue
			}
		}
		sb.WriteByte(v[i])
	}
	return sb.String()
}

// validName accepts iana-token and x-name (RFC 5545 section 3.1) and, as
// some producers write it, '_'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// unescapeText reads a TEXT value (RFC 5545 section 3.3.11) leniently:
// \n and \N are line breaks, \\ \; \, their character, and an unknown
// escape such as \: yields the character after the backslash (go-ical's
// Text fails on it, and also cuts the value at the first unescaped comma).
// Invalid UTF-8 becomes U+FFFD.
func unescapeText(v string) string {
	if strings.IndexByte(v, '\\') >= 0 {
		var sb strings.Builder
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c == '\\' && i+1 < len(v) {
				i++
				c = v[i]
				if c == 'n' || c == 'N' {
					c = '\n'
				}
			}
			sb.WriteByte(c)
		}
		v = sb.String()
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}
