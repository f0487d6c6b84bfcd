package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// calendar applies iTIP REPLY and COUNTER objects (RFC 5546 section 3.2.3
// and 3.2.7): each UID and occurrence once, only from the attendee who sends
// it (a From of exactly one mailbox, the attendee's own address, whose invite
// went there; see trust.go), only if newer than what was applied. A decline,
// or the invitation passed on to someone else (DELEGATED), by either of the
// pair tells the other one and the admin, and holds the session's prompts (the
// schedule sees the answer); a counter-proposal is stored and passed to the
// other one and the admin, never applied. The calendar's note goes with them
// only when relayable.
func (a *apply) calendar(ctx context.Context) error {
	if doubt := a.senderDoubt(); doubt != "" {
		a.set(store.OutcomeQuarantined, doubt)
		return nil
	}
	// A token or thread of ours in the message must name a message sent to
	// the sender, as for a written reply.
	switch p, err := a.findPrompt(ctx); {
	case err == nil && !sameAddress(p.Email, a.res.Header.From):
		a.set(store.OutcomeQuarantined, fmt.Sprintf("sender_mismatch: the calendar answer names a message sent to someone else (matched by %s)", p.Matched))
		return nil
	case err != nil && !errors.Is(err, errNoPrompt):
		return err
	}
	seen := map[string]bool{}
	var applied, ignored []string
	for _, part := range a.res.Calendar {
		replies, err := calendar.ParseReplies(part.Data, part.Method)
		if err != nil {
			ignored = append(ignored, "unreadable calendar part: "+err.Error())
			continue
		}
		for _, rep := range replies {
			key := rep.UID + "|" + recurrenceKey(rep.RecurrenceID)
			if seen[key] {
				continue // the same object twice (text/calendar and application/ics)
			}
			seen[key] = true
			what, ok, err := a.calendarReply(ctx, rep)
			if err != nil {
				return err
			}
			if ok {
				applied = append(applied, what)
			} else {
				ignored = append(ignored, what)
			}
		}
	}
	switch {
	case len(applied) > 0:
		a.set(store.OutcomeLogged, strings.Join(append(applied, ignored...), "; "))
	case slices.ContainsFunc(ignored, trustFailure):
		a.set(store.OutcomeQuarantined, strings.Join(ignored, "; "))
	case slices.ContainsFunc(ignored, func(r string) bool { return strings.HasPrefix(r, "late:") }):
		a.set(store.OutcomeLate, strings.Join(ignored, "; "))
	case slices.ContainsFunc(ignored, func(r string) bool { return strings.HasPrefix(r, unknownUID) }):
		// Not about any session of the programme: mentord cannot tell what
		// it answers, so a person reads it, as any other mail it does not
		// know (RFC 5546 leaves an unknown UID to the organizer's judgement).
		a.set(store.OutcomeUnrelated, strings.Join(append(ignored, "left for a person"), "; "))
	default:
		a.set(store.OutcomeIgnored, strings.Join(append(ignored, "no calendar answer to apply"), "; "))
	}
	return nil
}

// unknownUID opens the reason for a calendar answer about no session of ours.
const unknownUID = "unknown UID "

// maxClockSkew is how far ahead of mentord's clock a sender's DTSTAMP may be
// (a client's clock set wrong, a zone written as UTC) and still count.
const maxClockSkew = 24 * time.Hour

