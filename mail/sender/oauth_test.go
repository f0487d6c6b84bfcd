package sender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth"
)

// tokens hands out "tok-1", "tok-2", ... and counts what was invalidated.
type tokens struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (ts *tokens) Token(context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.n == 0 || len(ts.invalidated) >= ts.n {
		ts.n++
	}
	return fmt.Sprintf("tok-%d", ts.n), nil
}

func (ts *tokens) Invalidate(t string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.invalidated = append(ts.invalidated, t)
}

// oauthServer is a dev server that takes only the tokens in accept.
func oauthServer(t *testing.T, accept ...string) *devserver.Server {
	t.Helper()
	s, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0",
		CheckToken: func(user, token string) error {
			for _, a := range accept {
				if user == "mentoring@example.org" && token == a {
					return nil
				}
			}
			return errors.New("unknown token")
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func oauthConfig(s *devserver.Server, mech string, ts TokenSource) Config {
	return Config{Host: "127.0.0.1", Port: port(s.SMTPAddr()), Security: TLSNone, Auth: mech, Username: "mentoring@example.org",
		Token: ts, Provider: oauth.Generic, Timeout: 5 * time.Second}
}

func TestSendWithToken(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			s := oauthServer(t, "tok-1")
			ts := &tokens{}
			c, err := New(oauthConfig(s, mech, ts), nil).Dial(context.Background())
			if err != nil {
				t.Fatalf("Dial = %v", err)
			}
			defer c.Close()
			if err := c.Send(context.Background(), Envelope{From: "mentoring@example.org", To: []string{"bo@example.org"}}, []byte(testMsg)); err != nil {
				t.Fatal(err)
			}
			if len(ts.invalidated) != 0 {
				t.Errorf("invalidated %v", ts.invalidated)
			}
			if msgs, err := s.Mailbox("bo@example.org", "INBOX"); err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0]), "ESMTPA") {
				t.Errorf("delivered %d messages", len(msgs))
			}
		})
	}
}

// A token the server refuses is replaced once: a revoked token costs no send.
func TestRefusedTokenIsReplacedOnce(t *testing.T) {
	s := oauthServer(t, "tok-2")
	ts := &tokens{}
	c, err := New(oauthConfig(s, AuthXOAUTH2, ts), nil).Dial(context.Background())
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	c.Close()
	if strings.Join(ts.invalidated, ",") != "tok-1" {
		t.Errorf("invalidated %v, want tok-1", ts.invalidated)
	}
}

// Refused twice, the sign-in is reported with the server's reason, and it is
// temporary: the message waits in the outbox for the admin to fix it.
func TestRefusedTwiceIsExplained(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			s := oauthServer(t)
			ts := &tokens{}
			_, err := New(oauthConfig(s, mech, ts), nil).Dial(context.Background())
			var se *oauth.SignInError
			if !errors.As(err, &se) || !IsTemporary(err) {
				t.Fatalf("Dial = %v; want a temporary SignInError", err)
			}
			if len(ts.invalidated) != 2 || se.Proto != "SMTP" || se.User != "mentoring@example.org" || se.Reason == nil ||
				!strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "tok-") {
				t.Errorf("err = %v (reason %+v), invalidated %v", err, se.Reason, ts.invalidated)
			}
		})
	}
}

// An OAuth-only server refuses a password, and a password server does not
// get a token it does not offer the mechanism for.
func TestMechanismMismatch(t *testing.T) {
	s := oauthServer(t, "tok-1")
	cfg := oauthConfig(s, AuthPlain, nil)
	cfg.Password = "hunter2"
	if _, err := New(cfg, nil).Dial(context.Background()); err == nil {
		t.Errorf("a password signed in to an OAuth-only server")
	}
	plain, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ts := &tokens{}
	_, err = New(oauthConfig(plain, AuthXOAUTH2, ts), nil).Dial(context.Background())
	if !errors.Is(err, oauth.ErrMechanismNotOffered) || !strings.Contains(err.Error(), "does not offer XOAUTH2") ||
		!strings.Contains(err.Error(), "PLAIN LOGIN") || len(ts.invalidated) != 0 {
		t.Errorf("Dial = %v, invalidated %v", err, ts.invalidated)
	}
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
