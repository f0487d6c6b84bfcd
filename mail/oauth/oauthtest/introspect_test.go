package oauthtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 7662: a live token is active with its user, client and scope; an
// unknown, expired or revoked one is {"active": false} and nothing more.
func TestIntrospectionStates(t *testing.T) {
	clock := FixedClock(t0)
	s := Start(t, Options{Now: clock.Now, Introspector: introspector, TokenLifetime: 10 * time.Second,
		Clients: []Client{{ID: "a", Secret: "a-secret-0123456789", User: daemon}, {ID: "b", Secret: "b-secret-0123456789", User: mentee}}})
	get := func(client, secret string) string {
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "scope": {"mail"}}, client, secret)
		if status != 200 {
			t.Fatalf("token: %d %v", status, body)
		}
		return body["access_token"].(string)
	}
	inactive := func(what, tok string) {
		t.Helper()
		if got := introspect(t, s, tok); len(got) != 1 || got["active"] != false {
			t.Errorf("%s: introspection = %v, want only active: false", what, got)
		}
	}
	a1 := get("a", "a-secret-0123456789")
	got := introspect(t, s, a1)
	want := map[string]any{"active": true, "username": daemon, "sub": daemon, "client_id": "a", "scope": "mail",
		"token_type": "Bearer", "exp": float64(t0.Add(10 * time.Second).Unix()), "iat": float64(t0.Unix()), "iss": s.URL()}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, got[k], v)
		}
	}
	inactive("unknown", "no-such-token")

	clock.Advance(10 * time.Second)
	inactive("expired", a1)

	s.SetTokenLifetime(time.Hour)
	a2, a3, b1 := get("a", "a-secret-0123456789"), get("a", "a-secret-0123456789"), get("b", "b-secret-0123456789")
	if !s.RevokeToken(a2) || s.RevokeToken("no-such-token") {
		t.Errorf("RevokeToken reports wrongly")
	}
	inactive("revoked", a2)
	if got := introspect(t, s, a3); got["active"] != true {
		t.Errorf("a token of the same client is %v after another was revoked", got)
	}
	if n := s.RevokeTokens("a"); n != 1 {
		t.Errorf("RevokeTokens(a) = %d, want 1 (a3; a1 expired, a2 revoked)", n)
	}
	inactive("revoked with its client's", a3)
	if got := introspect(t, s, b1); got["active"] != true || got["username"] != mentee {
		t.Errorf("another client's token: %v", got)
	}
	if !s.ExpireToken(b1) || s.ExpireToken("no-such-token") {
		t.Errorf("ExpireToken reports wrongly")
	}
	inactive("expired by ExpireToken", b1)
	if !clock.Now().Equal(t0.Add(10 * time.Second)) {
		t.Errorf("ExpireToken moved the clock")
	}
}

// FailIntrospection makes the next introspections fail with the status, then
// the endpoint answers again.
func TestFailIntrospection(t *testing.T) {
	s := Start(t, Options{})
	s.FailIntrospection(2, http.StatusServiceUnavailable)
	for i := range 3 {
		status, _, body := post(t, s.IntrospectionURL(), url.Values{"token": {"x"}}, "", "")
		want := http.StatusServiceUnavailable
		if i == 2 {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("introspection %d: %d %v, want %d", i+1, status, body, want)
		}
	}
	if reqs := s.Requests(); len(reqs) != 3 || reqs[0].Status != 503 || reqs[2].Status != 200 {
		t.Errorf("requests = %+v", reqs)
	}
}

// A refresh token is no bearer token: without token_type_hint (as Dovecot
// asks) it is inactive, with the hint it is active.
func TestIntrospectionOfRefreshTokens(t *testing.T) {
	s := Start(t, Options{Introspector: introspector, Clients: []Client{{ID: "app"}}})
	tok, err := s.Issue("app", daemon, []string{"offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	if got := introspect(t, s, tok.RefreshToken); got["active"] != false {
		t.Errorf("refresh token without hint: %v, want inactive", got)
	}
	status, _, body := post(t, s.IntrospectionURL(), url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, introspector.ID, introspector.Secret)
	if status != 200 || body["active"] != true || body["token_type"] != "refresh_token" {
		t.Errorf("refresh token with hint: %d %v", status, body)
	}
	if got := introspect(t, s, tok.AccessToken); got["active"] != true {
		t.Errorf("access token: %v", got)
	}
}

// The introspection endpoint takes the introspector's credentials in HTTP
// Basic, in the form, or in HTTP Basic with empty form fields as Dovecot 2.3
// sends them (token=...&client_id=&client_secret=), and nothing else.
func TestIntrospectionAuthentication(t *testing.T) {
	s := Start(t, Options{Introspector: introspector})
	for _, tc := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
	}{
		{"HTTP Basic", url.Values{"token": {"x"}}, "dovecot", "introspect-secret", 200},
		{"Dovecot 2.3", url.Values{"token": {"x"}, "client_id": {""}, "client_secret": {""}}, "dovecot", "introspect-secret", 200},
		{"form", url.Values{"token": {"x"}, "client_id": {"dovecot"}, "client_secret": {"introspect-secret"}}, "", "", 200},
		{"no credentials", url.Values{"token": {"x"}}, "", "", 401},
		{"wrong secret", url.Values{"token": {"x"}}, "dovecot", "nope", 401},
		{"wrong secret in the form", url.Values{"token": {"x"}, "client_id": {"dovecot"}, "client_secret": {"nope"}}, "", "", 401},
		{"no token", url.Values{}, "dovecot", "introspect-secret", 400},
	} {
		status, h, body := post(t, s.IntrospectionURL(), tc.form, tc.user, tc.pass)
		if status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, body, tc.status)
		}
		if status == 401 && (body["error"] != "invalid_client" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic")) {
			t.Errorf("%s: 401 without invalid_client and WWW-Authenticate: %v %v", tc.name, body, h)
		}
	}
	open := Start(t, Options{})
	status, _, body := post(t, open.IntrospectionURL(), url.Values{"token": {"x"}}, "", "")
	if status != 200 || body["active"] != false {
		t.Errorf("open introspection: %d %v", status, body)
	}
	if n := s.Count("introspect"); n != 7 {
		t.Errorf("Count(introspect) = %d, want 7", n)
	}
	if _, err := New(Options{Introspector: &Credentials{ID: "x"}}); err == nil {
		t.Errorf("New with an introspector without secret = nil error")
	}
}

func TestIntrospectionNeedsPOST(t *testing.T) {
	s := Start(t, Options{})
	resp, err := http.Get(s.IntrospectionURL() + "?token=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d, want 405", resp.StatusCode)
	}
}
