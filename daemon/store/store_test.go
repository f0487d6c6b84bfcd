package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenFresh(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	v, err := db.Version(ctx)
	if err != nil || v != SchemaVersion() {
		t.Fatalf("Version = %d, %v, want %d", v, err, SchemaVersion())
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
		"journal_size_limit": "4194304", "auto_vacuum": "2"} {
		var got string
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return tx.GetContext(ctx, &got, "PRAGMA "+pragma) }); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	st, err := os.Stat(db.Path())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("database file mode = %v, %v; want 0600", st.Mode(), err)
	}
	if err := db.QuickCheck(ctx); err != nil {
		t.Error(err)
	}
	// The read pool refuses writes.
	if _, err := db.R().ExecContext(ctx, `DELETE FROM people`); err == nil {
		t.Error("the read-only pool accepted a write")
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec("PRAGMA user_version = 99")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open(newer) = %v, want ErrSchemaTooNew", err)
	}
}

// schema returns the database's table and index definitions.
func schema(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var defs []string
	if err := db.Select(&defs, `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name`); err != nil {
		t.Fatal(err)
	}
	return strings.Join(defs, ";\n")
}

// Migrating from every older schema gives the same schema as a fresh database.
func TestMigrateFromEveryOlderSchema(t *testing.T) {
	ctx := context.Background()
	fresh := openTest(t)
	want := schema(t, fresh.w)
	for k := 0; k <= len(migrations); k++ {
		path := filepath.Join(t.TempDir(), "old.db")
		old, err := open(ctx, path, migrations[:k])
		if err != nil {
			t.Fatalf("open at version %d: %v", k, err)
		}
		old.Close()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("migrate from version %d: %v", k, err)
		}
		if got := schema(t, db.w); got != want {
			t.Errorf("schema migrated from version %d differs from a fresh one:\n%s\nwant:\n%s", k, got, want)
		}
		db.Close()
	}
}

// A failing migration leaves user_version and the schema as they were.
func TestFailedMigrationChangesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	before := schema(t, db.w)
	db.Close()

	bad := append(append([]migration(nil), migrations...), migration{
		version: len(migrations) + 1, name: "broken",
		sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO nonexistent VALUES (1);",
	})
	if _, err := open(ctx, path, bad); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("open with a broken migration = %v", err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(ctx); v != len(migrations) {
		t.Errorf("user_version = %d after failed migration, want %d", v, len(migrations))
	}
	if after := schema(t, db.w); after != before {
		t.Errorf("schema changed by a failed migration:\n%s", after)
	}
}

func TestMigrationFilesAreNumbered(t *testing.T) {
	if _, err := loadMigrations(migrationFS); err != nil {
		t.Fatal(err)
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		p := &Person{Email: "a@example.org", Name: "A", Timezone: "UTC", Language: "en", CreatedAt: time.Now()}
		if err := InsertPerson(ctx, tx, p); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if _, err := GetPersonByEmail(ctx, db.R(), "a@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("person survived a rolled-back transaction: %v", err)
	}
}

func TestRosterRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	var pairID int64
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		mentor := &Person{Email: "Mentor@Example.org", Name: "Mo", Timezone: "Europe/Copenhagen", Language: "da", CreatedAt: now}
		mentee := &Person{Email: "mentee@example.org", Name: "Me", Timezone: "Europe/Copenhagen", Language: "en", CreatedAt: now}
		if err := InsertPerson(ctx, tx, mentor); err != nil {
			return err
		}
		if err := InsertPerson(ctx, tx, mentee); err != nil {
			return err
		}
		p := &Pair{MentorID: mentor.ID, MenteeID: mentee.ID, Status: PairActive, CreatedAt: now}
		a := &Agreement{Cadence: "monthly", SessionMinutes: 60, Timezone: "Europe/Copenhagen", StartsAt: now, EndsAt: now.AddDate(1, 0, 0)}
		if err := InsertPair(ctx, tx, p, a); err != nil {
			return err
		}
		pairID = p.ID
		s := &Session{PairID: p.ID, Number: 1, Kind: KindChemistry, StartsAt: now.Add(24 * time.Hour), DurationMin: 60,
			Timezone: "Europe/Copenhagen", Status: SessionPlanned, UID: "u1@example.org", CreatedAt: now, UpdatedAt: now}
		return InsertSession(ctx, tx, s, mentor.ID, mentee.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := GetPair(ctx, db.R(), pairID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Mentor.Email != "Mentor@Example.org" || v.Mentee.Name != "Me" || v.Agreement.Cadence != "monthly" || !v.Agreement.StartsAt.Equal(now) {
		t.Errorf("GetPair = %+v", v)
	}
	if p, err := GetPersonByEmail(ctx, db.R(), "MENTOR@example.ORG"); err != nil || p.Name != "Mo" {
		t.Errorf("lookup by address is not case-insensitive: %v %v", p, err)
	}
	ss, err := ListSessions(ctx, db.R(), pairID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("ListSessions = %v, %v", ss, err)
	}
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return MoveSession(ctx, tx, ss[0].ID, now.Add(48*time.Hour), now) }); err != nil {
		t.Fatal(err)
	}
	s, _ := GetSession(ctx, db.R(), ss[0].ID)
	if s.Sequence != 1 || !s.StartsAt.Equal(now.Add(48*time.Hour)) {
		t.Errorf("after move: %+v", s)
	}
	// The same two people cannot have two active pairs.
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		return InsertPair(ctx, tx, &Pair{MentorID: v.MentorID, MenteeID: v.MenteeID, Status: PairActive, CreatedAt: now},
			&Agreement{Cadence: "monthly", SessionMinutes: 60, Timezone: "UTC", StartsAt: now, EndsAt: now.Add(time.Hour)})
	})
	if err == nil {
		t.Error("a second active pair of the same people was accepted")
	}
}

func TestInstanceIsStableAndOwn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id := a.Instance()
	a.Close()
	if len(id) != 32 {
		t.Fatalf("Instance() = %q, want 32 hex digits", id)
	}
	again, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Instance() != id {
		t.Errorf("instance changed on reopening: %s → %s", id, again.Instance())
	}
	if other := openTest(t); other.Instance() == id {
		t.Error("two databases share an instance id")
	}
}
