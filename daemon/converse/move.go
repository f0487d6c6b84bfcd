package converse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/intent"
	"github.com/mentord/mentord/templates"
)

// Moving a session on a participant's proposal, written or from a calendar
// (iTIP COUNTER, RFC 5546 section 3.2.7):
//  1. The proposed time is questioned, never applied, when it cannot be read
//     for sure, or falls in the past, on a weekend, in quiet hours (either
//     person's) or on the day of another of the pair's sessions: the
//     proposer is asked for another.
//  2. With programme.rescheduling: admin the proposal goes to the admin.
//     Otherwise the other person is asked ("Reply yes to accept, or suggest
//     another time"), until timings.move_wait.
//  3. Their yes moves the session (SEQUENCE raised: the schedule sends both
//     an update); their no, or no answer in time, tells the proposer (with a
//     DECLINECOUNTER for a calendar's proposal) and the admin. Another time
//     in their answer is a proposal of its own, asked of the first person.

// checkTime says why a proposed time cannot be taken as it stands ("" when
// it can): codes the talk templates put in words.
func (c *Conversation) checkTime(ctx context.Context, pair store.PairView, s store.Session, start, end time.Time) (string, error) {
	zone := personZone(store.Person{Timezone: s.Timezone})
	switch {
	case !start.After(c.Now):
		return "past", nil
	case start.In(zone).Weekday() == time.Saturday || start.In(zone).Weekday() == time.Sunday:
		return "weekend", nil
	}
	q := compose.Timings(c.Cfg).Quiet
	for _, p := range []store.Person{pair.Mentor, pair.Mentee} {
		loc := personZone(p)
		if !q.Next(start, loc).Equal(start) || !q.Next(end.Add(-time.Minute), loc).Equal(end.Add(-time.Minute)) {
			return "quiet", nil
		}
	}
	ss, err := store.ListSessions(ctx, c.Tx, pair.ID)
	if err != nil {
		return "", err
	}
	for _, o := range ss {
		if o.ID == s.ID || o.Status != store.SessionPlanned {
			continue
		}
		a, b := o.StartsAt.In(zone), start.In(zone)
		if a.Year() == b.Year() && a.YearDay() == b.YearDay() || start.Before(o.End()) && o.StartsAt.Before(end) {
			return "clash", nil
		}
	}
	return "", nil
}

// moveFromText reads a written proposal. ok is false when it names no time
// (then it is read as a check-in or kept), unless it declines the session.
func (t *talk) moveFromText(ctx context.Context) (Result, bool, error) {
	if t.session == nil {
		return t.refuse(store.RequestMove, "no-session"), true, nil
	}
	s := *t.session
	loc := personZone(t.m.Person)
	w, found := intent.FindWhen(t.text, t.c.Now, loc, s.StartsAt, t.read.Danish || t.m.Person.Language == "da")
	if !found {
		if t.read.Declines && t.m.Prompt != nil && t.m.Prompt.Purpose == store.PurposeInvite {
			r, err := t.writtenDecline(ctx)
			return r, true, err
		}
		return Result{}, false, nil
	}
	if w.Unclear != "" {
		return t.question(w.Phrase, "unclear: "+w.Unclear), true, nil
	}
	start := w.Start
	end := start.Add(time.Duration(s.DurationMin) * time.Minute)
	reason, err := t.c.checkTime(ctx, t.pair, s, start, end)
	if err != nil {
		return Result{}, false, err
	}
	if reason != "" {
		return t.question(w.Phrase, reason), true, nil
	}
	if !t.m.Verified {
		return t.ask(store.RequestMove, &start, "move-confirm", fmt.Sprintf("session %d", s.ID)), true, nil
	}
	return t.propose(s, start, end, nil), true, nil
}

