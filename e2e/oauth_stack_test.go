package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/wneessen/go-mail/smtp"
)

// What Dovecot 2.3.19.1 (Debian 12) sends when it refuses a token, as these
// tests see it on the OAuth-only instance:
//
//	IMAP XOAUTH2      + eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=
//	                  (base64 of {"status":"401","schemes":"bearer","scope":"mail"}),
//	                  then, after any response that is valid base64 (an empty
//	                  line, or %x01), a NO [AUTHENTICATIONFAILED] Authentication failed.
//	                  go-imap v2's imapclient cannot send an empty line: it
//	                  encodes an empty response as "=" (RFC 4959's empty initial
//	                  response), which Dovecot answers with BAD Invalid base64
//	                  data in continued response. A client answers with %x01, or
//	                  returns an error from Next and closes the connection.
//	IMAP OAUTHBEARER  + eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0= ({"status":"invalid_token"}),
//	                  then, after the client's %x01, a NO [AUTHENTICATIONFAILED] Authentication failed.
//	submission        the same challenges after 334, then 535 5.7.8 Authentication failed.
//
// Dovecot sends that challenge whatever the reason (unknown, expired or revoked
// token, a token of another user, "active": false); its log says which. When
// the authorization server cannot be asked (down, or an HTTP 5xx) there is no
// challenge: IMAP answers NO [UNAVAILABLE] Temporary authentication failure.
// and submission 454 4.7.0 Temporary authentication failure., both followed by
// " [host:time]". Before STARTTLS, IMAP advertises LOGINDISABLED and no AUTH=
// and answers AUTHENTICATE with NO [PRIVACYREQUIRED] Authentication not
// allowed until SSL/TLS is enabled.; submission offers no AUTH and answers it
// with 530 5.7.0 TLS required. PLAIN and LOGIN get NO [ALERT] Unsupported
// authentication mechanism. and 504 5.5.4 Unsupported authentication mechanism.
const (
	xoauth2Refusal     = `{"status":"401","schemes":"bearer","scope":"mail"}`
	oauthBearerRefusal = `{"status":"invalid_token"}`
)

// An access token from the authorization server logs daemon@ in over IMAP
// with XOAUTH2 and OAUTHBEARER, after STARTTLS and over implicit TLS, and the
// mailbox is there.
func TestOAuthIMAPLogin(t *testing.T) {
	daemon := stack.User("daemon")
	for _, implicitTLS := range []bool{false, true} {
		for _, mech := range mechanisms {
			t.Run(fmt.Sprintf("%s/implicitTLS=%v", mech, implicitTLS), func(t *testing.T) {
				token := clientToken(t, daemon)
				c := dialOAuthIMAP(t, implicitTLS)
				if mechs := slices.Sorted(slices.Values(c.Caps().AuthMechanisms())); !slices.Equal(mechs, []string{"OAUTHBEARER", "XOAUTH2"}) {
					t.Errorf("AUTH= capabilities = %v, want XOAUTH2 and OAUTHBEARER only", mechs)
				}
				rec := imapSASL(mech, daemon, token)
				if err := c.Authenticate(rec); err != nil {
					t.Fatalf("AUTHENTICATE %s as %s = %v, want OK (challenges %q)\n%s", mech, daemon, err, rec.challenges, oauthLogTail())
				}
				if len(rec.challenges) != 0 {
					t.Errorf("challenges = %q, want none", rec.challenges)
				}
				if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
					t.Errorf("EXAMINE INBOX after logging in = %v", err)
				}
				if n := introspections(token); n != 1 {
					t.Errorf("Dovecot introspected the token %d times for one login, want 1", n)
				}
				if err := c.Logout().Wait(); err != nil {
					t.Errorf("LOGOUT = %v", err)
				}
			})
		}
	}
}

