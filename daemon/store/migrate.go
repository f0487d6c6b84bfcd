package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew means the database was migrated by a newer mentord.
var ErrSchemaTooNew = errors.New("the database schema is newer than this mentord")

type migration struct {
	version int
	name    string
	sql     string
}

var migrations = mustLoadMigrations(migrationFS)

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int { return len(migrations) }

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

// loadMigrations reads migrations/NNNN_name.sql, which must be numbered 1, 2, 3, ... without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected number %d", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, each with its user_version
// in one transaction, so a failed migration leaves the schema as it was.
//
// They run with foreign keys off, on one connection: SQLite changes a table's
// definition by building the new table, copying, dropping the old one and
// renaming (https://www.sqlite.org/lang_altertable.html#otheralter), and with
// foreign keys on, dropping a table deletes the rows that refer to it. Each
// migration checks every foreign key before it commits instead.
func migrate(ctx context.Context, db *sqlx.DB, ms []migration) (err error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	defer conn.Close()
	var current int
	if err := conn.GetContext(ctx, &current, "PRAGMA user_version"); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: it is at version %d, this binary knows %d; run the newer mentord or restore a backup", ErrSchemaTooNew, current, len(ms))
	}
	if current == len(ms) {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if _, on := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); on != nil && err == nil {
			err = fmt.Errorf("migrate: %w", on)
		}
	}()
	for _, m := range ms[current:] {
		err := func() error {
			tx, err := conn.BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if err := foreignKeysHold(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// foreignKeysHold fails when a row refers to one that does not exist.
func foreignKeysHold(ctx context.Context, tx *sqlx.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	var table string
	for rows.Next() {
		if n == 0 {
			var rowid, parent, fkid any
			if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
				return err
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d rows would refer to rows that do not exist (the first in %s)", n, table)
	}
	return nil
}

// Version returns the database's schema version.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.r.GetContext(ctx, &v, "PRAGMA user_version")
	return v, err
}
