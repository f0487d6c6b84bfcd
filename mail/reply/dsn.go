package reply

import (
	"strings"

	"github.com/mentord/mentord/mail/reply/decode"
)

const maxRecipients = 100

// parseBounce reads what a bounce reports: per recipient from the RFC 3464
// report, else from X-Failed-Recipients and the text (Exim, Postfix without
// DSN); the original's Message-ID and To from the embedded original.
func parseBounce(fs []decode.Field, t *decode.Tree, h *Header) *Bounce {
	b := &Bounce{}
	origID := ""
	for _, d := range t.DSN {
		if id := parseDSN(d, b); origID == "" {
			origID = id
		}
	}
	for _, o := range t.Originals {
		of, _, _ := decode.ReadFields(o)
		if b.OriginalMessageID == "" {
			if ids := decode.MessageIDs(decode.Get(of, "message-id")); len(ids) > 0 {
				b.OriginalMessageID = ids[0]
			}
		}
		if b.OriginalTo == "" {
			if to := decode.Addresses(decode.All(of, "to")); len(to) > 0 {
				b.OriginalTo = to[0]
			}
		}
	}
	if len(b.Recipients) == 0 {
		textRecipients(t.Plain, strings.Join(decode.All(fs, "x-failed-recipients"), ","), b)
	}
	if b.OriginalMessageID == "" || b.OriginalTo == "" {
		copied := copiedOriginal(t.Plain)
		if b.OriginalMessageID == "" {
			b.OriginalMessageID = firstID(decode.Get(copied, "message-id"), origID)
		}
		if b.OriginalTo == "" {
			if to := decode.Addresses(decode.All(copied, "to")); len(to) > 0 {
				b.OriginalTo = to[0]
			}
		}
	}
	if b.OriginalMessageID == "" && len(h.InReplyTo) > 0 {
		b.OriginalMessageID = h.InReplyTo[0]
	}
	if b.OriginalTo == "" && len(b.Recipients) > 0 {
		b.OriginalTo = b.Recipients[0].Address
	}
	b.Permanent = permanent(b, t.Plain)
	return b
}

func firstID(vs ...string) string {
	for _, v := range vs {
		if ids := decode.MessageIDs(v); len(ids) > 0 {
			return ids[0]
		}
	}
	return ""
}

// parseDSN reads a message/delivery-status body: a per-message block, then a
// block per recipient (RFC 3464 section 2.1). It returns the per-message
// X-Original-Message-ID, if any.
func parseDSN(body []byte, b *Bounce) (origID string) {
	for first := true; len(body) > 0 && len(b.Recipients) < maxRecipients; first = false {
		for len(body) > 0 && (body[0] == '\n' || body[0] == '\r' || body[0] == ' ' || body[0] == '\t') {
			body = body[1:]
		}
		fs, rest, ok := decode.ReadFields(body)
		if !ok || len(rest) >= len(body) {
			return origID
		}
		body = rest
		if first || !decode.Has(fs, "final-recipient") && !decode.Has(fs, "original-recipient") {
			if origID == "" {
				origID = decode.Get(fs, "x-original-message-id")
			}
			continue
		}
		addr := dsnAddress(decode.Get(fs, "final-recipient"))
		if addr == "" {
			addr = dsnAddress(decode.Get(fs, "original-recipient"))
		}
		status, _, _ := strings.Cut(strings.TrimSpace(decode.Get(fs, "status")), " ")
		b.Recipients = append(b.Recipients, BounceRecipient{
			Address:    addr,
			Original:   dsnAddress(decode.Get(fs, "original-recipient")),
			Action:     strings.ToLower(strings.TrimSpace(decode.Get(fs, "action"))),
			Status:     status,
			Diagnostic: afterType(decode.Get(fs, "diagnostic-code")),
		})
	}
	return origID
}

// dsnAddress reads "rfc822; user@example.org".
func dsnAddress(v string) string {
	return strings.ToLower(strings.Trim(afterType(v), "<> "))
}

