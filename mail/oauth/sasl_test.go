package oauth

import (
	"encoding/base64"
	"errors"
	"net/textproto"
	"strings"
	"testing"

	gosmtp "github.com/wneessen/go-mail/smtp"
)

// The initial responses are the mechanisms' documented bytes.
func TestInitialResponses(t *testing.T) {
	x, _ := NewSASL("xoauth2", "mentoring@example.org", "T0KEN", "imap.example.org", 993)
	mech, ir, err := x.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=mentoring@example.org\x01auth=Bearer T0KEN\x01\x01" {
		t.Errorf("XOAUTH2 Start = %s %q %v", mech, ir, err)
	}
	o, _ := NewSASL("OAuthBearer", "mentoring@example.org", "T0KEN", "imap.example.org", 993)
	mech, ir, err = o.Start()
	if err != nil || mech != "OAUTHBEARER" || string(ir) != "n,a=mentoring@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer T0KEN\x01\x01" {
		t.Errorf("OAUTHBEARER Start = %s %q %v", mech, ir, err)
	}
	if _, err := NewSASL("plain", "u", "t", "h", 1); err == nil {
		t.Errorf("PLAIN accepted as a token mechanism")
	}
}

// A refusal's JSON is kept and answered as each mechanism and protocol needs.
func TestRefusalAnswers(t *testing.T) {
	challenge := []byte(`{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`)
	x, _ := NewSASL("xoauth2", "u@example.org", "t", "h", 1)
	if resp, err := x.SMTP().Next(challenge, true); err != nil || len(resp) != 0 || resp == nil {
		t.Errorf("SMTP XOAUTH2 answer = %q, %v; want an empty line", resp, err)
	}
	if r := x.Refusal(); r == nil || r.Status != "400" || r.Scope != "https://mail.google.com/" {
		t.Errorf("refusal = %+v", r)
	}
	if _, err := x.Next(challenge); !errors.Is(err, ErrRefused) {
		t.Errorf("IMAP XOAUTH2 answer: %v, want ErrRefused (go-imap cannot send an empty line)", err)
	}
	o, _ := NewSASL("oauthbearer", "u@example.org", "t", "h", 1)
	for _, next := range []func() ([]byte, error){
		func() ([]byte, error) { return o.Next([]byte(`{"status":"invalid_token"}`)) },
		func() ([]byte, error) { return o.SMTP().Next([]byte(`{"status":"invalid_token"}`), true) },
	} {
		if resp, err := next(); err != nil || string(resp) != "\x01" {
			t.Errorf("OAUTHBEARER answer = %q, %v; want %%x01", resp, err)
		}
	}
	// 235: accepted, nothing more to say.
	if resp, err := o.SMTP().Next([]byte("2.7.0 Authentication successful"), false); resp != nil || err != nil {
		t.Errorf("after 235: %q, %v", resp, err)
	}
}

// A server that does not list the mechanism is named with what it offers.
func TestMechanismNotOffered(t *testing.T) {
	x, _ := NewSASL("xoauth2", "u@example.org", "t", "smtp.example.org", 587)
	_, _, err := x.SMTP().Start(&gosmtp.ServerInfo{Name: "smtp.example.org", TLS: true, Auth: []string{"PLAIN", "LOGIN"}})
	if !errors.Is(err, ErrMechanismNotOffered) || !strings.Contains(err.Error(), "AUTH PLAIN LOGIN") || x.Started() {
		t.Errorf("Start = %v (started %v)", err, x.Started())
	}
}

// The providers' refusals map to what to fix.
func TestSignInRefusalsAreExplained(t *testing.T) {
	for _, tc := range []struct {
		name, provider, proto string
		reply                 error
		challenge             string
		want                  []string
	}{
		{"exchange smtp auth disabled", Microsoft, "SMTP",
			&textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."},
			"", []string{"535 5.7.139", "Set-CASMailbox -Identity mentoring@example.org -SmtpClientAuthenticationDisabled $false"}},
		{"exchange security defaults", Microsoft, "SMTP",
			&textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy."},
			"", []string{"Security defaults"}},
		{"exchange mailbox not granted (imap)", Microsoft, "IMAP", errors.New("imap: NO AUTHENTICATE failed."),
			"", []string{"AUTHENTICATE failed", "IMAP.AccessAsApp", "New-ServicePrincipal", "Add-MailboxPermission"}},
		{"exchange smtp not granted", Microsoft, "SMTP", &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"},
			"", []string{"SMTP.SendAsApp"}},
		{"google missing scope", Google, "SMTP", &textproto.Error{Code: 535, Msg: "5.7.8 Username and Password not accepted."},
			`{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`, []string{"lacks the scope https://mail.google.com/"}},
		{"google refused", Google, "IMAP", ErrRefused, `{"status":"401","schemes":"bearer"}`,
			[]string{"refused (status 401)", "domain-wide delegation"}},
		{"dovecot", Generic, "IMAP", ErrRefused, `{"status":"401","schemes":"bearer","scope":"mail"}`,
			[]string{"expired, revoked, or issued for another user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := NewSASL("xoauth2", "mentoring@example.org", "SECRET-TOKEN", "h", 1)
			a.Start()
			if tc.challenge != "" {
				a.refused([]byte(tc.challenge))
			}
			err := ExplainSignIn(tc.provider, tc.proto, a, tc.reply)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "SECRET-TOKEN") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("SECRET-TOKEN"))) {
				t.Errorf("the token is in the error")
			}
		})
	}
}
