package sender

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
// mailbox, an OAuth-only dev server that trusts its tokens, and a token
// source of that client.
func oauthPeers(t testing.TB) (*oauthtest.Server, *devserver.Server, *oauth.Source) {
	t.Helper()
	as := oauthtest.Start(t, oauthtest.Options{Clients: []oauthtest.Client{{ID: "mentord", Secret: "sender-test-secret", User: "mentoring@example.org"}}})
	dev, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0", CheckToken: as.CheckToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	src, err := oauth.New(oauth.Config{Provider: oauth.Generic, Grant: oauth.GrantClientCredentials, TokenURL: as.TokenURL(),
		ClientID: "mentord", ClientSecret: "sender-test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return as, dev, src
}

func oauthConfig(s *devserver.Server, mech, user string, ts TokenSource) Config {
	return Config{Host: "127.0.0.1", Port: port(s.SMTPAddr()), Security: TLSNone, Auth: mech, Username: user,
		Token: ts, Provider: oauth.Generic, Timeout: 5 * time.Second}
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func TestSendWithToken(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			as, dev, src := oauthPeers(t)
			c, err := New(oauthConfig(dev, mech, "mentoring@example.org", src), nil).Dial(context.Background())
			if err != nil {
				t.Fatalf("Dial = %v", err)
			}
			defer c.Close()
			if err := c.Send(context.Background(), Envelope{From: "mentoring@example.org", To: []string{"bo@example.org"}}, []byte(testMsg)); err != nil {
				t.Fatal(err)
			}
			if n := as.Count(oauthtest.GrantClientCredentials); n != 1 {
				t.Errorf("%d token requests", n)
			}
			if msgs, err := dev.Mailbox("bo@example.org", "INBOX"); err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0]), "ESMTPA") {
				t.Errorf("delivered %d messages (%v)", len(msgs), err)
			}
		})
	}
}

// A token revoked before its time is replaced once: the send goes through.
func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	as, dev, src := oauthPeers(t)
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	as.RevokeToken(first)
	c, err := New(oauthConfig(dev, AuthXOAUTH2, "mentoring@example.org", src), nil).Dial(context.Background())
	if err != nil {
		t.Fatalf("Dial with a revoked cached token = %v", err)
	}
	c.Close()
	if n := as.Count(oauthtest.GrantClientCredentials); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

// Refused twice (here: the token is for another mailbox than the one signed
// in as), the sign-in is reported with the server's reason, and it is
// temporary: the message waits in the outbox for the admin to fix it.
func TestRefusedTwiceIsExplained(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			as, dev, src := oauthPeers(t)
			_, err := New(oauthConfig(dev, mech, "someone-else@example.org", src), nil).Dial(context.Background())
			var se *oauth.SignInError
			if !errors.As(err, &se) || !IsTemporary(err) {
				t.Fatalf("Dial = %v; want a temporary SignInError", err)
			}
			if as.Count(oauthtest.GrantClientCredentials) != 2 || se.Proto != "SMTP" || se.User != "someone-else@example.org" ||
				se.Reason == nil || !strings.Contains(err.Error(), "535 5.7.8") || !strings.Contains(err.Error(), "issued for another user") {
				t.Errorf("err = %v (reason %+v), %d token requests", err, se.Reason, as.Count(oauthtest.GrantClientCredentials))
			}
			if err := oauthtest.Leak([]byte(err.Error()), as.Secrets()); err != nil {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// An OAuth-only server refuses a password, and a password server does not
// get a token it does not offer the mechanism for.
func TestMechanismMismatch(t *testing.T) {
	as, dev, src := oauthPeers(t)
	cfg := oauthConfig(dev, AuthPlain, "mentoring@example.org", nil)
	cfg.Password = "hunter2"
	if _, err := New(cfg, nil).Dial(context.Background()); err == nil {
		t.Errorf("a password signed in to an OAuth-only server")
	}
	plain, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_, err = New(oauthConfig(plain, AuthXOAUTH2, "mentoring@example.org", src), nil).Dial(context.Background())
	if !errors.Is(err, oauth.ErrMechanismNotOffered) || !strings.Contains(err.Error(), "does not offer XOAUTH2") ||
		!strings.Contains(err.Error(), "PLAIN LOGIN") || as.Count(oauthtest.GrantClientCredentials) != 1 {
		t.Errorf("Dial = %v", err)
	}
}
