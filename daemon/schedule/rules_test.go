package schedule

import (
	"sort"
	"strings"
	"testing"
	"time"
)

var testTimings = Timings{
	InviteAhead: 90 * 24 * time.Hour, ChecklistLead: 72 * time.Hour, ChecklistTime: 9 * 60,
	ReflectionDelay: 2 * time.Hour, NudgeAfter: 48 * time.Hour, ReflectionWindow: 7 * 24 * time.Hour,
	Quiet: Quiet{Set: true, Start: 21 * 60, End: 8 * 60}, MentorBrief: true,
}

func session(t *testing.T, start string, zone string) Session {
	t.Helper()
	loc := mustLoc(t, zone)
	st, err := ParseLocal(start, loc)
	if err != nil {
		t.Fatal(err)
	}
	return Session{ID: 7, Start: st, End: st.Add(time.Hour), PairActive: true,
		Mentor: Person{ID: 1, Loc: loc, Partstat: "NEEDS-ACTION"}, Mentee: Person{ID: 2, Loc: loc, Partstat: "NEEDS-ACTION"},
		Sent: map[int64]Sent{}}
}

func kinds(acts []Action) string {
	var ks []string
	for _, a := range acts {
		k := string(a.Kind)
		if a.NudgeOf != "" {
			k += "/" + string(a.NudgeOf)
		}
		ks = append(ks, k+"@"+map[int64]string{1: "mentor", 2: "mentee", 3: "old"}[a.PersonID])
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

func at(t *testing.T, s string, zone string) time.Time {
	t.Helper()
	v, err := ParseLocal(s, mustLoc(t, zone))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInvitesWithinHorizon(t *testing.T) {
	s := session(t, "2027-06-15T14:00", "Europe/Copenhagen")
	if got := kinds(Due(s, testTimings, at(t, "2027-03-01T10:00", "UTC"))); got != "" {
		t.Errorf("over 90 days ahead: %s", got)
	}
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "invite@mentee invite@mentor" {
		t.Errorf("within 90 days: %s", got)
	}
	s.Sent = map[int64]Sent{1: {0, "REQUEST"}, 2: {0, "REQUEST"}}
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "" {
		t.Errorf("already invited: %s", got)
	}
	s.Sequence = 1 // moved
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "update@mentee update@mentor" {
		t.Errorf("after a move: %s", got)
	}
	s.Cancelled, s.Sequence = true, 2
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "cancel@mentee cancel@mentor" {
		t.Errorf("after a cancel: %s", got)
	}
	s.Sent = map[int64]Sent{1: {2, "CANCEL"}, 2: {2, "CANCEL"}}
	if got := kinds(Due(s, testTimings, at(t, "2027-06-15T10:00", "UTC"))); got != "" {
		t.Errorf("cancelled session after its cancellations: %s", got)
	}
}

func TestCancelOnlyToThoseInvited(t *testing.T) {
	s := session(t, "2027-12-15T14:00", "Europe/Copenhagen")
	s.Cancelled, s.Sequence = true, 1
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "" {
		t.Errorf("cancelling a session never invited sends: %s", got)
	}
}

func TestMentorReplaced(t *testing.T) {
	s := session(t, "2027-04-15T14:00", "Europe/Copenhagen")
	s.Sequence = 1
	s.Sent = map[int64]Sent{3: {0, "REQUEST"}, 2: {0, "REQUEST"}} // 3 was the mentor; 1 is the new one
	s.Removed = []int64{3}
	if got := kinds(Due(s, testTimings, at(t, "2027-03-18T10:00", "UTC"))); got != "cancel@old invite@mentor update@mentee" {
		t.Errorf("mentor replaced: %s", got)
	}
}

// The checklist goes three days before at 09:00 in the mentee's zone: the right
// local day and hour across the EU change to summer time (28 March 2027).
func TestChecklistLocalTimeAcrossDST(t *testing.T) {
	s := session(t, "2027-03-30T14:00", "Europe/Copenhagen")
	want := at(t, "2027-03-27T09:00", "Europe/Copenhagen") // before the change: 08:00Z
	if got := ChecklistAt(s, testTimings); !got.Equal(want) || got.UTC().Hour() != 8 {
		t.Errorf("ChecklistAt = %v, want %v", got, want)
	}
	s = session(t, "2027-03-31T14:00", "Europe/Copenhagen")
	if got := ChecklistAt(s, testTimings); got.UTC().Hour() != 7 || got.In(s.Mentee.Loc).Hour() != 9 {
		t.Errorf("ChecklistAt after the change = %v (%v UTC), want 09:00 local", got, got.UTC())
	}
	// US: summer time starts 14 March 2027; a New York mentee of a Copenhagen session.
	s = session(t, "2027-03-16T15:00", "Europe/Copenhagen")
	s.Mentee.Loc = mustLoc(t, "America/New_York")
	got := ChecklistAt(s, testTimings).In(s.Mentee.Loc)
	if got.Format("2006-01-02 15:04") != "2027-03-13 09:00" {
		t.Errorf("New York checklist at %v, want 2027-03-13 09:00 local", got)
	}
}

func TestPromptsInOrder(t *testing.T) {
	s := session(t, "2027-05-11T14:00", "Europe/Copenhagen")
	s.Sent = map[int64]Sent{1: {0, "REQUEST"}, 2: {0, "REQUEST"}}
	cph := "Europe/Copenhagen"
	steps := []struct {
		now  string
		want string
	}{
		{"2027-05-08T08:59", ""},
		{"2027-05-08T09:00", "checklist@mentee"},
		{"2027-05-10T08:59", "checklist@mentee"},
		{"2027-05-10T09:00", "brief@mentor checklist@mentee"},
		{"2027-05-11T14:00", ""},                  // started: no more checklist
		{"2027-05-11T16:59", ""},                  // ended 15:00, reflection at 17:00
		{"2027-05-11T17:00", "reflection@mentee"}, // two hours after
		{"2027-05-18T15:00", ""},                  // the reflection window has closed
	}
	for _, st := range steps {
		if got := kinds(Due(s, testTimings, at(t, st.now, cph))); got != st.want {
			t.Errorf("at %s: %q, want %q", st.now, got, st.want)
		}
	}
}

func TestNudges(t *testing.T) {
	cph := "Europe/Copenhagen"
	s := session(t, "2027-05-11T14:00", cph)
	s.Sent = map[int64]Sent{1: {0, "REQUEST"}, 2: {0, "REQUEST"}}
	s.Brief = Prompt{Exists: true, Messages: 1}
	sent := at(t, "2027-05-08T09:00", cph)
	s.Checklist = Prompt{Exists: true, FirstSentAt: &sent, Messages: 1}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T08:59", cph))); got != "" {
		t.Errorf("before nudge_after: %s", got)
	}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T09:00", cph))); got != "nudge/checklist@mentee" {
		t.Errorf("after nudge_after: %s", got)
	}
	s.Checklist.Messages = 2
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T12:00", cph))); got != "" {
		t.Errorf("second nudge: %s", got)
	}
	s.Checklist.Messages, s.Checklist.Replied = 1, true
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T12:00", cph))); got != "" {
		t.Errorf("nudge after a reply: %s", got)
	}
	// A checklist sent late, within nudge_after of the start: no nudge once the session starts.
	late := at(t, "2027-05-10T20:00", cph)
	s.Checklist = Prompt{Exists: true, FirstSentAt: &late, Messages: 1}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-13T08:00", cph))); got != "reflection@mentee" {
		t.Errorf("checklist nudge after the start: %s", got)
	}
	// Reflection nudges stop when the window closes; a nudge in quiet hours waits until 08:00.
	s.Checklist = Prompt{Exists: true, FirstSentAt: &sent, Messages: 2}
	rsent := at(t, "2027-05-11T22:30", cph)
	s.Reflection = Prompt{Exists: true, FirstSentAt: &rsent, Messages: 1}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-13T23:00", cph))); got != "" {
		t.Errorf("reflection nudge in quiet hours: %s", got)
	}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-14T08:00", cph))); got != "nudge/reflection@mentee" {
		t.Errorf("reflection nudge at 08:00: %s", got)
	}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-18T16:00", cph))); got != "" {
		t.Errorf("reflection nudge after the window: %s", got)
	}
}

