package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// addOutbox inserts n rows to domain, in state, sent (for 'sent') at sentAt.
func addOutbox(t testing.TB, db *DB, n int, domain, state string, due, sentAt time.Time) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		var base int
		if err := tx.GetContext(ctx, &base, `SELECT COUNT(*) FROM outbox`); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("q:%d", base+i)
			it := &OutboxItem{Key: key, Kind: "test", Recipient: "a@" + domain, RecipientDomain: domain,
				EnvelopeFrom: "m@example.org", MessageID: key + "@example.org", Payload: []byte("x"), State: state,
				NextAttemptAt: due, CreatedAt: due}
			if _, err := Enqueue(ctx, tx, it); err != nil {
				return err
			}
			if state == OutboxSent {
				if err := MarkSent(ctx, tx, it.ID, sentAt); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func claim(t testing.TB, db *DB, now time.Time, lim Limits) []OutboxItem {
	t.Helper()
	ctx := context.Background()
	var items []OutboxItem
	if err := db.Tx(ctx, func(tx *sqlx.Tx) (err error) { items, err = ClaimDue(ctx, tx, now, lim); return err }); err != nil {
		t.Fatal(err)
	}
	return items
}

// markSending records every item being sent as sent at.
func markSending(t *testing.T, db *DB, at time.Time) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`UPDATE outbox SET state = 'sent', sent_at = ? WHERE state = 'sending'`, UTC(at))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaimDueHonoursTheWindows(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	lim := Limits{Batch: 50, PerMinute: 30, PerDay: 100}
	addOutbox(t, db, 60, "example.org", OutboxSent, now.Add(-25*time.Hour), now.Add(-24*time.Hour-time.Second)) // just out of the day
	addOutbox(t, db, 60, "example.org", OutboxSent, now.Add(-2*time.Hour), now.Add(-time.Hour))
	addOutbox(t, db, 20, "example.org", OutboxSent, now.Add(-time.Minute), now.Add(-20*time.Second))
	addOutbox(t, db, 200, "example.org", OutboxPending, now, time.Time{})

	// 20 sent in the minute: 10 more now; the day has 80, so its 20 are not the bound.
	if got := claim(t, db, now, lim); len(got) != 10 {
		t.Fatalf("claimed %d, want 10 (30 a minute, 20 sent)", len(got))
	}
	// Those 10 are being sent: they count, in this process or another.
	if got := claim(t, db, now, lim); len(got) != 0 {
		t.Errorf("claimed %d more while 10 are being sent, want 0", len(got))
	}
	u, err := Usage(ctx, db.R(), now, Minute, 30)
	if err != nil || u.Used != 30 || !u.Full() || !u.FreesAt.Equal(now.Add(-20*time.Second).Add(Minute+time.Second)) {
		t.Errorf("minute usage = %+v, %v; want 30 used, full until the oldest leaves the window", u, err)
	}
	markSending(t, db, now)
	// A minute and a second after the first 20, the day allows 10 more (90 of 100).
	later := now.Add(41 * time.Second)
	if got := claim(t, db, later, lim); len(got) != 10 {
		t.Errorf("claimed %d once the first 20 left the minute, want 10 (the day's room)", len(got))
	}
	markSending(t, db, later)
	day, err := Usage(ctx, db.R(), later, Day, 100)
	if err != nil || day.Used != 100 || !day.FreesAt.Equal(now.Add(-time.Hour).Add(Day+time.Second)) {
		t.Errorf("day usage = %+v, %v; want 100, free again 24 h after the sends an hour ago", day, err)
	}
	next, err := NextClaim(ctx, db.R(), later, lim)
	if err != nil || !next.Equal(day.FreesAt) {
		t.Errorf("NextClaim = %v, %v; want %v", next, err, day.FreesAt)
	}
	if got := claim(t, db, day.FreesAt.Add(-time.Second), lim); len(got) != 0 {
		t.Errorf("claimed %d a second before the day had room", len(got))
	}
	if got := claim(t, db, day.FreesAt, lim); len(got) != 30 {
		t.Errorf("claimed %d when the day had room, want 30 (the minute)", len(got))
	}
}

func TestClaimDueOrderAndDomains(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	addOutbox(t, db, 3, "a.example", OutboxPending, now.Add(-time.Minute), time.Time{})
	addOutbox(t, db, 3, "b.example", OutboxPending, now.Add(-2*time.Minute), time.Time{})
	lim := Limits{Batch: 50, PerDomainPerMinute: 2}
	got := claim(t, db, now, lim)
	var order []string
	for _, it := range got {
		order = append(order, fmt.Sprintf("%d@%s", it.ID, it.RecipientDomain))
	}
	if fmt.Sprint(order) != "[4@b.example 5@b.example 1@a.example 2@a.example]" {
		t.Errorf("claimed %v, want the earliest due first, two per domain", order)
	}
	next, err := NextClaim(ctx, db.R(), now, lim)
	if err != nil || !next.Equal(now.Add(Minute+time.Second)) {
		t.Errorf("NextClaim with both domains full = %v, %v; want a minute and a second on", next, err)
	}
}

// ClaimDue's cost with a year of sent history (100,000 rows, 10,000 of them in
// the last day) and a full day window: the counts go through the partial index
// on sent_at, not a scan of the history.
func BenchmarkClaimDueWithHistory(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir()+"/m.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	for d := 365; d >= 1; d-- {
		addOutbox(b, db, 247, "example.org", OutboxSent, now.Add(-time.Duration(d)*Day), now.Add(-time.Duration(d)*Day))
	}
	addOutbox(b, db, 10000, "example.org", OutboxSent, now.Add(-time.Hour), now.Add(-time.Hour))
	addOutbox(b, db, 100, "example.org", OutboxPending, now, time.Time{})
	ctx := context.Background()
	lim := Limits{Batch: 50, PerMinute: 30, PerDay: 20000, PerDomainPerMinute: 30}
	errRollback := fmt.Errorf("roll back")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			items, err := ClaimDue(ctx, tx, now, lim)
			if err != nil || len(items) != 30 {
				return fmt.Errorf("claimed %d: %v", len(items), err)
			}
			return errRollback
		})
		if err != errRollback {
			b.Fatal(err)
		}
	}
}
