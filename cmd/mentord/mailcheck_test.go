package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth/oauthtest"
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
		"OK    send to the address      accepted for ada@example.org", "All steps OK"} {
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
	var res admin.MailCheck
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

// oauth login signs the mailbox in with the device flow and keeps the refresh
// token; check-mail then signs in with it to an OAuth-only server, and the
// token the server rotates is saved.
func TestOAuthLoginThenCheckMail(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{DeviceInterval: time.Second, RotateRefreshTokens: true,
		Clients: []oauthtest.Client{{ID: "mentord-public"}}})
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", RecipientDelimiter: "+",
		CheckToken: as.CheckToken})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	h := newHarness(t)
	_, sp, _ := net.SplitHostPort(dev.SMTPAddr())
	_, ip, _ := net.SplitHostPort(dev.IMAPAddr())
	body := fmt.Sprintf(`programme: {name: Test Programme}
mailbox: {address: mentoring@example.org}
database: {path: test.db}
smtp: {host: 127.0.0.1, port: %s, tls: none}
imap: {host: 127.0.0.1, port: %s, tls: none}
oauth: {provider: generic, grant: refresh_token, client_id: mentord-public, token_url: %q, device_authorization_url: %q}
`, sp, ip, as.TokenURL(), as.DeviceAuthURL())
	if err := os.WriteFile(h.config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rtFile := filepath.Join(filepath.Dir(h.config), "oauth-refresh-token")

	// Before the login: check-config says so, and check-mail fails at the token.
	if out := h.mustRun("check-config"); !strings.Contains(out, "MISSING: sign in once with `mentord oauth login`") {
		t.Errorf("check-config before login:\n%s", out)
	}
	if code, out, _ := h.run("check-mail"); code != 1 || !strings.Contains(out, "FAIL  oauth token") || !strings.Contains(out, "mentord oauth login") {
		t.Errorf("check-mail before login: exit %d\n%s", code, out)
	}

	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() { c, o, e := h.run("oauth", "login"); done <- result{c, o, e} }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	da, err := as.WaitDeviceAuthorization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.Approve(da.UserCode, "mentoring@example.org"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, as.VerificationURI()) || !strings.Contains(r.out, da.UserCode) || !strings.Contains(r.out, "Signed in") {
		t.Fatalf("oauth login: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
	st, err := os.Stat(rtFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("refresh token file: %v %v", st, err)
	}
	before, _ := os.ReadFile(rtFile)

	out := h.mustRun("check-mail")
	if !strings.Contains(out, "OK    oauth token") || !strings.Contains(out, "XOAUTH2 as mentoring@example.org") || !strings.Contains(out, "All steps OK") {
		t.Errorf("check-mail after login:\n%s", out)
	}
	after, _ := os.ReadFile(rtFile)
	if string(after) == string(before) || len(after) < 20 {
		t.Errorf("the rotated refresh token was not saved")
	}
}

// A Microsoft 365 and a Google Workspace configuration pass check-config,
// which says what the provider filled in.
func TestCheckConfigProviders(t *testing.T) {
	key, err := oauthtest.NewKey("mentord")
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "mentord@p.iam.gserviceaccount.com",
		"private_key": string(key.PrivateKeyPEM()), "token_uri": "https://oauth2.googleapis.com/token"})
	for _, tc := range []struct {
		name, oauth string
		files       map[string][]byte
		want        []string
	}{
		{"microsoft", "oauth: {provider: microsoft, tenant: contoso.onmicrosoft.com, client_id: 11111111-2222-3333-4444-555555555555, client_certificate_file: cert.pem, client_key_file: key.pem}",
			map[string][]byte{"cert.pem": key.CertificatePEM(), "key.pem": key.PrivateKeyPEM()},
			[]string{"smtp       smtp.office365.com:587 tls=starttls auth=xoauth2 as mentoring@example.org, at most 30 a minute and 10000 a day",
				"imap       outlook.office365.com:993 tls=implicit auth=xoauth2", "oauth.token_url              https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
				"Filled in from oauth.provider microsoft", "Next: mentord check-mail"}},
		{"google", "oauth: {provider: google, service_account_file: sa.json}", map[string][]byte{"sa.json": sa},
			[]string{"smtp       smtp.gmail.com:465 tls=implicit auth=xoauth2", "auth=xoauth2 as mentoring@example.org, at most 2000 a day",
				"oauth      google, grant service_account, token endpoint from the service account key, scopes https://mail.google.com/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			body := "programme: {name: Test Programme}\nmailbox: {address: mentoring@example.org}\ndatabase: {path: test.db}\n" + tc.oauth + "\n"
			if err := os.WriteFile(h.config, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(filepath.Dir(h.config), name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out := h.mustRun("check-config")
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("check-config lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
