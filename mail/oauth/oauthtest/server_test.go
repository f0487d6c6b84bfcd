package oauthtest

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// FailNext fails exactly the next n token requests, which are still recorded
// and counted; then the server answers normally again.
func TestFailNext(t *testing.T) {
	s := Start(t, Options{Clients: []Client{{ID: "app", Secret: "app-secret-0123456789", User: daemon}}})
	s.FailNext(2, Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "try later"})
	cfg := clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret-0123456789", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
	for i := range 2 {
		_, err := cfg.Token(t.Context())
		re := retrieveError(t, err)
		if re.Response.StatusCode != 503 || re.ErrorCode != "temporarily_unavailable" || re.ErrorDescription != "try later" {
			t.Errorf("request %d: %d %q %q", i+1, re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
		}
	}
	if _, err := cfg.Token(t.Context()); err != nil {
		t.Errorf("the third request: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Status != 503 || reqs[0].Error != "temporarily_unavailable" || reqs[2].Status != 200 {
		t.Errorf("requests = %+v", reqs)
	}
	if n := s.Count(GrantClientCredentials); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
	s.FailNext(1, Error{Code: "invalid_grant"})
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, "app", "app-secret-0123456789")
	wantError(t, status, body, 400, "invalid_grant")
}

func TestBadRequests(t *testing.T) {
	s := Start(t, Options{Clients: []Client{{ID: "app", Secret: "app-secret-0123456789", User: daemon}}})
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, "app", "app-secret-0123456789")
	wantError(t, status, body, 400, "unsupported_grant_type")
	status, _, body = post(t, s.TokenURL(), url.Values{}, "app", "app-secret-0123456789")
	wantError(t, status, body, 400, "invalid_request")

	resp, err := http.Post(s.TokenURL(), "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("JSON body: %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(s.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("no-colon")))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("malformed Basic: %d %v", resp.StatusCode, resp.Header)
	}
}

// The server listens on loopback only, on a fixed address when asked.
func TestListenAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "nonsense"} {
		if s, err := New(Options{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("New(Addr %q) = nil error, want loopback only", addr)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := New(Options{Addr: addr})
	if err != nil {
		t.Fatalf("New(Addr %s) = %v", addr, err)
	}
	if s.Addr() != addr || s.URL() != "http://"+addr || s.TokenURL() != "http://"+addr+"/token" {
		t.Errorf("addresses: %s %s %s", s.Addr(), s.URL(), s.TokenURL())
	}
	if _, err := New(Options{Addr: addr}); err == nil {
		t.Errorf("a second server on %s = nil error", addr)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if _, err := http.Post(s.TokenURL(), "application/x-www-form-urlencoded", nil); err == nil {
		t.Errorf("the server still answers after Close")
	}
}

// Secrets lists every secret and token the server knew or issued, including
// a client's private key in PEM and as its base64 body.
func TestSecrets(t *testing.T) {
	k := keys()[0]
	s := Start(t, Options{Introspector: introspector, Clients: []Client{
		{ID: "app", Secret: "app-secret-0123456789", User: daemon},
		{ID: "cert", Key: k, User: daemon},
		{ID: "device"},
	}, ServiceAccounts: []ServiceAccount{{Email: serviceAccount, Key: &Key{Certificate: keys()[2].Certificate}}}})
	cc, err := (&clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret-0123456789", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	issued, err := s.Issue("device", mentee, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := post(t, s.DeviceAuthURL(), url.Values{"client_id": {"device"}}, "", "")
	if status != 200 {
		t.Fatal(body)
	}
	var values []string
	for _, sec := range s.Secrets() {
		if sec.What == "" || sec.Value == "" {
			t.Errorf("secret %+v", sec)
		}
		values = append(values, sec.Value)
	}
	pemText := string(k.PrivateKeyPEM())
	body64 := strings.Join(slices.DeleteFunc(strings.Split(pemText, "\n"), func(l string) bool { return l == "" || strings.HasPrefix(l, "-----") }), "")
	for what, want := range map[string]string{
		"client secret": "app-secret-0123456789", "introspection secret": introspector.Secret,
		"access token": cc.AccessToken, "issued access token": issued.AccessToken, "refresh token": issued.RefreshToken,
		"device code": body["device_code"].(string), "private key PEM": pemText, "private key body": body64,
	} {
		if !slices.Contains(values, want) {
			t.Errorf("Secrets() lacks the %s", what)
		}
	}
	if slices.Contains(values, string(keys()[2].PrivateKeyPEM())) {
		t.Errorf("Secrets() lists a private key the server was never given")
	}
}

// Many clients at once: go test -race checks the locking.
func TestConcurrentUse(t *testing.T) {
	s := Start(t, Options{Introspector: introspector, RotateRefreshTokens: true, Clients: []Client{{ID: "app", Secret: "app-secret-0123456789", User: daemon}}})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			cfg := clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret-0123456789", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
			for range 5 {
				tok, err := cfg.Token(t.Context())
				if err != nil {
					errs <- err
					return
				}
				if i%4 == 0 {
					s.RevokeToken(tok.AccessToken)
				}
				if _, err := s.Issue("app", fmt.Sprintf("u%d@example.test", i), nil); err != nil {
					errs <- err
				}
				_ = s.Requests()
				_ = s.Secrets()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Count(GrantClientCredentials); n != 80 {
		t.Errorf("Count = %d, want 80", n)
	}
}

func TestClock(t *testing.T) {
	c := FixedClock(t0)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("Now() = %v", got)
	}
	wall := NewClock(nil)
	wall.Advance(time.Hour)
	if d := time.Until(wall.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("a real clock advanced an hour is %v ahead", d)
	}
}

func TestRegistrationErrors(t *testing.T) {
	s := Start(t, Options{Clients: []Client{{ID: "app"}}})
	for name, err := range map[string]error{
		"duplicate client":    s.AddClient(Client{ID: "app"}),
		"no ID":               s.AddClient(Client{}),
		"key without cert":    s.AddClient(Client{ID: "k", Key: &Key{Private: keys()[0].Private}}),
		"account without key": s.AddServiceAccount(ServiceAccount{Email: "a@b"}),
		"duplicate account": func() error {
			_ = s.AddServiceAccount(ServiceAccount{Email: "x@y", Key: keys()[2]})
			return s.AddServiceAccount(ServiceAccount{Email: "x@y", Key: keys()[2]})
		}(),
		"issue to unknown":      func() error { _, err := s.Issue("nobody", daemon, nil); return err }(),
		"issue without subject": func() error { _, err := s.Issue("app", "", nil); return err }(),
		"revoke unknown":        s.RevokeSecret("nobody"),
	} {
		if err == nil {
			t.Errorf("%s: nil error", name)
		}
	}
}
