package oauthtest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func refreshServer(t *testing.T, rotate bool) (*Server, *Clock) {
	t.Helper()
	clock := FixedClock(t0)
	s := Start(t, Options{Now: clock.Now, RotateRefreshTokens: rotate, Introspector: introspector, MicrosoftErrors: true,
		Clients: []Client{
			{ID: "mentord-public"}, // a public client, as a device-flow app registration
			{ID: "mentord-web", Secret: "web-secret-0123456789"},
		}})
	return s, clock
}

// x/oauth2 refreshes an expired token through the server; with rotation the
// old refresh token is dead afterwards and the new one works.
func TestRefreshRotates(t *testing.T) {
	s, clock := refreshServer(t, true)
	seed, err := s.Issue("mentord-public", mentee, []string{"offline_access", "https://outlook.office365.com/IMAP.AccessAsUser.All"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "mentord-public", Endpoint: oauth2.Endpoint{TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	old := &oauth2.Token{AccessToken: seed.AccessToken, RefreshToken: seed.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	tok, err := cfg.TokenSource(t.Context(), old).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok.AccessToken == seed.AccessToken || tok.RefreshToken == "" || tok.RefreshToken == seed.RefreshToken {
		t.Fatalf("refreshed token = %+v, want a new access token and a new refresh token", tok)
	}
	r := s.Requests()[0]
	if r.Grant != GrantRefreshToken || r.AuthStyle != AuthNone || r.ClientID != "mentord-public" ||
		!formIs(r.Form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seed.RefreshToken}, "client_id": {"mentord-public"}}) {
		t.Errorf("recorded %+v", r)
	}
	if got := introspect(t, s, tok.AccessToken); got["username"] != mentee || got["scope"] != "offline_access https://outlook.office365.com/IMAP.AccessAsUser.All" {
		t.Errorf("introspection = %v", got)
	}

	// The rotated-out refresh token is refused the way Microsoft refuses a revoked grant.
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seed.RefreshToken}, "client_id": {"mentord-public"}}, "", "")
	wantError(t, status, body, 400, "invalid_grant")
	if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS50173:") {
		t.Errorf("error_description = %q, want AADSTS50173", d)
	}
	// The new one works, also after the access token expired.
	clock.Advance(2 * time.Hour)
	status, _, body = post(t, s.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"mentord-public"}}, "", "")
	if status != 200 || body["refresh_token"] == nil || body["refresh_token"] == tok.RefreshToken {
		t.Errorf("the rotated refresh token: %d %v", status, body)
	}
	if n := s.Count(GrantRefreshToken); n != 3 {
		t.Errorf("Count(refresh_token) = %d, want 3", n)
	}
	// A public client may also name itself in HTTP Basic with an empty password.
	status, _, body = post(t, s.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, "mentord-public", "")
	if status != 200 {
		t.Errorf("public client in HTTP Basic: %d %v", status, body)
	}
	status, _, body = post(t, s.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "mentord-web", "")
	wantError(t, status, body, 401, "invalid_client")
}

// Without rotation the answer has no refresh_token (as Google's) and x/oauth2
// keeps the one it had, which stays valid.
func TestRefreshWithoutRotation(t *testing.T) {
	s, _ := refreshServer(t, false)
	seed, err := s.Issue("mentord-web", daemon, []string{"https://mail.google.com/"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "mentord-web", ClientSecret: "web-secret-0123456789", Endpoint: oauth2.Endpoint{TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}}
	for i := range 2 {
		old := &oauth2.Token{AccessToken: "stale", RefreshToken: seed.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
		tok, err := cfg.TokenSource(t.Context(), old).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		if tok.RefreshToken != seed.RefreshToken {
			t.Errorf("refresh %d: refresh token %q, want the old one kept", i+1, tok.RefreshToken)
		}
	}
	if r := s.Requests()[0]; r.AuthStyle != AuthBasic {
		t.Errorf("auth style = %s, want %s", r.AuthStyle, AuthBasic)
	}
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seed.RefreshToken}}, "mentord-web", "web-secret-0123456789")
	if status != 200 || body["refresh_token"] != nil {
		t.Errorf("answer = %d %v, want a token without refresh_token", status, body)
	}
}

func TestRefreshErrors(t *testing.T) {
	s, clock := refreshServer(t, true)
	seed, err := s.Issue("mentord-public", mentee, []string{"offline_access", "mail"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Issue("mentord-web", mentee, []string{"mail"})
	if err != nil {
		t.Fatal(err)
	}
	form := func(rt string, extra ...string) url.Values {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"mentord-public"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		code   string
		msCode string
	}{
		{"unknown", form("no-such-token"), "invalid_grant", "AADSTS9002313:"},
		{"an access token", form(seed.AccessToken), "invalid_grant", "AADSTS9002313:"},
		{"another client's", form(other.RefreshToken), "invalid_grant", "AADSTS70000:"},
		{"a wider scope", form(seed.RefreshToken, "scope", "mail https://graph.microsoft.com/Mail.Send"), "invalid_scope", "AADSTS70011:"},
		{"missing", form(""), "invalid_request", "AADSTS900144:"},
	} {
		status, _, body := post(t, s.TokenURL(), tc.form, "", "")
		if status != 400 || body["error"] != tc.code || !strings.HasPrefix(body["error_description"].(string), tc.msCode) {
			t.Errorf("%s: %d %v, want 400 %s %s", tc.name, status, body, tc.code, tc.msCode)
		}
	}
	// A narrower scope is fine (RFC 6749 section 6).
	status, _, body := post(t, s.TokenURL(), form(seed.RefreshToken, "scope", "mail"), "", "")
	if status != 200 || body["scope"] != "mail" {
		t.Fatalf("narrower scope: %d %v", status, body)
	}
	// Expiry after the refresh lifetime.
	fresh := body["refresh_token"].(string)
	clock.Advance(DefaultRefreshLifetime + time.Second)
	status, _, body = post(t, s.TokenURL(), form(fresh), "", "")
	if status != 400 || !strings.HasPrefix(body["error_description"].(string), "AADSTS700082:") {
		t.Errorf("expired refresh token: %d %v, want AADSTS700082", status, body)
	}
	// RevokeTokens kills the refresh tokens too.
	if n := s.RevokeTokens("mentord-web"); n != 0 {
		t.Errorf("RevokeTokens after expiry = %d, want 0 still valid", n)
	}
}
