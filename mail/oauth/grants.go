package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/google"
)

// assertionType is RFC 7523's client assertion type for a signed JWT.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authStyle is how the client authenticates at the token endpoint: Microsoft
// documents the secret in the form body, and a public client (no secret) or a
// certificate sends its ID there; elsewhere x/oauth2 tries HTTP Basic first
// (RFC 6749 section 2.3.1) and the body if that is refused.
func (s *Source) authStyle() oauth2.AuthStyle {
	if s.cfg.Provider == Microsoft || s.cfg.Key != nil || s.cfg.ClientSecret == "" {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// clientCredentials is the app-only grant, with a secret or a certificate.
func (s *Source) clientCredentials() (func(context.Context) (*oauth2.Token, error), error) {
	c := s.cfg
	if c.TokenURL == "" || c.ClientID == "" {
		return nil, errors.New("client credentials need a token URL and a client ID")
	}
	if c.Key == nil {
		if c.ClientSecret == "" {
			return nil, errors.New("client credentials need a client secret or a certificate")
		}
		cc := &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL,
			Scopes: c.Scopes, AuthStyle: s.authStyle()}
		return cc.Token, nil
	}
	if c.Certificate == nil {
		return nil, errors.New("a certificate credential needs the certificate as well as its key")
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		assertion, err := s.clientAssertion()
		if err != nil {
			return nil, err
		}
		// A new assertion for every request: each is short-lived and single-use.
		cc := &clientcredentials.Config{ClientID: c.ClientID, TokenURL: c.TokenURL, Scopes: c.Scopes,
			AuthStyle:      oauth2.AuthStyleInParams,
			EndpointParams: url.Values{"client_assertion_type": {assertionType}, "client_assertion": {assertion}}}
		return cc.Token(ctx)
	}, nil
}

// clientAssertion signs the JWT that stands for a client secret (RFC 7523
// section 2.2; Microsoft's "certificate credentials"): issuer and subject the
// client ID, audience the token endpoint, valid for ten minutes, and the
// certificate's thumbprints in the header so the server finds its key.
func (s *Source) clientAssertion() (string, error) {
	c := s.cfg
	now := time.Now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: c.ClientID, Subject: c.ClientID, Audience: jwt.ClaimStrings{c.TokenURL},
		ID: hex.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	})
	sum1 := sha1.Sum(c.Certificate.Raw) // the thumbprint Microsoft shows and matches
	sum256 := sha256.Sum256(c.Certificate.Raw)
	tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(sum1[:])
	tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sum256[:])
	signed, err := tok.SignedString(c.Key)
	if err != nil {
		return "", fmt.Errorf("sign the client assertion: %w", err)
	}
	return signed, nil
}

// serviceAccount is Google's service account acting as the mailbox.
func (s *Source) serviceAccount() (func(context.Context) (*oauth2.Token, error), error) {
	c := s.cfg
	if c.Subject == "" {
		return nil, errors.New("a service account needs the mailbox to act as")
	}
	jc, err := google.JWTConfigFromJSON(c.ServiceAccountJSON, c.Scopes...)
	if err != nil {
		return nil, errors.New("the service account key is not a valid JSON key file")
	}
	jc.Subject = c.Subject
	if c.TokenURL != "" {
		jc.TokenURL = c.TokenURL
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		return jc.TokenSource(ctx).Token() // a new source: always a new request
	}, nil
}

// oauth2Config is the client for the refresh token and device grants.
func (s *Source) oauth2Config() *oauth2.Config {
	c := s.cfg
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, DeviceAuthURL: c.DeviceAuthURL, AuthStyle: s.authStyle()}}
}

// refreshGrant trades the stored refresh token for an access token and keeps
// the new refresh token when the server rotates it.
func (s *Source) refreshGrant() (func(context.Context) (*oauth2.Token, error), error) {
	if s.cfg.TokenURL == "" || s.cfg.ClientID == "" {
		return nil, errors.New("the refresh token grant needs a token URL and a client ID")
	}
	if s.rt.file == "" {
		return nil, errors.New("the refresh token grant needs a file to keep the refresh token in")
	}
	conf := s.oauth2Config()
	return func(ctx context.Context) (*oauth2.Token, error) {
		rt, err := s.rt.load()
		if err != nil {
			return nil, err
		}
		// A token holding only the refresh token is expired: it is refreshed at once.
		tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			return nil, err
		}
		if tok.RefreshToken != "" && tok.RefreshToken != rt {
			s.rt.rotated(tok.RefreshToken)
		}
		return tok, nil
	}, nil
}
