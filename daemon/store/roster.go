package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Person is a mentor or a mentee.
type Person struct {
	ID          int64      `db:"id" json:"id"`
	Email       string     `db:"email" json:"email"`
	Name        string     `db:"name" json:"name"`
	Timezone    string     `db:"timezone" json:"timezone"`
	Language    string     `db:"language" json:"language"`
	BounceScore float64    `db:"bounce_score" json:"bounce_score"`
	SuspendedAt *time.Time `db:"suspended_at" json:"suspended_at,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
}

// Pair statuses.
const (
	PairActive = "active"
	PairEnded  = "ended"
)

// Pair is a mentoring relationship.
type Pair struct {
	ID       int64  `db:"id" json:"id"`
	MentorID int64  `db:"mentor_id" json:"-"`
	MenteeID int64  `db:"mentee_id" json:"-"`
	Status   string `db:"status" json:"status"`
	SpecHash string `db:"spec_hash" json:"-"`
	// SharePlans: the mentee chose to let the mentor see their planning answers.
	SharePlans bool       `db:"share_plans" json:"share_plans"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	EndedAt    *time.Time `db:"ended_at" json:"ended_at,omitempty"`
}

// Agreement is what a pair agreed at the start.
type Agreement struct {
	PairID            int64     `db:"pair_id" json:"-"`
	Objectives        string    `db:"objectives" json:"objectives"`
	Cadence           string    `db:"cadence" json:"cadence"`
	SessionMinutes    int       `db:"session_minutes" json:"session_minutes"`
	Location          string    `db:"location" json:"location"`
	Contact           string    `db:"contact" json:"contact"`
	ProgressRecording string    `db:"progress_recording" json:"progress_recording"`
	ReviewEvery       int       `db:"review_every" json:"review_every"`
	Timezone          string    `db:"timezone" json:"timezone"`
	StartsAt          time.Time `db:"starts_at" json:"starts_at"`
	EndsAt            time.Time `db:"ends_at" json:"ends_at"`
}

// PairView is a pair with its people and agreement.
type PairView struct {
	Pair      `db:"pair"`
	Mentor    Person    `db:"mentor" json:"mentor"`
	Mentee    Person    `db:"mentee" json:"mentee"`
	Agreement Agreement `db:"agreement" json:"agreement"`
}

// GetPersonByEmail finds a person by address, case-insensitively.
func GetPersonByEmail(ctx context.Context, q Querier, email string) (Person, error) {
	var p Person
	err := sqlx.GetContext(ctx, q, &p, `SELECT * FROM people WHERE email = ?`, email)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person %s: %w", email, ErrNotFound)
	}
	return p, err
}

// InsertPerson adds p and sets its ID.
func InsertPerson(ctx context.Context, q Querier, p *Person) error {
	p.CreatedAt = UTC(p.CreatedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO people (email, name, timezone, language, created_at)
		VALUES (:email, :name, :timezone, :language, :created_at)`, p)
	if err != nil {
		return fmt.Errorf("insert person: %w", err)
	}
	p.ID, err = res.LastInsertId()
	return err
}

// InsertPair adds the pair and its agreement and sets the pair's ID.
func InsertPair(ctx context.Context, q Querier, p *Pair, a *Agreement) error {
	p.CreatedAt = UTC(p.CreatedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO pairs (mentor_id, mentee_id, status, spec_hash, share_plans, created_at)
		VALUES (:mentor_id, :mentee_id, :status, :spec_hash, :share_plans, :created_at)`, p)
	if err != nil {
		return fmt.Errorf("insert pair: %w", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	a.PairID = p.ID
	a.StartsAt, a.EndsAt = UTC(a.StartsAt), UTC(a.EndsAt)
	_, err = sqlx.NamedExecContext(ctx, q, `INSERT INTO agreements (pair_id, objectives, cadence, session_minutes,
		location, contact, progress_recording, review_every, timezone, starts_at, ends_at)
		VALUES (:pair_id, :objectives, :cadence, :session_minutes, :location, :contact, :progress_recording,
		:review_every, :timezone, :starts_at, :ends_at)`, a)
	if err != nil {
		return fmt.Errorf("insert agreement: %w", err)
	}
	return nil
}

const pairViewSelect = `SELECT
	p.id AS "pair.id", p.mentor_id AS "pair.mentor_id", p.mentee_id AS "pair.mentee_id", p.status AS "pair.status",
	p.spec_hash AS "pair.spec_hash", p.share_plans AS "pair.share_plans", p.created_at AS "pair.created_at", p.ended_at AS "pair.ended_at",
	mr.id AS "mentor.id", mr.email AS "mentor.email", mr.name AS "mentor.name", mr.timezone AS "mentor.timezone",
	mr.language AS "mentor.language", mr.bounce_score AS "mentor.bounce_score", mr.suspended_at AS "mentor.suspended_at",
	mr.created_at AS "mentor.created_at",
	me.id AS "mentee.id", me.email AS "mentee.email", me.name AS "mentee.name", me.timezone AS "mentee.timezone",
	me.language AS "mentee.language", me.bounce_score AS "mentee.bounce_score", me.suspended_at AS "mentee.suspended_at",
	me.created_at AS "mentee.created_at",
	a.pair_id AS "agreement.pair_id", a.objectives AS "agreement.objectives", a.cadence AS "agreement.cadence",
	a.session_minutes AS "agreement.session_minutes", a.location AS "agreement.location", a.contact AS "agreement.contact",
	a.progress_recording AS "agreement.progress_recording", a.review_every AS "agreement.review_every",
	a.timezone AS "agreement.timezone", a.starts_at AS "agreement.starts_at", a.ends_at AS "agreement.ends_at"
FROM pairs p
JOIN people mr ON mr.id = p.mentor_id
JOIN people me ON me.id = p.mentee_id
JOIN agreements a ON a.pair_id = p.id`

// GetPair returns the pair with its people and agreement.
func GetPair(ctx context.Context, q Querier, id int64) (PairView, error) {
	var v PairView
	err := sqlx.GetContext(ctx, q, &v, pairViewSelect+` WHERE p.id = ?`, id)
	return v, notFound(err, "pair", id)
}

// FindActivePair returns the active pair of these two people, or ErrNotFound.
func FindActivePair(ctx context.Context, q Querier, mentorID, menteeID int64) (PairView, error) {
	var v PairView
	err := sqlx.GetContext(ctx, q, &v, pairViewSelect+` WHERE p.mentor_id = ? AND p.mentee_id = ? AND p.status = 'active'`,
		mentorID, menteeID)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// ListPairs returns every pair, or only those with the given status, by id.
func ListPairs(ctx context.Context, q Querier, status string) ([]PairView, error) {
	var vs []PairView
	var err error
	if status == "" {
		err = sqlx.SelectContext(ctx, q, &vs, pairViewSelect+` ORDER BY p.id`)
	} else {
		err = sqlx.SelectContext(ctx, q, &vs, pairViewSelect+` WHERE p.status = ? ORDER BY p.id`, status)
	}
	return vs, err
}

// EndPair marks the pair ended at now.
func EndPair(ctx context.Context, q Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE pairs SET status = 'ended', ended_at = ? WHERE id = ?`, UTC(now), id)
	return err
}

// SetSharePlans records the mentee's choice whether the mentor's brief holds
// their planning answers.
func SetSharePlans(ctx context.Context, q Querier, id int64, share bool) error {
	_, err := q.ExecContext(ctx, `UPDATE pairs SET share_plans = ? WHERE id = ?`, share, id)
	return err
}
