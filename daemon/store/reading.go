package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Inbound outcomes: where the message went and why.
const (
	OutcomeLogged      = "logged"      // its effects were applied
	OutcomeIgnored     = "ignored"     // understood, nothing to do (auto-reply, stale RSVP, empty reply, unknown UID)
	OutcomeQuarantined = "quarantined" // looked like ours but failed a check
	OutcomeUnrelated   = "unrelated"   // not for mentord: left for a person
	OutcomeLate        = "late"        // a participant's reply after its session's reply window: kept for the admin, not applied
)

// Inbound is one message read from the mailbox (or ingested from a file).
type Inbound struct {
	ID            int64     `db:"id"`
	Mailbox       string    `db:"mailbox"`
	UIDValidity   uint32    `db:"uidvalidity"`
	UID           uint32    `db:"uid"`
	MessageID     string    `db:"message_id"`
	MessageIDHash string    `db:"message_id_hash"`
	DedupeKey     string    `db:"dedupe_key"` // the Message-ID, the From and the body, hashed
	RawHash       string    `db:"raw_hash"`   // the very bytes, hashed
	FromAddr      string    `db:"from_addr"`
	Subject       string    `db:"subject"`
	Kind          string    `db:"kind"`
	Outcome       string    `db:"outcome"`
	Reason        string    `db:"reason"`
	SessionID     *int64    `db:"session_id"`
	PersonID      *int64    `db:"person_id"`
	Raw           []byte    `db:"raw"`
	ReceivedAt    time.Time `db:"received_at"`
}

// InboundSeen returns the outcome of a message read before, and whether it
// was: a message with the same dedupe key (Message-ID, From and body) that
// was not quarantined, or one that was but had the very same bytes. A
// quarantined message never blocks a later one that differs: a stranger's
// copy of a Message-ID must not make the genuine message "read before".
// Messages read before schema 5 have no dedupe key: they match on the
// Message-ID digest and the sender's address.
func InboundSeen(ctx context.Context, q Querier, dedupeKey, rawHash, idHash, from string) (string, bool, error) {
	var outcome string
	err := sqlx.GetContext(ctx, q, &outcome, `SELECT outcome FROM (
		SELECT outcome FROM inbound WHERE dedupe_key = ? AND (outcome <> 'quarantined' OR raw_hash = ?)
		UNION ALL
		SELECT outcome FROM inbound WHERE dedupe_key = '' AND message_id_hash = ? AND from_addr = ? COLLATE NOCASE
			AND outcome <> 'quarantined') LIMIT 1`, dedupeKey, rawHash, idHash, from)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return outcome, err == nil, err
}

