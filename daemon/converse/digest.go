package converse

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
)

// Attention is what needs a person, for `mentord status` and the admin
// digest: who, when and which pair, never what anyone wrote (the admin
// reads a message with `mentord inbox show ID`).
type Attention struct {
	Kept       []store.InboxItem       `json:"kept"`       // participants' messages kept for a person
	Quarantine []store.InboxItem       `json:"quarantine"` // quarantined and late messages not yet dismissed
	Declines   []store.DeclinedSession `json:"declines"`   // sessions to come someone declined
	Proposals  []store.OpenMove        `json:"proposals"`  // proposed new times waiting for an answer
	Paused     []store.Pause           `json:"paused"`     // pairs paused now
	Stops      []store.Request         `json:"stops"`      // pairs where someone asked to stop
	Bouncing   []store.Person          `json:"bouncing"`   // addresses with bounces counted, or suspended
	Strangers  int                     `json:"strangers"`  // messages from strangers since the period's start
	// Unagreed: active pairs whose first meeting is over
	// timings.agreement_within ago and whose agreement both have not confirmed.
	Unagreed []store.UnagreedPair `json:"unagreed"`
}

// Empty reports whether nothing needs a person.
func (a Attention) Empty() bool {
	return len(a.Kept)+len(a.Quarantine)+len(a.Declines)+len(a.Proposals)+len(a.Paused)+len(a.Stops)+len(a.Bouncing)+len(a.Unagreed) == 0
}

// LoadAttention reads what needs a person at now; strangers are counted
// from since, and a pair without a confirmed agreement once its first
// meeting is agreementWithin ago.
func LoadAttention(ctx context.Context, q store.Querier, now, since time.Time, agreementWithin time.Duration) (Attention, error) {
	var a Attention
	items, err := store.ListInbox(ctx, q, false, 500)
	if err != nil {
		return a, err
	}
	for _, it := range items {
		if it.Outcome == store.OutcomeQuarantined || it.Outcome == store.OutcomeLate {
			a.Quarantine = append(a.Quarantine, it)
		} else {
			a.Kept = append(a.Kept, it)
		}
	}
	if a.Declines, err = store.DeclinedToCome(ctx, q, now); err != nil {
		return a, err
	}
	if a.Proposals, err = store.OpenMoves(ctx, q); err != nil {
		return a, err
	}
	if a.Paused, err = store.OpenPauses(ctx, q); err != nil {
		return a, err
	}
	if a.Stops, err = store.StopRequests(ctx, q); err != nil {
		return a, err
	}
	if err := sqlx.SelectContext(ctx, q, &a.Bouncing, `SELECT * FROM people WHERE bounce_score > 0 OR suspended_at IS NOT NULL ORDER BY email`); err != nil {
		return a, err
	}
	if a.Unagreed, err = store.PairsWithoutAgreement(ctx, q, now.Add(-agreementWithin)); err != nil {
		return a, err
	}
	a.Strangers, err = store.StrangerCount(ctx, q, since)
	return a, err
}

// Lines says it in plain sentences, one a line, zone for the times.
func (a Attention) Lines(zone *time.Location) []string {
	at := func(t time.Time) string { return t.In(zone).Format("Mon 2 Jan 15:04") }
	var out []string
	for _, k := range a.Kept {
		out = append(out, fmt.Sprintf("message #%d from %s, %s%s: %s (mentord inbox show %d)", k.InboundID, who(k), at(k.ReceivedAt), pairOf(k.PairID),
			k.Reason, k.InboundID))
	}
	for _, k := range a.Quarantine {
		out = append(out, fmt.Sprintf("%s message #%d from %s, %s%s: %s", k.Outcome, k.InboundID, who(k), at(k.ReceivedAt), pairOf(k.PairID), k.Reason))
	}
	for _, d := range a.Declines {
		out = append(out, fmt.Sprintf("session %d of pair %d on %s: the %s answered %s", d.SessionID, d.PairID, at(d.StartsAt), d.Role, d.Partstat))
	}
	for _, m := range a.Proposals {
		out = append(out, fmt.Sprintf("session %d of pair %d: a new time %s proposed (%s), waiting for an answer until %s", m.SessionID, m.PairID,
			at(m.ProposedStart), m.Source, atOr(m.AnswerBy, zone)))
	}
	for _, p := range a.Paused {
		out = append(out, fmt.Sprintf("pair %d is paused until %s", p.PairID, p.Until.In(zone).Format("Mon 2 Jan 2006 15:04")))
	}
	for _, r := range a.Stops {
		out = append(out, fmt.Sprintf("pair %d: someone asked to stop taking part, %s (request %d)", r.PairID, at(r.CreatedAt), r.ID))
	}
	for _, p := range a.Bouncing {
		state := fmt.Sprintf("bounce score %.1f", p.BounceScore)
		if p.SuspendedAt != nil {
			state += ", sending stopped"
		}
		out = append(out, fmt.Sprintf("%s <%s>: %s", p.Name, p.Email, state))
	}
	for _, u := range a.Unagreed {
		out = append(out, fmt.Sprintf("pair %d (%s with %s): no agreement both confirmed since their first meeting on %s (mentord pair show %d)",
			u.PairID, u.Mentor, u.Mentee, u.Chemistry.In(zone).Format("Mon 2 Jan 2006"), u.PairID))
	}
	return out
}

func who(k store.InboxItem) string {
	if k.PersonName != "" {
		return k.PersonName + " <" + k.From + ">"
	}
	return k.From
}

func pairOf(id *int64) string {
	if id == nil {
		return ""
	}
	return fmt.Sprintf(" (pair %d)", *id)
}

func atOr(t *time.Time, zone *time.Location) string {
	if t == nil {
		return "the admin moves it"
	}
	return t.In(zone).Format("Mon 2 Jan 15:04")
}
