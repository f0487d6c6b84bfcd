// Package records writes what an admin reads out of mentord, from the store:
//
//  1. `mentord log --mentee EMAIL`: one mentee's progress log, pair by pair and
//     session by session, with only that mentee's own words (LoadMenteeLog);
//     `mentord log --mentor EMAIL` the mentor's own log in the same way
//     (LoadMentorLog, in mentorlog.go).
//  2. `mentord report`: the programme in counts, with no word any mentee
//     or mentor wrote (LoadReport).
//  3. Each is gathered once, then written as text, Markdown, CSV or JSON; text
//     and Markdown are the same document (doc, in doc.go) rendered
//     two ways. The report is in report.go.
package records

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// LocalLayout is how session times are written for people: local wall clock.
const LocalLayout = "2006-01-02T15:04"

// LocalTime writes t as a wall-clock time in the named zone.
func LocalTime(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(LocalLayout)
}

// Formats the records are written in.
var Formats = []string{"text", "markdown", "csv", "json"}

// Session statuses as the records show them: a planned session whose end has
// passed was held.
const (
	sessionHeld     = "held"
	sessionDeclined = "declined"
)

// MenteeLog is one mentee's progress log.
type MenteeLog struct {
	Mentee      LogPerson `json:"mentee"`
	GeneratedAt time.Time `json:"generated_at"`
	Pairs       []LogPair `json:"pairs"`
}

// LogPerson names a person.
type LogPerson struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// LogPair is one pair the person was mentee in, with its agreement.
type LogPair struct {
	ID        int64        `json:"pair_id"`
	Status    string       `json:"status"`
	Mentor    LogPerson    `json:"mentor"`
	Agreement LogAgreement `json:"agreement"`
	Sessions  []LogSession `json:"sessions"`
}

// LogAgreement is what the pair agreed; the days are local dates in its zone.
type LogAgreement struct {
	Objectives        string `json:"objectives"`
	Cadence           string `json:"cadence"`
	SessionMinutes    int    `json:"session_minutes"`
	Location          string `json:"location"`
	Contact           string `json:"contact"`
	ProgressRecording string `json:"progress_recording"`
	ReviewEvery       int    `json:"review_every"`
	Timezone          string `json:"timezone"`
	FirstDay          string `json:"first_day"`
	LastDay           string `json:"last_day"`
}

// LogSession is one session with what the mentee wrote for it.
type LogSession struct {
	ID         int64        `json:"session_id"`
	Number     int          `json:"number"`
	Kind       string       `json:"kind"`
	LocalStart string       `json:"local_start"` // "2027-01-12T14:00" in Timezone
	Timezone   string       `json:"timezone"`
	StartsAt   time.Time    `json:"starts_at"`
	Status     string       `json:"status"` // planned, held, declined (passed, declined by mentor or mentee), cancelled
	MenteeRSVP LogRSVP      `json:"mentee_rsvp"`
	MentorRSVP LogRSVP      `json:"mentor_rsvp"`
	Checklist  []LogAnswer  `json:"checklist"`
	Reflection []LogAnswer  `json:"reflection"`
	Replies    []LogReply   `json:"unnumbered_replies"` // replies that answered no numbered question
	Promises   []LogPromise `json:"promises"`           // made at this session
	CheckIns   []LogReply   `json:"check_ins"`          // what the mentee wrote between sessions, tied to this one (prompt: what it answered, "" a new message)
}

// LogRSVP is a person's current answer to a session's invite and every
// answer received. Comments are kept for the mentee's own answers only.
type LogRSVP struct {
	Current string           `json:"current"`
	History []LogRSVPReceipt `json:"history"`
}

// LogRSVPReceipt is one calendar answer received.
type LogRSVPReceipt struct {
	Partstat   string    `json:"partstat"`
	ReceivedAt time.Time `json:"received_at"`
	Comment    string    `json:"comment,omitempty"`
}

// LogAnswer is an answer in force; Versions counts it and the earlier
// answers to the same question that it replaced.
type LogAnswer struct {
	QuestionNo int       `json:"question_no"`
	Question   string    `json:"question"`
	Answer     string    `json:"answer"`
	ReceivedAt time.Time `json:"received_at"`
	Versions   int       `json:"versions"`
}

// LogReply is the whole new text of a reply that answered no numbered question.
type LogReply struct {
	Prompt     string    `json:"prompt"` // checklist or reflection
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
}

