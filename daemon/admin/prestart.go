package admin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// BackupsKept is how many backups before a migration BackupBeforeStart keeps.
const BackupsKept = 3

// BackupBeforeStart copies the database before a start that will migrate it
// (the first start after an upgrade), so that the older mentord's data can be
// restored: into backups/ beside the database, as
// mentord-schema-N-YYYYMMDDTHHMMSSZ.db, keeping the newest BackupsKept. It
// returns the file written, or "" and why none was needed (no database yet,
// or its schema is this mentord's).
func BackupBeforeStart(ctx context.Context, dbPath string, now time.Time) (file, why string, err error) {
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return "", "no database yet", nil
	}
	db, v, err := store.OpenAsIs(ctx, dbPath)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	switch want := store.SchemaVersion(); {
	case v == want:
		return "", fmt.Sprintf("schema %d is this mentord's: nothing to migrate", v), nil
	case v > want:
		return "", fmt.Sprintf("schema %d is newer than this mentord's %d: it will refuse to start (restore a backup, or install the newer mentord)", v, want), nil
	}
	dir := filepath.Join(filepath.Dir(dbPath), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("backup before migrating: %w", err)
	}
	file = filepath.Join(dir, fmt.Sprintf("mentord-schema-%d-%s.db", v, now.UTC().Format("20060102T150405Z")))
	if err := db.Backup(ctx, file); err != nil {
		os.Remove(file)
		return "", "", fmt.Errorf("backup before migrating: %w", err)
	}
	return file, "", prune(dir)
}

// prune removes all but the newest BackupsKept backups made before a migration.
func prune(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "mentord-schema-*.db"))
	if err != nil {
		return err
	}
	// The name ends in its UTC time: sort by it, newest first.
	stamp := func(p string) string { return p[strings.LastIndexByte(p, '-')+1:] }
	sort.Slice(old, func(i, j int) bool { return stamp(old[i]) > stamp(old[j]) })
	for _, p := range old[min(len(old), BackupsKept):] {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}
