package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"sync"

	"github.com/mentord/mentord/mail/oauth/oauthtest"
)

// logBuffer keeps every log line the clients wrote during the run.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// runLog is the whole run's client log (debug level included).
var runLog logBuffer

// secretForms are the ways a password could leak into a log: as written, and
// as it crosses the wire in SMTP AUTH PLAIN and LOGIN (base64).
func secretForms(users []string, password string) map[string]string {
	b64 := base64.StdEncoding.EncodeToString
	forms := map[string]string{"the password": password, "the password in base64 (AUTH LOGIN)": b64([]byte(password))}
	for _, u := range users {
		forms["AUTH PLAIN for "+u] = b64([]byte("\x00" + u + "\x00" + password))
	}
	return forms
}

// minSecret is the shortest OAuth secret the check searches for; a shorter
// one would match by chance. The authorization server issues 43-character
// tokens and the harness's client secrets are longer still.
const minSecret = 12

// oauthSecretForms are the ways the authorization server's secrets (client
// secrets, private keys, access and refresh tokens, device codes) could leak:
// as written, form-urlencoded (a token request body, HTTP Basic before base64),
// and inside any base64 text. A token travels base64-encoded inside SASL
// XOAUTH2 ("user=...\x01auth=Bearer TOKEN\x01\x01"), OAUTHBEARER (whose prefix
// depends on host and port) and HTTP Basic ("id:secret"), at an offset the
// check cannot know. So for each of the three alignments of the secret to
// base64's 3-byte groups it searches for the characters that encode only the
// secret's own bytes: one of them is in every base64 text that contains it.
func oauthSecretForms(secrets []oauthtest.Secret) (map[string]string, error) {
	forms := map[string]string{}
	for i, s := range secrets {
		if len(s.Value) < minSecret {
			return nil, fmt.Errorf("%s is %d characters, too short to search the log for (at least %d)", s.What, len(s.Value), minSecret)
		}
		what := fmt.Sprintf("%s (secret %d of the authorization server)", s.What, i+1)
		variants := map[string]string{what: s.Value}
		if esc := url.QueryEscape(s.Value); esc != s.Value {
			variants[what+", form-urlencoded"] = esc
		}
		for name, v := range variants {
			forms[name] = v
			for offset, core := range base64Cores(v) {
				if len(core) >= minSecret {
					forms[fmt.Sprintf("%s, inside base64 at offset %d mod 3", name, offset)] = core
				}
			}
		}
	}
	return forms, nil
}

// base64Cores returns, for a text that starts 0, 1 or 2 bytes past a 3-byte
// group boundary of some longer base64-encoded text, the base64 characters
// that depend on the text's bytes alone: the whole groups inside it.
func base64Cores(text string) [3]string {
	var cores [3]string
	for k := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), text...))
		first := (k + 2) / 3        // the first group wholly inside the text
		last := (k + len(text)) / 3 // one past the last whole group
		if last > first {
			cores[k] = enc[first*4 : last*4]
		}
	}
	return cores
}

// checkLogForSecrets fails the run when any form of a password, or of a
// secret or token of the authorization server, is in log, or when the log
// is empty (nothing was checked).
func checkLogForSecrets(log []byte, users []string, password string, oauth []oauthtest.Secret) error {
	if len(password) < 8 {
		return fmt.Errorf("the stack's password %q is too short to search the log for; set a longer MS_PASS", password)
	}
	if len(bytes.TrimSpace(log)) == 0 {
		return fmt.Errorf("no log lines were captured, so none could be checked for secrets")
	}
	forms := secretForms(users, password)
	more, err := oauthSecretForms(oauth)
	if err != nil {
		return err
	}
	for what, form := range more {
		forms[what] = form
	}
	for what, form := range forms {
		if i := bytes.Index(log, []byte(form)); i >= 0 {
			start := bytes.LastIndexByte(log[:i], '\n') + 1
			return fmt.Errorf("%s appears in the log, at byte %d of a line starting %q", what, i, log[start:min(i, start+60)])
		}
	}
	return nil
}
