package schedule

import (
	"fmt"
	"time"
)

// What the rules decide, per session and person. Every session is its own
// calendar event (one UID, one SEQUENCE): see package calendar for why.
//
//   - Invite: a planned session entering the invite horizon, to each attendee
//     never sent it.
//   - Update: to an attendee whose last REQUEST carries an older SEQUENCE.
//   - Cancel: to everyone sent a REQUEST, when the session is cancelled (or
//     the pair ended), and to an attendee taken off it (a replaced mentor).
//   - Checklist: to the mentee, checklist_lead before the session at
//     checklist_time in the mentee's zone, out of quiet hours.
//   - Reflection: to the mentee, reflection_delay after the session ends.
//   - Nudge: one reminder of a checklist or reflection with no reply after
//     nudge_after; none once the session has started (checklist) or after
//     reflection_window (reflection).
//   - Brief: to the mentor the day before, at checklist_time in the
//     mentor's zone, when the programme sends briefs; it holds the mentee's
//     plan only when the mentee chose to share it.
//   - Mentor reflection: to the mentor, when the programme asks for it
//     (programme.mentor_reflection), reflection_delay after the session
//     ends, out of quiet hours in the mentor's zone.
//   - Match check: to each of the pair, reflection_delay after the
//     chemistry meeting ends (and after a later session for someone whose
//     answer was "not sure yet"), out of quiet hours in their zone.
//   - Agreement: the draft, to each of the pair at the same time as the
//     match check after the chemistry meeting.
//
// Nothing but calendar messages goes while the pair is paused.
//
// Prompts are held while the mentor or the mentee has declined the session,
// or passed it on to someone else (DELEGATED: the sessions are for the two of
// them, so it counts as a decline).

// ActionKind is what an action sends.
type ActionKind string

// The action kinds.
const (
	ActInvite     ActionKind = "invite"
	ActUpdate     ActionKind = "update"
	ActCancel     ActionKind = "cancel"
	ActChecklist  ActionKind = "checklist"
	ActReflection ActionKind = "reflection"
	ActNudge      ActionKind = "nudge"
	ActBrief      ActionKind = "brief"
	ActDigest     ActionKind = "digest"
	ActMatch      ActionKind = "match"
	ActAgreement  ActionKind = "agreement"
)

// Action is one message that is due.
type Action struct {
	Kind      ActionKind
	SessionID int64
	PersonID  int64
	Sequence  int        // calendar actions: the SEQUENCE sent
	NudgeOf   ActionKind // nudges: ActChecklist or ActReflection
	Due       time.Time
}

// Key is the action's idempotency key: the same action is enqueued once.
// Calendar actions include the SEQUENCE, so each change is sent once.
func (a Action) Key() string {
	switch a.Kind {
	case ActInvite, ActUpdate, ActCancel:
		return fmt.Sprintf("%s:%d:%d:%d", a.Kind, a.SessionID, a.PersonID, a.Sequence)
	case ActNudge:
		return fmt.Sprintf("nudge:%s:%d:%d", a.NudgeOf, a.SessionID, a.PersonID)
	default:
		return fmt.Sprintf("%s:%d:%d", a.Kind, a.SessionID, a.PersonID)
	}
}

// Timings are the configured rhythm, in durations and minutes after midnight.
type Timings struct {
	InviteAhead      time.Duration
	ChecklistLead    time.Duration
	ChecklistTime    int // minutes after local midnight
	ReflectionDelay  time.Duration
	NudgeAfter       time.Duration
	ReflectionWindow time.Duration
	Quiet            Quiet
	MentorBrief      bool // the programme sends mentor briefs at all
	MentorReflection bool // the programme asks mentors to reflect after each session
}

// Person is an attendee of a session as the rules see them.
type Person struct {
	ID       int64
	Loc      *time.Location
	Partstat string // NEEDS-ACTION, ACCEPTED, TENTATIVE, DECLINED, DELEGATED
}

// Sent is the calendar message last sent to a person about the session.
type Sent struct {
	Sequence int
	Method   string // REQUEST or CANCEL
}

// Prompt is the state of one prompt (checklist, reflection, brief).
type Prompt struct {
	Exists      bool
	FirstSentAt *time.Time // when its first message was accepted by the server
	Replied     bool
	Messages    int // messages enqueued for it: 1, or 2 after a nudge
}

// Session is one session with everything the rules need.
type Session struct {
	ID         int64
	Start, End time.Time
	Cancelled  bool
	Final      bool // the last session, which evaluates the programme
	Chemistry  bool // the first meeting: the match check and the agreement follow it
	Paused     bool // the pair is paused: no prompts at all
	PairActive bool
	Sequence   int
	Mentor     Person
	Mentee     Person
	Removed    []int64 // people sent a REQUEST who are no longer attendees
	Sent       map[int64]Sent
	Checklist  Prompt
	Reflection Prompt
	Brief      Prompt
	Digest     Prompt // the year in review, before the final session
	// MentorReflection is the mentor's own reflection (when asked for).
	MentorReflection Prompt
	// AskMatch are the people to ask "Are we the right match?" after this
	// session (both after the chemistry meeting; one who answered "not sure
	// yet" after the next); Match and Agreement are their prompts, by person.
	AskMatch  []int64
	Match     map[int64]Prompt
	Agreement map[int64]Prompt
}

