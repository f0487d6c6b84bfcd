package store

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// The text of a nudge or an acknowledgement is kept, packed, while replies
// about its session are taken, and dropped after: the reply window after
// the session ends, or its cancellation, or the pair's end, if earlier.
func TestSentTextsKeptWhileRepliesAreTaken(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	fx := seedProgramme(t, db, now) // sessions at 09:00 on 12 January, 11 February and 13 March, an hour each
	const window = 60 * 24 * time.Hour
	var sessions []int64
	if err := db.R().Select(&sessions, `SELECT id FROM sessions WHERE pair_id = ? ORDER BY starts_at`, fx.pair); err != nil {
		t.Fatal(err)
	}
	text := "Dear Bo,\n\nThis is what your progress log now holds:\n\n1. A question?\n   An answer.\n"
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		for i, s := range sessions {
			if err := InsertSentText(ctx, tx, int64(i+1), s, Pack([]byte(text))); err != nil {
				return err
			}
		}
		// The third session is cancelled on 20 January.
		_, err := tx.Exec(`UPDATE sessions SET status = 'cancelled', updated_at = ? WHERE id = ?`, UTC(now.AddDate(0, 0, 10)), sessions[2])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := SentText(ctx, db.R(), 1); err != nil || got != text {
		t.Fatalf("SentText = %q, %v; want the text kept", got, err)
	}
	if got, err := SentText(ctx, db.R(), 99); err != nil || got != "" {
		t.Errorf("SentText of a message without one = %q, %v", got, err)
	}
	kept := func() (n int) {
		t.Helper()
		if err := db.R().Get(&n, `SELECT COUNT(*) FROM sent_texts`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		at      time.Time
		dropped int
		left    int
	}{
		{now.AddDate(0, 0, 5), 0, 3},      // 15 January: every session still takes replies
		{now.AddDate(0, 0, 11), 1, 2},     // 21 January: the cancelled one no longer
		{now.AddDate(0, 0, 2+60+1), 1, 1}, // 13 March: the first one's window is over
		{now.AddDate(0, 0, 32+60), 0, 1},  // 12 April, 09:00: the second one's window ends at 10:00
		{now.AddDate(0, 0, 32+61), 1, 0},  // 13 April: over
	} {
		n, err := DropSentTexts(ctx, db, c.at, window)
		if err != nil || n != c.dropped || kept() != c.left {
			t.Errorf("DropSentTexts at %s = %d, %v; %d left, want %d dropped and %d left", c.at.Format(time.DateOnly), n, err, kept(),
				c.dropped, c.left)
		}
	}
}
