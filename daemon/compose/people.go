package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
)

// ErrUnsendable means a message can never be built from what is stored: a
// person's name or address that no message or invitation can carry. Plan
// records such a message as failed, with the reason, and never tries it again.
var ErrUnsendable = errors.New("the message can never be built")

// CheckName tells why a person's name can never be mailed: the checks of
// the message (mail.CheckName) and of the invitation (calendar.CheckName)
// that every message to or about the person goes through. The admin's
// commands refuse a name with the same function. The error names no value.
func CheckName(name string) error {
	if err := mail.CheckName(name); err != nil {
		return err
	}
	return calendar.CheckName(name)
}

// CheckAddress is CheckName for an address.
func CheckAddress(addr string) error {
	if err := mail.CheckAddress(addr); err != nil {
		return err
	}
	return calendar.CheckAddress(addr)
}

// checkPerson is the composer's check of a recipient or attendee; its error
// names the person by id only, so it is safe to log.
func checkPerson(p store.Person) error {
	err := CheckName(p.Name)
	if err == nil {
		err = CheckAddress(p.Email)
	}
	if err != nil {
		return fmt.Errorf("%w: person %d: %w", ErrUnsendable, p.ID, err)
	}
	return nil
}

// unsendable is the record of an action whose message can never be built
// (ErrUnsendable): an outbox row already failed, with the reason, which
// `mentord status` shows, and the prompt or calendar state the message stood
// for, so that the schedule does not try it again at every pass.
func (c *Composer) unsendable(ctx context.Context, a schedule.Action, cause error) (*Outgoing, error) {
	s, err := c.session(ctx, a.SessionID)
	if err != nil {
		return nil, err
	}
	p, _, err := c.Pair(ctx, s.PairID)
	if err != nil {
		return nil, err
	}
	to, err := c.person(ctx, p, a.PersonID)
	if err != nil {
		return nil, err
	}
	box := c.cfg.Mailbox
	key := a.Key()
	id := mail.MessageID(c.instance, key, mail.Domain(box.Address))
	out := &Outgoing{action: a, failure: cause.Error(), Item: store.OutboxItem{
		Key: key, Kind: string(a.Kind), PairID: &p.ID, SessionID: &s.ID, Recipient: to.Email,
		RecipientDomain: mail.Domain(to.Email), EnvelopeFrom: mail.BounceAddress(box.Address, box.PlusDelimiter, id),
		MessageID: id, Payload: []byte{}, State: store.OutboxFailed, NextAttemptAt: c.now, CreatedAt: c.now,
	}}
	purpose := store.PurposeInvite
	switch a.Kind {
	case schedule.ActInvite, schedule.ActUpdate, schedule.ActCancel:
		method := "REQUEST"
		if a.Kind == schedule.ActCancel {
			method = "CANCEL"
		}
		out.calendar = &store.CalendarSent{SessionID: s.ID, PersonID: to.ID, Sequence: a.Sequence, Method: method, StartsAt: s.StartsAt}
	case schedule.ActNudge:
		purpose = string(a.NudgeOf)
	default:
		purpose = string(a.Kind) // checklist, reflection, brief, digest
	}
	out.prompt = &store.Prompt{SessionID: s.ID, PersonID: to.ID, Purpose: purpose, Language: to.Language, Questions: "[]", CreatedAt: c.now}
	return out, nil
}
