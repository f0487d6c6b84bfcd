package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// Purge drops every original retention allows no longer, however many, in
// transactions of purgeBatch, and counts them first.
func TestPurgeDropsOriginalsInBatches(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)
	const old, recent = 2*purgeBatch + 17, 5
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		for i := range old + recent {
			at := now.AddDate(0, 0, -100)
			if i >= old {
				at = now.AddDate(0, 0, -1)
			}
			in := &Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), MessageID: fmt.Sprintf("m%d@example.org", i),
				MessageIDHash: fmt.Sprintf("h%d", i), Kind: "reply", Outcome: OutcomeLogged, Raw: []byte("raw"), ReceivedAt: at}
			if err := InsertInbound(ctx, tx, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Purge(ctx, db, now, 90*24*time.Hour, 365*24*time.Hour, false)
	if err != nil || p.RawMessages != old {
		t.Fatalf("Purge = %+v, %v; want %d originals dropped", p, err, old)
	}
	var left int
	if err := db.R().Get(&left, `SELECT COUNT(*) FROM inbound WHERE raw IS NOT NULL`); err != nil || left != recent {
		t.Errorf("%d originals left (%v), want the %d recent ones", left, err, recent)
	}
}
