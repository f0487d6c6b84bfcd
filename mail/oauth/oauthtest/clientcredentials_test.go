package oauthtest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func ccServer(t *testing.T, opts Options) (*Server, *Clock) {
	t.Helper()
	clock := FixedClock(t0)
	opts.Now = clock.Now
	opts.Introspector = introspector
	opts.Clients = append(opts.Clients, Client{ID: "mentord-daemon", Secret: secretWithSpecials, User: daemon,
		Scopes: []string{"https://outlook.office365.com/.default", "mail"}})
	return Start(t, opts), clock
}

// x/oauth2's clientcredentials gets a token with the secret in HTTP Basic and
// in the body; the token opens the configured user's mailbox, and the request
// has the exact shape RFC 6749 section 2.3.1 and 4.4.2 give.
func TestClientCredentials(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		s, _ := ccServer(t, Options{})
		cfg := clientcredentials.Config{ClientID: "mentord-daemon", ClientSecret: secretWithSpecials, TokenURL: s.TokenURL(),
			Scopes: []string{"https://outlook.office365.com/.default"}, AuthStyle: style}
		tok, err := cfg.Token(t.Context())
		if err != nil {
			t.Fatalf("style %v: Token() = %v", style, err)
		}
		if len(tok.AccessToken) < 40 || tok.TokenType != "Bearer" || tok.RefreshToken != "" {
			t.Errorf("style %v: token = %+v, want a long opaque Bearer token and no refresh token (RFC 6749 section 4.4.3)", style, tok)
		}
		if got := tok.Extra("scope"); got != "https://outlook.office365.com/.default" {
			t.Errorf("scope = %v, want the requested scope", got)
		}
		if in := tok.Extra("expires_in"); in != float64(DefaultTokenLifetime/time.Second) {
			t.Errorf("expires_in = %v, want %d", in, int64(DefaultTokenLifetime/time.Second))
		}
		got := introspect(t, s, tok.AccessToken)
		if got["active"] != true || got["username"] != daemon || got["client_id"] != "mentord-daemon" {
			t.Errorf("introspection = %v, want active for %s", got, daemon)
		}

		reqs := s.Requests()
		if len(reqs) != 2 || reqs[0].Endpoint != "token" {
			t.Fatalf("requests = %+v, want the token request and the introspection", reqs)
		}
		r := reqs[0]
		if r.Grant != GrantClientCredentials || r.ClientID != "mentord-daemon" || r.Status != 200 || r.Error != "" {
			t.Errorf("recorded %+v", r)
		}
		switch style {
		case oauth2.AuthStyleInHeader:
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("mentord-daemon")+":"+url.QueryEscape(secretWithSpecials)))
			if r.AuthStyle != AuthBasic || r.Authorization != want {
				t.Errorf("auth = %s %q, want %s %q", r.AuthStyle, r.Authorization, AuthBasic, want)
			}
			if !formIs(r.Form, url.Values{"grant_type": {"client_credentials"}, "scope": {"https://outlook.office365.com/.default"}}) {
				t.Errorf("form = %v", r.Form)
			}
		case oauth2.AuthStyleInParams:
			if r.AuthStyle != AuthPost || r.Authorization != "" {
				t.Errorf("auth = %s %q, want %s and no header", r.AuthStyle, r.Authorization, AuthPost)
			}
			if !formIs(r.Form, url.Values{"grant_type": {"client_credentials"}, "scope": {"https://outlook.office365.com/.default"},
				"client_id": {"mentord-daemon"}, "client_secret": {secretWithSpecials}}) {
				t.Errorf("form = %v", r.Form)
			}
		}
		if n := s.Count(GrantClientCredentials); n != 1 {
			t.Errorf("Count(client_credentials) = %d, want 1", n)
		}
	}
}

func formIs(got, want url.Values) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			return false
		}
	}
	return true
}

// The answer is RFC 6749 section 5.1 to the letter: these fields and
// Cache-Control: no-store.
func TestTokenResponseShape(t *testing.T) {
	s, _ := ccServer(t, Options{TokenLifetime: 5 * time.Second})
	status, h, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "scope": {"mail"}}, "mentord-daemon", secretWithSpecials)
	if status != 200 {
		t.Fatalf("status %d %v", status, body)
	}
	if h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("headers = %v, want Cache-Control: no-store and JSON", h)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range body {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"access_token", "expires_in", "scope", "token_type"}) {
		t.Errorf("fields = %v", keys)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(5) || body["scope"] != "mail" {
		t.Errorf("body = %v", body)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(body["access_token"].(string))
	if len(raw) < 16 {
		t.Errorf("access token %q has %d bytes of randomness, want at least 16 (128 bits)", body["access_token"], len(raw))
	}
}

// Without a style x/oauth2 tries HTTP Basic, then the body: both reach the server.
func TestClientCredentialsAutoDetectFallsBackToBody(t *testing.T) {
	s, _ := ccServer(t, Options{})
	cfg := clientcredentials.Config{ClientID: "mentord-daemon", ClientSecret: "wrong", TokenURL: s.TokenURL()}
	_, err := cfg.Token(t.Context())
	re := retrieveError(t, err)
	if re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
		t.Errorf("error = %d %q, want 401 invalid_client", re.Response.StatusCode, re.ErrorCode)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].AuthStyle != AuthBasic || reqs[1].AuthStyle != AuthPost {
		t.Fatalf("requests = %+v, want HTTP Basic then the body", reqs)
	}
	if reqs[0].Error != "invalid_client" || reqs[1].Error != "invalid_client" {
		t.Errorf("errors = %q, %q", reqs[0].Error, reqs[1].Error)
	}
}

func TestClientAuthenticationErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
		msCode     float64
	}{
		{"wrong secret in Basic", url.Values{}, "mentord-daemon", "nope", 401, "invalid_client", 7000215},
		{"wrong secret in body", url.Values{"client_id": {"mentord-daemon"}, "client_secret": {"nope"}}, "", "", 401, "invalid_client", 7000215},
		{"unknown client", url.Values{"client_id": {"nobody"}, "client_secret": {"x"}}, "", "", 401, "invalid_client", 700016},
		{"confidential client without credentials", url.Values{"client_id": {"mentord-daemon"}}, "", "", 401, "invalid_client", 7000218},
		{"no client at all", url.Values{}, "", "", 401, "invalid_client", 900144},
		{"Basic and body secret", url.Values{"client_secret": {secretWithSpecials}}, "mentord-daemon", secretWithSpecials, 400, "invalid_request", 900144},
		{"Basic and another client_id", url.Values{"client_id": {"other"}}, "mentord-daemon", secretWithSpecials, 400, "invalid_request", 900144},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := ccServer(t, Options{MicrosoftErrors: true})
			tc.form.Set("grant_type", "client_credentials")
			status, h, body := post(t, s.TokenURL(), tc.form, tc.user, tc.pass)
			wantError(t, status, body, tc.status, tc.code)
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != tc.msCode {
				t.Errorf("error_codes = %v, want [%v]", body["error_codes"], tc.msCode)
			}
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "\r\nTrace ID: ") || body["correlation_id"] == nil {
				t.Errorf("error_description = %q, want Microsoft's shape", desc)
			}
			if tc.user != "" && tc.status == 401 && h.Get("WWW-Authenticate") == "" {
				t.Errorf("401 to HTTP Basic without WWW-Authenticate (RFC 6749 section 5.2)")
			}
		})
	}
}

// The Microsoft-like body of a wrong secret is what a client's explanation
// code meets in production.
func TestMicrosoftInvalidSecretBody(t *testing.T) {
	s, _ := ccServer(t, Options{MicrosoftErrors: true})
	cfg := clientcredentials.Config{ClientID: "mentord-daemon", ClientSecret: "expired-or-wrong", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}
	_, err := cfg.Token(t.Context())
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_client" || !strings.HasPrefix(re.ErrorDescription, "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'mentord-daemon'.\r\nTrace ID: ") {
		t.Errorf("error = %q %q", re.ErrorCode, re.ErrorDescription)
	}
	if re.ErrorURI != "https://login.microsoftonline.com/error?code=7000215" {
		t.Errorf("error_uri = %q", re.ErrorURI)
	}
}

// RotateSecret and RevokeSecret take effect at once; Secrets knows every
// secret there ever was.
func TestSecretRotationAndRevocation(t *testing.T) {
	s, _ := ccServer(t, Options{MicrosoftErrors: true})
	get := func(secret string) (map[string]any, int) {
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, "mentord-daemon", secret)
		return body, status
	}
	if _, st := get(secretWithSpecials); st != 200 {
		t.Fatalf("the first secret: %d", st)
	}
	fresh, err := s.RotateSecret("mentord-daemon")
	if err != nil {
		t.Fatal(err)
	}
	if body, st := get(secretWithSpecials); st != 401 || !strings.HasPrefix(body["error_description"].(string), "AADSTS7000215:") {
		t.Errorf("the rotated-out secret: %d %v, want 401 AADSTS7000215", st, body)
	}
	if _, st := get(fresh); st != 200 {
		t.Errorf("the new secret: %d", st)
	}
	if err := s.RevokeSecret("mentord-daemon"); err != nil {
		t.Fatal(err)
	}
	if body, st := get(fresh); st != 401 || !strings.HasPrefix(body["error_description"].(string), "AADSTS7000222:") {
		t.Errorf("the revoked secret: %d %v, want 401 AADSTS7000222 (expired)", st, body)
	}
	var known []string
	for _, sec := range s.Secrets() {
		known = append(known, sec.Value)
	}
	for _, want := range []string{secretWithSpecials, fresh, introspector.Secret} {
		if !slices.Contains(known, want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	if _, err := s.RotateSecret("nobody"); err == nil {
		t.Errorf("RotateSecret(unknown) = nil error")
	}
}

func TestClientCredentialsScopesAndGrants(t *testing.T) {
	s, _ := ccServer(t, Options{Clients: []Client{
		{ID: "device-only", Secret: "device-secret-123", User: daemon, Grants: []string{GrantDeviceCode}},
		{ID: "no-user", Secret: "no-user-secret-123"},
		{ID: "public-app"},
	}})
	for _, tc := range []struct {
		name, user, pass, scope, code string
	}{
		{"scope not allowed", "mentord-daemon", secretWithSpecials, "https://graph.microsoft.com/.default", "invalid_scope"},
		{"grant not allowed", "device-only", "device-secret-123", "", "unauthorized_client"},
		{"client without user", "no-user", "no-user-secret-123", "", "unauthorized_client"},
	} {
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "scope": {tc.scope}}, tc.user, tc.pass)
		if body["error"] != tc.code {
			t.Errorf("%s: %d %v, want %s", tc.name, status, body, tc.code)
		}
	}
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"public-app"}}, "", "")
	wantError(t, status, body, 400, "unauthorized_client")
	// No scope asked: all the client may have.
	status, _, body = post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, "mentord-daemon", secretWithSpecials)
	if status != 200 || body["scope"] != "https://outlook.office365.com/.default mail" {
		t.Errorf("no scope asked: %d %v", status, body)
	}
}
