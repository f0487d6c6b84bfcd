package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"github.com/mentord/mentord/daemon/admin"
)

// A mentee's new address: every message still sent once, the history kept,
// the sessions to come announced to the new address (and as an update to
// the mentor), later prompts to the new address only.
func TestAddressChangeSendsOnceAndKeepsHistory(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	addPair(t, s.roster, yearPair)
	s.runUntil(utc("2027-02-01T09:00Z"))
	before := len(s.got)
	old := map[string]bool{}
	for _, m := range s.got {
		old[m.Key] = true
	}
	res, err := s.roster.EditPerson(context.Background(), "bo@example.org", admin.PersonEdit{Email: "bo.new@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Readdressed != 3 { // sessions 2 to 4 were invited (90 days ahead); session 1 is over
		t.Errorf("%d sessions readdressed, want 3", res.Readdressed)
	}
	s.runUntil(utc("2027-03-01T09:00Z"))
	seen := map[string]bool{}
	invitesNew, updatesMentor := 0, 0
	for i, m := range s.got {
		if seen[m.MessageID] {
			t.Errorf("message %s (%s) sent twice", m.MessageID, m.Key)
		}
		seen[m.MessageID] = true
		if i < before {
			continue
		}
		if old[m.Key] {
			t.Errorf("%s sent again after the address change", m.Key)
		}
		if m.To == "bo@example.org" {
			t.Errorf("%s went to the old address after the change", m.Key)
		}
		switch {
		case m.Kind == "invite" && m.To == "bo.new@example.org":
			invitesNew++
			if _, ev := calendarOf(t, m.Raw); !strings.Contains(strings.ToLower(attendees(ev)), "bo.new@example.org") {
				t.Errorf("%s: the invitation does not name the new address", m.Key)
			}
		case m.Kind == "update" && m.To == "ada@example.com":
			updatesMentor++
			if _, ev := calendarOf(t, m.Raw); !strings.Contains(strings.ToLower(attendees(ev)), "bo.new@example.org") {
				t.Errorf("%s: the mentor's update does not name the new address", m.Key)
			}
		}
	}
	if invitesNew < 3 || updatesMentor != 3 {
		t.Errorf("%d invites to the new address (want at least 3), %d updates to the mentor (want 3)", invitesNew, updatesMentor)
	}
	// The history stays: what went to the old address is recorded to it.
	var n int
	if err := s.db.R().Get(&n, `SELECT COUNT(*) FROM outbox WHERE recipient = 'bo@example.org' AND state = 'sent'`); err != nil || n == 0 {
		t.Errorf("%d messages recorded as sent to the old address (%v)", n, err)
	}
}

// attendees lists an event's ATTENDEE values.
func attendees(ev *ical.Component) string {
	var out []string
	for _, p := range ev.Props.Values(ical.PropAttendee) {
		out = append(out, p.Value)
	}
	return strings.Join(out, " ")
}
