// Package ingest applies a message read from the programme mailbox to the
// store: a reply's answers into the progress log, a calendar answer to the
// session, a bounce to the address's score, and what a person must be told
// about it into the outbox (composed by daemon/compose).
//
// Reading one message, whether it came from IMAP (ReadFolder) or from
// `mentord ingest`:
//  1. Parse it (mail/reply): headers, classification, and for a reply the new
//     text and the answers.
//  2. Within one transaction: skip it if it was read before (the same
//     Message-ID, From and body, or a quarantined message's very bytes; never
//     the Message-ID alone, see dedupeKey); otherwise check who it is from
//     (trust.go: one From mailbox, the person the token, thread or invite
//     was sent to, our server's DMARC verdict), whether it is in time
//     (late.go) and what it matches (bounce.go), apply its effects (log the
//     answers, record the RSVP, score the bounce) and record the message
//     with its (mailbox, UIDVALIDITY, UID) and outcome.
//     Each message has a savepoint of its own: one whose effects cannot be
//     recorded (a constraint it breaks, a UID the server gave another message
//     before) is put aside as quarantined with the reason, and the rest of
//     the batch goes on; only a failure of the database itself fails the batch.
//  3. The caller moves it to the folder its outcome names only after the
//     commit, so a crash at any point reads it again and changes nothing twice.
//
// Inspect runs the same understanding without changing anything.
package ingest

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/reply"
	"github.com/mentord/mentord/mail/reply/decode"
	"github.com/mentord/mentord/templates"
)

// Metrics are the reading's counters, for the daemon's /metrics.
var Metrics = []prometheus.Collector{readTotal, answersTotal}

var (
	readTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "mentord", Name: "messages_read_total",
		Help: "Messages read from the mailbox, by kind (reply, calendar, bounce, auto_reply, other) and outcome (logged, ignored, quarantined, unrelated, late).",
	}, []string{"kind", "outcome"})
	answersTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "mentord", Name: "answers_logged_total", Help: "Answers written to the progress log.",
	})
)

func countRead(o Outcome) {
	if o.Duplicate {
		return
	}
	readTotal.WithLabelValues(string(o.Kind), o.Outcome).Inc()
	answersTotal.Add(float64(o.Answers))
}

// Source is where a message was read from.
type Source struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32 // 0 for a file: numbered by the store
}

// Outcome is what reading one message did.
type Outcome struct {
	Kind      reply.Kind
	Outcome   string // store.OutcomeLogged, ...Ignored, ...Quarantined, ...Unrelated, ...Late
	Reason    string
	Duplicate bool // read before: nothing was changed now
	MessageID string
	InboundID int64
	Answers   int // progress entries logged
}

// Reader applies received messages to the store.
type Reader struct {
	DB   *store.DB
	Cfg  *config.Config
	Tpl  *templates.Set
	Log  *slog.Logger
	Now  func() time.Time
	Beat func() // optional: called per batch, a sign of life for the watchdog
}

// bounceWindow and bounceLimit: a score of 3 (a permanent failure counts 1, a
// temporary one 0.5) within 30 days suspends sending to the address.
const (
	bounceWindow = 30 * 24 * time.Hour
	bounceLimit  = 3.0
)

// Item is one message to read: its bytes, or for a message over the size
// limit (Raw nil) only its Message-ID and size.
type Item struct {
	Raw       []byte
	MessageID string
	Size      int64
	Source    Source
}

// Ingest reads one raw message and applies it.
func (r *Reader) Ingest(ctx context.Context, raw []byte, src Source) (Outcome, error) {
	outs, err := r.IngestBatch(ctx, []Item{{Raw: raw, Source: src}})
	if err != nil {
		return Outcome{}, err
	}
	return outs[0], nil
}

