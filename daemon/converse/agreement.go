package converse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/intent"
	"github.com/mentord/mentord/templates"
)

// The agreement both confirm (issue 14). A reply to the agreement (its
// token or thread, from the address it went to: ingest checked both, so a
// stranger or the other person of the pair cannot confirm for someone) is
// one of:
//   - a confirmation ("I agree", "Jeg er enig", a plain yes) of the version
//     it answers, which must be the latest: recorded with its time. When
//     both have confirmed the latest version it is agreed: its items become
//     the pair's agreement (review checklists quote its objectives) and a
//     changed cadence, length or place re-plans the sessions still to come
//     (updates to both); nothing changes the sessions otherwise.
//   - a change: numbered lines "N. new text" for the items 1 to 7 as the
//     document numbers them (objectives, how often, where, how long,
//     staying in touch, recording progress, reviewing the relationship).
//     Each replaces that item's text; how often, how long and the review
//     rhythm must read as such. The result is the next version, sent to
//     both to confirm again; the proposer's change is not their
//     confirmation. Lines without a number change nothing.
//   - anything else: kept for the admin, and the sender told how to answer.

// items are the agreement's numbered items, as a change reply names them.
var items = []string{"objectives", "cadence", "location", "minutes", "contact", "progress", "review"}

func (t *talk) agreementReply(ctx context.Context) (Result, error) {
	q := t.c.Tx
	latest, err := store.LatestAgreement(ctx, q, t.pair.ID)
	if errors.Is(err, store.ErrNotFound) {
		return t.keep("a reply to an agreement that has no version", nil), nil
	}
	if err != nil {
		return Result{}, err
	}
	answered := 1
	if id := t.m.Prompt.OutboxID; id != nil {
		key, err := store.OutboxKey(ctx, q, *id)
		if err != nil {
			return Result{}, err
		}
		answered = versionOfKey(key)
	}
	if intent.Agrees(t.text) {
		if answered != latest.Version {
			return t.agreementUnclear(latest, "agreement-old"), nil
		}
		return t.confirmAgreement(ctx, latest)
	}
	changes := intent.Items(t.text, len(items))
	if len(changes) == 0 {
		return t.agreementUnclear(latest, "agreement-format"), nil
	}
	next := latest
	next.ID, next.AgreedAt, next.CreatedAt = 0, nil, t.c.Now
	var changed []string
	for n := 1; n <= len(items); n++ {
		v, ok := changes[n]
		if !ok {
			continue
		}
		switch items[n-1] {
		case "objectives":
			next.Objectives = v
		case "cadence":
			c := intent.Cadence(v)
			if _, err := schedule.ParseCadence(c); c == "" || err != nil {
				return t.agreementUnclear(latest, "agreement-cadence"), nil
			}
			next.Cadence = c
		case "location":
			next.Location = v
		case "minutes":
			m := intent.Minutes(v)
			if m < 15 || m > 480 {
				return t.agreementUnclear(latest, "agreement-minutes"), nil
			}
			next.SessionMinutes = m
		case "contact":
			next.Contact = v
		case "progress":
			next.Progress = v
		case "review":
			e, ok := intent.Every(v)
			if !ok {
				return t.agreementUnclear(latest, "agreement-review"), nil
			}
			next.ReviewEvery = e
		}
	}
	for i, k := range items {
		if fieldOf(latest, k) != fieldOf(next, k) {
			changed = append(changed, items[i])
		}
	}
	if len(changed) == 0 {
		return t.agreementUnclear(latest, "agreement-same"), nil
	}
	return t.result(store.OutcomeLogged, fmt.Sprintf("agreement: version %d proposed", latest.Version+1), func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		next.ProposedBy, next.InboundID, next.Changed = &pid, &inboundID, strings.Join(changed, ",")
		if err := store.InsertAgreementVersion(ctx, t.c.Tx, &next); err != nil {
			return err
		}
		if err := store.MarkReplied(ctx, t.c.Tx, t.m.Prompt.ID, t.c.Now); err != nil {
			return err
		}
		return t.sendVersion(ctx, next, changed)
	}), nil
}

// sendVersion sends a new version of the agreement to both, each with a
// token of their own agreement prompt.
func (t *talk) sendVersion(ctx context.Context, v store.AgreementVersion, changed []string) error {
	a := compose.AgreementOf(v)
	for _, to := range []store.Person{t.pair.Mentee, t.pair.Mentor} {
		ct := compose.Talk{To: to, Pair: t.pair, SessionID: t.m.Prompt.SessionID, Purpose: store.PurposeAgreement, Agreement: &a,
			Key:  fmt.Sprintf("agreement:%d:v%d:%d", t.pair.ID, v.Version, to.ID),
			Talk: templates.Talk{What: "agreement", Version: v.Version, Changed: changed, Who: templates.Person{Name: t.m.Person.Name}}}
		if to.ID == t.m.Person.ID {
			ct.InReplyTo = t.m.Header.MessageID
		}
		if err := t.c.sendTalk(ctx, ct); err != nil {
			return err
		}
	}
	return nil
}

