package ingest

import (
	"context"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/inbox"
)

// ReadFolder reads the selected inbox folder through Drain and applies each
// message. With full (a new connection) it first makes the folders and reads
// every message in the inbox, so one whose move failed before is moved now
// (recognised as read before, it changes nothing twice); otherwise it reads
// past the cursor. It returns how many messages it read.
func (r *Reader) ReadFolder(ctx context.Context, c *imapclient.Client, mb inbox.Mailbox, full bool) (int, error) {
	f := r.Cfg.IMAP.Folders
	cur, err := store.GetCursor(ctx, r.DB.R(), f.Inbox)
	if err != nil {
		return 0, err
	}
	after := imap.UID(0)
	switch {
	case full:
		if _, err := inbox.EnsureFolders(c, f.Processed, f.Quarantine, f.Unrelated); err != nil {
			return 0, err
		}
		if cur.UIDValidity != 0 && cur.UIDValidity != mb.UIDValidity {
			r.Log.Warn("the inbox's UIDVALIDITY changed: reading it again (messages already read change nothing)",
				"old", cur.UIDValidity, "new", mb.UIDValidity)
		}
	case cur.UIDValidity == mb.UIDValidity && mb.UIDNext != 0 && uint32(mb.UIDNext) <= cur.LastUID:
		// The server numbers again below what was read, in the same
		// UIDVALIDITY (it lost its UIDs but kept that): reading past the
		// cursor would miss the new mail until the next connection.
		r.Log.Warn("the inbox's UIDs went back without a new UIDVALIDITY: reading all of it", "uidnext", mb.UIDNext, "read_to", cur.LastUID)
	case cur.UIDValidity == mb.UIDValidity:
		after = imap.UID(cur.LastUID)
	}
	n := 0
	_, err = inbox.Drain(ctx, c, mb, inbox.DrainOptions{After: after, MaxBytes: int64(r.Cfg.IMAP.MaxMessageSize)},
		func(ctx context.Context, ms []inbox.Message) ([]string, error) {
			if r.Beat != nil {
				r.Beat()
			}
			items := make([]Item, len(ms))
			for i, m := range ms {
				items[i] = Item{Raw: m.Raw, MessageID: m.MessageID, Size: m.Size,
					Source: Source{Mailbox: f.Inbox, UIDValidity: m.UIDValidity, UID: uint32(m.UID)}}
			}
			outs, err := r.IngestBatch(ctx, items)
			if err != nil {
				return nil, err
			}
			folders := make([]string, len(outs))
			for i, out := range outs {
				folders[i] = folderFor(r.Cfg, out.Outcome)
			}
			n += len(outs)
			return folders, nil
		})
	return n, err
}

// folderFor is where a message goes after it was read.
func folderFor(cfg *config.Config, outcome string) string {
	f := cfg.IMAP.Folders
	switch outcome {
	case store.OutcomeQuarantined, store.OutcomeLate:
		return f.Quarantine
	case store.OutcomeUnrelated, store.OutcomeKept:
		return f.Unrelated
	default:
		return f.Processed
	}
}
