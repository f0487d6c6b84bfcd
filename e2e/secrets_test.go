package e2e

import (
	"strings"
	"testing"
)

// The run's secret check finds a password in each form it can leak in.
func TestSecretCheckFindsLeaks(t *testing.T) {
	users, pw := []string{"daemon@example.test"}, "s3cret-Passw0rd"
	clean := []byte("level=DEBUG msg=\"smtp dial\" host=127.0.0.1\n")
	if err := checkLogForSecrets(clean, users, pw); err != nil {
		t.Errorf("a clean log: %v", err)
	}
	if err := checkLogForSecrets(nil, users, pw); err == nil {
		t.Errorf("an empty log passed the check")
	}
	for what, form := range secretForms(users, pw) {
		leak := append(clean, []byte("level=DEBUG msg=\"C: AUTH PLAIN "+form+"\"\n")...)
		if err := checkLogForSecrets(leak, users, pw); err == nil || !strings.Contains(err.Error(), "appears") {
			t.Errorf("%s leaked, check = %v", what, err)
		}
	}
}
