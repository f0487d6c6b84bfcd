package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

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
	n        *notifications
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
	p := &peerDaemon{t: t, dev: dev, devCfg: devCfg, logs: &syncBuffer{}, n: newNotifications(), done: make(chan error, 1)}
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
		p.done <- Run(ctx, Options{ConfigPath: p.cfg, LogOutput: p.logs, Notify: p.n.notify, Faults: faults})
	}()
	t.Cleanup(p.stop)
	p.n.waitFor(t, "READY=1")
	return p
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
