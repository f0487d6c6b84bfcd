package oauthtest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func certServer(t *testing.T) (*Server, *Clock) {
	t.Helper()
	clock := FixedClock(t0)
	s := Start(t, Options{Now: clock.Now, Introspector: introspector, MicrosoftErrors: true, Clients: []Client{
		{ID: "mentord-cert", Key: keys()[0], User: daemon},
		{ID: "mentord-secret", Secret: "secret-only-0123456789", User: daemon},
	}})
	return s, clock
}

// A client with a certificate gets a token with an RS256 assertion through
// x/oauth2's clientcredentials (client_assertion in EndpointParams), as
// Microsoft's certificate credentials work.
func TestPrivateKeyJWT(t *testing.T) {
	s, clock := certServer(t)
	raw := clientAssertion(t, keys()[0], "mentord-cert", s.TokenURL(), clock.Now(), nil)
	cfg := clientcredentials.Config{ClientID: "mentord-cert", TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams,
		Scopes:         []string{"https://outlook.office365.com/.default"},
		EndpointParams: url.Values{"client_assertion_type": {ClientAssertionType}, "client_assertion": {raw}}}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("Token() = %v", err)
	}
	if got := introspect(t, s, tok.AccessToken); got["username"] != daemon || got["client_id"] != "mentord-cert" {
		t.Errorf("introspection = %v", got)
	}
	r := s.Requests()[0]
	if r.AuthStyle != AuthAssertion || r.Form.Get("client_assertion") != raw || r.Form.Get("client_id") != "mentord-cert" {
		t.Errorf("recorded %+v", r)
	}

	// The same assertion again: its jti was used.
	_, err = cfg.Token(t.Context())
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_client" || !strings.Contains(re.ErrorDescription, "already used") {
		t.Errorf("reused jti: %q %q", re.ErrorCode, re.ErrorDescription)
	}
	// RFC 7523 section 3: client_id may be left out; iss names the client.
	raw = clientAssertion(t, keys()[0], "mentord-cert", s.TokenURL(), clock.Now(), nil)
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {ClientAssertionType}, "client_assertion": {raw}}, "", "")
	if status != 200 {
		t.Errorf("without client_id: %d %v", status, body)
	}
}

func TestPrivateKeyJWTErrors(t *testing.T) {
	s, clock := certServer(t)
	now := clock.Now()
	k := keys()[0]
	for _, tc := range []struct {
		name      string
		id        string
		assertion string
		typ       string
		msCode    string
	}{
		{"another key, same x5t", "mentord-cert", func() string {
			raw := clientAssertion(t, keys()[1], "mentord-cert", s.TokenURL(), now, func(_ jwt.MapClaims, h map[string]any) { h["x5t"] = k.Thumbprint() })
			return raw
		}(), ClientAssertionType, "AADSTS700027:"},
		{"x5t of another certificate", "mentord-cert", clientAssertion(t, keys()[1], "mentord-cert", s.TokenURL(), now, nil), ClientAssertionType, "AADSTS700027:"},
		{"no x5t", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(_ jwt.MapClaims, h map[string]any) { delete(h, "x5t") }), ClientAssertionType, "AADSTS700027:"},
		{"wrong audience", "mentord-cert", clientAssertion(t, k, "mentord-cert", "https://login.microsoftonline.com/tenant/oauth2/v2.0/token", now, nil), ClientAssertionType, "AADSTS700023:"},
		{"iss is not the client", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { c["iss"] = "someone" }), ClientAssertionType, "AADSTS700021:"},
		{"sub is not the client", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { c["sub"] = "someone" }), ClientAssertionType, "AADSTS700021:"},
		{"expired", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), ClientAssertionType, "AADSTS700024:"},
		{"not yet valid", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), ClientAssertionType, "AADSTS700024:"},
		{"no exp", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }), ClientAssertionType, "AADSTS700024:"},
		{"no nbf", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { delete(c, "nbf") }), ClientAssertionType, "AADSTS700024:"},
		{"no jti", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, func(c jwt.MapClaims, _ map[string]any) { delete(c, "jti") }), ClientAssertionType, "AADSTS70002:"},
		{"HS256", "mentord-cert", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": s.TokenURL(), "iss": "mentord-cert", "sub": "mentord-cert", "jti": "x", "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			tok.Header["x5t"] = k.Thumbprint()
			raw, _ := tok.SignedString([]byte("a shared secret"))
			return raw
		}(), ClientAssertionType, "AADSTS700027:"},
		{"wrong assertion type", "mentord-cert", clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, nil), "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "AADSTS50027:"},
		{"not a JWT", "mentord-cert", "garbage", ClientAssertionType, "AADSTS50027:"},
		{"a client without a certificate", "mentord-secret", clientAssertion(t, k, "mentord-secret", s.TokenURL(), now, nil), ClientAssertionType, "AADSTS700027:"},
		{"unknown client", "nobody", clientAssertion(t, k, "nobody", s.TokenURL(), now, nil), ClientAssertionType, "AADSTS700016:"},
	} {
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {tc.id},
			"client_assertion_type": {tc.typ}, "client_assertion": {tc.assertion}}, "", "")
		desc, _ := body["error_description"].(string)
		if status != 401 || body["error"] != "invalid_client" || !strings.HasPrefix(desc, tc.msCode) {
			t.Errorf("%s: %d %v, want 401 invalid_client %s", tc.name, status, body, tc.msCode)
		}
	}
	// A secret and an assertion together are refused: one method per request.
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"mentord-cert"}, "client_secret": {"x"},
		"client_assertion_type": {ClientAssertionType}, "client_assertion": {clientAssertion(t, k, "mentord-cert", s.TokenURL(), now, nil)}}, "", "")
	wantError(t, status, body, 400, "invalid_request")
}

// The replay check forgets a jti once its assertion expired, but an expired
// assertion is refused anyway.
func TestPrivateKeyJWTReplayAfterExpiry(t *testing.T) {
	s, clock := certServer(t)
	raw := clientAssertion(t, keys()[0], "mentord-cert", s.TokenURL(), clock.Now(), nil)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"mentord-cert"}, "client_assertion_type": {ClientAssertionType}, "client_assertion": {raw}}
	if status, _, body := post(t, s.TokenURL(), form, "", ""); status != 200 {
		t.Fatalf("first use: %d %v", status, body)
	}
	clock.Advance(11 * time.Minute)
	status, _, body := post(t, s.TokenURL(), form, "", "")
	if status != 401 || !strings.HasPrefix(body["error_description"].(string), "AADSTS700024:") {
		t.Errorf("after expiry: %d %v, want AADSTS700024", status, body)
	}
}
