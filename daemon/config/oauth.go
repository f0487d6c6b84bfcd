package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// OAuth providers.
const (
	ProviderMicrosoft = "microsoft"
	ProviderGoogle    = "google"
	ProviderGeneric   = "generic"
)

// OAuth grants: how mentord obtains its access tokens.
const (
	// GrantClientCredentials is app-only access (RFC 6749 section 4.4): the
	// application's own secret or certificate, granted the mailbox by an admin.
	GrantClientCredentials = "client_credentials"
	// GrantServiceAccount is Google's service account with domain-wide
	// delegation, acting as the programme mailbox (RFC 7523 JWT bearer).
	GrantServiceAccount = "service_account"
	// GrantRefreshToken is delegated access: a refresh token a person granted
	// once, with `mentord oauth login` (RFC 8628) or from elsewhere.
	GrantRefreshToken = "refresh_token"
)

// SASL mechanisms that carry an OAuth 2.0 access token.
const (
	AuthXOAUTH2     = "xoauth2"
	AuthOAuthBearer = "oauthbearer"
)

// IsOAuthMechanism reports whether auth (an smtp.auth or imap.auth value) signs in with a token.
func IsOAuthMechanism(auth string) bool { return auth == AuthXOAUTH2 || auth == AuthOAuthBearer }

// OAuth is the one identity (the programme mailbox) that SMTP and IMAP sign in
// as with OAuth 2.0, and where its tokens come from.
type OAuth struct {
	Provider string   `yaml:"provider"` // microsoft, google, generic; empty: no OAuth
	Grant    string   `yaml:"grant"`
	Tenant   string   `yaml:"tenant"` // microsoft: the directory (tenant) ID or a verified domain
	ClientID string   `yaml:"client_id"`
	TokenURL string   `yaml:"token_url"`
	Scopes   []string `yaml:"scopes"`
	// DeviceAuthorizationURL is where `mentord oauth login` starts (RFC 8628).
	DeviceAuthorizationURL   string `yaml:"device_authorization_url"`
	ClientSecretFile         string `yaml:"client_secret_file"`
	ClientSecretCredential   string `yaml:"client_secret_credential"`
	ClientCertificateFile    string `yaml:"client_certificate_file"`
	ClientKeyFile            string `yaml:"client_key_file"`
	ClientKeyCredential      string `yaml:"client_key_credential"`
	ServiceAccountFile       string `yaml:"service_account_file"`
	ServiceAccountCredential string `yaml:"service_account_credential"`
	// RefreshTokenFile holds the refresh token of grant refresh_token; mentord
	// writes it (oauth login, and whenever the server rotates it). Default:
	// oauth-refresh-token next to the database, in the state directory.
	RefreshTokenFile string `yaml:"refresh_token_file"`
	// CAFile is a PEM bundle to trust for token_url instead of the system's.
	CAFile string `yaml:"ca_file"`

	// Read by Load from the files and credentials above.
	ClientSecret      Secret            `yaml:"-"`
	ClientKey         Secret            `yaml:"-"` // PEM
	ClientCertificate *x509.Certificate `yaml:"-"`
	ServiceAccount    Secret            `yaml:"-"` // the JSON key file
	RootCAs           *x509.CertPool    `yaml:"-"`
}

// Enabled reports whether an OAuth provider is configured.
func (o *OAuth) Enabled() bool { return o.Provider != "" }

// Preset is what a provider fills in when it is left out.
type Preset struct {
	IMAPHost, SMTPHost      string
	IMAPPort, SMTPPort      int
	IMAPTLS, SMTPTLS        TLSMode
	MaxPerMinute, MaxPerDay int
}

// Presets are the providers' published endpoints and sending limits:
// Exchange Online (learn.microsoft.com, "Exchange Online limits": 30 messages
// a minute, 10,000 recipients a day) and Google Workspace ("Gmail sending
// limits in Google Workspace": 2,000 messages a day).
var Presets = map[string]Preset{
	ProviderMicrosoft: {IMAPHost: "outlook.office365.com", IMAPPort: 993, IMAPTLS: TLSImplicit,
		SMTPHost: "smtp.office365.com", SMTPPort: 587, SMTPTLS: TLSStartTLS, MaxPerMinute: 30, MaxPerDay: 10000},
	ProviderGoogle: {IMAPHost: "imap.gmail.com", IMAPPort: 993, IMAPTLS: TLSImplicit,
		SMTPHost: "smtp.gmail.com", SMTPPort: 465, SMTPTLS: TLSImplicit, MaxPerDay: 2000},
}

