package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/store"
)

// The start does not wait for a check of the whole database file (it took
// 17.6 s to READY at 100,000 pairs): READY=1 comes first, and the check,
// in the background, reports what it finds. A file with a damaged index
// page starts, and the "database" component says it is damaged, as the log
// does, with what to do.
func TestDatabaseIsCheckedAfterTheStart(t *testing.T) {
	path, httpAddr := testConfig(t, "")
	dbPath := filepath.Join(filepath.Dir(path), "m.db")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfigFile(t, path)
	addPair(t, &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}, admin.PairInput{MentorName: "Ada", MentorEmail: "ada@example.org",
		MenteeName: "Bo", MenteeEmail: "bo@example.org", TZ: "UTC", Start: time.Now().AddDate(0, 1, 0).Format("2006-01-02") + "T14:00",
		Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 1"})
	var root, pageSize int64
	if err := db.R().Get(&root, `SELECT rootpage FROM sqlite_master WHERE name = 'sessions_start'`); err != nil {
		t.Fatal(err)
	}
	if err := db.R().Get(&pageSize, `PRAGMA page_size`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(dbPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xab", int(pageSize)))
	if _, err := f.WriteAt(garbage, (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()

	n := newNotifications()
	logs := &syncBuffer{}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, Options{ConfigPath: path, LogOutput: logs, Notify: n.notify}) }()
	n.waitFor(t, "READY=1")
	deadline := time.Now().Add(30 * time.Second)
	for found := false; !found; {
		_, h := getHealth(t, httpAddr)
		for _, p := range h.Parts {
			found = found || p.Name == "database" && !p.OK && p.State == "damaged"
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz does not say the database is damaged: %+v\n%s", h, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "the database failed its check; stop mentord and restore a backup") {
		t.Errorf("the log does not say the database is damaged:\n%s", logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
