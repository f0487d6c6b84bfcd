package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// LoginPrompt is what the person signing in must do, on any device.
type LoginPrompt struct {
	URL         string    // where to go
	Code        string    // what to type there
	CompleteURL string    // the URL with the code in it, when the server gives one
	Expires     time.Time // when the code stops working
}

// Login runs the device authorization grant (RFC 8628) for GrantRefreshToken:
// it asks the server for a code, hands it to prompt, waits while the person
// signs in elsewhere, and stores the refresh token in the refresh token file.
func (s *Source) Login(ctx context.Context, prompt func(LoginPrompt)) error {
	if s.cfg.Grant != GrantRefreshToken {
		return fmt.Errorf("oauth login is for grant refresh_token; with grant %s mentord signs in by itself", s.cfg.Grant)
	}
	if s.cfg.DeviceAuthURL == "" {
		return errors.New("oauth login needs oauth.device_authorization_url (the OAuth server's device authorization endpoint)")
	}
	conf := s.oauth2Config()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		e := explainTokenError(s.cfg, err)
		e.Op = "device authorization at " + endpointHost(s.cfg.DeviceAuthURL)
		return e
	}
	prompt(LoginPrompt{URL: da.VerificationURI, Code: da.UserCode, CompleteURL: da.VerificationURIComplete, Expires: da.Expiry})
	tok, err := conf.DeviceAccessToken(ctx, da)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return &Error{Op: "sign-in", Err: errors.New("the code expired before anyone signed in"), Hint: "run mentord oauth login again"}
		}
		return explainTokenError(s.cfg, err)
	}
	if tok.RefreshToken == "" {
		return &Error{Op: "sign-in", Err: errors.New("the server issued no refresh token"),
			Hint: "ask for one: add offline_access to oauth.scopes (Microsoft), or allow refresh tokens for this client"}
	}
	if err := WriteRefreshToken(s.cfg.RefreshTokenFile, tok.RefreshToken); err != nil {
		return fmt.Errorf("store the refresh token in %s: %w", s.cfg.RefreshTokenFile, err)
	}
	s.mu.Lock()
	s.tok, s.lifetime = tok, max(time.Until(tok.Expiry), time.Second)
	s.state.ValidUntil, s.state.LastRefresh = tok.Expiry, time.Now()
	s.mu.Unlock()
	return nil
}