// question asks the proposer again: the time could not be taken.
func (t *talk) question(phrase, reason string) Result {
	code := reason
	if len(code) > 7 && code[:8] == "unclear:" {
		code = "unclear"
	}
	return t.result(store.OutcomeLogged, "move questioned: "+reason, func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		if err := store.InsertRequest(ctx, t.c.Tx, &store.Request{InboundID: &inboundID, PairID: t.pair.ID, PersonID: &pid,
			Kind: store.RequestMove, Status: store.RequestRefused, Detail: reason, CreatedAt: t.c.Now}); err != nil {
			return err
		}
		return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "move-question", Reason: code, Text: phrase}, nil)
	})
}

// confirmedMove goes on with a written proposal its sender confirmed.
func (t *talk) confirmedMove(ctx context.Context, r store.Request) (Result, error) {
	if r.Until == nil || t.session == nil {
		return t.refuse(store.RequestMove, "no-session"), nil
	}
	s := *t.session
	var sid int64
	if _, err := fmt.Sscanf(r.Detail, "session %d", &sid); err == nil && sid != s.ID {
		got, err := store.GetSession(ctx, t.c.Tx, sid)
		if err != nil {
			return Result{}, err
		}
		s = got
	}
	start := *r.Until
	end := start.Add(time.Duration(s.DurationMin) * time.Minute)
	res := t.propose(s, start, end, &r)
	return res, nil
}

// propose records a proposal from the sender and asks the other person (or
// passes it to the admin).
func (t *talk) propose(s store.Session, start, end time.Time, confirmed *store.Request) Result {
	t.session = &s
	return t.result(store.OutcomeLogged, fmt.Sprintf("session %d: %s proposes %s", s.ID, t.role(), start.UTC().Format(time.RFC3339)),
		func(ctx context.Context, inboundID int64) error {
			if confirmed != nil {
				if err := store.SettleRequest(ctx, t.c.Tx, confirmed.ID, store.RequestDone, "confirmed by a reply", t.c.Now); err != nil {
					return err
				}
			}
			prop := &store.Proposal{InboundID: inboundID, SessionID: s.ID, PersonID: t.m.Person.ID, ProposedStart: start, ProposedEnd: end,
				Comment: "", ReceivedAt: t.c.Now}
			if err := store.InsertProposal(ctx, t.c.Tx, prop); err != nil {
				return err
			}
			return t.c.askMove(ctx, inboundID, t.pair, s, t.m.Person, prop, "email", t.text, t.m.Relayable && t.m.Verified, t.m.Header.MessageID)
		})
}

// askMove asks the other person of the pair about a proposal (or passes it
// to the admin, with rescheduling: admin), and tells the proposer.
func (c *Conversation) askMove(ctx context.Context, inboundID int64, pair store.PairView, s store.Session, proposer store.Person,
	prop *store.Proposal, source, words string, relayable bool, inReplyTo string) error {
	other := pair.Mentee
	if proposer.ID == pair.Mentee.ID {
		other = pair.Mentor
	}
	m := &store.Move{ProposalID: prop.ID, Source: source, Sequence: s.Sequence}
	answerBy := c.Now.Add(c.Cfg.Timings.MoveWait.D())
	if c.Cfg.PairReschedules() {
		m.AskedPersonID, m.AskedAt, m.AnswerBy = &other.ID, &c.Now, &answerBy
	}
	if err := store.InsertMove(ctx, c.Tx, m); err != nil {
		return err
	}
	key := func(what string, to int64) string {
		return fmt.Sprintf("talk:%s:%d:%d:%d", what, inboundID, prop.ID, to)
	}
	reason := ""
	if !c.Cfg.PairReschedules() {
		reason = "admin"
		zone := personZone(pair.Mentee)
		if err := c.tellAdmin(ctx, fmt.Sprintf("move:%d:%d", inboundID, prop.ID),
			fmt.Sprintf("%s proposes to move session %d of pair %d", proposer.Name, s.Number, pair.ID),
			fmt.Sprintf("%s proposes to move the session of %s to %s.", proposer.Name, s.StartsAt.In(zone).Format("Mon 2 Jan 2006 15:04"),
				prop.ProposedStart.In(zone).Format("Mon 2 Jan 2006 15:04 MST")),
			fmt.Sprintf("Move it with `mentord session move %d --to %s`.", s.ID, prop.ProposedStart.In(personZone(store.Person{Timezone: s.Timezone})).Format("2006-01-02T15:04"))); err != nil {
			return err
		}
	} else {
		text := ""
		if relayable {
			text = words
		}
		if err := c.sendTalk(ctx, compose.Talk{To: other, Pair: pair, SessionID: s.ID, Key: key("move-ask", other.ID), Proposed: prop,
			Talk: templates.Talk{What: "move-ask", Who: templates.Person{Name: proposer.Name}, Text: text}}); err != nil {
			return err
		}
	}
	return c.sendTalk(ctx, compose.Talk{To: proposer, Pair: pair, SessionID: s.ID, Key: key("move-proposed", proposer.ID), Proposed: prop,
		InReplyTo: inReplyTo, Talk: templates.Talk{What: "move-proposed", Reason: reason}})
}

