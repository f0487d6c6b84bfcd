package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/oauth/oauthtest"
	"github.com/mentord/mentord/mail/sender"
)

// The daemon against the OAuth-only Dovecot: the programme mailbox
// programme@example.test signs in to submission and IMAP with tokens of its
// own client at the harness's authorization server, never a password.

// oauthProgramme registers a client of its own for the programme mailbox (so
// the test may revoke it) and writes a configuration that signs in with smtpMech
// and imapMech; it returns the configuration's path and the HTTP address.
func oauthProgramme(t *testing.T, smtpMech, imapMech string) (path, httpAddr, clientID string) {
	t.Helper()
	programme := stack.User("programme")
	clientID = "mentord-" + strings.ToLower(rand.Text()[:10])
	secret := "e2e-Programme-" + rand.Text()
	if err := authServer.AddClient(oauthtest.Client{ID: clientID, Secret: secret, User: programme}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr = ln.Addr().String()
	ln.Close()
	body := fmt.Sprintf(`programme: {name: mentord e2e over OAuth}
mailbox: {address: %[1]s}
smtp: {host: %[2]s, port: %[3]d, tls: starttls, ca_file: %[4]s, auth: %[7]s}
imap: {host: %[2]s, port: %[5]d, tls: starttls, ca_file: %[4]s, auth: %[8]s, poll_interval: 10s}
oauth:
  provider: generic
  token_url: %[6]q
  client_id: %[9]s
  client_secret_file: client-secret
database: {path: m.db}
http: {listen: %[10]q}
log: {level: debug}
`, programme, stack.OAuthHost, stack.OAuthSubmissionPort, stack.CertFile, stack.OAuthIMAPPort, authServer.TokenURL(),
		smtpMech, imapMech, clientID, httpAddr)
	path = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	writeClientSecret(t, path, secret)
	return path, httpAddr, clientID
}

func writeClientSecret(t *testing.T, cfgPath, secret string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfgPath), "client-secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

type healthz struct {
	Status string        `json:"status"`
	Parts  []health.Part `json:"components"`
	OAuth  *oauth.State  `json:"oauth"`
}

func getHealthz(t *testing.T, addr string) (int, healthz) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, healthz{}
	}
	defer resp.Body.Close()
	var h healthz
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h
}

