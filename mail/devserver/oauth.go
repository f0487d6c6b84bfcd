package devserver

import (
	"bytes"
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// An OAuth-protected dev server (Config.CheckToken set) signs people in only
// with a bearer token, as Microsoft 365 and Google Workspace do: SMTP AUTH and
// IMAP AUTHENTICATE offer XOAUTH2 and OAUTHBEARER (RFC 7628), passwords are
// refused, and SMTP takes mail only after AUTH. A refused token is answered
// the way the providers answer it: a JSON challenge, then the failure.

const xoauth2 = "XOAUTH2"

// tokenMechanisms are the mechanisms of an OAuth-protected server.
var tokenMechanisms = []string{xoauth2, sasl.OAuthBearer}

// refusal is the JSON challenge sent for a refused token (Google's shape).
var refusal = []byte(`{"status":"401","schemes":"bearer","scope":"mail"}`)

// The failures reported after the refusal's challenge, as Postfix and
// Dovecot word them.
var (
	errSMTPTokenRefused = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errIMAPTokenRefused = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}
)

// tokenServer returns the server side of mech that checks each token with
// CheckToken, calls ok with the user who signed in, and fails with refused.
func (s *Server) tokenServer(mech string, ok func(user string), refused error) sasl.Server {
	check := func(user, token string) error {
		addr, err := parseAddr(user)
		if err != nil {
			return refused
		}
		if token == s.ownToken { // Mailbox's own sign-in
			ok(addr)
			return nil
		}
		if err := s.cfg.CheckToken(addr, token); err != nil {
			s.log.Debug("dev mail server refused a token", "user", addr, "err", err)
			return refused
		}
		ok(addr)
		return nil
	}
	if mech == sasl.OAuthBearer {
		return &failWith{sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if check(o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer", Scope: "mail"}
			}
			return nil
		}), refused}
	}
	return &xoauth2Server{check: check}
}

// xoauth2Server is the server side of XOAUTH2 (Google's and Microsoft's
// documentation): "user=U^Aauth=Bearer T^A^A"; a refused token gets a JSON
// challenge, which the client answers with an empty line. go-sasl ships no
// XOAUTH2 server.
type xoauth2Server struct {
	check  func(user, token string) error
	failed error
}

func (x *xoauth2Server) Next(resp []byte) (challenge []byte, done bool, err error) {
	if x.failed != nil { // the client's answer to the refusal
		return nil, true, x.failed
	}
	if resp == nil { // no initial response: ask for it
		return []byte{}, false, nil
	}
	var user, token string
	for _, f := range bytes.Split(resp, []byte{1}) {
		k, v, _ := strings.Cut(string(f), "=")
		switch k {
		case "user":
			user = v
		case "auth":
			if t, ok := strings.CutPrefix(v, "Bearer "); ok {
				token = t
			}
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	if err := x.check(user, token); err != nil {
		x.failed = err
		return refusal, false, nil
	}
	return nil, true, nil
}

// failWith reports go-sasl's OAUTHBEARER failure as refused, the protocol's
// own failure reply.
type failWith struct {
	sasl.Server
	refused error
}

func (f *failWith) Next(resp []byte) ([]byte, bool, error) {
	if len(resp) == 0 && resp != nil {
		// go-sasl indexes the answer to its error challenge: an empty one
		// (a client that does not send %x01) would panic it.
		return nil, true, f.refused
	}
	c, done, err := f.Server.Next(resp)
	if err != nil {
		err = f.refused
	}
	return c, done, err
}

// smtpTokenAuth is Auth for an OAuth-protected server.
func (ss *smtpSession) smtpTokenAuth(mech string) (sasl.Server, error) {
	for _, m := range tokenMechanisms {
		if m == mech {
			return ss.srv.tokenServer(mech, func(string) { ss.authed = true }, errSMTPTokenRefused), nil
		}
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

var errNoPasswords = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
	Text: "This server takes only OAuth tokens (AUTHENTICATE XOAUTH2 or OAUTHBEARER)"}

// AuthenticateMechanisms lists the IMAP SASL mechanisms.
func (is *imapSession) AuthenticateMechanisms() []string {
	if is.srv.cfg.CheckToken != nil {
		return tokenMechanisms
	}
	return []string{sasl.Plain}
}

// Authenticate runs AUTHENTICATE: tokens on an OAuth-protected server,
// PLAIN with any password otherwise.
func (is *imapSession) Authenticate(mech string) (sasl.Server, error) {
	if is.srv.cfg.CheckToken == nil {
		if mech != sasl.Plain {
			return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
		}
		return sasl.NewPlainServer(func(_, username, password string) error { return is.Login(username, password) }), nil
	}
	for _, m := range tokenMechanisms {
		if m == mech {
			return is.srv.tokenServer(mech, is.open, errIMAPTokenRefused), nil
		}
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}