// confirmAgreement records the sender's confirmation of v, and when both
// have confirmed it, makes it the pair's agreement.
func (t *talk) confirmAgreement(ctx context.Context, v store.AgreementVersion) (Result, error) {
	return t.result(store.OutcomeLogged, fmt.Sprintf("agreement: version %d confirmed", v.Version), func(ctx context.Context, inboundID int64) error {
		q, now := t.c.Tx, t.c.Now
		n, err := store.Confirm(ctx, q, v.ID, t.m.Person.ID, &inboundID, now)
		if err != nil {
			return err
		}
		if err := store.MarkReplied(ctx, q, t.m.Prompt.ID, now); err != nil {
			return err
		}
		a := compose.AgreementOf(v)
		if n < 2 || v.AgreedAt != nil {
			return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "agreement-confirmed", Version: v.Version}, func(ct *compose.Talk) { ct.Agreement = &a })
		}
		old := t.pair.Agreement
		if err := store.MarkAgreed(ctx, q, v, now); err != nil {
			return err
		}
		replanned, err := t.replan(ctx, old, v)
		if err != nil {
			return err
		}
		t.session = nil
		for _, to := range []store.Person{t.pair.Mentee, t.pair.Mentor} {
			err := t.send(ctx, inboundID, to, templates.Talk{What: "agreement-agreed", Version: v.Version, Sessions: sessionInfos(replanned)},
				func(ct *compose.Talk) { ct.Agreement = &a })
			if err != nil {
				return err
			}
		}
		return nil
	}), nil
}

// replan makes the sessions still to come follow an agreed cadence, length
// and place that differ from the old agreement. The next session keeps its
// time; the ones after it follow the new cadence from it.
func (t *talk) replan(ctx context.Context, old store.Agreement, v store.AgreementVersion) ([]store.Session, error) {
	if old.Cadence == v.Cadence && old.SessionMinutes == v.SessionMinutes && old.Location == v.Location {
		return nil, nil
	}
	q, now := t.c.Tx, t.c.Now
	ss, err := store.ListSessions(ctx, q, t.pair.ID)
	if err != nil {
		return nil, err
	}
	cad, cerr := schedule.ParseCadence(v.Cadence)
	loc := personZone(store.Person{Timezone: old.Timezone})
	var first *store.Session
	k := 0
	var out []store.Session
	for i := range ss {
		s := ss[i]
		if s.Status != store.SessionPlanned || !s.StartsAt.After(now) {
			continue
		}
		start := s.StartsAt
		if first == nil {
			first = &ss[i]
		} else if old.Cadence != v.Cadence && cerr == nil {
			k++
			start = cad.Nth(first.StartsAt.In(loc), k)
		}
		if start.Equal(s.StartsAt) && s.DurationMin == v.SessionMinutes && s.Location == v.Location {
			continue
		}
		if !start.Equal(s.StartsAt) {
			if err := store.MoveSession(ctx, q, s.ID, start, now); err != nil {
				return nil, err
			}
			s.Sequence++ // MoveSession raised it; ReplanSession raises it once more, which is harmless
		}
		if err := store.ReplanSession(ctx, q, s.ID, start, v.SessionMinutes, v.Location, now); err != nil {
			return nil, err
		}
		s.StartsAt, s.DurationMin, s.Location = start, v.SessionMinutes, v.Location
		out = append(out, s)
	}
	return out, nil
}

// agreementUnclear keeps a reply to the agreement that cannot be taken for
// the admin and tells the sender how to answer.
func (t *talk) agreementUnclear(v store.AgreementVersion, reason string) Result {
	return t.keepWith("a reply to the agreement that cannot be taken ("+reason+")", func(ctx context.Context, inboundID int64) error {
		return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "agreement-unclear", Version: v.Version, Reason: reason}, nil)
	})
}

// versionOfKey is the agreement version a message's idempotency key names:
// "agreement:PAIR:vN:PERSON" for a later version, the draft otherwise.
func versionOfKey(key string) int {
	for _, part := range strings.Split(key, ":") {
		if n, err := strconv.Atoi(strings.TrimPrefix(part, "v")); err == nil && strings.HasPrefix(part, "v") {
			return n
		}
	}
	return 1
}

// fieldOf is one item of a version, as text, for comparing.
func fieldOf(v store.AgreementVersion, item string) string {
	switch item {
	case "objectives":
		return v.Objectives
	case "cadence":
		return v.Cadence
	case "location":
		return v.Location
	case "minutes":
		return strconv.Itoa(v.SessionMinutes)
	case "contact":
		return v.Contact
	case "progress":
		return v.Progress
	case "review":
		return strconv.Itoa(v.ReviewEvery)
	}
	return ""
}
