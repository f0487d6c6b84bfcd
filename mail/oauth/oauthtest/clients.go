package oauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client is a registered OAuth client (an application registration).
type Client struct {
	ID string
	// Secret is the client secret. A client with neither Secret nor Key is a
	// public client, which names itself by client_id alone (device flow, refresh).
	Secret string
	// Key holds the certificate whose private key signs the client's
	// private_key_jwt assertions. Key.Private may be nil: the server needs only
	// the certificate, but when it knows the private key Secrets lists it.
	Key *Key
	// User is the mailbox a client_credentials token acts as, e.g. daemon@example.test.
	User string
	// Scopes the client may be granted; nil allows any.
	Scopes []string
	// Grants the client may use (Grant* constants); nil allows all.
	Grants []string
}

// ServiceAccount is a Google-style service account for the JWT bearer grant:
// it signs an assertion naming itself as iss and the user to act as as sub.
type ServiceAccount struct {
	Email string
	// Key verifies the assertion's RS256 signature (Key.Private may be nil).
	Key *Key
	// KeyID, when set, must be the assertion header's kid (Google's private_key_id).
	KeyID string
	// Users it may act as (domain-wide delegation); nil allows anyone.
	Users []string
	// Scopes it may be granted; nil allows any.
	Scopes []string
}

// AuthStyle is how a request authenticated its client.
type AuthStyle string

// The client authentication methods (RFC 6749 section 2.3, RFC 7523 section 2.2).
const (
	AuthNone      AuthStyle = "none" // client_id alone (a public client), or no client at all
	AuthBasic     AuthStyle = "client_secret_basic"
	AuthPost      AuthStyle = "client_secret_post"
	AuthAssertion AuthStyle = "private_key_jwt"
)

type client struct {
	Client
	revoked bool            // the current secret was revoked (RevokeSecret)
	old     map[string]bool // secrets rotated out (RotateSecret)
}

// AddClient registers c. A secret or key of c is listed by Secrets from now on.
func (s *Server) AddClient(c Client) error {
	if c.ID == "" {
		return errors.New("oauthtest: a client needs an ID")
	}
	if c.Key != nil && c.Key.Certificate == nil {
		return fmt.Errorf("oauthtest: client %s: its key has no certificate", c.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return fmt.Errorf("oauthtest: client %s is registered already", c.ID)
	}
	c.Scopes, c.Grants = slices.Clone(c.Scopes), slices.Clone(c.Grants)
	s.clients[c.ID] = &client{Client: c, old: map[string]bool{}}
	if c.Secret != "" {
		s.remember("the client secret of "+c.ID, c.Secret)
	}
	if c.Key != nil {
		s.rememberKey("the private key of client "+c.ID, c.Key)
	}
	return nil
}

// AddServiceAccount registers a service account for the JWT bearer grant.
func (s *Server) AddServiceAccount(a ServiceAccount) error {
	if a.Email == "" || a.Key == nil || a.Key.public() == nil {
		return errors.New("oauthtest: a service account needs an Email and a Key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Email]; ok {
		return fmt.Errorf("oauthtest: service account %s is registered already", a.Email)
	}
	a.Users, a.Scopes = slices.Clone(a.Users), slices.Clone(a.Scopes)
	s.accounts[a.Email] = &a
	s.rememberKey("the private key of service account "+a.Email, a.Key)
	return nil
}

// RotateSecret gives client id a new random secret and returns it; the old
// one gets invalid_client from now on.
func (s *Server) RotateSecret(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return "", fmt.Errorf("oauthtest: no client %s", id)
	}
	if c.Secret != "" {
		c.old[c.Secret] = true
	}
	c.Secret = "oauthtest-secret-" + randomString(24)
	c.revoked = false
	s.remember("the rotated client secret of "+id, c.Secret)
	return c.Secret, nil
}

// RevokeSecret makes the current secret of client id fail with
// invalid_client (with MicrosoftErrors: AADSTS7000222, an expired secret,
// which is how a secret usually stops working there).
func (s *Server) RevokeSecret(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return fmt.Errorf("oauthtest: no client %s", id)
	}
	c.revoked = true
	return nil
}

