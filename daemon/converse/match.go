package converse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/intent"
	"github.com/mentord/mentord/templates"
)

// The match check (issue 14): "Are we the right match? (yes / not sure yet
// / no)", asked of mentor and mentee each after the chemistry meeting. Only
// a reply to that question counts (its token or thread, from the address it
// went to: ingest checked both), so a stranger or the other person of the
// pair cannot answer for someone. The answer is for the admin only:
//   - yes: recorded, thanked;
//   - not sure yet: recorded, asked again after the pair's next session;
//   - no: recorded, the pair paused (its sessions to come cancelled, no
//     prompts while paused) until the agreement's end (at most a year), the
//     admin told at once, and both told kindly that the programme team will
//     be in touch, without saying who answered what.

// matchAnswer handles a reply to the match question.
func (t *talk) matchAnswer(ctx context.Context) (Result, error) {
	a, reason := intent.Verdict(t.text)
	p := *t.m.Prompt
	if a == "" {
		return t.keepWith("an answer to the match check that is neither yes, not sure yet nor no", func(ctx context.Context, inboundID int64) error {
			return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "match-unclear"}, nil)
		}), nil
	}
	answer := map[intent.Answer]string{intent.Yes: store.MatchYes, intent.Unsure: store.MatchUnsure, intent.No: store.MatchNo}[a]
	return t.result(store.OutcomeLogged, "match check: "+answer, func(ctx context.Context, inboundID int64) error {
		q, now := t.c.Tx, t.c.Now
		sid := p.SessionID
		if err := store.InsertMatchAnswer(ctx, q, &store.MatchAnswer{PairID: t.pair.ID, PersonID: t.m.Person.ID, SessionID: &sid,
			InboundID: inboundID, Answer: answer, Reason: reason, ReceivedAt: now}); err != nil {
			return err
		}
		if err := store.MarkReplied(ctx, q, p.ID, now); err != nil {
			return err
		}
		switch answer {
		case store.MatchYes:
			return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "match-thanks"}, nil)
		case store.MatchUnsure:
			next, err := store.NextSession(ctx, q, t.pair.ID, now)
			switch {
			case err == nil:
				if err := store.AskMatchAgain(ctx, q, next.ID, t.m.Person.ID); err != nil {
					return err
				}
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "match-unsure"}, nil)
		}
		return t.matchNo(ctx, inboundID)
	}), nil
}

// matchNo pauses the pair after a "no" and tells the admin and both.
func (t *talk) matchNo(ctx context.Context, inboundID int64) error {
	q, now := t.c.Tx, t.c.Now
	var cancelled []store.Session
	_, err := store.OpenPause(ctx, q, t.pair.ID)
	already := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	until := t.pair.Agreement.EndsAt
	if limit := now.AddDate(1, 0, 0); until.After(limit) || !until.After(now.Add(24*time.Hour)) {
		until = limit
	}
	if !already {
		pid := t.m.Person.ID
		if _, cancelled, err = Pause(ctx, q, t.pair.ID, now, until, now, &pid); err != nil {
			return err
		}
	}
	t.session = nil // about the pair now
	for _, to := range []store.Person{t.pair.Mentee, t.pair.Mentor} {
		if already && to.ID != t.m.Person.ID {
			continue // told when the pair was paused
		}
		if err := t.send(ctx, inboundID, to, templates.Talk{What: "match-paused", Sessions: sessionInfos(cancelled)}, nil); err != nil {
			return err
		}
	}
	lines := []string{fmt.Sprintf("%s (%s of pair %d, with %s) answered no to \"Are we the right match?\".", t.m.Person.Name, t.role(), t.pair.ID, t.other().Name)}
	if already {
		lines = append(lines, "The pair was paused already.")
	} else {
		lines = append(lines, fmt.Sprintf("The pair is paused until %s: %d sessions to come were cancelled, and nothing more is sent to them. Both were told that the programme team will be in touch, not who answered what.",
			until.In(personZone(store.Person{Timezone: t.pair.Agreement.Timezone})).Format(time.DateOnly), len(cancelled)))
	}
	lines = append(lines, fmt.Sprintf("See their answers with `mentord pair show %d`, then `mentord pair resume %d` to go on, `mentord pair replace-mentor %d ...` or `mentord pair end %d`.",
		t.pair.ID, t.pair.ID, t.pair.ID, t.pair.ID))
	return t.c.tellAdmin(ctx, fmt.Sprintf("match-no:%d", inboundID), fmt.Sprintf("pair %d: not the right match, paused", t.pair.ID), lines...)
}
