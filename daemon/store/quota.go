package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"
)

// The rolling windows of the sending quotas.
const (
	Minute = time.Minute
	Day    = 24 * time.Hour
)

// Limits bound what ClaimDue hands out. A limit of 0 is no limit.
type Limits struct {
	Batch              int // items in one claim
	PerMinute          int // messages through the server in any 60 seconds
	PerDay             int // recipients (one per message) in any 24 hours
	PerDomainPerMinute int // messages to one recipient domain in any 60 seconds
}

// WindowUse is how much of one rolling window ending now is used.
type WindowUse struct {
	Window time.Duration
	Limit  int // 0: no limit
	// Used counts the messages sent within the window and those being sent
	// now (claimed by this or another process), which will be.
	Used int
	// FreesAt is when Used next drops below Limit; zero unless the window is full.
	FreesAt time.Time
}

// Full reports whether the window has no room left.
func (u WindowUse) Full() bool { return u.Limit > 0 && u.Used >= u.Limit }

// Free is how many more messages the window takes now.
func (u WindowUse) Free() int {
	if u.Limit <= 0 {
		return math.MaxInt
	}
	return max(u.Limit-u.Used, 0)
}

// Freed is when a send stamped sentAt stops counting in a window. sent_at is
// kept to the second, rounded down, so the send may have happened up to a
// second after its stamp: it counts for one more second, and no window ever
// holds more than its limit however the seconds fall.
func Freed(sentAt time.Time, window time.Duration) time.Time { return sentAt.Add(window + time.Second) }

// windowStart is the oldest sent_at that still counts in the window ending at now.
func windowStart(now time.Time, window time.Duration) time.Time { return UTC(now).Add(-window) }

// Usage counts the window ending at now from the outbox itself (sent_at), so
// it holds across restarts and for every process using the database.
func Usage(ctx context.Context, q Querier, now time.Time, window time.Duration, limit int) (WindowUse, error) {
	return usage(ctx, q, now, window, limit, "")
}

// usage counts all messages, or with domain those to one recipient domain.
func usage(ctx context.Context, q Querier, now time.Time, window time.Duration, limit int, domain string) (WindowUse, error) {
	u := WindowUse{Window: window, Limit: limit}
	from := windowStart(now, window)
	var sent, sending int
	var err error
	// The literal state = 'sent' lets SQLite use the partial indexes on sent_at.
	if domain == "" {
		err = sqlx.GetContext(ctx, q, &sent, `SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ?`, from)
		if err == nil {
			err = sqlx.GetContext(ctx, q, &sending, `SELECT COUNT(*) FROM outbox WHERE state = 'sending'`)
		}
	} else {
		err = sqlx.GetContext(ctx, q, &sent, `SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND recipient_domain = ? AND sent_at >= ?`,
			domain, from)
		if err == nil {
			err = sqlx.GetContext(ctx, q, &sending, `SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND recipient_domain = ?`, domain)
		}
	}
	if err != nil {
		return u, fmt.Errorf("count sends in the last %s: %w", window, err)
	}
	u.Used = sent + sending
	if !u.Full() {
		return u, nil
	}
	// Room comes back when the (Used-Limit+1)th oldest counted send leaves the
	// window. Those being sent have no stamp yet: at the earliest they are sent now.
	k := u.Used - u.Limit
	if k >= sent {
		u.FreesAt = Freed(UTC(now), window)
		return u, nil
	}
	var at []time.Time
	if domain == "" {
		err = sqlx.SelectContext(ctx, q, &at, `SELECT sent_at FROM outbox WHERE state = 'sent' AND sent_at >= ?
			ORDER BY sent_at LIMIT 1 OFFSET ?`, from, k)
	} else {
		err = sqlx.SelectContext(ctx, q, &at, `SELECT sent_at FROM outbox WHERE state = 'sent' AND recipient_domain = ? AND sent_at >= ?
			ORDER BY sent_at LIMIT 1 OFFSET ?`, domain, from, k)
	}
	if err != nil {
		return u, fmt.Errorf("oldest send in the last %s: %w", window, err)
	}
	u.FreesAt = Freed(UTC(now), window)
	if len(at) == 1 {
		u.FreesAt = Freed(at[0], window)
	}
	return u, nil
}

// SentSince returns the stamps of the messages sent at or after from, oldest
// first: the history a window's future is worked out from.
func SentSince(ctx context.Context, q Querier, from time.Time) ([]time.Time, error) {
	var at []time.Time
	err := sqlx.SelectContext(ctx, q, &at, `SELECT sent_at FROM outbox WHERE state = 'sent' AND sent_at >= ? ORDER BY sent_at`, UTC(from))
	return at, err
}

// DueCount counts the messages due at now: pending and due, or being sent.
func DueCount(ctx context.Context, q Querier, now time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?)
		+ (SELECT COUNT(*) FROM outbox WHERE state = 'sending')`, UTC(now))
	return n, err
}

// windowLimit is one server-wide rolling window and its limit.
type windowLimit struct {
	window time.Duration
	limit  int
}

// windows are the limited server-wide windows: the minute's and the day's.
func (l Limits) windows() []windowLimit {
	var ws []windowLimit
	for _, w := range []windowLimit{{Minute, l.PerMinute}, {Day, l.PerDay}} {
		if w.limit > 0 {
			ws = append(ws, w)
		}
	}
	return ws
}

// room is how many items the server-wide windows let ClaimDue take at now.
func room(ctx context.Context, q Querier, now time.Time, lim Limits) (int, error) {
	n := lim.Batch
	for _, w := range lim.windows() {
		u, err := Usage(ctx, q, now, w.window, w.limit)
		if err != nil {
			return 0, err
		}
		n = min(n, u.Free())
	}
	return n, nil
}

// NextClaim returns when ClaimDue with lim may next hand out an item: the
// earliest due time, or, when items are due already, when the windows have
// room again (now if they have). It returns zero when nothing is pending.
func NextClaim(ctx context.Context, q Querier, now time.Time, lim Limits) (time.Time, error) {
	next, err := NextDue(ctx, q)
	if err != nil || next == nil {
		return time.Time{}, err
	}
	now = UTC(now)
	if next.After(now) {
		return *next, nil
	}
	t := now
	for _, w := range lim.windows() {
		u, err := Usage(ctx, q, now, w.window, w.limit)
		if err != nil {
			return time.Time{}, err
		}
		if u.Full() && u.FreesAt.After(t) {
			t = u.FreesAt
		}
	}
	if t.After(now) || lim.PerDomainPerMinute <= 0 {
		return t, nil
	}
	// Room on the server; the due items may all wait for their domain's minute.
	var domains []string
	if err := sqlx.SelectContext(ctx, q, &domains, `SELECT DISTINCT recipient_domain FROM (SELECT recipient_domain FROM outbox
		WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?)`, now, max(lim.Batch, 1)); err != nil {
		return time.Time{}, err
	}
	var first time.Time
	for _, d := range domains {
		u, err := usage(ctx, q, now, Minute, lim.PerDomainPerMinute, d)
		if err != nil {
			return time.Time{}, err
		}
		if !u.Full() {
			return now, nil
		}
		if first.IsZero() || u.FreesAt.Before(first) {
			first = u.FreesAt
		}
	}
	if first.IsZero() {
		return now, nil
	}
	return first, nil
}
