package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// AgreementVersion is one version of a pair's agreement: mentord's draft
// (version 1) or a version a reply proposed.
type AgreementVersion struct {
	ID             int64      `db:"id" json:"-"`
	PairID         int64      `db:"pair_id" json:"-"`
	Version        int        `db:"version" json:"version"`
	Objectives     string     `db:"objectives" json:"objectives"`
	Cadence        string     `db:"cadence" json:"cadence"`
	Location       string     `db:"location" json:"location"`
	SessionMinutes int        `db:"session_minutes" json:"session_minutes"`
	Contact        string     `db:"contact" json:"contact"`
	Progress       string     `db:"progress" json:"progress"`
	ReviewEvery    int        `db:"review_every" json:"review_every"`
	ProposedBy     *int64     `db:"proposed_by" json:"proposed_by,omitempty"`
	InboundID      *int64     `db:"inbound_id" json:"-"`
	Changed        string     `db:"changed" json:"changed,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	AgreedAt       *time.Time `db:"agreed_at" json:"agreed_at,omitempty"`
}

// Confirmation is one person's confirmation of a version.
type Confirmation struct {
	VersionID   int64     `db:"version_id" json:"-"`
	PersonID    int64     `db:"person_id" json:"person_id"`
	InboundID   *int64    `db:"inbound_id" json:"-"`
	ConfirmedAt time.Time `db:"confirmed_at" json:"confirmed_at"`
}

// InsertAgreementDraft records version 1 of a pair's agreement unless it
// exists, and fills v with the stored one.
func InsertAgreementDraft(ctx context.Context, q Querier, v *AgreementVersion) error {
	v.Version, v.CreatedAt = 1, UTC(v.CreatedAt)
	if _, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO agreement_versions (pair_id, version, objectives, cadence, location,
		session_minutes, contact, progress, review_every, created_at)
		VALUES (:pair_id, 1, :objectives, :cadence, :location, :session_minutes, :contact, :progress, :review_every, :created_at)
		ON CONFLICT (pair_id, version) DO NOTHING`, v); err != nil {
		return fmt.Errorf("record the agreement's draft: %w", err)
	}
	return sqlx.GetContext(ctx, q, v, `SELECT * FROM agreement_versions WHERE pair_id = ? AND version = 1`, v.PairID)
}

// InsertAgreementVersion records the pair's next version (v.Version is set).
func InsertAgreementVersion(ctx context.Context, q Querier, v *AgreementVersion) error {
	v.CreatedAt = UTC(v.CreatedAt)
	if err := sqlx.GetContext(ctx, q, &v.Version, `SELECT COALESCE(MAX(version), 0) + 1 FROM agreement_versions WHERE pair_id = ?`, v.PairID); err != nil {
		return err
	}
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO agreement_versions (pair_id, version, objectives, cadence, location,
		session_minutes, contact, progress, review_every, proposed_by, inbound_id, changed, created_at)
		VALUES (:pair_id, :version, :objectives, :cadence, :location, :session_minutes, :contact, :progress, :review_every,
		:proposed_by, :inbound_id, :changed, :created_at)`, v)
	if err != nil {
		return fmt.Errorf("record agreement version: %w", err)
	}
	v.ID, err = res.LastInsertId()
	return err
}

// LatestAgreement is the pair's latest version, or ErrNotFound.
func LatestAgreement(ctx context.Context, q Querier, pairID int64) (AgreementVersion, error) {
	var v AgreementVersion
	err := sqlx.GetContext(ctx, q, &v, `SELECT * FROM agreement_versions WHERE pair_id = ? ORDER BY version DESC LIMIT 1`, pairID)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// AgreementVersions are a pair's versions, first first.
func AgreementVersions(ctx context.Context, q Querier, pairID int64) ([]AgreementVersion, error) {
	var out []AgreementVersion
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM agreement_versions WHERE pair_id = ? ORDER BY version`, pairID)
	return out, err
}

