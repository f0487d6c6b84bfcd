package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"
)

// A savepoint that fails undoes its own changes and nothing before it; the
// transaction goes on and commits the rest.
func TestSavepointUndoesOnlyItsOwn(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	set := func(tx *sqlx.Tx, k string) error { return SetSetting(ctx, tx, k, "v") }
	var failed, constraint error
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := set(tx, "before"); err != nil {
			return err
		}
		failed = Savepoint(ctx, tx, func() error {
			if err := set(tx, "inside"); err != nil {
				return err
			}
			return errors.New("this one cannot be kept")
		})
		constraint = Savepoint(ctx, tx, func() error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('before', 'again')`)
			return err
		})
		return Savepoint(ctx, tx, func() error { return set(tx, "after") })
	})
	if err != nil || failed == nil || constraint == nil {
		t.Fatalf("Tx = %v; the savepoints failed with %v and %v", err, failed, constraint)
	}
	if Transient(constraint) || Transient(failed) {
		t.Errorf("a constraint (%v) or the caller's error (%v) taken for the database's", constraint, failed)
	}
	for k, want := range map[string]string{"before": "v", "inside": "", "after": "v"} {
		if got, err := Setting(ctx, db.R(), k); err != nil || got != want {
			t.Errorf("setting %s = %q, %v; want %q", k, got, err, want)
		}
	}
}

func TestTransient(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, cancelled := db.R().ExecContext(ctx, `SELECT 1`)
	_, sqlErr := db.R().ExecContext(context.Background(), `SELECT * FROM no_such_table`)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("wrapped: %w", cancelled), true},
		{sqlErr, true}, // the schema or the code, not the data
		{errors.New("no prompt"), false},
	} {
		if got := Transient(tc.err); got != tc.want {
			t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
