package oauthtest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request is one request the server received, as the client sent it.
type Request struct {
	At            time.Time
	Endpoint      string     // "token", "devicecode" or "introspect"
	Grant         string     // grant_type of a token request
	Form          url.Values // the body's fields as sent, secrets included
	Authorization string     // the Authorization header as sent
	AuthStyle     AuthStyle  // how the client authenticated; empty when that was not judged
	ClientID      string     // the client it authenticated as, else the one it named
	Status        int        // the HTTP status answered
	Error         string     // the "error" answered; empty on success
}

// recording is a Request being served; its index stays valid because
// requests are only ever appended.
type recording struct{ i int }

// record notes a request before it is judged.
func (s *Server) record(r *http.Request, endpoint, grant string, form url.Values) *recording {
	id := form.Get("client_id")
	if user, _, ok, err := basicAuth(r); ok && err == nil {
		id = user
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		At:            s.now(),
		Endpoint:      endpoint,
		Grant:         grant,
		Form:          cloneValues(form),
		Authorization: r.Header.Get("Authorization"),
		ClientID:      id,
	})
	return &recording{i: len(s.requests) - 1}
}

func (rec *recording) auth(s *Server, style AuthStyle, c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[rec.i].AuthStyle = style
	if c != nil {
		s.requests[rec.i].ClientID = c.ID
	}
}

func (rec *recording) finish(s *Server, status int, code string) {
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[rec.i].Status = status
	s.requests[rec.i].Error = code
}

// Requests returns every request so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// Count returns how many token requests with grant_type grant the server
// received (whatever it answered), or, for "devicecode" and "introspect",
// how many requests that endpoint received.
func (s *Server) Count(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (r.Endpoint == "token" && r.Grant == grant) || (r.Endpoint != "token" && r.Endpoint == grant) {
			n++
		}
	}
	return n
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Secret is a secret the server knows or issued.
type Secret struct {
	What  string // e.g. "the client secret of mentord-daemon"
	Value string
}

// Secrets returns every client secret (current, rotated out and revoked),
// introspection secret, private key (PEM, its base64 body in one piece and
// each body line), access token, refresh token and device code the server
// ever knew, so that a test run can search its logs for them.
func (s *Server) Secrets() []Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// remember adds a secret to Secrets; call with mu held.
func (s *Server) remember(what, value string) {
	s.issued = append(s.issued, Secret{What: what, Value: value})
}

// rememberKey adds a private key to Secrets in the forms it can leak in;
// call with mu held.
func (s *Server) rememberKey(what string, k *Key) {
	if k == nil || k.Private == nil {
		return
	}
	pemText := string(k.PrivateKeyPEM())
	s.remember(what+" (PEM)", pemText)
	var body []string
	for _, line := range strings.Split(pemText, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			body = append(body, line)
		}
	}
	s.remember(what+" (base64 body)", strings.Join(body, ""))
	// Each line alone too: a log quoting the PEM with escaped newlines holds
	// every line but not the body in one piece. The first line is mostly the
	// PKCS #8 header, the same for every RSA-2048 key, so it is left out.
	for i, line := range body[1:] {
		if len(line) >= 32 {
			s.remember(what+" (PEM line "+strconv.Itoa(i+2)+")", line)
		}
	}
}
