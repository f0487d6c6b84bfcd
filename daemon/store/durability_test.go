package store_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"github.com/mentord/mentord/daemon/store"
)

// durabilityChild names the database a re-executed test binary writes to
// until it is killed (see TestKilledWriterLosesNoAcknowledgedWrite).
const durabilityChild = "MENTORD_DURABILITY_CHILD"

const (
	childWrites    = 1000
	childGoroutine = 16
	fixtureUID     = "durability@example.org"
	fixtureMentee  = "mentee@durability.example.org"
)

// fixture is the roster the logged answers hang from (the foreign keys of
// inbound, replies and progress_entries).
type fixture struct {
	sessionID, personID int64
}

// prepareRoster adds a mentor, a mentee, their pair and one session.
func prepareRoster(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	var fx fixture
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		mentor := &store.Person{Email: "mentor@durability.example.org", Name: "Mo", Timezone: "UTC", Language: "en", CreatedAt: now}
		mentee := &store.Person{Email: fixtureMentee, Name: "Me", Timezone: "UTC", Language: "en", CreatedAt: now}
		if err := store.InsertPerson(ctx, tx, mentor); err != nil {
			return err
		}
		if err := store.InsertPerson(ctx, tx, mentee); err != nil {
			return err
		}
		p := &store.Pair{MentorID: mentor.ID, MenteeID: mentee.ID, Status: store.PairActive, CreatedAt: now}
		a := &store.Agreement{Cadence: "monthly", SessionMinutes: 60, Timezone: "UTC", StartsAt: now, EndsAt: now.AddDate(1, 0, 0)}
		if err := store.InsertPair(ctx, tx, p, a); err != nil {
			return err
		}
		s := &store.Session{PairID: p.ID, Number: 1, Kind: store.KindRegular, StartsAt: now.Add(24 * time.Hour), DurationMin: 60,
			Timezone: "UTC", Status: store.SessionPlanned, UID: fixtureUID, CreatedAt: now, UpdatedAt: now}
		if err := store.InsertSession(ctx, tx, s, mentor.ID, mentee.ID); err != nil {
			return err
		}
		fx = fixture{sessionID: s.ID, personID: mentee.ID}
		return nil
	})
	if err != nil {
		t.Fatalf("prepare the roster: %v", err)
	}
	return fx
}

// findRoster finds the fixture prepareRoster made, in another process.
func findRoster(ctx context.Context, db *store.DB) (fixture, error) {
	s, err := store.SessionByUID(ctx, db.R(), fixtureUID)
	if err != nil {
		return fixture{}, err
	}
	p, err := store.GetPersonByEmail(ctx, db.R(), fixtureMentee)
	if err != nil {
		return fixture{}, err
	}
	return fixture{sessionID: s.ID, personID: p.ID}, nil
}

// logReply writes what reading one reply writes, in one transaction and
// through the same store functions: the inbound message, the reply's text and
// an answer in the progress log (superseding the earlier answer to the same
// question). n numbers the message within mailbox.
func logReply(ctx context.Context, db *store.DB, fx fixture, mailbox string, n int) (store.Entry, error) {
	now := time.Now()
	msgID := fmt.Sprintf("<%s.%d@durability.example.org>", mailbox, n)
	sum := sha256.Sum256([]byte(msgID))
	e := store.Entry{SessionID: fx.sessionID, PersonID: fx.personID, PromptKind: store.PurposeChecklist,
		QuestionNo: n%5 + 1, Question: fmt.Sprintf("Question %d?", n%5+1), Answer: fmt.Sprintf("answer %d", n),
		ReceivedAt: now, SourceMsgID: msgID}
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		in := &store.Inbound{Mailbox: mailbox, UIDValidity: 1, UID: uint32(n), MessageID: msgID, MessageIDHash: hex.EncodeToString(sum[:]),
			FromAddr: fixtureMentee, Subject: "Re: checklist", Kind: "reply", Outcome: store.OutcomeLogged,
			SessionID: &fx.sessionID, PersonID: &fx.personID, ReceivedAt: now}
		if err := store.InsertInbound(ctx, tx, in); err != nil {
			return err
		}
		rep := &store.Reply{InboundID: in.ID, SessionID: fx.sessionID, PersonID: fx.personID, PromptKind: e.PromptKind,
			NewText: e.Answer, ReceivedAt: now, AckWanted: true}
		if err := store.InsertReply(ctx, tx, rep); err != nil {
			return err
		}
		e.ReplyID = rep.ID
		return store.LogAnswer(ctx, tx, &e)
	})
	return e, err
}

