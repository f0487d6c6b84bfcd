// Package oauth signs the programme mailbox in to SMTP and IMAP with OAuth 2.0
// access tokens (golang.org/x/oauth2), as Microsoft 365 and Google Workspace
// require, and explains what went wrong in words an administrator can act on.
//
// The flow:
//  1. New builds a Source for one grant: client credentials with a secret or a
//     certificate (RFC 6749 section 4.4; the certificate as a signed JWT client
//     assertion, RFC 7523, the way Microsoft's identity platform takes it),
//     Google's service account with domain-wide delegation (a JWT bearer
//     assertion acting as the mailbox), or a refresh token that a person
//     granted once through Login (the device authorization grant, RFC 8628).
//  2. Run fetches a token at once and refreshes it well before it expires, so
//     no send or IMAP login waits for the token endpoint. Token hands out the
//     cached token; only when none is usable does it fetch one itself.
//  3. sender and inbox sign in with SASL (NewSASL): XOAUTH2 or OAUTHBEARER
//     (RFC 7628). When the server refuses a token they Invalidate it, fetch a
//     fresh one and try once more; then they report, with the server's answer.
//  4. A refresh token the server rotates is written back to its file at once
//     (atomically, mode 0600), so a restart never uses a spent one.
//  5. Every failure is an *Error whose Hint maps the provider's answer (RFC 6749
//     error codes, Microsoft's AADSTS codes, the JSON challenge of a refused
//     SASL exchange) to what to fix. State reports the token's validity, the
//     last refresh and the last error, never the token itself.
//
// Tokens and secrets never reach a log line or an error: errors carry the
// server's error code and description, which name no secret.
package oauth