// InsertInbound records a message and sets its ID.
func InsertInbound(ctx context.Context, q Querier, in *Inbound) error {
	in.ReceivedAt = UTC(in.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO inbound (mailbox, uidvalidity, uid, message_id, message_id_hash,
		dedupe_key, raw_hash, from_addr, subject, kind, outcome, reason, session_id, person_id, raw, received_at)
		VALUES (:mailbox, :uidvalidity, :uid, :message_id, :message_id_hash, :dedupe_key, :raw_hash, :from_addr, :subject,
		:kind, :outcome, :reason, :session_id, :person_id, :raw, :received_at)`, in)
	if err != nil {
		return fmt.Errorf("record inbound message: %w", err)
	}
	in.ID, err = res.LastInsertId()
	return err
}

// NextIngestUID numbers messages ingested from files, which have no IMAP UID.
func NextIngestUID(ctx context.Context, q Querier, mailbox string) (uint32, error) {
	var n uint32
	err := sqlx.GetContext(ctx, q, &n, `SELECT COALESCE(MAX(uid), 0) + 1 FROM inbound WHERE mailbox = ?`, mailbox)
	return n, err
}

// Cursor is how far a mailbox folder has been read.
type Cursor struct {
	UIDValidity uint32 `db:"uidvalidity"`
	LastUID     uint32 `db:"last_uid"`
}

// GetCursor returns the folder's cursor; zero when it was never read.
func GetCursor(ctx context.Context, q Querier, mailbox string) (Cursor, error) {
	var c Cursor
	err := sqlx.GetContext(ctx, q, &c, `SELECT uidvalidity, last_uid FROM mailbox_cursor WHERE mailbox = ?`, mailbox)
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{}, nil
	}
	return c, err
}

// SetCursor moves the folder's cursor forward (or resets it for a new UIDVALIDITY).
func SetCursor(ctx context.Context, q Querier, mailbox string, c Cursor) error {
	_, err := q.ExecContext(ctx, `INSERT INTO mailbox_cursor (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
		last_uid = CASE WHEN mailbox_cursor.uidvalidity = excluded.uidvalidity THEN MAX(mailbox_cursor.last_uid, excluded.last_uid)
		ELSE excluded.last_uid END`, mailbox, c.UIDValidity, c.LastUID)
	return err
}

// PromptRef is a prompt found from a reply, with what authenticating it needs
// and what tells whether replies to it are still taken.
type PromptRef struct {
	Prompt
	Email   string `db:"email"` // the address it was sent to
	Name    string `db:"name"`  // the roster's name of the person it was sent to
	PairID  int64  `db:"pair_id"`
	Matched string `db:"-"` // "token" or "thread"
	// OutboxID is the message the token or Message-ID names (nil for a
	// token made before schema 7): a reply is read against its text.
	OutboxID *int64 `db:"outbox_id"`
	// The session's start, length, status and last change (its
	// cancellation, when cancelled), and when its pair ended.
	SessionStarts  time.Time  `db:"session_starts"`
	SessionMinutes int        `db:"session_minutes"`
	SessionStatus  string     `db:"session_status"`
	SessionUpdated time.Time  `db:"session_updated"`
	PairEnded      *time.Time `db:"pair_ended"`
}

const (
	promptRefCols = `pr.*, pe.email, pe.name, s.pair_id, s.starts_at AS session_starts, s.duration_min AS session_minutes,
	s.status AS session_status, s.updated_at AS session_updated, pa.ended_at AS pair_ended`
	promptRefJoins = `JOIN people pe ON pe.id = pr.person_id JOIN sessions s ON s.id = pr.session_id JOIN pairs pa ON pa.id = s.pair_id`
)

// PromptByToken finds the prompt a reply token (by its digest) was made for,
// and the message that carried it.
func PromptByToken(ctx context.Context, q Querier, tokenHash string) (PromptRef, error) {
	var p PromptRef
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+promptRefCols+`, t.outbox_id FROM reply_tokens t
		JOIN prompts pr ON pr.id = t.prompt_id `+promptRefJoins+` WHERE t.token_hash = ?`, tokenHash)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.Matched = "token"
	return p, err
}

// PromptByMessageID finds the prompt of a message mentord sent with this
// Message-ID, and that message.
func PromptByMessageID(ctx context.Context, q Querier, messageID string) (PromptRef, error) {
	var p PromptRef
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+promptRefCols+`, o.id AS outbox_id FROM outbox o
		JOIN prompts pr ON pr.id = o.prompt_id `+promptRefJoins+` WHERE o.message_id = ?`, messageID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.Matched = "thread"
	return p, err
}

// SentMessage is an outbox row found from a bounce or a reference.
type SentMessage struct {
	ID        int64  `db:"id"`
	Recipient string `db:"recipient"`
	MessageID string `db:"message_id"`
}

// SentByMessageID finds a message mentord sent by its Message-ID.
func SentByMessageID(ctx context.Context, q Querier, messageID string) (SentMessage, error) {
	var m SentMessage
	err := sqlx.GetContext(ctx, q, &m, `SELECT id, recipient, message_id FROM outbox WHERE message_id = ?`, messageID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// SentByEnvelope finds a message mentord sent by its VERP return path.
func SentByEnvelope(ctx context.Context, q Querier, envelopeFrom string) (SentMessage, error) {
	var m SentMessage
	err := sqlx.GetContext(ctx, q, &m, `SELECT id, recipient, message_id FROM outbox WHERE envelope_from = ? COLLATE NOCASE
		ORDER BY id DESC LIMIT 1`, envelopeFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// GetPerson returns a person by id.
func GetPerson(ctx context.Context, q Querier, id int64) (Person, error) {
	var p Person
	err := sqlx.GetContext(ctx, q, &p, `SELECT * FROM people WHERE id = ?`, id)
	return p, notFound(err, "person", id)
}

// InboundSubject returns the subject of a message read, "" when it is gone.
func InboundSubject(ctx context.Context, q Querier, id int64) (string, error) {
	var s string
	err := sqlx.GetContext(ctx, q, &s, `SELECT subject FROM inbound WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return s, err
}