// after is when a question after the session goes to someone in loc:
// reflection_delay after it ends, out of quiet hours.
func after(s Session, t Timings, loc *time.Location) time.Time {
	return t.Quiet.Next(s.End.Add(t.ReflectionDelay), loc)
}

// loc is a person's zone among the pair.
func (s Session) loc(id int64) *time.Location {
	if id == s.Mentor.ID {
		return s.Mentor.Loc
	}
	return s.Mentee.Loc
}

// Holds reports whether an answer holds a session's prompts: a decline, or
// the invitation passed on to someone else.
func Holds(partstat string) bool { return partstat == "DECLINED" || partstat == "DELEGATED" }

// HeldBy says whose answer holds the session's prompts ("mentor", "mentee",
// "mentor and mentee"), empty when nothing holds them.
func (s Session) HeldBy() string {
	switch m, e := Holds(s.Mentor.Partstat), Holds(s.Mentee.Partstat); {
	case m && e:
		return "mentor and mentee"
	case m:
		return "mentor"
	case e:
		return "mentee"
	}
	return ""
}

// Due returns the actions due for s at now.
func Due(s Session, t Timings, now time.Time) []Action {
	acts := calendarActions(s, t, now)
	return append(acts, promptActions(s, t, now)...)
}

func calendarActions(s Session, t Timings, now time.Time) []Action {
	var acts []Action
	cancel := func(id int64) {
		if sent, ok := s.Sent[id]; ok && sent.Method == "REQUEST" {
			acts = append(acts, Action{Kind: ActCancel, SessionID: s.ID, PersonID: id, Sequence: s.Sequence, Due: now})
		}
	}
	if s.Cancelled || !s.PairActive {
		cancel(s.Mentor.ID)
		cancel(s.Mentee.ID)
	} else if s.End.After(now) {
		for _, p := range []Person{s.Mentor, s.Mentee} {
			sent, ok := s.Sent[p.ID]
			switch {
			case !ok || sent.Method == "CANCEL" && sent.Sequence < s.Sequence:
				if !s.Start.Add(-t.InviteAhead).After(now) {
					acts = append(acts, Action{Kind: ActInvite, SessionID: s.ID, PersonID: p.ID, Sequence: s.Sequence, Due: now})
				}
			case sent.Method == "REQUEST" && sent.Sequence < s.Sequence:
				acts = append(acts, Action{Kind: ActUpdate, SessionID: s.ID, PersonID: p.ID, Sequence: s.Sequence, Due: now})
			}
		}
	}
	for _, id := range s.Removed {
		cancel(id)
	}
	return acts
}

func promptActions(s Session, t Timings, now time.Time) []Action {
	if s.Cancelled || !s.PairActive || s.Paused || s.HeldBy() != "" {
		return nil
	}
	var acts []Action
	add := func(kind ActionKind, person int64, due time.Time) {
		acts = append(acts, Action{Kind: kind, SessionID: s.ID, PersonID: person, Due: due})
	}
	if at := ChecklistAt(s, t); !s.Checklist.Exists && !now.Before(at) && now.Before(s.Start) {
		add(ActChecklist, s.Mentee.ID, at)
	}
	if at, ok := nudgeAt(s.Checklist, s.Mentee.Loc, t); ok && !now.Before(at) && now.Before(s.Start) {
		acts = append(acts, Action{Kind: ActNudge, NudgeOf: ActChecklist, SessionID: s.ID, PersonID: s.Mentee.ID, Due: at})
	}
	closes := s.End.Add(t.ReflectionWindow)
	if at := ReflectionAt(s, t); !s.Reflection.Exists && !now.Before(at) && now.Before(closes) {
		add(ActReflection, s.Mentee.ID, at)
	}
	if at, ok := nudgeAt(s.Reflection, s.Mentee.Loc, t); ok && !now.Before(at) && now.Before(closes) {
		acts = append(acts, Action{Kind: ActNudge, NudgeOf: ActReflection, SessionID: s.ID, PersonID: s.Mentee.ID, Due: at})
	}
	if at := BriefAt(s, t); t.MentorBrief && !s.Brief.Exists && !now.Before(at) && now.Before(s.Start) {
		add(ActBrief, s.Mentor.ID, at)
	}
	if at := DigestAt(s, t); s.Final && !s.Digest.Exists && !now.Before(at) && now.Before(s.Start) {
		add(ActDigest, s.Mentee.ID, at)
	}
	if at := after(s, t, s.Mentor.Loc); t.MentorReflection && !s.MentorReflection.Exists && !now.Before(at) && now.Before(closes) {
		add(ActReflection, s.Mentor.ID, at)
	}
	for _, id := range s.AskMatch {
		if at := after(s, t, s.loc(id)); !s.Match[id].Exists && !now.Before(at) && now.Before(closes) {
			add(ActMatch, id, at)
		}
	}
	if s.Chemistry {
		for _, id := range []int64{s.Mentor.ID, s.Mentee.ID} {
			if at := after(s, t, s.loc(id)); !s.Agreement[id].Exists && !now.Before(at) && now.Before(closes) {
				add(ActAgreement, id, at)
			}
		}
	}
	return acts
}