func recurrenceKey(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// calendarReply applies one reply; it says what it did, and whether it applied it.
func (a *apply) calendarReply(ctx context.Context, rep calendar.Reply) (string, bool, error) {
	s, err := store.SessionByUID(ctx, a.tx, rep.UID)
	if errors.Is(err, store.ErrNotFound) {
		return unknownUID + rep.UID, false, nil
	}
	if err != nil {
		return "", false, err
	}
	if rep.RecurrenceID != nil && !rep.RecurrenceID.Equal(s.StartsAt) {
		return fmt.Sprintf("session %d: RECURRENCE-ID %s is not its start", s.ID, recurrenceKey(rep.RecurrenceID)), false, nil
	}
	attendees, err := store.SessionAttendees(ctx, a.tx, s.ID)
	if err != nil {
		return "", false, err
	}
	var who *store.AttendeeReply
	for i := range attendees {
		if sameAddress(attendees[i].Email, rep.Attendee) {
			who = &attendees[i]
		}
	}
	switch {
	case who == nil: // the address at debug level only, as every address
		a.r.Log.Debug("calendar answer for someone not invited", "session", s.ID, "attendee", rep.Attendee)
		return fmt.Sprintf("session %d: the ATTENDEE is not invited to it", s.ID), false, nil
	case !sameAddress(rep.Attendee, a.res.Header.From):
		return fmt.Sprintf("sender_mismatch: session %d: the reply for one attendee comes from another address", s.ID), false, nil
	}
	// The attendee's invite went to this address: without one, the UID came
	// from someone else's.
	if _, err := store.GetCalendarSent(ctx, a.tx, s.ID, who.PersonID); errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("sender_mismatch: session %d: no invitation was sent to this attendee", s.ID), false, nil
	} else if err != nil {
		return "", false, err
	}
	if late, err := a.lateForSession(ctx, s); err != nil || late != "" {
		return late, false, err
	}
	switch {
	case rep.Partstat == "":
		return fmt.Sprintf("session %d: no PARTSTAT", s.ID), false, nil
	case rep.Sequence < s.Sequence:
		return fmt.Sprintf("session %d: stale: SEQUENCE %d answers an older version (now %d)", s.ID, rep.Sequence, s.Sequence), false, nil
	// An answer to a version mentord never sent, or stamped in the future,
	// is no answer (forged or broken); kept as the last one applied, it would
	// make every genuine answer after it look older (ITIP.md section 5.7).
	case rep.Sequence > s.Sequence:
		return fmt.Sprintf("session %d: invalid: SEQUENCE %d is above the session's (%d), a version never sent", s.ID, rep.Sequence, s.Sequence), false, nil
	case rep.Stamp.After(a.r.Now().Add(maxClockSkew)):
		return fmt.Sprintf("session %d: invalid: DTSTAMP %s is in the future", s.ID, rep.Stamp.UTC().Format(time.RFC3339)), false, nil
	case who.ReplySequence != nil && (rep.Sequence < *who.ReplySequence ||
		rep.Sequence == *who.ReplySequence && who.ReplyStamp != nil && !rep.Stamp.After(*who.ReplyStamp)):
		return fmt.Sprintf("session %d: stale: an answer as new or newer was applied already", s.ID), false, nil
	}
	a.in.SessionID, a.in.PersonID = &s.ID, &who.PersonID
	if rep.Method == "COUNTER" {
		return a.counter(ctx, s, who, attendees, rep)
	}
	now := a.r.Now()
	if err := store.SetPartstat(ctx, a.tx, s.ID, who.PersonID, rep.Partstat, rep.Sequence, rep.Stamp, now); err != nil {
		return "", false, err
	}
	a.later(func(ctx context.Context, inboundID int64) error {
		stamp := rep.Stamp
		if err := store.InsertCalendarReply(ctx, a.tx, store.CalendarReply{InboundID: inboundID, SessionID: s.ID, PersonID: who.PersonID,
			Method: rep.Method, Partstat: rep.Partstat, Sequence: rep.Sequence, Stamp: &stamp, Comment: rep.Comment, ReceivedAt: now}); err != nil {
			return err
		}
		if schedule.Holds(rep.Partstat) && !schedule.Holds(who.Partstat) {
			return a.declined(ctx, inboundID, s, who, attendees, rep)
		}
		return nil
	})
	return fmt.Sprintf("session %d: %s %s", s.ID, who.Role, rep.Partstat), true, nil
}

