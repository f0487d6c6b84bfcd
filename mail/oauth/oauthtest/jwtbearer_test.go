package oauthtest

import (
	"net/url"
	"testing"
	"time"

	jwtv5 "github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2/jwt"
)

const serviceAccount = "mentord@mentord-project.iam.gserviceaccount.com"

func jwtServer(t *testing.T) (*Server, *Clock) {
	t.Helper()
	// x/oauth2/jwt stamps iat and exp from time.Now, so this server keeps real time.
	clock := NewClock(time.Now)
	s := Start(t, Options{Now: clock.Now, Introspector: introspector, ServiceAccounts: []ServiceAccount{{
		Email: serviceAccount, Key: keys()[2], KeyID: "kid-1",
		Users: []string{daemon, mentee}, Scopes: []string{"https://mail.google.com/"},
	}}})
	return s, clock
}

// x/oauth2/jwt, as a Google service account with domain-wide delegation, gets
// a token that acts as the user named in sub.
func TestJWTBearerGoogleServiceAccount(t *testing.T) {
	s, _ := jwtServer(t)
	cfg := &jwt.Config{Email: serviceAccount, PrivateKey: keys()[2].PrivateKeyPEM(), PrivateKeyID: "kid-1",
		Subject: daemon, Scopes: []string{"https://mail.google.com/"}, TokenURL: s.TokenURL()}
	tok, err := cfg.TokenSource(t.Context()).Token()
	if err != nil {
		t.Fatalf("Token() = %v", err)
	}
	if tok.RefreshToken != "" || tok.TokenType != "Bearer" {
		t.Errorf("token = %+v, want a Bearer token and no refresh token", tok)
	}
	got := introspect(t, s, tok.AccessToken)
	if got["active"] != true || got["username"] != daemon || got["client_id"] != serviceAccount || got["scope"] != "https://mail.google.com/" {
		t.Errorf("introspection = %v", got)
	}
	r := s.Requests()[0]
	if r.Grant != GrantJWTBearer || r.Authorization != "" || len(r.Form["assertion"]) != 1 || r.AuthStyle != "" {
		t.Errorf("recorded %+v, want a bare assertion grant", r)
	}
}

func TestJWTBearerErrors(t *testing.T) {
	s, clock := jwtServer(t)
	sign := func(k *Key, kid string, edit func(jwtv5.MapClaims)) string {
		now := clock.Now()
		claims := jwtv5.MapClaims{"iss": serviceAccount, "sub": daemon, "scope": "https://mail.google.com/",
			"aud": s.TokenURL(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(claims)
		}
		tok := jwtv5.NewWithClaims(jwtv5.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		raw, err := tok.SignedString(k.Private)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	sa := keys()[2]
	for _, tc := range []struct {
		name, assertion, code, desc string
	}{
		{"another key", sign(keys()[1], "kid-1", nil), "invalid_grant", googleBadSignature},
		{"another kid", sign(sa, "kid-2", nil), "invalid_grant", googleBadSignature},
		{"unknown account", sign(sa, "kid-1", func(c jwtv5.MapClaims) { c["iss"] = "x@y.iam.gserviceaccount.com" }), "invalid_grant", googleBadSignature},
		{"wrong audience", sign(sa, "kid-1", func(c jwtv5.MapClaims) { c["aud"] = "https://oauth2.googleapis.com/token" }), "invalid_grant",
			"Invalid JWT: Failed audience check. The right audience is " + s.TokenURL()},
		{"longer than an hour", sign(sa, "kid-1", func(c jwtv5.MapClaims) { c["exp"] = clock.Now().Add(61 * time.Minute).Unix() }), "invalid_grant", googleBadTime},
		{"expired", sign(sa, "kid-1", func(c jwtv5.MapClaims) {
			c["iat"], c["exp"] = clock.Now().Add(-2*time.Hour).Unix(), clock.Now().Add(-time.Hour).Unix()
		}), "invalid_grant", googleBadTime},
		{"from the future", sign(sa, "kid-1", func(c jwtv5.MapClaims) {
			c["iat"], c["exp"] = clock.Now().Add(10*time.Minute).Unix(), clock.Now().Add(time.Hour).Unix()
		}), "invalid_grant", googleBadTime},
		{"no iat", sign(sa, "kid-1", func(c jwtv5.MapClaims) { delete(c, "iat") }), "invalid_grant", googleBadTime},
		{"a user it may not act as", sign(sa, "kid-1", func(c jwtv5.MapClaims) { c["sub"] = "other@example.test" }), "unauthorized_client", googleUnauthorized},
		{"a scope it may not have", sign(sa, "kid-1", func(c jwtv5.MapClaims) { c["scope"] = "https://www.googleapis.com/auth/drive" }), "unauthorized_client", googleUnauthorized},
		{"no scope", sign(sa, "kid-1", func(c jwtv5.MapClaims) { delete(c, "scope") }), "invalid_scope", "Empty or missing scope not allowed."},
		{"not a JWT", "not.a.jwt", "invalid_grant", ""},
	} {
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {GrantJWTBearer}, "assertion": {tc.assertion}}, "", "")
		if status != 400 || body["error"] != tc.code || (tc.desc != "" && body["error_description"] != tc.desc) {
			t.Errorf("%s: %d %v, want 400 %s %q", tc.name, status, body, tc.code, tc.desc)
		}
	}
	// The scope may come in the form instead of the claim (RFC 7523 section 2.1).
	raw := sign(sa, "kid-1", func(c jwtv5.MapClaims) { delete(c, "scope") })
	status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {GrantJWTBearer}, "assertion": {raw}, "scope": {"https://mail.google.com/"}}, "", "")
	if status != 200 {
		t.Errorf("scope in the form: %d %v", status, body)
	}
	status, _, body = post(t, s.TokenURL(), url.Values{"grant_type": {GrantJWTBearer}}, "", "")
	wantError(t, status, body, 400, "invalid_request")
}
