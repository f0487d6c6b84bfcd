package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
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

// peerConfig writes a configuration that reads from and sends through dev, a
// mail server the test holds (the embedded one is off), with /healthz on a
// free port; imap is more of the imap section.
func peerConfig(t *testing.T, dev *devserver.Server, imap string) (config, db, httpAddr string) {
	t.Helper()
	dir := t.TempDir()
	config, db, httpAddr = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "m.db"), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	smtpHost, smtpPort, _ := net.SplitHostPort(dev.SMTPAddr())
	imapHost, imapPort, _ := net.SplitHostPort(dev.IMAPAddr())
	os.WriteFile(filepath.Join(dir, "pw"), []byte("any\n"), 0o600)
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
smtp: {host: %s, port: %s, tls: none, auth: none}
imap: {host: %s, port: %s, tls: none, password_file: pw, %s}
http: {listen: %q}
`, db, smtpHost, smtpPort, imapHost, imapPort, imap, httpAddr)), 0o600)
	return config, db, httpAddr
}

// startDev starts a dev mail server of the test's own.
func startDev(t *testing.T) *devserver.Server {
	t.Helper()
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", RecipientDelimiter: "+"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

// component returns /healthz's status code and the named component.
func component(t *testing.T, httpAddr, name string) (int, health.Part) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Parts []health.Part `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Parts {
		if p.Name == name {
			return resp.StatusCode, p
		}
	}
	return resp.StatusCode, health.Part{}
}

// waitLog waits until the process has logged text.
func waitLog(t *testing.T, p *process, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("never logged %q:\n%s", text, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An IMAP server that stops answering (Dovecot waiting on its own index lock
// for minutes) costs a reconnect after imap.timeout, which the log and
// /healthz tell; once it answers again, mail is read. Before, mentord waited
// on the unanswered SELECT forever, and said nothing.
func TestServeReconnectsWhenIMAPStalls(t *testing.T) {
	dev := startDev(t)
	release := dev.Stall("SELECT")
	defer release()
	config, db, httpAddr := peerConfig(t, dev, "timeout: 1s")
	p, _ := serve(t, config)
	waitLog(t, p, "stopped answering")
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, imap := component(t, httpAddr, "imap")
		if code == http.StatusServiceUnavailable && !imap.OK && strings.Contains(imap.State, "stalled") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz says %d, imap %+v, while the server does not answer", code, imap)
		}
		time.Sleep(20 * time.Millisecond)
	}
	release()
	if err := dev.Deliver("mentoring@example.org", []byte("From: someone@example.net\r\nTo: mentoring@example.org\r\n"+
		"Subject: hello\r\nMessage-ID: <stall@example.net>\r\n\r\nHi.\r\n")); err != nil {
		t.Fatal(err)
	}
	recorded(t, p, db, "stall@example.net")
}

// check-mail against a server that stops answering fails the step, naming
// the stall, and exits, instead of waiting for the answer forever.
func TestCheckMailGivesUpOnAStalledServer(t *testing.T) {
	dev := startDev(t)
	release := dev.Stall("EXAMINE")
	defer release()
	config, _, _ := peerConfig(t, dev, "timeout: 1s")
	cmd := exec.Command(binary(t), "check-mail", "--config", config)
	var out logBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(out.String(), "stopped answering") {
			t.Errorf("check-mail = %v\n%s", err, &out)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("check-mail still waits for the server's answer\n%s", &out)
	}
}

// stampedNotify is a fake systemd that notes when each state arrived.
type stampedNotify struct {
	path string
	mu   sync.Mutex
	at   map[string][]time.Time
}

func newStampedNotify(t *testing.T) *stampedNotify {
	t.Helper()
	n := &stampedNotify{path: filepath.Join(t.TempDir(), "notify.sock"), at: map[string][]time.Time{}}
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
			for _, s := range strings.Split(string(buf[:k]), "\n") {
				n.at[s] = append(n.at[s], time.Now())
			}
			n.mu.Unlock()
		}
	}()
	return n
}

// wait waits until state came count times after from.
func (n *stampedNotify) wait(t *testing.T, p *process, state string, from time.Time, count int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n.mu.Lock()
		k := 0
		for _, at := range n.at[state] {
			if at.After(from) {
				k++
			}
		}
		n.mu.Unlock()
		if k >= count {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d× %s after %s, want %d\n%s", k, state, from.Format("15:04:05.000"), count, p.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Under systemd's watchdog (WatchdogSec=2s here, 30s in the shipped unit), an
// IMAP server that is down for many times WatchdogSec does not get mentord
// killed: WATCHDOG=1 keeps coming while it waits to reconnect, and it reads
// again once the server is back. Before, the reconnect backoff counted as no
// sign of life: every outage over WatchdogSec restarted mentord, again and
// again, and each restart could send a message twice.
func TestServeWatchdogKeepsPingingThroughAnIMAPOutage(t *testing.T) {
	dev := startDev(t)
	imapAddr := dev.IMAPAddr()
	config, db, _ := peerConfig(t, dev, "timeout: 5s")
	notify := newStampedNotify(t)
	p := start(t, []string{"NOTIFY_SOCKET=" + notify.path, "WATCHDOG_USEC=2000000"}, "serve", "--config", config)
	notify.wait(t, p, "READY=1", time.Time{}, 1)
	waitLog(t, p, "imap connected")

	dev.Close()
	down := time.Now()
	notify.wait(t, p, "WATCHDOG=1", down.Add(4*time.Second), 8) // well past WatchdogSec into the outage
	if strings.Contains(p.logs.String(), "no sign of life") {
		t.Errorf("the watchdog took the outage for a wedged loop:\n%s", p.logs)
	}

	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: imapAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if err := dev.Deliver("mentoring@example.org", []byte("From: someone@example.net\r\nTo: mentoring@example.org\r\n"+
		"Subject: hello\r\nMessage-ID: <outage@example.net>\r\n\r\nHi.\r\n")); err != nil {
		t.Fatal(err)
	}
	recorded(t, p, db, "outage@example.net")
}

// silentServer accepts connections and never says a word, like an SMTP
// server whose greeting never comes; closed receives when mentord hangs up.
func silentServer(t *testing.T) (port int, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 1)) // until the client gives up
				ch <- struct{}{}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// The same for the SMTP server: mentord waiting on a server that does not
// answer, within smtp.timeout (3s here, longer than WatchdogSec=2s), is alive.
// Before, the outbox loop showed no sign of life while it waited.
func TestServeWatchdogKeepsPingingWhileSMTPStalls(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	port, closed := silentServer(t)
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: m.db}
smtp: {host: 127.0.0.1, port: %d, tls: none, auth: none, timeout: 3s}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
timings: {quiet_hours: {start: "", end: ""}}
`, port, freePort(t), freePort(t))), 0o600)
	addPairSoon(t, nil, config)
	notify := newStampedNotify(t)
	p := start(t, []string{"NOTIFY_SOCKET=" + notify.path, "WATCHDOG_USEC=2000000"}, "serve", "--config", config)
	notify.wait(t, p, "READY=1", time.Time{}, 1)
	select {
	case <-closed: // mentord waited smtp.timeout for the greeting, and gave up
	case <-time.After(30 * time.Second):
		t.Fatalf("mentord never gave up on the silent SMTP server\n%s", p.logs)
	}
	gaveUp := time.Now()
	notify.wait(t, p, "WATCHDOG=1", gaveUp, 2)
	if strings.Contains(p.logs.String(), "no sign of life") {
		t.Errorf("the watchdog took the wait for the SMTP server for a wedged loop:\n%s", p.logs)
	}
}
