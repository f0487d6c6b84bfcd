package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
)

// programmeConfig writes the configuration of one programme that reads its
// own mailbox (name@example.org) on dev, a mail server both programmes share.
func programmeOn(t *testing.T, dev *devserver.Server, name string) (config, db string) {
	t.Helper()
	dir := t.TempDir()
	config, db = filepath.Join(dir, name+".yaml"), filepath.Join(dir, "mentord.db")
	smtpHost, smtpPort, _ := net.SplitHostPort(dev.SMTPAddr())
	imapHost, imapPort, _ := net.SplitHostPort(dev.IMAPAddr())
	os.WriteFile(filepath.Join(dir, "pw"), []byte("any\n"), 0o600)
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: %s}
mailbox: {address: %s@example.org}
database: {path: %s}
smtp: {host: %s, port: %s, tls: none, auth: none}
imap: {host: %s, port: %s, tls: none, password_file: pw}
http: {listen: "127.0.0.1:%d"}
`, name, name, db, smtpHost, smtpPort, imapHost, imapPort, freePort(t))), 0o600)
	return config, db
}

// Two programmes run side by side, as mentord@staff and mentord@phd do, on
// one mail server, each with its own mailbox and database: each reads the
// mail sent to its own address (and its plus-addresses), never the other's.
func TestTwoProgrammesOnOneMailServer(t *testing.T) {
	dev := startDev(t)
	staffConfig, staffDB := programmeOn(t, dev, "staff")
	phdConfig, phdDB := programmeOn(t, dev, "phd")
	staff, _ := serve(t, staffConfig)
	phd, _ := serve(t, phdConfig)

	send := func(to, msgID string) {
		t.Helper()
		raw := fmt.Sprintf("From: someone@example.net\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\nHi.\r\n", to, msgID)
		if err := smtp.SendMail(dev.SMTPAddr(), nil, "someone@example.net", []string{to}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	send("staff@example.org", "to-staff@example.net")
	send("phd@example.org", "to-phd@example.net")
	send("staff+abc@example.org", "to-staff-plus@example.net")
	send("phd+abc@example.org", "to-phd-plus@example.net")
	recorded(t, staff, staffDB, "to-staff@example.net")
	recorded(t, staff, staffDB, "to-staff-plus@example.net")
	recorded(t, phd, phdDB, "to-phd@example.net")
	recorded(t, phd, phdDB, "to-phd-plus@example.net")

	for db, others := range map[string][]string{
		staffDB: {"to-phd@example.net", "to-phd-plus@example.net"},
		phdDB:   {"to-staff@example.net", "to-staff-plus@example.net"},
	} {
		s, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.R().Get(&n, `SELECT COUNT(*) FROM inbound WHERE message_id IN (?, ?)`, others[0], others[1]); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s read %d messages of the other programme", db, n)
		}
		s.Close()
	}
	// Each programme's admin commands see only its own roster.
	addPairSoon(t, nil, staffConfig)
	for config, want := range map[string]int{staffConfig: 0, phdConfig: 1} {
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
			now: time.Now, serve: func(*env, string) error { return nil }}
		if code := run([]string{"pair", "list", "--config", config}, e); code != 0 || strings.Contains(errOut.String(), "no pairs yet") != (want == 1) {
			t.Errorf("pair list --config %s = %d\n%s%s", config, code, out.String(), errOut.String())
		}
	}
}
