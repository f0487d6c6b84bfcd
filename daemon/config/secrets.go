package config

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxSecretSize bounds a password file: anything larger is the wrong file.
const maxSecretSize = 4096

// loadSecrets reads each password from its file or systemd credential and each
// CA bundle, reporting every problem with the line of the key that named it.
func (c *Config) loadSecrets() error {
	k := &checker{c: c}
	for _, s := range []struct {
		sect string
		srv  *Server
	}{{"smtp", &c.SMTP.Server}, {"imap", &c.IMAP.Server}} {
		if s.sect == "smtp" && c.SMTP.Auth == "none" {
			continue
		}
		switch {
		case s.srv.PasswordFile != "":
			k.readSecret(s.sect+".password_file", s.srv.PasswordFile, &s.srv.Password)
		case s.srv.PasswordCredential != "":
			dir := os.Getenv("CREDENTIALS_DIRECTORY")
			if dir == "" {
				k.errorf(s.sect+".password_credential", "$CREDENTIALS_DIRECTORY is not set: run under systemd with LoadCredential=%s:/path/to/file, or use password_file", s.srv.PasswordCredential)
				continue
			}
			k.readSecret(s.sect+".password_credential", filepath.Join(dir, s.srv.PasswordCredential), &s.srv.Password)
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
	if len(k.errs) > 0 {
		return k.errs
	}
	return nil
}

// readSecret reads a password file: it must not be readable by other users, and
// its trailing newline is dropped. Errors never contain the file's content.
func (k *checker) readSecret(path, file string, dst *Secret) {
	f, err := os.Open(file)
	if err != nil {
		k.errorf(path, "cannot read the password: %v", err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		k.errorf(path, "cannot read the password: %v", err)
		return
	}
	if st.Mode().Perm()&0o007 != 0 {
		k.errorf(path, "%s is readable by other users (mode %04o); chmod 0600 or 0640 it", file, st.Mode().Perm())
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		k.errorf(path, "cannot read the password: %v", err)
		return
	}
	if len(data) > maxSecretSize {
		k.errorf(path, "%s is over %d bytes: not a password file", file, maxSecretSize)
		return
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		k.errorf(path, "%s is empty", file)
		return
	}
	if strings.ContainsAny(pw, "\r\n\x00") {
		k.errorf(path, "%s holds more than one line; put only the password in it", file)
		return
	}
	*dst = NewSecret(pw)
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
