package inbox

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Message is one message of the folder, handed to the caller.
type Message struct {
	UID         imap.UID
	UIDValidity uint32
	Size        int64
	MessageID   string // from the envelope, without angle brackets
	Raw         []byte // nil when the message is over the size limit: it was not read
}

// DrainOptions tune Drain.
type DrainOptions struct {
	After    imap.UID // only messages with a higher UID (0: every message)
	MaxBytes int64    // larger messages are not read (Raw is nil)
	Batch    int      // UIDs per round of FETCH; default 50
}

// Handle applies a batch of messages and names the folder each goes to (""
// leaves it). It must have committed their effects before it returns: they
// are moved only afterwards (commit, then acknowledge).
type Handle func(ctx context.Context, ms []Message) (folders []string, err error)

// Drain reads the selected folder's messages in UID order, with BODY.PEEK so
// nothing is marked \Seen before it is handled, hands each to h, and moves
// each batch's messages to the folders h named (MOVE, or COPY + STORE
// \Deleted + EXPUNGE on servers without it). It returns the highest UID handled.
func Drain(ctx context.Context, c *imapclient.Client, mb Mailbox, opts DrainOptions, h Handle) (imap.UID, error) {
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	search, err := awaitValue(c, c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: opts.After + 1, Stop: 0}}}}, nil).Wait)
	if err != nil {
		return opts.After, fmt.Errorf("imap uid search: %w", err)
	}
	uids := search.AllUIDs()
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	last := opts.After
	for start := 0; start < len(uids); start += opts.Batch {
		if ctx.Err() != nil {
			return last, ctx.Err()
		}
		batch := uids[start:min(start+opts.Batch, len(uids))]
		n, err := drainBatch(ctx, c, mb, opts, batch, h)
		last = max(last, n)
		if err != nil {
			return last, err
		}
	}
	return last, nil
}

func drainBatch(ctx context.Context, c *imapclient.Client, mb Mailbox, opts DrainOptions, uids []imap.UID, h Handle) (imap.UID, error) {
	metas, err := awaitValue(c, c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true, Envelope: true}).Collect)
	if err != nil {
		return 0, fmt.Errorf("imap fetch sizes: %w", err)
	}
	sort.Slice(metas, func(i, j int) bool { return metas[i].UID < metas[j].UID })
	ms := make([]Message, 0, len(metas))
	var small []imap.UID
	for _, meta := range metas {
		m := Message{UID: meta.UID, UIDValidity: mb.UIDValidity, Size: meta.RFC822Size}
		if meta.Envelope != nil {
			m.MessageID = strings.Trim(meta.Envelope.MessageID, "<>")
		}
		if opts.MaxBytes <= 0 || m.Size <= opts.MaxBytes {
			small = append(small, meta.UID)
		}
		ms = append(ms, m)
	}
	if len(small) > 0 {
		section := &imap.FetchItemBodySection{Peek: true}
		bodies, err := awaitValue(c, c.Fetch(imap.UIDSetNum(small...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect)
		if err != nil {
			return 0, fmt.Errorf("imap fetch: %w", err)
		}
		raw := make(map[imap.UID][]byte, len(bodies))
		for _, b := range bodies {
			raw[b.UID] = b.FindBodySection(section)
		}
		kept := ms[:0]
		for _, m := range ms {
			if opts.MaxBytes > 0 && m.Size > opts.MaxBytes {
				kept = append(kept, m) // over the limit: handed over unread
			} else if m.Raw = raw[m.UID]; m.Raw != nil {
				kept = append(kept, m) // (a message expunged meanwhile is dropped)
			}
		}
		ms = kept
	}
	if len(ms) == 0 {
		return 0, nil
	}
	folders, err := h(ctx, ms)
	if err != nil {
		return 0, err
	}
	moves := map[string][]imap.UID{}
	for i, m := range ms {
		if i < len(folders) && folders[i] != "" && !strings.EqualFold(folders[i], mb.Name) {
			moves[folders[i]] = append(moves[folders[i]], m.UID)
		}
	}
	return ms[len(ms)-1].UID, move(c, moves)
}

// move moves each folder's messages there.
func move(c *imapclient.Client, moves map[string][]imap.UID) error {
	folders := make([]string, 0, len(moves))
	for f := range moves {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	for _, f := range folders {
		if len(moves[f]) == 0 {
			continue
		}
		if _, err := awaitValue(c, c.Move(imap.UIDSetNum(moves[f]...), f).Wait); err != nil {
			return fmt.Errorf("imap move to %s: %w", f, err)
		}
		delete(moves, f)
	}
	return nil
}

// EnsureFolders creates the folders that do not exist yet and names them.
func EnsureFolders(c *imapclient.Client, folders ...string) (created []string, err error) {
	list, err := awaitValue(c, c.List("", "*", nil).Collect)
	if err != nil {
		return nil, fmt.Errorf("imap list: %w", err)
	}
	have := map[string]bool{}
	for _, l := range list {
		have[strings.ToLower(l.Mailbox)] = true
	}
	for _, f := range folders {
		if f == "" || have[strings.ToLower(f)] || strings.EqualFold(f, "INBOX") {
			continue
		}
		if err := await(c, c.Create(f, nil).Wait); err != nil {
			return created, fmt.Errorf("imap create %s: %w", f, err)
		}
		have[strings.ToLower(f)] = true
		created = append(created, f)
	}
	return created, nil
}
