package admin

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/converse"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// The admin's side of the conversation (issue 13): pausing and resuming a
// pair by command, and the messages kept for a person (`mentord inbox`).

// PauseResult is what pausing did.
type PauseResult struct {
	Pause     store.Pause     `json:"pause"`
	Cancelled []store.Session `json:"cancelled"`
}

// PausePair pauses a pair from now until the start of the day until
// (YYYY-MM-DD in the pair's zone): its sessions in that time are cancelled
// (a CANCEL goes out) and planned again on resume.
func (r *Roster) PausePair(ctx context.Context, pairID int64, until string) (PauseResult, error) {
	var res PauseResult
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := store.GetPair(ctx, tx, pairID)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(p.Agreement.Timezone)
		if err != nil {
			return err
		}
		day, err := schedule.ParseLocal(until+"T00:00", loc)
		if err != nil {
			return InputError{{Field: "until", Msg: "a day like 2027-05-01: " + err.Error()}}
		}
		now := r.now()
		res.Pause, res.Cancelled, err = converse.Pause(ctx, tx, pairID, now, day, now, nil)
		return err
	})
	if res.Cancelled == nil {
		res.Cancelled = []store.Session{}
	}
	return res, err
}

// ResumePair ends a pair's pause now and plans its cancelled sessions again.
func (r *Roster) ResumePair(ctx context.Context, pairID int64) ([]store.Session, error) {
	var planned []store.Session
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		planned, err = converse.Resume(ctx, tx, pairID, r.now(), r.Cfg.Mailbox.Address)
		return err
	})
	if planned == nil {
		planned = []store.Session{}
	}
	return planned, err
}

// Inbox lists the messages waiting for the admin (all: also those settled).
func (r *Roster) Inbox(ctx context.Context, all bool) ([]store.InboxItem, error) {
	items, err := store.ListInbox(ctx, r.DB.R(), all, 1000)
	if items == nil {
		items = []store.InboxItem{}
	}
	return items, err
}

// InboxMessage is one message as `inbox show` prints it: what mentord
// recorded, and the original as it came.
type InboxMessage struct {
	store.InboxItem
	Subject string `json:"subject"`
	Raw     string `json:"raw"` // "" when retention dropped it
}

// InboxShow returns one read message with its original.
func (r *Roster) InboxShow(ctx context.Context, id int64) (InboxMessage, error) {
	it, err := store.GetInboxItem(ctx, r.DB.R(), id)
	if err != nil {
		return InboxMessage{}, err
	}
	m := InboxMessage{InboxItem: it, Subject: it.Subject}
	packed, err := store.InboundRaw(ctx, r.DB.R(), id)
	if err != nil || packed == nil {
		return m, err
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(packed)))
	if err != nil {
		return m, fmt.Errorf("message %d: read its original: %w", id, err)
	}
	m.Raw = string(raw)
	return m, nil
}

// InboxDismiss closes a kept, quarantined or late message: read, nothing to do.
func (r *Roster) InboxDismiss(ctx context.Context, id int64) error {
	return r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := store.GetInboxItem(ctx, tx, id); err != nil {
			return err
		}
		return store.DismissInbound(ctx, tx, id, r.now())
	})
}
