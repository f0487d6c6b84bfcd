// Package inbox reads the programme mailbox over IMAP (go-imap v2).
//
// The flow:
//  1. Dial connects with implicit TLS or required STARTTLS (certificate verified,
//     TLS 1.2 or later), or plain text on loopback, and logs in: LOGIN with a
//     password, or AUTHENTICATE XOAUTH2 or OAUTHBEARER with an OAuth access
//     token (mail/oauth), replacing a refused token once before reporting.
//  2. Watch selects the inbox folder, reports its UIDVALIDITY and message count,
//     then waits for news with IDLE (re-issued before the 29 minutes of RFC 2177
//     section 3) or, on servers without IDLE, by polling with NOOP.
//  3. Every command has a deadline: a server silent for Config.Timeout while
//     a command waits is taken as stalled, and its connection closed
//     (ErrStalled).
//  4. On any error the connection is dropped and re-dialled after an exponential
//     backoff with jitter, so a server that is down costs no busy loop.
package inbox
