package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The records: what `mentord log` (one mentee's own words, pair by pair) and
// `mentord report` (the programme in counts, no one's words) read.

// MenteePairs returns the pairs in which the person is (or was) the mentee, by id.
func MenteePairs(ctx context.Context, q Querier, personID int64) ([]PairView, error) {
	var vs []PairView
	if err := sqlx.SelectContext(ctx, q, &vs, pairViewSelect+` WHERE p.mentee_id = ? ORDER BY p.id`, personID); err != nil {
		return nil, fmt.Errorf("pairs of mentee %d: %w", personID, err)
	}
	return vs, nil
}

// PairAttendees returns the attendees of every session of a pair.
func PairAttendees(ctx context.Context, q Querier, pairID int64) ([]Attendee, error) {
	var as []Attendee
	err := sqlx.SelectContext(ctx, q, &as, `SELECT a.session_id, a.person_id, a.role, a.partstat, a.replied_at
		FROM session_attendees a JOIN sessions s ON s.id = a.session_id WHERE s.pair_id = ? ORDER BY a.session_id, a.role`, pairID)
	if err != nil {
		return nil, fmt.Errorf("attendees of pair %d: %w", pairID, err)
	}
	return as, nil
}

// PairCalendarReplies returns every calendar answer applied to a pair's
// sessions, in the order they were received.
func PairCalendarReplies(ctx context.Context, q Querier, pairID int64) ([]CalendarReply, error) {
	var rs []CalendarReply
	err := sqlx.SelectContext(ctx, q, &rs, `SELECT cr.inbound_id, cr.session_id, cr.person_id, cr.method, cr.partstat,
		cr.sequence, cr.stamp, cr.comment, cr.received_at
		FROM calendar_replies cr JOIN sessions s ON s.id = cr.session_id WHERE s.pair_id = ? ORDER BY cr.received_at, cr.id`, pairID)
	if err != nil {
		return nil, fmt.Errorf("calendar replies of pair %d: %w", pairID, err)
	}
	return rs, nil
}

// LoggedAnswer is an answer in force, with how many earlier answers to the
// same question it replaced.
type LoggedAnswer struct {
	Entry
	Earlier int `db:"earlier"`
}

// PairAnswers returns a person's answers in force for a pair's sessions, by
// session, prompt and question.
func PairAnswers(ctx context.Context, q Querier, pairID, personID int64) ([]LoggedAnswer, error) {
	var as []LoggedAnswer
	err := sqlx.SelectContext(ctx, q, &as, `SELECT e.*,
		(SELECT COUNT(*) FROM progress_entries o WHERE o.session_id = e.session_id AND o.person_id = e.person_id
			AND o.prompt_kind = e.prompt_kind AND o.question_no = e.question_no AND o.id <> e.id) AS earlier
		FROM progress_entries e JOIN sessions s ON s.id = e.session_id
		WHERE s.pair_id = ? AND e.person_id = ? AND e.superseded_by IS NULL
		ORDER BY s.starts_at, s.number, e.prompt_kind, e.question_no`, pairID, personID)
	if err != nil {
		return nil, fmt.Errorf("answers in pair %d: %w", pairID, err)
	}
	return as, nil
}

// PairUnnumberedReplies returns a person's replies in a pair that answered no
// numbered question (nothing of them is in the progress log but their text).
func PairUnnumberedReplies(ctx context.Context, q Querier, pairID, personID int64) ([]Reply, error) {
	var rs []Reply
	err := sqlx.SelectContext(ctx, q, &rs, `SELECT r.* FROM replies r JOIN sessions s ON s.id = r.session_id
		WHERE s.pair_id = ? AND r.person_id = ? AND NOT EXISTS (SELECT 1 FROM progress_entries e WHERE e.reply_id = r.id)
		ORDER BY r.received_at, r.id`, pairID, personID)
	if err != nil {
		return nil, fmt.Errorf("replies in pair %d: %w", pairID, err)
	}
	return rs, nil
}

// Promise is an action item with the number of the session it was reviewed at.
type Promise struct {
	ActionItem
	ReviewedNumber *int `db:"reviewed_number"`
}

// PairPromises returns a pair's action items, by the session they were made at.
func PairPromises(ctx context.Context, q Querier, pairID int64) ([]Promise, error) {
	var ps []Promise
	err := sqlx.SelectContext(ctx, q, &ps, `SELECT ai.*, rs.number AS reviewed_number
		FROM action_items ai LEFT JOIN sessions rs ON rs.id = ai.reviewed_session_id
		WHERE ai.pair_id = ? ORDER BY ai.session_id, ai.id`, pairID)
	if err != nil {
		return nil, fmt.Errorf("promises of pair %d: %w", pairID, err)
	}
	return ps, nil
}

// SessionCounts is how many of a pair's sessions were held (planned, ended by
// now, and declined by nobody), passed declined (planned and ended, but the
// mentor or mentee had declined it or passed it on to someone else, DELEGATED),
// are still to come (planned, not ended),
// or were cancelled.
type SessionCounts struct {
	PairID    int64 `db:"pair_id" json:"-"`
	Held      int   `db:"held" json:"held"`
	Declined  int   `db:"declined" json:"declined"`
	ToCome    int   `db:"to_come" json:"to_come"`
	Cancelled int   `db:"cancelled" json:"cancelled"`
}

// CountSessions counts every pair's sessions at now.
func CountSessions(ctx context.Context, q Querier, now time.Time) ([]SessionCounts, error) {
	var cs []SessionCounts
	err := sqlx.SelectContext(ctx, q, &cs, `WITH s AS (SELECT pair_id, status,
			CAST(strftime('%s', starts_at) AS INTEGER) + duration_min * 60 <= ? AS ended,
			EXISTS (SELECT 1 FROM session_attendees a WHERE a.session_id = sessions.id AND a.partstat IN ('DECLINED', 'DELEGATED')) AS declined
			FROM sessions)
		SELECT pair_id, SUM(status = 'planned' AND ended AND NOT declined) AS held,
			SUM(status = 'planned' AND ended AND declined) AS declined, SUM(status = 'planned' AND NOT ended) AS to_come,
			SUM(status = 'cancelled') AS cancelled
		FROM s GROUP BY pair_id`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	return cs, nil
}

// InviteCounts is how one side of a pair (mentor or mentee) answers the
// invitations of its planned sessions: the current PARTSTAT of each session
// whose invite (or update) reached the mail server.
type InviteCounts struct {
	PairID    int64  `db:"pair_id" json:"-"`
	Role      string `db:"role" json:"-"`
	Accepted  int    `db:"accepted" json:"accepted"`
	Declined  int    `db:"declined" json:"declined"`
	Tentative int    `db:"tentative" json:"tentative"`
	NoAnswer  int    `db:"no_answer" json:"no_answer"`
	Delegated int    `db:"delegated" json:"delegated"` // passed on to someone else: held like a decline
}

// CountInvitations counts, per pair and role, the answers to invitations sent.
func CountInvitations(ctx context.Context, q Querier) ([]InviteCounts, error) {
	var cs []InviteCounts
	err := sqlx.SelectContext(ctx, q, &cs, `SELECT s.pair_id, a.role,
			SUM(a.partstat = 'ACCEPTED') AS accepted, SUM(a.partstat = 'DECLINED') AS declined,
			SUM(a.partstat = 'TENTATIVE') AS tentative, SUM(a.partstat = 'NEEDS-ACTION') AS no_answer,
			SUM(a.partstat = 'DELEGATED') AS delegated
		FROM session_attendees a JOIN sessions s ON s.id = a.session_id
		WHERE s.status = 'planned' AND EXISTS (SELECT 1 FROM prompts pr JOIN outbox o ON o.prompt_id = pr.id
			WHERE pr.session_id = a.session_id AND pr.person_id = a.person_id AND pr.purpose = 'invite'
			AND o.kind IN ('invite', 'update') AND o.state = 'sent')
		GROUP BY s.pair_id, a.role ORDER BY s.pair_id, a.role`)
	if err != nil {
		return nil, fmt.Errorf("count invitations: %w", err)
	}
	return cs, nil
}

// Declines is how many sessions of a pair one person has declined at some
// time (a later answer or a move does not undo the record).
type Declines struct {
	PairID   int64  `db:"pair_id"`
	PersonID int64  `db:"person_id"`
	Name     string `db:"name"`
	Sessions int    `db:"sessions"`
}

// CountDeclines returns, per pair and person, the sessions they declined.
func CountDeclines(ctx context.Context, q Querier) ([]Declines, error) {
	var ds []Declines
	err := sqlx.SelectContext(ctx, q, &ds, `SELECT s.pair_id, cr.person_id, pe.name, COUNT(DISTINCT cr.session_id) AS sessions
		FROM calendar_replies cr JOIN sessions s ON s.id = cr.session_id JOIN people pe ON pe.id = cr.person_id
		WHERE cr.partstat IN ('DECLINED', 'DELEGATED') GROUP BY s.pair_id, cr.person_id ORDER BY s.pair_id, cr.person_id`)
	if err != nil {
		return nil, fmt.Errorf("count declines: %w", err)
	}
	return ds, nil
}

// promptRows is one row per checklist or reflection sent to a pair's mentee:
// when its first message was sent, and when it was first answered.
const promptRows = `WITH p AS (
	SELECT s.pair_id, pr.purpose, s.starts_at, pr.replied_at,
		(SELECT MIN(o.sent_at) FROM outbox o WHERE o.prompt_id = pr.id AND o.kind = pr.purpose AND o.state = 'sent') AS sent_at
	FROM prompts pr JOIN sessions s ON s.id = pr.session_id JOIN pairs pa ON pa.id = s.pair_id AND pa.mentee_id = pr.person_id
	WHERE pr.purpose IN ('checklist', 'reflection')
), sent AS (SELECT * FROM p WHERE sent_at IS NOT NULL)`

// PromptCounts is how a pair's mentee answered one kind of prompt: how many
// were sent, answered, answered after the session had started (late:
// checklists only), and left without an answer for longer than the cutoff.
type PromptCounts struct {
	PairID   int64  `db:"pair_id" json:"-"`
	Purpose  string `db:"purpose" json:"-"`
	Sent     int    `db:"sent" json:"sent"`
	Answered int    `db:"answered" json:"answered"`
	Late     int    `db:"late" json:"late"`
	Missing  int    `db:"missing" json:"missing"`
}

// CountPrompts counts, per pair and purpose, the prompts sent and answered;
// a prompt sent before cutoff and still unanswered is missing.
func CountPrompts(ctx context.Context, q Querier, cutoff time.Time) ([]PromptCounts, error) {
	var cs []PromptCounts
	err := sqlx.SelectContext(ctx, q, &cs, promptRows+` SELECT pair_id, purpose, COUNT(*) AS sent,
			SUM(replied_at IS NOT NULL) AS answered,
			SUM(purpose = 'checklist' AND replied_at IS NOT NULL AND replied_at > starts_at) AS late,
			SUM(replied_at IS NULL AND sent_at < ?) AS missing
		FROM sent GROUP BY pair_id, purpose ORDER BY pair_id, purpose`, UTC(cutoff))
	if err != nil {
		return nil, fmt.Errorf("count prompts: %w", err)
	}
	return cs, nil
}

// SilentPairs returns the pairs whose mentee left the last two settled prompts
// unanswered. A prompt is settled once answered, sent before cutoff, or (a
// checklist) when its session has started; one still open does not count yet.
func SilentPairs(ctx context.Context, q Querier, cutoff, now time.Time) ([]int64, error) {
	var ids []int64
	err := sqlx.SelectContext(ctx, q, &ids, promptRows+`, settled AS (
			SELECT pair_id, replied_at, ROW_NUMBER() OVER (PARTITION BY pair_id ORDER BY sent_at DESC, starts_at DESC) AS rn
			FROM sent WHERE replied_at IS NOT NULL OR sent_at < ? OR (purpose = 'checklist' AND starts_at <= ?))
		SELECT pair_id FROM settled WHERE rn <= 2 GROUP BY pair_id
		HAVING COUNT(*) = 2 AND SUM(replied_at IS NULL) = 2 ORDER BY pair_id`, UTC(cutoff), UTC(now))
	if err != nil {
		return nil, fmt.Errorf("find silent pairs: %w", err)
	}
	return ids, nil
}

// OpenProposals is how many new times proposed for a pair's sessions still
// wait for a person to decide.
type OpenProposals struct {
	PairID int64 `db:"pair_id"`
	Count  int   `db:"open"`
}

// CountOpenProposals counts the COUNTER proposals of sessions still to come
// that nobody has acted on yet (moving or cancelling the session settles them).
func CountOpenProposals(ctx context.Context, q Querier, now time.Time) ([]OpenProposals, error) {
	var ps []OpenProposals
	err := sqlx.SelectContext(ctx, q, &ps, `SELECT s.pair_id, COUNT(*) AS open
		FROM proposals pp JOIN sessions s ON s.id = pp.session_id
		WHERE pp.status = 'open' AND s.status = 'planned' AND s.starts_at > ?
		GROUP BY s.pair_id ORDER BY s.pair_id`, UTC(now))
	if err != nil {
		return nil, fmt.Errorf("count open proposals: %w", err)
	}
	return ps, nil
}

// MentorPairs returns the pairs a person is the mentor of, oldest first.
func MentorPairs(ctx context.Context, q Querier, personID int64) ([]PairView, error) {
	var vs []PairView
	if err := sqlx.SelectContext(ctx, q, &vs, pairViewSelect+` WHERE p.mentor_id = ? ORDER BY p.id`, personID); err != nil {
		return nil, fmt.Errorf("pairs of mentor %d: %w", personID, err)
	}
	return vs, nil
}