// Scopes and endpoints of the providers.
const (
	MicrosoftAppScope   = "https://outlook.office365.com/.default"
	GoogleMailScope     = "https://mail.google.com/"
	GoogleTokenURL      = "https://oauth2.googleapis.com/token"
	GoogleDeviceAuthURL = "https://oauth2.googleapis.com/device/code"
)

// MicrosoftDelegatedScopes are what a person grants for IMAP and SMTP with
// grant refresh_token; offline_access asks for the refresh token.
var MicrosoftDelegatedScopes = []string{
	"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access",
}

// microsoftEndpoint returns the tenant's v2.0 endpoint ("token" or "devicecode").
func microsoftEndpoint(tenant, what string) string {
	return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/oauth2/v2.0/" + what
}

// applyProvider fills what the provider implies, before the generic defaults
// (ports from TLS modes), and records each filled value for check-config.
func (c *Config) applyProvider() {
	o := &c.OAuth
	o.Provider = strings.ToLower(strings.TrimSpace(o.Provider))
	if !o.Enabled() {
		return
	}
	if p, ok := Presets[o.Provider]; ok {
		c.fillServer("imap", &c.IMAP.Server, p.IMAPHost, p.IMAPPort, p.IMAPTLS)
		c.fillServer("smtp", &c.SMTP.Server, p.SMTPHost, p.SMTPPort, p.SMTPTLS)
		if c.SMTP.MaxPerMinute == 0 && p.MaxPerMinute > 0 {
			c.SMTP.MaxPerMinute = p.MaxPerMinute
			c.fill("smtp.max_per_minute", fmt.Sprint(p.MaxPerMinute))
		}
		if c.SMTP.MaxRecipientsPerDay == 0 && p.MaxPerDay > 0 {
			c.SMTP.MaxRecipientsPerDay = p.MaxPerDay
			c.fill("smtp.max_recipients_per_day", fmt.Sprint(p.MaxPerDay))
		}
	}
	if c.SMTP.Auth == "" {
		c.SMTP.Auth = AuthXOAUTH2
		c.fill("smtp.auth", AuthXOAUTH2)
	}
	if c.IMAP.Auth == "" {
		c.IMAP.Auth = AuthXOAUTH2
		c.fill("imap.auth", AuthXOAUTH2)
	}
	if IsOAuthMechanism(c.SMTP.Auth) && c.SMTP.Username == "" {
		c.SMTP.Username = cmpOr(c.IMAP.Username, c.Mailbox.Address)
	}
	if o.Grant == "" {
		o.Grant = GrantClientCredentials
		if o.Provider == ProviderGoogle {
			o.Grant = GrantServiceAccount
		}
		c.fill("oauth.grant", o.Grant)
	}
	switch {
	case o.TokenURL != "":
	case o.Provider == ProviderMicrosoft && o.Tenant != "":
		o.TokenURL = microsoftEndpoint(o.Tenant, "token")
		c.fill("oauth.token_url", o.TokenURL)
	case o.Provider == ProviderGoogle && o.Grant == GrantRefreshToken:
		o.TokenURL = GoogleTokenURL
		c.fill("oauth.token_url", o.TokenURL)
	}
	if o.DeviceAuthorizationURL == "" && o.Grant == GrantRefreshToken {
		switch {
		case o.Provider == ProviderMicrosoft && o.Tenant != "":
			o.DeviceAuthorizationURL = microsoftEndpoint(o.Tenant, "devicecode")
		case o.Provider == ProviderGoogle:
			o.DeviceAuthorizationURL = GoogleDeviceAuthURL
		}
	}
	if len(o.Scopes) == 0 {
		switch {
		case o.Provider == ProviderMicrosoft && o.Grant == GrantRefreshToken:
			o.Scopes = MicrosoftDelegatedScopes
		case o.Provider == ProviderMicrosoft:
			o.Scopes = []string{MicrosoftAppScope}
		case o.Provider == ProviderGoogle:
			o.Scopes = []string{GoogleMailScope}
		}
		if len(o.Scopes) > 0 {
			c.fill("oauth.scopes", strings.Join(o.Scopes, " "))
		}
	}
	if o.RefreshTokenFile == "" && o.Grant == GrantRefreshToken {
		o.RefreshTokenFile = "oauth-refresh-token" // next to the database: resolvePaths
	}
}

