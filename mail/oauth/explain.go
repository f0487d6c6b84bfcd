package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// Error is a failed step of signing in with OAuth, with what to do about it.
type Error struct {
	Op          string // "token request", "read the refresh token", ...
	Code        string // RFC 6749's error code, when the server gave one
	Description string // the server's error_description (Microsoft's starts with its AADSTS code)
	Status      int    // the HTTP status of the token endpoint, when there was one
	Hint        string // what to fix, for a person
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauth " + e.Op + ": ")
	switch {
	case e.Code != "":
		b.WriteString(e.Code)
		if d := firstLine(e.Description); d != "" {
			b.WriteString(" (" + d + ")")
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(". " + sentence(e.Hint))
	}
	return b.String()
}

// sentence capitalises a hint that follows a full stop, unless it starts
// with a configuration key (oauth.tenant) or a command.
func sentence(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if s == "" || s[0] < 'a' || s[0] > 'z' || strings.ContainsAny(first, "._`") {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later without any
// change: the server was unreachable or busy. Wrong secrets, revoked grants
// and missing consent are not.
func (e *Error) Temporary() bool {
	switch e.Code {
	case "temporarily_unavailable", "server_error":
		return true
	case "":
		return e.Status == 0 || e.Status >= 500 || e.Status == 429
	}
	return false
}

// firstLine keeps the first line of a server's description: Microsoft's go on
// with trace and correlation IDs and a timestamp.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s, _, _ = strings.Cut(s, " Trace ID:")
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "\r"))
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// aadsts maps Microsoft identity platform error codes to what to fix
// (learn.microsoft.com, "Microsoft Entra authentication and authorization error codes").
var aadsts = map[string]string{
	"90002":   "the tenant does not exist: set oauth.tenant to the Directory (tenant) ID on the app registration's Overview page",
	"900023":  "oauth.tenant is not a valid tenant: use the Directory (tenant) ID (a GUID) or the organisation's domain",
	"700016":  "oauth.client_id is not an application in this tenant: copy the Application (client) ID from the app registration's Overview page, and check oauth.tenant",
	"7000215": "the client secret is wrong: use the secret's Value (shown once when it was created), not its Secret ID",
	"7000222": "the client secret has expired: add a new one under Certificates & secrets and replace the secret file",
	"7000112": "the application is disabled in this tenant: an administrator must enable it (Enterprise applications, Properties)",
	"700027":  "the certificate is not accepted: upload the certificate (its public part) to the app registration under Certificates & secrets, and check that the key belongs to it",
	"700024":  "the client assertion is outside its valid time: this machine's clock is wrong; turn on time synchronisation (timedatectl set-ntp true)",
	"700023":  "the client assertion's audience is wrong: oauth.token_url must be the tenant's token endpoint",
	"65001":   "an administrator has not consented to the app's permissions: in the app registration, API permissions, Grant admin consent",
	"500011":  "the resource (Office 365 Exchange Online) is not in the tenant: check oauth.scopes (https://outlook.office365.com/.default)",
	"70011":   "the scope is not valid for this grant: client credentials need https://outlook.office365.com/.default; leave oauth.scopes empty",
	"1002012": "the scope is not valid: leave oauth.scopes empty to use the provider's",
	"7000218": "the app registration does not allow public clients: turn on Authentication, Allow public client flows, or give oauth.client_secret_file",
	"700082":  "the refresh token has expired after long disuse: sign in again with `mentord oauth login`",
	"70008":   "the refresh token has expired: sign in again with `mentord oauth login`",
	"50173":   "the grant was revoked (a password change or an administrator's action): sign in again with `mentord oauth login`",
	"50076":   "multi-factor authentication is required again: sign in again with `mentord oauth login`",
	"50079":   "multi-factor authentication is required again: sign in again with `mentord oauth login`",
	"53003":   "a Conditional Access policy blocks the sign-in: ask the tenant's administrators to allow this app or mailbox",
	"50034":   "the user does not exist in this tenant: check oauth.tenant and the mailbox",
	"50126":   "the user name or password is wrong",
	"700003":  "the device is no longer registered or the grant was revoked: sign in again with `mentord oauth login`",
	"50105":   "the signed-in user is not assigned to the app: assign the mailbox's user to the enterprise application, or turn off Assignment required",
}

// explainTokenError turns what the token endpoint (or the way to it) said into an *Error.
func explainTokenError(cfg Config, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	e = &Error{Op: "token request to " + endpointHost(cfg.TokenURL), Err: err}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		e.Code, e.Description = re.ErrorCode, re.ErrorDescription
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		if e.Code == "" {
			e.Err = fmt.Errorf("the token endpoint answered HTTP %d without an OAuth error", e.Status)
		}
		e.Hint = tokenHint(cfg, e)
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = errors.New("no answer in time")
		e.Hint = "the token endpoint did not answer: check the network, a firewall, or a proxy (HTTPS_PROXY)"
	default:
		var dns *net.DNSError
		var ue *url.Error
		switch {
		case errors.As(err, &dns):
			e.Hint = "the token endpoint's name does not resolve: check DNS, and oauth.tenant or oauth.token_url"
		case errors.As(err, &ue):
			e.Err = ue.Err // the URL is in Op already
			e.Hint = "cannot reach the token endpoint: check the network, a firewall, or a proxy (HTTPS_PROXY)"
		}
	}
	return e
}

