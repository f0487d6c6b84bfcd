package inbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/mail/oauth"
)

// Security is how the connection to the server is protected.
type Security string

// The connection security modes.
const (
	TLSImplicit Security = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS Security = "starttls" // STARTTLS, required: no fallback to plain text
	TLSNone     Security = "none"     // plain text; the configuration allows it only on loopback
)

// Sign-in mechanisms: LOGIN with a password, or AUTHENTICATE with an OAuth
// access token.
const (
	AuthLogin       = "login"
	AuthXOAUTH2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
)

// TokenSource gives OAuth access tokens: *oauth.Source.
type TokenSource = oauth.TokenSource

// Config says where the programme mailbox is and how to log in.
type Config struct {
	Host       string
	Port       int
	Security   Security
	Auth       string // AuthLogin (default), AuthXOAUTH2 or AuthOAuthBearer
	Username   string
	Password   string
	Token      TokenSource    // for AuthXOAUTH2 and AuthOAuthBearer
	Provider   string         // the OAuth provider (oauth.Microsoft, ...), to explain a refused token
	RootCAs    *x509.CertPool // nil: the system's roots
	ServerName string         // name checked in the server's certificate; default Host
	Timeout    time.Duration  // dial and login, and how long the server may stay silent while a command waits; default 30s
}

func (c Config) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Dial connects, secures the connection (verifying the certificate) and logs in.
// The caller closes the client. Each command of this package on it (Drain,
// Find, ...) gives up when the server says nothing for cfg.Timeout while it
// waits for the answer: it closes the connection and returns ErrStalled.
func Dial(ctx context.Context, cfg Config) (*imapclient.Client, error) {
	return dial(ctx, cfg, &dialOptions{})
}

// dialOptions are the client's options, and the heartbeat to call while a
// command waits for the server.
type dialOptions struct {
	imapclient.Options
	heartbeat func()
	beatEvery time.Duration
}

func dial(ctx context.Context, cfg Config, opts *dialOptions) (*imapclient.Client, error) {
	// A refused token is replaced once (it may have been revoked before its
	// time), on a new connection; then the refusal is explained.
	for retried := false; ; retried = true {
		c, refusal, err := dialOnce(ctx, cfg, opts)
		if refusal == nil || ctx.Err() != nil {
			return c, err
		}
		if retried {
			return nil, fmt.Errorf("imap login to %s: %w", cfg.addr(), oauth.ExplainSignIn(cfg.Provider, "IMAP", refusal, errors.Unwrap(err)))
		}
	}
}

// dialOnce connects and signs in; refusal is the sign-in whose token the
// server refused.
func dialOnce(ctx context.Context, cfg Config, opts *dialOptions) (c *imapclient.Client, refusal *oauth.SASL, err error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	serverName := cfg.ServerName
	if serverName == "" {
		serverName = cfg.Host
	}
	opts.TLSConfig = &tls.Config{ServerName: serverName, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if cfg.Security != TLSImplicit && cfg.Security != TLSStartTLS && cfg.Security != TLSNone {
		return nil, nil, fmt.Errorf("imap %s: unknown security mode %q", cfg.addr(), cfg.Security)
	}
	raw, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", cfg.addr())
	if err != nil {
		return nil, nil, fmt.Errorf("imap connect to %s: %w", cfg.addr(), err)
	}
	live := &liveness{timeout: timeout, heartbeat: opts.heartbeat, beatEvery: opts.beatEvery}
	conn := net.Conn(&watchedConn{Conn: raw, l: live})
	var client *imapclient.Client
	switch cfg.Security {
	case TLSImplicit:
		tc := tls.Client(conn, opts.TLSConfig)
		if err = tc.HandshakeContext(ctx); err == nil {
			client = imapclient.New(tc, &opts.Options)
		}
	case TLSStartTLS:
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		client, err = imapclient.NewStartTLS(conn, &opts.Options)
		stop()
	case TLSNone:
		client = imapclient.New(conn, &opts.Options)
	}
	if err != nil {
		_ = raw.Close()
		return nil, nil, fmt.Errorf("imap connect to %s: %w", cfg.addr(), err)
	}
	// Commands take no context: closing the client unblocks them when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = client.Close() })
	defer stop()
	if err := client.WaitGreeting(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("imap greeting from %s: %w", cfg.addr(), err)
	}
	if refusal, err = signIn(ctx, client, cfg); err != nil {
		_ = client.Close()
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, refusal, fmt.Errorf("imap login to %s: %w", cfg.addr(), err)
	}
	watchClient(client, live) // from here on, each command has a deadline
	return client, nil, nil
}

// signIn logs in with the password, or authenticates with an access token;
// refusal is the sign-in when the server refused the token, which is then
// invalidated.
func signIn(ctx context.Context, c *imapclient.Client, cfg Config) (refusal *oauth.SASL, err error) {
	mech := strings.ToLower(cfg.Auth)
	if mech == "" || mech == AuthLogin {
		return nil, c.Login(cfg.Username, cfg.Password).Wait()
	}
	if cfg.Token == nil {
		return nil, errors.New("no OAuth token source configured")
	}
	token, err := cfg.Token.Token(ctx)
	if err != nil {
		return nil, err
	}
	auth, err := oauth.NewSASL(mech, cfg.Username, token, cfg.Host, cfg.Port)
	if err != nil {
		return nil, err
	}
	err = c.Authenticate(auth)
	var answer *imap.Error // a tagged NO or BAD: the server's answer
	if err != nil && (errors.As(err, &answer) || errors.Is(err, oauth.ErrRefused)) {
		cfg.Token.Invalidate(token)
		return auth, err
	}
	return nil, err
}