// eventually polls cond until it holds or ctx ends.
func eventually(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestDaemonOverOAuth runs the whole daemon against the OAuth-only Dovecot
// with each SASL mechanism on each protocol: it sends a pair's invites and
// checklist, reads the mentee's reply into the log, renews its 4-second
// tokens without a failed send, and survives a revoked client secret: the
// health turns red with the reason, the mail waits, and after a new secret
// and a reload every message arrives exactly once.
func TestDaemonOverOAuth(t *testing.T) {
	for _, mechs := range [][2]string{{config.AuthXOAUTH2, config.AuthOAuthBearer}, {config.AuthOAuthBearer, config.AuthXOAUTH2}} {
		t.Run("smtp "+mechs[0]+", imap "+mechs[1], func(t *testing.T) { daemonOverOAuth(t, mechs[0], mechs[1]) })
	}
}

func daemonOverOAuth(t *testing.T, smtpMech, imapMech string) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	authServer.SetTokenLifetime(4 * time.Second)
	t.Cleanup(func() { authServer.SetTokenLifetime(oauthtest.DefaultTokenLifetime) })
	path, httpAddr, clientID := oauthProgramme(t, smtpMech, imapMech)

	runCtx, stop := context.WithCancel(context.Background())
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(runCtx, daemon.Options{ConfigPath: path, Logger: testLogger(t), Reload: reload, Notify: func(string) {}})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon.Run = %v", err)
		}
	}()
	eventually(ctx, t, "the daemon did not connect to the OAuth IMAP", func() bool {
		code, h := getHealthz(t, httpAddr)
		for _, p := range h.Parts {
			if p.Name == "imap" && strings.HasPrefix(p.State, "connected") {
				return code == 200 && h.OAuth != nil && h.OAuth.OK()
			}
		}
		return false
	})

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
	mentee := stack.User("mentee")
	// Three pairs of Bo with three mentors (a pair of the same two people is
	// added only once).
	mentors := []string{stack.User("mentor"), stack.User("other"), stack.User("daemon")}
	add := func() {
		mentor := mentors[0]
		mentors = mentors[1:]
		// Session 1 in 50 hours: its checklist is due now.
		res, err := roster.AddPair(ctx, admin.PairInput{MentorName: "A Mentor", MentorEmail: mentor, MenteeName: "Bo Mentee",
			MenteeEmail: mentee, TZ: "UTC", Start: time.Now().Add(50 * time.Hour).UTC().Truncate(time.Hour).Format("2006-01-02T15:04"),
			Every: "monthly", Sessions: "2", Duration: "60m", Location: "Room 2"})
		if err != nil || !res.Created {
			t.Fatalf("AddPair = %+v, %v", res, err)
		}
	}
	count := func(query string, args ...any) int {
		var n int
		if err := db.R().Get(&n, query, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Each pair gets 4 invites and a checklist (the mentee's receipts for
	// replies are not counted).
	sent := func() int { return count(`SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND kind != 'ack'`) }

	add()
	eventually(ctx, t, "the first pair's mail was not sent", func() bool { return sent() == 5 })

	// The mentee answers the checklist through Postfix; the daemon reads the
	// answer over the OAuth IMAP into the log.
	var ck struct {
		MessageID string `db:"message_id"`
		Subject   string `db:"subject"`
	}
	if err := db.R().Get(&ck, `SELECT message_id, subject FROM outbox WHERE kind = 'checklist' LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	got, err := stack.WaitForMessage(ctx, mentee, ck.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(got.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	replyTo, err := mail.ParseAddress(m.Header.Get("Reply-To"))
	if err != nil || !strings.HasPrefix(replyTo.Address, "programme+") {
		t.Fatalf("Reply-To = %v (%v): the token should ride in the plus-address", replyTo, err)
	}
	answer := fmt.Sprintf("From: Bo Mentee <%s>\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <oauth-reply-%d@example.test>\r\n"+
		"In-Reply-To: <%s>\r\nReferences: <%s>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"1. A sparring partner for my first year as a group leader.\r\n\r\nBo\r\n", mentee, replyTo.Address, ck.Subject,
		time.Now().UnixNano(), ck.MessageID, ck.MessageID, time.Now().Format(time.RFC1123Z))
	submit := sender.New(sender.Config{Host: stack.Host, Port: stack.SubmissionPort, Security: sender.TLSStartTLS, Auth: "plain",
		Username: mentee, Password: stack.Password, RootCAs: stack.CertPool, Timeout: 10 * time.Second}, testLogger(t))
	conn, err := submit.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(ctx, sender.Envelope{From: mentee, To: []string{replyTo.Address}}, []byte(answer)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	eventually(ctx, t, "the reply was not logged", func() bool {
		return count(`SELECT COUNT(*) FROM progress_entries WHERE answer = ?`, "A sparring partner for my first year as a group leader.") == 1
	})

	// Tokens live 4 s: after several renewals the daemon still sends, and no
	// send has failed or been retried.
	_, h := getHealthz(t, httpAddr)
	renewed := h.OAuth.Refreshes
	eventually(ctx, t, "the token was not renewed", func() bool {
		_, h := getHealthz(t, httpAddr)
		return h.OAuth != nil && h.OAuth.Refreshes >= renewed+2
	})
	add()
	eventually(ctx, t, "the second pair's mail was not sent", func() bool { return sent() == 10 })
	if n := count(`SELECT COUNT(*) FROM outbox WHERE attempts > 1 OR last_error != ''`); n != 0 {
		t.Errorf("%d messages needed a second attempt across token renewals", n)
	}

	// The client secret is revoked with every token: the health turns red
	// with the server's reason; the third pair's mail waits, none fails.
	if err := authServer.RevokeSecret(clientID); err != nil {
		t.Fatal(err)
	}
	authServer.RevokeTokens(clientID)
	add()
	eventually(ctx, t, "the health did not turn red", func() bool {
		code, h := getHealthz(t, httpAddr)
		return code == http.StatusServiceUnavailable && h.OAuth != nil && !h.OAuth.OK() && strings.Contains(h.OAuth.LastError, "invalid_client")
	})
	eventually(ctx, t, "the third pair's mail was not queued", func() bool {
		return count(`SELECT COUNT(*) FROM outbox WHERE state = 'pending'`) == 5
	})
	if n := count(`SELECT COUNT(*) FROM outbox WHERE state = 'failed'`); n != 0 {
		t.Errorf("%d messages failed while the secret was revoked", n)
	}

	// A new secret and a reload: everything arrives, each message once.
	secret, err := authServer.RotateSecret(clientID)
	if err != nil {
		t.Fatal(err)
	}
	writeClientSecret(t, path, secret)
	reload <- struct{}{}
	eventually(ctx, t, "the waiting mail was not sent after the new secret", func() bool { return sent() == 15 })
	eventually(ctx, t, "the health did not recover", func() bool { code, _ := getHealthz(t, httpAddr); return code == 200 })
	items, err := store.ListOutbox(ctx, db.R(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if n := deliveries(ctx, t, it.Recipient, it.MessageID); n != 1 {
			t.Errorf("%s (%s to %s) arrived %d times", it.MessageID, it.Kind, it.Recipient, n)
		}
	}
}

// deliveries counts the messages with messageID in user's INBOX, once it holds one.
func deliveries(ctx context.Context, t *testing.T, user, messageID string) int {
	t.Helper()
	if _, err := stack.WaitForMessage(ctx, user, messageID); err != nil {
		t.Fatal(err)
	}
	c, err := stack.DialIMAP(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + messageID + ">"}}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return len(res.AllUIDs())
}

// TestCheckMailOverOAuth runs `mentord check-mail`, the real binary, against
// the OAuth-only Dovecot: every step holds and it exits 0; with the client's
// secret revoked it exits 1 at the token step.
func TestCheckMailOverOAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "mentord")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/mentord")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path, _, clientID := oauthProgramme(t, config.AuthXOAUTH2, config.AuthXOAUTH2)
	run := func() (int, string) {
		cmd := exec.CommandContext(ctx, bin, "check-mail", "--config", path, "--send-to", stack.User("mentor"), "--wait", "60s")
		out, err := cmd.CombinedOutput()
		runLog.Write(out)
		t.Logf("mentord check-mail:\n%s", out)
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := run()
	for _, want := range []string{"OK    oauth token", "OK    smtp sign-in", "STARTTLS, XOAUTH2 as programme@example.test",
		"OK    imap sign-in", "OK    folders", "OK    send to the mailbox      accepted for programme+probe@example.test",
		"OK    delivery to the mailbox  arrived after", "OK    send to the address      accepted for mentor@example.test", "All steps OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-mail output lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("check-mail exit %d, want 0", code)
	}

	if err := authServer.RevokeSecret(clientID); err != nil {
		t.Fatal(err)
	}
	code, out = run()
	if code != 1 || !strings.Contains(out, "FAIL  oauth token") || !strings.Contains(out, "invalid_client") ||
		!strings.Contains(out, "skip  smtp sign-in") {
		t.Errorf("check-mail with a revoked secret: exit %d\n%s", code, out)
	}
}

// TestRefreshTokenGrantOverOAuth signs in with a person's consent (grant
// refresh_token, a public client, as after `mentord oauth login`) to the
// OAuth-only Dovecot: check-mail's steps all hold; once the refresh token is
// revoked, the token step fails and says to sign in again.
func TestRefreshTokenGrantOverOAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	programme := stack.User("programme")
	clientID := "mentord-delegated-" + strings.ToLower(rand.Text()[:10])
	if err := authServer.AddClient(oauthtest.Client{ID: clientID, Grants: []string{oauthtest.GrantRefreshToken}}); err != nil {
		t.Fatal(err)
	}
	consent, err := authServer.Issue(clientID, programme, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	body := fmt.Sprintf(`programme: {name: mentord e2e over OAuth}
mailbox: {address: %[1]s}
smtp: {host: %[2]s, port: %[3]d, tls: starttls, ca_file: %[4]s, auth: oauthbearer}
imap: {host: %[2]s, port: %[5]d, tls: starttls, ca_file: %[4]s, auth: xoauth2}
oauth: {provider: generic, grant: refresh_token, token_url: %[6]q, client_id: %[7]s}
database: {path: m.db}
`, programme, stack.OAuthHost, stack.OAuthSubmissionPort, stack.CertFile, stack.OAuthIMAPPort, authServer.TokenURL(), clientID)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.WriteRefreshToken(cfg.OAuth.RefreshTokenFile, consent.RefreshToken); err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	res := admin.CheckMail(ctx, cfg, admin.CheckMailOptions{Log: log, Wait: time.Minute}, func(s admin.Step) { t.Logf("%+v", s) })
	if !res.OK {
		t.Fatalf("check-mail with a refresh token: %+v", res.Steps)
	}
	if n := authServer.Count(oauthtest.GrantRefreshToken); n < 1 {
		t.Errorf("%d refresh requests", n)
	}

	authServer.RevokeToken(consent.RefreshToken)
	res = admin.CheckMail(ctx, cfg, admin.CheckMailOptions{Log: log, Wait: time.Minute}, nil)
	if res.OK || res.Steps[0].Name != "oauth token" || !strings.Contains(res.Steps[0].Error, "invalid_grant") ||
		!strings.Contains(res.Steps[0].Error, "mentord oauth login") {
		t.Errorf("check-mail with a revoked refresh token: %+v", res.Steps[0])
	}
}
