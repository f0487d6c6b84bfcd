package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// Savepoint runs fn inside tx under a savepoint (SQLite SAVEPOINT): when fn
// fails its changes are undone and the rest of tx stands, so one row that
// cannot be written does not cost its batch. A panic in fn undoes them too and
// goes on up.
func Savepoint(ctx context.Context, tx *sqlx.Tx, fn func() error) (err error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT one`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	undo := func() error {
		_, err := tx.ExecContext(context.WithoutCancel(ctx), `ROLLBACK TO one; RELEASE one`)
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = undo()
			panic(p)
		}
	}()
	if err := fn(); err != nil {
		if uerr := undo(); uerr != nil {
			return errors.Join(err, fmt.Errorf("roll back to the savepoint: %w", uerr))
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE one`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// Transient reports whether err comes from the database or the process
// rather than from the data written: busy or locked, I/O, a full disk, no
// memory, a closed connection, a cancelled context. Trying again later may
// succeed. Any other error, such as a constraint the data breaks, comes back
// for the same data every time.
func Transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrConstraint, sqlite3.ErrMismatch, sqlite3.ErrRange, sqlite3.ErrTooBig:
			return false
		}
		return true // including SQL errors: the schema or the code, not this message
	}
	return false
}

// InboundAt returns the id of the message recorded under the folder's
// (UIDVALIDITY, UID), and whether there is one.
func InboundAt(ctx context.Context, q Querier, mailbox string, uidValidity, uid uint32) (int64, bool, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM inbound WHERE mailbox = ? AND uidvalidity = ? AND uid = ?`,
		mailbox, uidValidity, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}
