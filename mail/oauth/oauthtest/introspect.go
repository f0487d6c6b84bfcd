package oauthtest

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// handleIntrospect is RFC 7662: a resource server POSTs token=... and learns
// whether the token is active, for whom and with which scopes. It answers
// {"active": false} and nothing else for a token that is unknown, expired or
// revoked (section 2.2). Refresh tokens count only with
// token_type_hint=refresh_token, so that a resource server that introspects
// without a hint (Dovecot) never takes a refresh token for an access token.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	form, e := readForm(w, r)
	rec := s.record(r, "introspect", "", form)
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	if status, ok := s.takeIntrospectionFault(); ok {
		rec.finish(s, status, "temporarily_unavailable")
		writeJSON(w, status, map[string]any{"error": "temporarily_unavailable", "error_description": "an injected failure (FailIntrospection)"})
		return
	}
	style, ok := s.introspector(r, form)
	rec.auth(s, style, nil)
	if !ok {
		rec.finish(s, http.StatusUnauthorized, "invalid_client")
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest introspection"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "the introspection endpoint needs the introspector's credentials (HTTP Basic, RFC 7662 section 2.1)"})
		return
	}
	value := form.Get("token")
	if value == "" {
		s.fail(w, rec, errInvalidRequest("token is missing (RFC 7662 section 2.1)"))
		return
	}
	kind := accessToken
	if form.Get("token_type_hint") == "refresh_token" {
		kind = refreshToken
	}
	s.mu.Lock()
	now := s.now()
	t, active := s.active(value, kind, now)
	var body map[string]any
	if active {
		typ := "Bearer"
		if kind == refreshToken {
			typ = "refresh_token"
		}
		body = map[string]any{
			"active":     true,
			"scope":      strings.Join(t.scopes, " "),
			"client_id":  t.client,
			"username":   t.subject,
			"sub":        t.subject,
			"token_type": typ,
			"exp":        t.expires.Unix(),
			"iat":        t.issued.Unix(),
			"iss":        s.url,
		}
	} else {
		body = map[string]any{"active": false}
	}
	s.mu.Unlock()
	rec.finish(s, http.StatusOK, "")
	writeJSON(w, http.StatusOK, body)
}

// introspector checks the caller's credentials: HTTP Basic or, as Dovecot
// can also send them, non-empty client_id and client_secret in the form.
// Without Options.Introspector everyone may introspect.
func (s *Server) introspector(r *http.Request, form map[string][]string) (AuthStyle, bool) {
	s.mu.Lock()
	want := s.opts.Introspector
	s.mu.Unlock()
	id, secret, basic, err := basicAuth(r)
	style := AuthBasic
	if !basic {
		id, secret, style = first(form["client_id"]), first(form["client_secret"]), AuthPost
		if id == "" && secret == "" {
			style = AuthNone
		}
	}
	if want == nil {
		return style, true
	}
	if err != nil || style == AuthNone {
		return style, false
	}
	return style, subtle.ConstantTimeCompare([]byte(id), []byte(want.ID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(want.Secret)) == 1
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
