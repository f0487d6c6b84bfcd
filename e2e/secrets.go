package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
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
	more, err := oauthtest.SecretForms(oauth)
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
