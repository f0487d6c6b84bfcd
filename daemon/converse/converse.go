// Package converse gives every message from a programme participant a
// purpose (issue 13), beyond the answers to checklists and reflections that
// daemon/ingest logs itself: an answer to a question mentord asked, a
// request, a check-in, or else a message kept for the admin with the sender
// told that a person will read it. It also holds the pair-level operations
// these requests share with the admin's commands (pause, resume, moving a
// session on a yes) and the admin digest.
//
// The flow for one message (Handle), inside daemon/ingest's transaction,
// once ingest has checked who sent it (trust.go there: one From mailbox, the
// person a token or thread of ours was sent to, our server's DMARC verdict):
//  1. Read again what the sender typed, with their roster name as a known
//     signature (mail/reply), and find their pair: the one the message
//     answers, else their only active pair.
//  2. Read what it asks for (mail/intent): a yes or no, requests, dates.
//  3. A question mentord asked that person comes first: a confirmation of a
//     request (only a reply carrying our token or thread counts), or a
//     proposed new time (yes moves the session, no or another time answers
//     the proposer).
//  4. Then requests: pause until a date, resume, move a session, send my
//     log (only to the address on file, at most once a day), stop taking
//     part. Pause, resume, stop and move change things only for a sender
//     mentord can be sure of (a token or thread of ours, or our server's
//     DMARC pass); anyone else is asked to confirm by replying, which only
//     the address on file can do.
//  5. Anything else: a check-in when it tells rather than asks (written into
//     the sender's own log, tied to the next session, acknowledged), or kept
//     for the admin when it asks something a person must answer.
//
// Everything it writes waits for the inbound row (Result.After), and every
// message it sends has an idempotency key made from that row's id, so
// reading a message again (`mentord inbox release`) sends nothing twice.
package converse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/intent"
	"github.com/mentord/mentord/mail/reply"
	"github.com/mentord/mentord/templates"
)

// Conversation handles participants' messages in one transaction.
type Conversation struct {
	Cfg *config.Config
	Tpl *templates.Set
	DB  *store.DB // for the composer's instance id and read pool
	Tx  *sqlx.Tx
	Now time.Time
	Log *slog.Logger
}

// Message is a message from a known participant, as ingest checked it.
type Message struct {
	Raw    []byte
	Header reply.Header
	Person store.Person
	// Prompt is what the message answers (by our token or thread); nil for
	// a new message to the programme address.
	Prompt *store.PromptRef
	// Verified: mentord is sure of the sender (a token or thread of ours
	// with a matching From, or our server's DMARC pass).
	Verified bool
	// Relayable: the sender's own words may go to someone else.
	Relayable bool
}

// Result is what handling a message decided. After does the writing, once
// the inbound row exists, in the same transaction.
type Result struct {
	Outcome   string
	Reason    string
	SessionID *int64
	After     func(ctx context.Context, inboundID int64) error
}

// talk is one message being handled.
type talk struct {
	c       *Conversation
	m       Message
	text    string
	read    intent.Reading
	pair    store.PairView
	mentee  bool
	session *store.Session // the session it is about: the prompt's, else the pair's next
}

// Handle gives a participant's message its purpose.
func (c *Conversation) Handle(ctx context.Context, m Message) (Result, error) {
	res, err := reply.Parse(m.Raw, reply.Options{Names: []string{m.Person.Name}, MaxBytes: int64(c.Cfg.IMAP.MaxMessageSize)})
	if err != nil {
		return Result{}, fmt.Errorf("read the message again: %w", err)
	}
	t := &talk{c: c, m: m, text: strings.TrimSpace(res.NewText)}
	if t.text == "" {
		return Result{Outcome: store.OutcomeIgnored, Reason: "empty: nothing was typed"}, nil
	}
	t.read = intent.Read(t.text)
	switch err := t.findPair(ctx); {
	case errors.Is(err, errNoPair), errors.Is(err, errSeveralPairs):
		return t.keep(err.Error(), nil), nil
	case err != nil:
		return Result{}, err
	}
	if p := t.m.Prompt; p != nil {
		switch p.Purpose {
		case store.PurposeMatch:
			return t.matchAnswer(ctx)
		case store.PurposeAgreement:
			return t.agreementReply(ctx)
		}
	}
	if r, ok, err := t.pending(ctx); ok || err != nil {
		return r, err
	}
	if r, ok, err := t.requests(ctx); ok || err != nil {
		return r, err
	}
	if t.read.Declines && t.m.Prompt != nil && t.m.Prompt.Purpose == store.PurposeInvite && t.session != nil {
		return t.writtenDecline(ctx)
	}
	if t.read.Question {
		return t.keep("a question for a person", nil), nil
	}
	return t.checkIn(ctx)
}

var (
	errNoPair       = errors.New("the sender is in no active pair")
	errSeveralPairs = errors.New("several-pairs: the sender is in more than one active pair, and the message names none")
)

