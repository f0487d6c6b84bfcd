package ingest

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/mentord/mentord/daemon/store"
)

// A delivery report is easy to forge: anyone can write "Action: failed" about
// any address. So a report counts only when it names a message mentord sent:
//  1. by the VERP return path it was delivered to (mentoring+bounce-HASH@,
//     the digest of one message's Message-ID, never the bare mailbox, which
//     every message has as its return path without plus-addressing), or
//  2. by the original's Message-ID together with a failed recipient that is
//     the address the message went to;
//
// it never counts when its From is a participant's (reports come from mail
// servers), and it counts at most once for each message sent.

// matchBounce finds the message a report is about and the status of its
// failure; how is "" when it names nothing mentord sent, status "" when no
// recipient failed.
func (a *apply) matchBounce(ctx context.Context) (sent store.SentMessage, status, how string, err error) {
	b, h := a.res.Bounce, a.res.Header
	for _, to := range append(append([]string{}, h.DeliveredTo...), h.To...) {
		if !isOurBounceAddress(to, a.r.Cfg) {
			continue
		}
		switch m, err := store.SentByEnvelope(ctx, a.tx, to); {
		case err == nil:
			sent, how = m, "return path"
		case !errors.Is(err, store.ErrNotFound):
			return sent, "", "", err
		}
		if how != "" {
			break
		}
	}
	if how == "" && b.OriginalMessageID != "" {
		switch m, err := store.SentByMessageID(ctx, a.tx, b.OriginalMessageID); {
		case err == nil:
			sent = m
		case !errors.Is(err, store.ErrNotFound):
			return sent, "", "", err
		default:
			return sent, "", "", nil
		}
	}
	// The failure of the recipient the message went to; through the return
	// path, where forwarding may have renamed it, any failure.
	for _, r := range b.Recipients {
		if r.Action != "failed" {
			continue
		}
		if sameAddress(r.Address, sent.Recipient) || sameAddress(r.Original, sent.Recipient) {
			return sent, r.Status, firstOf(how, "Message-ID and recipient"), nil
		}
		if how != "" && status == "" {
			status = r.Status
		}
	}
	if how == "" { // the Message-ID alone, or another recipient's failure: not ours
		return sent, "", "", nil
	}
	return sent, status, how, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// anAddress finds what a loose reader would take for addresses.
var anAddress = regexp.MustCompile(`[^\s<>"'(),;:|\[\]]+@[^\s<>"'(),;:|\[\]]+`)

// fromParticipant reports a report whose From names a participant: its one
// mailbox, or when From is not one, any address in it.
func (a *apply) fromParticipant(ctx context.Context) (bool, error) {
	h := a.res.Header
	addrs := anAddress.FindAllString(h.FromField, 10)
	if h.From != "" {
		addrs = []string{h.From}
	}
	for _, addr := range addrs {
		switch _, err := store.GetPersonByEmail(ctx, a.tx, strings.Trim(addr, ".")); {
		case err == nil:
			return true, nil
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
	}
	return false, nil
}
