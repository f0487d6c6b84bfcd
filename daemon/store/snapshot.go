package store

import (
	"context"
	"fmt"
	"os"

	"github.com/jmoiron/sqlx"
)

// OpenAsIs opens an existing database for reading only, at whatever schema it
// is, and returns that schema's version: for a backup before a migration
// (`mentord backup --before-start`), which must copy the file as the older
// mentord left it. Only Backup and Close may be used on it.
func OpenAsIs(ctx context.Context, path string) (*DB, int, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, 0, fmt.Errorf("open database: %w", err)
	}
	// Not dsn's read-only connection: its query_only would refuse VACUUM INTO.
	r, err := sqlx.Open(driverName, "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, 0, fmt.Errorf("open database %s: %w", path, err)
	}
	var v int
	if err := r.GetContext(ctx, &v, "PRAGMA user_version"); err != nil {
		r.Close()
		return nil, 0, fmt.Errorf("open database %s: %w", path, err)
	}
	return &DB{w: r, r: r, path: path}, v, nil
}
