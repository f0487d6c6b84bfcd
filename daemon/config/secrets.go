package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mentord/mentord/internal/smallfile"
)

// maxSecretSize bounds a password file and maxKeySize a key or certificate
// file: anything larger is the wrong file.
const (
	maxSecretSize = 4096
	maxKeySize    = 64 << 10
)

// loadSecrets reads each password from its file or systemd credential, the
// OAuth client's secrets and each CA bundle, reporting every problem with the
// line of the key that named it.
func (c *Config) loadSecrets() error {
	k := &checker{c: c}
	for _, s := range []struct {
		sect, auth string
		srv        *Server
	}{{"smtp", c.SMTP.Auth, &c.SMTP.Server}, {"imap", c.IMAP.Auth, &c.IMAP.Server}} {
		switch {
		case s.auth == "none" || IsOAuthMechanism(s.auth):
		case s.srv.PasswordFile != "" || s.srv.PasswordCredential != "":
			k.loadSecret(s.sect+".password", s.srv.PasswordFile, s.srv.PasswordCredential, false, &s.srv.Password)
		case s.sect == "imap" && c.DevServer.Enabled:
			s.srv.Password = NewSecret(DevPassword)
		}
		if s.srv.CAFile != "" {
			pool, err := loadCAs(s.srv.CAFile)
			if err != nil {
				k.errorf(s.sect+".ca_file", "%v", err)
			}
			s.srv.RootCAs = pool
		}
	}
	c.loadOAuthSecrets(k)
	if len(k.errs) > 0 {
		return k.errs
	}
	return nil
}

// loadSecret reads the secret named by key_file (file) or key_credential (cred,
// from $CREDENTIALS_DIRECTORY) into dst and reports whether it did. A password
// is one line; a key (multiLine) may be many.
func (k *checker) loadSecret(key, file, cred string, multiLine bool, dst *Secret) bool {
	switch {
	case file != "":
		return k.readSecret(key+"_file", file, multiLine, dst)
	case cred != "":
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			dir = k.c.opts.CredentialsDir
		}
		if dir == "" {
			k.errorf(key+"_credential", "$CREDENTIALS_DIRECTORY is not set: run under systemd with LoadCredential=%s:/path/to/file, or use %s_file", cred, lastKey(key))
			return false
		}
		return k.readSecret(key+"_credential", filepath.Join(dir, cred), multiLine, dst)
	}
	return false
}

// readSecret reads a secret file: a regular file (never a pipe, which would
// block), not readable by other users, with its trailing newline dropped.
// Errors never contain the file's content.
func (k *checker) readSecret(path, file string, multiLine bool, dst *Secret) bool {
	what := "the password"
	limit := int64(maxSecretSize)
	if multiLine {
		what, limit = "the key", maxKeySize
	}
	data, st, err := smallfile.Read(file, limit)
	switch {
	case errors.Is(err, smallfile.ErrTooLarge):
		k.errorf(path, "%s is over %d bytes: not a %s file", file, limit, strings.TrimPrefix(what, "the "))
		return false
	case err != nil:
		k.errorf(path, "cannot read %s: %v", what, err)
		return false
	case st.Mode().Perm()&0o007 != 0:
		k.errorf(path, "%s is readable by other users (mode %04o); chmod 0600 or 0640 it", file, st.Mode().Perm())
		return false
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		k.errorf(path, "%s is empty", file)
		return false
	}
	if !multiLine && strings.ContainsAny(pw, "\r\n\x00") {
		k.errorf(path, "%s holds more than one line; put only the password in it", file)
		return false
	}
	*dst = NewSecret(pw)
	return true
}

// readPublicFile reads a small file that is not secret (a certificate).
func readPublicFile(file string) ([]byte, error) {
	data, _, err := smallfile.Read(file, maxKeySize)
	if errors.Is(err, smallfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s is over %d bytes: not a certificate", file, maxKeySize)
	}
	return data, err
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := readPublicFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