// authenticate finds and checks the client of a token or device authorization
// request. It returns a nil client, and no error, when the request names none.
func (s *Server) authenticate(r *http.Request, form url.Values) (*client, AuthStyle, *oauthError) {
	user, pass, basic, err := basicAuth(r)
	if err != nil {
		return nil, AuthBasic, errInvalidClient(err.Error()).basic()
	}
	secret, assertion := form.Get("client_secret"), form.Get("client_assertion")
	assertionType := form.Get("client_assertion_type")
	id := form.Get("client_id")
	switch {
	case basic && (secret != "" || assertion != "" || assertionType != ""):
		return nil, AuthBasic, errInvalidRequest("the client authenticated in more than one way (HTTP Basic and the request body); RFC 6749 section 2.3 allows one")
	case basic && id != "" && id != user:
		return nil, AuthBasic, errInvalidRequest(fmt.Sprintf("client_id %q differs from the HTTP Basic user %q", id, user))
	case basic && pass == "":
		// A public client in HTTP Basic with an empty password, as
		// x/oauth2 sends it with AuthStyleInHeader: it names itself.
		c, e := s.publicClient(user)
		if e != nil {
			e = e.basic()
		}
		return c, AuthBasic, e
	case basic:
		c, e := s.checkSecret(user, pass)
		if e != nil {
			e = e.basic()
		}
		return c, AuthBasic, e
	case assertion != "" || assertionType != "":
		if secret != "" {
			return nil, AuthAssertion, errInvalidRequest("the client sent both client_secret and client_assertion; RFC 6749 section 2.3 allows one")
		}
		c, e := s.checkAssertion(id, assertionType, assertion)
		return c, AuthAssertion, e
	case secret != "":
		if id == "" {
			return nil, AuthPost, errInvalidRequest("client_secret without client_id")
		}
		c, e := s.checkSecret(id, secret)
		return c, AuthPost, e
	case id != "":
		c, e := s.publicClient(id)
		return c, AuthNone, e
	}
	return nil, AuthNone, nil
}

// publicClient finds a client that names itself without credentials, which
// only a public client may do.
func (s *Server) publicClient(id string) (*client, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errUnknownClient(id)
	}
	if !c.public() {
		return nil, errInvalidClient("the client is confidential and sent no credentials").
			ms(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	return c, nil
}

// basicAuth decodes an HTTP Basic Authorization header, undoing the
// form-urlencoding of RFC 6749 section 2.3.1.
func basicAuth(r *http.Request) (user, pass string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, fmt.Errorf("unsupported Authorization scheme %q (the token endpoint takes HTTP Basic)", scheme)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", true, errors.New("the HTTP Basic credentials are not base64")
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", true, errors.New("the HTTP Basic credentials have no ':'")
	}
	if user, err = url.QueryUnescape(u); err != nil {
		return "", "", true, errors.New("the HTTP Basic user is not form-urlencoded (RFC 6749 section 2.3.1)")
	}
	if pass, err = url.QueryUnescape(p); err != nil {
		return "", "", true, errors.New("the HTTP Basic password is not form-urlencoded (RFC 6749 section 2.3.1)")
	}
	return user, pass, true, nil
}

func (s *Server) checkSecret(id, secret string) (*client, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	switch {
	case !ok:
		return nil, errUnknownClient(id)
	case c.Secret == "":
		return nil, errInvalidClient("the client has no secret").
			ms(7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", id))
	case subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1:
		what := "invalid client secret"
		if c.old[secret] {
			what = "the client secret was rotated out"
		}
		return nil, errInvalidClient(what).
			ms(7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", id))
	case c.revoked:
		return nil, errInvalidClient("the client secret was revoked").
			ms(7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", id))
	}
	return c, nil
}

func errUnknownClient(id string) *oauthError {
	return errInvalidClient(fmt.Sprintf("unknown client %q", id)).
		ms(700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory 'oauthtest'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", id))
}

func (c *client) allows(grant string) bool {
	return c.Grants == nil || slices.Contains(c.Grants, grant)
}

// public reports whether c names itself by client_id alone.
func (c *client) public() bool { return c.Secret == "" && c.Key == nil }

// Key is an RSA key pair with a self-signed certificate, as a client or
// service account holds it.
type Key struct {
	Private     *rsa.PrivateKey
	Certificate *x509.Certificate
}

// NewKey generates an RSA-2048 key and a self-signed certificate for it
// (subject CN=name, valid from an hour ago for a year).
func NewKey(name string) (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Key{Private: priv, Certificate: cert}, nil
}

// Thumbprint is the certificate's x5t: base64url of its DER's SHA-1 (RFC 7515
// section 4.1.7), which Microsoft's private_key_jwt header carries.
func (k *Key) Thumbprint() string {
	sum := sha1.Sum(k.Certificate.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PrivateKeyPEM is the private key as a PKCS #8 "PRIVATE KEY" PEM block.
func (k *Key) PrivateKeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		panic(fmt.Sprintf("oauthtest: marshal an RSA key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// CertificatePEM is the certificate as a PEM block.
func (k *Key) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw})
}

func (k *Key) public() *rsa.PublicKey {
	switch {
	case k == nil:
		return nil
	case k.Certificate != nil:
		pub, _ := k.Certificate.PublicKey.(*rsa.PublicKey)
		return pub
	case k.Private != nil:
		return &k.Private.PublicKey
	}
	return nil
}