// afterType drops the "type;" in front of a DSN value.
func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// textRecipients reads a bounce without a report: X-Failed-Recipients (Exim)
// or the addresses the text lists, with the status and the server's answer.
func textRecipients(text, failed string, b *Bounce) {
	body := beforeCopy(text)
	status, diag := enhancedStatus(body), smtpLine(body)
	var addrs []string
	for _, v := range strings.Split(failed, ",") {
		if a := decode.Address(v); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		addrs = listedAddresses(body)
	}
	for _, a := range addrs {
		if len(b.Recipients) >= maxRecipients {
			break
		}
		b.Recipients = append(b.Recipients, BounceRecipient{Address: a, Action: "failed", Status: status, Diagnostic: diag})
	}
}

// beforeCopy is the bounce text before the copy of the original message.
func beforeCopy(text string) string {
	low := strings.ToLower(text)
	for _, m := range []string{"copy of the message", "original message", "message headers follow", "undelivered message"} {
		if i := strings.Index(low, m); i > 0 {
			return text[:i]
		}
	}
	return text
}

// enhancedStatus finds the first RFC 3463 status code ("5.1.1").
func enhancedStatus(s string) string {
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if (c != '2' && c != '4' && c != '5') || s[i+1] != '.' || i > 0 && (isDigit(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j := i + 2
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+2 || j >= len(s) || s[j] != '.' {
			continue
		}
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j+1 && (k == len(s) || !isDigit(s[k]) && s[k] != '.') {
			return s[i:k]
		}
	}
	return ""
}

// smtpLine finds the server's answer: the first line holding a 4xx or 5xx code.
func smtpLine(s string) string {
	for ln := range strings.SplitSeq(s, "\n") {
		ln = strings.TrimSpace(ln)
		for _, f := range strings.Fields(ln) {
			if len(f) >= 3 && (f[0] == '4' || f[0] == '5') && isDigit(f[1]) && isDigit(f[2]) && (len(f) == 3 || f[3] == '-') {
				if len(ln) > 300 {
					ln = ln[:300]
				}
				return ln
			}
		}
	}
	return ""
}

// listedAddresses finds the addresses a bounce text lists on lines of their
// own ("  user@example.org", "<user@example.org>: host ... said: 550 ...").
func listedAddresses(s string) []string {
	var out []string
	seen := map[string]bool{}
	for ln := range strings.SplitSeq(s, "\n") {
		t := strings.TrimSpace(ln)
		if t == "" || t == strings.TrimLeft(ln, " \t") && !strings.HasPrefix(t, "<") {
			continue
		}
		f := strings.Fields(t)[0]
		if a := decode.Address(strings.TrimRight(f, ":,")); a != "" && !seen[a] && len(out) < 10 {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// copiedOriginal reads the header block of an original copied into a bounce
// text (Exim's "------ This is a copy of the message, including all the
// headers. ------").
func copiedOriginal(text string) []decode.Field {
	low := strings.ToLower(text)
	i := strings.Index(low, "\nmessage-id:")
	if i < 0 {
		return nil
	}
	start := strings.LastIndex(low[:i], "\n\n")
	if start < 0 {
		start = 0
	}
	fs, _, _ := decode.ReadFields([]byte(strings.TrimLeft(text[start:], "\n")))
	return fs
}

// permanent reports a hard bounce: a failed recipient with a 5.x.x status, or
// a bounce text that says so. Delays and temporary failures are not.
func permanent(b *Bounce, text string) bool {
	failed := false
	for _, r := range b.Recipients {
		if r.Action != "" && r.Action != "failed" {
			continue
		}
		failed = true
		if strings.HasPrefix(r.Status, "5") {
			return true
		}
		if strings.HasPrefix(r.Status, "4") {
			return false
		}
	}
	if len(b.Recipients) > 0 && !failed {
		return false
	}
	low := strings.ToLower(beforeCopy(text))
	if strings.Contains(low, "permanent") {
		return true
	}
	return !containsAny(low, []string{"delay", "temporar", "will retry", "still trying", "will be retried"})
}
