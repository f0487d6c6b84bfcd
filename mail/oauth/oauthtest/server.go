package oauthtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Grant types (RFC 6749 section 4.4 and 6, RFC 7523 section 2.1, RFC 8628 section 3.4).
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// ClientAssertionType is the client_assertion_type of private_key_jwt (RFC 7523 section 2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Defaults for the zero values of Options.
const (
	DefaultTokenLifetime      = time.Hour
	DefaultRefreshLifetime    = 90 * 24 * time.Hour // Microsoft's inactivity limit
	DefaultDeviceCodeLifetime = 15 * time.Minute    // Microsoft's device code lifetime
	DefaultDeviceInterval     = 5 * time.Second     // RFC 8628 section 3.2
)

// Options configure a Server. The zero value serves on 127.0.0.1:0 with no
// clients, real time and open introspection.
type Options struct {
	// Addr is where to listen: 127.0.0.1:0 when empty. The host must be a
	// loopback address; a fixed port lets a resource server's configuration name it.
	Addr string
	// Clients and ServiceAccounts are registered before the server serves.
	Clients         []Client
	ServiceAccounts []ServiceAccount
	// Introspector are the HTTP Basic (or client_id and client_secret form)
	// credentials the introspection endpoint requires. Nil leaves it open.
	Introspector *Credentials
	// Now is the server's clock; nil is time.Now. See Clock.
	Now func() time.Time
	// TokenLifetime is how long an access token is valid (DefaultTokenLifetime).
	TokenLifetime time.Duration
	// RefreshLifetime is how long a refresh token is valid (DefaultRefreshLifetime).
	RefreshLifetime time.Duration
	// RotateRefreshTokens issues a new refresh token on every refresh and
	// invalidates the one used, as Microsoft and many identity providers do.
	// Without it a refresh answers no refresh_token (as Google) and the old one stays valid.
	RotateRefreshTokens bool
	// MicrosoftErrors makes error_description read like Microsoft Entra's
	// ("AADSTS7000215: Invalid client secret provided. ...\r\nTrace ID: ...")
	// and adds error_codes, timestamp, trace_id, correlation_id and error_uri.
	MicrosoftErrors bool
	// DeviceCodeLifetime and DeviceInterval shape the device authorization
	// grant (DefaultDeviceCodeLifetime, DefaultDeviceInterval; whole seconds).
	DeviceCodeLifetime time.Duration
	DeviceInterval     time.Duration
}

// Credentials are a client identifier and secret.
type Credentials struct {
	ID, Secret string
}

// Server is a running authorization server. Its methods are safe for concurrent use.
type Server struct {
	url  string
	ln   net.Listener
	http *http.Server
	now  func() time.Time
	done chan struct{}
	stop sync.Once

	mu       sync.Mutex
	opts     Options // lifetimes and flags, guarded by mu
	clients  map[string]*client
	accounts map[string]*ServiceAccount
	tokens   map[string]*token
	devices  map[string]*device // by device_code
	userCode map[string]*device // by user_code
	jtis     map[string]time.Time
	faults   []Error
	ifaults  []int // HTTP statuses for the next introspections (FailIntrospection)
	requests []Request
	issued   []Secret // every secret ever known, in order (Secrets)
	newAuth  chan struct{}
}

// Start runs a server until the test ends and fails the test if it cannot.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// New listens on opts.Addr and serves until Close.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", opts.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listen address %q: the host must be a loopback IP such as 127.0.0.1", opts.Addr)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	defaults(&opts)
	s := &Server{
		now:      opts.Now,
		opts:     opts,
		done:     make(chan struct{}),
		clients:  map[string]*client{},
		accounts: map[string]*ServiceAccount{},
		tokens:   map[string]*token{},
		devices:  map[string]*device{},
		userCode: map[string]*device{},
		jtis:     map[string]time.Time{},
		newAuth:  make(chan struct{}),
	}
	if in := opts.Introspector; in != nil {
		if in.ID == "" || in.Secret == "" {
			return nil, errors.New("introspector credentials need an ID and a secret (or leave Introspector nil for open introspection)")
		}
		s.remember("the introspection secret of "+in.ID, in.Secret)
	}
	for _, c := range opts.Clients {
		if err := s.AddClient(c); err != nil {
			return nil, err
		}
	}
	for _, a := range opts.ServiceAccounts {
		if err := s.AddServiceAccount(a); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("oauth authorization server: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("/devicecode", s.handleDeviceAuthorization)
	mux.HandleFunc("/device", s.handleVerificationPage)
	mux.HandleFunc("/introspect", s.handleIntrospect)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Longer than the idle time of Dovecot's HTTP client (mailstack.sh sets
		// 5 s), so the client, not the server, closes an idle connection.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

func defaults(o *Options) {
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.RefreshLifetime <= 0 {
		o.RefreshLifetime = DefaultRefreshLifetime
	}
	if o.DeviceCodeLifetime <= 0 {
		o.DeviceCodeLifetime = DefaultDeviceCodeLifetime
	}
	if o.DeviceInterval <= 0 {
		o.DeviceInterval = DefaultDeviceInterval
	}
	o.DeviceInterval = o.DeviceInterval.Round(time.Second)
	if o.DeviceInterval < time.Second {
		o.DeviceInterval = time.Second
	}
}

// Close stops the server and closes its connections. It is safe to call twice.
func (s *Server) Close() error {
	var err error
	s.stop.Do(func() {
		close(s.done)
		err = s.http.Close()
	})
	return err
}

// URL is the server's base URL, http://127.0.0.1:port.
func (s *Server) URL() string { return s.url }

// Addr is the address the server listens on, 127.0.0.1:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// TokenURL is the token endpoint; client assertions name it as their audience.
func (s *Server) TokenURL() string { return s.url + "/token" }

// DeviceAuthURL is the device authorization endpoint (RFC 8628 section 3.1).
func (s *Server) DeviceAuthURL() string { return s.url + "/devicecode" }

// IntrospectionURL is the RFC 7662 introspection endpoint.
func (s *Server) IntrospectionURL() string { return s.url + "/introspect" }

// VerificationURI is the page a device flow tells the user to open.
func (s *Server) VerificationURI() string { return s.url + "/device" }

// Endpoint describes the server for golang.org/x/oauth2. AuthStyle is left to
// auto-detection; set it on a copy to pin one.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{TokenURL: s.TokenURL(), DeviceAuthURL: s.DeviceAuthURL()}
}

// SetTokenLifetime changes the lifetime of access tokens issued from now on.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	s.opts.TokenLifetime = d
}

// Clock is a clock a test can move forward: Now is the base clock's time plus
// every Advance so far. A Clock on time.Now keeps real time for a resource
// server such as Dovecot, and still lets a test expire tokens at once.
type Clock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

// NewClock returns a Clock on base (time.Now when nil).
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// FixedClock returns a Clock that stands at t until advanced.
func FixedClock(t time.Time) *Clock { return NewClock(func() time.Time { return t }) }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeJSON answers v with the headers RFC 6749 section 5.1 asks of token responses.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