// LogPromise is something the mentee promised at a session.
type LogPromise struct {
	Text       string `json:"text"`
	Status     string `json:"status"`                        // open, done, not_done, dropped
	ReviewedAt *int   `json:"reviewed_at_session,omitempty"` // the number of the session it was reviewed at
}

// LoadMenteeLog gathers the progress log of the person with this address
// from every pair they were mentee in. An unknown address, or a person who
// was never a mentee, is store.ErrNotFound.
func LoadMenteeLog(ctx context.Context, q store.Querier, email string, now time.Time) (MenteeLog, error) {
	email = strings.TrimSpace(email)
	p, err := store.GetPersonByEmail(ctx, q, email)
	if errors.Is(err, store.ErrNotFound) {
		return MenteeLog{}, fmt.Errorf("no one in the programme has the address %s (mentord pair list shows everyone): %w", email, store.ErrNotFound)
	}
	if err != nil {
		return MenteeLog{}, fmt.Errorf("mentee log: %w", err)
	}
	pairs, err := store.MenteePairs(ctx, q, p.ID)
	if err != nil {
		return MenteeLog{}, fmt.Errorf("mentee log: %w", err)
	}
	if len(pairs) == 0 {
		return MenteeLog{}, fmt.Errorf("%s is in the programme, but the mentee of no pair: %w", email, store.ErrNotFound)
	}
	l := MenteeLog{Mentee: LogPerson{Name: p.Name, Email: p.Email}, GeneratedAt: store.UTC(now), Pairs: make([]LogPair, len(pairs))}
	for i, v := range pairs {
		if l.Pairs[i], err = loadLogPair(ctx, q, v, now); err != nil {
			return MenteeLog{}, fmt.Errorf("mentee log: %w", err)
		}
	}
	return l, nil
}

// logRows is everything of one pair that its log is made of.
type logRows struct {
	sessions []store.Session
	attendee []store.Attendee
	rsvps    []store.CalendarReply
	answers  []store.LoggedAnswer
	replies  []store.Reply
	promises []store.Promise
	checkIns []store.CheckIn
}

func loadLogRows(ctx context.Context, q store.Querier, v store.PairView) (logRows, error) {
	var r logRows
	var err error
	if r.sessions, err = store.ListSessions(ctx, q, v.ID); err != nil {
		return r, fmt.Errorf("sessions of pair %d: %w", v.ID, err)
	}
	if r.attendee, err = store.PairAttendees(ctx, q, v.ID); err != nil {
		return r, err
	}
	if r.rsvps, err = store.PairCalendarReplies(ctx, q, v.ID); err != nil {
		return r, err
	}
	if r.answers, err = store.PairAnswers(ctx, q, v.ID, v.Mentee.ID); err != nil {
		return r, err
	}
	if r.replies, err = store.PairUnnumberedReplies(ctx, q, v.ID, v.Mentee.ID); err != nil {
		return r, err
	}
	if r.promises, err = store.PairPromises(ctx, q, v.ID); err != nil {
		return r, err
	}
	r.checkIns, err = store.PairCheckIns(ctx, q, v.ID, v.Mentee.ID)
	return r, err
}

func loadLogPair(ctx context.Context, q store.Querier, v store.PairView, now time.Time) (LogPair, error) {
	rows, err := loadLogRows(ctx, q, v)
	if err != nil {
		return LogPair{}, err
	}
	a := v.Agreement
	lp := LogPair{ID: v.ID, Status: v.Status, Mentor: LogPerson{Name: v.Mentor.Name, Email: v.Mentor.Email},
		Agreement: LogAgreement{Objectives: a.Objectives, Cadence: a.Cadence, SessionMinutes: a.SessionMinutes,
			Location: a.Location, Contact: a.Contact, ProgressRecording: a.ProgressRecording, ReviewEvery: a.ReviewEvery,
			Timezone: a.Timezone, FirstDay: LocalTime(a.StartsAt, a.Timezone)[:10],
			LastDay: LocalTime(a.EndsAt.AddDate(0, 0, -1), a.Timezone)[:10]},
		Sessions: make([]LogSession, len(rows.sessions))}
	byID := map[int64]*LogSession{}
	for i, s := range rows.sessions {
		lp.Sessions[i] = newLogSession(s, now)
		byID[s.ID] = &lp.Sessions[i]
	}
	rows.fill(byID, v.Mentee.ID)
	for i := range lp.Sessions { // a session someone declined (or passed on) was not held, unless the admin moved it
		if s := &lp.Sessions[i]; s.Status == sessionHeld &&
			(schedule.Holds(s.MentorRSVP.Current) || schedule.Holds(s.MenteeRSVP.Current)) {
			s.Status = sessionDeclined
		}
	}
	return lp, nil
}