// Confirmations are the confirmations of a version, in time order.
func Confirmations(ctx context.Context, q Querier, versionID int64) ([]Confirmation, error) {
	var out []Confirmation
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM agreement_confirmations WHERE version_id = ? ORDER BY confirmed_at`, versionID)
	return out, err
}

// Confirm records a person's confirmation of a version (a second one
// changes nothing) and reports how many people have confirmed it.
func Confirm(ctx context.Context, q Querier, versionID, personID int64, inboundID *int64, at time.Time) (int, error) {
	if _, err := q.ExecContext(ctx, `INSERT INTO agreement_confirmations (version_id, person_id, inbound_id, confirmed_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, versionID, personID, inboundID, UTC(at)); err != nil {
		return 0, fmt.Errorf("confirm agreement: %w", err)
	}
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM agreement_confirmations WHERE version_id = ?`, versionID)
	return n, err
}

// MarkAgreed records that both confirmed a version, and makes its items the
// pair's agreement.
func MarkAgreed(ctx context.Context, q Querier, v AgreementVersion, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE agreement_versions SET agreed_at = ? WHERE id = ?`, UTC(at), v.ID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE agreements SET objectives = ?, cadence = ?, location = ?, session_minutes = ?, contact = ?,
		progress_recording = ?, review_every = ? WHERE pair_id = ?`,
		v.Objectives, v.Cadence, v.Location, v.SessionMinutes, v.Contact, v.Progress, v.ReviewEvery, v.PairID)
	return err
}

// UnagreedPair is an active pair with no agreed version since its chemistry meeting.
type UnagreedPair struct {
	PairID    int64     `db:"pair_id" json:"pair"`
	Mentor    string    `db:"mentor" json:"mentor"`
	Mentee    string    `db:"mentee" json:"mentee"`
	Chemistry time.Time `db:"chemistry" json:"chemistry"`
}

// PairsWithoutAgreement are the active pairs whose chemistry meeting started
// before cutoff and that have no agreed version.
func PairsWithoutAgreement(ctx context.Context, q Querier, cutoff time.Time) ([]UnagreedPair, error) {
	var out []UnagreedPair
	err := sqlx.SelectContext(ctx, q, &out, `SELECT p.id AS pair_id, mr.name AS mentor, me.name AS mentee, s.starts_at AS chemistry
		FROM pairs p JOIN sessions s ON s.pair_id = p.id AND s.kind = 'chemistry' AND s.status = 'planned'
		JOIN people mr ON mr.id = p.mentor_id JOIN people me ON me.id = p.mentee_id
		WHERE p.status = 'active' AND s.starts_at < ?
		AND NOT EXISTS (SELECT 1 FROM agreement_versions v WHERE v.pair_id = p.id AND v.agreed_at IS NOT NULL)
		ORDER BY p.id`, UTC(cutoff))
	return out, err
}

// KeyedAnswers are a person's checklist answers in force for a session, by
// the key of the question they answer.
func KeyedAnswers(ctx context.Context, q Querier, sessionID, personID int64) (map[string]string, error) {
	var rows []struct {
		Key    string `db:"key"`
		Answer string `db:"answer"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT json_extract(j.value, '$.key') AS key, e.answer
		FROM progress_entries e
		JOIN prompts p ON p.session_id = e.session_id AND p.person_id = e.person_id AND p.purpose = e.prompt_kind
		JOIN json_each(p.questions) j ON json_extract(j.value, '$.number') = e.question_no
		WHERE e.session_id = ? AND e.person_id = ? AND e.prompt_kind = 'checklist' AND e.superseded_by IS NULL`, sessionID, personID)
	out := map[string]string{}
	for _, r := range rows {
		out[r.Key] = r.Answer
	}
	return out, err
}

// OutboxKey is the idempotency key of an outbox row.
func OutboxKey(ctx context.Context, q Querier, id int64) (string, error) {
	var k string
	err := sqlx.GetContext(ctx, q, &k, `SELECT idempotency_key FROM outbox WHERE id = ?`, id)
	return k, err
}

// ReplanSession gives a planned session a new start, length and place,
// raising its SEQUENCE so both get an update (RFC 5546 section 2.1.4).
func ReplanSession(ctx context.Context, q Querier, id int64, start time.Time, minutes int, location string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET starts_at = ?, duration_min = ?, location = ?, sequence = sequence + 1, updated_at = ?
		WHERE id = ? AND status = 'planned'`, UTC(start), minutes, location, UTC(now), id)
	return err
}
