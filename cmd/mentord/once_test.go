package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/smtptest"
)

// secondConfig writes a copy of config that uses the same database but its
// own dev server ports, so a second mentord could start beside the first.
func secondConfig(t *testing.T, config string) string {
	t.Helper()
	body, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	dev := regexp.MustCompile(`devserver: \{.*\}`)
	second := dev.ReplaceAllString(string(body), fmt.Sprintf(`devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}`,
		freePort(t), freePort(t)))
	path := config + ".second.yaml"
	if err := os.WriteFile(path, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A second `mentord serve` on the same database, while the first has a
// message in flight, exits 1 saying which process runs, and touches nothing:
// the claimed message stays claimed, and in the end every message is
// delivered once. Admin commands still work beside the daemon.
func TestSecondServeRefusesToRun(t *testing.T) {
	sink := smtptest.Start(t)
	config, db := sendingSetup(t, sink)
	entered, release := sink.HoldNext(smtptest.HoldData)
	defer release()
	first := start(t, nil, "serve", "--config", config)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message reached the server\n%s", first.logs)
	}
	before := outboxStates(t, db)
	if before["sending"] == 0 {
		t.Fatalf("outbox with a message in flight: %v, want some claimed", before)
	}

	second := start(t, nil, "serve", "--config", secondConfig(t, config))
	err := second.wait(t, 30*time.Second)
	want := fmt.Sprintf("already running (pid %d)", first.cmd.Process.Pid)
	if ee, ok := err.(interface{ ExitCode() int }); !ok || ee.ExitCode() != exitFailure || !strings.Contains(second.logs.String(), want) {
		t.Fatalf("second serve = %v, want exit status 1 and %q\n%s", err, want, second.logs)
	}
	if after := outboxStates(t, db); after["sending"] != before["sending"] || after["sent"] != before["sent"] {
		t.Errorf("the second serve changed the outbox: %v, was %v", after, before)
	}
	for _, args := range [][]string{{"status"}, {"pair", "list"}} {
		admin := start(t, nil, append(args, "--config", config)...)
		if err := admin.wait(t, 30*time.Second); err != nil {
			t.Errorf("mentord %s beside the daemon: %v\n%s", strings.Join(args, " "), err, admin.logs)
		}
	}

	release()
	total := before["sending"] + before["pending"] + before["sent"]
	if !sink.Wait(total, 30*time.Second) {
		t.Fatalf("%d of %d delivered\n%s", len(sink.Messages()), total, first.logs)
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, first.logs)
	}
	for id, n := range delivered(t, sink) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if states := outboxStates(t, db); states["sent"] != total || len(states) != 1 {
		t.Errorf("in the end: %v, want all %d sent", states, total)
	}
}

// holdWriteLock takes the database's write lock from another connection, as
// a long admin command does, until the returned func is called.
func holdWriteLock(t *testing.T, db string) (unlock func()) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin()
	if err != nil {
		conn.Close()
		t.Fatalf("take the write lock: %v", err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			tx.Rollback()
			conn.Close()
		})
	}
	t.Cleanup(unlock)
	return unlock
}

