package oauthtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceUsed
)

// device is one device authorization (RFC 8628 section 3.1).
type device struct {
	code, userCode string
	client         string
	scopes         []string
	issued         time.Time
	expires        time.Time
	interval       time.Duration
	lastPoll       time.Time
	state          deviceState
	user           string
}

// DeviceAuthorization is a device authorization waiting for the user, as a
// test sees it.
type DeviceAuthorization struct {
	UserCode  string
	ClientID  string
	Scopes    []string
	ExpiresAt time.Time
}

// handleDeviceAuthorization is RFC 8628 section 3.1 and 3.2.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	form, e := readForm(w, r)
	rec := s.record(r, "devicecode", "", form)
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	c, style, e := s.authenticate(r, form)
	rec.auth(s, style, c)
	switch {
	case e != nil:
	case c == nil:
		e = errInvalidRequest("client_id is missing").ms(900144, "The request body must contain the following parameter: 'client_id'.")
	case !c.allows(GrantDeviceCode):
		e = errUnauthorizedClient(fmt.Sprintf("client %s may not use the device authorization grant", c.ID))
	}
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	scopes, e := grantScopes(c, form.Get("scope"))
	if e != nil {
		s.fail(w, rec, e)
		return
	}
	s.mu.Lock()
	now := s.now()
	d := &device{
		code:     randomString(32),
		userCode: s.newUserCode(),
		client:   c.ID,
		scopes:   scopes,
		issued:   now,
		expires:  now.Add(s.opts.DeviceCodeLifetime),
		interval: s.opts.DeviceInterval,
		lastPoll: now, // the first poll, too, must wait an interval
	}
	s.devices[d.code] = d
	s.userCode[d.userCode] = d
	s.remember("a device code of client "+c.ID, d.code)
	close(s.newAuth) // wake WaitDeviceAuthorization
	s.newAuth = make(chan struct{})
	s.mu.Unlock()

	rec.finish(s, http.StatusOK, "")
	verify := s.VerificationURI()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               d.code,
		"user_code":                 d.userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(d.userCode),
		"expires_in":                int64(d.expires.Sub(now) / time.Second),
		"interval":                  int64(d.interval / time.Second),
		"message":                   fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, d.userCode),
	})
}

// userCodeAlphabet is RFC 8628 section 6.1's base-20 set: no vowels, no
// look-alikes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode returns an unused XXXX-XXXX user code; call with mu held.
func (s *Server) newUserCode() string {
	for {
		var b strings.Builder
		for i := range 8 {
			if i == 4 {
				b.WriteByte('-')
			}
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(userCodeAlphabet))))
			b.WriteByte(userCodeAlphabet[n.Int64()])
		}
		if _, taken := s.userCode[b.String()]; !taken {
			return b.String()
		}
	}
}

