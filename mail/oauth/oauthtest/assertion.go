package oauthtest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionSkew is how far a client's clock may run ahead of the server's for
// nbf and iat (Microsoft and Google tolerate a few minutes).
const assertionSkew = time.Minute

// maxGrantAssertion is the longest a JWT bearer grant assertion may be valid:
// Google refuses an exp more than an hour after iat.
const maxGrantAssertion = time.Hour

type assertionClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"`
	Prn   string `json:"prn,omitempty"` // the old name of sub, which x/oauth2/jwt also sends
}

// parseJWT decodes a JWT without verifying it.
func parseJWT(raw string) (header map[string]any, claims *assertionClaims, err error) {
	claims = &assertionClaims{}
	t, _, err := jwt.NewParser().ParseUnverified(raw, claims)
	if err != nil {
		return nil, nil, fmt.Errorf("not a JWT: %w", err)
	}
	return t.Header, claims, nil
}

// verifySignature checks that raw is signed RS256 by key. Claims are checked
// by the callers, so that each failure gets its own description.
func verifySignature(raw string, key *Key) error {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(raw, &assertionClaims{}, func(*jwt.Token) (any, error) { return key.public(), nil })
	return err
}

// checkAssertion authenticates a client by a private_key_jwt assertion as
// Microsoft's certificate credentials: RS256, header x5t = the certificate's
// SHA-1 thumbprint, aud = the token URL, iss = sub = client_id, exp, nbf and a
// jti never seen before.
func (s *Server) checkAssertion(id, typ, raw string) (*client, *oauthError) {
	if typ != ClientAssertionType {
		return nil, errInvalidClient(fmt.Sprintf("client_assertion_type %q is not %s", typ, ClientAssertionType)).
			ms(50027, "JWT token is invalid or malformed: client_assertion_type must be "+ClientAssertionType+".")
	}
	if raw == "" {
		return nil, errInvalidRequest("client_assertion_type without client_assertion")
	}
	header, claims, err := parseJWT(raw)
	if err != nil {
		return nil, errInvalidClient("client_assertion is "+err.Error()).ms(50027, "JWT token is invalid or malformed.")
	}
	if id == "" {
		id = claims.Issuer // RFC 7523 section 3: client_id may be left out
	}
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil {
		return nil, errUnknownClient(id)
	}
	if c.Key == nil {
		return nil, errInvalidClient("the client has no registered certificate").
			ms(700027, "Client assertion failed signature validation. [Reason - The key was not found.]")
	}
	if x5t, _ := header["x5t"].(string); x5t != c.Key.Thumbprint() {
		return nil, errInvalidClient(fmt.Sprintf("client_assertion header x5t %q is not the thumbprint %q of the registered certificate", x5t, c.Key.Thumbprint())).
			ms(700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s']", x5t))
	}
	if err := verifySignature(raw, c.Key); err != nil {
		return nil, errInvalidClient("client_assertion failed signature validation: "+err.Error()).
			ms(700027, "Client assertion failed signature validation.")
	}
	now := s.now()
	switch {
	case !slices.Contains(claims.Audience, s.TokenURL()):
		return nil, errInvalidClient(fmt.Sprintf("client_assertion aud %q is not the token URL %s", claims.Audience, s.TokenURL())).
			ms(700023, "Client assertion audience claim does not match Realm issuer.")
	case claims.Issuer != id || claims.Subject != id:
		return nil, errInvalidClient(fmt.Sprintf("client_assertion iss %q and sub %q must both be the client_id %q", claims.Issuer, claims.Subject, id)).
			ms(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	case claims.ExpiresAt == nil || claims.NotBefore == nil:
		return nil, errInvalidClient("client_assertion lacks exp or nbf").
			ms(700024, "Client assertion is not within its valid time range: it must have exp and nbf.")
	case !now.Before(claims.ExpiresAt.Time) || claims.NotBefore.After(now.Add(assertionSkew)):
		return nil, errInvalidClient(fmt.Sprintf("client_assertion is valid from %s to %s, not at %s",
			claims.NotBefore.UTC().Format(time.RFC3339), claims.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))).
			ms(700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
				now.UTC().Format("2006-01-02T15:04:05.0000000Z"), claims.NotBefore.UTC().Format("2006-01-02T15:04:05.0000000Z"), claims.ExpiresAt.UTC().Format("2006-01-02T15:04:05.0000000Z")))
	case claims.ID == "":
		return nil, errInvalidClient("client_assertion lacks jti").
			ms(70002, "Error validating credentials: the client assertion must have a jti claim.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, exp := range s.jtis {
		if !now.Before(exp) {
			delete(s.jtis, j)
		}
	}
	key := id + "\x00" + claims.ID
	if _, used := s.jtis[key]; used {
		return nil, errInvalidClient(fmt.Sprintf("client_assertion jti %q was used before", claims.ID)).
			ms(70002, fmt.Sprintf("Error validating credentials: the client assertion with jti '%s' was already used.", claims.ID))
	}
	s.jtis[key] = claims.ExpiresAt.Time
	return c, nil
}

// googleError is an error of Google's token endpoint, which the JWT bearer
// grant mimics whatever Options.MicrosoftErrors says.
func googleError(code, description string) *oauthError {
	status := 400
	if code == "invalid_client" {
		status = 401
	}
	return &oauthError{status: status, code: code, description: description}
}

const (
	googleBadSignature = "Invalid JWT Signature."
	googleBadTime      = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
	googleUnauthorized = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
)

// checkGrantAssertion verifies a JWT bearer grant assertion (RFC 7523 section
// 2.1) as Google checks a service account's: RS256 by the account's key (kid
// = KeyID when set), iss = the account, aud = the token URL, iat and exp at
// most an hour apart and around now, sub a user it may act as. It returns the
// subject and scopes of the token to issue.
func (s *Server) checkGrantAssertion(raw, formScope string) (subject string, scopes []string, e *oauthError) {
	header, claims, err := parseJWT(raw)
	if err != nil {
		return "", nil, googleError("invalid_grant", "Invalid JWT: the assertion is "+err.Error())
	}
	s.mu.Lock()
	acct := s.accounts[claims.Issuer]
	s.mu.Unlock()
	if acct == nil {
		return "", nil, googleError("invalid_grant", googleBadSignature)
	}
	if kid, _ := header["kid"].(string); acct.KeyID != "" && kid != acct.KeyID {
		return "", nil, googleError("invalid_grant", googleBadSignature)
	}
	if verifySignature(raw, acct.Key) != nil {
		return "", nil, googleError("invalid_grant", googleBadSignature)
	}
	if !slices.Contains(claims.Audience, s.TokenURL()) {
		return "", nil, googleError("invalid_grant", "Invalid JWT: Failed audience check. The right audience is "+s.TokenURL())
	}
	now := s.now()
	if claims.IssuedAt == nil || claims.ExpiresAt == nil ||
		claims.ExpiresAt.Sub(claims.IssuedAt.Time) > maxGrantAssertion ||
		claims.IssuedAt.After(now.Add(assertionSkew)) || !now.Before(claims.ExpiresAt.Time) {
		return "", nil, googleError("invalid_grant", googleBadTime)
	}
	subject = claims.Subject
	if subject == "" {
		subject = claims.Prn
	}
	if subject == "" {
		subject = acct.Email
	} else if acct.Users != nil && !slices.ContainsFunc(acct.Users, func(u string) bool { return strings.EqualFold(u, subject) }) {
		return "", nil, googleError("unauthorized_client", googleUnauthorized)
	}
	scope := claims.Scope
	if scope == "" {
		scope = formScope
	}
	scopes = strings.Fields(scope)
	if len(scopes) == 0 {
		return "", nil, googleError("invalid_scope", "Empty or missing scope not allowed.")
	}
	for _, sc := range scopes {
		if acct.Scopes != nil && !slices.Contains(acct.Scopes, sc) {
			return "", nil, googleError("unauthorized_client", googleUnauthorized)
		}
	}
	return subject, scopes, nil
}