// fillServer fills an unset server section from a provider's preset.
func (c *Config) fillServer(sect string, s *Server, host string, port int, tls TLSMode) {
	if s.Host != "" {
		return
	}
	s.Host, s.TLS = host, tls
	if s.Port == 0 {
		s.Port = port
	}
	c.fill(sect, fmt.Sprintf("%s:%d tls=%s", s.Host, s.Port, s.TLS))
}

func (c *Config) fill(key, value string) {
	c.Filled = append(c.Filled, Filled{Key: key, Value: value, From: "oauth.provider " + c.OAuth.Provider})
}

// Filled is a value the configuration did not give and a preset filled in.
type Filled struct {
	Key, Value, From string
}

// oauth checks the oauth section and the sign-in mechanisms that use it.
func (k *checker) oauth() {
	c := k.c
	o := &c.OAuth
	for _, m := range []struct{ path, auth string }{{"smtp.auth", c.SMTP.Auth}, {"imap.auth", c.IMAP.Auth}} {
		if IsOAuthMechanism(m.auth) && !o.Enabled() {
			k.errorf(m.path, "%s needs the oauth section (oauth.provider: microsoft, google or generic)", m.auth)
		}
	}
	if !o.Enabled() {
		if set := o.setKeys(); len(set) > 0 {
			k.errorf("oauth.provider", "required when oauth.%s is set: microsoft, google or generic", set[0])
		}
		return
	}
	if !slices.Contains([]string{ProviderMicrosoft, ProviderGoogle, ProviderGeneric}, o.Provider) {
		k.errorf("oauth.provider", "must be microsoft, google or generic, not %q", o.Provider)
		return
	}
	if IsOAuthMechanism(c.SMTP.Auth) && IsOAuthMechanism(c.IMAP.Auth) && !strings.EqualFold(c.SMTP.Username, c.IMAP.Username) {
		k.errorf("smtp.username", "with OAuth, smtp and imap sign in as the same mailbox (one token): %s is not imap.username %s",
			c.SMTP.Username, c.IMAP.Username)
	}
	grants := map[string][]string{
		ProviderMicrosoft: {GrantClientCredentials, GrantRefreshToken},
		ProviderGoogle:    {GrantServiceAccount, GrantRefreshToken},
		ProviderGeneric:   {GrantClientCredentials, GrantRefreshToken},
	}[o.Provider]
	if !slices.Contains(grants, o.Grant) {
		k.errorf("oauth.grant", "must be %s with provider %s, not %q", strings.Join(grants, " or "), o.Provider, o.Grant)
		return
	}
	need := func(key, value, why string) {
		if strings.TrimSpace(value) == "" {
			k.errorf("oauth."+key, "required %s", why)
		}
	}
	unused := func(key, value, why string) {
		if value != "" {
			k.errorf("oauth."+key, "not used %s; remove it", why)
		}
	}
	with := fmt.Sprintf("with provider %s and grant %s", o.Provider, o.Grant)
	secret := o.ClientSecretFile != "" || o.ClientSecretCredential != ""
	cert := o.ClientCertificateFile != ""
	switch o.Provider {
	case ProviderMicrosoft:
		need("tenant", o.Tenant, "with provider microsoft: the directory (tenant) ID from the app registration's overview, or the organisation's domain")
		if strings.ContainsAny(o.Tenant, "/?#@ ") {
			k.errorf("oauth.tenant", "%q is not a tenant ID or domain (like contoso.onmicrosoft.com or a GUID)", o.Tenant)
		}
		need("client_id", o.ClientID, "with provider microsoft: the application (client) ID of the app registration")
	case ProviderGoogle:
		unused("tenant", o.Tenant, "with provider google")
	case ProviderGeneric:
		unused("tenant", o.Tenant, "with provider generic")
		need("token_url", o.TokenURL, "with provider generic: the OAuth 2.0 server's token endpoint")
		need("client_id", o.ClientID, "with provider generic")
	}
	switch o.Grant {
	case GrantClientCredentials:
		if !secret && !cert {
			k.errorf("oauth.client_secret_file", "required %s: give client_secret_file, client_secret_credential, or client_certificate_file with its key", with)
		}
		if secret && cert {
			k.errorf("oauth.client_certificate_file", "give a client secret or a certificate, not both")
		}
		unused("refresh_token_file", o.RefreshTokenFile, with)
		unused("device_authorization_url", o.DeviceAuthorizationURL, with)
	case GrantServiceAccount:
		if o.ServiceAccountFile == "" && o.ServiceAccountCredential == "" {
			k.errorf("oauth.service_account_file", "required %s: the service account's JSON key (or service_account_credential)", with)
		}
		unused("client_id", o.ClientID, with+" (the key file names its client)")
		unused("client_secret_file", o.ClientSecretFile, with)
		unused("client_secret_credential", o.ClientSecretCredential, with)
		unused("client_certificate_file", o.ClientCertificateFile, with)
	case GrantRefreshToken:
		need("client_id", o.ClientID, with)
		if o.Provider == ProviderGoogle && !secret {
			k.errorf("oauth.client_secret_file", "required %s: Google's OAuth clients always have a secret", with)
		}
	}
	if o.Grant != GrantServiceAccount {
		unused("service_account_file", o.ServiceAccountFile, with)
		unused("service_account_credential", o.ServiceAccountCredential, with)
	}
	if !cert {
		unused("client_key_file", o.ClientKeyFile, "without client_certificate_file")
		unused("client_key_credential", o.ClientKeyCredential, "without client_certificate_file")
	}
	k.secretSource("oauth.client_secret", o.ClientSecretFile, o.ClientSecretCredential)
	k.secretSource("oauth.client_key", o.ClientKeyFile, o.ClientKeyCredential)
	k.secretSource("oauth.service_account", o.ServiceAccountFile, o.ServiceAccountCredential)
	k.endpoint("oauth.token_url", o.TokenURL)
	k.endpoint("oauth.device_authorization_url", o.DeviceAuthorizationURL)
	for i, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			k.errorf("oauth.scopes", "scope %d (%q) must be one word without spaces or quotes", i+1, s)
		}
	}
	for _, m := range []struct{ sect string }{{"smtp"}, {"imap"}} {
		s := &c.SMTP.Server
		if m.sect == "imap" {
			s = &c.IMAP.Server
		}
		auth := c.SMTP.Auth
		if m.sect == "imap" {
			auth = c.IMAP.Auth
		}
		if IsOAuthMechanism(auth) && (s.PasswordFile != "" || s.PasswordCredential != "") {
			k.errorf(m.sect+".password_file", "not used with %s.auth %s (it signs in with an OAuth token); remove it", m.sect, auth)
		}
	}
}

