package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Clients for the OAuth-only Dovecot built from the libraries alone (go-imap,
// go-sasl, go-mail's smtp package, x/oauth2), so that the stack is proven
// independently of mentord's own clients.

// xoauth2 is the SASL XOAUTH2 client of Google's and Microsoft's
// documentation, which go-sasl lacks: one initial response.
type xoauth2 struct{ user, token string }

func (c xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c xoauth2) Next(challenge []byte) ([]byte, error) {
	return nil, fmt.Errorf("XOAUTH2: the server refused the token: %s", challenge)
}

// saslRecorder wraps a SASL client for IMAP: it keeps the server's challenges
// and what the wrapped client made of them, and answers an error challenge
// with ack, so that the server ends with its own final reply: %x01, as RFC
// 7628 section 3.2.3 asks for OAUTHBEARER and as Dovecot takes for XOAUTH2
// too (whose documentation asks for an empty response, which imapclient
// cannot send: see the top of oauth_stack_test.go).
type saslRecorder struct {
	sasl.Client
	ack        []byte
	challenges []string
	parsed     error // the wrapped client's Next on the last challenge
}

func (r *saslRecorder) Next(challenge []byte) ([]byte, error) {
	r.challenges = append(r.challenges, string(challenge))
	_, r.parsed = r.Client.Next(challenge)
	return r.ack, nil
}

func imapSASL(mech, user, token string) *saslRecorder {
	if mech == sasl.OAuthBearer {
		c := sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token, Host: stack.OAuthHost, Port: stack.OAuthIMAPPort})
		return &saslRecorder{Client: c, ack: []byte{0x01}}
	}
	return &saslRecorder{Client: xoauth2{user, token}, ack: []byte{0x01}}
}

// oauthBearerAuth is SASL OAUTHBEARER (RFC 7628) as a go-mail smtp.Auth,
// which go-mail lacks. It answers the server's error challenge with %x01
// (section 3.2.3), after which the server sends its failure reply.
type oauthBearerAuth struct{ user, token string }

func (a oauthBearerAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: a.user, Token: a.token,
		Host: stack.OAuthHost, Port: stack.OAuthSubmissionPort}).Start()
}

func (a oauthBearerAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return []byte{0x01}, nil
	}
	return nil, nil
}

// recordingAuth keeps the challenges an SMTP server sends to an smtp.Auth.
type recordingAuth struct {
	smtp.Auth
	challenges []string
}

func (a *recordingAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		a.challenges = append(a.challenges, string(fromServer))
	}
	return a.Auth.Next(fromServer, more)
}

func smtpSASL(mech, user, token string) *recordingAuth {
	if mech == sasl.OAuthBearer {
		return &recordingAuth{Auth: oauthBearerAuth{user, token}}
	}
	return &recordingAuth{Auth: smtp.XOAuth2Auth(user, token)}
}

var mechanisms = []string{"XOAUTH2", sasl.OAuthBearer}

// clientToken gets an access token for user's mailbox from authServer with
// x/oauth2's clientcredentials and the user's harness client.
func clientToken(t *testing.T, user string) string {
	t.Helper()
	c := oauthClients[user]
	cfg := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: authServer.TokenURL(),
		Scopes: []string{"https://outlook.office365.com/.default"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials token for %s: %v", user, err)
	}
	return tok.AccessToken
}

// dialOAuthIMAP connects to the OAuth-only IMAP with STARTTLS, or with
// implicit TLS on its IMAPS port, verifying the stack's certificate.
func dialOAuthIMAP(t *testing.T, implicitTLS bool) *imapclient.Client {
	t.Helper()
	addr := stack.OAuthIMAPAddr()
	if implicitTLS {
		addr = stack.OAuthIMAPSAddr()
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	opts := &imapclient.Options{TLSConfig: stack.OAuthTLSConfig()}
	var c *imapclient.Client
	if implicitTLS {
		c = imapclient.New(tls.Client(conn, stack.OAuthTLSConfig()), opts)
	} else if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
		_ = conn.Close()
		t.Fatalf("IMAP STARTTLS with %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// dialOAuthSubmission opens an SMTP session with the OAuth-only submission
// and runs STARTTLS when startTLS is set.
func dialOAuthSubmission(t *testing.T, startTLS bool) *smtp.Client {
	t.Helper()
	addr := stack.OAuthSubmissionAddr()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, stack.OAuthHost)
	if err != nil {
		_ = conn.Close()
		t.Fatalf("SMTP greeting from %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("e2e.mentord.test"); err != nil {
		t.Fatalf("EHLO to %s: %v", addr, err)
	}
	if startTLS {
		if err := c.StartTLS(stack.OAuthTLSConfig()); err != nil {
			t.Fatalf("STARTTLS with %s: %v", addr, err)
		}
	}
	return c
}

// wantIMAPRefusal fails t unless err is the tagged NO with code.
func wantIMAPRefusal(t *testing.T, what string, err error, code imap.ResponseCode) {
	t.Helper()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != code {
		t.Fatalf("%s = %v (%T), want NO [%s]", what, err, err, code)
	}
}

// introspections counts the introspection requests about token so far.
func introspections(token string) int {
	n := 0
	for _, r := range authServer.Requests() {
		if r.Endpoint == "introspect" && r.Form.Get("token") == token {
			n++
		}
	}
	return n
}

// login authenticates user with token over STARTTLS and logs out, failing t otherwise.
func login(t *testing.T, mech, user, token string) {
	t.Helper()
	c := dialOAuthIMAP(t, false)
	rec := imapSASL(mech, user, token)
	if err := c.Authenticate(rec); err != nil {
		t.Fatalf("AUTHENTICATE %s as %s = %v (challenges %q)\n%s", mech, user, err, rec.challenges, oauthLogTail())
	}
	_ = c.Logout().Wait()
}

func wantSMTPCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != code {
		t.Fatalf("%s = %v, want %d", what, err, code)
	}
	t.Logf("%s: %v", what, err)
}

// sendGoMail runs one mail transaction on an authenticated go-mail smtp.Client
// (whose Mail and Rcpt take the path with its angle brackets).
func sendGoMail(c *smtp.Client, from, to string, msg []byte) error {
	if err := c.Mail("<" + from + ">"); err != nil {
		return err
	}
	if err := c.Rcpt("<" + to + ">"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// oauthLogTail is the end of the OAuth-only Dovecot's log, for failures.
func oauthLogTail() string {
	data, err := readTail(stack.OAuthDovecotLog, 4096)
	if err != nil {
		return fmt.Sprintf("(no log %s: %v)", stack.OAuthDovecotLog, err)
	}
	return fmt.Sprintf("--- the end of %s:\n%s", stack.OAuthDovecotLog, data)
}

// readTail returns at most the last n bytes of the file at path.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if off := fi.Size() - n; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(f)
}
