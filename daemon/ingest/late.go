package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// Replies about a session are taken for timings.reply_window after it ends,
// and not after it was cancelled or its pair ended, whichever comes first:
// then its reply tokens, its Message-IDs and its UID no longer apply
// anything. A participant's message after that is recorded as late and kept
// for the admin (the quarantine folder, `mentord status`), never applied and
// never acknowledged, so that an old reply replayed, or one to a session that
// will not take place, changes nothing.

// late says why a message about the session comes too late, or "" when it is
// in time. cancelledAt is when the session was cancelled (nil: it was not),
// pairEnded when its pair ended (nil: it goes on).
func (a *apply) late(sessionID int64, end time.Time, cancelledAt, pairEnded *time.Time) string {
	w := a.r.Cfg.Timings.ReplyWindow
	until, why := end.Add(w.D()), fmt.Sprintf("its reply window (%s) after it ended", w)
	if cancelledAt != nil && cancelledAt.Before(until) {
		until, why = *cancelledAt, "the session was cancelled"
	}
	if pairEnded != nil && !pairEnded.After(until) {
		until, why = *pairEnded, "the pair ended"
	}
	if !a.r.Now().After(until) {
		return ""
	}
	return fmt.Sprintf("late: replies about session %d were taken until %s, when %s; kept for the admin, not logged",
		sessionID, until.UTC().Format("2006-01-02 15:04Z"), why)
}

// lateForPrompt is late for the session a prompt asked about.
func (a *apply) lateForPrompt(p store.PromptRef) string {
	var cancelled *time.Time
	if p.SessionStatus == store.SessionCancelled {
		cancelled = &p.SessionUpdated
	}
	end := p.SessionStarts.Add(time.Duration(p.SessionMinutes) * time.Minute)
	return a.late(p.SessionID, end, cancelled, p.PairEnded)
}

// lateForSession is late for a session a calendar answer is about.
func (a *apply) lateForSession(ctx context.Context, s store.Session) (string, error) {
	pair, err := store.GetPair(ctx, a.tx, s.PairID)
	if err != nil {
		return "", err
	}
	var cancelled *time.Time
	if s.Status == store.SessionCancelled {
		cancelled = &s.UpdatedAt
	}
	return a.late(s.ID, s.End(), cancelled, pair.EndedAt), nil
}
