package e2e

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// The run's secret check finds a password in each form it can leak in, and
// every secret and token of the authorization server as written and as it
// crosses the wire in SASL XOAUTH2, OAUTHBEARER and HTTP Basic.
func TestSecretCheckFindsLeaks(t *testing.T) {
	users, pw := []string{"daemon@example.test"}, "s3cret-Passw0rd"
	clean := []byte("level=DEBUG msg=\"smtp dial\" host=127.0.0.1\n")
	if err := checkLogForSecrets(clean, users, pw, nil); err != nil {
		t.Errorf("a clean log: %v", err)
	}
	if err := checkLogForSecrets(nil, users, pw, nil); err == nil {
		t.Errorf("an empty log passed the check")
	}
	for what, form := range secretForms(users, pw) {
		leak := append(clean, []byte("level=DEBUG msg=\"C: AUTH PLAIN "+form+"\"\n")...)
		if err := checkLogForSecrets(leak, users, pw, nil); err == nil || !strings.Contains(err.Error(), "appears") {
			t.Errorf("%s leaked, check = %v", what, err)
		}
	}

	t.Run("OAuth", func(t *testing.T) {
		key, err := oauthtest.NewKey("leaky-cert")
		if err != nil {
			t.Fatal(err)
		}
		const id, secret = "leaky-app", "leaky-Secret:+/ é&0123"
		as := oauthtest.Start(t, oauthtest.Options{
			Introspector: &oauthtest.Credentials{ID: "introspector", Secret: "introspect-Secret-0123"},
			Clients: []oauthtest.Client{
				{ID: id, Secret: secret, User: "daemon@example.test"},
				{ID: "leaky-cert-app", Key: key, User: "daemon@example.test"},
			},
		})
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: as.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		seeded, err := as.Issue(id, "mentee@example.test", []string{"offline_access"})
		if err != nil {
			t.Fatal(err)
		}
		secrets := as.Secrets()
		b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

		// Public names, the certificate and protocol words are not secrets.
		clean := append(clean, fmt.Appendf(nil, "level=DEBUG msg=\"token\" client=%s user=daemon@example.test url=%s type=Bearer cert=%q\n",
			id, as.TokenURL(), key.CertificatePEM())...)
		if err := checkLogForSecrets(clean, users, pw, secrets); err != nil {
			t.Errorf("a clean log: %v", err)
		}
		leaks := map[string]string{
			"the access token":   tok.AccessToken,
			"the refresh token":  `{"refresh_token":"` + seeded.RefreshToken + `"}`,
			"the client secret":  secret,
			"form-urlencoded":    "client_id=" + id + "&client_secret=" + url.QueryEscape(secret),
			"HTTP Basic":         "Authorization: Basic " + b64(url.QueryEscape(id)+":"+url.QueryEscape(secret)),
			"the private key":    fmt.Sprintf("%q", key.PrivateKeyPEM()), // quoted: its newlines escaped
			"the key's body":     strings.Join(strings.Split(strings.TrimSpace(string(key.PrivateKeyPEM())), "\n")[1:27], ""),
			"OAUTHBEARER":        "C: AUTHENTICATE OAUTHBEARER " + b64("n,a=daemon@example.test,\x01host=127.0.0.2\x01port=1144\x01auth=Bearer "+tok.AccessToken+"\x01\x01"),
			"the introspector's": "introspect-Secret-0123",
		}
		// XOAUTH2 for users whose names put the token at each offset mod 3.
		for _, user := range []string{"a@example.test", "ab@example.test", "abc@example.test"} {
			leaks["XOAUTH2 for "+user] = "C: AUTH XOAUTH2 " + b64("user="+user+"\x01auth=Bearer "+tok.AccessToken+"\x01\x01")
		}
		for what, leak := range leaks {
			log := append(clean, []byte("level=DEBUG msg=\"wire\" line="+leak+"\n")...)
			if err := checkLogForSecrets(log, users, pw, secrets); err == nil || !strings.Contains(err.Error(), "appears") {
				t.Errorf("%s leaked, check = %v", what, err)
			} else {
				t.Logf("%s: %v", what, err)
			}
		}
		if err := checkLogForSecrets(clean, users, pw, []oauthtest.Secret{{What: "a short secret", Value: "short"}}); err == nil {
			t.Errorf("a secret too short to search for passed the check")
		}
	})
}
