// Package sender submits finished messages to the programme's SMTP server.
//
// The flow for a batch:
//  1. Dial opens one connection through go-mail: implicit TLS, or STARTTLS that
//     must succeed, or plain text (only ever configured for loopback), then AUTH:
//     PLAIN or LOGIN with a password, or XOAUTH2 or OAUTHBEARER with an OAuth
//     access token (mail/oauth). A refused token is replaced once (the server
//     may have revoked it early) before the sign-in is reported as refused.
//  2. Conn.Send runs one SMTP transaction per message (MAIL, RCPT, DATA) with the
//     message's exact bytes, so a resend after a crash is byte-for-byte the same.
//  3. Errors are sorted: a 5xx reply to the transaction is permanent (the message
//     will never go through as it is); everything else (4xx, network, TLS) is
//     temporary and the caller retries later (RFC 5321 section 4.2.1).
//  4. A reply that says the sender goes too fast or used up its quota, 4xx or
//     5xx, is throttling (Throttling, IsThrottled): not the message's fault,
//     so it is never permanent and the caller should pause all sending.
package sender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/mentord/mentord/mail/oauth"
)

// Security is how the connection to the server is protected.
type Security string

// The connection security modes.
const (
	TLSImplicit Security = "implicit" // TLS from the first byte (port 465)
	TLSStartTLS Security = "starttls" // STARTTLS, required: no fallback to plain text
	TLSNone     Security = "none"     // plain text; the configuration allows it only on loopback
)

// Auth mechanisms.
const (
	AuthPlain       = "plain"
	AuthLogin       = "login"
	AuthNone        = "none"
	AuthXOAUTH2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
)

// TokenSource gives OAuth access tokens: *oauth.Source.
type TokenSource = oauth.TokenSource

// Config says where and how to submit mail.
type Config struct {
	Host       string
	Port       int
	Security   Security
	Auth       string // AuthPlain, AuthLogin, AuthNone, AuthXOAUTH2 or AuthOAuthBearer
	Username   string
	Password   string
	Token      TokenSource    // for AuthXOAUTH2 and AuthOAuthBearer
	Provider   string         // the OAuth provider (oauth.Microsoft, ...), to explain a refused token
	RootCAs    *x509.CertPool // nil: the system's roots
	ServerName string         // name checked in the server's certificate; default Host
	HeloName   string         // default: go-mail's (the local host name)
	Timeout    time.Duration  // per command; default 30s
}

// Envelope is the SMTP envelope of one message (RFC 5321 section 3.3).
type Envelope struct {
	From string   // the return path; "" sends the null reverse-path
	To   []string // recipients
}

// Sender dials the configured server.
type Sender struct {
	cfg Config
	log *slog.Logger
}

// New returns a Sender for cfg.
func New(cfg Config, log *slog.Logger) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, log: log}
}

// Conn is one open SMTP session, used for a batch of messages by one goroutine.
type Conn struct {
	client  *gomail.Client
	smtp    *gosmtp.Client
	timeout time.Duration
	log     *slog.Logger
}

// Dial connects, secures and authenticates one SMTP session.
func (s *Sender) Dial(ctx context.Context) (*Conn, error) {
	mech := strings.ToLower(s.cfg.Auth)
	if mech != AuthXOAUTH2 && mech != AuthOAuthBearer {
		return s.dial(ctx, nil)
	}
	if s.cfg.Token == nil {
		return nil, &Error{Op: "sign in", Err: errors.New("no OAuth token source configured")}
	}
	for retried := false; ; retried = true {
		token, err := s.cfg.Token.Token(ctx)
		if err != nil {
			return nil, &Error{Op: "sign in to " + s.addr(), Err: err}
		}
		auth, err := oauth.NewSASL(mech, s.cfg.Username, token, s.cfg.Host, s.cfg.Port)
		if err != nil {
			return nil, &Error{Op: "sign in", Err: err}
		}
		conn, err := s.dial(ctx, auth)
		var reply *textproto.Error
		if err == nil || !auth.Started() || ctx.Err() != nil || !errors.As(err, &reply) {
			return conn, err // not a refusal: a connection or TLS problem
		}
		// The server refused the token: it may have been revoked before its
		// time. Try once with a fresh one, then report.
		s.cfg.Token.Invalidate(token)
		if retried {
			return nil, &Error{Op: "sign in to " + s.addr(), Err: oauth.ExplainSignIn(s.cfg.Provider, "SMTP", auth, errors.Unwrap(err))}
		}
		s.log.Info("smtp refused the access token; trying once more with a new one", "server", s.addr())
	}
}

