package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Prompt purposes.
const (
	PurposeInvite     = "invite"
	PurposeChecklist  = "checklist"
	PurposeReflection = "reflection"
	PurposeBrief      = "brief"
	PurposeDigest     = "digest" // the year in review, before the final session
)

// Prompt is one thing mentord asked one person about one session.
type Prompt struct {
	ID        int64      `db:"id"`
	SessionID int64      `db:"session_id"`
	PersonID  int64      `db:"person_id"`
	Purpose   string     `db:"purpose"`
	Language  string     `db:"language"`
	Questions string     `db:"questions"` // JSON
	CreatedAt time.Time  `db:"created_at"`
	RepliedAt *time.Time `db:"replied_at"`
	SentText  string     `db:"sent_text"` // the text/plain body of its first message
}

// EnsurePrompt returns the prompt for (session, person, purpose), creating it
// from p when there is none yet. An existing prompt keeps its questions.
func EnsurePrompt(ctx context.Context, q Querier, p *Prompt) error {
	p.CreatedAt = UTC(p.CreatedAt)
	if _, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO prompts (session_id, person_id, purpose, language, questions, created_at, sent_text)
		VALUES (:session_id, :person_id, :purpose, :language, :questions, :created_at, :sent_text)
		ON CONFLICT (session_id, person_id, purpose) DO NOTHING`, p); err != nil {
		return fmt.Errorf("insert prompt: %w", err)
	}
	return sqlx.GetContext(ctx, q, p, `SELECT * FROM prompts WHERE session_id = ? AND person_id = ? AND purpose = ?`,
		p.SessionID, p.PersonID, p.Purpose)
}

// GetPrompt returns a prompt by (session, person, purpose), or ErrNotFound.
func GetPrompt(ctx context.Context, q Querier, sessionID, personID int64, purpose string) (Prompt, error) {
	var p Prompt
	err := sqlx.GetContext(ctx, q, &p, `SELECT * FROM prompts WHERE session_id = ? AND person_id = ? AND purpose = ?`,
		sessionID, personID, purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// InsertToken stores a reply token's digest for a prompt and the message
// that carries it (outboxID).
func InsertToken(ctx context.Context, q Querier, hash string, promptID, outboxID int64, now time.Time) error {
	var carrier any // NULL for none
	if outboxID != 0 {
		carrier = outboxID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO reply_tokens (token_hash, prompt_id, outbox_id, created_at) VALUES (?, ?, ?, ?)`,
		hash, promptID, carrier, UTC(now))
	return err
}

// SetCalendarSent records the calendar state just enqueued for a person, and
// marks the session invited once every attendee has been sent it.
func SetCalendarSent(ctx context.Context, q Querier, sessionID, personID int64, seq int, method string, start, now time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO calendar_sent (session_id, person_id, sequence, method, starts_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id, person_id) DO UPDATE SET sequence = excluded.sequence, method = excluded.method,
		starts_at = excluded.starts_at, updated_at = excluded.updated_at`,
		sessionID, personID, seq, method, UTC(start), UTC(now)); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE sessions SET invited_at = ? WHERE id = ? AND invited_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM session_attendees a WHERE a.session_id = sessions.id
			AND NOT EXISTS (SELECT 1 FROM calendar_sent c WHERE c.session_id = a.session_id AND c.person_id = a.person_id))`,
		UTC(now), sessionID)
	return err
}

// CalendarSent is the calendar state last sent to one person for one session.
type CalendarSent struct {
	SessionID int64     `db:"session_id"`
	PersonID  int64     `db:"person_id"`
	Sequence  int       `db:"sequence"`
	Method    string    `db:"method"`
	StartsAt  time.Time `db:"starts_at"`
}

// GetCalendarSent returns what was last sent to a person about a session, or ErrNotFound.
func GetCalendarSent(ctx context.Context, q Querier, sessionID, personID int64) (CalendarSent, error) {
	var c CalendarSent
	err := sqlx.GetContext(ctx, q, &c, `SELECT session_id, person_id, sequence, method, starts_at FROM calendar_sent
		WHERE session_id = ? AND person_id = ?`, sessionID, personID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// FirstMessageID returns the Message-ID of a prompt's first message, for threading a nudge.
func FirstMessageID(ctx context.Context, q Querier, promptID int64) (string, error) {
	var id string
	err := sqlx.GetContext(ctx, q, &id, `SELECT message_id FROM outbox WHERE prompt_id = ? ORDER BY id LIMIT 1`, promptID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}
