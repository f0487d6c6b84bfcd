package daemon

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/reply"
	"github.com/mentord/mentord/templates"
)

// Reading one message, whether it came from IMAP or from `mentord ingest`:
//  1. Parse it (mail/reply): headers, classification, and for a reply the new
//     text and the answers.
//  2. Within one transaction: skip it if its Message-ID was seen before;
//     otherwise apply its effects (log the answers, record the RSVP, score the
//     bounce) and record the message with its (mailbox, UIDVALIDITY, UID).
//  3. The caller moves it to the folder its outcome names only after the
//     commit, so a crash at any point reads it again and changes nothing twice.

// Source is where a message was read from.
type Source struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32 // 0 for a file: numbered by the store
}

// Outcome is what reading one message did.
type Outcome struct {
	Kind      reply.Kind
	Outcome   string // store.OutcomeLogged, ...Ignored, ...Quarantined, ...Unrelated
	Reason    string
	Duplicate bool // read before: nothing was changed now
	InboundID int64
	Answers   int // progress entries logged
}

// Reader applies received messages to the store.
type Reader struct {
	DB  *store.DB
	Cfg *config.Config
	Tpl *templates.Set
	Log *slog.Logger
	Now func() time.Time
}

// bounceWindow and bounceLimit: a score of 3 (a permanent failure counts 1, a
// temporary one 0.5) within 30 days suspends sending to the address.
const (
	bounceWindow = 30 * 24 * time.Hour
	bounceLimit  = 3.0
)

// Ingest reads one raw message and applies it.
func (r *Reader) Ingest(ctx context.Context, raw []byte, src Source) (Outcome, error) {
	res, perr := reply.Parse(raw, reply.Options{MaxBytes: int64(r.Cfg.IMAP.MaxMessageSize)})
	if perr != nil {
		res = &reply.Result{Kind: reply.KindOther, Reason: "unreadable: " + perr.Error()}
	}
	in := &store.Inbound{
		Mailbox: src.Mailbox, UIDValidity: src.UIDValidity, UID: src.UID, MessageID: res.Header.MessageID,
		MessageIDHash: messageHash(res.Header.MessageID, raw), FromAddr: res.Header.From, Subject: res.Header.Subject,
		Kind: string(res.Kind), Raw: compress(raw), ReceivedAt: r.Now(),
	}
	var out Outcome
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		out = Outcome{Kind: res.Kind}
		if err := advanceCursor(ctx, tx, src); err != nil {
			return err
		}
		prev, seen, err := store.InboundOutcome(ctx, tx, in.MessageIDHash)
		if err != nil || seen {
			out.Duplicate, out.Outcome, out.Reason = seen, prev, "read before"
			return err
		}
		if in.UID == 0 {
			if in.UID, err = store.NextIngestUID(ctx, tx, in.Mailbox); err != nil {
				return err
			}
		}
		a := &apply{r: r, tx: tx, raw: raw, res: res, in: in, out: &out}
		if err := a.run(ctx); err != nil {
			return err
		}
		in.Outcome, in.Reason = out.Outcome, out.Reason
		if err := store.InsertInbound(ctx, tx, in); err != nil {
			return err
		}
		out.InboundID = in.ID
		return a.finish(ctx)
	})
	if err != nil {
		return out, fmt.Errorf("read message %s: %w", in.MessageID, err)
	}
	r.Log.Info("message read", "kind", out.Kind, "outcome", out.Outcome, "reason", out.Reason, "msgid", in.MessageID,
		"answers", out.Answers, "duplicate", out.Duplicate)
	return out, nil
}

// advanceCursor records, with the message's effects, that the folder was read
// up to its UID.
func advanceCursor(ctx context.Context, tx *sqlx.Tx, src Source) error {
	if src.UID == 0 {
		return nil
	}
	return store.SetCursor(ctx, tx, src.Mailbox, store.Cursor{UIDValidity: src.UIDValidity, LastUID: src.UID})
}

// Skip records a message that is not read at all (over the size limit), so it
// is reported and moved out of the way once.
func (r *Reader) Skip(ctx context.Context, src Source, messageID string, size int64) (Outcome, error) {
	out := Outcome{Kind: reply.KindOther, Outcome: store.OutcomeQuarantined,
		Reason: fmt.Sprintf("oversize: %d bytes, over imap.max_message_size", size)}
	in := &store.Inbound{Mailbox: src.Mailbox, UIDValidity: src.UIDValidity, UID: src.UID, MessageID: messageID,
		MessageIDHash: messageHash(messageID, []byte(fmt.Sprintf("%s/%d/%d", src.Mailbox, src.UIDValidity, src.UID))),
		Kind:          string(out.Kind), Outcome: out.Outcome, Reason: out.Reason, ReceivedAt: r.Now()}
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := advanceCursor(ctx, tx, src); err != nil {
			return err
		}
		prev, seen, err := store.InboundOutcome(ctx, tx, in.MessageIDHash)
		if err != nil || seen {
			out.Duplicate, out.Outcome = seen, prev
			return err
		}
		return store.InsertInbound(ctx, tx, in)
	})
	r.Log.Warn("message skipped: over the size limit", "msgid", messageID, "size", size)
	return out, err
}

