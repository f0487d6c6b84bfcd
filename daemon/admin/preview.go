package admin

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// PreviewKinds are the message kinds `mentord preview --kind` accepts.
var PreviewKinds = []string{"invite", "update", "cancel", "checklist", "reflection", "nudge", "brief"}

// PreviewMessage is one message as mentord would send it.
type PreviewMessage struct {
	Name string // file name: 03-checklist-mentee.eml
	Kind string
	To   string
	Raw  []byte
}

// Preview renders, through the same code as the live path, the messages
// mentord would send for a pair: every kind for every session, or only the
// session numbered session (0: all) and the kind given ("": all). Nothing is
// written to the database; the reply tokens are stand-ins that match nothing.
// An update and a cancellation are shown as they would follow a change (the
// next SEQUENCE); a message's Date is when it would be sent.
func Preview(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, pairID int64, session int, kind string, now time.Time) ([]PreviewMessage, error) {
	if kind != "" && !slices.Contains(PreviewKinds, kind) {
		return nil, InputError{{Field: "kind", Msg: fmt.Sprintf("must be one of %v", PreviewKinds)}}
	}
	p, err := store.GetPair(ctx, db.R(), pairID)
	if err != nil {
		return nil, err
	}
	sessions, err := store.ListSessions(ctx, db.R(), pairID)
	if err != nil {
		return nil, err
	}
	t := compose.Timings(cfg)
	var out []PreviewMessage
	found := false
	for _, s := range sessions {
		if session != 0 && s.Number != session {
			continue
		}
		found = true
		rs := compose.BuildSessions(store.PlanState{Sessions: []store.PlanSession{{ID: s.ID, StartsAt: s.StartsAt,
			DurationMin: s.DurationMin, Status: s.Status, Sequence: s.Sequence, Kind: s.Kind, PairStatus: p.Status,
			MentorID: p.MentorID, MenteeID: p.MenteeID,
			MentorTZ: p.Mentor.Timezone, MenteeTZ: p.Mentee.Timezone}}})[0]
		for _, a := range previewActions(rs, p, t, now) {
			if kind != "" && string(a.Kind) != kind {
				continue
			}
			comp := compose.New(cfg, tpl, db, a.Due)
			comp.Preview = true
			o, err := comp.Compose(ctx, a)
			if err != nil {
				return nil, fmt.Errorf("session %d %s: %w", s.Number, a.Kind, err)
			}
			role := "mentee"
			if a.PersonID == p.MentorID {
				role = "mentor"
			}
			name := string(a.Kind)
			if a.Kind == schedule.ActNudge {
				name += "-" + string(a.NudgeOf)
			}
			out = append(out, PreviewMessage{
				Name: fmt.Sprintf("%02d-%s-%s.eml", s.Number, name, role), Kind: string(a.Kind), To: o.Item.Recipient, Raw: o.Item.Payload,
			})
		}
	}
	if session != 0 && !found {
		return nil, fmt.Errorf("pair %d has no session number %d: %w", pairID, session, store.ErrNotFound)
	}
	return out, nil
}

// previewActions lists every message of a session, due when the rules would send it.
func previewActions(s schedule.Session, p store.PairView, t schedule.Timings, now time.Time) []schedule.Action {
	later := func(at time.Time) time.Time {
		if at.Before(now) {
			return now
		}
		return at
	}
	var acts []schedule.Action
	for _, k := range []schedule.ActionKind{schedule.ActInvite, schedule.ActUpdate, schedule.ActCancel} {
		seq := s.Sequence
		if k != schedule.ActInvite {
			seq++
		}
		for _, id := range []int64{p.MentorID, p.MenteeID} {
			acts = append(acts, schedule.Action{Kind: k, SessionID: s.ID, PersonID: id, Sequence: seq, Due: later(s.Start.Add(-t.InviteAhead))})
		}
	}
	checklist, reflection := later(schedule.ChecklistAt(s, t)), later(schedule.ReflectionAt(s, t))
	if s.Final {
		acts = append(acts, schedule.Action{Kind: schedule.ActDigest, SessionID: s.ID, PersonID: p.MenteeID, Due: later(schedule.DigestAt(s, t))})
	}
	return append(acts,
		schedule.Action{Kind: schedule.ActChecklist, SessionID: s.ID, PersonID: p.MenteeID, Due: checklist},
		schedule.Action{Kind: schedule.ActReflection, SessionID: s.ID, PersonID: p.MenteeID, Due: reflection},
		schedule.Action{Kind: schedule.ActNudge, NudgeOf: schedule.ActChecklist, SessionID: s.ID, PersonID: p.MenteeID, Due: checklist.Add(t.NudgeAfter)},
		schedule.Action{Kind: schedule.ActNudge, NudgeOf: schedule.ActReflection, SessionID: s.ID, PersonID: p.MenteeID, Due: reflection.Add(t.NudgeAfter)},
		schedule.Action{Kind: schedule.ActBrief, SessionID: s.ID, PersonID: p.MentorID, Due: later(schedule.BriefAt(s, t))},
	)
}
