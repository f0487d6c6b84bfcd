package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/templates"
)

// Talk is one message of the conversation (daemon/converse) to a
// participant: an answer to what they wrote, a question to the other person
// of the pair, a confirmation.
type Talk struct {
	To        store.Person
	Pair      store.PairView
	SessionID int64  // the session it is about; 0: none (then replies go to the pair's next or last session's prompt)
	Key       string // the idempotency key; the Message-ID is derived from it
	Talk      templates.Talk
	Proposed  *store.Proposal // a proposed new time, shown in the recipient's zone
	InReplyTo string          // the Message-ID of the message it answers, for threading
	Attach    []mail.Attachment
	CheckIns  []templates.CheckIn
	Calendar  *mail.Calendar // a DECLINECOUNTER to the proposer of a calendar COUNTER
	// Purpose binds replies to a prompt of the recipient's on SessionID
	// with this purpose (the agreement's versions), instead of the invite's.
	Purpose   string
	Agreement *templates.Agreement // the items it shows instead of the pair's (a version of the agreement)
}

// ComposeTalk renders a conversation message. Replies to it carry a token
// bound to the recipient's invite prompt for its session, so they come back
// as written replies from that person (never as answers to a checklist).
func (c *Composer) ComposeTalk(ctx context.Context, t Talk) (*Outgoing, error) {
	p := t.Pair
	if err := checkPerson(t.To); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(t.To.Timezone)
	if err != nil {
		return nil, fmt.Errorf("time zone of person %d: %w", t.To.ID, err)
	}
	_, sessions, err := c.Pair(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var s *store.Session
	for i := range sessions {
		if sessions[i].ID == t.SessionID {
			s = &sessions[i]
		}
	}
	tokenSession := s
	if tokenSession == nil { // the next planned session, else the last one
		for i := range sessions {
			if sessions[i].Status == store.SessionPlanned && sessions[i].StartsAt.After(c.now) {
				tokenSession = &sessions[i]
				break
			}
		}
		if tokenSession == nil && len(sessions) > 0 {
			tokenSession = &sessions[len(sessions)-1]
		}
	}
	var d templates.Data
	if s != nil {
		if d, err = c.data(p, sessions, *s, t.To); err != nil {
			return nil, err
		}
	} else {
		a := p.Agreement
		d = templates.Data{Lang: t.To.Language, Programme: c.cfg.Programme.Name, Organisation: c.cfg.Programme.Organisation,
			Mailbox: c.cfg.Mailbox.Address, Recipient: templates.Person{Name: t.To.Name, Email: t.To.Email},
			Mentor: templates.Person{Name: p.Mentor.Name, Email: p.Mentor.Email}, Mentee: templates.Person{Name: p.Mentee.Name, Email: p.Mentee.Email},
			Agreement: templates.Agreement{Objectives: a.Objectives, Cadence: a.Cadence, Location: a.Location, Contact: a.Contact,
				Progress: a.ProgressRecording, ReviewEvery: a.ReviewEvery, Minutes: a.SessionMinutes},
			MentorSeesPlan: c.cfg.BriefsEnabled() && p.SharePlans,
		}
		d.Session.Kind = templates.SessionRegular
	}
	talk := t.Talk
	// A pause's end is a day in the pair's zone: the same day for both.
	pairLoc, err := time.LoadLocation(p.Agreement.Timezone)
	if err != nil {
		pairLoc = loc
	}
	talk.Until = talk.Until.In(pairLoc)
	for i := range talk.Sessions {
		talk.Sessions[i].Start, talk.Sessions[i].End = talk.Sessions[i].Start.In(loc), talk.Sessions[i].End.In(loc)
		talk.Sessions[i].Zone = loc.String()
	}
	d.Talk, d.CheckIns = &talk, t.CheckIns
	if t.Agreement != nil {
		d.Agreement = *t.Agreement
	}
	if pr := t.Proposed; pr != nil {
		ps := d.Session
		ps.Start, ps.End, ps.Zone = pr.ProposedStart.In(loc), pr.ProposedEnd.In(loc), loc.String()
		d.Proposed = &ps
	}
	r, err := c.tpl.Render(templates.TalkKind, d)
	if err != nil {
		return nil, fmt.Errorf("render talk %s: %w", t.Talk.What, err)
	}
	out := &Outgoing{}
	if tokenSession != nil {
		purpose := store.PurposeInvite
		if t.Purpose != "" && s != nil {
			purpose = t.Purpose
		}
		out.prompt = &store.Prompt{SessionID: tokenSession.ID, PersonID: t.To.ID, Purpose: purpose, Language: t.To.Language,
			Questions: "[]", CreatedAt: c.now}
	}
	box := c.cfg.Mailbox
	domain := mail.Domain(box.Address)
	token := mail.NewToken()
	if c.Preview {
		token = "previewpreviewpreviewprevi"
	}
	msg := &mail.Message{
		From:    mail.Address{Name: box.DisplayName, Email: box.Address},
		To:      mail.Address{Name: t.To.Name, Email: t.To.Email},
		ReplyTo: box.Address, Subject: r.Subject, Date: c.now, MessageID: mail.MessageID(c.instance, t.Key, domain),
		Text: r.Text, HTML: r.HTML, Attachments: t.Attach, Calendar: t.Calendar,
	}
	if out.prompt != nil {
		out.tokenHash = mail.HashToken(token)
		msg.ReplyTo = mail.ReplyAddress(box.Address, box.PlusDelimiter, token)
	}
	if t.InReplyTo != "" {
		msg.InReplyTo, msg.References = t.InReplyTo, []string{t.InReplyTo}
	}
	raw, err := msg.Bytes()
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", t.Key, err)
	}
	out.Item = store.OutboxItem{
		Key: t.Key, Kind: string(templates.TalkKind), PairID: &p.ID, Recipient: t.To.Email,
		RecipientDomain: mail.Domain(t.To.Email), EnvelopeFrom: mail.BounceAddress(box.Address, box.PlusDelimiter, msg.MessageID),
		MessageID: msg.MessageID, Subject: r.Subject, Payload: raw, NextAttemptAt: c.now, CreatedAt: c.now, Packed: store.Pack(raw),
	}
	if s != nil {
		out.Item.SessionID = &s.ID
	}
	return out, nil
}

// checkIns are the mentee's check-ins tied to session s that may go to the
// mentor (the sender passed every check), for the brief, in to's zone.
func (c *Composer) checkIns(ctx context.Context, s store.Session, menteeID int64, to store.Person) ([]templates.CheckIn, error) {
	rows, err := store.SessionCheckIns(ctx, c.q, s.ID, menteeID)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	loc, err := time.LoadLocation(to.Timezone)
	if err != nil {
		loc = time.UTC
	}
	out := make([]templates.CheckIn, len(rows))
	for i, r := range rows {
		out[i] = templates.CheckIn{At: r.ReceivedAt.In(loc), Text: r.Text}
	}
	return out, nil
}
