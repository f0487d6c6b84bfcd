package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// PlanSession is a session with what the schedule rules need to know of its
// pair. A pass loads thousands, so only the columns the rules read.
type PlanSession struct {
	ID          int64     `db:"id"`
	StartsAt    time.Time `db:"starts_at"`
	DurationMin int       `db:"duration_min"`
	Status      string    `db:"status"`
	Sequence    int       `db:"sequence"`
	Kind        string    `db:"kind"`
	PairStatus  string    `db:"pair_status"`
	MentorID    int64     `db:"mentor_id"`
	MenteeID    int64     `db:"mentee_id"`
	MentorTZ    string    `db:"mentor_tz"`
	MenteeTZ    string    `db:"mentee_tz"`
	Paused      bool      `db:"paused"` // the pair has an open pause: no prompts
}

// End is when the session is planned to end.
func (s PlanSession) End() time.Time {
	return s.StartsAt.Add(time.Duration(s.DurationMin) * time.Minute)
}

// PlanAttendee is an attendee's answer to a session's invite.
type PlanAttendee struct {
	SessionID int64  `db:"session_id"`
	PersonID  int64  `db:"person_id"`
	Partstat  string `db:"partstat"`
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
	Attendees    []PlanAttendee
	CalendarSent []CalendarSent
	Prompts      []PlanPrompt
	MatchAsks    []PlanMatchAsk // "not sure yet": ask the match question again after these sessions
	NextPrompt   NullTime       // the start of the first planned session after the prompt window
	NextInvite   NullTime       // the start of the first planned session after the invite horizon
}

// Window is what a pass of the schedule looks at.
type Window struct {
	PromptFrom, PromptTo time.Time // sessions starting here may have a prompt due
	InviteTo             time.Time // sessions starting before this are invited
}

// relevantSessions selects the sessions a pass must look at, and no more, so
// a pass stays cheap with many pairs:
//   - those in the prompt window (checklists, briefs, reflections, nudges);
//   - those within the invite horizon not yet sent to every attendee;
//   - those whose calendar changed after someone was sent it (a newer
//     SEQUENCE: an update or a cancellation is due), whenever they fall.
//
// The three are joined with UNION ALL and made distinct after: a UNION
// merges them in id order, which made SQLite read every session for the
// third in that order rather than sort what the partial index finds.
const relevantSessions = `WITH relevant AS (
	SELECT id FROM sessions WHERE starts_at BETWEEN :pfrom AND :pto
	UNION ALL
	SELECT id FROM sessions WHERE invited_at IS NULL AND status = 'planned' AND starts_at > :pto AND starts_at <= :ito
	UNION ALL
	SELECT s.id FROM sessions s WHERE s.sequence > 0 AND s.starts_at > :pfrom
		AND EXISTS (SELECT 1 FROM calendar_sent c WHERE c.session_id = s.id AND c.sequence < s.sequence)
)`

// byID joins the loaded session ids, passed as one JSON array.
const byID = `WITH relevant(id) AS (SELECT value FROM json_each(?))`

// LoadPlanState reads the state of the sessions relevant to a pass, in the
// snapshot q reads. A pass of the daemon reads it a part at a time instead
// (RelevantSessions, then LoadPlanSessions), so its memory does not grow
// with the roster.
func LoadPlanState(ctx context.Context, q Querier, w Window) (PlanState, error) {
	var st PlanState
	var err error
	if st.NextPrompt, st.NextInvite, err = PlanBounds(ctx, q, w); err != nil {
		return st, err
	}
	ids, err := RelevantSessions(ctx, q, w)
	if err != nil || len(ids) == 0 {
		return st, err
	}
	part, err := LoadPlanSessions(ctx, q, ids)
	part.NextPrompt, part.NextInvite = st.NextPrompt, st.NextInvite
	return part, err
}

// PlanBounds returns when the next sessions enter the prompt window and the
// invite horizon (the first planned session after each).
func PlanBounds(ctx context.Context, q Querier, w Window) (nextPrompt, nextInvite NullTime, err error) {
	for _, b := range []struct {
		dst   *NullTime
		after time.Time
	}{{&nextPrompt, w.PromptTo}, {&nextInvite, w.InviteTo}} {
		if err := sqlx.GetContext(ctx, q, b.dst, `SELECT MIN(starts_at) FROM sessions WHERE status = 'planned' AND starts_at > ?`,
			UTC(b.after)); err != nil {
			return nextPrompt, nextInvite, fmt.Errorf("load plan state: %w", err)
		}
	}
	return nextPrompt, nextInvite, nil
}

