package calendar

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// attendeeLine is one ATTENDEE property as read (RFC 5545 section 3.8.4.1).
type attendeeLine struct {
	addr, partstat, delegatedTo, delegatedFrom, sentBy, comment string
}

// attendee fills r with the replying attendee of ev and returns its
// X-RESPONSE-COMMENT. RFC 5546 section 3.2.3 wants exactly one ATTENDEE in
// a REPLY; some clients list more. Lines for one address count once (a
// PARTSTAT they disagree on is unreadable). Among several, the replier is
// the one matching Options.Sender, else the only one that is not a
// delegate (DELEGATED-FROM) of another listed attendee: a delegator's
// REPLY may name its delegate too. Otherwise, or when an ATTENDEE line was
// unreadable, Attendee stays "".
func (o Options) attendee(r *Reply, ev *ical.Component, broken bool) string {
	var list []attendeeLine
	for _, p := range ev.Props.Values(ical.PropAttendee) {
		a := readAttendee(&p)
		if i := slices.IndexFunc(list, func(b attendeeLine) bool { return b.addr == a.addr }); i >= 0 {
			if list[i].partstat != a.partstat {
				list[i].partstat = ""
			}
			continue
		}
		list = append(list, a)
	}
	chosen := -1
	switch {
	case broken:
	case len(list) == 1:
		chosen = 0
	case len(list) > 1:
		chosen = chooseReplier(list, addressOf(o.Sender))
	}
	if chosen < 0 || list[chosen].addr == "" {
		return ""
	}
	a := list[chosen]
	r.Attendee, r.Partstat, r.SentBy = a.addr, a.partstat, a.sentBy
	r.DelegatedTo, r.DelegatedFrom = a.delegatedTo, a.delegatedFrom
	return a.comment
}

func chooseReplier(list []attendeeLine, sender string) int {
	if sender != "" {
		if i := slices.IndexFunc(list, func(a attendeeLine) bool { return a.addr == sender }); i >= 0 {
			return i
		}
	}
	chosen := -1
	for i, a := range list {
		if a.delegatedFrom != "" && slices.ContainsFunc(list, func(b attendeeLine) bool { return b.addr == a.delegatedFrom }) {
			continue // the delegate of a listed attendee
		}
		if chosen >= 0 {
			return -1
		}
		chosen = i
	}
	return chosen
}

func readAttendee(p *ical.Prop) attendeeLine {
	a := attendeeLine{addr: addressOf(p.Value)}
	if a.addr == "" {
		a.addr = addressOf("mailto:" + p.Params.Get("EMAIL")) // RFC 7986 EMAIL beside a urn:uuid: value
	}
	switch ps := p.Params.Values(ical.ParamParticipationStatus); {
	case len(ps) == 0:
		a.partstat = PartstatNeedsAction // the default, RFC 5545 section 3.2.12
	case len(ps) == 1 && validPartstat(ps[0]) && strings.TrimSpace(ps[0]) != "":
		a.partstat = partstat(ps[0])
	}
	first := func(name string) string {
		if vs := p.Params.Values(name); len(vs) > 0 {
			return addressOf(vs[0])
		}
		return ""
	}
	a.delegatedTo, a.delegatedFrom = first(ical.ParamDelegatedTo), first(ical.ParamDelegatedFrom)
	a.sentBy = first(ical.ParamSentBy)
	a.comment = p.Params.Get("X-RESPONSE-COMMENT")
	return a
}

// addressOf is the address in a CAL-ADDRESS (RFC 5545 section 3.3.3): a
// mailto: URI, scheme in any case, or a bare address; lower-cased. Other
// URIs (urn:uuid:) and anything that is not local@domain give "".
func addressOf(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
		v = v[7:]
	} else if strings.Contains(v, ":") {
		return ""
	}
	v, _, _ = strings.Cut(v, "?")
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || !utf8.ValidString(v) || strings.ContainsAny(v, " \t\r\n<>\",;:") {
		return ""
	}
	return strings.ToLower(v)
}

// proposal reads what a COUNTER proposes (RFC 5546 section 3.2.7): DTSTART
// and DTEND, or DURATION; without either the event lasts no time, or one
// day for a DATE (RFC 5545 section 3.6.1). nil without DTSTART.
func (z *zones) proposal(ev *ical.Component) (*Proposal, error) {
	ds := ev.Props.Get(ical.PropDateTimeStart)
	if ds == nil {
		return nil, nil
	}
	start, err := parseTimeValue(ds)
	if err != nil {
		return nil, err
	}
	s, err := z.instant(start)
	if err != nil {
		return nil, fmt.Errorf("DTSTART: %w", err)
	}
	p := &Proposal{Start: s, End: s}
	switch de, du := ev.Props.Get(ical.PropDateTimeEnd), ev.Props.Get(ical.PropDuration); {
	case de != nil:
		p.End, err = z.resolve(de)
	case du != nil:
		p.End, err = z.after(start, du.Value)
	case start.date:
		p.End, err = z.after(start, "P1D")
	}
	if err != nil {
		return nil, err
	}
	if p.End.Before(p.Start) {
		return nil, fmt.Errorf("%w: proposed end before its start", ErrMalformed)
	}
	for _, t := range []time.Time{p.Start, p.End} { // what mentord itself would send (Validate)
		if prob := timeProblem(t); prob != "" {
			return nil, fmt.Errorf("%w: proposed time: %s", ErrMalformed, prob)
		}
	}
	if l := ev.Props.Get(ical.PropLocation); l != nil {
		p.Location = clip(strings.TrimSpace(unescapeText(l.Value)))
	}
	return p, nil
}

// after is the end of an event that starts at start and lasts dur (RFC
// 5545 section 3.3.6): days and weeks are nominal, so they keep the wall
// clock across a DST change; hours, minutes and seconds are exact.
func (z *zones) after(start timeValue, dur string) (time.Time, error) {
	days, secs, err := parseDuration(dur)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: DURATION: %v", ErrMalformed, err)
	}
	end := start
	end.wall = start.wall.AddDate(0, 0, days)
	t, err := z.instant(end)
	if err != nil {
		return time.Time{}, fmt.Errorf("DURATION: %w", err)
	}
	return t.Add(time.Duration(secs) * time.Second), nil
}

var errDuration = errors.New("not a non-negative duration such as PT1H30M or P1D")

func parseDuration(v string) (days int, secs int64, err error) {
	s := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "+")
	if len(s) < 3 || s[0] != 'P' {
		return 0, 0, errDuration
	}
	s = s[1:]
	inTime := false
	for s != "" {
		if s[0] == 'T' && !inTime {
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(s) {
			return 0, 0, errDuration
		}
		n, _ := strconv.Atoi(s[:i])
		switch unit := s[i]; {
		case !inTime && unit == 'W':
			days += 7 * n
		case !inTime && unit == 'D':
			days += n
		case inTime && unit == 'H':
			secs += 3600 * int64(n)
		case inTime && unit == 'M':
			secs += 60 * int64(n)
		case inTime && unit == 'S':
			secs += int64(n)
		default:
			return 0, 0, errDuration
		}
		s = s[i+1:]
	}
	return days, secs, nil
}
