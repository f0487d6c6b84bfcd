package compose

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// Timings turns the configuration into the schedule rules' timings.
func Timings(cfg *config.Config) schedule.Timings {
	t := cfg.Timings
	return schedule.Timings{
		InviteAhead: t.InviteAhead.D(), ChecklistLead: t.ChecklistLead.D(), ChecklistTime: t.ChecklistTime.Minutes,
		ReflectionDelay: t.ReflectionDelay.D(), NudgeAfter: t.NudgeAfter.D(), ReflectionWindow: t.ReflectionWindow.D(),
		Quiet:       schedule.Quiet{Set: t.QuietHours.Start.Set, Start: t.QuietHours.Start.Minutes, End: t.QuietHours.End.Minutes},
		MentorBrief: cfg.BriefsEnabled(),
	}
}

// Window is what a pass looks at: prompts for the sessions that ended
// within the reflection window (sessions last at most 8 hours) up to those
// starting a little after the checklist lead (the brief goes at most two days
// ahead), and invites up to the invite horizon.
func Window(t schedule.Timings, now time.Time) store.Window {
	return store.Window{
		PromptFrom: now.Add(-t.ReflectionWindow - 8*time.Hour),
		PromptTo:   now.Add(max(t.ChecklistLead, 24*time.Hour) + 48*time.Hour),
		InviteTo:   now.Add(t.InviteAhead),
	}
}

// PlanResult is what a pass of the schedule did.
type PlanResult struct {
	Enqueued int
	Next     time.Time // the earliest time a rule may fire next; zero when none is known
}

// Plan is one pass of the schedule: it finds every action due at now and
// enqueues its message, all in one transaction. Running it again for the same
// state enqueues nothing.
func Plan(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, now time.Time, log *slog.Logger) (PlanResult, error) {
	t := Timings(cfg)
	acts, next, err := DueActions(ctx, db.R(), t, now)
	res := PlanResult{Next: next}
	if err != nil {
		return res, err
	}
	acks, err := store.PendingAcks(ctx, db.R(), 500)
	if err != nil || len(acts)+len(acks) == 0 {
		return res, err
	}
	comp := New(cfg, tpl, db, now)
	if err := comp.Prefetch(ctx, acts); err != nil {
		return res, err
	}
	outs := make([]*Outgoing, 0, len(acts)+len(acks))
	for _, a := range acts {
		out, err := comp.Compose(ctx, a)
		if errors.Is(err, ErrUnsendable) {
			// It would fail the same way at every pass: record it failed, once.
			log.Warn("a message can never be built; recorded as failed, not retried", "key", a.Key(), "session", a.SessionID,
				"person", a.PersonID, "err", err)
			out, err = comp.unsendable(ctx, a, err)
		}
		if err != nil {
			// One broken message must not hold up the others; it is tried again next pass.
			log.Error("cannot compose a message", "key", a.Key(), "session", a.SessionID, "err", err)
			continue
		}
		outs = append(outs, out)
	}
	for _, r := range acks {
		out, err := comp.composeAck(ctx, r)
		if err != nil {
			log.Error("cannot compose an acknowledgement", "reply", r.ID, "err", err)
			continue
		}
		out.ackOf = r.ID
		outs = append(outs, out)
	}
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		n := 0
		defer func() { res.Enqueued = n }()
		for _, out := range outs {
			added, err := Record(ctx, tx, out, now)
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", out.Item.Key, err)
			}
			if out.ackOf != 0 {
				if err := store.AckDone(ctx, tx, out.ackOf); err != nil {
					return err
				}
			}
			if added {
				n++
				log.Debug("enqueued", "kind", out.Item.Kind, "key", out.Item.Key, "msgid", out.Item.MessageID)
			}
		}
		return nil
	})
	if err != nil {
		res.Enqueued = 0
	}
	return res, err
}