// IngestBatch reads messages and applies them in one transaction (one commit
// for the batch: the caller moves them only after it). Parsing, the costly
// part, happens before the transaction.
func (r *Reader) IngestBatch(ctx context.Context, items []Item) ([]Outcome, error) {
	parsed := make([]*reply.Result, len(items))
	for i, it := range items {
		if it.Raw != nil {
			parsed[i] = r.parse(it.Raw)
		}
	}
	outs := make([]Outcome, len(items))
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		for i := range items {
			err := store.Savepoint(ctx, tx, func() (err error) {
				outs[i], err = r.oneSafely(ctx, tx, items[i], parsed[i])
				return err
			})
			if err != nil && !store.Transient(err) && ctx.Err() == nil {
				// This message cannot be recorded, and would fail the same way
				// at every try: it is put aside, and the batch goes on.
				outs[i], err = r.unrecorded(ctx, tx, items[i], parsed[i], err)
			}
			if err != nil { // the database or the stop: the batch is read again later
				return fmt.Errorf("read message %s: %w", items[i].MessageID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, out := range outs {
		countRead(out)
		r.Log.Info("message read", "kind", out.Kind, "outcome", out.Outcome, "reason", out.Reason, "msgid", out.MessageID,
			"answers", out.Answers, "duplicate", out.Duplicate)
	}
	return outs, nil
}

// parse reads a message's headers and text; a message it cannot read (or
// that panics the parser) is kept as unreadable.
func (r *Reader) parse(raw []byte) (res *reply.Result) {
	defer func() {
		if p := recover(); p != nil {
			r.Log.Error("the reply parser panicked; the message is kept as unreadable", "err", p, "stack", string(debug.Stack()))
			res = &reply.Result{Kind: reply.KindOther, Reason: fmt.Sprintf("unreadable: the parser failed: %v", p)}
		}
	}()
	res, err := reply.Parse(raw, reply.Options{MaxBytes: int64(r.Cfg.IMAP.MaxMessageSize)})
	if err != nil {
		res = &reply.Result{Kind: reply.KindOther, Reason: "unreadable: " + err.Error()}
	}
	return res
}

// oneSafely is one, with a panic turned into the error of this message.
func (r *Reader) oneSafely(ctx context.Context, tx *sqlx.Tx, it Item, res *reply.Result) (out Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.Log.Error("reading a message panicked", "msgid", it.MessageID, "err", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.one(ctx, tx, it, res)
}

// record is the inbound row of a message (its result res, nil when it was
// over the size limit and not read), without its outcome.
func (r *Reader) record(it Item, res *reply.Result) (*store.Inbound, *reply.Result) {
	src := it.Source
	in := &store.Inbound{Mailbox: src.Mailbox, UIDValidity: src.UIDValidity, UID: src.UID, ReceivedAt: r.Now()}
	if res == nil { // over the size limit: recorded, never read
		res = &reply.Result{Kind: reply.KindOther, Header: reply.Header{MessageID: it.MessageID},
			Reason: fmt.Sprintf("oversize: %d bytes, over imap.max_message_size", it.Size)}
		where := []byte(fmt.Sprintf("%s/%d/%d/%d", src.Mailbox, src.UIDValidity, src.UID, it.Size))
		in.MessageIDHash = messageHash(it.MessageID, where)
		in.DedupeKey, in.RawHash = dedupeKey(res.Header, where), rawHash(where)
	} else {
		in.MessageIDHash = messageHash(res.Header.MessageID, it.Raw)
		in.DedupeKey, in.RawHash = dedupeKey(res.Header, it.Raw), rawHash(it.Raw)
		in.Raw = compress(it.Raw)
	}
	in.MessageID, in.FromAddr, in.Subject, in.Kind = res.Header.MessageID, res.Header.From, res.Header.Subject, string(res.Kind)
	if res.Header.FromProblem != "" {
		in.FromAddr = res.Header.FromField // as written, for the admin to see what it was
	}
	return in, res
}

// one applies one message inside the batch's transaction.
func (r *Reader) one(ctx context.Context, tx *sqlx.Tx, it Item, res *reply.Result) (Outcome, error) {
	src := it.Source
	if res == nil {
		r.Log.Warn("message skipped: over the size limit", "msgid", it.MessageID, "size", it.Size)
	}
	in, res := r.record(it, res)
	out := Outcome{Kind: res.Kind, MessageID: res.Header.MessageID}
	if err := advanceCursor(ctx, tx, src); err != nil {
		return out, err
	}
	prev, seen, err := store.InboundSeen(ctx, tx, in.DedupeKey, in.RawHash, in.MessageIDHash, res.Header.From)
	if err != nil || seen {
		out.Duplicate, out.Outcome, out.Reason = seen, prev, "read before"
		return out, err
	}
	reused, err := ownUID(ctx, tx, in)
	if err != nil {
		return out, err
	}
	a := &apply{r: r, tx: tx, raw: it.Raw, res: res, in: in, out: &out}
	switch {
	case reused != "":
		r.Log.Warn("message put aside: the server reused its UID for it", "msgid", in.MessageID, "reason", reused)
		out.Outcome, out.Reason = store.OutcomeQuarantined, reused
	case it.Raw == nil:
		out.Outcome, out.Reason = store.OutcomeQuarantined, res.Reason
	default:
		if err := a.run(ctx); err != nil {
			return out, err
		}
	}
	in.Outcome, in.Reason = out.Outcome, out.Reason
	if err := store.InsertInbound(ctx, tx, in); err != nil {
		return out, err
	}
	out.InboundID = in.ID
	return out, a.finish(ctx)
}

// ownUID gives in a UID of its own. A message from a file is numbered by the
// store. A message from IMAP keeps its (UIDVALIDITY, UID), unless the server
// gave it one that named another message read before: a server whose UIDs
// did not persist but kept its UIDVALIDITY (RFC 3501 section 2.3.1.1 forbids
// that). Then it is numbered by the store with UIDVALIDITY 0, which IMAP
// never uses, and reused says why it must be put aside.
func ownUID(ctx context.Context, tx *sqlx.Tx, in *store.Inbound) (reused string, err error) {
	if in.UID != 0 {
		prev, taken, err := store.InboundAt(ctx, tx, in.Mailbox, in.UIDValidity, in.UID)
		if err != nil || !taken {
			return "", err
		}
		reused = fmt.Sprintf("the server reused UID %d of UIDVALIDITY %d, under which it gave message #%d before", in.UID, in.UIDValidity, prev)
		in.UIDValidity = 0
	}
	in.UID, err = store.NextIngestUID(ctx, tx, in.Mailbox)
	return reused, err
}

// unrecorded puts aside a message whose reading failed with cause, an error
// it would meet at every try: it is recorded as quarantined with the cause as
// the reason, and nothing else of it is kept. When even that cannot be
// recorded, it is still moved to the quarantine folder, and the log says why.
func (r *Reader) unrecorded(ctx context.Context, tx *sqlx.Tx, it Item, res *reply.Result, cause error) (Outcome, error) {
	in, res := r.record(it, res)
	in.Outcome, in.Reason = store.OutcomeQuarantined, "cannot be recorded: "+cause.Error()
	out := Outcome{Kind: res.Kind, Outcome: in.Outcome, Reason: in.Reason, MessageID: in.MessageID}
	r.Log.Error("message put aside: it cannot be recorded", "msgid", in.MessageID, "err", cause)
	err := store.Savepoint(ctx, tx, func() error {
		if err := advanceCursor(ctx, tx, it.Source); err != nil {
			return err
		}
		if _, err := ownUID(ctx, tx, in); err != nil {
			return err
		}
		return store.InsertInbound(ctx, tx, in)
	})
	if err != nil && (store.Transient(err) || ctx.Err() != nil) {
		return out, err
	}
	if err != nil {
		r.Log.Error("message put aside without a record of it", "msgid", in.MessageID, "err", err)
	}
	out.InboundID = in.ID
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
		return a.other(ctx) // unrelated, or kept when a participant sent it
	case sameAddress(a.res.Header.From, box) || isOurBounceAddress(a.res.Header.From, a.r.Cfg):
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

// isOurBounceAddress reports a VERP return path of ours used as a sender.
func isOurBounceAddress(addr string, cfg *config.Config) bool {
	box := cfg.Mailbox
	if !cfg.PlusAddressing() {
		return false
	}
	at := strings.LastIndexByte(box.Address, '@')
	return strings.HasPrefix(strings.ToLower(addr), strings.ToLower(box.Address[:at]+box.PlusDelimiter+"bounce-"))
}

// messageHash is the digest of a message's Message-ID, or for a message
// without one, of its bytes.
func messageHash(messageID string, raw []byte) string {
	var sum [32]byte
	if id := strings.Trim(strings.TrimSpace(messageID), "<>"); id != "" {
		sum = sha256.Sum256([]byte("id:" + strings.ToLower(id)))
	} else {
		sum = sha256.Sum256(append([]byte("raw:"), bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))...))
	}
	return hex.EncodeToString(sum[:])
}

// dedupeKey names a message for recognising it when it is read again: its
// Message-ID, its From as written and its body together, so that the same
// message delivered twice (to two of our addresses, or read again after a
// crash) is one, while a stranger who copies a Message-ID writes another
// message. The trace fields a server adds on delivery (Received,
// Delivered-To, Authentication-Results) are not part of it. A message
// without a Message-ID is named by all of its bytes.
func dedupeKey(h reply.Header, raw []byte) string {
	id := strings.ToLower(strings.Trim(strings.TrimSpace(h.MessageID), "<>"))
	if id == "" {
		return "raw:" + rawHash(raw)
	}
	_, body, _ := decode.SplitHeader(raw)
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	b := sha256.Sum256(body)
	sum := sha256.Sum256([]byte("id:" + id + "\x00from:" + h.FromField + "\x00body:" + hex.EncodeToString(b[:])))
	return hex.EncodeToString(sum[:])
}

// rawHash is the digest of a message's bytes, line ends as LF.
func rawHash(raw []byte) string {
	sum := sha256.Sum256(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")))
	return hex.EncodeToString(sum[:])
}

// deflaters are reused: a new DEFLATE writer allocates about a megabyte.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// compress keeps the raw message small (DEFLATE) for re-processing later.
func compress(raw []byte) []byte {
	var b bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&b)
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
