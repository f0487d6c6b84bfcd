// Package store keeps mentord's state in SQLite: the roster, the outbox, the
// inbound mail and the progress log.
//
// The flow:
//  1. Open creates the file (mode 0600: the log is confidential), opens one writer
//     connection and a small pool of read-only ones, every connection with WAL,
//     synchronous=FULL, a busy timeout, foreign keys and BEGIN IMMEDIATE.
//  2. The embedded numbered migrations (migrations/NNNN_name.sql) are applied,
//     each in its own transaction together with PRAGMA user_version; a database
//     newer than this binary is refused.
//  3. Callers write through DB.Tx, which commits or rolls back as a whole; the
//     query functions take a Querier, so they run on the DB or inside a Tx.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// DB is the database: one writer connection and a read-only pool.
type DB struct {
	w        *sqlx.DB
	r        *sqlx.DB
	path     string
	instance string
}

// Querier runs queries: a *DB's reader, a *sqlx.Tx, or a *sqlx.DB.
type Querier interface {
	sqlx.ExtContext
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, migrations)
}

func open(ctx context.Context, path string, ms []migration) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database %q: the path must be non-empty and contain no ? or #", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	wdsn := dsn(path, false)
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		// Pages freed by sent messages go back to the file system in steps
		// (Reclaim). The mode can only be chosen before the file has its
		// first page; one created before schema 6 keeps "none" until a VACUUM
		// (README, Upgrading). Only then: setting it on each connection
		// writes the file's header, waiting for the write lock each time.
		wdsn += "&_auto_vacuum=" + newAutoVacuum
	}
	w, err := sqlx.Open(driverName, wdsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1) // one writer: SQLite allows no more, and this avoids SQLITE_BUSY between our own goroutines
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, w, ms); err != nil {
		w.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	r, err := sqlx.Open(driverName, dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{w: w, r: r, path: path}
	if len(ms) >= 2 { // the settings table arrived with schema 2
		if err := w.GetContext(ctx, &db.instance, `SELECT value FROM settings WHERE key = 'instance'`); err != nil {
			db.Close()
			return nil, fmt.Errorf("database %s: read its instance id: %w", path, err)
		}
	}
	return db, nil
}

// newAutoVacuum is the auto_vacuum of a database created here (before
// schema 6 mentord made them with "none"; a test does that too).
var newAutoVacuum = "incremental"

// driverName is the database/sql driver the pools open: mattn/go-sqlite3
// with mentord's settings on each connection (driver), or in a test one that
// records every statement on its way to it.
var driverName = "sqlite3_mentord"

// walLimit is the size the WAL file is cut back to when a checkpoint has
// copied all of it (PRAGMA journal_size_limit): without it the file stays as
// large as the most it ever held, a first pass's worth.
const walLimit = 4 << 20

// sqliteDriver is mattn/go-sqlite3, setting what the DSN cannot on each connection.
// Temporary tables and sorts stay in memory (temp_store): mentord's are
// small, as every hot query reads through an index, and the service may
// write only to its state directory, not to /var/tmp where SQLite puts
// its temporary files.
var sqliteDriver = &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
	_, err := c.Exec(fmt.Sprintf("PRAGMA journal_size_limit = %d; PRAGMA temp_store = MEMORY", walLimit), nil)
	return err
}}

func init() { sql.Register("sqlite3_mentord", sqliteDriver) }

// Instance is this database's random id, which goes into every Message-ID.
func (db *DB) Instance() string { return db.instance }

func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "1")
	v.Set("_txlock", "immediate")
	v.Set("_stmt_cache_size", "64") // prepared statements reused: most of mentord's queries repeat
	if readOnly {
		v.Set("_query_only", "1")
		v.Set("_txlock", "deferred")
	}
	return "file:" + path + "?" + v.Encode()
}

// createPrivate creates the database file readable by its owner only, unless it exists.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// R is the read-only pool, for queries outside a transaction.
func (db *DB) R() *sqlx.DB { return db.r }

