package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The pair runs the relationship (issue 14): the match check and the
// agreement both confirm.

// Prompt purposes of issue 14.
const (
	PurposeMatch     = "match"     // "Are we the right match?", to each of the pair
	PurposeAgreement = "agreement" // the agreement's draft or a new version, to each of the pair
)

// Match answers.
const (
	MatchYes    = "yes"
	MatchUnsure = "unsure"
	MatchNo     = "no"
)

// MatchAnswer is one answer to the match check.
type MatchAnswer struct {
	ID         int64     `db:"id" json:"-"`
	PairID     int64     `db:"pair_id" json:"-"`
	PersonID   int64     `db:"person_id" json:"-"`
	SessionID  *int64    `db:"session_id" json:"-"`
	InboundID  int64     `db:"inbound_id" json:"-"`
	Answer     string    `db:"answer" json:"answer"`
	Reason     string    `db:"reason" json:"reason,omitempty"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
}

// InsertMatchAnswer records an answer to the match check.
func InsertMatchAnswer(ctx context.Context, q Querier, a *MatchAnswer) error {
	a.ReceivedAt = UTC(a.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO match_answers (pair_id, person_id, session_id, inbound_id, answer, reason, received_at)
		VALUES (:pair_id, :person_id, :session_id, :inbound_id, :answer, :reason, :received_at)`, a)
	if err != nil {
		return fmt.Errorf("record match answer: %w", err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// LatestMatchAnswer is a person's answer in force in a pair, or ErrNotFound.
func LatestMatchAnswer(ctx context.Context, q Querier, pairID, personID int64) (MatchAnswer, error) {
	var a MatchAnswer
	err := sqlx.GetContext(ctx, q, &a, `SELECT * FROM match_answers WHERE pair_id = ? AND person_id = ?
		ORDER BY received_at DESC, id DESC LIMIT 1`, pairID, personID)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// MatchAnswers are a pair's answers, oldest first.
func MatchAnswers(ctx context.Context, q Querier, pairID int64) ([]MatchAnswer, error) {
	var out []MatchAnswer
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM match_answers WHERE pair_id = ? ORDER BY received_at, id`, pairID)
	return out, err
}

// AskMatchAgain asks a person the match question again after a session.
func AskMatchAgain(ctx context.Context, q Querier, sessionID, personID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO match_asks (session_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, sessionID, personID)
	return err
}

// MatchCounts counts, over the pairs and their two people, the answers in
// force: yes, unsure, no, and people asked who have not answered.
type MatchCounts struct {
	Yes        int `json:"yes"`
	Unsure     int `json:"not_sure_yet"`
	No         int `json:"no"`
	Unanswered int `json:"unanswered"`
}

// CountMatches counts the match answers in force of everyone asked.
func CountMatches(ctx context.Context, q Querier) (MatchCounts, error) {
	var c MatchCounts
	var rows []struct {
		Answer sql.NullString `db:"answer"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT (SELECT m.answer FROM match_answers m WHERE m.pair_id = pr.pair_id AND m.person_id = pr.person_id
			ORDER BY m.received_at DESC, m.id DESC LIMIT 1) AS answer
		FROM (SELECT DISTINCT s.pair_id, p.person_id FROM prompts p JOIN sessions s ON s.id = p.session_id WHERE p.purpose = 'match') pr`)
	if err != nil {
		return c, err
	}
	for _, r := range rows {
		switch r.Answer.String {
		case MatchYes:
			c.Yes++
		case MatchUnsure:
			c.Unsure++
		case MatchNo:
			c.No++
		default:
			c.Unanswered++
		}
	}
	return c, nil
}

// PlanMatchAsk is a session after which a person is asked the match question again.
type PlanMatchAsk struct {
	SessionID int64 `db:"session_id"`
	PersonID  int64 `db:"person_id"`
}
