package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/sender"
)

// BenchmarkRealServersSignIn measures against the real stack what OAuth adds:
// the time to the first message accepted on a new connection, with a password
// at Postfix's submission port, and with a token (already cached, and fetched
// first) at the OAuth-only Dovecot's submission port, which asks the
// authorization server about the token (introspection) and relays the
// message to Postfix; then the cost of each further message on one
// connection, where OAuth has nothing left to do.
//
//	go test -run XXX -bench RealServersSignIn -benchtime 100x ./e2e/
func BenchmarkRealServersSignIn(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(&runLog, &slog.HandlerOptions{Level: slog.LevelDebug})) // searched for secrets
	daemonUser, to := stack.User("daemon"), stack.User("mentee")
	creds := oauthClients[daemonUser]
	newSource := func() *oauth.Source {
		s, err := oauth.New(oauth.Config{Provider: oauth.Generic, Grant: oauth.GrantClientCredentials, TokenURL: authServer.TokenURL(),
			ClientID: creds.ID, ClientSecret: creds.Secret, Subject: daemonUser, Log: log})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	cached := newSource()
	password := func() sender.Config {
		return sender.Config{Host: stack.Host, Port: stack.SubmissionPort, Security: sender.TLSStartTLS, Auth: sender.AuthPlain,
			Username: daemonUser, Password: stack.Password, RootCAs: stack.CertPool, Timeout: 10 * time.Second}
	}
	withToken := func(ts sender.TokenSource) func() sender.Config {
		return func() sender.Config {
			return sender.Config{Host: stack.OAuthHost, Port: stack.OAuthSubmissionPort, Security: sender.TLSStartTLS,
				Auth: sender.AuthXOAUTH2, Username: daemonUser, Token: ts, RootCAs: stack.CertPool, Timeout: 10 * time.Second}
		}
	}
	msg := func(i int) []byte {
		return fmt.Appendf(nil, "From: %s\r\nTo: %s\r\nSubject: bench\r\nMessage-ID: <bench-%d-%d@example.test>\r\n\r\nbench\r\n",
			daemonUser, to, time.Now().UnixNano(), i)
	}
	env := sender.Envelope{From: daemonUser, To: []string{to}}
	for _, bc := range []struct {
		name string
		cfg  func() sender.Config
	}{
		{"first send/password at Postfix", password},
		{"first send/oauth token cached at Dovecot", withToken(cached)},
		{"first send/oauth token fetched at Dovecot", func() sender.Config { return withToken(newSource())() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c, err := sender.New(bc.cfg(), log).Dial(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Send(ctx, env, msg(i)); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
	for _, bc := range []struct {
		name string
		cfg  sender.Config
	}{
		{"per message/password at Postfix", password()},
		{"per message/oauth at Dovecot", withToken(cached)()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := sender.New(bc.cfg, log).Dial(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Send(ctx, env, msg(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
