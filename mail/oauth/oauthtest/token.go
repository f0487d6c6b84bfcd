package oauthtest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type tokenKind int

const (
	accessToken tokenKind = iota
	refreshToken
)

// token is an issued access or refresh token.
type token struct {
	kind    tokenKind
	client  string
	subject string
	scopes  []string
	issued  time.Time
	expires time.Time
	revoked bool
}

// Token is what the server issued, for a test that needs the values.
type Token struct {
	AccessToken  string
	RefreshToken string // empty when none was issued
	ExpiresAt    time.Time
	ClientID     string
	Subject      string
	Scopes       []string
}

// maxForm bounds a request body (a real token request is well under 8 KiB).
const maxForm = 64 << 10

// readForm parses a POSTed application/x-www-form-urlencoded body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request",
			description: "the endpoint takes POST only (RFC 6749 section 3.2)"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest(fmt.Sprintf("Content-Type %q is not application/x-www-form-urlencoded", r.Header.Get("Content-Type")))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("the body is not a form: " + err.Error())
	}
	return r.PostForm, nil
}

// handleToken is the token endpoint (RFC 6749 section 3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, e := readForm(w, r)
	grant := form.Get("grant_type")
	rec := s.record(r, "token", grant, form)
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	if f, ok := s.takeFault(); ok {
		rec.finish(s, f.Status, f.Code)
		writeFault(w, f)
		return
	}
	var c *client
	if grant != GrantJWTBearer { // a service account's assertion is its own credential
		var style AuthStyle
		c, style, e = s.authenticate(r, form)
		rec.auth(s, style, c)
		if e != nil {
			s.fail(w, rec, e)
			return
		}
		if c == nil {
			s.fail(w, rec, errInvalidClient("the request names no client (client_id, HTTP Basic or client_assertion)").
				ms(900144, "The request body must contain the following parameter: 'client_id'."))
			return
		}
		if !c.allows(grant) && grant != "" {
			s.fail(w, rec, errUnauthorizedClient(fmt.Sprintf("client %s may not use grant_type %s", c.ID, grant)))
			return
		}
	}
	var t *Token
	switch grant {
	case "":
		e = errInvalidRequest("grant_type is missing").ms(900144, "The request body must contain the following parameter: 'grant_type'.")
	case GrantClientCredentials:
		t, e = s.clientCredentials(c, form)
	case GrantRefreshToken:
		t, e = s.refresh(c, form)
	case GrantJWTBearer:
		t, e = s.jwtBearer(form)
	case GrantDeviceCode:
		t, e = s.deviceToken(c, form)
	default:
		e = errUnsupportedGrant(grant)
	}
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	rec.finish(s, http.StatusOK, "")
	writeToken(w, t, s.now())
}

func (s *Server) fail(w http.ResponseWriter, rec *recording, e *oauthError) {
	rec.finish(s, e.status, e.code)
	s.writeError(w, e)
}

// writeToken answers a token as RFC 6749 section 5.1.
func writeToken(w http.ResponseWriter, t *Token, now time.Time) {
	body := map[string]any{
		"access_token": t.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   int64(t.ExpiresAt.Sub(now).Round(time.Second) / time.Second),
	}
	if t.RefreshToken != "" {
		body["refresh_token"] = t.RefreshToken
	}
	if len(t.Scopes) > 0 {
		body["scope"] = strings.Join(t.Scopes, " ")
	}
	writeJSON(w, http.StatusOK, body)
}

// grantScopes checks the requested scopes against those the client may have;
// with none requested it grants all it may have.
func grantScopes(c *client, requested string) ([]string, *oauthError) {
	want := strings.Fields(requested)
	if len(want) == 0 {
		return slices.Clone(c.Scopes), nil
	}
	for _, sc := range want {
		if c.Scopes != nil && !slices.Contains(c.Scopes, sc) {
			return nil, errInvalidScope(fmt.Sprintf("client %s may not have scope %q (it may have %q)", c.ID, sc, strings.Join(c.Scopes, " ")))
		}
	}
	return want, nil
}

// clientCredentials is RFC 6749 section 4.4: a confidential client gets a
// token for its own User, and no refresh token (section 4.4.3).
func (s *Server) clientCredentials(c *client, form url.Values) (*Token, *oauthError) {
	s.mu.Lock()
	public, user := c.public(), c.User
	s.mu.Unlock()
	if public {
		return nil, errUnauthorizedClient(fmt.Sprintf("client %s is public (it has no secret or certificate) and may not use client_credentials", c.ID))
	}
	if user == "" {
		return nil, errUnauthorizedClient(fmt.Sprintf("client %s has no User to act as (Client.User)", c.ID))
	}
	scopes, e := grantScopes(c, form.Get("scope"))
	if e != nil {
		return nil, e
	}
	return s.issue(c.ID, user, scopes, false), nil
}

