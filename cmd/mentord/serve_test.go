package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/smtptest"
)

var built struct {
	once sync.Once
	bin  string
	err  error
}

// binary builds mentord once for the tests that run the real process.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "mentord-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "mentord")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// notifySocket is a fake systemd: it records what the process tells NOTIFY_SOCKET.
type notifySocket struct {
	path   string
	mu     sync.Mutex
	states []string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	n := &notifySocket{path: filepath.Join(t.TempDir(), "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.states = append(n.states, strings.Split(string(buf[:k]), "\n")...)
			n.mu.Unlock()
		}
	}()
	return n
}

// waitFor waits until state has been sent count times in all.
func (n *notifySocket) waitFor(t *testing.T, state string, count int) {
	t.Helper()
	// A deadline for a daemon that never gets there, not a bound on how soon
	// it does: under strace, -race and a loaded CI machine a start has taken
	// over 10 s. How soon READY comes is measured in BENCHMARKS.md.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		k := 0
		for _, s := range n.states {
			if s == state {
				k++
			}
		}
		n.mu.Unlock()
		if k >= count {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t.Fatalf("no %d× %s; got %q", count, state, n.states)
}

// process is one run of the real binary.
type process struct {
	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
}

// logBuffer is the process's stderr, written by exec's copying goroutine
// while the test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary(t), args...), logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait returns the process's exit error, failing the test after timeout.
func (p *process) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("still running after %v\n%s", timeout, p.logs)
		return nil
	}
}

func (p *process) running() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// The real binary under a fake systemd: READY=1, RELOADING=1 then READY=1 on
// SIGHUP, STOPPING=1 and exit status 0 on SIGTERM, well within TimeoutStopSec.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	notify := newNotifySocket(t)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: m.db}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
`, freePort(t), freePort(t))), 0o600)
	p := start(t, []string{"NOTIFY_SOCKET=" + notify.path}, "serve", "--config", cfg)
	notify.waitFor(t, "READY=1", 1)
	p.cmd.Process.Signal(syscall.SIGHUP)
	notify.waitFor(t, "RELOADING=1", 1)
	notify.waitFor(t, "READY=1", 2)
	stop := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	if took := time.Since(stop); took > 10*time.Second {
		t.Errorf("stopping took %v", took)
	}
	notify.waitFor(t, "STOPPING=1", 1)
}

// sendingSetup writes a configuration that sends through sink (and reads
// from the embedded dev server) and adds a pair whose first three sessions
// are within the invite horizon: six invites and the first checklist are due
// at once.
func sendingSetup(t *testing.T, sink *smtptest.Sink) (config, db string) {
	t.Helper()
	dir := t.TempDir()
	config, db = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "m.db")
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
smtp: {host: 127.0.0.1, port: %d, tls: none}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
timings: {quiet_hours: {start: "", end: ""}}
`, db, sink.Port(), freePort(t), freePort(t))), 0o600)
	addPairSoon(t, nil, config)
	return config, db
}

// addPairSoon adds, with the real binary, a pair of four monthly sessions
// whose first is in two days: its invites and first checklist are due now.
func addPairSoon(t *testing.T, env []string, config string) {
	t.Helper()
	first := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02") + "T14:00"
	add := start(t, env, "pair", "add", "--config", config, "--mentor-name", "Ada Mentor", "--mentor-email", "ada@example.org",
		"--mentee-name", "Bo Mentee", "--mentee-email", "bo@example.org", "--start", first, "--tz", "UTC",
		"--every", "monthly", "--sessions", "4", "--duration", "60m", "--location", "Room 4.12")
	if err := add.wait(t, 30*time.Second); err != nil {
		t.Fatalf("pair add: %v\n%s", err, add.logs)
	}
}

// outboxStates counts the outbox rows by state.
func outboxStates(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := db.R().Select(&rows, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rows {
		got[r.State] = r.N
	}
	return got
}

// delivered counts how often the sink accepted each Message-ID.
func delivered(t *testing.T, sink *smtptest.Sink) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		got[msg.Header.Get("Message-Id")]++
	}
	return got
}

// SIGTERM while the SMTP server has the message and mentord waits for its
// answer: the transaction finishes, its result is committed, the rest waits
// for the next start, and the process exits 0. The next start sends the rest
// and nothing twice.
func TestServeStopFinishesTheSMTPTransaction(t *testing.T) {
	sink := smtptest.Start(t)
	config, db := sendingSetup(t, sink)
	entered, release := sink.HoldNext(smtptest.HoldData)
	p := start(t, nil, "serve", "--config", config)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message reached the server\n%s", p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	if !p.running() {
		t.Fatalf("exited without waiting for the server's answer\n%s", p.logs)
	}
	release()
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	states := outboxStates(t, db)
	total := states["sent"] + states["pending"]
	if states["sent"] != 1 || total < 6 || len(states) != 2 {
		t.Errorf("after the stop: %v, want the one in flight sent and the rest (6 invites and more) pending\n%s", states, p.logs)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("%d messages delivered before the stop, want 1", n)
	}

	restartDeliversEachOnce(t, sink, config, db, total)
}

// restartDeliversEachOnce starts mentord again, waits until the sink has
// total messages, stops it, and checks that each was delivered once.
func restartDeliversEachOnce(t *testing.T, sink *smtptest.Sink, config, db string, total int) *process {
	t.Helper()
	p := start(t, nil, "serve", "--config", config)
	if !sink.Wait(total, 30*time.Second) {
		t.Fatalf("%d of %d delivered after the restart\n%s", len(sink.Messages()), total, p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	got := delivered(t, sink)
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if len(got) != total {
		t.Errorf("%d distinct messages delivered, want %d", len(got), total)
	}
	if states := outboxStates(t, db); states["sent"] != total || len(states) != 1 {
		t.Errorf("after the restart: %v, want all %d sent", states, total)
	}
	return p
}

// kill -9 in the middle of an SMTP transaction (the server has the envelope,
// not the message): after a restart every message is delivered exactly once.
func TestServeKilledMidTransactionLosesNothing(t *testing.T) {
	sink := smtptest.Start(t)
	config, db := sendingSetup(t, sink)
	entered, release := sink.HoldNext(smtptest.HoldRcpt)
	defer release()
	p := start(t, nil, "serve", "--config", config)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message reached the server\n%s", p.logs)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t, 10*time.Second)
	release()
	states := outboxStates(t, db)
	if states["sent"] != 0 || states["sending"] == 0 {
		t.Fatalf("after the kill: %v, want the batch claimed and none sent", states)
	}
	total := states["sending"] + states["pending"]
	again := restartDeliversEachOnce(t, sink, config, db, total)
	if !strings.Contains(again.logs.String(), "queued again") {
		t.Errorf("the restart did not say it queued the claimed message again\n%s", again.logs)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
