package oauth

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// Each provider's answer is turned into what to fix.
func TestTokenErrorsAreExplained(t *testing.T) {
	ms := Config{Provider: Microsoft, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "s"}
	for _, tc := range []struct {
		name   string
		cfg    Config
		status int
		body   map[string]any
		want   []string
	}{
		{"wrong secret", ms, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-12-07 10:00:00Z"},
			[]string{"invalid_client", "AADSTS7000215", "Value"}},
		{"expired secret", ms, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000222: The provided client secret keys for app 'x' are expired."},
			[]string{"expired", "Certificates & secrets"}},
		{"wrong tenant", ms, 400, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: Tenant 'contoso.example' not found."},
			[]string{"oauth.tenant", "Directory (tenant) ID"}},
		{"unknown app", ms, 400, map[string]any{"error": "unauthorized_client", "error_description": "AADSTS700016: Application with identifier 'c' was not found in the directory 'Contoso'."},
			[]string{"oauth.client_id", "Application (client) ID"}},
		{"no consent", ms, 400, map[string]any{"error": "invalid_grant", "error_description": "AADSTS65001: The user or administrator has not consented to use the application."},
			[]string{"Grant admin consent"}},
		{"clock skew", Config{Provider: Microsoft, Grant: GrantClientCredentials, Key: testKey(t)}, 400,
			map[string]any{"error": "invalid_client", "error_description": "AADSTS700024: Client assertion is not within its valid time range."},
			[]string{"clock"}},
		{"google delegation", Config{Provider: Google, Grant: GrantServiceAccount, Scopes: []string{"https://mail.google.com/"}}, 401,
			map[string]any{"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."},
			[]string{"Domain-wide delegation", "https://mail.google.com/"}},
		{"google clock", Config{Provider: Google, Grant: GrantServiceAccount}, 400,
			map[string]any{"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."},
			[]string{"clock"}},
		{"google deleted key", Config{Provider: Google, Grant: GrantServiceAccount}, 400,
			map[string]any{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, []string{"new JSON key"}},
		{"revoked refresh token", Config{Provider: Generic, Grant: GrantRefreshToken}, 400,
			map[string]any{"error": "invalid_grant", "error_description": "Token is not active"}, []string{"mentord oauth login"}},
		{"revoked client", Config{Provider: Generic, Grant: GrantClientCredentials}, 401,
			map[string]any{"error": "invalid_client"}, []string{"client ID or secret"}},
		{"server trouble", Config{Provider: Generic, Grant: GrantClientCredentials}, 503,
			map[string]any{"error": "temporarily_unavailable"}, []string{"retries"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, srv := newRecorder(t)
			r.answer(tc.status, tc.body)
			cfg := tc.cfg
			cfg.TokenURL, cfg.ClientID = srv.URL+"/token", "c"
			if cfg.Key == nil && cfg.Grant == GrantClientCredentials {
				cfg.ClientSecret = "s"
			}
			if cfg.Key != nil {
				cfg.Certificate = testCert(t)
			}
			var err error
			switch cfg.Grant {
			case GrantServiceAccount: // the endpoint's answer matters here, not the key
				err = explainTokenError(cfg, fetchError(t, srv.URL))
			case GrantRefreshToken:
				cfg.RefreshTokenFile = filepath.Join(t.TempDir(), "rt")
				if err := WriteRefreshToken(cfg.RefreshTokenFile, "rt"); err != nil {
					t.Fatal(err)
				}
				fallthrough
			default:
				_, err = mustNew(t, cfg).Token(context.Background())
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "Trace ID") || strings.Contains(err.Error(), "\n") {
				t.Errorf("the description's trace lines were kept: %q", err.Error())
			}
			if e.Temporary() != (tc.status >= 500) {
				t.Errorf("Temporary() = %v for %d", e.Temporary(), tc.status)
			}
		})
	}
}

// fetchError is the endpoint's error as x/oauth2 reports it.
func fetchError(t *testing.T, url string) error {
	s := mustNew(t, Config{Provider: Generic, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "s", TokenURL: url + "/token"})
	_, err := s.fetch(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	return err
}

func TestUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := mustNew(t, Config{Provider: Generic, Grant: GrantClientCredentials, ClientID: "c", ClientSecret: "s", TokenURL: "http://" + addr + "/token"})
	_, err = s.Token(context.Background())
	var e *Error
	if !errors.As(err, &e) || !e.Temporary() || !strings.Contains(err.Error(), "Cannot reach the token endpoint") {
		t.Errorf("Token = %v", err)
	}
}