// counter stores a proposed new time and passes it to the other one of the
// pair and the admin.
func (a *apply) counter(ctx context.Context, s store.Session, who *store.AttendeeReply, attendees []store.AttendeeReply, rep calendar.Reply) (string, bool, error) {
	if rep.Proposed == nil || rep.Sequence != s.Sequence {
		return fmt.Sprintf("session %d: COUNTER without a proposal for the current version", s.ID), false, nil
	}
	now := a.r.Now()
	a.later(func(ctx context.Context, inboundID int64) error {
		prop := &store.Proposal{InboundID: inboundID, SessionID: s.ID, PersonID: who.PersonID, ProposedStart: rep.Proposed.Start,
			ProposedEnd: rep.Proposed.End, Location: rep.Proposed.Location, Comment: rep.Comment, ReceivedAt: now}
		if err := store.InsertProposal(ctx, a.tx, prop); err != nil {
			return err
		}
		if a.r.Cfg.PairReschedules() {
			return a.counterTalk(ctx, inboundID, s, who.PersonID, prop, a.relayed(rep.Comment))
		}
		proposed := func(d *templates.Data) {
			p := d.Session
			loc := p.Start.Location()
			p.Start, p.End = prop.ProposedStart.In(loc), prop.ProposedEnd.In(loc)
			if prop.Location != "" && a.relayable() { // the proposer's own words too
				p.Location = prop.Location
			}
			d.Proposed, d.Comment, d.Proposer = &p, a.relayed(rep.Comment), roleOf(d, who.Role)
			if zone, err := time.LoadLocation(s.Timezone); err == nil { // as session move takes it
				d.Ref.Move = prop.ProposedStart.In(zone).Format("2006-01-02T15:04")
			}
		}
		if other := otherAttendee(attendees, who); other != nil {
			if err := a.tell(ctx, inboundID, s, other.PersonID, compose.ActCounter, proposed); err != nil {
				return err
			}
		}
		c := compose.New(a.r.Cfg, a.r.Tpl, a.r.DB, now)
		c.InTx(a.tx)
		out, err := c.ComposeAdmin(ctx, templates.Counter, fmt.Sprintf("counter:%d:admin", inboundID), s.ID, proposed)
		if err != nil || out == nil {
			return err
		}
		_, err = compose.Record(ctx, a.tx, out, now)
		return err
	})
	return fmt.Sprintf("session %d: %s proposes %s", s.ID, who.Role, rep.Proposed.Start.UTC().Format(time.RFC3339)), true, nil
}

// declined tells the other one of the pair and the admin that who declined
// the session or passed it on (DELEGATED), and what now waits.
func (a *apply) declined(ctx context.Context, inboundID int64, s store.Session, who *store.AttendeeReply, attendees []store.AttendeeReply, rep calendar.Reply) error {
	d := compose.Decline{InboundID: inboundID, Session: s, Who: *who, Attendees: attendees,
		Delegated: rep.Partstat == calendar.PartstatDelegated, Comment: a.relayed(rep.Comment)}
	if err := compose.New(a.r.Cfg, a.r.Tpl, a.r.DB, a.r.Now()).TellOtherOfDecline(ctx, a.tx, d); err != nil {
		return err
	}
	c := compose.New(a.r.Cfg, a.r.Tpl, a.r.DB, a.r.Now())
	c.InTx(a.tx)
	out, err := c.ComposeAdmin(ctx, templates.Declined, fmt.Sprintf("declined:%d:admin", inboundID), s.ID,
		func(td *templates.Data) { compose.NoteDecline(td, d) })
	if err != nil || out == nil {
		return err
	}
	_, err = compose.Record(ctx, a.tx, out, a.r.Now())
	return err
}

// roleOf is the mentor or the mentee of a message's data.
func roleOf(d *templates.Data, role string) templates.Person {
	if role == store.RoleMentor {
		return d.Mentor
	}
	return d.Mentee
}

// otherAttendee is the one of the pair who is not who.
func otherAttendee(attendees []store.AttendeeReply, who *store.AttendeeReply) *store.AttendeeReply {
	for i := range attendees {
		if attendees[i].PersonID != who.PersonID {
			return &attendees[i]
		}
	}
	return nil
}

