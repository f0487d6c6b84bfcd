package ingest

import (
	"strings"
)

// Who a message is from, as far as mentord believes it. Anyone can send mail
// to the programme address and write any From, so:
//  1. From must be exactly one mailbox (mail/reply reads it strictly, RFC 5322
//     section 3.6.2); a message that claims to be ours with any other From is
//     quarantined for bad_from, never read as the address a loose reader would
//     find in it.
//  2. What ties it to a person is what mentord sent that person: a reply token
//     or one of our Message-IDs (written replies), or the session's UID with
//     the person's own ATTENDEE, whose invite went to that address (calendar
//     answers); the From must be that person's address.
//  3. Where imap.authserv_id names our own server, its DMARC verdict
//     (Authentication-Results, RFC 8601; results of any other server are
//     ignored, anyone upstream can write one) counts: a fail, or a verdict on
//     another domain than the From's (the server and mentord read the sender
//     differently), quarantines the message.
//  4. A person's own words (a calendar COMMENT, a proposal's note) go into
//     mail to someone else only when every check passed, and with
//     authserv_id set only on a DMARC pass; the templates quote them.

// dmarc is our own server's DMARC verdict on a message, worst first.
type dmarc int

const (
	dmarcFail     dmarc = iota // our server says the sender failed DMARC
	dmarcMismatch              // our server evaluated another domain than the From's
	dmarcNone                  // no verdict of our server, or none, neutral, temperror, permerror
	dmarcPass                  // our server says the From's domain passed
	dmarcUnread                // imap.authserv_id is not set: no verdict is read
)

// dmarcOf reads the DMARC verdicts our server (authservID) wrote into
// Authentication-Results (RFC 8601) and returns the worst: a sender can add
// a field naming our server too, and a forged pass must not hide a real fail.
func dmarcOf(authResults []string, authservID, from string) dmarc {
	if authservID == "" {
		return dmarcUnread
	}
	_, fromDomain, _ := strings.Cut(from, "@")
	worst, seen := dmarcPass, false
	for _, h := range authResults {
		id, rest, _ := strings.Cut(withoutComments(h), ";")
		if f := strings.Fields(id); len(f) == 0 || !strings.EqualFold(f[0], authservID) {
			continue
		}
		for _, resinfo := range strings.Split(rest, ";") {
			f := strings.Fields(strings.ToLower(resinfo))
			if len(f) == 0 || !strings.HasPrefix(f[0], "dmarc=") {
				continue
			}
			seen = true
			v := dmarcNone
			switch strings.TrimPrefix(f[0], "dmarc=") {
			case "fail":
				v = dmarcFail
			case "pass":
				v = dmarcPass
				for _, p := range f[1:] {
					if d, ok := strings.CutPrefix(p, "header.from="); ok && strings.Trim(d, `"`) != fromDomain {
						v = dmarcMismatch
					}
				}
			}
			worst = min(worst, v)
		}
	}
	if !seen {
		return dmarcNone
	}
	return worst
}

// withoutComments drops RFC 5322 comments, "(like this)", from a header value.
func withoutComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dmarc is the message's verdict.
func (a *apply) dmarc() dmarc {
	return dmarcOf(a.res.Header.AuthResults, a.r.Cfg.IMAP.AuthservID, a.res.Header.From)
}

// senderDoubt is why the message cannot be taken for its From's (bad_from,
// dmarc_fail, dmarc_mismatch), or "" when nothing speaks against it.
func (a *apply) senderDoubt() string {
	if p := a.res.Header.FromProblem; p != "" {
		return "bad_from: " + p + "; only a From of exactly one mailbox can name a participant"
	}
	id := a.r.Cfg.IMAP.AuthservID
	switch a.dmarc() {
	case dmarcFail:
		return "dmarc_fail: " + id + " says the sender failed DMARC"
	case dmarcMismatch:
		return "dmarc_mismatch: " + id + " evaluated DMARC for another domain than the From's"
	}
	return ""
}

// relayable reports whether the sender's own words may go into mail to
// someone else. It is asked only of a message that passed every check, so
// what remains is DMARC: where our server's verdict is read, only a pass.
func (a *apply) relayable() bool {
	v := a.dmarc()
	return v == dmarcUnread || v == dmarcPass
}

// relayed is the sender's text as it may go into mail to someone else: all
// of it when relayable, else nothing.
func (a *apply) relayed(text string) string {
	if !a.relayable() {
		return ""
	}
	return text
}

// sameAddress compares two addresses as mentord does: ASCII letters in any
// case, every other byte exactly. strings.EqualFold would fold Unicode too,
// and take "\u212aim@example.org" (a Kelvin sign) for kim@example.org.
func sameAddress(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// trustFailure reports a reason that quarantines a message: it claims to
// come from a participant and does not.
func trustFailure(reason string) bool {
	for _, p := range []string{"sender_mismatch", "bad_from", "dmarc_fail", "dmarc_mismatch"} {
		if strings.HasPrefix(reason, p) {
			return true
		}
	}
	return false
}