// RelevantSessions returns the ids of the sessions a pass must look at, in
// ascending order.
func RelevantSessions(ctx context.Context, q Querier, w Window) ([]int64, error) {
	query, args, err := sqlx.Named(relevantSessions+` SELECT DISTINCT id FROM relevant ORDER BY id`,
		map[string]any{"pfrom": UTC(w.PromptFrom), "pto": UTC(w.PromptTo), "ito": UTC(w.InviteTo)})
	if err != nil {
		return nil, err
	}
	var ids []int64
	if err := sqlx.SelectContext(ctx, q, &ids, query, args...); err != nil {
		return nil, fmt.Errorf("load plan state: %w", err)
	}
	return ids, nil
}

// LoadPlanSessions reads the state of the given sessions (bounds left zero).
func LoadPlanSessions(ctx context.Context, q Querier, ids []int64) (PlanState, error) {
	var st PlanState
	idList, err := json.Marshal(ids)
	if err != nil {
		return st, err
	}
	for _, qq := range []struct {
		dst   any
		query string
	}{
		{&st.Sessions, `SELECT s.id, s.starts_at, s.duration_min, s.status, s.sequence, s.kind, p.status AS pair_status, p.mentor_id, p.mentee_id,
				mr.timezone AS mentor_tz, me.timezone AS mentee_tz,
				EXISTS (SELECT 1 FROM pauses pa WHERE pa.pair_id = p.id AND pa.ended_at IS NULL) AS paused
			FROM relevant r JOIN sessions s ON s.id = r.id JOIN pairs p ON p.id = s.pair_id
			JOIN people mr ON mr.id = p.mentor_id JOIN people me ON me.id = p.mentee_id`},
		{&st.Attendees, `SELECT a.session_id, a.person_id, a.partstat FROM relevant r JOIN session_attendees a ON a.session_id = r.id`},
		{&st.CalendarSent, `SELECT c.session_id, c.person_id, c.sequence, c.method, c.starts_at
			FROM relevant r JOIN calendar_sent c ON c.session_id = r.id`},
		{&st.Prompts, `SELECT pr.session_id, pr.person_id, pr.purpose, pr.replied_at,
				(SELECT MIN(o.sent_at) FROM outbox o WHERE o.prompt_id = pr.id) AS first_sent_at,
				(SELECT COUNT(*) FROM outbox o WHERE o.prompt_id = pr.id) AS messages
			FROM relevant r JOIN prompts pr ON pr.session_id = r.id AND pr.purpose <> 'invite'`},
		{&st.MatchAsks, `SELECT m.session_id, m.person_id FROM relevant r JOIN match_asks m ON m.session_id = r.id`},
	} {
		if err := sqlx.SelectContext(ctx, q, qq.dst, byID+qq.query, string(idList)); err != nil {
			return st, fmt.Errorf("load plan state: %w", err)
		}
	}
	return st, nil
}

// Prefetch is the pairs, sessions and attendees behind a set of sessions.
type Prefetch struct {
	Pairs     []PairView
	Sessions  []Session // every session of those pairs, by pair and time
	Attendees []Attendee
}

// LoadForSessions reads, in three queries, the pairs of the given sessions with
// all their sessions, and the attendees of the given sessions.
func LoadForSessions(ctx context.Context, q Querier, sessionIDs []int64) (Prefetch, error) {
	var pf Prefetch
	list, err := json.Marshal(sessionIDs)
	if err != nil {
		return pf, err
	}
	const pairsOf = ` IN (SELECT pair_id FROM sessions WHERE id IN (SELECT value FROM json_each(?)))`
	if err := sqlx.SelectContext(ctx, q, &pf.Pairs, pairViewSelect+` WHERE p.id`+pairsOf, string(list)); err != nil {
		return pf, fmt.Errorf("prefetch pairs: %w", err)
	}
	if err := sqlx.SelectContext(ctx, q, &pf.Sessions, `SELECT * FROM sessions WHERE pair_id`+pairsOf+
		` ORDER BY pair_id, starts_at, number`, string(list)); err != nil {
		return pf, fmt.Errorf("prefetch sessions: %w", err)
	}
	if err := sqlx.SelectContext(ctx, q, &pf.Attendees, `SELECT session_id, person_id, role, partstat, replied_at FROM session_attendees
		WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY session_id, role`, string(list)); err != nil {
		return pf, fmt.Errorf("prefetch attendees: %w", err)
	}
	return pf, nil
}