// tell sends a participant of a session a message about it.
func (a *apply) tell(ctx context.Context, inboundID int64, s store.Session, personID int64, kind schedule.ActionKind, edit func(*templates.Data)) error {
	c := compose.New(a.r.Cfg, a.r.Tpl, a.r.DB, a.r.Now())
	c.InTx(a.tx)
	out, err := c.ComposeNotice(ctx, schedule.Action{Kind: kind, SessionID: s.ID, PersonID: personID, Due: a.r.Now()}, inboundID, edit, nil)
	if err != nil {
		return fmt.Errorf("tell person %d (%s): %w", personID, kind, err)
	}
	_, err = compose.Record(ctx, a.tx, out, a.r.Now())
	return err
}

// bounce scores the failed address; past the limit, sending to it stops and
// the admin is told. A report counts only when it matches what mentord sent
// (bounce.go) and at most once for each message sent.
func (a *apply) bounce(ctx context.Context) error {
	b := a.res.Bounce
	if b == nil || len(b.Recipients) == 0 {
		a.set(store.OutcomeIgnored, "bounce without a failed recipient")
		return nil
	}
	if forged, err := a.fromParticipant(ctx); err != nil || forged {
		if forged {
			a.set(store.OutcomeQuarantined, "forged_bounce: a delivery report from a participant's own address (reports come from mail servers)")
		}
		return err
	}
	sent, status, how, err := a.matchBounce(ctx)
	if err != nil {
		return err
	}
	switch {
	case how == "":
		a.set(store.OutcomeIgnored, "bounce of a message mentord did not send")
		return nil
	case status == "":
		a.set(store.OutcomeIgnored, "delivery report without a failure (delayed or relayed)")
		return nil
	}
	if counted, err := store.BounceCounted(ctx, a.tx, sent.ID); err != nil || counted {
		a.set(store.OutcomeIgnored, fmt.Sprintf("a bounce of outbox %d was counted already", sent.ID))
		return err
	}
	a.set(store.OutcomeLogged, fmt.Sprintf("bounce %s for outbox %d (matched by %s)", status, sent.ID, how))
	a.later(func(ctx context.Context, inboundID int64) error {
		return a.scoreBounce(ctx, inboundID, sent, status)
	})
	return nil
}

func (a *apply) scoreBounce(ctx context.Context, inboundID int64, sent store.SentMessage, status string) error {
	now := a.r.Now()
	person, err := store.GetPersonByEmail(ctx, a.tx, sent.Recipient)
	var pid *int64
	if err == nil {
		pid = &person.ID
	}
	score, err := store.RecordBounce(ctx, a.tx, store.Bounce{InboundID: inboundID, PersonID: pid, Address: sent.Recipient,
		Status: status, Permanent: strings.HasPrefix(status, "5"), OutboxID: &sent.ID, ReceivedAt: now}, bounceWindow)
	if err != nil || score < bounceLimit || pid == nil {
		return err
	}
	suspended, err := store.Suspend(ctx, a.tx, *pid, now)
	if err != nil || !suspended {
		return err
	}
	a.r.Log.Warn("sending to an address stopped after repeated bounces", "person", *pid, "score", score)
	c := compose.New(a.r.Cfg, a.r.Tpl, a.r.DB, now)
	c.InTx(a.tx)
	out, err := c.ComposeAdmin(ctx, templates.Notice, fmt.Sprintf("suspended:%d:%d", *pid, inboundID), 0, func(d *templates.Data) {
		d.Notice = &templates.AdminNotice{
			Title: "mail to " + sent.Recipient + " keeps bouncing",
			Lines: []string{
				fmt.Sprintf("Messages to %s <%s> bounced %.1f times within 30 days (the last with status %s).", person.Name, sent.Recipient, score, status),
				"mentord has stopped sending to this address. Check it with the person, then correct the address.",
			},
		}
	})
	if err != nil || out == nil {
		return err
	}
	_, err = compose.Record(ctx, a.tx, out, now)
	return err
}
