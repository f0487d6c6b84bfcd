package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

var (
	keyOnce  sync.Once
	testKeys [2]*oauthtest.Key
)

// keys are two certificate credentials, made once for the package's tests.
func keys(t *testing.T) [2]*oauthtest.Key {
	keyOnce.Do(func() {
		for i := range testKeys {
			k, err := oauthtest.NewKey("mentord")
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

// writeFiles writes name → content next to the config, mode 0600.
func writeFiles(t *testing.T, cfgPath string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(filepath.Dir(cfgPath), name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const prodBase = `programme: {name: P}
mailbox: {address: mentoring@example.org}
`

func TestMicrosoftPresetFillsServersAndQuotas(t *testing.T) {
	p := writeConfig(t, prodBase+`oauth:
  provider: microsoft
  tenant: contoso.onmicrosoft.com
  client_id: 11111111-2222-3333-4444-555555555555
  client_secret_file: secret
`)
	writeFiles(t, p, map[string][]byte{"secret": []byte("app-secret-value\n")})
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if s := cfg.IMAP.Server; s.Host != "outlook.office365.com" || s.Port != 993 || s.TLS != TLSImplicit {
		t.Errorf("imap = %s:%d %s", s.Host, s.Port, s.TLS)
	}
	if s := cfg.SMTP.Server; s.Host != "smtp.office365.com" || s.Port != 587 || s.TLS != TLSStartTLS {
		t.Errorf("smtp = %s:%d %s", s.Host, s.Port, s.TLS)
	}
	if cfg.SMTP.Auth != AuthXOAUTH2 || cfg.IMAP.Auth != AuthXOAUTH2 {
		t.Errorf("auth = %s/%s", cfg.SMTP.Auth, cfg.IMAP.Auth)
	}
	if cfg.SMTP.Username != "mentoring@example.org" || cfg.IMAP.Username != "mentoring@example.org" {
		t.Errorf("usernames = %s/%s", cfg.SMTP.Username, cfg.IMAP.Username)
	}
	if cfg.SMTP.MaxPerMinute != 30 || cfg.SMTP.MaxRecipientsPerDay != 10000 {
		t.Errorf("quotas = %d/min %d/day", cfg.SMTP.MaxPerMinute, cfg.SMTP.MaxRecipientsPerDay)
	}
	o := cfg.OAuth
	if o.Grant != GrantClientCredentials || o.TokenURL != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" ||
		len(o.Scopes) != 1 || o.Scopes[0] != MicrosoftAppScope {
		t.Errorf("oauth = grant %s, token %s, scopes %v", o.Grant, o.TokenURL, o.Scopes)
	}
	if o.ClientSecret.Reveal() != "app-secret-value" {
		t.Errorf("client secret not read")
	}
	filled := map[string]string{}
	for _, f := range cfg.Filled {
		filled[f.Key] = f.Value
		if f.From != "oauth.provider microsoft" {
			t.Errorf("filled %s from %q", f.Key, f.From)
		}
	}
	for key, want := range map[string]string{"imap": "outlook.office365.com:993 tls=implicit",
		"smtp": "smtp.office365.com:587 tls=starttls", "smtp.max_per_minute": "30", "smtp.auth": "xoauth2"} {
		if filled[key] != want {
			t.Errorf("filled[%s] = %q, want %q (all: %v)", key, filled[key], want, cfg.Filled)
		}
	}
}

// What the admin wrote wins over the preset, and is not listed as filled.
func TestPresetKeepsWhatWasGiven(t *testing.T) {
	p := writeConfig(t, prodBase+`smtp: {host: relay.example.org, port: 2525, tls: starttls, max_per_minute: 5}
oauth: {provider: google, service_account_file: sa.json}
`)
	writeFiles(t, p, map[string][]byte{"sa.json": serviceAccount(t)})
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if cfg.SMTP.Host != "relay.example.org" || cfg.SMTP.Port != 2525 || cfg.SMTP.MaxPerMinute != 5 {
		t.Errorf("smtp = %+v", cfg.SMTP)
	}
	if cfg.IMAP.Host != "imap.gmail.com" || cfg.SMTP.MaxRecipientsPerDay != 2000 {
		t.Errorf("imap %s, day quota %d", cfg.IMAP.Host, cfg.SMTP.MaxRecipientsPerDay)
	}
	if cfg.OAuth.Grant != GrantServiceAccount || cfg.OAuth.Scopes[0] != GoogleMailScope {
		t.Errorf("oauth = %+v", cfg.OAuth)
	}
	for _, f := range cfg.Filled {
		if f.Key == "smtp" || f.Key == "smtp.max_per_minute" {
			t.Errorf("%s listed as filled though it was given", f.Key)
		}
	}
}

func serviceAccount(t *testing.T) []byte {
	b, err := json.Marshal(map[string]string{"type": "service_account", "client_email": "mentord@project.iam.gserviceaccount.com",
		"client_id": "1234567890", "private_key_id": "abc", "private_key": string(keys(t)[0].PrivateKeyPEM()),
		"token_uri": "https://oauth2.googleapis.com/token"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCertificateCredential(t *testing.T) {
	k, other := keys(t)[0], keys(t)[1]
	base := prodBase + "oauth: {provider: microsoft, tenant: t.example, client_id: c, client_certificate_file: cert.pem%s}\n"
	t.Run("separate key", func(t *testing.T) {
		p := writeConfig(t, fmt.Sprintf(base, ", client_key_file: key.pem"))
		writeFiles(t, p, map[string][]byte{"cert.pem": k.CertificatePEM(), "key.pem": k.PrivateKeyPEM()})
		cfg, err := Load(p)
		if err != nil {
			t.Fatalf("Load = %v", err)
		}
		if cfg.OAuth.ClientCertificate == nil || !strings.Contains(cfg.OAuth.ClientKey.Reveal(), "PRIVATE KEY") {
			t.Errorf("certificate or key not loaded")
		}
	})
	t.Run("key in the certificate file", func(t *testing.T) {
		p := writeConfig(t, fmt.Sprintf(base, ""))
		writeFiles(t, p, map[string][]byte{"cert.pem": append(k.CertificatePEM(), k.PrivateKeyPEM()...)})
		if _, err := Load(p); err != nil {
			t.Fatalf("Load = %v", err)
		}
		// Then the certificate file is a secret and must not be world-readable.
		if err := os.Chmod(filepath.Join(filepath.Dir(p), "cert.pem"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "readable by other users") {
			t.Errorf("Load with a world-readable key = %v", err)
		}
	})
	t.Run("key of another certificate", func(t *testing.T) {
		p := writeConfig(t, fmt.Sprintf(base, ", client_key_file: key.pem"))
		writeFiles(t, p, map[string][]byte{"cert.pem": k.CertificatePEM(), "key.pem": other.PrivateKeyPEM()})
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "does not belong to the certificate") {
			t.Errorf("Load = %v", err)
		}
	})
	t.Run("not a key", func(t *testing.T) {
		p := writeConfig(t, fmt.Sprintf(base, ", client_key_file: key.pem"))
		writeFiles(t, p, map[string][]byte{"cert.pem": k.CertificatePEM(), "key.pem": []byte("hello\nworld\n")})
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "oauth.client_key_file") || strings.Contains(err.Error(), "hello") {
			t.Errorf("Load = %v", err)
		}
	})
}

func TestOAuthValidation(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"oauth mechanism without provider", "smtp: {host: s.example.org, auth: xoauth2}\nimap: {host: i.example.org, password_file: pw}\n", "smtp.auth: xoauth2 needs the oauth section"},
		{"keys without provider", "smtp: {host: s.example.org}\nimap: {host: i.example.org, password_file: pw}\noauth: {client_id: x}\n", "oauth.provider: required when oauth.client_id is set"},
		{"unknown provider", "oauth: {provider: yahoo}\n", `must be microsoft, google or generic, not "yahoo"`},
		{"microsoft without tenant", "oauth: {provider: microsoft, client_id: c, client_secret_file: pw}\n", "oauth.tenant: required"},
		{"microsoft without secret", "oauth: {provider: microsoft, tenant: t.example, client_id: c}\n", "oauth.client_secret_file: required"},
		{"secret and certificate", "oauth: {provider: microsoft, tenant: t.example, client_id: c, client_secret_file: pw, client_certificate_file: c.pem}\n", "not both"},
		{"google grant", "oauth: {provider: google, grant: client_credentials, service_account_file: pw}\n", "must be service_account or refresh_token"},
		{"google without key", "oauth: {provider: google}\n", "oauth.service_account_file: required"},
		{"generic without token url", "oauth: {provider: generic, client_id: c, client_secret_file: pw}\n", "oauth.token_url: required"},
		{"token url in clear text", "oauth: {provider: generic, token_url: 'http://idp.example.org/token', client_id: c, client_secret_file: pw}\n", "must be an https URL"},
		{"password with oauth", "imap: {password_file: pw}\noauth: {provider: microsoft, tenant: t.example, client_id: c, client_secret_file: pw}\n", "imap.password_file: not used with imap.auth xoauth2"},
		{"different identities", "smtp: {username: other@example.org}\noauth: {provider: microsoft, tenant: t.example, client_id: c, client_secret_file: pw}\n", "sign in as the same mailbox"},
		{"credential is a path", "oauth: {provider: microsoft, tenant: t.example, client_id: c, client_secret_credential: ../x}\n", "must be a credential name"},
		{"bad scope", "oauth: {provider: generic, token_url: 'https://idp.example.org/t', client_id: c, client_secret_file: pw, scopes: ['a b']}\n", "oauth.scopes"},
		{"refresh token file with client credentials", "oauth: {provider: generic, token_url: 'https://idp.example.org/t', client_id: c, client_secret_file: pw, refresh_token_file: rt}\n", "oauth.refresh_token_file: not used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(prodBase+tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	// Loopback http is fine for tests and local proxies.
	if _, err := Parse("c.yaml", []byte(prodBase+"smtp: {host: 127.0.0.1, tls: none}\nimap: {host: 127.0.0.1, tls: none}\n"+
		"oauth: {provider: generic, token_url: 'http://127.0.0.1:9/token', client_id: c, client_secret_file: pw}\n")); err != nil {
		t.Errorf("loopback token url: %v", err)
	}
}

func TestRefreshTokenFileNextToDatabase(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/var/lib/mentord")
	cfg, err := Parse("/etc/mentord/config.yaml", []byte(prodBase+
		"oauth: {provider: microsoft, grant: refresh_token, tenant: common, client_id: c}\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.OAuth
	if o.RefreshTokenFile != "/var/lib/mentord/oauth-refresh-token" {
		t.Errorf("refresh token file = %q", o.RefreshTokenFile)
	}
	if o.DeviceAuthorizationURL != "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode" {
		t.Errorf("device url = %q", o.DeviceAuthorizationURL)
	}
	if strings.Join(o.Scopes, " ") != strings.Join(MicrosoftDelegatedScopes, " ") {
		t.Errorf("scopes = %v", o.Scopes)
	}
}

// No way of printing or logging a loaded configuration shows an OAuth secret.
func TestOAuthSecretsNeverPrinted(t *testing.T) {
	const secret = "client-secret-Zq81-never-print"
	k := keys(t)[0]
	sa := serviceAccount(t)
	for _, body := range []string{
		"oauth: {provider: microsoft, tenant: t.example, client_id: c, client_secret_file: secret}\n",
		"oauth: {provider: microsoft, tenant: t.example, client_id: c, client_certificate_file: cert.pem, client_key_file: key.pem}\n",
		"oauth: {provider: google, service_account_file: sa.json}\n",
	} {
		p := writeConfig(t, prodBase+body)
		writeFiles(t, p, map[string][]byte{"secret": []byte(secret), "cert.pem": k.CertificatePEM(), "key.pem": k.PrivateKeyPEM(), "sa.json": sa})
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
			slog.New(h).Info("config", "cfg", cfg, "oauth", cfg.OAuth)
		}
		fmt.Fprintf(&out, "%v %+v %#v\n", cfg.OAuth, cfg.OAuth, cfg.OAuth)
		j, _ := json.Marshal(cfg)
		out.Write(j)
		keyBody := strings.Split(string(k.PrivateKeyPEM()), "\n")[1] // a line of the key's base64
		for what, s := range map[string]string{"client secret": secret, "private key": keyBody} {
			if strings.Contains(out.String(), s) {
				t.Errorf("%s printed with %s", what, body)
			}
		}
	}
}

func TestExampleHasNoOAuth(t *testing.T) {
	cfg, err := Load("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OAuth.Enabled() || len(cfg.Filled) > 0 {
		t.Errorf("the example signs in with OAuth: %+v", cfg.Filled)
	}
}
