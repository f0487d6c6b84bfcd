package oauthtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
)

// Error is an error answer (RFC 6749 section 5.2) that FailNext injects.
type Error struct {
	Status      int    // HTTP status; 0 means 400
	Code        string // the "error" field, e.g. "invalid_grant" or "temporarily_unavailable"
	Description string // the "error_description" field; may be empty
}

// FailNext makes the next n token requests (any grant) fail with e, after
// they are recorded and counted. A later call replaces what is left.
func (s *Server) FailNext(n int, e Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = s.faults[:0]
	for range n {
		s.faults = append(s.faults, e)
	}
}

// FailIntrospection makes the next n introspection requests answer the HTTP
// status (e.g. 503) with an error body, as an authorization server that is in
// trouble: Dovecot then reports a temporary failure to its client. A later
// call replaces what is left.
func (s *Server) FailIntrospection(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ifaults = s.ifaults[:0]
	for range n {
		s.ifaults = append(s.ifaults, status)
	}
}

func (s *Server) takeIntrospectionFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ifaults) == 0 {
		return 0, false
	}
	status := s.ifaults[0]
	s.ifaults = s.ifaults[1:]
	return status, true
}

// takeFault pops the next injected failure, if any.
func (s *Server) takeFault() (Error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Error{}, false
	}
	e := s.faults[0]
	s.faults = s.faults[1:]
	return e, true
}

// oauthError is an error answer with its RFC description and, for
// MicrosoftErrors, an AADSTS code and Microsoft's wording.
type oauthError struct {
	status      int
	code        string
	description string
	msCode      int
	msText      string
	wwwAuth     bool // the client used HTTP Basic: add WWW-Authenticate (RFC 6749 section 5.2)
}

func (e *oauthError) ms(code int, text string) *oauthError {
	e.msCode, e.msText = code, text
	return e
}

func (e *oauthError) basic() *oauthError {
	e.wwwAuth = true
	return e
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func errInvalidRequest(d string) *oauthError {
	return (&oauthError{status: 400, code: "invalid_request", description: d}).
		ms(900144, "The request body must contain a valid request: "+d)
}

func errInvalidClient(d string) *oauthError {
	return (&oauthError{status: 401, code: "invalid_client", description: d}).
		ms(70002, "Error validating credentials: "+d)
}

func errInvalidGrant(d string) *oauthError {
	return (&oauthError{status: 400, code: "invalid_grant", description: d}).
		ms(70000, "The request was denied because one or more grants are invalid: "+d)
}

func errUnauthorizedClient(d string) *oauthError {
	return (&oauthError{status: 400, code: "unauthorized_client", description: d}).
		ms(70001, "The application is not authorized for this request: "+d)
}

func errInvalidScope(d string) *oauthError {
	return (&oauthError{status: 400, code: "invalid_scope", description: d}).
		ms(70011, "The provided value for the input parameter 'scope' isn't valid. "+d)
}

func errUnsupportedGrant(grant string) *oauthError {
	return (&oauthError{status: 400, code: "unsupported_grant_type", description: fmt.Sprintf("unsupported grant_type %q", grant)}).
		ms(70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
}

// errDevice is one of the RFC 8628 section 3.5 answers to a device code poll.
func errDevice(code, d string, msCode int, msText string) *oauthError {
	return (&oauthError{status: 400, code: code, description: d}).ms(msCode, msText)
}

// writeError answers e as RFC 6749 section 5.2 JSON, in Microsoft's shape
// when the server is so configured.
func (s *Server) writeError(w http.ResponseWriter, e *oauthError) {
	s.mu.Lock()
	microsoft := s.opts.MicrosoftErrors
	s.mu.Unlock()
	if e.wwwAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
	}
	body := map[string]any{"error": e.code}
	if e.description != "" {
		body["error_description"] = e.description
	}
	if microsoft && e.msCode != 0 {
		now := s.now().UTC().Format("2006-01-02 15:04:05Z")
		trace, corr := uuid(), uuid()
		body["error_description"] = fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.msCode, e.msText, trace, corr, now)
		body["error_codes"] = []int{e.msCode}
		body["timestamp"] = now
		body["trace_id"] = trace
		body["correlation_id"] = corr
		body["error_uri"] = fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.msCode)
	}
	writeJSON(w, e.status, body)
}

// writeFault answers an injected failure exactly as given.
func writeFault(w http.ResponseWriter, f Error) {
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	body := map[string]any{"error": f.Code}
	if f.Description != "" {
		body["error_description"] = f.Description
	}
	writeJSON(w, status, body)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
