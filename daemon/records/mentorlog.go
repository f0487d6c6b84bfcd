package records

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// The mentor's own log: `mentord log --mentor EMAIL`. It holds only what the
// mentor wrote: their reflections (at the final session with their
// evaluation of the programme), replies that answered no numbered question,
// and their notes (replies to the brief and other messages mentord kept in
// their log). Nothing of it goes to the mentee, into the report or into status.

// MentorLog is one mentor's own log.
type MentorLog struct {
	Mentor      LogPerson       `json:"mentor"`
	GeneratedAt time.Time       `json:"generated_at"`
	Pairs       []MentorLogPair `json:"pairs"`
}

// MentorLogPair is one pair the person was mentor of.
type MentorLogPair struct {
	ID       int64              `json:"pair_id"`
	Status   string             `json:"status"`
	Mentee   LogPerson          `json:"mentee"`
	Sessions []MentorLogSession `json:"sessions"`
	Notes    []LogReply         `json:"notes"` // notes tied to no session
}

// MentorLogSession is one session with what the mentor wrote for it.
type MentorLogSession struct {
	ID         int64       `json:"session_id"`
	Number     int         `json:"number"`
	Kind       string      `json:"kind"`
	LocalStart string      `json:"local_start"`
	Timezone   string      `json:"timezone"`
	Status     string      `json:"status"`
	Reflection []LogAnswer `json:"reflection"` // at the final session, with the evaluation of the programme
	Replies    []LogReply  `json:"unnumbered_replies"`
	Notes      []LogReply  `json:"notes"` // replies to the brief and other notes before this session
}

// LoadMentorLog gathers the own log of the person with this address from
// every pair they are mentor of. An unknown address, or a person who is
// mentor of no pair, is store.ErrNotFound.
func LoadMentorLog(ctx context.Context, q store.Querier, email string, now time.Time) (MentorLog, error) {
	email = strings.TrimSpace(email)
	p, err := store.GetPersonByEmail(ctx, q, email)
	if errors.Is(err, store.ErrNotFound) {
		return MentorLog{}, fmt.Errorf("no one in the programme has the address %s (mentord pair list shows everyone): %w", email, store.ErrNotFound)
	}
	if err != nil {
		return MentorLog{}, fmt.Errorf("mentor log: %w", err)
	}
	pairs, err := store.MentorPairs(ctx, q, p.ID)
	if err != nil {
		return MentorLog{}, fmt.Errorf("mentor log: %w", err)
	}
	if len(pairs) == 0 {
		return MentorLog{}, fmt.Errorf("%s is in the programme, but the mentor of no pair: %w", email, store.ErrNotFound)
	}
	l := MentorLog{Mentor: LogPerson{Name: p.Name, Email: p.Email}, GeneratedAt: store.UTC(now), Pairs: make([]MentorLogPair, len(pairs))}
	for i, v := range pairs {
		if l.Pairs[i], err = loadMentorLogPair(ctx, q, v, now); err != nil {
			return MentorLog{}, fmt.Errorf("mentor log: %w", err)
		}
	}
	return l, nil
}

func loadMentorLogPair(ctx context.Context, q store.Querier, v store.PairView, now time.Time) (MentorLogPair, error) {
	sessions, err := store.ListSessions(ctx, q, v.ID)
	if err != nil {
		return MentorLogPair{}, fmt.Errorf("sessions of pair %d: %w", v.ID, err)
	}
	answers, err := store.PairAnswers(ctx, q, v.ID, v.Mentor.ID)
	if err != nil {
		return MentorLogPair{}, err
	}
	replies, err := store.PairUnnumberedReplies(ctx, q, v.ID, v.Mentor.ID)
	if err != nil {
		return MentorLogPair{}, err
	}
	notes, err := store.PairCheckIns(ctx, q, v.ID, v.Mentor.ID)
	if err != nil {
		return MentorLogPair{}, err
	}
	lp := MentorLogPair{ID: v.ID, Status: v.Status, Mentee: LogPerson{Name: v.Mentee.Name, Email: v.Mentee.Email},
		Sessions: make([]MentorLogSession, len(sessions)), Notes: []LogReply{}}
	byID := map[int64]*MentorLogSession{}
	for i, s := range sessions {
		ls := newLogSession(s, now)
		lp.Sessions[i] = MentorLogSession{ID: s.ID, Number: s.Number, Kind: s.Kind, LocalStart: ls.LocalStart,
			Timezone: s.Timezone, Status: ls.Status, Reflection: []LogAnswer{}, Replies: []LogReply{}, Notes: []LogReply{}}
		byID[s.ID] = &lp.Sessions[i]
	}
	for _, e := range answers {
		if s := byID[e.SessionID]; s != nil {
			s.Reflection = append(s.Reflection, LogAnswer{QuestionNo: e.QuestionNo, Question: e.Question, Answer: e.Answer,
				ReceivedAt: e.ReceivedAt, Versions: e.Earlier + 1})
		}
	}
	for _, r := range replies {
		if s := byID[r.SessionID]; s != nil {
			s.Replies = append(s.Replies, LogReply{Prompt: r.PromptKind, Text: r.NewText, ReceivedAt: r.ReceivedAt})
		}
	}
	for _, c := range notes {
		n := LogReply{Prompt: c.About, Text: c.Text, ReceivedAt: c.ReceivedAt}
		if c.SessionID != nil && byID[*c.SessionID] != nil {
			s := byID[*c.SessionID]
			s.Notes = append(s.Notes, n)
		} else {
			lp.Notes = append(lp.Notes, n)
		}
	}
	return lp, nil
}

