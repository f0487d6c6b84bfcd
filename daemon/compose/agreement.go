package compose

import (
	"context"
	"errors"
	"strings"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// The agreement both confirm (issue 14). mentord drafts version 1 after the
// chemistry meeting: the objectives, how they stay in touch and how progress
// is recorded from the mentee's answers to the chemistry checklist where
// they gave one, else from what `pair add` recorded; how often, where, how
// long and the review rhythm as the sessions are planned (changing those
// changes the sessions, so they change only through a version both
// confirm). Both get the same draft.

// agreementVersion is the version an agreement message sends: the pair's
// latest, else the draft (not yet stored: Record stores it with the message).
func (c *Composer) agreementVersion(ctx context.Context, p store.PairView, sessions []store.Session) (store.AgreementVersion, error) {
	v, err := store.LatestAgreement(ctx, c.q, p.ID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	a := p.Agreement
	v = store.AgreementVersion{PairID: p.ID, Version: 1, Objectives: a.Objectives, Cadence: a.Cadence, Location: a.Location,
		SessionMinutes: a.SessionMinutes, Contact: a.Contact, Progress: a.ProgressRecording, ReviewEvery: a.ReviewEvery, CreatedAt: c.now}
	for _, s := range sessions {
		if s.Kind != store.KindChemistry {
			continue
		}
		ans, err := store.KeyedAnswers(ctx, c.q, s.ID, p.Mentee.ID)
		if err != nil {
			return v, err
		}
		for key, dst := range map[string]*string{"objectives": &v.Objectives, "contact": &v.Contact, "progress": &v.Progress} {
			if t := strings.TrimSpace(ans[key]); t != "" {
				*dst = t
			}
		}
		break
	}
	return v, nil
}

// AgreementOf is a version's items as templates print them.
func AgreementOf(v store.AgreementVersion) templates.Agreement {
	return templates.Agreement{Objectives: v.Objectives, Cadence: v.Cadence, Location: v.Location, Contact: v.Contact,
		Progress: v.Progress, ReviewEvery: v.ReviewEvery, Minutes: v.SessionMinutes}
}
