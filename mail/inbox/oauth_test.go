package inbox

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// oauthPeers are an authorization server with a client for the programme
// mailbox, an OAuth-only dev server that trusts its tokens, and the IMAP
// settings that sign in with a token source of that client.
func oauthPeers(t *testing.T, mech string) (*oauthtest.Server, *oauth.Source, Config) {
	t.Helper()
	as := oauthtest.Start(t, oauthtest.Options{Clients: []oauthtest.Client{{ID: "mentord", Secret: "inbox-test-secret", User: "mentoring@example.org"}}})
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", CheckToken: as.CheckToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	src, err := oauth.New(oauth.Config{Provider: oauth.Generic, Grant: oauth.GrantClientCredentials, TokenURL: as.TokenURL(),
		ClientID: "mentord", ClientSecret: "inbox-test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(dev.IMAPAddr())
	p, _ := strconv.Atoi(port)
	return as, src, Config{Host: host, Port: p, Security: TLSNone, Auth: mech, Username: "mentoring@example.org", Token: src,
		Provider: oauth.Generic, Timeout: 5 * time.Second}
}

func TestAuthenticateWithToken(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			as, _, cfg := oauthPeers(t, mech)
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Dial = %v", err)
			}
			defer c.Close()
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("select after sign-in: %v", err)
			}
			if n := as.Count(oauthtest.GrantClientCredentials); n != 1 {
				t.Errorf("%d token requests", n)
			}
		})
	}
}

// A token revoked before its time is replaced once, on a new connection; a
// token refused again is explained.
func TestRefusedTokenIsReplacedThenExplained(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			as, src, cfg := oauthPeers(t, mech)
			first, err := src.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			as.RevokeToken(first)
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Dial with a revoked cached token = %v", err)
			}
			c.Close()
			if n := as.Count(oauthtest.GrantClientCredentials); n != 2 {
				t.Errorf("%d token requests, want 2", n)
			}

			// Tokens for another mailbox than the one signed in as: the cached
			// one is refused, and the one fetched to replace it.
			cfg.Username = "someone-else@example.org"
			_, err = Dial(context.Background(), cfg)
			var se *oauth.SignInError
			// OAUTHBEARER ends with the server's NO; XOAUTH2 with its JSON reason
			// (go-imap cannot send the empty line that would fetch the NO).
			want := "Authentication failed"
			if mech == AuthXOAUTH2 {
				want = "refused (status 401)"
			}
			if !errors.As(err, &se) || se.Proto != "IMAP" || as.Count(oauthtest.GrantClientCredentials) != 3 ||
				!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "issued for another user") {
				t.Errorf("Dial = %v, %d token requests", err, as.Count(oauthtest.GrantClientCredentials))
			}
			if err := oauthtest.Leak([]byte(err.Error()), as.Secrets()); err != nil {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// A password does not open an OAuth-only mailbox.
func TestPasswordRefusedByOAuthServer(t *testing.T) {
	_, _, cfg := oauthPeers(t, AuthLogin)
	cfg.Password = "hunter2"
	if c, err := Dial(context.Background(), cfg); err == nil {
		c.Close()
		t.Fatal("a password signed in to an OAuth-only server")
	}
}
