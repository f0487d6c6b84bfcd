package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// What `mentord status`, the metrics and the composer read about the state
// of things, each in one query.

// Quarantined is a message put aside, with why.
type Quarantined struct {
	ID         int64     `db:"id" json:"id"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	From       string    `db:"from_addr" json:"from"`
	Kind       string    `db:"kind" json:"kind"`
	Reason     string    `db:"reason" json:"reason"`
}

// ListQuarantined returns the latest limit messages put aside, newest first.
func ListQuarantined(ctx context.Context, q Querier, limit int) ([]Quarantined, error) {
	return listInbound(ctx, q, OutcomeQuarantined, limit)
}

// ListLate returns the latest limit replies that came after their session's
// reply window, kept for the admin, newest first.
func ListLate(ctx context.Context, q Querier, limit int) ([]Quarantined, error) {
	return listInbound(ctx, q, OutcomeLate, limit)
}

func listInbound(ctx context.Context, q Querier, outcome string, limit int) ([]Quarantined, error) {
	var out []Quarantined
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, received_at, from_addr, kind, reason FROM inbound
		WHERE outcome = ? ORDER BY id DESC LIMIT ?`, outcome, limit)
	return out, err
}

// ListSuspended returns the people whose address is suspended after bounces.
func ListSuspended(ctx context.Context, q Querier) ([]Person, error) {
	var out []Person
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM people WHERE suspended_at IS NOT NULL ORDER BY email`)
	return out, err
}

// CountSuspended counts the suspended addresses.
func CountSuspended(ctx context.Context, q Querier) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM people WHERE suspended_at IS NOT NULL`)
	return n, err
}

// Waiting is a prompt that got no reply yet.
type Waiting struct {
	Pair    int64      `db:"pair_id" json:"pair"`
	Session int64      `db:"session_id" json:"session_id"`
	Number  int        `db:"number" json:"number"` // the session's number in its pair
	Purpose string     `db:"purpose" json:"purpose"`
	Mentee  string     `db:"email" json:"mentee"`
	SentAt  *time.Time `db:"-" json:"sent_at,omitempty"`
	Sent    NullTime   `db:"sent_at" json:"-"`
}

// ListWaiting returns the checklists and reflections of active pairs' planned
// sessions starting after since that got no reply, in the order they were made.
func ListWaiting(ctx context.Context, q Querier, since time.Time) ([]Waiting, error) {
	var out []Waiting
	err := sqlx.SelectContext(ctx, q, &out, `SELECT s.pair_id, pr.session_id, s.number, pr.purpose, pe.email,
		(SELECT MIN(o.sent_at) FROM outbox o WHERE o.prompt_id = pr.id) AS sent_at
		FROM prompts pr JOIN sessions s ON s.id = pr.session_id JOIN people pe ON pe.id = pr.person_id
		JOIN pairs p ON p.id = s.pair_id
		WHERE pr.purpose IN ('checklist', 'reflection') AND pr.replied_at IS NULL AND p.status = 'active'
		AND s.status = 'planned' AND s.starts_at > ? ORDER BY pr.id`, UTC(since))
	for i := range out {
		out[i].SentAt = out[i].Sent.Ptr()
	}
	return out, err
}

// CountOutbox counts the outbox's items by state.
func CountOutbox(ctx context.Context, q Querier) (map[string]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// CountWaiting counts the messages waiting to be sent (pending or being
// sent), through the index on the state: unlike CountOutbox, without reading
// every message ever sent.
func CountWaiting(ctx context.Context, q Querier) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')`)
	return n, err
}

// OldestCreated returns when the oldest item in one of states was made, nil
// when there is none.
func OldestCreated(ctx context.Context, q Querier, states ...string) (*time.Time, error) {
	query, args, err := sqlx.In(`SELECT created_at FROM outbox WHERE state IN (?) ORDER BY created_at LIMIT 1`, states)
	if err != nil {
		return nil, err
	}
	var t []time.Time
	if err := sqlx.SelectContext(ctx, q, &t, query, args...); err != nil || len(t) == 0 {
		return nil, err
	}
	return &t[0], nil
}

// SessionRef returns the pair and the number an admin knows a session by.
func SessionRef(ctx context.Context, q Querier, id int64) (pairID int64, number int, err error) {
	var ref struct {
		Pair   int64 `db:"pair_id"`
		Number int   `db:"number"`
	}
	err = sqlx.GetContext(ctx, q, &ref, `SELECT pair_id, number FROM sessions WHERE id = ?`, id)
	return ref.Pair, ref.Number, err
}

// OpenPromises returns the texts of a pair's open promises made at sessions
// before the one starting at before, in the order they were made.
func OpenPromises(ctx context.Context, q Querier, pairID int64, before time.Time) ([]string, error) {
	var texts []string
	err := sqlx.SelectContext(ctx, q, &texts, `SELECT ai.text FROM action_items ai JOIN sessions ps ON ps.id = ai.session_id
		WHERE ai.pair_id = ? AND ai.status = 'open' AND ps.starts_at < ? ORDER BY ps.starts_at, ai.id`, pairID, UTC(before))
	return texts, err
}

// PlanAnswer is a current answer to a checklist question.
type PlanAnswer struct {
	Number   int    `db:"question_no"`
	Question string `db:"question"`
	Answer   string `db:"answer"`
	Key      string `db:"key"` // the question's key in the catalogue ("topics"), "" when unknown
}

// PlanAnswers returns a person's current checklist answers for a session, by
// question, each with the key of the question it answered.
func PlanAnswers(ctx context.Context, q Querier, sessionID, personID int64) ([]PlanAnswer, error) {
	var rows []PlanAnswer
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT e.question_no, e.question, e.answer,
		COALESCE((SELECT json_extract(j.value, '$.key') FROM prompts p, json_each(p.questions) j
			WHERE p.session_id = e.session_id AND p.person_id = e.person_id AND p.purpose = e.prompt_kind
			AND json_extract(j.value, '$.number') = e.question_no LIMIT 1), '') AS key
		FROM progress_entries e
		WHERE e.session_id = ? AND e.person_id = ? AND e.prompt_kind = 'checklist' AND e.superseded_by IS NULL
		ORDER BY e.question_no`, sessionID, personID)
	return rows, err
}
