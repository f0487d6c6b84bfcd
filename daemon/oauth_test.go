package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// oauthPeers are an authorization server and a dev mail server that takes
// only its tokens.
type oauthPeers struct {
	as  *oauthtest.Server
	dev *devserver.Server
}

func startOAuthPeers(t testing.TB, lifetime time.Duration) *oauthPeers {
	t.Helper()
	as := oauthtest.Start(t, oauthtest.Options{TokenLifetime: lifetime, MicrosoftErrors: true,
		Clients: []oauthtest.Client{{ID: "mentord-app", Secret: "first-client-secret-4f8a", User: "mentoring@example.org"}}})
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", RecipientDelimiter: "+",
		CheckToken: as.CheckToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return &oauthPeers{as: as, dev: dev}
}

// config writes a configuration that signs in with mech through p, and the
// client secret file; it returns the configuration's path and the HTTP address.
func (p *oauthPeers) config(t testing.TB, mech string) (path, httpAddr string) {
	t.Helper()
	dir := t.TempDir()
	_, sp, _ := net.SplitHostPort(p.dev.SMTPAddr())
	_, ip, _ := net.SplitHostPort(p.dev.IMAPAddr())
	httpAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	body := fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
smtp: {host: 127.0.0.1, port: %s, tls: none, auth: %s}
imap: {host: 127.0.0.1, port: %s, tls: none, auth: %s}
oauth: {provider: generic, token_url: %q, client_id: mentord-app, client_secret_file: secret}
http: {listen: %q}
log: {level: debug}
`, filepath.Join(dir, "m.db"), sp, mech, ip, mech, p.as.TokenURL(), httpAddr)
	path = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	writeSecret(t, path, "first-client-secret-4f8a")
	return path, httpAddr
}

func writeSecret(t testing.TB, cfgPath, secret string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfgPath), "secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls until cond holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// The daemon signs in with OAuth only: the token comes before the loops need
// it and is renewed while it runs, invites go out and the inbox is read; a
// revoked secret turns the health red and loses nothing; a new secret and a
// reload bring it back, and nothing is sent twice. No secret or token is logged.
func TestRunWithOAuth(t *testing.T) {
	for _, mech := range []string{config.AuthXOAUTH2, config.AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) { runWithOAuth(t, mech) })
	}
}

func runWithOAuth(t *testing.T, mech string) {
	p := startOAuthPeers(t, 3*time.Second) // renewed every 2.25 s
	path, httpAddr := p.config(t, mech)
	logs := &syncBuffer{}
	n := newNotifications()
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: logs, Notify: n.notify, Reload: reload}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		if err := oauthtest.Leak([]byte(logs.String()), p.as.Secrets()); err != nil {
			t.Errorf("secrets in the log: %v", err)
		}
	}()
	n.waitFor(t, "READY=1")
	waitHealthy(t, httpAddr)
	code, h := getHealth(t, httpAddr)
	if code != 200 || h.OAuth == nil || h.OAuth.Refreshes < 1 || h.OAuth.Identity != "mentoring@example.org" || !h.OAuth.OK() {
		t.Fatalf("/healthz = %d %+v", code, h.OAuth)
	}

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	roster := &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}
	add := func(mentee string) {
		addPair(t, roster, admin.PairInput{MentorName: "Ada", MentorEmail: "ada@example.org", MenteeName: "Bo", MenteeEmail: mentee,
			TZ: "Europe/Copenhagen", Every: "monthly", Sessions: "2", Start: time.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04"),
			Duration: "60m", Location: "Room 1"})
	}
	outbox := func(state string) int {
		var n int
		if err := db.R().Get(&n, `SELECT COUNT(*) FROM outbox WHERE state = ?`, state); err != nil {
			t.Fatal(err)
		}
		return n
	}
	inbox := func(addr string) int {
		msgs, err := p.dev.Mailbox(addr, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}

	add("bo@example.org") // 2 invites each to Bo and Ada
	waitFor(t, 20*time.Second, "the first pair's invites were not sent", func() bool { return outbox("sent") == 4 })

	// Tokens expire every 3 s: three renewals later, sending still works
	// without a failed attempt.
	first := h.OAuth.Refreshes
	waitFor(t, 20*time.Second, "the token was not renewed", func() bool {
		_, h := getHealth(t, httpAddr)
		return h.OAuth.Refreshes >= first+3
	})
	add("cy@example.org")
	waitFor(t, 20*time.Second, "the second pair's invites were not sent", func() bool { return outbox("sent") == 8 })
	if strings.Contains(logs.String(), "send failed") {
		t.Errorf("a send failed across token renewals:\n%s", logs.String())
	}

	// The secret is revoked and every token with it: the health goes red
	// with the reason, and the new pair's invites wait (none fails).
	if err := p.as.RevokeSecret("mentord-app"); err != nil {
		t.Fatal(err)
	}
	p.as.RevokeTokens("mentord-app")
	add("di@example.org")
	waitFor(t, 30*time.Second, "the health did not turn red", func() bool {
		code, h := getHealth(t, httpAddr)
		return code == 503 && h.OAuth != nil && !h.OAuth.OK() && strings.Contains(h.OAuth.LastError, "AADSTS7000222")
	})
	waitFor(t, 20*time.Second, "the third pair's invites were not queued", func() bool { return outbox("pending") == 4 })
	if f := outbox("failed"); f != 0 {
		t.Errorf("%d messages failed while the secret was revoked", f)
	}

	// A new secret and a reload: the invites go, each once.
	secret, err := p.as.RotateSecret("mentord-app")
	if err != nil {
		t.Fatal(err)
	}
	writeSecret(t, path, secret)
	reload <- struct{}{}
	waitFor(t, 30*time.Second, "the waiting invites were not sent after the new secret", func() bool { return outbox("sent") == 12 })
	waitFor(t, 10*time.Second, "the health did not recover", func() bool { code, _ := getHealth(t, httpAddr); return code == 200 })
	for addr, want := range map[string]int{"bo@example.org": 2, "cy@example.org": 2, "di@example.org": 2, "ada@example.org": 6} {
		if got := inbox(addr); got != want {
			t.Errorf("%s received %d messages, want %d", addr, got, want)
		}
	}
	if outbox("failed") != 0 {
		t.Errorf("a message failed")
	}
}