// tokenHint explains an RFC 6749 error (section 5.2), using Microsoft's AADSTS
// code and Google's descriptions where they say more.
func tokenHint(cfg Config, e *Error) string {
	if m := aadstsRE.FindStringSubmatch(e.Description); m != nil {
		if h, ok := aadsts[m[1]]; ok {
			return h
		}
	}
	d := strings.ToLower(e.Description)
	switch e.Code {
	case "invalid_client":
		switch {
		case cfg.Grant == GrantServiceAccount:
			return "the service account's key was not accepted: it may have been deleted or disabled; create a new JSON key"
		case cfg.Key != nil:
			return "the certificate credential was not accepted: check oauth.client_id and that the certificate is registered with the app"
		}
		return "the client ID or secret is wrong, expired or revoked: check oauth.client_id and replace the client secret"
	case "invalid_grant":
		switch {
		case strings.Contains(d, "invalid jwt signature"):
			return "the service account key was deleted or revoked: create a new JSON key for the service account"
		case strings.Contains(d, "reasonable timeframe") || strings.Contains(d, "iat") && strings.Contains(d, "exp"):
			return "this machine's clock is wrong: turn on time synchronisation (timedatectl set-ntp true)"
		case strings.Contains(d, "invalid email or user id") || strings.Contains(d, "not a valid email"):
			return fmt.Sprintf("Google does not know the mailbox %s in the service account's domain: check mailbox.address", cfg.Subject)
		case cfg.Grant == GrantRefreshToken:
			return "the refresh token is expired or revoked: sign in again with `mentord oauth login`"
		}
		return "the grant was refused: check the client's permissions"
	case "unauthorized_client":
		if cfg.Grant == GrantServiceAccount {
			return "domain-wide delegation is missing: in the Google Admin console (Security, API controls, Domain-wide delegation) add the service account's client ID with the scope " + strings.Join(cfg.Scopes, ",")
		}
		return fmt.Sprintf("the client may not use the %s grant: allow it for this client at the OAuth server", cfg.Grant)
	case "invalid_scope":
		if cfg.Provider == Google && cfg.Grant == GrantRefreshToken {
			return "Google does not let the device sign-in ask for Gmail's scope: use a service account (oauth.grant service_account), or a refresh token obtained another way in oauth.refresh_token_file"
		}
		return fmt.Sprintf("the server does not allow the scope %q for this client: check oauth.scopes", strings.Join(cfg.Scopes, " "))
	case "unsupported_grant_type":
		return fmt.Sprintf("the server does not support the %s grant: choose another oauth.grant", cfg.Grant)
	case "access_denied":
		return "the request was denied: a policy or the person who signed in refused it"
	case "invalid_request":
		return "the server did not understand the request: check oauth.token_url and oauth.client_id"
	case "temporarily_unavailable", "server_error":
		return "the OAuth server has a problem of its own; mentord retries"
	}
	if e.Status == 404 {
		return "there is no token endpoint at this address: check oauth.token_url (and oauth.tenant)"
	}
	return ""
}

func endpointHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "the token endpoint"
}