// DueActions loads the relevant sessions and applies the schedule rules. It
// also returns when a rule may fire next among the sessions it looked at.
func DueActions(ctx context.Context, q store.Querier, t schedule.Timings, now time.Time) ([]schedule.Action, time.Time, error) {
	w := Window(t, now)
	st, err := LoadPlanState(ctx, q, w)
	if err != nil {
		return nil, time.Time{}, err
	}
	var acts []schedule.Action
	// The first sessions beyond the window enter it when the window has moved up to them.
	var next time.Time
	earliest := func(at time.Time) {
		if at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if st.NextPrompt.Valid {
		earliest(st.NextPrompt.Time.Add(-w.PromptTo.Sub(now)))
	}
	if st.NextInvite.Valid {
		earliest(st.NextInvite.Time.Add(-w.InviteTo.Sub(now)))
	}
	for _, s := range BuildSessions(st) {
		acts = append(acts, schedule.Due(s, t, now)...)
		if at, ok := schedule.Next(s, t, now); ok {
			earliest(at)
		}
	}
	return acts, next, nil
}

// LoadPlanState reads the state in one read transaction, so the pass sees one
// snapshot even while the mentord command changes the roster.
func LoadPlanState(ctx context.Context, q store.Querier, w store.Window) (store.PlanState, error) {
	db, ok := q.(*sqlx.DB)
	if !ok {
		return store.LoadPlanState(ctx, q, w)
	}
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.PlanState{}, err
	}
	defer tx.Rollback()
	return store.LoadPlanState(ctx, tx, w)
}

// BuildSessions joins the loaded rows into the rules' view of each session.
func BuildSessions(st store.PlanState) []schedule.Session {
	locs := map[string]*time.Location{}
	loc := func(name string) *time.Location {
		if l, ok := locs[name]; ok {
			return l
		}
		l, err := time.LoadLocation(name)
		if err != nil {
			l = time.UTC // validated on the way in; a zone that vanished from tzdata falls back to UTC
		}
		locs[name] = l
		return l
	}
	out := make([]schedule.Session, len(st.Sessions))
	index := make(map[int64]*schedule.Session, len(st.Sessions))
	for i, s := range st.Sessions {
		out[i] = schedule.Session{
			ID: s.ID, Start: s.StartsAt, End: s.End(), Cancelled: s.Status == store.SessionCancelled, Final: s.Kind == store.KindFinal,
			PairActive: s.PairStatus == store.PairActive, Sequence: s.Sequence,
			Mentor: schedule.Person{ID: s.MentorID, Loc: loc(s.MentorTZ), Partstat: store.PartstatNeedsAction},
			Mentee: schedule.Person{ID: s.MenteeID, Loc: loc(s.MenteeTZ), Partstat: store.PartstatNeedsAction},
			Sent:   map[int64]schedule.Sent{},
		}
		index[s.ID] = &out[i]
	}
	for _, a := range st.Attendees {
		s := index[a.SessionID]
		switch {
		case s == nil:
		case a.PersonID == s.Mentor.ID:
			s.Mentor.Partstat = a.Partstat
		case a.PersonID == s.Mentee.ID:
			s.Mentee.Partstat = a.Partstat
		}
	}
	for _, c := range st.CalendarSent {
		if s := index[c.SessionID]; s != nil {
			s.Sent[c.PersonID] = schedule.Sent{Sequence: c.Sequence, Method: c.Method}
			if c.PersonID != s.Mentor.ID && c.PersonID != s.Mentee.ID {
				s.Removed = append(s.Removed, c.PersonID)
			}
		}
	}
	for _, p := range st.Prompts {
		s := index[p.SessionID]
		if s == nil {
			continue
		}
		ps := schedule.Prompt{Exists: true, FirstSentAt: p.FirstSentAt.Ptr(), Replied: p.RepliedAt != nil, Messages: p.Messages}
		switch p.Purpose {
		case store.PurposeChecklist:
			s.Checklist = ps
		case store.PurposeReflection:
			s.Reflection = ps
		case store.PurposeBrief:
			s.Brief = ps
		case store.PurposeDigest:
			s.Digest = ps
		}
	}
	return out
}
