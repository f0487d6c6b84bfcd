package sender

import (
	"errors"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
)

// Throttle is what a server's reply says about the sending rate: nothing, "too
// many just now", or "the quota for the day is used up". A throttled message
// is not at fault and should wait, with every other message, rather than fail.
type Throttle int

// The kinds of throttling.
const (
	NotThrottled Throttle = iota
	// RateLimited: too many messages, recipients or connections in a short
	// time (Exchange 4.4.2 submission rate, Gmail 4.7.28, 4.7.0 "try again later").
	RateLimited
	// QuotaExhausted: a sending quota over a day is used up (Gmail 5.4.5 daily
	// user sending quota, Exchange SubmissionQuotaExceeded); it lasts longer.
	QuotaExhausted
)

func (t Throttle) String() string {
	switch t {
	case RateLimited:
		return "rate limited"
	case QuotaExhausted:
		return "sending quota exhausted"
	default:
		return "not throttled"
	}
}

// Throttling reports how err, a failed step of Dial or Send, asks for the
// sending to slow down, from the server's reply code, its enhanced status
// code (RFC 3463) and its text. Errors without a server reply are NotThrottled.
func Throttling(err error) Throttle {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return NotThrottled
	}
	return classify(tp.Code, tp.Msg)
}

// IsThrottled reports whether err is a reply asking to send less for a while
// (4xx or 5xx): the message should wait without counting as a failed attempt.
func IsThrottled(err error) bool { return Throttling(err) != NotThrottled }

// enhancedCode matches an RFC 3463 status code at the start of a reply line.
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})\b`)

// parseReply splits a reply's text (what follows the code, lines joined by
// "\n" as net/textproto returns them) into its enhanced status code, "" when
// it has none, and its words in lower case on one line, each line's repeated
// enhanced code removed (Gmail repeats it on every line of a long reply).
func parseReply(msg string) (enhanced, text string) {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if m := enhancedCode.FindString(l); m != "" {
			if enhanced == "" {
				enhanced = m
			}
			l = strings.TrimSpace(l[len(m):])
		}
		lines[i] = l
	}
	return enhanced, strings.ToLower(strings.Join(lines, " "))
}

// Text that says a submission quota is used up. "Quota" alone is not enough:
// "over quota" and "mailbox quota exceeded" are a recipient's full mailbox.
// Any "daily" with "quota" or "limit" counts too (Gmail 5.4.5 "Daily user
// sending quota exceeded", "Daily SMTP relay limit exceeded", SES "Daily
// message quota exceeded", Exchange 5.1.90 "your daily limit for message recipients").
var quotaPhrases = []string{
	"submissionquotaexceeded",   // Exchange: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException
	"submission quota exceeded", // Exchange: 5.2.2 Submission quota exceeded
	"sending quota",             // SES: Sending quota exceeded; a provider's "Domain Sending Quota Exceeded"
}

// Text that says the client sends too much too fast.
var ratePhrases = []string{
	"rate limit", // "temporarily rate limited", "rate limit exceeded"
	"ratelimit",
	"submission rate", // Exchange: 421 4.4.2 Message submission rate for this client has exceeded the configured limit
	"sending rate",    // SES: 454 Throttling failure: Maximum sending rate exceeded.
	"message rate",
	"unusual rate",      // Gmail: 421 4.7.0 / 4.7.28 ... an unusual rate of unsolicited mail
	"throttl",           // "throttling failure", "throttled"
	"too many messages", // policy servers: 450 4.7.1 ... Too many messages from sender in last 60
	"too many connections",
	"concurrent connection", // Exchange: 432 4.3.2 concurrent connection limit exceeded
	"thread limit exceeded", // Exchange: 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded
	"too many login attempts",
	"peak smtp relay limit", // Gmail (SMTP relay): 450 4.2.1 Peak SMTP relay limit exceeded for customer
}

// Text that is about one recipient, not the sender's rate: the message waits
// on its own, as any temporary failure does.
var recipientPhrases = []string{
	"receiving mail too quickly", // Gmail: 450 4.2.1 The user you are trying to contact is receiving mail too quickly
	"receiving mail at a rate",   // Gmail: 450 4.2.1 ... receiving mail at a rate that prevents additional messages
	"over quota", "mailbox full", "mailbox is full", "mailbox quota",
}

// classify decides from a reply code and its text (as net/textproto gives it).
// The rules, in order:
//  1. Only 4xx and 5xx replies can be throttling.
//  2. A daily or submission quota: X.4.5 with "daily" or "quota" in the text
//     (Gmail 5.4.5), "daily" with "quota" or "limit", or a quota phrase
//     (Exchange SubmissionQuotaExceeded, "sending quota").
//  3. Words about one recipient (a full mailbox, a recipient receiving too
//     fast) are not throttling, whatever the code.
//  4. Too fast: X.4.5 (mail system congestion, "server busy"), X.7.28 (Gmail's
//     rate limit), 4.7.500 to 4.7.699 (Exchange Online Protection: access
//     denied, try again later; the 5.7.5xx of the same range are permanent
//     blocks), 4.5.3 (too many recipients: each message has one, so it is the
//     recipient rate), a rate phrase, or a 421 (the server closes the
//     connection) that says to try again later.
//
// A 5xx that is not throttling is left permanent: 5.1.1 unknown user, 5.7.1
// relay denied, 5.7.708 and 5.7.750 (tenant blocked), 5.1.8 and the WASCL
// UserAction verdict (the account is blocked for spam) need a person, not a wait.
func classify(code int, msg string) Throttle {
	if code < 400 || code > 599 {
		return NotThrottled
	}
	enh, text := parseReply(msg)
	var class, subject, detail int
	if enh != "" {
		m := enhancedCode.FindStringSubmatch(enh)
		class, _ = strconv.Atoi(m[1])
		subject, _ = strconv.Atoi(m[2])
		detail, _ = strconv.Atoi(m[3])
	}
	if subject == 4 && detail == 5 && (strings.Contains(text, "daily") || strings.Contains(text, "quota")) {
		return QuotaExhausted
	}
	daily := strings.Contains(text, "daily") && (strings.Contains(text, "quota") || strings.Contains(text, "limit"))
	if daily || containsAny(text, quotaPhrases) {
		return QuotaExhausted
	}
	if containsAny(text, recipientPhrases) {
		return NotThrottled
	}
	switch {
	case subject == 4 && detail == 5,
		subject == 7 && detail == 28,
		class == 4 && subject == 7 && detail >= 500 && detail <= 699,
		class == 4 && subject == 5 && detail == 3,
		containsAny(text, ratePhrases),
		code == 421 && strings.Contains(text, "try again later"):
		return RateLimited
	}
	return NotThrottled
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// enhancedOf returns the enhanced status code a reply's text starts with, or "".
func enhancedOf(msg string) string {
	enh, _ := parseReply(msg)
	return enh
}
