package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// SASL mechanism names as the protocols spell them.
const (
	XOAUTH2     = "XOAUTH2"
	OAUTHBEARER = sasl.OAuthBearer
)

// Challenge is the JSON a server sends instead of accepting a token: Google's
// and Microsoft's XOAUTH2 answer, and OAUTHBEARER's error (RFC 7628 3.2.2).
type Challenge struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

// SASL is one sign-in with an access token by XOAUTH2 or OAUTHBEARER. It is
// the sasl.Client go-imap takes, and SMTP() is the smtp.Auth go-mail takes;
// both record whether the server refused the token and what it said.
type SASL struct {
	mech, user, token, host string
	port                    int

	mu      sync.Mutex
	started bool
	refusal *Challenge
}

// NewSASL returns a sign-in as user with token; mech is xoauth2 or oauthbearer
// (any case). host and port go into OAUTHBEARER's message.
func NewSASL(mech, user, token, host string, port int) (*SASL, error) {
	m := strings.ToUpper(mech)
	if m != XOAUTH2 && m != OAUTHBEARER {
		return nil, fmt.Errorf("oauth: unknown SASL mechanism %q (xoauth2 or oauthbearer)", mech)
	}
	return &SASL{mech: m, user: user, token: token, host: host, port: port}, nil
}

// Mechanism returns the mechanism's name.
func (a *SASL) Mechanism() string { return a.mech }

// Start returns the initial response: XOAUTH2's as go-mail writes it,
// OAUTHBEARER's as go-sasl writes it (RFC 7628 section 3.1).
func (a *SASL) Start() (string, []byte, error) {
	a.mu.Lock()
	a.started = true
	a.mu.Unlock()
	if a.mech == XOAUTH2 {
		_, ir, err := gosmtp.XOAuth2Auth(a.user, a.token).Start(nil)
		return XOAUTH2, ir, err
	}
	return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: a.user, Token: a.token, Host: a.host, Port: a.port}).Start()
}

// ErrRefused ends an IMAP XOAUTH2 exchange whose token the server refused:
// XOAUTH2 wants an empty line in answer, which go-imap cannot send (it writes
// "=", which Dovecot answers with BAD); the caller drops the connection.
var ErrRefused = errors.New("the server refused the access token")

// Next answers a challenge, as go-imap's sasl.Client. After the initial
// response a server only sends one to refuse the token, with a JSON reason:
// it is kept. OAUTHBEARER answers %x01 (RFC 7628 section 3.2.3), so the server
// ends the exchange with its failure reply; XOAUTH2 ends it with ErrRefused.
func (a *SASL) Next(challenge []byte) ([]byte, error) {
	a.refused(challenge)
	if a.mech == OAUTHBEARER {
		return []byte{0x01}, nil
	}
	return nil, ErrRefused
}

// refused records a refusal's JSON reason.
func (a *SASL) refused(challenge []byte) {
	var c Challenge
	if err := json.Unmarshal(challenge, &c); err != nil {
		c = Challenge{Status: strings.TrimSpace(string(challenge))}
	}
	a.mu.Lock()
	a.refusal = &c
	a.mu.Unlock()
}

// Started reports whether the exchange began: a failure after it is the
// server refusing the token, not a connection problem.
func (a *SASL) Started() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started
}

// Refusal returns the server's JSON reason for refusing the token, if it sent one.
func (a *SASL) Refusal() *Challenge {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refusal
}

// ErrMechanismNotOffered: the SMTP server does not list the mechanism in its AUTH line.
var ErrMechanismNotOffered = errors.New("the server does not offer this sign-in mechanism")

// SMTP returns the sign-in as go-mail's smtp.Auth.
func (a *SASL) SMTP() gosmtp.Auth { return smtpAuth{a} }

type smtpAuth struct{ a *SASL }

func (s smtpAuth) Start(info *gosmtp.ServerInfo) (string, []byte, error) {
	if info != nil && !slices.ContainsFunc(info.Auth, func(m string) bool { return strings.EqualFold(m, s.a.mech) }) {
		return "", nil, &SignInError{Proto: "SMTP", Mech: s.a.mech, User: s.a.user, Err: ErrMechanismNotOffered,
			Hint: fmt.Sprintf("it offers AUTH %s; set smtp.auth to one it offers, or check smtp.host", strings.Join(info.Auth, " "))}
	}
	return s.a.Start()
}

