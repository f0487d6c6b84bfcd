package oauthtest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// x/oauth2 runs the whole device flow: DeviceAuth, then DeviceAccessToken
// polls until the test approves the user code, and gets an access and a
// refresh token for the approving user.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	s := Start(t, Options{DeviceInterval: time.Second, Introspector: introspector,
		Clients: []Client{{ID: "mentord-device", Scopes: []string{"offline_access", "https://outlook.office365.com/IMAP.AccessAsUser.All"}}}})
	ep := s.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams // as x/oauth2/microsoft: auto-detection would poll twice per interval
	cfg := &oauth2.Config{ClientID: "mentord-device", Endpoint: ep, Scopes: []string{"offline_access", "https://outlook.office365.com/IMAP.AccessAsUser.All"}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth() = %v", err)
	}
	if da.Interval != 1 || da.VerificationURI != s.VerificationURI() || !strings.Contains(da.VerificationURIComplete, "user_code=") ||
		len(da.UserCode) != 9 || da.UserCode[4] != '-' || time.Until(da.Expiry) < 14*time.Minute {
		t.Errorf("device authorization = %+v", da)
	}
	approved := make(chan error, 1)
	go func() {
		pending, err := s.WaitDeviceAuthorization(ctx)
		if err == nil && pending.UserCode != da.UserCode {
			err = fmt.Errorf("pending user code %s, want %s", pending.UserCode, da.UserCode)
		}
		if err == nil {
			err = s.Approve(strings.ToLower(strings.ReplaceAll(da.UserCode, "-", "")), mentee) // as a user might type it
		}
		approved <- err
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken() = %v", err)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Errorf("no refresh token after the device flow")
	}
	if got := introspect(t, s, tok.AccessToken); got["username"] != mentee || got["client_id"] != "mentord-device" {
		t.Errorf("introspection = %v", got)
	}
	if n := s.Count(GrantDeviceCode); n < 1 {
		t.Errorf("Count(device_code) = %d", n)
	}
	if n := s.Count("devicecode"); n != 1 {
		t.Errorf("Count(devicecode) = %d, want 1", n)
	}
}

// The answers to each poll, on a clock the test moves: pending, slow_down with
// a longer interval, access_denied, expired_token, and tokens once.
func TestDevicePollStates(t *testing.T) {
	clock := FixedClock(t0)
	s := Start(t, Options{Now: clock.Now, MicrosoftErrors: true,
		Clients: []Client{{ID: "mentord-device"}, {ID: "other-device"}, {ID: "no-device", Grants: []string{GrantRefreshToken}}}})
	authorize := func() (deviceCode, userCode string) {
		t.Helper()
		status, _, body := post(t, s.DeviceAuthURL(), url.Values{"client_id": {"mentord-device"}, "scope": {"offline_access mail"}}, "", "")
		if status != 200 {
			t.Fatalf("device authorization: %d %v", status, body)
		}
		if body["expires_in"] != float64(900) || body["interval"] != float64(5) || body["message"] == nil {
			t.Errorf("device authorization = %v", body)
		}
		return body["device_code"].(string), body["user_code"].(string)
	}
	poll := func(code, client string) (int, map[string]any) {
		t.Helper()
		status, _, body := post(t, s.TokenURL(), url.Values{"grant_type": {GrantDeviceCode}, "device_code": {code}, "client_id": {client}}, "", "")
		return status, body
	}
	wantPoll := func(code, want string) map[string]any {
		t.Helper()
		status, body := poll(code, "mentord-device")
		if want == "" {
			if status != 200 {
				t.Fatalf("poll: %d %v, want tokens", status, body)
			}
			return body
		}
		if status != 400 || body["error"] != want {
			t.Fatalf("poll: %d %v, want %s", status, body, want)
		}
		return body
	}

	code, user := authorize()
	if pending := s.DeviceAuthorizations(); len(pending) != 1 || pending[0].UserCode != user || pending[0].ClientID != "mentord-device" {
		t.Errorf("DeviceAuthorizations() = %+v", pending)
	}
	wantPoll(code, "slow_down") // at once: the first poll must wait an interval too; now 10 s
	clock.Advance(5 * time.Second)
	wantPoll(code, "slow_down") // 5 s after the last poll; now 15 s
	clock.Advance(15 * time.Second)
	body := wantPoll(code, "authorization_pending")
	if d := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS70016:") {
		t.Errorf("pending description = %q", d)
	}
	clock.Advance(15 * time.Second)
	wantPoll(code, "authorization_pending")
	clock.Advance(14 * time.Second)
	wantPoll(code, "slow_down")
	if status, body := poll(code, "other-device"); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("another client polls: %d %v", status, body)
	}
	if err := s.Approve(user, daemon); err != nil {
		t.Fatal(err)
	}
	if err := s.Deny(user); err == nil {
		t.Errorf("Deny after Approve = nil error")
	}
	body = wantPoll(code, "") // approved: no wait needed
	if body["refresh_token"] == nil || body["scope"] != "offline_access mail" {
		t.Errorf("tokens = %v", body)
	}
	wantPoll(code, "invalid_grant") // a device code is exchanged once

	code, user = authorize()
	if err := s.Deny(user); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	wantPoll(code, "access_denied")

	code, user = authorize()
	clock.Advance(DefaultDeviceCodeLifetime)
	body = wantPoll(code, "expired_token")
	if d := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS70019:") {
		t.Errorf("expired description = %q", d)
	}
	if err := s.Approve(user, daemon); err == nil {
		t.Errorf("Approve after expiry = nil error")
	}
	if len(s.DeviceAuthorizations()) != 0 {
		t.Errorf("DeviceAuthorizations() = %+v after all expired", s.DeviceAuthorizations())
	}

	wantPoll("no-such-code", "invalid_grant")
	status, _, body := post(t, s.DeviceAuthURL(), url.Values{"client_id": {"no-device"}}, "", "")
	wantError(t, status, body, 400, "unauthorized_client")
	status, _, body = post(t, s.DeviceAuthURL(), url.Values{}, "", "")
	wantError(t, status, body, 400, "invalid_request")
	if err := s.Approve("BCDF-GHJK", daemon); err == nil {
		t.Errorf("Approve(unknown) = nil error")
	}
}

func TestWaitDeviceAuthorizationEndsWithContext(t *testing.T) {
	s := Start(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.WaitDeviceAuthorization(ctx); err == nil {
		t.Errorf("WaitDeviceAuthorization(canceled) = nil error")
	}
}
