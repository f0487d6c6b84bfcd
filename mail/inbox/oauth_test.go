package inbox

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

// tokens hands out "tok-1", "tok-2", ... and records what was invalidated.
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

func oauthDev(t *testing.T, accept ...string) (*devserver.Server, Config) {
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
	host, port, _ := net.SplitHostPort(s.IMAPAddr())
	p, _ := strconv.Atoi(port)
	return s, Config{Host: host, Port: p, Security: TLSNone, Username: "mentoring@example.org", Provider: oauth.Generic, Timeout: 5 * time.Second}
}

func TestAuthenticateWithToken(t *testing.T) {
	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			_, cfg := oauthDev(t, "tok-1")
			ts := &tokens{}
			cfg.Auth, cfg.Token = mech, ts
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Dial = %v", err)
			}
			defer c.Close()
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("select after sign-in: %v", err)
			}
			if len(ts.invalidated) != 0 {
				t.Errorf("invalidated %v", ts.invalidated)
			}
		})
	}
}

func TestRefusedTokenIsReplacedThenExplained(t *testing.T) {
	_, cfg := oauthDev(t, "tok-2")
	ts := &tokens{}
	cfg.Auth, cfg.Token = AuthXOAUTH2, ts
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial with a revoked first token = %v", err)
	}
	c.Close()
	if strings.Join(ts.invalidated, ",") != "tok-1" {
		t.Errorf("invalidated %v", ts.invalidated)
	}

	for _, mech := range []string{AuthXOAUTH2, AuthOAuthBearer} {
		_, cfg := oauthDev(t)
		ts := &tokens{}
		cfg.Auth, cfg.Token = mech, ts
		_, err := Dial(context.Background(), cfg)
		var se *oauth.SignInError
		// OAUTHBEARER ends with the server's NO; XOAUTH2 with its JSON reason
		// (go-imap cannot send the empty line that would fetch the NO).
		want := "Authentication failed"
		if mech == AuthXOAUTH2 {
			want = "refused (status 401)"
		}
		if !errors.As(err, &se) || se.Proto != "IMAP" || len(ts.invalidated) != 2 || strings.Contains(err.Error(), "tok-") ||
			!strings.Contains(err.Error(), want) {
			t.Errorf("%s: Dial = %v, invalidated %v", mech, err, ts.invalidated)
		}
	}
}

// A password does not open an OAuth-only mailbox.
func TestPasswordRefusedByOAuthServer(t *testing.T) {
	_, cfg := oauthDev(t, "tok-1")
	cfg.Password = "hunter2"
	if c, err := Dial(context.Background(), cfg); err == nil {
		c.Close()
		t.Fatal("a password signed in to an OAuth-only server")
	}
}