// Close closes both pools.
func (db *DB) Close() error {
	if db.r == db.w {
		return db.r.Close()
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

// Tx runs fn in one write transaction (BEGIN IMMEDIATE), committing when fn
// returns nil and rolling back otherwise. A panic in fn rolls back and re-panics.
func (db *DB) Tx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Reclaim gives up to max free pages back to the file system (incremental
// vacuum), once more than reclaimAbove are free, and returns how many. The
// free pages are those of sent messages' bytes; a database whose auto_vacuum
// is not incremental (created before schema 6) reuses them for new messages
// instead, and Reclaim does nothing.
func (db *DB) Reclaim(ctx context.Context, max int) (int, error) {
	var mode, free int
	if err := db.w.GetContext(ctx, &mode, "PRAGMA auto_vacuum"); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	if err := db.w.GetContext(ctx, &free, "PRAGMA freelist_count"); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	if mode != autoVacuumIncremental || free <= reclaimAbove {
		return 0, nil
	}
	n := min(free-reclaimAbove/2, max)
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", n)); err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	return n, nil
}

const (
	autoVacuumIncremental = 2   // PRAGMA auto_vacuum's value
	reclaimAbove          = 256 // free pages (1 MiB) kept for the next messages
)

// AutoVacuum reports whether the database gives free pages back (Reclaim).
func (db *DB) AutoVacuum(ctx context.Context) (bool, error) {
	var mode int
	err := db.r.GetContext(ctx, &mode, "PRAGMA auto_vacuum")
	return mode == autoVacuumIncremental, err
}

// QuickCheck runs PRAGMA quick_check and returns an error unless it says ok.
func (db *DB) QuickCheck(ctx context.Context) error {
	var res string
	if err := db.r.GetContext(ctx, &res, "PRAGMA quick_check"); err != nil {
		return fmt.Errorf("quick_check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("database %s is damaged: quick_check says %q; restore a backup", db.path, res)
	}
	return nil
}

// ChangedElsewhere returns SQLite's data_version for the writer connection:
// it changes when another connection, such as a mentord command in another
// process, commits (the daemon's own writes go through this connection and
// leave it as it is; its read pool never writes).
func (db *DB) ChangedElsewhere(ctx context.Context) (int64, error) {
	var v int64
	err := db.w.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// UTC returns t as the database stores it: UTC, whole seconds.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func notFound(err error, what string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return err
}

// NullTime scans a time that SQLite returns without its column's type (from
// an expression such as MIN(sent_at)), as text in the driver's format.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n = NullTime{}
		return nil
	case time.Time:
		*n = NullTime{Time: x, Valid: true}
		return nil
	case []byte:
		v = string(x)
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("scan %T into a time", v)
	}
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			*n = NullTime{Time: t.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("scan %q into a time", s)
}

// Ptr returns the time, or nil when NULL.
func (n NullTime) Ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	return &n.Time
}

// VacuumInto writes a consistent, compacted copy of the live database to path
// (SQLite's VACUUM INTO), which must not exist yet.
func (db *DB) VacuumInto(ctx context.Context, path string) error {
	if _, err := db.w.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy database to %s: %w", path, err)
	}
	return nil
}

// OpenReadOnly opens an existing database for reading only: it creates
// nothing and migrates nothing, and refuses a schema other than this binary's.
// Writes through the returned DB fail.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	r, err := sqlx.Open("sqlite3", dsn(path, true)+"&mode=ro")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	var v int
	if err := r.GetContext(ctx, &v, "PRAGMA user_version"); err != nil {
		r.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if v != len(migrations) {
		r.Close()
		return nil, fmt.Errorf("database %s is at schema %d, this mentord needs %d: start mentord serve once to migrate it", path, v, len(migrations))
	}
	db := &DB{w: r, r: r, path: path}
	if err := r.GetContext(ctx, &db.instance, `SELECT value FROM settings WHERE key = 'instance'`); err != nil {
		r.Close()
		return nil, err
	}
	return db, nil
}

// Backup writes a consistent copy of the live database to path (which must not
// exist) and checks the copy with PRAGMA integrity_check.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; give a new file", path)
	}
	if err := db.VacuumInto(ctx, path); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	copyDB, err := sqlx.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer copyDB.Close()
	var res string
	if err := copyDB.GetContext(ctx, &res, "PRAGMA integrity_check"); err != nil {
		return fmt.Errorf("check the backup: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("the backup %s failed integrity_check: %s", path, res)
	}
	return nil
}

// SetSetting stores a value under key in the settings table.
func SetSetting(ctx context.Context, q Querier, key, value string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Setting returns the value stored under key, or "" when there is none.
func Setting(ctx context.Context, q Querier, key string) (string, error) {
	var v []string
	err := sqlx.SelectContext(ctx, q, &v, `SELECT value FROM settings WHERE key = ?`, key)
	if err != nil || len(v) == 0 {
		return "", err
	}
	return v[0], nil
}
