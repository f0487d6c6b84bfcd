package store

import (
	"context"
	"fmt"
	"time"
)

// UpdatePerson writes p's address, name, language and time zone.
func UpdatePerson(ctx context.Context, q Querier, p Person) error {
	_, err := q.ExecContext(ctx, `UPDATE people SET email = ?, name = ?, language = ?, timezone = ? WHERE id = ?`,
		p.Email, p.Name, p.Language, p.Timezone, p.ID)
	if err != nil {
		return fmt.Errorf("update person %d: %w", p.ID, err)
	}
	return nil
}

// Unsuspend lifts a person's bounce suspension and clears their bounce
// score; the bounces stay recorded. It reports whether they were suspended.
func Unsuspend(ctx context.Context, q Querier, personID int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE people SET suspended_at = NULL, bounce_score = 0 WHERE id = ? AND suspended_at IS NOT NULL`, personID)
	if err != nil {
		return false, fmt.Errorf("unsuspend person %d: %w", personID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// QueuedTo counts the messages to an address not yet sent (pending or being
// sent): their bytes already carry it.
func QueuedTo(ctx context.Context, q Querier, address string) (int, error) {
	var n int
	err := q.QueryRowxContext(ctx, `SELECT COUNT(*) FROM outbox WHERE recipient = ? COLLATE NOCASE AND state IN ('pending', 'sending')`,
		address).Scan(&n)
	return n, err
}

// Readdress makes the person's planned sessions still to come, in active
// pairs, announce their new address: each gets a higher SEQUENCE (the other
// attendee is sent an update naming the new address), and what the person
// was sent of them is forgotten, so the new address gets a whole invitation
// under a new idempotency key. What was sent to the old address stays in the
// outbox as it was. It returns how many sessions it changed.
func Readdress(ctx context.Context, q Querier, personID int64, now time.Time) (int, error) {
	const sent = `SELECT s.id FROM sessions s JOIN calendar_sent c ON c.session_id = s.id AND c.person_id = ? JOIN pairs p ON p.id = s.pair_id
		WHERE s.status = 'planned' AND s.starts_at > ? AND p.status = 'active'`
	res, err := q.ExecContext(ctx, `UPDATE sessions SET sequence = sequence + 1, invited_at = NULL, updated_at = ? WHERE id IN (`+sent+`)`,
		UTC(now), personID, UTC(now))
	if err != nil {
		return 0, fmt.Errorf("readdress person %d: %w", personID, err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM calendar_sent WHERE person_id = ? AND session_id IN (`+sent+`)`,
		personID, personID, UTC(now)); err != nil {
		return 0, fmt.Errorf("readdress person %d: %w", personID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