// waitForLog waits until the process has logged text.
func (p *process) waitForLog(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log after %v\n%s", text, timeout, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server accepts a message while another process holds the database's
// write lock for longer than the busy timeout (a long admin command): the
// daemon says so, keeps trying to record the 250 until it lands, and sends
// the rest of the batch; nothing stays claimed (which a restart would send
// again), nothing goes twice.
func TestServeRecordsASendWhileTheDatabaseIsBusy(t *testing.T) {
	sink := smtptest.Start(t)
	config, db := sendingSetup(t, sink)
	entered, release := sink.HoldNext(smtptest.HoldData)
	defer release()
	p := start(t, nil, "serve", "--config", config)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message reached the server\n%s", p.logs)
	}
	states := outboxStates(t, db)
	total := states["sending"] + states["pending"]
	unlock := holdWriteLock(t, db)
	release()
	p.waitForLog(t, "record a message the server accepted: failed; retrying", 60*time.Second)
	unlock()
	if !sink.Wait(total, 60*time.Second) {
		t.Fatalf("%d of %d delivered after the lock was given back\n%s", len(sink.Messages()), total, p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	// All recorded sent: a restart has nothing to send again.
	if states := outboxStates(t, db); states["sent"] != total || len(states) != 1 {
		t.Errorf("after the lock was given back: %v, want all %d sent\n%s", states, total, p.logs)
	}
	for id, n := range delivered(t, sink) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// import --dry-run checks a file without the write lock: it works while
// another process holds it (the daemon, an admin command), and keeps nobody
// waiting for it however large the file.
func TestImportDryRunTakesNoWriteLock(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: m.db}
devserver: {enabled: true}
`), 0o600)
	addPairSoon(t, nil, config) // the database exists
	csv := filepath.Join(dir, "pairs.csv")
	var b strings.Builder
	b.WriteString("mentor_name,mentor_email,mentee_name,mentee_email,start,tz,every,sessions,duration,location\n")
	first := time.Now().UTC().AddDate(0, 0, 9)
	for i := range 200 {
		fmt.Fprintf(&b, "Mentor %d,mentor%d@example.org,Mentee %d,mentee%d@example.org,%s,UTC,monthly,12,60m,Room %d\n",
			i, i, i, i, first.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04"), i)
	}
	os.WriteFile(csv, []byte(b.String()), 0o600)

	unlock := holdWriteLock(t, filepath.Join(dir, "m.db"))
	dry := start(t, nil, "import", "--config", config, "--dry-run", csv)
	if err := dry.wait(t, 60*time.Second); err != nil {
		t.Fatalf("import --dry-run while another process writes: %v\n%s", err, dry.logs)
	}
	unlock()
	out, err := exec.Command(binary(t), "import", "--config", config, csv).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "200 pairs created") {
		t.Errorf("import after the dry run: %v\n%s", err, out)
	}
}

// usedBytes is how much of the database file holds data: its pages but the
// free ones, which new rows reuse (or the daemon gives back to the file
// system, see store.Reclaim).
func usedBytes(t *testing.T, path string) int64 {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages, free, size int64
	for q, dst := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &size} {
		if err := db.R().Get(dst, q); err != nil {
			t.Fatal(err)
		}
	}
	return (pages - free) * size
}

// After importing many pairs, the first pass's messages take little room in
// the database while they wait (about 20 KB each before), and once sent they
// leave only their record behind (they kept about a page each for good).
func TestQueuedAndSentMessagesAreCompact(t *testing.T) {
	sink := smtptest.Start(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	config := filepath.Join(dir, "config.yaml")
	writeConfig := func(smtpExtra string) {
		os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
smtp: {host: 127.0.0.1, port: %d, tls: none%s}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
timings: {quiet_hours: {start: "", end: ""}}
`, db, sink.Port(), smtpExtra, freePort(t), freePort(t))), 0o600)
	}
	writeConfig(", max_per_minute: 1") // the pass runs; almost nothing goes yet
	csv := filepath.Join(dir, "pairs.csv")
	var b strings.Builder
	b.WriteString("mentor_name,mentor_email,mentee_name,mentee_email,start,tz,every,sessions,duration,location,lang\n")
	first := time.Now().UTC().AddDate(0, 0, 10)
	for i := range 150 {
		fmt.Fprintf(&b, "Mentor %d,mentor%d@example.org,Mentee %d,mentee%d@example.org,%s,Europe/Copenhagen,monthly,12,60m,Room %d,%s\n",
			i, i, i, i, first.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04"), i, []string{"en", "da"}[i%2])
	}
	os.WriteFile(csv, []byte(b.String()), 0o600)
	if out, err := exec.Command(binary(t), "import", "--config", config, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	roster := usedBytes(t, db)

	p := start(t, nil, "serve", "--config", config)
	p.waitForLog(t, `msg="messages enqueued"`, 120*time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	states := outboxStates(t, db)
	total := states["pending"] + states["sent"]
	if total < 900 {
		t.Fatalf("the first pass enqueued %v, want the 900 invites at least", states)
	}
	queued := usedBytes(t, db)
	if per := (queued - roster) / int64(total); per > 2500 {
		t.Errorf("%d messages queued take %d bytes each in the database (%d → %d), want at most 2,500", total, per, roster, queued)
	}

	writeConfig("")
	p = start(t, nil, "serve", "--config", config)
	if !sink.Wait(total, 120*time.Second) {
		t.Fatalf("%d of %d delivered\n%s", len(sink.Messages()), total, p.logs)
	}
	for deadline := time.Now().Add(30 * time.Second); outboxStates(t, db)["sent"] < total; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not all recorded sent: %v", outboxStates(t, db))
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	sent := usedBytes(t, db)
	t.Logf("%d messages: %d bytes of roster, %d with them queued, %d once sent", total, roster, queued, sent)
	if per := (sent - roster) / int64(total); per > 1500 {
		t.Errorf("%d messages sent leave %d bytes each in the database (%d → %d queued → %d sent), want at most 1,500",
			total, per, roster, queued, sent)
	}
}