// answerMove reads the answer to a proposal asked of the sender.
func (t *talk) answerMove(ctx context.Context, mv store.OpenMove) (Result, bool, error) {
	s, err := store.GetSession(ctx, t.c.Tx, mv.SessionID)
	if err != nil {
		return Result{}, false, err
	}
	t.session = &s
	loc := personZone(t.m.Person)
	w, found := intent.FindWhen(t.text, t.c.Now, loc, s.StartsAt, t.read.Danish || t.m.Person.Language == "da")
	if found && !w.Start.Equal(mv.ProposedStart) && t.read.Answer != intent.Yes {
		// Another time: the first proposal is declined, the new one asked.
		if w.Unclear != "" {
			return t.question(w.Phrase, "unclear: "+w.Unclear), true, nil
		}
		end := w.Start.Add(time.Duration(s.DurationMin) * time.Minute)
		if reason, err := t.c.checkTime(ctx, t.pair, s, w.Start, end); err != nil || reason != "" {
			return t.question(w.Phrase, reason), true, err
		}
		res := t.propose(s, w.Start, end, nil)
		inner := res.After
		res.After = func(ctx context.Context, inboundID int64) error {
			if err := t.c.declineMove(ctx, mv, "no", inboundID); err != nil {
				return err
			}
			return inner(ctx, inboundID)
		}
		return res, true, nil
	}
	switch t.read.Answer {
	case intent.Yes:
		return t.result(store.OutcomeLogged, fmt.Sprintf("session %d: proposal %d accepted", s.ID, mv.ID), func(ctx context.Context, inboundID int64) error {
			return t.c.acceptMove(ctx, mv, s)
		}), true, nil
	case intent.No:
		return t.result(store.OutcomeLogged, fmt.Sprintf("session %d: proposal %d declined", s.ID, mv.ID), func(ctx context.Context, inboundID int64) error {
			return t.c.declineMove(ctx, mv, "no", inboundID)
		}), true, nil
	}
	return Result{}, false, nil
}

// ErrMoved: the session changed since it was proposed; the proposal is void.
var ErrMoved = errors.New("the session changed since the proposal")

// acceptMove moves the session to the proposed time: its SEQUENCE goes up,
// and the schedule sends both attendees an update (METHOD:REQUEST).
func (c *Conversation) acceptMove(ctx context.Context, mv store.OpenMove, s store.Session) error {
	if s.Status != store.SessionPlanned || s.Sequence != mv.Move.Sequence {
		return c.declineMove(ctx, mv, "clash", 0)
	}
	if err := store.MoveSession(ctx, c.Tx, s.ID, mv.ProposedStart, c.Now); err != nil {
		return err
	}
	if err := store.SettleProposals(ctx, c.Tx, s.ID, &mv.ProposedStart); err != nil {
		return err
	}
	return store.SettleMove(ctx, c.Tx, mv.ID, "accepted", "yes", c.Now)
}