// Next answers as each mechanism requires: an empty line for XOAUTH2, %x01
// for OAUTHBEARER; the server then ends with its failure reply (535).
func (s smtpAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more { // 235: accepted
		return nil, nil
	}
	s.a.refused(fromServer)
	if s.a.mech == OAUTHBEARER {
		return []byte{0x01}, nil
	}
	return []byte{}, nil
}

// SignInError is a server refusing to let the mailbox sign in with its token.
type SignInError struct {
	Proto  string // IMAP or SMTP
	Mech   string
	User   string
	Reply  string     // what the server said, without the token
	Reason *Challenge // the JSON reason, when the server sent one
	Hint   string
	Err    error
}

func (e *SignInError) Error() string {
	var b strings.Builder
	if errors.Is(e.Err, ErrMechanismNotOffered) {
		fmt.Fprintf(&b, "the %s server does not offer %s sign-in", e.Proto, e.Mech)
		if e.Hint != "" {
			b.WriteString(": " + e.Hint)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s sign-in as %s with %s refused", e.Proto, e.User, e.Mech)
	if e.Reply != "" {
		b.WriteString(": " + e.Reply)
	} else if e.Err != nil && !errors.Is(e.Err, ErrRefused) {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Reason != nil && e.Reason.Status != "" {
		fmt.Fprintf(&b, " (status %s)", e.Reason.Status)
	}
	if e.Hint != "" {
		b.WriteString(". " + sentence(e.Hint))
	}
	return b.String()
}

func (e *SignInError) Unwrap() error { return e.Err }

// ExplainSignIn describes why proto's server refused the token of a, from its
// reply err and the JSON reason a recorded, for provider.
func ExplainSignIn(provider, proto string, a *SASL, err error) *SignInError {
	var se *SignInError
	if errors.As(err, &se) {
		return se
	}
	e := &SignInError{Proto: proto, Mech: a.mech, User: a.user, Reason: a.Refusal(), Err: err}
	var reply *textproto.Error
	switch {
	case errors.Is(err, ErrRefused): // that says no more than Error's own words
	case errors.As(err, &reply):
		e.Reply = fmt.Sprintf("%d %s", reply.Code, reply.Msg)
	default:
		e.Reply = strings.TrimPrefix(strings.TrimSpace(err.Error()), "SMTP AUTH failed: ")
	}
	e.Hint = signInHint(provider, proto, e)
	return e
}

func signInHint(provider, proto string, e *SignInError) string {
	reply := strings.ToLower(e.Reply)
	r := e.Reason
	switch {
	case strings.Contains(reply, "5.7.139") && strings.Contains(reply, "disabled"):
		return "SMTP AUTH is turned off for this mailbox or the whole organisation: in Exchange Online PowerShell run " +
			"Set-CASMailbox -Identity " + e.User + " -SmtpClientAuthenticationDisabled $false (and check that Security defaults do not block it)"
	case strings.Contains(reply, "5.7.139") && strings.Contains(reply, "security defaults"):
		return "Microsoft's Security defaults block SMTP AUTH: turn them off or use Conditional Access that allows this mailbox"
	case r != nil && r.Scope != "" && (r.Status == "400" || r.Status == "403" || r.Status == "insufficient_scope"):
		return "the token lacks the scope " + r.Scope + ": ask for it (oauth.scopes), and for Google list it in the domain-wide delegation"
	}
	switch provider {
	case Microsoft:
		if proto == "IMAP" {
			return "Exchange refused the token for IMAP: the app needs the Office 365 Exchange Online permission IMAP.AccessAsApp with admin consent, " +
				"its service principal must be registered in Exchange (New-ServicePrincipal) and granted the mailbox (Add-MailboxPermission -Identity " +
				e.User + " -User <service principal ID> -AccessRights FullAccess), and the mailbox must be " + e.User
		}
		return "Exchange refused the token for SMTP: the app needs the permission SMTP.SendAsApp with admin consent, and its service principal " +
			"needs FullAccess or SendAs on " + e.User + " (Add-MailboxPermission / Add-RecipientPermission)"
	case Google:
		return "Google refused the token: the service account needs domain-wide delegation for https://mail.google.com/, the mailbox " + e.User +
			" must exist and have IMAP enabled in the Admin console"
	}
	if r != nil && (r.Status == "401" || r.Status == "invalid_token") {
		return "the server does not accept the token (expired, revoked, or issued for another user than " + e.User + ")"
	}
	return "the server refused the token: check that it is issued for " + e.User + " and that the server trusts the token's issuer"
}
