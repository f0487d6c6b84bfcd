package main

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// Reading never stops, with the real binary.

// devConfig writes a configuration on the embedded dev mail server, as
// config.example.yaml has it, on free ports; extra is more configuration.
func devConfig(t *testing.T, extra string) (config, db string, smtpPort int) {
	t.Helper()
	dir := t.TempDir()
	config, db, smtpPort = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "m.db"), freePort(t)
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
%s`, db, smtpPort, freePort(t), extra)), 0o600)
	return config, db, smtpPort
}

// serve starts `mentord serve` and waits for READY=1.
func serve(t *testing.T, config string, env ...string) (*process, *notifySocket) {
	t.Helper()
	notify := newNotifySocket(t)
	p := start(t, append(env, "NOTIFY_SOCKET="+notify.path), "serve", "--config", config)
	notify.waitFor(t, "READY=1", 1)
	return p, notify
}

// mailTo submits a message from a stranger to the programme mailbox over SMTP.
func mailTo(t *testing.T, smtpPort int, msgID string) {
	t.Helper()
	raw := fmt.Sprintf("From: someone@example.net\r\nTo: mentoring@example.org\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\nHi.\r\n", msgID)
	if err := smtp.SendMail(fmt.Sprintf("127.0.0.1:%d", smtpPort), nil, "someone@example.net", []string{"mentoring@example.org"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// recorded waits until the message msgID is in the database and returns its row.
func recorded(t *testing.T, p *process, db, msgID string) store.Inbound {
	t.Helper()
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows []store.Inbound
		if err := s.R().Select(&rows, `SELECT * FROM inbound WHERE message_id = ?`, msgID); err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			return rows[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was never read\n%s", msgID, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With config.example.yaml's embedded dev server, mail that arrives after a
// restart is read like the mail before it. The dev server gave every INBOX
// UIDVALIDITY 1 with UIDs from 1 at every start, so after one restart the
// first message collided with the first one read before (UNIQUE constraint
// failed: inbound.mailbox, inbound.uidvalidity, inbound.uid), and the inbox
// failed at every try from then on.
func TestServeReadsAfterTheDevServerRestarts(t *testing.T) {
	config, db, smtpPort := devConfig(t, "")
	first, _ := serve(t, config)
	mailTo(t, smtpPort, "before@example.net")
	before := recorded(t, first, db, "before@example.net")
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, first.logs)
	}

	second, _ := serve(t, config)
	mailTo(t, smtpPort, "after@example.net")
	after := recorded(t, second, db, "after@example.net")
	if after.Outcome != store.OutcomeUnrelated || after.UIDValidity == before.UIDValidity {
		t.Errorf("after the restart the message was recorded as %s (%q) in UIDVALIDITY %d, before it %d",
			after.Outcome, after.Reason, after.UIDValidity, before.UIDValidity)
	}
	if strings.Contains(second.logs.String(), "UNIQUE constraint failed") {
		t.Errorf("the inbox failed:\n%s", second.logs)
	}
}