// declineMove tells the proposer their proposal was not taken (with a
// DECLINECOUNTER when it came from their calendar) and the admin.
// inboundID is the answer's (0: the wait ran out).
func (c *Conversation) declineMove(ctx context.Context, mv store.OpenMove, reason string, inboundID int64) error {
	if err := store.SettleMove(ctx, c.Tx, mv.ID, "declined", reason, c.Now); err != nil {
		return err
	}
	pair, err := store.GetPair(ctx, c.Tx, mv.PairID)
	if err != nil {
		return err
	}
	s, err := store.GetSession(ctx, c.Tx, mv.SessionID)
	if err != nil {
		return err
	}
	proposer, err := store.GetPerson(ctx, c.Tx, mv.PersonID)
	if err != nil {
		return err
	}
	ct := compose.Talk{To: proposer, Pair: pair, SessionID: s.ID, Key: fmt.Sprintf("talk:move-declined:%d:%d", mv.ID, proposer.ID),
		Proposed: &mv.Proposal, Talk: templates.Talk{What: "move-declined", Reason: reason}}
	if mv.Source == "counter" && s.Status == store.SessionPlanned {
		ics, err := calendar.DeclineCounter(calendar.Event{UID: s.UID, Sequence: mv.Move.Sequence, Stamp: c.Now,
			Organizer: calendar.Person{Name: c.Cfg.Mailbox.DisplayName, Email: c.Cfg.Mailbox.Address},
			Attendees: []calendar.Attendee{{Person: calendar.Person{Name: proposer.Name, Email: proposer.Email}}}}, "")
		if err != nil {
			return err
		}
		ct.Calendar = &mail.Calendar{Method: calendar.MethodDeclineCounter, Data: ics}
	}
	if err := c.sendTalk(ctx, ct); err != nil {
		return err
	}
	zone := personZone(pair.Mentee)
	return c.tellAdmin(ctx, fmt.Sprintf("move-declined:%d", mv.ID), fmt.Sprintf("a proposed new time for session %d of pair %d was not taken", s.Number, pair.ID),
		fmt.Sprintf("%s proposed to move the session of %s to %s; it was not taken (%s).", proposer.Name,
			s.StartsAt.In(zone).Format("Mon 2 Jan 2006 15:04"), mv.ProposedStart.In(zone).Format("Mon 2 Jan 2006 15:04 MST"), reason),
		fmt.Sprintf("The session stays; move it with `mentord session move %d --to ...` if they agree otherwise.", s.ID))
}

// ProposeCounter is a calendar's proposal (COUNTER, already stored as
// prop by daemon/ingest) entering the conversation: checked, then asked of
// the other person (or passed to the admin).
func (c *Conversation) ProposeCounter(ctx context.Context, inboundID int64, s store.Session, proposer store.Person, prop *store.Proposal,
	comment string, relayable bool) error {
	pair, err := store.GetPair(ctx, c.Tx, s.PairID)
	if err != nil {
		return err
	}
	if reason, err := c.checkTime(ctx, pair, s, prop.ProposedStart, prop.ProposedEnd); err != nil {
		return err
	} else if reason != "" {
		if err := store.InsertMove(ctx, c.Tx, &store.Move{ProposalID: prop.ID, Source: "counter", Sequence: s.Sequence}); err != nil {
			return err
		}
		mv := store.OpenMove{Proposal: *prop, Move: store.Move{ProposalID: prop.ID, Source: "counter", Sequence: s.Sequence}, PairID: pair.ID}
		return c.declineMove(ctx, mv, reason, inboundID)
	}
	return c.askMove(ctx, inboundID, pair, s, proposer, prop, "counter", comment, relayable, "")
}