// refresh is RFC 6749 section 6.
func (s *Server) refresh(c *client, form url.Values) (*Token, *oauthError) {
	value := form.Get("refresh_token")
	if value == "" {
		return nil, errInvalidRequest("refresh_token is missing").ms(900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	s.mu.Lock()
	now := s.now()
	rt, ok := s.tokens[value]
	rotate := s.opts.RotateRefreshTokens
	var e *oauthError
	switch {
	case !ok || rt.kind != refreshToken:
		e = errInvalidGrant("unknown refresh token").ms(9002313, "Invalid request. Request is malformed or invalid.")
	case rt.client != c.ID:
		e = errInvalidGrant(fmt.Sprintf("the refresh token was issued to another client, not %s", c.ID)).
			ms(70000, "Provided grant is invalid or malformed.")
	case rt.revoked:
		e = errInvalidGrant("the refresh token was revoked or already used").
			ms(50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
	case !now.Before(rt.expires):
		e = errInvalidGrant("the refresh token expired").
			ms(700082, "The refresh token has expired due to inactivity. The token was issued on "+rt.issued.UTC().Format("2006-01-02T15:04:05.0000000Z")+" and was inactive for 90.00:00:00.")
	}
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	scopes := rt.scopes
	if req := strings.Fields(form.Get("scope")); len(req) > 0 {
		for _, sc := range req {
			if !slices.Contains(rt.scopes, sc) {
				s.mu.Unlock()
				return nil, errInvalidScope(fmt.Sprintf("scope %q was not granted with the refresh token (RFC 6749 section 6)", sc))
			}
		}
		scopes = req
	}
	if rotate {
		rt.revoked = true
	}
	subject := rt.subject
	s.mu.Unlock()
	t := s.issue(c.ID, subject, scopes, rotate)
	return t, nil
}

// jwtBearer is RFC 7523 section 2.1 as Google's service accounts use it.
func (s *Server) jwtBearer(form url.Values) (*Token, *oauthError) {
	raw := form.Get("assertion")
	if raw == "" {
		return nil, googleError("invalid_request", "Missing required parameter: assertion")
	}
	subject, scopes, e := s.checkGrantAssertion(raw, form.Get("scope"))
	if e != nil {
		return nil, e
	}
	_, claims, _ := parseJWT(raw)
	return s.issue(claims.Issuer, subject, scopes, false), nil
}

// issue makes an access token, and a refresh token when withRefresh.
func (s *Server) issue(clientID, subject string, scopes []string, withRefresh bool) *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := &Token{
		AccessToken: randomString(32),
		ExpiresAt:   now.Add(s.opts.TokenLifetime),
		ClientID:    clientID,
		Subject:     subject,
		Scopes:      slices.Clone(scopes),
	}
	s.tokens[t.AccessToken] = &token{kind: accessToken, client: clientID, subject: subject, scopes: t.Scopes, issued: now, expires: t.ExpiresAt}
	s.remember("an access token for "+subject+" (client "+clientID+")", t.AccessToken)
	if withRefresh {
		t.RefreshToken = randomString(32)
		s.tokens[t.RefreshToken] = &token{kind: refreshToken, client: clientID, subject: subject, scopes: t.Scopes, issued: now, expires: now.Add(s.opts.RefreshLifetime)}
		s.remember("a refresh token for "+subject+" (client "+clientID+")", t.RefreshToken)
	}
	return t
}

// Issue gives client clientID an access token and a refresh token for
// subject, as if the user had consented earlier (the refresh token a
// deployment keeps in its configuration).
func (s *Server) Issue(clientID, subject string, scopes []string) (*Token, error) {
	s.mu.Lock()
	_, ok := s.clients[clientID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("oauthtest: no client %s", clientID)
	}
	if subject == "" {
		return nil, errors.New("oauthtest: Issue needs a subject")
	}
	return s.issue(clientID, subject, scopes, true), nil
}

// RevokeToken revokes one access or refresh token; it reports whether the
// server knew it.
func (s *Server) RevokeToken(value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if ok {
		t.revoked = true
	}
	return ok
}

// ExpireToken ends the lifetime of one access or refresh token now, on the
// server's clock, without moving that clock (a shared server's clock also
// judges other clients' assertions). It reports whether the server knew it.
func (s *Server) ExpireToken(value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if ok {
		if now := s.now(); t.expires.After(now) {
			t.expires = now
		}
	}
	return ok
}

// RevokeTokens revokes every access and refresh token of client clientID
// and returns how many were still valid.
func (s *Server) RevokeTokens(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	now := s.now()
	for _, t := range s.tokens {
		if t.client == clientID && !t.revoked {
			if now.Before(t.expires) {
				n++
			}
			t.revoked = true
		}
	}
	return n
}

// active reports whether value is a valid token of kind; call with mu held.
func (s *Server) active(value string, kind tokenKind, now time.Time) (*token, bool) {
	t, ok := s.tokens[value]
	if !ok || t.kind != kind || t.revoked || !now.Before(t.expires) {
		return nil, false
	}
	return t, true
}

// ErrTokenRefused is CheckToken's answer for a token that does not open the
// mailbox: unknown, expired, revoked, a refresh token, or another user's.
var ErrTokenRefused = errors.New("oauthtest: the token does not open this mailbox")

// CheckToken is what a resource server decides for a bearer token presented
// to sign in as user: nil when it is an active access token whose subject is
// user (case-insensitive), as introspection would answer. It has the shape of
// devserver.Config.CheckToken, so an in-process mail server can trust this
// server's tokens the way Dovecot does over HTTP.
func (s *Server) CheckToken(user, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.active(token, accessToken, s.now())
	if !ok || !strings.EqualFold(t.subject, user) {
		return ErrTokenRefused
	}
	return nil
}
