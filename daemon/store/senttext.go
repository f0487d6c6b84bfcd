package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The text of a message sent about a checklist or a reflection, other than
// the prompt's first (whose text is the prompt's SentText): a nudge, an
// acknowledgement. A reply quoting one without '>' (Outlook puts the
// original under a From/Sent/To/Subject block, unprefixed) is read against
// it, so none of its lines is taken for something the mentee typed. It is
// kept packed, while replies about its session are taken.

// InsertSentText keeps the text of the message outboxID, about sessionID,
// already packed (Pack).
func InsertSentText(ctx context.Context, q Querier, outboxID, sessionID int64, packed []byte) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO sent_texts (outbox_id, session_id, data) VALUES (?, ?, ?)
		ON CONFLICT (outbox_id) DO NOTHING`, outboxID, sessionID, packed); err != nil {
		return fmt.Errorf("keep the text of outbox %d: %w", outboxID, err)
	}
	return nil
}

// SentText returns the text kept for the message outboxID, or "" when none
// is kept (the prompt's first message, or its session's replies are no
// longer taken).
func SentText(ctx context.Context, q Querier, outboxID int64) (string, error) {
	var data []byte
	err := sqlx.GetContext(ctx, q, &data, `SELECT data FROM sent_texts WHERE outbox_id = ?`, outboxID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	text, err := Unpack(data)
	if err != nil {
		return "", fmt.Errorf("the text of outbox %d: %w", outboxID, err)
	}
	return string(text), nil
}

// TextSession is a session some message text is kept for, with what tells
// until when replies about it are taken.
type TextSession struct {
	SessionID  int64      `db:"session_id"`
	StartsAt   time.Time  `db:"starts_at"`
	Minutes    int        `db:"duration_min"`
	Status     string     `db:"status"`
	UpdatedAt  time.Time  `db:"updated_at"`
	PairEnded  *time.Time `db:"ended_at"`
	TextsCount int        `db:"texts"`
}

// RepliesUntil is when replies about the session stop being taken: window
// after it ends, or when it was cancelled or its pair ended, if earlier
// (the rule daemon/ingest applies to every reply).
func (s TextSession) RepliesUntil(window time.Duration) time.Time {
	until := s.StartsAt.Add(time.Duration(s.Minutes)*time.Minute + window)
	if s.Status == SessionCancelled && s.UpdatedAt.Before(until) {
		until = s.UpdatedAt
	}
	if s.PairEnded != nil && s.PairEnded.Before(until) {
		until = *s.PairEnded
	}
	return until
}

// DropSentTexts drops the texts kept for sessions whose replies are no
// longer taken at now (window: timings.reply_window), and returns how many.
// The sessions with texts kept are few (those of the last reply window), so
// each is looked at in turn.
func DropSentTexts(ctx context.Context, db *DB, now time.Time, window time.Duration) (int, error) {
	var ss []TextSession
	if err := sqlx.SelectContext(ctx, db.R(), &ss, `SELECT t.session_id, t.texts, s.starts_at, s.duration_min, s.status,
		s.updated_at, p.ended_at FROM (SELECT session_id, COUNT(*) AS texts FROM sent_texts GROUP BY session_id) t
		JOIN sessions s ON s.id = t.session_id JOIN pairs p ON p.id = s.pair_id`); err != nil {
		return 0, fmt.Errorf("sent texts: %w", err)
	}
	n := 0
	for _, s := range ss {
		if !now.After(s.RepliesUntil(window)) {
			continue
		}
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sent_texts WHERE session_id = ?`, s.SessionID)
			return err
		}); err != nil {
			return n, fmt.Errorf("drop the texts of session %d: %w", s.SessionID, err)
		}
		n += s.TextsCount
	}
	return n, nil
}
