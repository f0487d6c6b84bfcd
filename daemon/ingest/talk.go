package ingest

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/converse"
	"github.com/mentord/mentord/daemon/store"
)

// talk hands a participant's message that answers no checklist or
// reflection to daemon/converse, which gives it a purpose (issue 13).
// p is what it answers (a token or thread of ours whose recipient is the
// From: verified); nil for a new message to the programme address, whose
// sender is then the person with the From's address, believed for changes
// only on our server's DMARC pass (trust.go), and a stranger's stays
// unrelated (counted, for status and the metrics).
func (a *apply) talk(ctx context.Context, p *store.PromptRef) error {
	h := a.res.Header
	var person store.Person
	var err error
	verified := p != nil
	if p != nil {
		person, err = store.GetPerson(ctx, a.tx, p.PersonID)
	} else {
		if h.FromProblem != "" {
			a.set(store.OutcomeUnrelated, "not a reply to mentord: "+a.senderDoubt())
			return nil
		}
		person, err = store.GetPersonByEmail(ctx, a.tx, h.From)
		if errors.Is(err, store.ErrNotFound) {
			a.set(store.OutcomeUnrelated, "not a reply to mentord, from a stranger")
			return nil
		}
		if err == nil {
			if doubt := a.senderDoubt(); doubt != "" {
				a.in.PersonID = &person.ID
				a.set(store.OutcomeQuarantined, doubt)
				return nil
			}
			verified = a.dmarc() == dmarcPass
		}
	}
	if err != nil {
		return err
	}
	a.in.PersonID = &person.ID
	conv := &converse.Conversation{Cfg: a.r.Cfg, Tpl: a.r.Tpl, DB: a.r.DB, Tx: a.tx, Now: a.r.Now(), Log: a.r.Log}
	r, err := conv.Handle(ctx, converse.Message{Raw: a.raw, Header: h, Person: person, Prompt: p, Verified: verified,
		Relayable: verified && a.relayable()})
	if err != nil {
		return err
	}
	a.set(r.Outcome, r.Reason)
	if r.SessionID != nil {
		a.in.SessionID = r.SessionID
	}
	if r.After != nil {
		a.later(r.After)
	}
	return nil
}

// other is a message mentord cannot read as a reply (unreadable, or
// nothing it knows): unrelated, unless its From is a participant's, when it
// is kept for the admin, who sees it in status, the digest and `mentord
// inbox list` (nothing a participant sends ends unseen in Unrelated).
func (a *apply) other(ctx context.Context) error {
	h := a.res.Header
	if h.FromProblem == "" && h.From != "" {
		person, err := store.GetPersonByEmail(ctx, a.tx, h.From)
		switch {
		case err == nil:
			a.in.PersonID = &person.ID
			reason := "kept for the admin: " + a.res.Reason
			a.set(store.OutcomeKept, reason)
			a.later(func(ctx context.Context, inboundID int64) error {
				return store.KeepMessage(ctx, a.tx, &store.Kept{InboundID: inboundID, PersonID: &person.ID, Why: a.res.Reason, CreatedAt: a.r.Now()})
			})
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	a.set(store.OutcomeUnrelated, a.res.Reason)
	return nil
}

// counterTalk puts a calendar's proposal (stored as prop) into the
// conversation: asked of the other person, unless programme.rescheduling
// keeps moves with the admin.
func (a *apply) counterTalk(ctx context.Context, inboundID int64, s store.Session, personID int64, prop *store.Proposal, comment string) error {
	person, err := store.GetPerson(ctx, a.tx, personID)
	if err != nil {
		return err
	}
	conv := &converse.Conversation{Cfg: a.r.Cfg, Tpl: a.r.Tpl, DB: a.r.DB, Tx: a.tx, Now: a.r.Now(), Log: a.r.Log}
	return conv.ProposeCounter(ctx, inboundID, s, person, prop, comment, a.relayable())
}

// ErrNotKept: a message the admin asked to release is not waiting for them
// (logged or ignored, or released or dismissed already).
var ErrNotKept = errors.New("the message is not kept, quarantined or late")

// Release reads a kept, quarantined or late message again from its stored
// original, as if it came in now (after the admin fixed a cause, such as an
// address), and records what it decided on the same inbound row. Its
// effects are keyed by that row's id, so releasing it again changes nothing
// twice; a message whose original was dropped (retention.raw_messages)
// cannot be released.
func (r *Reader) Release(ctx context.Context, inboundID int64) (Outcome, error) {
	var out Outcome
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		it, err := store.GetInboxItem(ctx, tx, inboundID)
		if err != nil {
			return err
		}
		// Kept, quarantined or late and not settled; or unrelated (a
		// participant writing from an address not yet on file).
		if it.KeptStatus != store.KeptOpen && !(it.KeptStatus == "" && it.Outcome == store.OutcomeUnrelated) {
			return fmt.Errorf("message %d (%s): %w", inboundID, it.Outcome, ErrNotKept)
		}
		packed, err := store.InboundRaw(ctx, tx, inboundID)
		if err != nil {
			return err
		}
		if packed == nil {
			return fmt.Errorf("message %d: its original was dropped after retention.raw_messages", inboundID)
		}
		raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(packed)))
		if err != nil {
			return fmt.Errorf("message %d: read its original: %w", inboundID, err)
		}
		res := r.parse(raw)
		in := &store.Inbound{ID: inboundID}
		out = Outcome{Kind: res.Kind, MessageID: res.Header.MessageID, InboundID: inboundID}
		a := &apply{r: r, tx: tx, raw: raw, res: res, in: in, out: &out}
		if err := a.run(ctx); err != nil {
			return err
		}
		in.Outcome, in.Reason = out.Outcome, out.Reason
		if err := store.SetInboundOutcome(ctx, tx, in); err != nil {
			return err
		}
		if err := a.finish(ctx); err != nil {
			return err
		}
		switch out.Outcome {
		case store.OutcomeQuarantined, store.OutcomeLate, store.OutcomeKept, store.OutcomeUnrelated:
			return nil // still for the admin (kept again with its new reason), or still a stranger's
		}
		err = store.MarkReleased(ctx, tx, inboundID, r.Now())
		return err
	})
	if err == nil {
		r.Log.Info("message released: read again", "msgid", out.MessageID, "outcome", out.Outcome, "reason", out.Reason)
	}
	return out, err
}
