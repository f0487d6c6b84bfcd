package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// recorder is a token endpoint that records each request and answers with
// what the test sets: enough to check the shape of what mentord sends.
type recorder struct {
	mu       sync.Mutex
	reqs     []recorded
	status   int
	body     map[string]any
	lifetime int // expires_in of issued tokens
	n        int
}

type recorded struct {
	Path  string
	Form  url.Values
	Basic [2]string // id, secret of an Authorization: Basic header
}

func newRecorder(t *testing.T) (*recorder, *httptest.Server) {
	r := &recorder{lifetime: 3600}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := req.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		rec := recorded{Path: req.URL.Path, Form: req.PostForm}
		if id, secret, ok := req.BasicAuth(); ok {
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
			rec.Basic = [2]string{id, secret}
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, rec)
		r.n++
		status, body := r.status, r.body
		if body == nil {
			body = map[string]any{"access_token": fmt.Sprintf("at-%d", r.n), "token_type": "Bearer", "expires_in": r.lifetime}
			if rt := req.PostForm.Get("refresh_token"); rt != "" {
				body["refresh_token"] = rt + "-next" // rotate on every use
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status != 0 {
			w.WriteHeader(status)
		}
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func (r *recorder) answer(status int, body map[string]any) {
	r.mu.Lock()
	r.status, r.body = status, body
	r.mu.Unlock()
}

var (
	keyOnce sync.Once
	key     *oauthtest.Key
)

// credential is a certificate credential, made once for the package's tests.
func credential(t *testing.T) *oauthtest.Key {
	keyOnce.Do(func() {
		var err error
		if key, err = oauthtest.NewKey("mentord"); err != nil {
			panic(err)
		}
	})
	return key
}

func testKey(t *testing.T) *rsa.PrivateKey    { return credential(t).Private }
func testCert(t *testing.T) *x509.Certificate { return credential(t).Certificate }

func mustNew(t *testing.T, cfg Config) *Source {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Microsoft's client credentials with a secret: the secret in the form body
// (as Microsoft documents it), the .default scope, the tenant's endpoint.
func TestMicrosoftClientSecretRequest(t *testing.T) {
	r, srv := newRecorder(t)
	s := mustNew(t, Config{Provider: Microsoft, Grant: GrantClientCredentials, ClientID: "app-id", ClientSecret: "app secret&=",
		TokenURL: srv.URL + "/contoso.example/oauth2/v2.0/token", Scopes: []string{"https://outlook.office365.com/.default"},
		Subject: "mentoring@contoso.example"})
	tok, err := s.Token(context.Background())
	if err != nil || tok != "at-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	reqs := r.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-id"}, "client_secret": {"app secret&="},
		"scope": {"https://outlook.office365.com/.default"}}
	if q.Path != "/contoso.example/oauth2/v2.0/token" || !equalForm(q.Form, want) || q.Basic[0] != "" {
		t.Errorf("request = %+v\nwant form %v and no Basic header", q, want)
	}
}

// Microsoft's certificate credential: a JWT client assertion signed with the
// key, its header naming the certificate's thumbprint, and no secret.
func TestMicrosoftCertificateRequest(t *testing.T) {
	r, srv := newRecorder(t)
	cert := testCert(t)
	tokenURL := srv.URL + "/t/oauth2/v2.0/token"
	s := mustNew(t, Config{Provider: Microsoft, Grant: GrantClientCredentials, ClientID: "app-id", Certificate: cert, Key: testKey(t),
		TokenURL: tokenURL, Scopes: []string{"https://outlook.office365.com/.default"}})
	for range 2 {
		s.Invalidate(s.current())
		if _, err := s.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := r.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	f := reqs[0].Form
	if f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "app-id" || f.Has("client_secret") ||
		f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Fatalf("form = %v", f)
	}
	var claims jwt.RegisteredClaims
	parsed, err := jwt.ParseWithClaims(f.Get("client_assertion"), &claims, func(*jwt.Token) (any, error) { return &testKey(t).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(tokenURL), jwt.WithIssuer("app-id"), jwt.WithSubject("app-id"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("the assertion does not verify: %v", err)
	}
	if parsed.Header["x5t"] != credential(t).Thumbprint() {
		t.Errorf("x5t = %v", parsed.Header["x5t"])
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life <= 0 || life > 15*time.Minute || claims.ID == "" {
		t.Errorf("claims = %+v", claims)
	}
	if reqs[1].Form.Get("client_assertion") == f.Get("client_assertion") {
		t.Errorf("an assertion was used twice")
	}
}

// Google's service account: a JWT bearer assertion acting as the mailbox.
func TestGoogleServiceAccountRequest(t *testing.T) {
	r, srv := newRecorder(t)
	der, _ := x509.MarshalPKCS8PrivateKey(testKey(t))
	keyFile, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "mentord@p.iam.gserviceaccount.com",
		"private_key_id": "kid1", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri": srv.URL + "/token"})
	s := mustNew(t, Config{Provider: Google, Grant: GrantServiceAccount, ServiceAccountJSON: keyFile,
		Subject: "mentoring@example.edu", Scopes: []string{"https://mail.google.com/"}})
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := r.requests()[0].Form
	if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("form = %v", f)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(f.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &testKey(t).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if claims["iss"] != "mentord@p.iam.gserviceaccount.com" || claims["sub"] != "mentoring@example.edu" ||
		claims["scope"] != "https://mail.google.com/" || claims["aud"] != srv.URL+"/token" || tok.Header["kid"] != "kid1" {
		t.Errorf("claims = %v, header = %v", claims, tok.Header)
	}
}

// A generic server gets the client's credentials by HTTP Basic (RFC 6749 2.3.1).
func TestGenericClientCredentialsUseBasic(t *testing.T) {
	r, srv := newRecorder(t)
	s := mustNew(t, Config{Provider: Generic, Grant: GrantClientCredentials, ClientID: "mentord", ClientSecret: "s:e cret",
		TokenURL: srv.URL + "/token", Scopes: []string{"mail", "imap"}})
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := r.requests()[0]
	if q.Basic != [2]string{"mentord", "s:e cret"} || q.Form.Has("client_secret") || q.Form.Get("scope") != "mail imap" {
		t.Errorf("request = %+v", q)
	}
}

func TestRefreshTokenRotationIsSaved(t *testing.T) {
	r, srv := newRecorder(t)
	file := filepath.Join(t.TempDir(), "oauth-refresh-token")
	s := mustNew(t, Config{Provider: Generic, Grant: GrantRefreshToken, ClientID: "mentord", TokenURL: srv.URL + "/token", RefreshTokenFile: file})

	_, err := s.Token(context.Background())
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrNoRefreshToken) || !strings.Contains(err.Error(), "mentord oauth login") {
		t.Fatalf("Token without a refresh token = %v", err)
	}
	if len(r.requests()) != 0 {
		t.Fatalf("a request was sent without a refresh token")
	}
	if err := WriteRefreshToken(file, "rt1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := r.requests()[0].Form; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt1" || f.Get("client_id") != "mentord" {
		t.Errorf("form = %v", f)
	}
	if got := readFile(t, file); got != "rt1-next\n" {
		t.Errorf("the rotated refresh token was not saved: %q", got)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	// The next refresh uses the rotated token; a new login (the file
	// replaced) takes effect without a restart.
	s.Invalidate("at-1")
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := WriteRefreshToken(file, "fresh-login"); err != nil {
		t.Fatal(err)
	}
	s.Invalidate("at-2")
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := r.requests()
	if reqs[1].Form.Get("refresh_token") != "rt1-next" || reqs[2].Form.Get("refresh_token") != "fresh-login" {
		t.Errorf("refresh tokens used: %s, %s", reqs[1].Form.Get("refresh_token"), reqs[2].Form.Get("refresh_token"))
	}
}

// A rotated token that cannot be written is kept in memory, not lost.
func TestRotatedTokenKeptWhenFileIsReadOnly(t *testing.T) {
	r, srv := newRecorder(t)
	file := filepath.Join(t.TempDir(), "rt")
	if err := WriteRefreshToken(file, "rt1"); err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, Config{Provider: Generic, Grant: GrantRefreshToken, ClientID: "c", TokenURL: srv.URL + "/token", RefreshTokenFile: file})
	s.rt.write = func(string, string) error { return errors.New("read-only file system") }
	for i := range 3 {
		s.Invalidate(fmt.Sprintf("at-%d", i))
		if _, err := s.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var used []string
	for _, q := range r.requests() {
		used = append(used, q.Form.Get("refresh_token"))
	}
	if strings.Join(used, " ") != "rt1 rt1-next rt1-next-next" {
		t.Errorf("refresh tokens used: %v", used)
	}
	if got := readFile(t, file); got != "rt1\n" {
		t.Errorf("file = %q", got)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalForm(got, want url.Values) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if strings.Join(got[k], ",") != strings.Join(v, ",") {
			return false
		}
	}
	return true
}

// One request serves many callers; a refused token is replaced once.
func TestTokenIsCachedAndInvalidated(t *testing.T) {
	r, srv := newRecorder(t)
	s := mustNew(t, Config{Provider: Generic, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "s", TokenURL: srv.URL})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Token(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d token requests for 10 concurrent callers", n)
	}
	s.Invalidate("someone else's token") // not the cached one: kept
	if tok, _ := s.Token(context.Background()); tok != "at-1" {
		t.Errorf("token = %q", tok)
	}
	s.Invalidate("at-1")
	if tok, _ := s.Token(context.Background()); tok != "at-2" {
		t.Errorf("after Invalidate: token = %q", tok)
	}
	st := s.State()
	if st.Refreshes != 2 || !st.OK() || time.Until(st.ValidUntil) < 50*time.Minute {
		t.Errorf("state = %+v", st)
	}
}

// Run renews a token before it expires, so callers never wait for one.
func TestRunRenewsBeforeExpiry(t *testing.T) {
	r, srv := newRecorder(t)
	r.lifetime = 2 // seconds: renewed at 1.5 s (a quarter before expiry)
	var mu sync.Mutex
	var states []State
	s := mustNew(t, Config{Provider: Generic, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "s", TokenURL: srv.URL,
		OnState: func(st State) { mu.Lock(); states = append(states, st); mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for s.State().Refreshes < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d refreshes in 20 s", s.State().Refreshes)
		}
		// Every token handed out meanwhile still has time left.
		tok, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st := s.State(); tok == "" || time.Until(st.ValidUntil) <= 0 {
			t.Fatalf("handed out %q valid until %v", tok, st.ValidUntil)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(r.requests()); n != s.State().Refreshes {
		t.Errorf("%d requests for %d refreshes: a caller fetched a token itself", n, s.State().Refreshes)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 3 {
		t.Errorf("OnState called %d times", len(states))
	}
}

// Run keeps retrying a failing endpoint, and reports the failure meanwhile.
func TestRunReportsAndRecovers(t *testing.T) {
	r, srv := newRecorder(t)
	r.answer(401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
	s := mustNew(t, Config{Provider: Microsoft, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "wrong", TokenURL: srv.URL + "/t/token"})
	_, err := s.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Value") || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("Token = %v", err)
	}
	st := s.State()
	if st.OK() || st.Failures != 1 || st.LastError == "" {
		t.Errorf("state = %+v", st)
	}
	r.answer(0, nil)
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.State(); !st.OK() {
		t.Errorf("state after recovery = %+v", st)
	}
}