// deviceToken is the token request of RFC 8628 section 3.4, answered as
// section 3.5: authorization_pending until Approve or Deny, slow_down (and 5
// more seconds of interval) when polled sooner than the interval since the
// last poll, access_denied after Deny, expired_token after the code's
// lifetime, and an access and a refresh token once approved.
func (s *Server) deviceToken(c *client, form url.Values) (*Token, *oauthError) {
	code := form.Get("device_code")
	if code == "" {
		return nil, errInvalidRequest("device_code is missing").ms(900144, "The request body must contain the following parameter: 'device_code'.")
	}
	s.mu.Lock()
	now := s.now()
	d, ok := s.devices[code]
	var e *oauthError
	switch {
	case !ok:
		e = errInvalidGrant("unknown device_code").ms(9002313, "Invalid request. Request is malformed or invalid.")
	case d.client != c.ID:
		e = errInvalidGrant(fmt.Sprintf("the device_code was issued to another client, not %s", c.ID)).
			ms(70000, "Provided grant is invalid or malformed.")
	case d.state == deviceUsed:
		e = errInvalidGrant("the device_code was exchanged already").ms(70000, "Provided grant is invalid or malformed.")
	case !now.Before(d.expires):
		e = errDevice("expired_token", "the device_code expired", 70019, "Verification code expired.")
	case d.state == deviceDenied:
		e = errDevice("access_denied", "the user denied the authorization", 65004, "User declined to consent to access the app.")
	case d.state == devicePending && now.Sub(d.lastPoll) < d.interval:
		d.interval += 5 * time.Second
		d.lastPoll = now
		e = errDevice("slow_down", fmt.Sprintf("polled sooner than the interval; poll every %d seconds from now on", d.interval/time.Second), 0, "")
	case d.state == devicePending:
		d.lastPoll = now
		e = errDevice("authorization_pending", "the user has not approved the request yet", 70016,
			"OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	d.state = deviceUsed
	user, scopes := d.user, d.scopes
	s.mu.Unlock()
	return s.issue(c.ID, user, scopes, true), nil
}

// Approve completes the device authorization with userCode as user would
// at the verification page: the next poll gets tokens for user.
func (s *Server) Approve(userCode, user string) error {
	if user == "" {
		return fmt.Errorf("oauthtest: approve %s: no user", userCode)
	}
	return s.decide(userCode, deviceApproved, user)
}

// Deny refuses the device authorization with userCode: the next poll gets access_denied.
func (s *Server) Deny(userCode string) error { return s.decide(userCode, deviceDenied, "") }

func (s *Server) decide(userCode string, state deviceState, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.userCode[normalUserCode(userCode)]
	switch {
	case !ok:
		return fmt.Errorf("oauthtest: no device authorization with user code %q", userCode)
	case d.state != devicePending:
		return fmt.Errorf("oauthtest: the device authorization with user code %s was decided already", d.userCode)
	case !s.now().Before(d.expires):
		return fmt.Errorf("oauthtest: the device authorization with user code %s expired", d.userCode)
	}
	d.state, d.user = state, user
	return nil
}

// normalUserCode accepts a user code as a user might type it: any case,
// with or without the dash.
func normalUserCode(code string) string {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if len(code) == 8 {
		code = code[:4] + "-" + code[4:]
	}
	return code
}

// DeviceAuthorizations returns the device authorizations still waiting for
// the user, oldest first.
func (s *Server) DeviceAuthorizations() []DeviceAuthorization {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingLocked()
}

func (s *Server) pendingLocked() []DeviceAuthorization {
	now := s.now()
	var ds []*device
	for _, d := range s.devices {
		if d.state == devicePending && now.Before(d.expires) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b *device) int { return a.issued.Compare(b.issued) })
	out := make([]DeviceAuthorization, len(ds))
	for i, d := range ds {
		out[i] = DeviceAuthorization{UserCode: d.userCode, ClientID: d.client, Scopes: slices.Clone(d.scopes), ExpiresAt: d.expires}
	}
	return out
}

// WaitDeviceAuthorization waits until a device authorization is waiting for
// the user (one may already be) and returns the oldest, or ctx's error.
func (s *Server) WaitDeviceAuthorization(ctx context.Context) (DeviceAuthorization, error) {
	for {
		s.mu.Lock()
		pending := s.pendingLocked()
		changed := s.newAuth
		s.mu.Unlock()
		if len(pending) > 0 {
			return pending[0], nil
		}
		select {
		case <-ctx.Done():
			return DeviceAuthorization{}, fmt.Errorf("no device authorization request arrived: %w", ctx.Err())
		case <-s.done:
			return DeviceAuthorization{}, fmt.Errorf("the authorization server was closed")
		case <-changed:
		}
	}
}

// handleVerificationPage stands for the page a user opens; a test approves
// with Approve instead.
func (s *Server) handleVerificationPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "oauthtest: this stands for the device login page; the test approves user code %q with Server.Approve.\n", r.URL.Query().Get("user_code"))
}