func TestNothingForCancelledOrDeclined(t *testing.T) {
	cph := "Europe/Copenhagen"
	s := session(t, "2027-05-11T14:00", cph)
	s.Cancelled = true
	sent := at(t, "2027-05-08T09:00", cph)
	s.Checklist = Prompt{Exists: true, FirstSentAt: &sent, Messages: 1}
	for _, now := range []string{"2027-05-08T09:00", "2027-05-10T09:00", "2027-05-11T17:00"} {
		if got := kinds(Due(s, testTimings, at(t, now, cph))); got != "" {
			t.Errorf("cancelled session at %s: %s", now, got)
		}
	}
	s = session(t, "2027-05-11T14:00", cph)
	s.Sent = map[int64]Sent{1: {0, "REQUEST"}, 2: {0, "REQUEST"}}
	s.Mentor.Partstat = "DECLINED"
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T09:00", cph))); got != "" {
		t.Errorf("mentor declined: %s", got)
	}
	s.Mentor.Partstat, s.Mentee.Partstat = "ACCEPTED", "DELEGATED" // passed on to someone else: held as a decline
	if got := kinds(Due(s, testTimings, at(t, "2027-05-10T09:00", cph))); got != "" || s.HeldBy() != "mentee" {
		t.Errorf("mentee delegated: %s, held by %q", got, s.HeldBy())
	}
	if at, ok := Next(s, testTimings, at(t, "2027-05-01T09:00", cph)); ok && at.Before(s.Start) {
		t.Errorf("mentee delegated: a prompt is due next at %s", at)
	}
	s.Mentee.Partstat = "NEEDS-ACTION"
	noBriefs := testTimings
	noBriefs.MentorBrief = false
	if got := kinds(Due(s, noBriefs, at(t, "2027-05-10T09:00", cph))); got != "checklist@mentee" {
		t.Errorf("the programme sends no briefs: %s", got)
	}
}