// nudgeAt is when a prompt with no reply gets its one reminder.
func nudgeAt(p Prompt, loc *time.Location, t Timings) (time.Time, bool) {
	if !p.Exists || p.FirstSentAt == nil || p.Replied || p.Messages > 1 {
		return time.Time{}, false
	}
	return t.Quiet.Next(p.FirstSentAt.Add(t.NudgeAfter), loc), true
}

// ChecklistAt is when the planning checklist goes out: on the local day
// checklist_lead before the session, at checklist_time in the mentee's zone,
// moved out of quiet hours; never later than checklist_lead before the start
// when that clock time would fall after the session.
func ChecklistAt(s Session, t Timings) time.Time {
	lead := s.Start.Add(-t.ChecklistLead).In(s.Mentee.Loc)
	at := atClock(lead, t.ChecklistTime)
	if !at.Before(s.Start) {
		at = lead
	}
	if q := t.Quiet.Next(at, s.Mentee.Loc); q.Before(s.Start) {
		at = q
	}
	return at
}

// ReflectionAt is when the reflection questions go out: reflection_delay after
// the session ends, moved out of quiet hours in the mentee's zone.
func ReflectionAt(s Session, t Timings) time.Time {
	return t.Quiet.Next(s.End.Add(t.ReflectionDelay), s.Mentee.Loc)
}

// DigestAt is when the year in review goes to the mentee before the final
// session: a day before its planning checklist, out of quiet hours, so the
// mentee can look back before planning the evaluation.
func DigestAt(s Session, t Timings) time.Time {
	return t.Quiet.Next(ChecklistAt(s, t).Add(-24*time.Hour), s.Mentee.Loc)
}

// BriefAt is when the mentor's brief goes out: the day before the session, at
// checklist_time in the mentor's zone, out of quiet hours.
func BriefAt(s Session, t Timings) time.Time {
	day := s.Start.In(s.Mentor.Loc).AddDate(0, 0, -1)
	at := t.Quiet.Next(atClock(day, t.ChecklistTime), s.Mentor.Loc)
	if !at.Before(s.Start) {
		at = s.Start.Add(-time.Hour)
	}
	return at
}

// atClock returns the same local day as t at minutes after midnight.
func atClock(t time.Time, minutes int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, t.Location())
}

// Quiet is a daily window, in each recipient's zone, in which nothing is sent.
// Start after End wraps over midnight (21:00 to 08:00).
type Quiet struct {
	Set        bool
	Start, End int // minutes after midnight
}

// Next returns t, or the end of the quiet window t falls into.
func (q Quiet) Next(t time.Time, loc *time.Location) time.Time {
	if !q.Set || q.Start == q.End {
		return t
	}
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	in := q.Start < q.End && m >= q.Start && m < q.End ||
		q.Start > q.End && (m >= q.Start || m < q.End)
	if !in {
		return t
	}
	end := atClock(local, q.End)
	if q.Start > q.End && m >= q.Start {
		end = atClock(local.AddDate(0, 0, 1), q.End) // evening: the window ends tomorrow morning
	}
	return end
}

// Next returns the earliest time after now at which a rule may fire for s, if
// any is still to come; the schedule loop sleeps until then (or a tick).
func Next(s Session, t Timings, now time.Time) (time.Time, bool) {
	var next time.Time
	consider := func(at time.Time) {
		if at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if !s.Cancelled && s.PairActive {
		if !s.Paused && s.HeldBy() == "" {
			if t.MentorReflection && !s.MentorReflection.Exists {
				consider(after(s, t, s.Mentor.Loc))
			}
			for _, id := range s.AskMatch {
				if !s.Match[id].Exists {
					consider(after(s, t, s.loc(id)))
				}
			}
			if s.Chemistry {
				for _, id := range []int64{s.Mentor.ID, s.Mentee.ID} {
					if !s.Agreement[id].Exists {
						consider(after(s, t, s.loc(id)))
					}
				}
			}
		}
		for _, p := range []Person{s.Mentor, s.Mentee} {
			if _, sent := s.Sent[p.ID]; !sent {
				consider(s.Start.Add(-t.InviteAhead))
			}
		}
		if s.HeldBy() == "" && !s.Paused {
			if !s.Checklist.Exists {
				if at := ChecklistAt(s, t); at.Before(s.Start) {
					consider(at)
				}
			}
			if !s.Reflection.Exists {
				consider(ReflectionAt(s, t))
			}
			if t.MentorBrief && !s.Brief.Exists {
				consider(BriefAt(s, t))
			}
			if s.Final && !s.Digest.Exists {
				consider(DigestAt(s, t))
			}
			for _, p := range []Prompt{s.Checklist, s.Reflection} {
				if at, ok := nudgeAt(p, s.Mentee.Loc, t); ok {
					consider(at)
				}
			}
		}
	}
	return next, !next.IsZero()
}