func newLogSession(s store.Session, now time.Time) LogSession {
	status := s.Status
	if status == store.SessionPlanned && !s.End().After(now) {
		status = sessionHeld
	}
	return LogSession{ID: s.ID, Number: s.Number, Kind: s.Kind, LocalStart: LocalTime(s.StartsAt, s.Timezone),
		Timezone: s.Timezone, StartsAt: s.StartsAt, Status: status,
		MenteeRSVP: LogRSVP{Current: store.PartstatNeedsAction, History: []LogRSVPReceipt{}},
		MentorRSVP: LogRSVP{Current: store.PartstatNeedsAction, History: []LogRSVPReceipt{}},
		Checklist:  []LogAnswer{}, Reflection: []LogAnswer{}, Replies: []LogReply{}, Promises: []LogPromise{}, CheckIns: []LogReply{}}
}

// fill puts each row into its session. Only the mentee's answers and replies
// were loaded; of the mentor's calendar answers only the PARTSTAT is kept.
func (r logRows) fill(byID map[int64]*LogSession, menteeID int64) {
	for _, a := range r.attendee {
		switch s := byID[a.SessionID]; {
		case s == nil:
		case a.Role == store.RoleMentee:
			s.MenteeRSVP.Current = a.Partstat
		default:
			s.MentorRSVP.Current = a.Partstat
		}
	}
	for _, c := range r.rsvps {
		s := byID[c.SessionID]
		switch {
		case s == nil || c.Method != "REPLY":
		case c.PersonID == menteeID:
			s.MenteeRSVP.History = append(s.MenteeRSVP.History, LogRSVPReceipt{Partstat: c.Partstat, ReceivedAt: c.ReceivedAt, Comment: c.Comment})
		default:
			s.MentorRSVP.History = append(s.MentorRSVP.History, LogRSVPReceipt{Partstat: c.Partstat, ReceivedAt: c.ReceivedAt})
		}
	}
	for _, e := range r.answers {
		s := byID[e.SessionID]
		if s == nil {
			continue
		}
		a := LogAnswer{QuestionNo: e.QuestionNo, Question: e.Question, Answer: e.Answer, ReceivedAt: e.ReceivedAt, Versions: e.Earlier + 1}
		if e.PromptKind == store.PurposeReflection {
			s.Reflection = append(s.Reflection, a)
		} else {
			s.Checklist = append(s.Checklist, a)
		}
	}
	for _, rep := range r.replies {
		if s := byID[rep.SessionID]; s != nil {
			s.Replies = append(s.Replies, LogReply{Prompt: rep.PromptKind, Text: rep.NewText, ReceivedAt: rep.ReceivedAt})
		}
	}
	for _, p := range r.promises {
		if s := byID[p.SessionID]; s != nil {
			s.Promises = append(s.Promises, LogPromise{Text: p.Text, Status: p.Status, ReviewedAt: p.ReviewedNumber})
		}
	}
	for _, c := range r.checkIns {
		if c.SessionID == nil {
			continue
		}
		if s := byID[*c.SessionID]; s != nil {
			s.CheckIns = append(s.CheckIns, LogReply{Prompt: c.About, Text: c.Text, ReceivedAt: c.ReceivedAt})
		}
	}
}

// WriteMenteeLog writes the log as text, markdown, csv or json.
func WriteMenteeLog(w io.Writer, l MenteeLog, format string) error {
	switch format {
	case "text":
		return logDoc(l).writeText(w)
	case "markdown":
		return logDoc(l).writeMarkdown(w)
	case "csv":
		return writeLogCSV(w, l)
	case "json":
		return writeJSON(w, l)
	}
	return unknownFormat(format)
}