func TestQuiet(t *testing.T) {
	q := Quiet{Set: true, Start: 21 * 60, End: 8 * 60}
	cph := mustLoc(t, "Europe/Copenhagen")
	for in, want := range map[string]string{
		"2027-05-11T20:59": "2027-05-11T20:59", "2027-05-11T21:00": "2027-05-12T08:00",
		"2027-05-11T23:30": "2027-05-12T08:00", "2027-05-12T03:00": "2027-05-12T08:00", "2027-05-12T08:00": "2027-05-12T08:00",
	} {
		if got := q.Next(at(t, in, "Europe/Copenhagen"), cph).In(cph).Format("2006-01-02T15:04"); got != want {
			t.Errorf("Next(%s) = %s, want %s", in, got, want)
		}
	}
	day := Quiet{Set: true, Start: 12 * 60, End: 13 * 60}
	if got := day.Next(at(t, "2027-05-11T12:30", "Europe/Copenhagen"), cph).In(cph).Format("15:04"); got != "13:00" {
		t.Errorf("lunch window: %s", got)
	}
}

func TestKeysAreStable(t *testing.T) {
	a := Action{Kind: ActUpdate, SessionID: 3, PersonID: 9, Sequence: 2}
	if a.Key() != "update:3:9:2" {
		t.Errorf("Key = %s", a.Key())
	}
	n := Action{Kind: ActNudge, NudgeOf: ActChecklist, SessionID: 3, PersonID: 9}
	if n.Key() != "nudge:checklist:3:9" {
		t.Errorf("Key = %s", n.Key())
	}
}

// The year in review goes to the mentee of the final session, once, a day
// before its checklist; never for other sessions, never twice.
func TestDigestBeforeTheFinal(t *testing.T) {
	cph := "Europe/Copenhagen"
	s := session(t, "2027-05-11T14:00", cph)
	s.Sent = map[int64]Sent{1: {0, "REQUEST"}, 2: {0, "REQUEST"}}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-07T09:00", cph))); got != "" {
		t.Errorf("a regular session: %q", got)
	}
	s.Final = true
	for _, st := range []struct{ now, want string }{
		{"2027-05-07T08:59", ""},
		{"2027-05-07T09:00", "digest@mentee"},
		{"2027-05-08T09:00", "checklist@mentee digest@mentee"},
		{"2027-05-11T14:00", ""}, // the session has started
	} {
		if got := kinds(Due(s, testTimings, at(t, st.now, cph))); got != st.want {
			t.Errorf("final session at %s: %q, want %q", st.now, got, st.want)
		}
	}
	if next, ok := Next(s, testTimings, at(t, "2027-05-01T12:00", cph)); !ok || !next.Equal(at(t, "2027-05-07T09:00", cph)) {
		t.Errorf("next = %v, %v; want the digest", next, ok)
	}
	s.Digest = Prompt{Exists: true}
	if got := kinds(Due(s, testTimings, at(t, "2027-05-07T09:00", cph))); got != "" {
		t.Errorf("a digest already sent: %q", got)
	}
}