// setKeys names the oauth keys that have a value.
func (o *OAuth) setKeys() []string {
	var set []string
	for key, v := range map[string]string{
		"grant": o.Grant, "tenant": o.Tenant, "client_id": o.ClientID, "token_url": o.TokenURL,
		"device_authorization_url": o.DeviceAuthorizationURL, "client_secret_file": o.ClientSecretFile,
		"client_secret_credential": o.ClientSecretCredential, "client_certificate_file": o.ClientCertificateFile,
		"client_key_file": o.ClientKeyFile, "client_key_credential": o.ClientKeyCredential,
		"service_account_file": o.ServiceAccountFile, "service_account_credential": o.ServiceAccountCredential,
		"refresh_token_file": o.RefreshTokenFile, "ca_file": o.CAFile,
	} {
		if v != "" {
			set = append(set, key)
		}
	}
	if len(o.Scopes) > 0 {
		set = append(set, "scopes")
	}
	slices.Sort(set)
	return set
}

// secretSource checks that a secret has at most one source and that a
// credential is a name, not a path.
func (k *checker) secretSource(key, file, cred string) {
	switch {
	case file != "" && cred != "":
		k.errorf(key+"_credential", "give either %s_file or %s_credential, not both", lastKey(key), lastKey(key))
	case cred != "" && (strings.ContainsAny(cred, "/\\") || cred == "." || cred == ".."):
		k.errorf(key+"_credential", "must be a credential name (as in LoadCredential=NAME:...), not a path")
	}
}

