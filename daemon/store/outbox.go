package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxItem is one message to send.
type OutboxItem struct {
	ID              int64      `db:"id" json:"id"`
	Key             string     `db:"idempotency_key" json:"key"`
	Kind            string     `db:"kind" json:"kind"`
	PairID          *int64     `db:"pair_id" json:"pair_id,omitempty"`
	SessionID       *int64     `db:"session_id" json:"session_id,omitempty"`
	PromptID        *int64     `db:"prompt_id" json:"prompt_id,omitempty"`
	Recipient       string     `db:"recipient" json:"recipient"`
	RecipientDomain string     `db:"recipient_domain" json:"-"`
	EnvelopeFrom    string     `db:"envelope_from" json:"-"`
	MessageID       string     `db:"message_id" json:"message_id"`
	Subject         string     `db:"subject" json:"subject"`
	Payload         []byte     `db:"payload" json:"-"` // the message; stored packed in outbox_payloads until sent
	Packed          []byte     `db:"-" json:"-"`       // Pack(Payload), when the caller packed it before its transaction
	State           string     `db:"state" json:"state"`
	Attempts        int        `db:"attempts" json:"attempts"`
	NextAttemptAt   time.Time  `db:"next_attempt_at" json:"next_attempt_at"`
	LastError       string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt       time.Time  `db:"created_at" json:"created_at"`
	ClaimedAt       *time.Time `db:"claimed_at" json:"-"`
	SentAt          *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

// Enqueue adds the item unless one with the same idempotency key exists, and
// reports whether it added it (enqueueing the same thing again is a no-op).
func Enqueue(ctx context.Context, q Querier, it *OutboxItem) (bool, error) {
	it.CreatedAt, it.NextAttemptAt = UTC(it.CreatedAt), UTC(it.NextAttemptAt)
	if it.State == "" {
		it.State = OutboxPending
	}
	res, err := q.ExecContext(ctx, `INSERT INTO outbox (idempotency_key, kind, pair_id, session_id, prompt_id,
		recipient, recipient_domain, envelope_from, message_id, subject, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`, it.Key, it.Kind, it.PairID, it.SessionID, it.PromptID, it.Recipient,
		it.RecipientDomain, it.EnvelopeFrom, it.MessageID, it.Subject, it.State, it.NextAttemptAt, it.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", it.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if it.ID, err = res.LastInsertId(); err != nil {
		return false, err
	}
	packed := it.Packed
	if packed == nil {
		packed = Pack(it.Payload)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO outbox_payloads (outbox_id, data) VALUES (?, ?)`, it.ID, packed); err != nil {
		return false, fmt.Errorf("enqueue %s: %w", it.Key, err)
	}
	return true, nil
}

// Enqueued reports whether an item with this idempotency key exists.
func Enqueued(ctx context.Context, q Querier, key string) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM outbox WHERE idempotency_key = ?`, key)
	return n > 0, err
}

// ClaimDue marks due items 'sending' and returns them, in the order they are
// due (next_attempt_at, then id). It takes no more than lim allows: lim.Batch
// items, and only as many as the rolling windows have room for: messages sent
// in the last minute below lim.PerMinute and in the last 24 hours below
// lim.PerDay, counting those being sent. With lim.PerDomainPerMinute, a
// recipient domain that had that many in the last minute gets no more until
// the minute has passed. The counts come from the outbox itself (sent_at), so
// the limits hold across restarts and for a second process.
func ClaimDue(ctx context.Context, tx *sqlx.Tx, now time.Time, lim Limits) ([]OutboxItem, error) {
	now = UTC(now)
	n, err := room(ctx, tx, now, lim)
	if err != nil || n <= 0 {
		return nil, err
	}
	var items []OutboxItem
	if err := tx.SelectContext(ctx, &items, `SELECT o.*, COALESCE(p.data, x'') AS payload
		FROM outbox o LEFT JOIN outbox_payloads p ON p.outbox_id = o.id WHERE o.state = 'pending' AND o.next_attempt_at <= ?
		ORDER BY o.next_attempt_at, o.id LIMIT ?`, now, n); err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	if items, err = unpackItems(ctx, tx, items); err != nil {
		return nil, err
	}
	if lim.PerDomainPerMinute > 0 {
		var err error
		if items, err = limitPerDomain(ctx, tx, items, now, lim.PerDomainPerMinute); err != nil {
			return nil, err
		}
	}
	for i := range items {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_at = ?
			WHERE id = ?`, now, items[i].ID); err != nil {
			return nil, fmt.Errorf("claim outbox %d: %w", items[i].ID, err)
		}
		items[i].State, items[i].Attempts, items[i].ClaimedAt = OutboxSending, items[i].Attempts+1, &now
	}
	return items, nil
}

// unpackItems restores the claimed messages' bytes. A message whose stored
// bytes cannot be read fails (it could never be sent) rather than stopping
// every claim after it.
func unpackItems(ctx context.Context, tx *sqlx.Tx, items []OutboxItem) ([]OutboxItem, error) {
	kept := items[:0]
	for _, it := range items {
		raw, err := Unpack(it.Payload)
		if err != nil {
			if err := MarkFailed(ctx, tx, it.ID, err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		it.Payload = raw
		kept = append(kept, it)
	}
	return kept, nil
}

func limitPerDomain(ctx context.Context, tx *sqlx.Tx, items []OutboxItem, now time.Time, perDomain int) ([]OutboxItem, error) {
	used := map[string]int{}
	kept := items[:0]
	for _, it := range items {
		d := it.RecipientDomain
		if _, ok := used[d]; !ok {
			u, err := usage(ctx, tx, now, Minute, perDomain, d)
			if err != nil {
				return nil, err
			}
			used[d] = u.Used
		}
		if used[d] >= perDomain {
			continue
		}
		used[d]++
		kept = append(kept, it)
	}
	return kept, nil
}

// MarkSent records the server's acceptance and drops the message's bytes:
// once delivered, the database keeps neither the text nor its live reply
// token, only the record (kind, recipient, Message-ID, subject, times). The
// bytes' pages are freed, for new messages or for Reclaim.
func MarkSent(ctx context.Context, q Querier, id int64, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = ?, last_error = '', claimed_at = NULL
		WHERE id = ?`, UTC(now), id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM outbox_payloads WHERE outbox_id = ?`, id)
	return err
}

// MarkRetry puts a claimed item back to wait until next.
func MarkRetry(ctx context.Context, q Querier, id int64, next time.Time, reason string) error {
	_, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, claimed_at = NULL
		WHERE id = ?`, UTC(next), reason, id)
	return err
}

// MarkFailed gives up on an item.
func MarkFailed(ctx context.Context, q Querier, id int64, reason string) error {
	_, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'failed', last_error = ?, claimed_at = NULL WHERE id = ?`, reason, id)
	return err
}

// Release returns a claimed item not yet tried to the queue, due as before,
// without counting the attempt.
func Release(ctx context.Context, q Querier, id int64) error {
	_, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = attempts - 1, claimed_at = NULL
		WHERE id = ? AND state = 'sending'`, id)
	return err
}

