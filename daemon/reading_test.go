package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
)

// Reading never stops: the daemon against a mail server of the test's own,
// which it can restart, stall or take down while the daemon runs.

// peerDaemon is a daemon run by Run, reading from and sending through a dev
// server the test holds (the embedded one is off).
type peerDaemon struct {
	t        *testing.T
	dev      *devserver.Server
	devCfg   devserver.Config
	cfg      string // the configuration file
	db       string // the database file
	httpAddr string
	logs     *syncBuffer
	n        *notes
	reload   chan struct{} // a send reloads the configuration (SIGHUP)
	cancel   context.CancelFunc
	done     chan error
}

// startPeerDaemon starts dev (on free ports unless devCfg names them) and a
// daemon that reads from it; extra is more configuration.
func startPeerDaemon(t *testing.T, devCfg devserver.Config, extra string, faults *Faults) *peerDaemon {
	t.Helper()
	if devCfg.SMTPAddr == "" {
		devCfg.SMTPAddr, devCfg.IMAPAddr = "127.0.0.1:0", "127.0.0.1:0"
	}
	devCfg.RecipientDelimiter = "+"
	dev, err := devserver.Start(devCfg)
	if err != nil {
		t.Fatal(err)
	}
	// Restarts reuse the ports it got.
	devCfg.SMTPAddr, devCfg.IMAPAddr = dev.SMTPAddr(), dev.IMAPAddr()
	p := &peerDaemon{t: t, dev: dev, devCfg: devCfg, logs: &syncBuffer{}, n: &notes{}, reload: make(chan struct{}, 1), done: make(chan error, 1)}
	t.Cleanup(func() { p.dev.Close() })
	dir := t.TempDir()
	p.db, p.cfg = filepath.Join(dir, "m.db"), filepath.Join(dir, "config.yaml")
	p.httpAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	smtpHost, smtpPort, _ := net.SplitHostPort(dev.SMTPAddr())
	imapHost, imapPort, _ := net.SplitHostPort(dev.IMAPAddr())
	body := fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
smtp: {host: %s, port: %s, tls: none, auth: none}
imap: {host: %s, port: %s, tls: none, password_file: pw}
http: {listen: %q}
log: {level: debug}
%s`, p.db, smtpHost, smtpPort, imapHost, imapPort, p.httpAddr, extra)
	if err := os.WriteFile(p.cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("any\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		p.done <- Run(ctx, Options{ConfigPath: p.cfg, LogOutput: p.logs, Notify: p.n.notify, Reload: p.reload, Faults: faults})
	}()
	t.Cleanup(p.stop)
	p.n.wait(t, "READY=1", time.Time{}, 1)
	return p
}

// notes records what the daemon tells systemd, with when, never blocking it.
type notes struct {
	mu     sync.Mutex
	states []stamped
}

func (n *notes) notify(state string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.states = append(n.states, stamped{time.Now(), state})
}

// count returns how many states with the prefix came after from.
func (n *notes) count(prefix string, from time.Time) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for _, s := range n.states {
		if s.at.After(from) && strings.HasPrefix(s.state, prefix) {
			k++
		}
	}
	return k
}

// wait waits until count states with the prefix came after from.
func (n *notes) wait(t *testing.T, prefix string, from time.Time, count int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n.count(prefix, from) < count {
		if time.Now().After(deadline) {
			t.Fatalf("%d× %s after %v, want %d", n.count(prefix, from), prefix, from.Format("15:04:05.000"), count)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the daemon and waits for Run to return.
func (p *peerDaemon) stop() {
	p.t.Helper()
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("Run = %v", err)
		}
	case <-time.After(60 * time.Second):
		p.t.Errorf("Run did not return after cancel\n%s", p.logs)
	}
}

// restartDev stops the mail server and starts a new one with the same
// settings on the same ports: an empty server, as after a restart.
func (p *peerDaemon) restartDev() {
	p.t.Helper()
	if err := p.dev.Close(); err != nil {
		p.t.Fatal(err)
	}
	dev, err := devserver.Start(p.devCfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.dev = dev
}

func (p *peerDaemon) deliver(msgID string) {
	p.t.Helper()
	raw := fmt.Sprintf("From: someone@example.net\r\nTo: mentoring@example.org\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\nHi.\r\n", msgID)
	if err := p.dev.Deliver("mentoring@example.org", []byte(raw)); err != nil {
		p.t.Fatal(err)
	}
}

// inbound waits until the message msgID is recorded and returns its row.
func (p *peerDaemon) inbound(msgID string) store.Inbound {
	p.t.Helper()
	db, err := store.Open(context.Background(), p.db)
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows []store.Inbound
		if err := db.R().Select(&rows, `SELECT * FROM inbound WHERE message_id = ?`, msgID); err != nil {
			p.t.Fatal(err)
		}
		if len(rows) > 0 {
			return rows[0]
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s was never recorded\n%s", msgID, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// folder waits until the dev server's folder of the programme mailbox holds
// n messages.
func (p *peerDaemon) folder(name string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs, err := p.dev.Mailbox("mentoring@example.org", name)
		if err == nil && len(msgs) == n {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s holds %d messages (%v), want %d\n%s", name, len(msgs), err, n, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A server that hands out a UID it already used for another message (here a
// dev server restarted with its UIDVALIDITY of before, as the embedded one
// did): that message is put aside with the reason, and the rest of its batch
// is read as usual. Before, the batch failed on the UNIQUE key of
// (mailbox, uidvalidity, uid) at every try, and nothing was read again.
func TestReusedUIDIsQuarantinedAndTheRestIsRead(t *testing.T) {
	p := startPeerDaemon(t, devserver.Config{UIDValidity: 1}, "", nil)
	p.deliver("before@example.net")
	if in := p.inbound("before@example.net"); in.UID != 1 || in.Outcome != store.OutcomeUnrelated {
		t.Fatalf("first message recorded as %+v", in)
	}
	p.restartDev()
	p.deliver("reused@example.net") // UID 1 again, in the same UIDVALIDITY
	p.deliver("after@example.net")  // UID 2
	reused, after := p.inbound("reused@example.net"), p.inbound("after@example.net")
	if reused.Outcome != store.OutcomeQuarantined || !strings.Contains(reused.Reason, "reused UID 1") {
		t.Errorf("the message under a reused UID was recorded as %s (%q), want quarantined with the reason", reused.Outcome, reused.Reason)
	}
	if after.Outcome != store.OutcomeUnrelated {
		t.Errorf("the next message of the batch was recorded as %s (%q)", after.Outcome, after.Reason)
	}
	p.folder("Quarantine", 1)
	p.folder("Unrelated", 1)
	p.folder("INBOX", 0)
	if strings.Contains(p.logs.String(), "UNIQUE constraint failed") {
		t.Errorf("the inbox failed on the reused UID:\n%s", p.logs)
	}
}

// A message whose effects cannot be recorded (here a trigger refuses one
// answer, as a constraint would) is put aside with the reason; the messages
// before and after it in the same batch are read, and the inbox goes on.
// Before, the whole batch failed at every try.
func TestUnrecordableMessageIsQuarantinedAndTheBatchGoesOn(t *testing.T) {
	ir := newIMAPReading(t)
	err := ir.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON progress_entries
			WHEN NEW.answer LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'this answer cannot be kept'); END`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ir.dev.Deliver("mentoring@example.org", ir.replyMsg(menteeAddr, ir.token, "q1@mail.example.org", "1. First answer."))
	ir.dev.Deliver("mentoring@example.org", ir.replyMsg(menteeAddr, ir.token, "q2@mail.example.org", "2. A poison answer."))
	ir.dev.Deliver("mentoring@example.org", ir.replyMsg(menteeAddr, ir.token, "q3@mail.example.org", "3. Third answer."))
	if err := ir.drainOnce(ir.dial()); err != nil {
		t.Fatalf("reading the inbox = %v", err)
	}
	outcome := func(id string) (o, reason string) {
		t.Helper()
		var in store.Inbound
		if err := ir.db.R().Get(&in, `SELECT * FROM inbound WHERE message_id = ?`, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return in.Outcome, in.Reason
	}
	for _, id := range []string{"q1@mail.example.org", "q3@mail.example.org"} {
		if o, reason := outcome(id); o != store.OutcomeLogged {
			t.Errorf("%s recorded as %s (%q), want logged", id, o, reason)
		}
	}
	if o, reason := outcome("q2@mail.example.org"); o != store.OutcomeQuarantined || !strings.Contains(reason, "this answer cannot be kept") {
		t.Errorf("the message that cannot be recorded is %s (%q), want quarantined with the reason", o, reason)
	}
	if got := ir.answers(); got[1] != "First answer." || got[3] != "Third answer." || got[2] != "" {
		t.Errorf("answers = %v", got)
	}
	for folder, want := range map[string]int{"INBOX": 0, "Processed": 2, "Quarantine": 1} {
		if got := ir.folder(folder); got != want {
			t.Errorf("%s holds %d messages, want %d", folder, got, want)
		}
	}
}

// After such a server went back to UID 1, new mail below the UIDs read before
// is still read as it comes, not only at the next connection: reading past
// the cursor would ask for UIDs the server no longer reaches.
func TestUIDsGoingBackAreReadAsTheyCome(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var hold atomic.Bool
	faults := &Faults{BeforeInbox: func() {
		if hold.Load() {
			entered <- struct{}{}
			<-release
		}
	}}
	p := startPeerDaemon(t, devserver.Config{UIDValidity: 1}, "", faults)
	for i := 1; i <= 5; i++ {
		p.deliver(fmt.Sprintf("old%d@example.net", i))
		p.inbound(fmt.Sprintf("old%d@example.net", i))
	}
	p.restartDev()
	p.deliver("marker@example.net") // UID 1 again; read when the daemon is connected again
	p.inbound("marker@example.net")
	hold.Store(true)
	p.deliver("new2@example.net") // UID 2: the daemon wakes, and waits before reading
	<-entered
	hold.Store(false)
	p.deliver("new3@example.net") // UID 3
	close(release)
	for _, id := range []string{"new2@example.net", "new3@example.net"} {
		if in := p.inbound(id); in.Outcome != store.OutcomeQuarantined || !strings.Contains(in.Reason, "reused UID") {
			t.Errorf("%s recorded as %s (%q)", id, in.Outcome, in.Reason)
		}
	}
}

// waitLog waits until the daemon logged text count times.
func (p *peerDaemon) waitLog(text string, count int) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(p.logs.String(), text) < count {
		if time.Now().After(deadline) {
			p.t.Fatalf("logged %q %d times, want %d:\n%s", text, strings.Count(p.logs.String(), text), count, p.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The watchdog is about mentord, not its peers: through an IMAP outage many
// times longer than WatchdogSec the inbox loop waits to reconnect, as
// designed, and WATCHDOG=1 keeps coming; the same loop wedged in its own code
// still stops it. Before, the reconnect backoff counted as no sign of life,
// and under systemd any outage over WatchdogSec restarted mentord again and
// again.
func TestWatchdogThroughAnIMAPOutageAndAWedge(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "2000000") // WatchdogSec=2s
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var wedged atomic.Bool
	release := make(chan struct{})
	faults := &Faults{BeforeInbox: func() {
		if wedged.Load() {
			<-release
		}
	}}
	defer close(release)
	p := startPeerDaemon(t, devserver.Config{}, "", faults)
	p.waitLog("imap connected", 1)

	down := time.Now()
	if err := p.dev.Close(); err != nil {
		t.Fatal(err)
	}
	p.n.wait(t, "WATCHDOG=1", down.Add(4*time.Second), 8) // pings well past WatchdogSec into the outage
	p.waitLog("imap connection lost", 3)                  // the daemon did wait out several backoffs
	if strings.Contains(p.logs.String(), "no sign of life") {
		t.Errorf("the watchdog took the outage for a wedged loop:\n%s", p.logs)
	}

	p.restartDev()
	p.waitLog("imap connected", 2)
	wedged.Store(true)
	p.deliver("wedge@example.net")
	p.waitLog(`msg="a loop shows no sign of life; not pinging the watchdog" loop=inbox`, 1)
	// /healthz sees the wedge too (before, it said ok).
	code, h := getHealth(t, p.httpAddr)
	var inbox health.Part
	for _, part := range h.Parts {
		if part.Name == "inbox" {
			inbox = part
		}
	}
	if code != 503 || inbox.OK || !strings.Contains(inbox.State, "no sign of life") {
		t.Errorf("/healthz = %d, inbox %+v, while the inbox loop is wedged", code, inbox)
	}
}

// SIGTERM stops the daemon within its shutdown timeout (and a few seconds to
// cut work off) even when a loop is wedged in its own code and never returns.
// Before, Run waited for the wedged loop for ever.
func TestStopWithAWedgedLoop(t *testing.T) {
	var wedged atomic.Bool
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	faults := &Faults{BeforeInbox: func() {
		if wedged.Load() {
			entered <- struct{}{}
			<-release
		}
	}}
	p := startPeerDaemon(t, devserver.Config{}, "service: {shutdown_timeout: 1s}\n", faults)
	p.waitLog("imap connected", 1)
	wedged.Store(true)
	p.deliver("wedge@example.net")
	<-entered
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Run still waits for the wedged loop 30s after the stop\n%s", p.logs)
	}
	if !strings.Contains(p.logs.String(), "did not stop") {
		t.Errorf("the log does not say which loop was left behind:\n%s", p.logs)
	}
}

// A loop that failed waits out its restart backoff as designed: alive for
// the watchdog (and failing in /healthz). Before, a backoff longer than
// WatchdogSec stopped the pings.
func TestRestartBackoffIsASignOfLife(t *testing.T) {
	d := &Daemon{log: slog.New(slog.DiscardHandler), health: health.New(time.Now), watchdog: time.Second}
	soft, stop := context.WithCancel(context.Background())
	failed := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.supervise(soft, soft, "schedule", func(_, _ context.Context) error {
			d.health.Beat("schedule") // it ran
			failed <- struct{}{}
			return errors.New("broken")
		})
	}()
	<-failed
	<-failed // the second run failed: a backoff of 2s, twice the window
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := d.health.Alive(d.watchdog, "schedule"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restart backoff shows no sign of life")
		}
	}
	start := time.Now()
	for time.Since(start) < 1800*time.Millisecond {
		if ok, _ := d.health.Alive(d.watchdog, "schedule"); !ok {
			t.Fatalf("no sign of life %v into the restart backoff", time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h := d.health.Parts(); len(h) != 1 || h[0].OK {
		t.Errorf("health = %+v, want the loop failing", h)
	}
	stop()
	<-done
}

// SIGTERM is heard while a reload hangs (on whatever it reads or renders):
// the daemon stops, and says it left the reload behind. Before, the reload
// ran in the loop that waits for signals, and a hung one kept it from ever
// seeing SIGTERM.
func TestStopDuringAHungReload(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	p := startPeerDaemon(t, devserver.Config{}, "", &Faults{BeforeReload: func() {
		entered <- struct{}{}
		<-release
	}})
	p.reload <- struct{}{}
	<-entered
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Run still waits for the hung reload 30s after the stop\n%s", p.logs)
	}
	if !strings.Contains(p.logs.String(), "a reload did not finish") {
		t.Errorf("the log does not say the reload was left behind:\n%s", p.logs)
	}
}