func lastKey(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// endpoint checks an OAuth endpoint: https, or http only on loopback (tests,
// a local proxy); a token must never cross a network in clear text.
func (k *checker) endpoint(key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		k.errorf(key, "%q is not an absolute https URL", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		k.errorf(key, "must be an https URL (http only on loopback), not %q", raw)
	}
}

// loadOAuthSecrets reads the client secret, the certificate and its key, or the
// service account key, checking each as far as can be done offline.
func (c *Config) loadOAuthSecrets(k *checker) {
	o := &c.OAuth
	if !o.Enabled() {
		return
	}
	k.loadSecret("oauth.client_secret", o.ClientSecretFile, o.ClientSecretCredential, false, &o.ClientSecret)
	if o.ClientCertificateFile != "" {
		k.loadCertificate()
	}
	if k.loadSecret("oauth.service_account", o.ServiceAccountFile, o.ServiceAccountCredential, true, &o.ServiceAccount) {
		if err := checkServiceAccount([]byte(o.ServiceAccount.Reveal())); err != nil {
			k.errorf(secretKey("oauth.service_account", o.ServiceAccountFile), "%v", err)
		}
	}
	if o.CAFile != "" {
		pool, err := loadCAs(o.CAFile)
		if err != nil {
			k.errorf("oauth.ca_file", "%v", err)
		}
		o.RootCAs = pool
	}
}

// secretKey is the key that named a secret: KEY_file when a file was given, else KEY_credential.
func secretKey(key, file string) string {
	if file != "" {
		return key + "_file"
	}
	return key + "_credential"
}

// loadCertificate reads client_certificate_file and the private key (from
// client_key_file or _credential, or else from the certificate file itself)
// and checks that they belong together.
func (k *checker) loadCertificate() {
	o := &k.c.OAuth
	certPEM, err := readPublicFile(o.ClientCertificateFile)
	if err != nil {
		k.errorf("oauth.client_certificate_file", "%v", err)
		return
	}
	cert, err := parseCertificate(certPEM)
	if err != nil {
		k.errorf("oauth.client_certificate_file", "%s: %v", o.ClientCertificateFile, err)
		return
	}
	o.ClientCertificate = cert
	keyPath := "oauth.client_key"
	if o.ClientKeyFile == "" && o.ClientKeyCredential == "" {
		// The key is in the certificate file: then that file is a secret.
		keyPath = "oauth.client_certificate"
		if !k.loadSecret(keyPath, o.ClientCertificateFile, "", true, &o.ClientKey) {
			return
		}
	} else if !k.loadSecret(keyPath, o.ClientKeyFile, o.ClientKeyCredential, true, &o.ClientKey) {
		return
	}
	key, err := ParsePrivateKey([]byte(o.ClientKey.Reveal()))
	if err != nil {
		k.errorf(secretKey(keyPath, cmpOr(o.ClientKeyFile, o.ClientCertificateFile)), "%v", err)
		return
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		k.errorf(secretKey(keyPath, cmpOr(o.ClientKeyFile, o.ClientCertificateFile)),
			"the private key does not belong to the certificate in %s", o.ClientCertificateFile)
	}
}

func parseCertificate(data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("no PEM CERTIFICATE block (convert a .cer or .pfx with openssl x509 or openssl pkcs12)")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// ParsePrivateKey reads the first RSA private key of a PEM text (PKCS #1 or
// PKCS #8), as Microsoft's certificate credentials and Google's service
// account keys use. Its errors never quote the key.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("no PEM private key (a block BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)")
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the RSA private key cannot be read")
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the private key cannot be read")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("the private key is not an RSA key (%T); the providers sign with RS256", k)
			}
			return rk, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("the private key is encrypted; decrypt it (openssl pkey -in key.pem -out plain.pem) and protect the file by its mode instead")
		}
	}
}

// checkServiceAccount checks a Google service account key file's shape.
func checkServiceAccount(data []byte) error {
	var sa struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
		TokenURI    string `json:"token_uri"`
	}
	if err := json.Unmarshal(data, &sa); err != nil {
		return fmt.Errorf("not a JSON key file (download the key as JSON in the Google Cloud console)")
	}
	if sa.Type != "service_account" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return fmt.Errorf("not a service account key (type %q): create a key for the service account and download it as JSON", sa.Type)
	}
	if _, err := ParsePrivateKey([]byte(sa.PrivateKey)); err != nil {
		return fmt.Errorf("its private_key: %v", err)
	}
	return nil
}

// resolveOAuthPaths makes the oauth section's relative paths absolute: the
// refresh token next to the database (the state directory, writable by the
// service), the rest next to the configuration file.
func (c *Config) resolveOAuthPaths(rel func(p, base string) string, dir string) {
	o := &c.OAuth
	o.ClientSecretFile = rel(o.ClientSecretFile, dir)
	o.ClientCertificateFile = rel(o.ClientCertificateFile, dir)
	o.ClientKeyFile = rel(o.ClientKeyFile, dir)
	o.ServiceAccountFile = rel(o.ServiceAccountFile, dir)
	o.CAFile = rel(o.CAFile, dir)
	o.RefreshTokenFile = rel(o.RefreshTokenFile, filepath.Dir(c.Database.Path))
}