// runDurabilityChild is the killed process: it writes childWrites replies
// from childGoroutine goroutines and prints "ack <entry id> <Message-ID>" for
// each as soon as its transaction has committed.
func runDurabilityChild(t *testing.T, path string) {
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fx, err := findRoster(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	var next atomic.Int64
	var wg sync.WaitGroup
	for range childGoroutine {
		wg.Go(func() {
			for {
				n := int(next.Add(1))
				if n > childWrites {
					return
				}
				e, err := logReply(ctx, db, fx, "INBOX", n)
				if err != nil {
					fmt.Fprintf(os.Stderr, "write %d: %v\n", n, err)
					os.Exit(3)
				}
				// One write(2) per line: the line is in the pipe, as far as
				// this process goes acknowledged, before the next write starts.
				os.Stdout.WriteString("ack " + strconv.FormatInt(e.ID, 10) + " " + e.SourceMsgID + "\n")
			}
		})
	}
	wg.Wait()
	os.Stdout.WriteString("done\n")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestKilledWriterLosesNoAcknowledgedWrite checks the spec's SQLite durability
// criterion: a process killed with SIGKILL in the middle of many concurrent
// log writes leaves a database that passes PRAGMA integrity_check, in which
// every transaction it had acknowledged (Tx returned nil and the row was
// reported) is present, and no transaction is half there. The test binary
// re-runs itself as the writer, reads its acknowledgements and kills it after
// a random number of them; 100 trials, 10 with -short.
func TestKilledWriterLosesNoAcknowledgedWrite(t *testing.T) {
	if path := os.Getenv(durabilityChild); path != "" {
		runDurabilityChild(t, path)
		return
	}
	trials := 100
	if testing.Short() {
		trials = 10
	}
	ctx := context.Background()

	// One migrated database with its roster, copied for every trial.
	tmplPath := filepath.Join(t.TempDir(), "template.db")
	tmpl, err := store.Open(ctx, tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	prepareRoster(t, tmpl)
	if err := tmpl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmplPath + "-wal"); err == nil {
		t.Fatalf("closing the template database left %s-wal", tmplPath)
	}
	template, err := os.ReadFile(tmplPath)
	if err != nil {
		t.Fatal(err)
	}

	// The trials run side by side (as many as -test.parallel allows): a
	// writer spends much of its time waiting for fsync.
	var (
		mu                           sync.Mutex
		minAcked, maxAcked, sumAcked = childWrites, 0, 0
		finished, walLeft, unacked   int
	)
	t.Run("trials", func(t *testing.T) {
		for trial := range trials {
			t.Run(strconv.Itoa(trial), func(t *testing.T) {
				t.Parallel()
				r := killAndCheck(t, template, rand.IntN(childWrites)) // 0 kills as the writes start
				mu.Lock()
				defer mu.Unlock()
				minAcked, maxAcked, sumAcked = min(minAcked, r.acked), max(maxAcked, r.acked), sumAcked+r.acked
				finished += b2i(r.completed)
				walLeft += b2i(r.walLeft)
				unacked += r.unacked
			})
		}
	})
	t.Logf("%d trials: acknowledged before the kill landed min %d, max %d, mean %.0f of %d; %d writers finished before the kill; "+
		"%d left a WAL to recover; %d committed writes were never acknowledged (in flight at the kill)",
		trials, minAcked, maxAcked, float64(sumAcked)/float64(trials), childWrites, finished, walLeft, unacked)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trialResult is what one kill left.
type trialResult struct {
	acked     int  // acknowledgements printed before the kill landed
	completed bool // the writer had finished all its writes
	walLeft   bool // the database had a WAL to recover
	unacked   int  // rows committed but never acknowledged
}

// killAndCheck copies the template, kills a writer on the copy after killAt
// acknowledgements, then reopens the database and checks it.
func killAndCheck(t *testing.T, template []byte, killAt int) trialResult {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	if err := os.WriteFile(path, template, 0o600); err != nil {
		t.Fatal(err)
	}
	acked, completed, output := killWriter(t, path, killAt)
	res := trialResult{acked: len(acked), completed: completed}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		res.walLeft = true
	}

	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("killed after %d acknowledgements: reopen: %v\nthe writer said:\n%s", killAt, err, output)
	}
	defer db.Close()
	var check []string
	if err := db.R().SelectContext(ctx, &check, "PRAGMA integrity_check"); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if len(check) != 1 || check[0] != "ok" {
		t.Fatalf("killed after %d acknowledgements: integrity_check = %q", killAt, check)
	}
	var fkProblems int
	rows, err := db.R().QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	for rows.Next() {
		fkProblems++
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	if fkProblems > 0 {
		t.Errorf("foreign_key_check found %d rows", fkProblems)
	}

	var stored []struct {
		ID    int64  `db:"id"`
		MsgID string `db:"source_msgid"`
	}
	if err := db.R().SelectContext(ctx, &stored, `SELECT id, source_msgid FROM progress_entries`); err != nil {
		t.Fatal(err)
	}
	byID := make(map[int64]string, len(stored))
	for _, s := range stored {
		byID[s.ID] = s.MsgID
	}
	lost := 0
	for id, msgID := range acked {
		if got, ok := byID[id]; !ok || got != msgID {
			if lost < 5 {
				t.Errorf("acknowledged entry %d (%s) after the kill: found %q, %v", id, msgID, got, ok)
			}
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost (killed after %d acknowledgements)", lost, len(acked), killAt)
	}
	res.unacked = len(byID) - len(acked)

	// Each transaction is all there or not at all: as many messages as
	// replies as answers, each reply with its message and its answer.
	var counts struct {
		Inbound  int `db:"inbound"`
		Replies  int `db:"replies"`
		Entries  int `db:"entries"`
		Orphaned int `db:"orphaned"`
	}
	if err := db.R().GetContext(ctx, &counts, `SELECT
		(SELECT COUNT(*) FROM inbound) AS inbound,
		(SELECT COUNT(*) FROM replies) AS replies,
		(SELECT COUNT(*) FROM progress_entries) AS entries,
		(SELECT COUNT(*) FROM replies r WHERE NOT EXISTS (SELECT 1 FROM progress_entries e WHERE e.reply_id = r.id)
			OR NOT EXISTS (SELECT 1 FROM inbound i WHERE i.id = r.inbound_id)) AS orphaned`); err != nil {
		t.Fatal(err)
	}
	if counts.Inbound != counts.Replies || counts.Replies != counts.Entries || counts.Orphaned != 0 {
		t.Fatalf("a transaction is partly there: %+v", counts)
	}
	return res
}

// killWriter runs the writer on path, SIGKILLs it after killAt
// acknowledgements and returns every acknowledgement it printed (entry id to
// Message-ID), whether it had already finished, and its other output.
func killWriter(t *testing.T, path string, killAt int) (acked map[int64]string, completed bool, output string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLosesNoAcknowledgedWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), durabilityChild+"="+path)
	var other bytes.Buffer
	cmd.Stderr = &other
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked = make(map[int64]string, childWrites)
	killed, ready := false, false
	kill := func() {
		if !killed {
			killed = true
			_ = cmd.Process.Kill() // SIGKILL; fails only when it has exited already
		}
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "ready":
			ready = true
			if killAt == 0 {
				kill()
			}
		case line == "done":
			completed = true
		case strings.HasPrefix(line, "ack "):
			// Lines read after the kill were printed before it: they count too.
			f := strings.Fields(line)
			if len(f) != 3 {
				kill()
				t.Fatalf("bad acknowledgement %q", line)
			}
			id, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				kill()
				t.Fatalf("bad acknowledgement %q", line)
			}
			acked[id] = f[2]
			if len(acked) == killAt {
				kill()
			}
		default:
			fmt.Fprintln(&other, line)
		}
	}
	if err := sc.Err(); err != nil {
		kill()
		t.Fatalf("read the writer's output: %v", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil && completed:
	case errors.As(err, &exit) && killed && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
	default:
		t.Fatalf("writer (to be killed after %d acknowledgements, ready %v, %d acknowledged): %v\n%s", killAt, ready, len(acked), err, other.String())
	}
	return acked, completed, other.String()
}

