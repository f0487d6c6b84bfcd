package compose

import (
	"context"
	"fmt"
	"strings"

	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/templates"
)

// Messages that answer what came in rather than follow the schedule.
const (
	actAck      schedule.ActionKind = "ack"
	ActDeclined schedule.ActionKind = "declined" // also for an invitation passed on (DELEGATED)
	ActCounter  schedule.ActionKind = "counter"
)

// ComposeNotice renders a message to a person about a session in answer to an
// inbound message (its id makes the idempotency key). Replies to it go to
// prompt when given (an acknowledgement: a reply corrects the answers), else
// to the person's invite prompt for the session.
func (c *Composer) ComposeNotice(ctx context.Context, a schedule.Action, inboundID int64, edit func(*templates.Data), prompt *store.Prompt) (*Outgoing, error) {
	return c.composeNotice(ctx, a, inboundID, edit, prompt, nil)
}

// composeNotice is ComposeNotice, with th (when not nil) making the message
// an answer to the one received.
func (c *Composer) composeNotice(ctx context.Context, a schedule.Action, inboundID int64, edit func(*templates.Data), prompt *store.Prompt,
	th *thread) (*Outgoing, error) {
	ab, err := c.load(ctx, a)
	if err != nil {
		return nil, err
	}
	s, p, to, d := ab.s, ab.p, ab.to, ab.d
	edit(&d)
	r, err := c.tpl.Render(templates.Kind(a.Kind), d)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", a.Kind, err)
	}
	out := &Outgoing{action: a, prompt: prompt, thread: th}
	if out.prompt == nil {
		out.prompt = &store.Prompt{SessionID: s.ID, PersonID: to.ID, Purpose: store.PurposeInvite, Language: to.Language,
			Questions: "[]", CreatedAt: c.now}
	}
	key := fmt.Sprintf("%s:%d:%d", a.Kind, inboundID, to.ID)
	return out, c.message(ctx, out, p, s, to, r, key)
}

// ComposeAdmin renders a message to the programme admin (programme.admin_email),
// in the default language, without a reply token. sessionID may be 0.
func (c *Composer) ComposeAdmin(ctx context.Context, kind templates.Kind, key string, sessionID int64, edit func(*templates.Data)) (*Outgoing, error) {
	admin := c.cfg.Programme.AdminEmail
	if admin == "" {
		return nil, nil
	}
	d := templates.Data{Lang: c.cfg.Defaults.Language, Programme: c.cfg.Programme.Name, Organisation: c.cfg.Programme.Organisation,
		Mailbox: c.cfg.Mailbox.Address, Recipient: templates.Person{Email: admin}}
	var pairID *int64
	if sessionID != 0 {
		s, err := c.session(ctx, sessionID)
		if err != nil {
			return nil, err
		}
		p, sessions, err := c.Pair(ctx, s.PairID)
		if err != nil {
			return nil, err
		}
		if d, err = c.data(p, sessions, s, store.Person{Email: admin, Timezone: c.cfg.Defaults.Timezone, Language: c.cfg.Defaults.Language}); err != nil {
			return nil, err
		}
		pairID = &p.ID
		d.Ref = templates.Ref{Pair: p.ID, Session: s.ID}
	}
	edit(&d)
	r, err := c.tpl.Render(kind, d)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	box := c.cfg.Mailbox
	domain := mail.Domain(box.Address)
	msg := &mail.Message{
		From: mail.Address{Name: box.DisplayName, Email: box.Address}, To: mail.Address{Email: admin},
		Subject: r.Subject, Date: c.now, MessageID: mail.MessageID(c.instance, key, domain), Text: r.Text, HTML: r.HTML,
	}
	raw, err := msg.Bytes()
	if err != nil {
		return nil, err
	}
	out := &Outgoing{Item: store.OutboxItem{
		Key: key, Kind: string(kind), PairID: pairID, Recipient: admin, RecipientDomain: mail.Domain(admin),
		EnvelopeFrom: mail.BounceAddress(box.Address, box.PlusDelimiter, msg.MessageID), MessageID: msg.MessageID,
		Subject: r.Subject, Payload: raw, NextAttemptAt: c.now, CreatedAt: c.now,
	}}
	if sessionID != 0 {
		out.Item.SessionID = &sessionID
	}
	return out, nil
}

// composeAck tells the mentee what a reply recorded, answer by answer (or its
// text, when it answered no numbered question), and how each answer read
// without a number was placed. Its reply token is bound to the same prompt,
// so a reply to it corrects those answers. It answers the reply in the
// mentee's thread: In-Reply-To the reply, References the reply's thread, and
// the reply's subject with "Re: " (RFC 5322 sections 3.6.4 and 3.6.5).
func (c *Composer) composeAck(ctx context.Context, r store.Reply) (*Outgoing, error) {
	entries, err := store.ReplyAnswers(ctx, c.q, r.ID)
	if err != nil {
		return nil, err
	}
	pr, err := store.GetPrompt(ctx, c.q, r.SessionID, r.PersonID, r.PromptKind)
	if err != nil {
		return nil, fmt.Errorf("the prompt of reply %d: %w", r.ID, err)
	}
	th, err := c.replyThread(ctx, r)
	if err != nil {
		return nil, err
	}
	act := schedule.Action{Kind: actAck, SessionID: r.SessionID, PersonID: r.PersonID, Due: c.now}
	return c.composeNotice(ctx, act, r.ID, func(d *templates.Data) {
		d.AckOf = templates.Kind(r.PromptKind)
		for _, e := range entries {
			d.Agenda = append(d.Agenda, templates.Answer{Number: e.QuestionNo, Question: e.Question, Text: e.Answer, Tied: placed(e.TiedBy)})
		}
		if len(d.Agenda) == 0 {
			d.Reply = r.NewText
		}
	}, &pr, th)
}

// placed is how the acknowledgement names an answer's tie: only the ties
// read rather than written (by topic, by order) are shown.
func placed(tiedBy string) string {
	switch tiedBy {
	case templates.TiedTopic, templates.TiedOrder:
		return tiedBy
	}
	return ""
}

// replyThread is the thread an acknowledgement of reply r joins. Every id is
// checked again as a msg-id (mail.Thread), and the subject is the reply's
// without its reply markers: nothing unchecked from a received header is
// written back. A reply without a valid Message-ID gets an acknowledgement
// in no thread, under the template's subject.
func (c *Composer) replyThread(ctx context.Context, r store.Reply) (*thread, error) {
	ids := strings.Fields(r.Thread)
	if len(ids) == 0 {
		return nil, nil
	}
	refs := mail.Thread(ids[:len(ids)-1], nil, ids[len(ids)-1])
	if refs == nil {
		return nil, nil
	}
	subject, err := store.InboundSubject(ctx, c.q, r.InboundID)
	if err != nil {
		return nil, fmt.Errorf("the subject of reply %d: %w", r.ID, err)
	}
	return &thread{references: refs, subject: mail.ReplySubject(subject)}, nil
}