func unknownFormat(format string) error {
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func writeJSON(w io.Writer, v any) error { return WriteJSON(w, v) }

func logDoc(l MenteeLog) doc {
	var d doc
	d.heading(1, fmt.Sprintf("Progress log of %s <%s>", l.Mentee.Name, l.Mentee.Email))
	d.para(fmt.Sprintf("Confidential: the mentee's own words. Printed %s UTC.", strings.Replace(l.GeneratedAt.UTC().Format(LocalLayout), "T", " ", 1)))
	for _, p := range l.Pairs {
		a := p.Agreement
		d.heading(2, fmt.Sprintf("Pair %d, mentor %s (%s)", p.ID, p.Mentor.Name, p.Status))
		d.field("Objectives", orNone(a.Objectives, "-"))
		d.field("Meetings", fmt.Sprintf("%s, %d minutes, at %s", a.Cadence, a.SessionMinutes, orNone(a.Location, "-")))
		d.field("Contact", orNone(a.Contact, "-"))
		d.field("Progress", orNone(a.ProgressRecording, "-"))
		review := "never"
		if a.ReviewEvery > 0 {
			review = fmt.Sprintf("every %d sessions", a.ReviewEvery)
		}
		d.field("Review", review)
		d.field("Runs", fmt.Sprintf("%s to %s (%s)", a.FirstDay, a.LastDay, a.Timezone))
		for _, s := range p.Sessions {
			sessionDoc(&d, s)
		}
	}
	return d
}

func sessionDoc(d *doc, s LogSession) {
	local := func(t time.Time) string { return strings.Replace(LocalTime(t, s.Timezone), "T", " ", 1) }
	d.heading(3, fmt.Sprintf("Session %d (%s), %s %s, %s", s.Number, s.Kind, strings.Replace(s.LocalStart, "T", " ", 1), s.Timezone, s.Status))
	for _, x := range []struct {
		label string
		r     LogRSVP
	}{{"Mentee RSVP", s.MenteeRSVP}, {"Mentor RSVP", s.MentorRSVP}} {
		v := x.r.Current
		for i, h := range x.r.History {
			sep := map[bool]string{true: "; answered ", false: ", "}[i == 0]
			v += sep + h.Partstat + " " + local(h.ReceivedAt)
			if h.Comment != "" {
				v += fmt.Sprintf(" (%q)", h.Comment)
			}
		}
		d.field(x.label, v)
	}
	for _, part := range []struct {
		title   string
		answers []LogAnswer
	}{{"Planning checklist", s.Checklist}, {"Reflection", s.Reflection}} {
		if len(part.answers) > 0 {
			d.heading(4, part.title)
		}
		for _, a := range part.answers {
			d.answer(fmt.Sprintf("%d. %s", a.QuestionNo, a.Question), a.Answer, corrected(a.Versions-1))
		}
	}
	for _, r := range s.Replies {
		d.heading(4, fmt.Sprintf("Reply to the %s without numbered answers, %s", r.Prompt, local(r.ReceivedAt)))
		d.answer("", r.Text, "")
	}
	for _, c := range s.CheckIns {
		d.heading(4, fmt.Sprintf("Check-in before this session, %s", local(c.ReceivedAt)))
		d.answer("", c.Text, "")
	}
	if len(s.Promises) > 0 {
		d.heading(4, "Promised at this session")
	}
	for _, p := range s.Promises {
		st := strings.ReplaceAll(p.Status, "_", " ")
		if p.ReviewedAt != nil {
			st += fmt.Sprintf(", reviewed at session %d", *p.ReviewedAt)
		}
		d.item(fmt.Sprintf("%s (%s)", p.Text, st))
	}
}

func corrected(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "corrected once"
	case 2:
		return "corrected twice"
	}
	return fmt.Sprintf("corrected %d times", n)
}

func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}

// writeLogCSV writes one row per answer and per unnumbered reply (RFC 4180).
func writeLogCSV(w io.Writer, l MenteeLog) error {
	cw := newCSV(w)
	cw.Write([]string{"pair_id", "session_number", "session_kind", "session_local_start", "timezone", "prompt",
		"question_no", "question", "answer", "received_at", "versions"})
	for _, p := range l.Pairs {
		for _, s := range p.Sessions {
			row := func(prompt, no, question, answer string, at time.Time, versions int) {
				cw.Write([]string{strconv.FormatInt(p.ID, 10), strconv.Itoa(s.Number), s.Kind, s.LocalStart, s.Timezone,
					prompt, no, question, answer, at.UTC().Format(time.RFC3339), strconv.Itoa(versions)})
			}
			for _, a := range s.Checklist {
				row(store.PurposeChecklist, strconv.Itoa(a.QuestionNo), a.Question, a.Answer, a.ReceivedAt, a.Versions)
			}
			for _, a := range s.Reflection {
				row(store.PurposeReflection, strconv.Itoa(a.QuestionNo), a.Question, a.Answer, a.ReceivedAt, a.Versions)
			}
			for _, r := range s.Replies {
				row("reply", "", "", r.Text, r.ReceivedAt, 1)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
