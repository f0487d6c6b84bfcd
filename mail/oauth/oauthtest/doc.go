// Package oauthtest is an OAuth 2.0 authorization server for tests: an
// in-process HTTP server on 127.0.0.1 that issues opaque bearer tokens the way
// Microsoft's identity platform and Google's token endpoint do, answers RFC 7662
// introspection for a resource server such as Dovecot's oauth2 passdb, and lets
// a test change its state (revoke, rotate, expire, fail) and read back exactly
// what each client sent.
//
// The flow:
//  1. New (or Start, in a test) listens on Options.Addr, 127.0.0.1:0 unless a
//     fixed address such as 127.0.0.1:2590 is named, and serves
//     TokenURL (RFC 6749 section 3.2), DeviceAuthURL (RFC 8628 section 3.1) and
//     IntrospectionURL (RFC 7662). Clients and service accounts come from
//     Options or AddClient and AddServiceAccount.
//  2. A client authenticates at the token endpoint with its secret in HTTP Basic
//     (client_secret_basic, id and secret form-urlencoded first, RFC 6749
//     section 2.3.1) or in the body (client_secret_post), with an RS256 client
//     assertion signed by its certificate's key (private_key_jwt, RFC 7523
//     section 2.2, as Microsoft's certificate credentials), or, as a public
//     client, by client_id alone. Every request is recorded (Requests) before it
//     is judged, and FailNext can make the next ones fail.
//  3. The grant decides whose mailbox the token opens (its subject):
//     client_credentials acts as the client's configured User; the JWT bearer
//     grant (RFC 7523 section 2.1, Google service accounts) as the assertion's
//     sub; the device authorization grant (RFC 8628) as the user a test approves
//     with Approve; refresh_token as the user the refresh token was issued for,
//     rotating it when Options.RotateRefreshTokens is set.
//  4. Tokens are random opaque strings (256 bits) bound to client, subject and
//     scopes, valid for the token lifetime on the server's clock (Options.Now;
//     Clock lets a test move time). Answers follow RFC 6749 section 5.1 and
//     errors section 5.2, with Microsoft-like AADSTS descriptions when
//     Options.MicrosoftErrors is set.
//  5. A resource server POSTs token=... to the introspection endpoint and gets
//     {"active": true, "username": subject, ...} or {"active": false} for an
//     unknown, expired or revoked token. Refresh tokens are reported active only
//     when token_type_hint=refresh_token is sent, so a client that presents its
//     refresh token as a bearer token is refused as it would be by a real
//     provider.
//  6. Secrets lists every secret, private key and token the server knows or
//     issued, so a test run can prove none of them reached a log.
//
// The server is safe for concurrent use.
package oauthtest