// soakDuration is how long TestReadersAndWritersNeverSeeBusy runs: MENTORD_SOAK
// (a Go duration; the spec's figure is 60s), else 10s, or 2s with -short.
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("MENTORD_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("MENTORD_SOAK=%q: want a positive Go duration such as 60s", s)
		}
		return d
	}
	if testing.Short() {
		return 2 * time.Second
	}
	return 10 * time.Second
}

// isBusy tells whether err is SQLite saying the database is busy or locked.
func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return true
	}
	return strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "database table is locked")
}

// TestReadersAndWritersNeverSeeBusy checks the spec's criterion that no
// SQLITE_BUSY reaches a caller under 8 concurrent readers and 1 writer: 8
// goroutines query the progress log through the read pool while one writes to
// it continuously through Tx, and, as when the admin runs a mentord command
// beside the daemon, a second DB opened on the same file writes every 50 ms.
// Any error at all fails the test. It runs for soakDuration.
func TestReadersAndWritersNeverSeeBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fx := prepareRoster(t, db)
	cli, err := store.Open(ctx, path) // the admin's command, as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	var (
		reads, writes, cliWrites atomic.Int64
		mu                       sync.Mutex
		failures                 []string
		errCount, busyCount      int
	)
	fail := func(who string, err error) {
		mu.Lock()
		defer mu.Unlock()
		errCount++
		busy := isBusy(err)
		if busy {
			busyCount++
		}
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s (busy: %v): %v", who, busy, err))
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the daemon's writer
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := logReply(ctx, db, fx, "INBOX", n); err != nil {
				fail("writer", err)
				continue
			}
			writes.Add(1)
		}
	})
	wg.Go(func() { // the other process's writer
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := logReply(ctx, cli, fx, "cli", n); err != nil {
				fail("second process's writer", err)
				continue
			}
			cliWrites.Add(1)
		}
	})
	queries := []func() error{
		func() error {
			var n int
			return db.R().GetContext(ctx, &n, `SELECT COUNT(*) FROM progress_entries WHERE superseded_by IS NULL`)
		},
		func() error {
			var es []store.Entry
			return db.R().SelectContext(ctx, &es, `SELECT * FROM progress_entries ORDER BY id DESC LIMIT 20`)
		},
		func() error {
			_, err := store.CurrentAnswers(ctx, db.R(), fx.sessionID, fx.personID, store.PurposeChecklist)
			return err
		},
		func() error {
			_, err := store.PendingAcks(ctx, db.R(), 0, 20)
			return err
		},
	}
	for r := range 8 {
		wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := queries[i%len(queries)](); err != nil {
					fail(fmt.Sprintf("reader %d", r), err)
					continue
				}
				reads.Add(1)
			}
		})
	}
	d := soakDuration(t)
	<-time.After(d)
	close(stop)
	wg.Wait()

	t.Logf("%v: %d reads, %d writes by the daemon's writer, %d by the second process's; %d errors, %d of them busy/locked",
		d, reads.Load(), writes.Load(), cliWrites.Load(), errCount, busyCount)
	if writes.Load() == 0 || cliWrites.Load() == 0 || reads.Load() == 0 {
		t.Errorf("some worker did nothing: %d reads, %d writes, %d second-process writes", reads.Load(), writes.Load(), cliWrites.Load())
	}
	if errCount > 0 {
		t.Errorf("%d errors reached callers (%d SQLITE_BUSY or locked); the first:\n%s", errCount, busyCount, strings.Join(failures, "\n"))
	}
	if err := db.QuickCheck(ctx); err != nil {
		t.Error(err)
	}
}
