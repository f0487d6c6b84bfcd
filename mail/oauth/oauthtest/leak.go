package oauthtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
)

// MinSecret is the shortest secret Leak searches for; a shorter one would
// match by chance. The server issues 43-character tokens.
const MinSecret = 12

// Leak returns an error naming the first of secrets found in log in any form
// it can leak in: as written, form-urlencoded (a token request body, HTTP
// Basic before base64), and inside any base64 text. A token travels
// base64-encoded inside SASL XOAUTH2 ("user=...\x01auth=Bearer TOKEN\x01\x01"),
// OAUTHBEARER (whose prefix depends on host and port) and HTTP Basic
// ("id:secret"), at an offset the check cannot know. So for each of the three
// alignments of the secret to base64's 3-byte groups it searches for the
// characters that encode only the secret's own bytes: one of them is in every
// base64 text that contains it. An empty log is an error too: nothing was checked.
func Leak(log []byte, secrets []Secret) error {
	if len(bytes.TrimSpace(log)) == 0 {
		return fmt.Errorf("no log lines were captured, so none could be checked for secrets")
	}
	forms, err := SecretForms(secrets)
	if err != nil {
		return err
	}
	for what, form := range forms {
		if i := bytes.Index(log, []byte(form)); i >= 0 {
			start := bytes.LastIndexByte(log[:i], '\n') + 1
			return fmt.Errorf("%s appears in the log, at byte %d of a line starting %q", what, i, log[start:min(i, start+60)])
		}
	}
	return nil
}

// SecretForms maps a description of each form a secret can leak in to the
// text to search for (see Leak).
func SecretForms(secrets []Secret) (map[string]string, error) {
	forms := map[string]string{}
	for i, s := range secrets {
		if len(s.Value) < MinSecret {
			return nil, fmt.Errorf("%s is %d characters, too short to search the log for (at least %d)", s.What, len(s.Value), MinSecret)
		}
		what := fmt.Sprintf("%s (secret %d of the authorization server)", s.What, i+1)
		variants := map[string]string{what: s.Value}
		if esc := url.QueryEscape(s.Value); esc != s.Value {
			variants[what+", form-urlencoded"] = esc
		}
		for name, v := range variants {
			forms[name] = v
			for offset, core := range base64Cores(v) {
				if len(core) >= MinSecret {
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