// apply is the work on one message inside its transaction. Effects that need
// the inbound row's id (replies, calendar answers, bounces, acknowledgements)
// are queued in after and run by finish once it exists.
type apply struct {
	r     *Reader
	tx    *sqlx.Tx
	raw   []byte
	res   *reply.Result
	in    *store.Inbound
	out   *Outcome
	after []func(ctx context.Context, inboundID int64) error
}

func (a *apply) run(ctx context.Context) error {
	box := a.r.Cfg.Mailbox.Address
	switch {
	case a.res.Kind == reply.KindOther:
		a.set(store.OutcomeUnrelated, a.res.Reason)
		return nil
	case strings.EqualFold(a.res.Header.From, box) || isOurBounceAddress(a.res.Header.From, a.r.Cfg):
		a.set(store.OutcomeIgnored, "sent by mentord itself")
		return nil
	case a.res.Kind == reply.KindBounce:
		return a.bounce(ctx)
	case a.res.Kind == reply.KindAutoReply:
		a.set(store.OutcomeIgnored, "auto-reply: "+a.res.Reason)
		return nil
	case a.res.Kind == reply.KindCalendar:
		return a.calendar(ctx)
	}
	return a.reply(ctx)
}

func (a *apply) set(outcome, reason string) { a.out.Outcome, a.out.Reason = outcome, reason }

func (a *apply) later(fn func(ctx context.Context, inboundID int64) error) {
	a.after = append(a.after, fn)
}

func (a *apply) finish(ctx context.Context) error {
	for _, fn := range a.after {
		if err := fn(ctx, a.in.ID); err != nil {
			return err
		}
	}
	return nil
}

// dmarcFail reports whether the configured server said the sender failed DMARC
// (RFC 8601: only the results of our own authserv-id are trusted).
func dmarcFail(authResults []string, authservID string) bool {
	if authservID == "" {
		return false
	}
	for _, h := range authResults {
		id, rest, _ := strings.Cut(h, ";")
		if !strings.EqualFold(strings.Fields(strings.TrimSpace(id) + " x")[0], authservID) {
			continue
		}
		for _, part := range strings.Split(rest, ";") {
			if f := strings.Fields(strings.ToLower(part)); len(f) > 0 && f[0] == "dmarc=fail" {
				return true
			}
		}
	}
	return false
}

// isOurBounceAddress reports a VERP return path of ours used as a sender.
func isOurBounceAddress(addr string, cfg *config.Config) bool {
	box := cfg.Mailbox
	if !cfg.PlusAddressing() {
		return false
	}
	at := strings.LastIndexByte(box.Address, '@')
	return strings.HasPrefix(strings.ToLower(addr), strings.ToLower(box.Address[:at]+box.PlusDelimiter+"bounce-"))
}

// messageHash names a message for deduplication: its Message-ID, or, for a
// message without one, its bytes.
func messageHash(messageID string, raw []byte) string {
	var sum [32]byte
	if id := strings.Trim(strings.TrimSpace(messageID), "<>"); id != "" {
		sum = sha256.Sum256([]byte("id:" + strings.ToLower(id)))
	} else {
		sum = sha256.Sum256(append([]byte("raw:"), bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))...))
	}
	return hex.EncodeToString(sum[:])
}

// compress keeps the raw message small (DEFLATE) for re-processing later.
func compress(raw []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	_, _ = w.Write(raw)
	_ = w.Close()
	return b.Bytes()
}

// errNoPrompt means a reply names no prompt of ours.
var errNoPrompt = errors.New("no prompt")

// findPrompt ties a reply to what mentord asked: the token in a recipient
// address first, then a Message-ID of ours in In-Reply-To or References.
func (a *apply) findPrompt(ctx context.Context) (store.PromptRef, error) {
	return findPrompt(ctx, a.tx, a.r.Cfg, a.res.Header)
}

func findPrompt(ctx context.Context, q store.Querier, cfg *config.Config, h reply.Header) (store.PromptRef, error) {
	box := cfg.Mailbox
	for _, addr := range append(append(append([]string{}, h.To...), h.Cc...), h.DeliveredTo...) {
		if tok, ok := mail.TokenFrom(addr, box.Address, box.PlusDelimiter); ok {
			p, err := store.PromptByToken(ctx, q, mail.HashToken(tok))
			if !errors.Is(err, store.ErrNotFound) {
				return p, err
			}
		}
	}
	refs := append(append([]string{}, h.InReplyTo...), h.References...)
	domain := "@" + strings.ToLower(mail.Domain(box.Address))
	for i, id := range refs {
		if i >= 10 {
			break
		}
		if !strings.HasSuffix(strings.ToLower(id), domain) {
			continue // only ids mentord made
		}
		p, err := store.PromptByMessageID(ctx, q, id)
		if !errors.Is(err, store.ErrNotFound) {
			return p, err
		}
	}
	return store.PromptRef{}, errNoPrompt
}
