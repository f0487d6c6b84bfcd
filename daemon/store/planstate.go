package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// PlanSession is a session with what the schedule rules need to know of its pair.
type PlanSession struct {
	Session
	PairStatus  string `db:"pair_status"`
	MentorID    int64  `db:"mentor_id"`
	MenteeID    int64  `db:"mentee_id"`
	MentorBrief bool   `db:"mentor_brief"`
	MentorTZ    string `db:"mentor_tz"`
	MenteeTZ    string `db:"mentee_tz"`
}

// PlanPrompt is a prompt with the delivery state of its messages.
type PlanPrompt struct {
	SessionID   int64      `db:"session_id"`
	PersonID    int64      `db:"person_id"`
	Purpose     string     `db:"purpose"`
	RepliedAt   *time.Time `db:"replied_at"`
	FirstSentAt NullTime   `db:"first_sent_at"`
	Messages    int        `db:"messages"`
}

// PlanState is everything the schedule rules look at in one pass.
type PlanState struct {
	Sessions     []PlanSession
	Attendees    []Attendee
	CalendarSent []CalendarSent
	Prompts      []PlanPrompt
	NextBeyond   NullTime // the start of the first planned session after the window
}

// relevantSessions selects the sessions a pass must look at: those starting
// in [from, to], and every later session that changed after it was planned
// (its SEQUENCE went up), since its attendees may need an update or a
// cancellation whenever it falls.
const relevantSessions = `WITH relevant AS (
	SELECT id FROM sessions WHERE starts_at BETWEEN :from AND :to
	UNION
	SELECT id FROM sessions WHERE sequence > 0 AND starts_at > :from
)`

// LoadPlanState reads the state of the sessions relevant at a pass over [from, to].
func LoadPlanState(ctx context.Context, q Querier, from, to time.Time) (PlanState, error) {
	args := map[string]any{"from": UTC(from), "to": UTC(to)}
	var st PlanState
	queries := []struct {
		dst   any
		query string
	}{
		{&st.Sessions, relevantSessions + `
			SELECT s.*, p.status AS pair_status, p.mentor_id, p.mentee_id, p.mentor_brief,
				mr.timezone AS mentor_tz, me.timezone AS mentee_tz
			FROM relevant r JOIN sessions s ON s.id = r.id JOIN pairs p ON p.id = s.pair_id
			JOIN people mr ON mr.id = p.mentor_id JOIN people me ON me.id = p.mentee_id
			ORDER BY s.starts_at, s.id`},
		{&st.Attendees, relevantSessions + `
			SELECT a.* FROM relevant r JOIN session_attendees a ON a.session_id = r.id`},
		{&st.CalendarSent, relevantSessions + `
			SELECT c.session_id, c.person_id, c.sequence, c.method, c.starts_at FROM relevant r JOIN calendar_sent c ON c.session_id = r.id`},
		{&st.Prompts, relevantSessions + `
			SELECT pr.session_id, pr.person_id, pr.purpose, pr.replied_at,
				(SELECT MIN(o.sent_at) FROM outbox o WHERE o.prompt_id = pr.id) AS first_sent_at,
				(SELECT COUNT(*) FROM outbox o WHERE o.prompt_id = pr.id) AS messages
			FROM relevant r JOIN prompts pr ON pr.session_id = r.id`},
	}
	if err := sqlx.GetContext(ctx, q, &st.NextBeyond, `SELECT MIN(starts_at) FROM sessions WHERE status = 'planned' AND starts_at > ?`,
		UTC(to)); err != nil {
		return st, fmt.Errorf("load plan state: %w", err)
	}
	for _, qq := range queries {
		query, qargs, err := sqlx.Named(qq.query, args)
		if err != nil {
			return st, err
		}
		if err := sqlx.SelectContext(ctx, q, qq.dst, query, qargs...); err != nil {
			return st, fmt.Errorf("load plan state: %w", err)
		}
	}
	return st, nil
}
