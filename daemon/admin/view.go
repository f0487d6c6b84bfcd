package admin

import (
	"context"
	"time"

	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

// PairDetail is a pair with its people, agreement and sessions, as shown by
// `mentord pair show` and printed as JSON.
type PairDetail struct {
	store.PairView
	Sessions []SessionDetail `json:"sessions"`
}

// SessionDetail is a session with its local time and each attendee's reply.
type SessionDetail struct {
	store.Session
	Local    string `json:"local_start"` // "2027-01-12T14:00" in the session's zone
	Mentor   string `json:"mentor_reply"`
	Mentee   string `json:"mentee_reply"`
	Upcoming bool   `json:"upcoming"`
}

// PairSummary is one line of `mentord pair list`.
type PairSummary struct {
	store.PairView
	Sessions    int        `json:"sessions"`
	Cancelled   int        `json:"cancelled"`
	Held        int        `json:"held"`
	NextSession *time.Time `json:"next_session,omitempty"`
}

// Pair returns one pair in full.
func (r *Roster) Pair(ctx context.Context, id int64) (PairDetail, error) {
	v, err := store.GetPair(ctx, r.DB.R(), id)
	if err != nil {
		return PairDetail{}, err
	}
	ss, err := r.Sessions(ctx, id)
	return PairDetail{PairView: v, Sessions: ss}, err
}

// Sessions returns a pair's sessions in time order.
func (r *Roster) Sessions(ctx context.Context, pairID int64) ([]SessionDetail, error) {
	if _, err := store.GetPair(ctx, r.DB.R(), pairID); err != nil {
		return nil, err
	}
	ss, err := store.ListSessions(ctx, r.DB.R(), pairID)
	if err != nil {
		return nil, err
	}
	now := r.now()
	out := make([]SessionDetail, len(ss))
	for i, s := range ss {
		d := SessionDetail{Session: s, Local: records.LocalTime(s.StartsAt, s.Timezone), Upcoming: s.Status == store.SessionPlanned && s.StartsAt.After(now)}
		as, err := store.ListAttendees(ctx, r.DB.R(), s.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a.Role == store.RoleMentor {
				d.Mentor = a.Partstat
			} else {
				d.Mentee = a.Partstat
			}
		}
		out[i] = d
	}
	return out, nil
}

// Pairs lists the pairs, optionally only those with a status, with counts.
func (r *Roster) Pairs(ctx context.Context, status string) ([]PairSummary, error) {
	vs, err := store.ListPairs(ctx, r.DB.R(), status)
	if err != nil {
		return nil, err
	}
	now := r.now()
	out := make([]PairSummary, len(vs))
	for i, v := range vs {
		out[i].PairView = v
		ss, err := store.ListSessions(ctx, r.DB.R(), v.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			out[i].Sessions++
			switch {
			case s.Status == store.SessionCancelled:
				out[i].Cancelled++
			case !s.End().After(now): // held: it has ended, as in the report
				out[i].Held++
			case out[i].NextSession == nil && s.StartsAt.After(now):
				t := s.StartsAt
				out[i].NextSession = &t
			}
		}
	}
	return out, nil
}
