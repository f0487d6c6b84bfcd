package oauthtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// t0 is the fixed start of the fake clocks: tests that need the real
// time (x/oauth2's own JWTs and tickers) use NewClock(time.Now) instead.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// keys are generated once: RSA-2048 generation takes a while under -race.
var keys = sync.OnceValue(func() []*Key {
	var out []*Key
	for _, name := range []string{"mentord-cert", "other-cert", "service-account"} {
		k, err := NewKey(name)
		if err != nil {
			panic(err)
		}
		out = append(out, k)
	}
	return out
})

const (
	daemon = "daemon@example.test"
	mentee = "mentee@example.test"
	// secretWithSpecials needs the form-urlencoding of RFC 6749 section 2.3.1
	// in HTTP Basic: ':' would split the credentials, '+' would turn into a space.
	secretWithSpecials = "s3cr3t:+/=&%~ é"
)

// post sends form to url with HTTP Basic credentials when user is not empty,
// and returns the status, the headers and the decoded JSON body.
func post(t *testing.T, rawURL string, form url.Values, user, pass string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("POST %s: the answer is not JSON: %v\n%s", rawURL, err, raw)
	}
	return resp.StatusCode, resp.Header, body
}

// wantError fails t unless the answer is an RFC 6749 section 5.2 error with
// the status and code.
func wantError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("answer = %d %v, want %d with error %q", status, body, wantStatus, wantCode)
	}
}

// retrieveError returns the *oauth2.RetrieveError in err, failing t without one.
func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want an *oauth2.RetrieveError", err, err)
	}
	return re
}

// introspect asks s about token as Dovecot does (HTTP Basic, no hint).
func introspect(t *testing.T, s *Server, token string) map[string]any {
	t.Helper()
	status, _, body := post(t, s.IntrospectionURL(), url.Values{"token": {token}}, "dovecot", "introspect-secret")
	if status != http.StatusOK {
		t.Fatalf("introspect: %d %v", status, body)
	}
	return body
}

var introspector = &Credentials{ID: "dovecot", Secret: "introspect-secret"}

// clientAssertion signs a private_key_jwt assertion as Microsoft's
// certificate credentials want it; edit changes the claims or header first.
func clientAssertion(t *testing.T, k *Key, clientID, aud string, now time.Time, edit func(jwt.MapClaims, map[string]any)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"aud": aud,
		"iss": clientID,
		"sub": clientID,
		"jti": randomString(16),
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["x5t"] = k.Thumbprint()
	if edit != nil {
		edit(claims, tok.Header)
	}
	signed, err := tok.SignedString(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
