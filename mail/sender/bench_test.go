package sender

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// benchPeers are a password dev server and an OAuth-only one whose tokens
// come from a loopback authorization server.
func benchPeers(b *testing.B) (plain, protected *devserver.Server, as *oauthtest.Server) {
	as, protected, _ = oauthPeers(b)
	plain, err := devserver.Start(devserver.Config{SMTPAddr: "127.0.0.1:0", IMAPAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { plain.Close() })
	return plain, protected, as
}

func tokenSource(b *testing.B, as *oauthtest.Server) *oauth.Source {
	s, err := oauth.New(oauth.Config{Provider: oauth.Generic, Grant: oauth.GrantClientCredentials, TokenURL: as.TokenURL(),
		ClientID: "mentord", ClientSecret: "sender-test-secret"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchEnv = Envelope{From: "mentoring@example.org", To: []string{"bo@example.org"}}

// BenchmarkFirstSend is the time to the first message accepted on a new
// connection: with a password, with an OAuth token already cached (the
// daemon's case: its token source fetched it before the loops started), and
// with the token fetched first (a cold start, or check-mail).
func BenchmarkFirstSend(b *testing.B) {
	plain, protected, as := benchPeers(b)
	cached := tokenSource(b, as)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		cfg  func() Config
	}{
		{"password", func() Config {
			return Config{Host: "127.0.0.1", Port: port(plain.SMTPAddr()), Security: TLSNone, Auth: AuthPlain, Username: "mentoring@example.org", Password: "pw"}
		}},
		{"oauth token cached", func() Config {
			return Config{Host: "127.0.0.1", Port: port(protected.SMTPAddr()), Security: TLSNone, Auth: AuthXOAUTH2, Username: "mentoring@example.org", Token: cached}
		}},
		{"oauth token fetched", func() Config {
			return Config{Host: "127.0.0.1", Port: port(protected.SMTPAddr()), Security: TLSNone, Auth: AuthXOAUTH2, Username: "mentoring@example.org", Token: tokenSource(b, as)}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c, err := New(bc.cfg(), nil).Dial(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Send(ctx, benchEnv, []byte(testMsg)); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// BenchmarkSendOnOneConnection is the cost of each further message: OAuth
// signs in once per connection, so it should cost what a password does.
func BenchmarkSendOnOneConnection(b *testing.B) {
	plain, protected, as := benchPeers(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"password", Config{Host: "127.0.0.1", Port: port(plain.SMTPAddr()), Security: TLSNone, Auth: AuthPlain, Username: "mentoring@example.org", Password: "pw"}},
		{"oauth", Config{Host: "127.0.0.1", Port: port(protected.SMTPAddr()), Security: TLSNone, Auth: AuthXOAUTH2, Username: "mentoring@example.org", Token: tokenSource(b, as)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := New(bc.cfg, nil).Dial(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := []byte(testMsg + strings.Repeat("A line of a checklist, as long as a real one.\r\n", 40))
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Send(ctx, benchEnv, msg); err != nil {
					b.Fatal(fmt.Errorf("message %d: %w", i, err))
				}
			}
		})
	}
}
