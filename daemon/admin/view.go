package admin

import (
	"context"
	"errors"
	"time"

	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

// PairDetail is a pair with its people, agreement and sessions, as shown by
// `mentord pair show` and printed as JSON.
type PairDetail struct {
	store.PairView
	Sessions []SessionDetail `json:"sessions"`
	// Match is each side's answer in force to "Are we the right match?"
	// (for the admin only), by role; Versions the agreement's versions
	// with who confirmed each when.
	Match    map[string]*store.MatchAnswer `json:"match,omitempty"`
	Versions []AgreementVersion            `json:"agreement_versions,omitempty"`
}

// AgreementVersion is a version of the agreement with its confirmations.
type AgreementVersion struct {
	store.AgreementVersion
	ProposedByName string               `json:"proposed_by_name,omitempty"`
	Confirmed      []store.Confirmation `json:"confirmed"`
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
	if err != nil {
		return PairDetail{}, err
	}
	d := PairDetail{PairView: v, Sessions: ss, Match: map[string]*store.MatchAnswer{}}
	for role, id := range map[string]int64{store.RoleMentor: v.Mentor.ID, store.RoleMentee: v.Mentee.ID} {
		a, err := store.LatestMatchAnswer(ctx, r.DB.R(), v.ID, id)
		if err == nil {
			d.Match[role] = &a
		} else if !errors.Is(err, store.ErrNotFound) {
			return d, err
		}
	}
	vs, err := store.AgreementVersions(ctx, r.DB.R(), v.ID)
	if err != nil {
		return d, err
	}
	for _, av := range vs {
		cs, err := store.Confirmations(ctx, r.DB.R(), av.ID)
		if err != nil {
			return d, err
		}
		x := AgreementVersion{AgreementVersion: av, Confirmed: cs}
		if av.ProposedBy != nil {
			x.ProposedByName = map[int64]string{v.Mentor.ID: v.Mentor.Name, v.Mentee.ID: v.Mentee.Name}[*av.ProposedBy]
		}
		d.Versions = append(d.Versions, x)
	}
	return d, nil
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
