package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Grants.
const (
	GrantClientCredentials = "client_credentials"
	GrantServiceAccount    = "service_account"
	GrantRefreshToken      = "refresh_token"
)

// Providers, which decide how errors are explained.
const (
	Microsoft = "microsoft"
	Google    = "google"
	Generic   = "generic"
)

// Config says where tokens come from and for whom.
type Config struct {
	Provider string // Microsoft, Google or Generic
	Grant    string // GrantClientCredentials, GrantServiceAccount or GrantRefreshToken
	TokenURL string // for a service account: overrides the key file's token_uri
	// DeviceAuthURL is where Login starts (RFC 8628).
	DeviceAuthURL string
	ClientID      string
	ClientSecret  string
	// Certificate and Key: a certificate credential, sent as a signed client
	// assertion instead of a secret.
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
	// ServiceAccountJSON is a Google service account's key file.
	ServiceAccountJSON []byte
	// Subject is the mailbox the tokens act as (a service account's subject).
	Subject string
	Scopes  []string
	// RefreshTokenFile holds the refresh token of GrantRefreshToken.
	RefreshTokenFile string
	RootCAs          *x509.CertPool // for TokenURL; nil: the system's
	Timeout          time.Duration  // per token request; default 15s
	Log              *slog.Logger
	// OnState, when set, is called after every fetch, successful or not.
	OnState func(State)
}

// State is what can be told about the token without showing it.
type State struct {
	Provider    string    `json:"provider"`
	Grant       string    `json:"grant"`
	Identity    string    `json:"identity,omitempty"` // the mailbox the token acts as
	ValidUntil  time.Time `json:"valid_until,omitzero"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Refreshes   int       `json:"refreshes"` // tokens fetched since start
	Failures    int       `json:"failures"`  // failed fetches since start
}

// OK reports whether the last fetch succeeded (or none failed yet).
func (s State) OK() bool { return s.LastError == "" || s.LastRefresh.After(s.LastErrorAt) }

// TokenSource is what a client signing in with a token needs: *Source, or a
// stand-in in tests.
type TokenSource interface {
	// Token returns a usable access token.
	Token(ctx context.Context) (string, error)
	// Invalidate drops a token the server refused, so the next is new.
	Invalidate(token string)
}

// Source hands out access tokens, fetching and caching them.
type Source struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	fetch  func(ctx context.Context) (*oauth2.Token, error)
	rt     *refreshStore // GrantRefreshToken only

	fetching sync.Mutex // one token request at a time
	mu       sync.Mutex // guards what follows
	tok      *oauth2.Token
	lifetime time.Duration
	state    State
	wake     chan struct{}
}

// New checks cfg and returns a Source. It sends no request.
func New(cfg Config) (*Source, error) {
	if cfg.Timeout <= 0 {
		// Providers answer in well under a second; a sign-in waiting longer
		// than this would keep its loop from the watchdog (WatchdogSec=30s).
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone() // honours HTTPS_PROXY
	if cfg.RootCAs != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	}
	s := &Source{
		cfg: cfg, log: cfg.Log, client: &http.Client{Transport: transport, Timeout: cfg.Timeout},
		state: State{Provider: cfg.Provider, Grant: cfg.Grant, Identity: cfg.Subject},
		wake:  make(chan struct{}, 1),
	}
	var err error
	switch cfg.Grant {
	case GrantClientCredentials:
		s.fetch, err = s.clientCredentials()
	case GrantServiceAccount:
		s.fetch, err = s.serviceAccount()
	case GrantRefreshToken:
		s.rt = &refreshStore{file: cfg.RefreshTokenFile, log: cfg.Log}
		s.fetch, err = s.refreshGrant()
	default:
		err = fmt.Errorf("unknown grant %q", cfg.Grant)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return s, nil
}

// State returns the token's state.
func (s *Source) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// margin is how long before expiry a token is renewed: a quarter of its
// lifetime, at most five minutes (an hour's token is renewed at 55 minutes).
func margin(lifetime time.Duration) time.Duration { return min(lifetime/4, 5*time.Minute) }

// usable returns the cached token while more than half the margin is left,
// so a token never expires during the sign-in that uses it.
func (s *Source) usable() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil || time.Until(s.tok.Expiry) <= margin(s.lifetime)/2 {
		return ""
	}
	return s.tok.AccessToken
}

// Token returns an access token: the cached one, or a new one.
func (s *Source) Token(ctx context.Context) (string, error) {
	if t := s.usable(); t != "" {
		return t, nil
	}
	return s.refresh(ctx, "")
}

// Invalidate drops token when it is the cached one, after a server refused it;
// the next Token fetches another.
func (s *Source) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == token {
		s.log.Info("oauth: the server refused the access token; fetching a new one")
		s.tok = nil
	}
}

// refresh fetches a token unless another caller did so while this one waited
// (stale names the token that prompted the call: one newer than it is kept).
func (s *Source) refresh(ctx context.Context, stale string) (string, error) {
	s.fetching.Lock()
	defer s.fetching.Unlock()
	if t := s.usable(); t != "" && t != stale {
		return t, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	start := time.Now()
	tok, err := s.fetch(ctx)
	if err == nil && tok.AccessToken == "" {
		err = errors.New("the token endpoint answered without an access_token")
	}
	s.mu.Lock()
	defer func() {
		st := s.state
		s.mu.Unlock()
		if s.cfg.OnState != nil {
			s.cfg.OnState(st)
		}
	}()
	if err != nil {
		e := explainTokenError(s.cfg, err)
		s.state.LastError, s.state.LastErrorAt = e.Error(), time.Now()
		s.state.Failures++
		return "", e
	}
	if tok.Expiry.IsZero() { // no expires_in: assume the common hour
		tok.Expiry = start.Add(time.Hour)
	}
	s.tok, s.lifetime = tok, max(tok.Expiry.Sub(start), time.Second)
	s.state.ValidUntil, s.state.LastRefresh = tok.Expiry, time.Now()
	s.state.Refreshes++
	s.log.Debug("oauth: new access token", "valid_until", tok.Expiry.UTC().Format(time.RFC3339))
	return tok.AccessToken, nil
}

// renewAt is when the cached token should be replaced; zero when there is none.
func (s *Source) renewAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return time.Time{}
	}
	return s.tok.Expiry.Add(-margin(s.lifetime))
}

// Run fetches a token now and renews it ahead of its expiry until ctx ends.
// Failed fetches are retried after a backoff (5 s doubling to 5 minutes);
// they are in State, and Token callers get the explained error meanwhile.
func (s *Source) Run(ctx context.Context) {
	backoff := 5 * time.Second
	for {
		wait := time.Duration(0)
		if at := s.renewAt(); !at.IsZero() {
			wait = time.Until(at)
		}
		if wait <= 0 {
			if _, err := s.refresh(ctx, s.current()); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("oauth: cannot get an access token; will retry", "err", err, "retry_in", backoff)
				wait, backoff = backoff, min(2*backoff, 5*time.Minute)
			} else {
				backoff = 5 * time.Second
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Wake makes Run look at the token now (after a reload, or a new login).
func (s *Source) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Source) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return ""
	}
	return s.tok.AccessToken
}
