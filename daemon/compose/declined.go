package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// A Decline is one of the pair declining a session, or passing the
// invitation on (DELEGATED): by their calendar, or in words.
type Decline struct {
	InboundID int64 // the message that said so
	Session   store.Session
	Who       store.AttendeeReply   // the one who declined
	Attendees []store.AttendeeReply // the session's attendees, Who among them
	Delegated bool
	Comment   string // their note, only when it may be passed on ("" otherwise)
}

// TellOtherOfDecline tells the other one of the pair that d.Who declined the
// session (or passed it on), and what now waits for them: the mentee's
// checklist, or the mentor's brief when the programme sends briefs, and
// whether it went already. The message is composed and recorded in tx.
func (c *Composer) TellOtherOfDecline(ctx context.Context, tx *sqlx.Tx, d Decline) error {
	var other *store.AttendeeReply
	for i := range d.Attendees {
		if d.Attendees[i].PersonID != d.Who.PersonID {
			other = &d.Attendees[i]
		}
	}
	if other == nil {
		return nil
	}
	held, sent, err := c.heldFor(ctx, tx, d.Session.ID, *other)
	if err != nil {
		return err
	}
	out, err := c.InTx(tx).ComposeNotice(ctx, schedule.Action{Kind: ActDeclined, SessionID: d.Session.ID, PersonID: other.PersonID, Due: c.now},
		d.InboundID, func(td *templates.Data) {
			NoteDecline(td, d)
			td.Held, td.HeldSent = held, sent
		}, nil)
	if err != nil {
		return fmt.Errorf("tell person %d of a decline: %w", other.PersonID, err)
	}
	_, err = Record(ctx, tx, out, c.now)
	return err
}

// NoteDecline fills in who declined, whether they passed it on, and their note.
func NoteDecline(td *templates.Data, d Decline) {
	td.Decliner = td.Mentee
	if d.Who.Role == store.RoleMentor {
		td.Decliner = td.Mentor
	}
	td.Delegated, td.Comment = d.Delegated, d.Comment
}

// heldFor is what the attendee gets before the session that now waits, and
// whether it went already.
func (c *Composer) heldFor(ctx context.Context, q store.Querier, sessionID int64, at store.AttendeeReply) (templates.Kind, bool, error) {
	kind, purpose := templates.Checklist, store.PurposeChecklist
	if at.Role == store.RoleMentor {
		if !c.cfg.BriefsEnabled() {
			return "", false, nil
		}
		kind, purpose = templates.Brief, store.PurposeBrief
	}
	_, err := store.GetPrompt(ctx, q, sessionID, at.PersonID, purpose)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return kind, false, nil
	case err != nil:
		return "", false, err
	}
	return kind, true, nil
}