// A token that is wrong, expired, revoked, issued for another user, or a
// refresh token is refused with the challenge of each mechanism and NO
// [AUTHENTICATIONFAILED]; every login asks the authorization server again
// (no cache), so a token revoked a moment ago fails at once.
func TestOAuthIMAPRefusesBadTokens(t *testing.T) {
	daemon, other := stack.User("daemon"), stack.User("other")
	for _, mech := range mechanisms {
		t.Run(mech, func(t *testing.T) {
			revoked := clientToken(t, daemon)
			login(t, mech, daemon, revoked) // accepted before it is revoked
			if !authServer.RevokeToken(revoked) {
				t.Fatal("the authorization server did not know the token")
			}
			expired := clientToken(t, daemon)
			login(t, mech, daemon, expired)
			authServer.ExpireToken(expired)
			seeded, err := authServer.Issue(oauthClients[daemon].ID, daemon, []string{"offline_access"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct{ name, user, token string }{
				{"an unknown token", daemon, "e2e-not-a-token-" + newMessageID()},
				{"a revoked token", daemon, revoked},
				{"an expired token", daemon, expired},
				{"another user's token", daemon, clientToken(t, other)},
				{"a refresh token", daemon, seeded.RefreshToken},
			} {
				before := introspections(tc.token)
				c := dialOAuthIMAP(t, false)
				rec := imapSASL(mech, tc.user, tc.token)
				err := c.Authenticate(rec)
				wantIMAPRefusal(t, "AUTHENTICATE "+mech+" with "+tc.name, err, imap.ResponseCodeAuthenticationFailed)
				want := xoauth2Refusal
				if mech == sasl.OAuthBearer {
					want = oauthBearerRefusal
					var be *sasl.OAuthBearerError
					if !errors.As(rec.parsed, &be) || be.Status != "invalid_token" {
						t.Errorf("%s: go-sasl made %v of the challenge, want an OAuthBearerError with status invalid_token", tc.name, rec.parsed)
					}
				}
				if len(rec.challenges) != 1 || rec.challenges[0] != want {
					t.Errorf("%s: challenges = %q, want [%s]", tc.name, rec.challenges, want)
				}
				if n := introspections(tc.token) - before; n != 1 {
					t.Errorf("%s: Dovecot introspected the token %d times, want 1 (no auth cache)", tc.name, n)
				}
				t.Logf("%s: %v, challenge %s", tc.name, err, rec.challenges)
			}
			// The seeded access token works: only its refresh token was refused.
			login(t, mech, daemon, seeded.AccessToken)
		})
	}
	t.Run("XOAUTH2 with imapclient's empty response", func(t *testing.T) {
		c := dialOAuthIMAP(t, false)
		rec := &saslRecorder{Client: xoauth2{daemon, "e2e-not-a-token"}, ack: []byte{}}
		err := c.Authenticate(rec)
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeBad || !strings.Contains(ie.Text, "Invalid base64") {
			t.Fatalf("AUTHENTICATE XOAUTH2 answered with \"=\" = %v, want BAD Invalid base64 data", err)
		}
		t.Logf("%v", err)
	})
}

// An authorization server in trouble makes Dovecot fail temporarily: no
// challenge, NO [UNAVAILABLE] on IMAP and 454 4.7.0 on submission, which a
// client must retry rather than report as a bad token.
func TestOAuthAuthorizationServerTrouble(t *testing.T) {
	daemon := stack.User("daemon")
	token := clientToken(t, daemon)
	authServer.FailIntrospection(1, 503)
	c := dialOAuthIMAP(t, false)
	rec := imapSASL("XOAUTH2", daemon, token)
	err := c.Authenticate(rec)
	wantIMAPRefusal(t, "AUTHENTICATE while the authorization server answers 503", err, imap.ResponseCodeUnavailable)
	if len(rec.challenges) != 0 {
		t.Errorf("challenges = %q, want none", rec.challenges)
	}
	t.Logf("IMAP: %v", err)

	authServer.FailIntrospection(1, 500)
	s := dialOAuthSubmission(t, true)
	err = s.Auth(smtp.XOAuth2Auth(daemon, token))
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 454 || !strings.HasPrefix(te.Msg, "4.7.0 Temporary authentication failure.") {
		t.Fatalf("AUTH XOAUTH2 while the authorization server answers 500 = %v, want 454 4.7.0", err)
	}
	t.Logf("submission: %v", err)
	login(t, "XOAUTH2", daemon, token) // and the same token works once it answers again
}

// The OAuth-only instance takes no password, and no token before STARTTLS.
func TestOAuthInstanceRefusesPasswords(t *testing.T) {
	daemon := stack.User("daemon")

	t.Run("IMAP after STARTTLS", func(t *testing.T) {
		c := dialOAuthIMAP(t, false)
		wantIMAPRefusal(t, "LOGIN with the password", c.Login(daemon, stack.Password).Wait(), imap.ResponseCodeAlert)
		c = dialOAuthIMAP(t, false)
		err := c.Authenticate(sasl.NewPlainClient("", daemon, stack.Password))
		wantIMAPRefusal(t, "AUTHENTICATE PLAIN with the password", err, imap.ResponseCodeAlert)
		t.Logf("AUTHENTICATE PLAIN: %v", err)
	})
	t.Run("IMAPS", func(t *testing.T) {
		c := dialOAuthIMAP(t, true)
		wantIMAPRefusal(t, "LOGIN with the password", c.Login(daemon, stack.Password).Wait(), imap.ResponseCodeAlert)
	})
	t.Run("IMAP before STARTTLS", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", stack.OAuthIMAPAddr(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		c := imapclient.New(conn, nil)
		t.Cleanup(func() { _ = c.Close() })
		caps := c.Caps()
		if !caps.Has(imap.CapLoginDisabled) || !caps.Has(imap.CapStartTLS) || len(caps.AuthMechanisms()) != 0 {
			t.Errorf("capabilities before STARTTLS = %v, want STARTTLS, LOGINDISABLED and no AUTH=", caps)
		}
		// Not a real token: it would cross in clear (SASL-IR) before the refusal.
		err = c.Authenticate(xoauth2{daemon, "e2e-not-a-token"})
		wantIMAPRefusal(t, "AUTHENTICATE XOAUTH2 before STARTTLS", err, imap.ResponseCodePrivacyRequired)
		wantIMAPRefusal(t, "LOGIN before STARTTLS", c.Login(daemon, stack.Password).Wait(), imap.ResponseCodePrivacyRequired)
	})
	t.Run("submission", func(t *testing.T) {
		s := dialOAuthSubmission(t, false)
		if ok, _ := s.Extension("AUTH"); ok {
			t.Errorf("AUTH offered before STARTTLS")
		}
		err := s.Auth(smtp.XOAuth2Auth(daemon, "e2e-not-a-token"))
		wantSMTPCode(t, "AUTH XOAUTH2 before STARTTLS", err, 530)
		s = dialOAuthSubmission(t, false)
		wantSMTPCode(t, "MAIL before STARTTLS", s.Mail("<"+daemon+">"), 530)

		s = dialOAuthSubmission(t, true)
		if ok, mechs := s.Extension("AUTH"); !ok || mechs != "XOAUTH2 OAUTHBEARER" {
			t.Errorf("AUTH after STARTTLS = %v %q, want XOAUTH2 OAUTHBEARER", ok, mechs)
		}
		err = s.Auth(smtp.PlainAuth("", daemon, stack.Password, stack.OAuthHost, false))
		wantSMTPCode(t, "AUTH PLAIN with the password", err, 504)
		s = dialOAuthSubmission(t, true)
		err = s.Auth(smtp.LoginAuth(daemon, stack.Password, stack.OAuthHost, false))
		wantSMTPCode(t, "AUTH LOGIN with the password", err, 504)
		s = dialOAuthSubmission(t, true)
		wantSMTPCode(t, "MAIL without AUTH", s.Mail("<"+daemon+">"), 530)
	})
}

// Submission with XOAUTH2 (go-mail's smtp.XOAuth2Auth) and OAUTHBEARER
// relays through Postfix, and the message arrives in the recipient's INBOX,
// read over the OAuth-only IMAP with the recipient's own token. A bad token
// is refused with the mechanism's challenge and 535 5.7.8.
func TestOAuthSubmission(t *testing.T) {
	daemon, mentee := stack.User("daemon"), stack.User("mentee")
	for _, mech := range mechanisms {
		t.Run(mech, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s := dialOAuthSubmission(t, true)
			bad := smtpSASL(mech, daemon, "e2e-not-a-token-"+newMessageID())
			err := s.Auth(bad)
			wantSMTPCode(t, "AUTH "+mech+" with an unknown token", err, 535)
			want := xoauth2Refusal
			if mech == sasl.OAuthBearer {
				want = oauthBearerRefusal
			}
			if len(bad.challenges) != 1 || bad.challenges[0] != want {
				t.Errorf("challenges = %q, want [%s]", bad.challenges, want)
			}

			s = dialOAuthSubmission(t, true)
			auth := smtpSASL(mech, daemon, clientToken(t, daemon))
			if err := s.Auth(auth); err != nil {
				t.Fatalf("AUTH %s as %s = %v (challenges %q)\n%s", mech, daemon, err, auth.challenges, oauthLogTail())
			}
			msgID := newMessageID()
			msg := testMessage(daemon, mentee, msgID, "e2e: OAuth submission with "+mech)
			if err := sendGoMail(s, daemon, mentee, msg); err != nil {
				t.Fatalf("send through the OAuth submission: %v\n%s", err, oauthLogTail())
			}

			c := dialOAuthIMAP(t, false)
			if err := c.Authenticate(imapSASL(mech, mentee, clientToken(t, mentee))); err != nil {
				t.Fatalf("AUTHENTICATE %s as %s = %v", mech, mentee, err)
			}
			got, err := AwaitMessage(ctx, c, "INBOX", msgID)
			if err != nil {
				t.Fatalf("%v\n%s", err, stack.PostfixTrace(msgID))
			}
			if !bytes.HasSuffix(got.Raw, msg) {
				t.Errorf("delivered message does not end with the submitted bytes:\n%s", got.Raw)
			}
			// Dovecot's submission service took it with TLS and SASL (RFC 3848 ESMTPSA)
			// and relayed it to Postfix.
			if !bytes.Contains(got.Raw, []byte("with ESMTPSA")) {
				t.Errorf("no Received header says ESMTPSA:\n%s", got.Raw[:bytes.Index(got.Raw, msg)])
			}
		})
	}
}

// Both Dovecot instances serve the same maildirs: mail that Postfix delivers
// through the first instance's LMTP is in the INBOX the OAuth instance shows.
func TestOAuthInstanceSharesMailboxes(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	daemon, mentor := stack.User("daemon"), stack.User("mentor")
	msgID := newMessageID()
	if err := sendSMTP(dialSMTP(t, stack.SMTPPort, true), daemon, mentor, testMessage(daemon, mentor, msgID, "e2e: LMTP to the shared maildir")); err != nil {
		t.Fatalf("send through Postfix: %v", err)
	}
	c := dialOAuthIMAP(t, true)
	if err := c.Authenticate(imapSASL("XOAUTH2", mentor, clientToken(t, mentor))); err != nil {
		t.Fatalf("AUTHENTICATE XOAUTH2 as %s = %v", mentor, err)
	}
	if _, err := AwaitMessage(ctx, c, "INBOX", msgID); err != nil {
		t.Fatalf("%v\n%s", err, stack.PostfixTrace(msgID))
	}
}
