package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/mail/devserver"
)

// mailHarness is a harness whose configuration points at a dev mail server
// started by the test (the daemon's own is off), signing in with a password.
func mailHarness(t *testing.T, smtpAddr, imapAddr string) *harness {
	t.Helper()
	h := newHarness(t)
	dir := filepath.Dir(h.config)
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("any password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh, sp, _ := net.SplitHostPort(smtpAddr)
	ih, ip, _ := net.SplitHostPort(imapAddr)
	body := fmt.Sprintf(`programme: {name: Test Programme}
mailbox: {address: mentoring@example.org}
database: {path: test.db}
smtp: {host: %s, port: %s, tls: none}
imap: {host: %s, port: %s, tls: none, password_file: pw}
`, sh, sp, ih, ip)
	if err := os.WriteFile(h.config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCheckMail(t *testing.T) {
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", RecipientDelimiter: "+"})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	h := mailHarness(t, dev.SMTPAddr(), dev.IMAPAddr())

	out := h.mustRun("check-mail", "--send-to", "ada@example.org")
	for _, want := range []string{"OK    smtp sign-in", "OK    imap sign-in", "(created now: Processed, Quarantine, Unrelated)",
		"OK    send to the mailbox      accepted for mentoring+probe@example.org", "OK    delivery to the mailbox  arrived after",
		"OK    send to ada@example.org", "All steps OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The probe was removed; the message to the person arrived.
	if msgs, err := dev.Mailbox("mentoring@example.org", "INBOX"); err != nil || len(msgs) != 0 {
		t.Errorf("the inbox holds %d messages (%v): the probe was not removed", len(msgs), err)
	}
	if msgs, err := dev.Mailbox("ada@example.org", "INBOX"); err != nil || len(msgs) != 1 {
		t.Errorf("ada got %d messages (%v)", len(msgs), err)
	}

	// --json: the steps, nothing else on stdout.
	out = h.mustRun("check-mail", "--json")
	var res daemon.MailCheck
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK || len(res.Steps) != 5 {
		t.Errorf("--json = %s (%v)", out, err)
	}
}

// A server that says no exits 1, naming the step; later steps are skipped.
func TestCheckMailFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	h := mailHarness(t, closed, dev.IMAPAddr())
	code, out, errOut := h.run("check-mail", "--wait", "1s")
	if code != 1 || !strings.Contains(out, "FAIL  smtp sign-in") || !strings.Contains(out, "OK    imap sign-in") ||
		!strings.Contains(out, "skip  send to the mailbox") || !strings.Contains(errOut, "the failing step says what to fix") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	// A configuration error is status 2, before anything is tried.
	if err := os.WriteFile(h.config, []byte("programme: {name: P}\nmailbox: {address: nope}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := h.run("check-mail"); code != 2 || !strings.Contains(errOut, "mailbox.address") {
		t.Errorf("bad config: exit %d, %s", code, errOut)
	}
}
