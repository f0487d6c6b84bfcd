package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// Purged is what a purge removed.
type Purged struct {
	RawMessages int `json:"raw_messages"` // originals dropped (the log stays)
	Pairs       int `json:"pairs"`        // pairs whose whole log was deleted
	Entries     int `json:"entries"`      // progress log entries among them
}

// Purge applies retention at now: it drops the originals of messages received
// before now-raw, and deletes the log of every pair whose programme ended
// before now-pairLog (answers, replies, promises, calendar answers, proposals,
// prompts and the messages behind them). The roster (people, pairs, sessions)
// stays, so the programme's history still counts. With dryRun nothing changes.
//
// What goes is counted first, in one snapshot; then it goes in short write
// transactions, purgeBatch originals or one pair's log at a time, so the
// daemon's other writes (a message it sent) wait for one of them at most.
func Purge(ctx context.Context, db *DB, now time.Time, raw, pairLog time.Duration, dryRun bool) (Purged, error) {
	var p Purged
	var pairs []int64
	err := func() error {
		tx, err := db.r.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.GetContext(ctx, &p.RawMessages, `SELECT COUNT(*) FROM inbound WHERE raw IS NOT NULL AND received_at < ?`,
			UTC(now.Add(-raw))); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &pairs, `SELECT p.id FROM pairs p JOIN agreements a ON a.pair_id = p.id
			WHERE COALESCE(MIN(p.ended_at, a.ends_at), a.ends_at) < ?
			AND EXISTS (SELECT 1 FROM sessions s JOIN prompts pr ON pr.session_id = s.id WHERE s.pair_id = p.id)`,
			UTC(now.Add(-pairLog))); err != nil {
			return err
		}
		p.Pairs = len(pairs)
		for _, id := range pairs {
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM progress_entries WHERE session_id IN (SELECT id FROM sessions WHERE pair_id = ?)`, id); err != nil {
				return err
			}
			p.Entries += n
		}
		return nil
	}()
	if err != nil || dryRun {
		return p, err
	}
	for {
		var n int
		if err := db.Tx(ctx, func(tx *sqlx.Tx) (err error) {
			n, err = dropRawBefore(ctx, tx, now.Add(-raw), purgeBatch)
			return err
		}); err != nil {
			return p, err
		}
		if n < purgeBatch {
			break
		}
	}
	for _, id := range pairs {
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return purgePair(ctx, tx, id) }); err != nil {
			return p, err
		}
	}
	return p, nil
}

// purgeBatch is how many originals one transaction of Purge drops.
const purgeBatch = 500

// dropRawBefore drops the originals of up to limit messages received before
// cut, and returns how many.
func dropRawBefore(ctx context.Context, q Querier, cut time.Time, limit int) (int, error) {
	res, err := q.ExecContext(ctx, `UPDATE inbound SET raw = NULL WHERE id IN
		(SELECT id FROM inbound WHERE raw IS NOT NULL AND received_at < ? LIMIT ?)`, UTC(cut), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// purgePair deletes what a pair's people wrote and what was sent to them.
func purgePair(ctx context.Context, tx *sqlx.Tx, pairID int64) error {
	const sessionsOf = `(SELECT id FROM sessions WHERE pair_id = ?)`
	for _, q := range []string{
		`DELETE FROM action_items WHERE pair_id = ?`,
		`DELETE FROM progress_entries WHERE session_id IN ` + sessionsOf,
		`DELETE FROM replies WHERE session_id IN ` + sessionsOf,
		`DELETE FROM calendar_replies WHERE session_id IN ` + sessionsOf,
		`DELETE FROM proposals WHERE session_id IN ` + sessionsOf,
		`DELETE FROM inbound WHERE session_id IN ` + sessionsOf,
		`DELETE FROM outbox_payloads WHERE outbox_id IN (SELECT id FROM outbox WHERE session_id IN ` + sessionsOf + `)`,
		`DELETE FROM sent_texts WHERE session_id IN ` + sessionsOf,
		`UPDATE outbox SET prompt_id = NULL WHERE session_id IN ` + sessionsOf,
		`DELETE FROM prompts WHERE session_id IN ` + sessionsOf,
	} {
		if _, err := tx.ExecContext(ctx, q, pairID); err != nil {
			return err
		}
	}
	return nil
}