// dial opens the session, signing in with auth when it is not nil.
func (s *Sender) dial(ctx context.Context, auth *oauth.SASL) (*Conn, error) {
	opts := s.options()
	if auth != nil {
		opts = append(opts, gomail.WithSMTPAuthCustom(auth.SMTP()))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", s.addr(), err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		e := &Error{Op: "connect to " + s.addr(), Err: err}
		var tp *textproto.Error
		if errors.As(err, &tp) { // a reply to the greeting, EHLO, STARTTLS or AUTH
			e.Code, e.Enhanced, e.Throttle = tp.Code, enhancedOf(tp.Msg), classify(tp.Code, tp.Msg)
		}
		return nil, e
	}
	s.log.Debug("smtp connected", "server", s.addr())
	return &Conn{client: client, smtp: sc, timeout: s.cfg.Timeout, log: s.log}, nil
}

func (s *Sender) addr() string { return fmt.Sprintf("%s:%d", s.cfg.Host, s.cfg.Port) }

func (s *Sender) options() []gomail.Option {
	serverName := s.cfg.ServerName
	if serverName == "" {
		serverName = s.cfg.Host
	}
	tlsConf := &tls.Config{ServerName: serverName, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tlsConf),
	}
	switch s.cfg.Security {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.HeloName != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HeloName))
	}
	switch strings.ToLower(s.cfg.Auth) {
	case AuthPlain:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain))
	case AuthLogin:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthLogin))
	}
	switch strings.ToLower(s.cfg.Auth) {
	case AuthPlain, AuthLogin:
		opts = append(opts, gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

// Send runs one SMTP transaction for msg. It returns nil only after the server
// accepted the message with 250 at the end of DATA. When ctx ends mid-transaction
// the connection is closed and the error is temporary.
func (c *Conn) Send(ctx context.Context, env Envelope, msg []byte) error {
	if len(env.To) == 0 {
		return &Error{Op: "send", Err: errors.New("no recipients"), Permanent: true}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: "send", Err: err}
	}
	if err := c.smtp.UpdateDeadline(c.timeout); err != nil {
		return &Error{Op: "send", Err: err}
	}
	stop := context.AfterFunc(ctx, func() { _ = c.smtp.Close() })
	defer stop()

	if err := c.transaction(env, msg); err != nil {
		if ctx.Err() != nil {
			return &Error{Op: "send", Err: fmt.Errorf("%w (%v)", ctx.Err(), err)}
		}
		return err
	}
	return nil
}

func (c *Conn) transaction(env Envelope, msg []byte) error {
	if err := c.smtp.Mail("<" + env.From + ">"); err != nil {
		return c.fail("MAIL FROM", err)
	}
	for _, rcpt := range env.To {
		if err := c.smtp.Rcpt("<" + rcpt + ">"); err != nil {
			return c.fail("RCPT TO", err)
		}
	}
	w, err := c.smtp.Data()
	if err != nil {
		return c.fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close()
		return &Error{Op: "DATA", Err: err}
	}
	if err := w.Close(); err != nil {
		return c.fail("end of DATA", err)
	}
	return nil
}

// fail wraps err and resets the transaction so the connection can carry the
// next message of the batch.
func (c *Conn) fail(op string, err error) error {
	e := &Error{Op: op, Err: err}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e.Code, e.Enhanced, e.Throttle = tp.Code, enhancedOf(tp.Msg), classify(tp.Code, tp.Msg)
		e.Permanent = tp.Code >= 500 && tp.Code < 600 && e.Throttle == NotThrottled
		if rerr := c.smtp.Reset(); rerr != nil {
			c.log.Debug("smtp reset failed", "err", rerr)
		}
	}
	return e
}

// Close ends the session politely (QUIT), or drops it if that fails.
func (c *Conn) Close() error {
	if c == nil || c.smtp == nil {
		return nil
	}
	err := c.client.CloseWithSMTPClient(c.smtp)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = c.smtp.Close()
		return err
	}
	return nil
}

// Error is a failed SMTP step, with the server's reply code when there was one.
type Error struct {
	Op        string
	Code      int      // the SMTP reply code, 0 when the server gave none
	Enhanced  string   // the enhanced status code (RFC 3463), such as "4.4.2"; "" when none
	Permanent bool     // a 5xx reply that is not throttling: retrying the same message will not help
	Throttle  Throttle // whether the reply asks to send less for a while
	Err       error
}

func (e *Error) Error() string { return fmt.Sprintf("smtp %s: %v", e.Op, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether a later retry of the same message may succeed:
// true for 4xx replies, throttling 5xx replies and network, TLS and timeout
// errors; false for any other 5xx reply to the transaction.
func IsTemporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return !e.Permanent
	}
	return err != nil
}
