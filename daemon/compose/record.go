package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/pdf"
	"github.com/mentord/mentord/templates"
)

// The record for promotion. When a pair completes (its final session is held:
// see store.Completions), the mentor and the mentee each get a short email
// with a one-page PDF attached: the programme and organisation, the two
// names and roles, the dates, the sessions held and their hours, and for
// the mentor a sentence for a promotion case. It is made from the roster
// alone, never from either person's log. It goes reflection_delay after the
// final session ends, out of quiet hours in the recipient's zone, while the
// reflection window is open, once per person per pair (store.RecordKey).

// actRecord is the record for promotion's action kind, as the outbox names it.
const actRecord schedule.ActionKind = "record"

// recordFile is the attachment's name, by language.
var recordFile = map[string]string{"en": "mentoring-record.pdf", "da": "mentorforloeb.pdf"}

// RecordData is what the record for pair says to person (the mentor or the
// mentee) at the composer's now: the pair's sessions held and planned.
func (c *Composer) RecordData(ctx context.Context, pairID, personID int64) (templates.Data, error) {
	p, sessions, err := c.Pair(ctx, pairID)
	if err != nil {
		return templates.Data{}, err
	}
	if personID != p.Mentor.ID && personID != p.Mentee.ID {
		return templates.Data{}, fmt.Errorf("person %d is not in pair %d", personID, pairID)
	}
	to, err := c.person(ctx, p, personID)
	if err != nil {
		return templates.Data{}, err
	}
	if len(sessions) == 0 {
		return templates.Data{}, fmt.Errorf("pair %d has no sessions", pairID)
	}
	tally, err := store.TallyPair(ctx, c.q, pairID, c.now)
	if err != nil {
		return templates.Data{}, err
	}
	last := sessions[len(sessions)-1]
	if n := len(tally.Held); n > 0 {
		last = tally.Held[n-1]
	}
	d, err := c.data(p, sessions, last, to)
	if err != nil {
		return d, err
	}
	loc, _ := time.LoadLocation(to.Timezone) // data checked it
	f := &templates.Facts{Held: len(tally.Held), Planned: tally.Planned, Made: c.now.In(loc)}
	for i, s := range tally.Held {
		if i == 0 {
			f.First = s.StartsAt.In(loc)
		}
		f.Last = s.StartsAt.In(loc)
		f.Minutes += s.DurationMin
	}
	d.Facts = f
	return d, nil
}

// RecordPDF renders the record's email and its one-page PDF.
func RecordPDF(tpl *templates.Set, d templates.Data) (templates.Rendered, []byte, error) {
	r, err := tpl.Render(templates.Record, d)
	if err != nil {
		return r, nil, fmt.Errorf("render record: %w", err)
	}
	doc := pdf.Parse(r.Document)
	doc.Author, doc.Lang, doc.Created = d.Organisation, d.Lang, d.Facts.Made
	if doc.Author == "" {
		doc.Author = d.Programme
	}
	var buf bytes.Buffer
	if err := pdf.Write(&buf, doc); err != nil {
		return r, nil, fmt.Errorf("record pdf: %w", err)
	}
	return r, buf.Bytes(), nil
}

// composeRecord composes the record for one person of a completed pair.
func (c *Composer) composeRecord(ctx context.Context, cp store.Completion) (*Outgoing, error) {
	d, err := c.RecordData(ctx, cp.PairID, cp.PersonID)
	if err != nil {
		return nil, err
	}
	r, doc, err := RecordPDF(c.tpl, d)
	if err != nil {
		return nil, err
	}
	p, _, err := c.Pair(ctx, cp.PairID)
	if err != nil {
		return nil, err
	}
	s, err := c.session(ctx, cp.SessionID)
	if err != nil {
		return nil, err
	}
	to, err := c.person(ctx, p, cp.PersonID)
	if err != nil {
		return nil, err
	}
	name := recordFile[to.Language]
	if name == "" {
		name = recordFile["en"]
	}
	out := &Outgoing{action: schedule.Action{Kind: actRecord, SessionID: s.ID, PersonID: to.ID, Due: c.now},
		attachments: []mail.Attachment{{Name: name, ContentType: "application/pdf", Data: doc}}}
	return out, c.message(ctx, out, p, s, to, r, store.RecordKey(p.ID, to.ID))
}

// records enqueues the record for promotion for each person of each pair
// whose final session was held and who has not had it, when it is due
// (after the final session, out of quiet hours, within the reflection
// window); it notes when the next one falls due.
func (p *pass) records(t schedule.Timings) error {
	cs, err := store.Completions(p.ctx, p.db.R(), p.now.Add(-t.ReflectionWindow-8*time.Hour), p.now.Add(48*time.Hour))
	if err != nil {
		return err
	}
	comp := New(p.cfg, p.tpl, p.db, p.now)
	var outs []*Outgoing
	for _, cp := range cs {
		loc, err := time.LoadLocation(cp.Timezone)
		if err != nil {
			loc = time.UTC
		}
		due := t.Quiet.Next(cp.End().Add(t.ReflectionDelay), loc)
		switch {
		case due.After(p.now):
			p.earliest(due)
			continue
		case !p.now.Before(cp.End().Add(t.ReflectionWindow)):
			continue // too late: the pair completed before this pass could see it
		}
		out, err := comp.composeRecord(p.ctx, cp)
		if errors.Is(err, ErrUnsendable) {
			p.log.Warn("a record can never be built; recorded as failed, not retried", "pair", cp.PairID, "person", cp.PersonID, "err", err)
			out, err = comp.unsendableRecord(p.ctx, cp, err)
		}
		if err != nil {
			p.log.Error("cannot compose a record", "pair", cp.PairID, "person", cp.PersonID, "err", err)
			continue
		}
		outs = append(outs, out)
	}
	if len(outs) == 0 {
		return nil
	}
	n := 0
	err = p.db.Tx(p.ctx, func(tx *sqlx.Tx) error {
		n = 0
		for _, out := range outs {
			added, err := Record(p.ctx, tx, out, p.now)
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", out.Item.Key, err)
			}
			if added {
				n++
				p.log.Debug("enqueued", "kind", out.Item.Kind, "key", out.Item.Key, "msgid", out.Item.MessageID)
			}
		}
		return nil
	})
	p.res.Enqueued += n
	return err
}

// unsendableRecord is a record that can never be built (a person stored
// before the checks), recorded failed once so status shows why.
func (c *Composer) unsendableRecord(ctx context.Context, cp store.Completion, cause error) (*Outgoing, error) {
	a := schedule.Action{Kind: actRecord, SessionID: cp.SessionID, PersonID: cp.PersonID, Due: c.now}
	out, err := c.unsendable(ctx, a, cause)
	if err != nil {
		return nil, err
	}
	box := c.cfg.Mailbox
	key := store.RecordKey(cp.PairID, cp.PersonID)
	out.prompt = nil // a record asks nothing
	out.Item.Key = key
	out.Item.MessageID = mail.MessageID(c.instance, key, mail.Domain(box.Address))
	out.Item.EnvelopeFrom = mail.BounceAddress(box.Address, box.PlusDelimiter, out.Item.MessageID)
	return out, nil
}
