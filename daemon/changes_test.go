package daemon

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/mentord/mentord/daemon/admin"
)

// calMsg is what a calendar message said, for comparing.
type calMsg struct {
	To, Method, UID string
	Seq             int
	Start           time.Time
	Attendees       string
}

func (s *sim) calendarSince(from int) []calMsg {
	s.t.Helper()
	var out []calMsg
	for _, m := range s.got[from:] {
		if m.Kind != "invite" && m.Kind != "update" && m.Kind != "cancel" {
			continue
		}
		method, ev := calendarOf(s.t, m.Raw)
		seq, _ := ev.Props.Get(ical.PropSequence).Int()
		start, _ := ev.Props.DateTime(ical.PropDateTimeStart, time.UTC)
		var atts []string
		for _, a := range ev.Props.Values(ical.PropAttendee) {
			atts = append(atts, strings.TrimPrefix(strings.ToLower(a.Value), "mailto:"))
		}
		sort.Strings(atts)
		status := ev.Props.Get(ical.PropStatus).Value
		if method == "CANCEL" && status != "CANCELLED" || method == "REQUEST" && status != "CONFIRMED" {
			s.t.Errorf("%s with STATUS %s", method, status)
		}
		out = append(out, calMsg{To: m.To, Method: method, UID: ev.Props.Get(ical.PropUID).Value, Seq: seq, Start: start,
			Attendees: strings.Join(atts, ",")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UID != out[j].UID {
			return out[i].UID < out[j].UID
		}
		return out[i].To < out[j].To
	})
	return out
}

func (s *sim) uid(number int) string {
	s.t.Helper()
	var uid string
	if err := s.db.R().Get(&uid, `SELECT uid FROM sessions WHERE number = ?`, number); err != nil {
		s.t.Fatal(err)
	}
	return uid
}

func (s *sim) sessionID(number int) int64 {
	s.t.Helper()
	var id int64
	if err := s.db.R().Get(&id, `SELECT id FROM sessions WHERE number = ?`, number); err != nil {
		s.t.Fatal(err)
	}
	return id
}

func checkCalendar(t *testing.T, what string, got []calMsg, want []calMsg) {
	t.Helper()
	sort.Slice(want, func(i, j int) bool {
		if want[i].UID != want[j].UID {
			return want[i].UID < want[j].UID
		}
		return want[i].To < want[j].To
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// The whole matrix for one event per session: a new pair, a session moved,
// cancelled and added, the mentor replaced, and the pair ended.
func TestCalendarChanges(t *testing.T) {
	const ada, bo, cy = "ada@example.com", "bo@example.org", "cy@example.net"
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	pairID := addPair(t, s.roster, admin.PairInput{
		MentorName: "Ada", MentorEmail: ada, MenteeName: "Bo", MenteeEmail: bo, TZ: "Europe/Copenhagen",
		Start: "2027-01-12T14:00", Every: "monthly", Sessions: "6", Duration: "60m", Location: "Room 1",
	})
	ctx := context.Background()
	s.step()
	both := ada + "," + bo
	checkCalendar(t, "a new pair is invited to the sessions within 90 days", s.calendarSince(0), []calMsg{
		{ada, "REQUEST", s.uid(1), 0, utc("2027-01-12T13:00Z"), both}, {bo, "REQUEST", s.uid(1), 0, utc("2027-01-12T13:00Z"), both},
		{ada, "REQUEST", s.uid(2), 0, utc("2027-02-12T13:00Z"), both}, {bo, "REQUEST", s.uid(2), 0, utc("2027-02-12T13:00Z"), both},
	})

	mark := len(s.got)
	if _, err := s.roster.MoveSession(ctx, s.sessionID(2), "2027-02-16T15:00"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.roster.CancelSession(ctx, s.sessionID(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.roster.CancelSession(ctx, s.sessionID(5)); err != nil { // never invited: nothing to send
		t.Fatal(err)
	}
	added, err := s.roster.AddSession(ctx, pairID, "2027-01-20T10:00", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.step()
	s.step() // a second pass at the same time sends nothing more
	checkCalendar(t, "move, cancel, add", s.calendarSince(mark), []calMsg{
		{ada, "CANCEL", s.uid(1), 1, utc("2027-01-12T13:00Z"), both}, {bo, "CANCEL", s.uid(1), 1, utc("2027-01-12T13:00Z"), both},
		{ada, "REQUEST", s.uid(2), 1, utc("2027-02-16T14:00Z"), both}, {bo, "REQUEST", s.uid(2), 1, utc("2027-02-16T14:00Z"), both},
		{ada, "REQUEST", added.UID, 0, utc("2027-01-20T09:00Z"), both}, {bo, "REQUEST", added.UID, 0, utc("2027-01-20T09:00Z"), both},
	})
	for _, m := range s.got[mark:] {
		if m.Kind == "update" && m.To == bo {
			// The update says the new time and the time it replaces.
			text := textOf(t, m.Raw)
			if !strings.Contains(text, "16 February 2027") || !strings.Contains(text, "12 February 2027") {
				t.Errorf("the update does not give the new and the old time:\n%s", text)
			}
		}
	}

	mark = len(s.got)
	if _, err := s.roster.ReplaceMentor(ctx, pairID, "Cy", cy, "", ""); err != nil {
		t.Fatal(err)
	}
	s.step()
	boCy := bo + "," + cy
	checkCalendar(t, "mentor replaced", s.calendarSince(mark), []calMsg{
		{ada, "CANCEL", s.uid(2), 2, utc("2027-02-16T14:00Z"), ada},
		{bo, "REQUEST", s.uid(2), 2, utc("2027-02-16T14:00Z"), boCy},
		{cy, "REQUEST", s.uid(2), 2, utc("2027-02-16T14:00Z"), boCy},
		{ada, "CANCEL", added.UID, 1, utc("2027-01-20T09:00Z"), ada},
		{bo, "REQUEST", added.UID, 1, utc("2027-01-20T09:00Z"), boCy},
		{cy, "REQUEST", added.UID, 1, utc("2027-01-20T09:00Z"), boCy},
	})

	// Session 3 comes within 90 days and is invited with the new mentor.
	mark = len(s.got)
	s.now = utc("2026-12-15T12:00Z")
	s.step()
	checkCalendar(t, "a later session reaches the horizon", s.calendarSince(mark), []calMsg{
		{bo, "REQUEST", s.uid(3), 1, utc("2027-03-12T13:00Z"), boCy}, {cy, "REQUEST", s.uid(3), 1, utc("2027-03-12T13:00Z"), boCy},
	})

	mark = len(s.got)
	if _, err := s.roster.EndPair(ctx, pairID); err != nil {
		t.Fatal(err)
	}
	s.step()
	checkCalendar(t, "pair ended", s.calendarSince(mark), []calMsg{
		{bo, "CANCEL", s.uid(2), 3, utc("2027-02-16T14:00Z"), boCy}, {cy, "CANCEL", s.uid(2), 3, utc("2027-02-16T14:00Z"), boCy},
		{bo, "CANCEL", s.uid(3), 2, utc("2027-03-12T13:00Z"), boCy}, {cy, "CANCEL", s.uid(3), 2, utc("2027-03-12T13:00Z"), boCy},
		{bo, "CANCEL", added.UID, 2, utc("2027-01-20T09:00Z"), boCy}, {cy, "CANCEL", added.UID, 2, utc("2027-01-20T09:00Z"), boCy},
	})
	mark = len(s.got)
	s.runUntil(utc("2027-12-31T00:00Z"))
	if len(s.got) != mark {
		t.Errorf("%d messages after the pair ended: %v", len(s.got)-mark, s.got[mark].Key)
	}
}