// RetryNow makes the pending items waiting to retry after an error due at
// now: when what failed them (the server, the sign-in) was fixed. It returns
// how many.
func RetryNow(ctx context.Context, q Querier, now time.Time) (int, error) {
	res, err := q.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND last_error != ''
		AND next_attempt_at > ?`, UTC(now), UTC(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseClaims returns every 'sending' item to 'pending' (at start-up: a
// claim left by a process that died), keeping its attempt count.
func ReleaseClaims(ctx context.Context, q Querier) (int, error) {
	res, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'pending', claimed_at = NULL WHERE state = 'sending'`)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// NextDue returns when the earliest pending item is due, or nil when none is pending.
func NextDue(ctx context.Context, q Querier) (*time.Time, error) {
	var t []time.Time
	if err := sqlx.SelectContext(ctx, q, &t, `SELECT next_attempt_at FROM outbox WHERE state = 'pending'
		ORDER BY next_attempt_at LIMIT 1`); err != nil {
		return nil, err
	}
	if len(t) == 0 {
		return nil, nil
	}
	return &t[0], nil
}

// ListOutbox returns outbox items in a state ("" for all), newest first, without payloads.
func ListOutbox(ctx context.Context, q Querier, state string, limit int) ([]OutboxItem, error) {
	var items []OutboxItem
	query := `SELECT id, idempotency_key, kind, pair_id, session_id, prompt_id, recipient, recipient_domain, envelope_from,
		message_id, subject, x'' AS payload, state, attempts, next_attempt_at, last_error, created_at, claimed_at, sent_at
		FROM outbox`
	var err error
	if state == "" {
		err = sqlx.SelectContext(ctx, q, &items, query+` ORDER BY id DESC LIMIT ?`, limit)
	} else {
		err = sqlx.SelectContext(ctx, q, &items, query+` WHERE state = ? ORDER BY id DESC LIMIT ?`, state, limit)
	}
	return items, err
}

// FailSuspended fails the pending messages to people whose address was
// suspended after repeated bounces: sending to it again would only bounce.
// It runs before every send, so it first asks whether anyone is suspended
// (through a partial index, at once): the update reads every pending
// message, 120,000 of them after a large import.
func FailSuspended(ctx context.Context, q Querier) error {
	var anyone bool
	if err := sqlx.GetContext(ctx, q, &anyone, `SELECT EXISTS (SELECT 1 FROM people WHERE suspended_at IS NOT NULL)`); err != nil || !anyone {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE outbox SET state = 'failed', last_error = 'the address is suspended after repeated bounces'
		WHERE state = 'pending' AND recipient IN (SELECT email FROM people WHERE suspended_at IS NOT NULL)`)
	return err
}