// findPair finds the pair and session the message is about.
func (t *talk) findPair(ctx context.Context) error {
	q := t.c.Tx
	var err error
	if p := t.m.Prompt; p != nil {
		if t.pair, err = store.GetPair(ctx, q, p.PairID); err != nil {
			return err
		}
		if t.pair.Status != store.PairActive {
			return errNoPair
		}
		s, err := store.GetSession(ctx, q, p.SessionID)
		if err != nil {
			return err
		}
		if s.Status == store.SessionPlanned && s.StartsAt.After(t.c.Now) {
			t.session = &s
		}
	} else {
		pairs, err := store.ActivePairsOf(ctx, q, t.m.Person.ID)
		if err != nil {
			return err
		}
		switch len(pairs) {
		case 0:
			return errNoPair
		case 1:
			t.pair = pairs[0]
		default:
			return errSeveralPairs
		}
	}
	t.mentee = t.pair.Mentee.ID == t.m.Person.ID
	if t.session == nil {
		s, err := store.NextSession(ctx, q, t.pair.ID, t.c.Now)
		if err == nil {
			t.session = &s
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// result is a handled message's result, with the session it is about.
func (t *talk) result(outcome, reason string, after func(ctx context.Context, inboundID int64) error) Result {
	r := Result{Outcome: outcome, Reason: reason, After: after}
	if t.session != nil {
		id := t.session.ID
		r.SessionID = &id
	}
	return r
}

// keep keeps the message for the admin and tells the sender a person will
// read it (then runs also, when given).
func (t *talk) keep(why string, also func(ctx context.Context, inboundID int64) error) Result {
	r := Result{Outcome: store.OutcomeKept, Reason: "kept for the admin: " + why}
	var pairID *int64
	if t.pair.ID != 0 {
		id := t.pair.ID
		pairID = &id
	}
	r.After = func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		if err := store.KeepMessage(ctx, t.c.Tx, &store.Kept{InboundID: inboundID, PersonID: &pid, PairID: pairID, Why: why,
			CreatedAt: t.c.Now}); err != nil {
			return err
		}
		if also != nil {
			if err := also(ctx, inboundID); err != nil {
				return err
			}
		}
		if t.pair.ID == 0 {
			return nil // no pair to write about: the admin answers
		}
		return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "kept"}, nil)
	}
	return r
}

// keepWith keeps the message for the admin and lets tell answer the
// sender (instead of "a person will read it").
func (t *talk) keepWith(why string, tell func(ctx context.Context, inboundID int64) error) Result {
	r := Result{Outcome: store.OutcomeKept, Reason: "kept for the admin: " + why}
	r.After = func(ctx context.Context, inboundID int64) error {
		pid, pair := t.m.Person.ID, t.pair.ID
		if err := store.KeepMessage(ctx, t.c.Tx, &store.Kept{InboundID: inboundID, PersonID: &pid, PairID: &pair, Why: why,
			CreatedAt: t.c.Now}); err != nil {
			return err
		}
		return tell(ctx, inboundID)
	}
	return r
}

// checkIn writes the message into the sender's own log as a check-in, tied
// to the next session, and acknowledges it.
func (t *talk) checkIn(ctx context.Context) (Result, error) {
	about := ""
	if p := t.m.Prompt; p != nil {
		about = p.Purpose
	}
	return t.result(store.OutcomeLogged, "check-in", func(ctx context.Context, inboundID int64) error {
		ci := &store.CheckIn{InboundID: inboundID, PairID: t.pair.ID, PersonID: t.m.Person.ID, About: about, Text: t.text,
			Relayable: t.m.Relayable && t.m.Verified, ReceivedAt: t.c.Now}
		if t.session != nil {
			ci.SessionID = &t.session.ID
		}
		if err := store.InsertCheckIn(ctx, t.c.Tx, ci); err != nil {
			return err
		}
		if !t.c.Cfg.AcknowledgeReplies() {
			return nil
		}
		return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "checkin"}, nil)
	}), nil
}

// send composes a conversation message to a person of the pair about the
// message's session and records it in the outbox.
func (t *talk) send(ctx context.Context, inboundID int64, to store.Person, tk templates.Talk, edit func(*compose.Talk)) error {
	ct := compose.Talk{To: to, Pair: t.pair, Key: fmt.Sprintf("talk:%s:%d:%d", tk.What, inboundID, to.ID), Talk: tk}
	if t.session != nil {
		ct.SessionID = t.session.ID
	}
	if to.ID == t.m.Person.ID {
		ct.InReplyTo = t.m.Header.MessageID
	}
	if edit != nil {
		edit(&ct)
	}
	return t.c.sendTalk(ctx, ct)
}

// sendTalk composes and records one conversation message.
func (c *Conversation) sendTalk(ctx context.Context, ct compose.Talk) error {
	comp := compose.New(c.Cfg, c.Tpl, c.DB, c.Now).InTx(c.Tx)
	out, err := comp.ComposeTalk(ctx, ct)
	if err != nil {
		return fmt.Errorf("compose %s: %w", ct.Key, err)
	}
	added, err := compose.Record(ctx, c.Tx, out, c.Now)
	if added && c.Log != nil {
		c.Log.Debug("enqueued", "kind", out.Item.Kind, "key", out.Item.Key, "msgid", out.Item.MessageID)
	}
	return err
}

// tellAdmin sends the admin a notice (when programme.admin_email is set).
func (c *Conversation) tellAdmin(ctx context.Context, key, title string, lines ...string) error {
	comp := compose.New(c.Cfg, c.Tpl, c.DB, c.Now).InTx(c.Tx)
	out, err := comp.ComposeAdmin(ctx, templates.Notice, key, 0, func(d *templates.Data) {
		d.Notice = &templates.AdminNotice{Title: title, Lines: lines}
	})
	if err != nil || out == nil {
		return err
	}
	_, err = compose.Record(ctx, c.Tx, out, c.Now)
	return err
}

// other is the pair's other person.
func (t *talk) other() store.Person {
	if t.mentee {
		return t.pair.Mentor
	}
	return t.pair.Mentee
}

// role names the sender's role.
func (t *talk) role() string {
	if t.mentee {
		return store.RoleMentee
	}
	return store.RoleMentor
}

// composeTalk is a conversation message about the pair, on no session.
func composeTalk(pair store.PairView, to store.Person, key string, tk templates.Talk) compose.Talk {
	return compose.Talk{To: to, Pair: pair, Key: key, Talk: tk}
}