// WriteMentorLog writes the log as text, markdown, csv or json.
func WriteMentorLog(w io.Writer, l MentorLog, format string) error {
	switch format {
	case "text":
		return mentorLogDoc(l).writeText(w)
	case "markdown":
		return mentorLogDoc(l).writeMarkdown(w)
	case "csv":
		return writeMentorLogCSV(w, l)
	case "json":
		return writeJSON(w, l)
	}
	return unknownFormat(format)
}

func mentorLogDoc(l MentorLog) doc {
	var d doc
	d.heading(1, fmt.Sprintf("Mentor's log of %s <%s>", l.Mentor.Name, l.Mentor.Email))
	d.para(fmt.Sprintf("Confidential: the mentor's own words. Printed %s UTC.", strings.Replace(l.GeneratedAt.UTC().Format(LocalLayout), "T", " ", 1)))
	for _, p := range l.Pairs {
		d.heading(2, fmt.Sprintf("Pair %d, mentee %s (%s)", p.ID, p.Mentee.Name, p.Status))
		notes := func(ns []LogReply, tz, where string) {
			for _, n := range ns {
				d.heading(4, fmt.Sprintf("Note%s, %s", where, strings.Replace(LocalTime(n.ReceivedAt, tz), "T", " ", 1)))
				d.answer("", n.Text, "")
			}
		}
		tz := "UTC"
		for _, s := range p.Sessions {
			tz = s.Timezone
			d.heading(3, fmt.Sprintf("Session %d (%s), %s %s, %s", s.Number, s.Kind, strings.Replace(s.LocalStart, "T", " ", 1), s.Timezone, s.Status))
			if len(s.Reflection) > 0 {
				title := "Reflection"
				if s.Kind == "final" {
					title = "Reflection and evaluation of the programme"
				}
				d.heading(4, title)
			}
			for _, a := range s.Reflection {
				d.answer(fmt.Sprintf("%d. %s", a.QuestionNo, a.Question), a.Answer, corrected(a.Versions-1))
			}
			for _, r := range s.Replies {
				d.heading(4, fmt.Sprintf("Reply to the %s without numbered answers, %s", r.Prompt,
					strings.Replace(LocalTime(r.ReceivedAt, s.Timezone), "T", " ", 1)))
				d.answer("", r.Text, "")
			}
			notes(s.Notes, s.Timezone, " before this session")
		}
		if len(p.Notes) > 0 {
			d.heading(3, "Notes tied to no session")
			notes(p.Notes, tz, "")
		}
	}
	return d
}

// writeMentorLogCSV writes one row per answer, reply and note (RFC 4180).
func writeMentorLogCSV(w io.Writer, l MentorLog) error {
	cw := newCSV(w)
	cw.Write([]string{"pair_id", "session_number", "session_kind", "session_local_start", "timezone", "prompt",
		"question_no", "question", "answer", "received_at", "versions"})
	for _, p := range l.Pairs {
		row := func(s *MentorLogSession, prompt, no, question, answer string, at time.Time, versions int) {
			n, kind, start, tz := "", "", "", ""
			if s != nil {
				n, kind, start, tz = strconv.Itoa(s.Number), s.Kind, s.LocalStart, s.Timezone
			}
			cw.Write([]string{strconv.FormatInt(p.ID, 10), n, kind, start, tz,
				prompt, no, question, answer, at.UTC().Format(time.RFC3339), strconv.Itoa(versions)})
		}
		for i := range p.Sessions {
			s := &p.Sessions[i]
			for _, a := range s.Reflection {
				row(s, store.PurposeReflection, strconv.Itoa(a.QuestionNo), a.Question, a.Answer, a.ReceivedAt, a.Versions)
			}
			for _, r := range s.Replies {
				row(s, "reply", "", "", r.Text, r.ReceivedAt, 1)
			}
			for _, r := range s.Notes {
				row(s, "note", "", "", r.Text, r.ReceivedAt, 1)
			}
		}
		for _, r := range p.Notes {
			row(nil, "note", "", "", r.Text, r.ReceivedAt, 1)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
