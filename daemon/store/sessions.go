package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Session kinds.
const (
	KindChemistry = "chemistry" // the first meeting: getting to know each other, settling the agreement
	KindRegular   = "regular"
	KindReview    = "review" // also reviews the relationship itself
	KindFinal     = "final"  // also evaluates the whole programme
)

// Session statuses.
const (
	SessionPlanned   = "planned"
	SessionCancelled = "cancelled"
)

// Attendee roles and the replies they can give (RFC 5545 section 3.2.12).
const (
	RoleMentor = "mentor"
	RoleMentee = "mentee"

	PartstatNeedsAction = "NEEDS-ACTION"
	PartstatDeclined    = "DECLINED"
)

// Session is one meeting of a pair, and one calendar event.
type Session struct {
	ID          int64      `db:"id" json:"id"`
	PairID      int64      `db:"pair_id" json:"pair_id"`
	Number      int        `db:"number" json:"number"`
	Kind        string     `db:"kind" json:"kind"`
	StartsAt    time.Time  `db:"starts_at" json:"starts_at"`
	DurationMin int        `db:"duration_min" json:"duration_minutes"`
	Timezone    string     `db:"timezone" json:"timezone"`
	Location    string     `db:"location" json:"location"`
	Status      string     `db:"status" json:"status"`
	UID         string     `db:"uid" json:"uid"`
	Sequence    int        `db:"sequence" json:"sequence"`
	CreatedAt   time.Time  `db:"created_at" json:"-"`
	UpdatedAt   time.Time  `db:"updated_at" json:"-"`
	InvitedAt   *time.Time `db:"invited_at" json:"-"` // every attendee has been sent an invite
}

// End is when the session is planned to end.
func (s Session) End() time.Time { return s.StartsAt.Add(time.Duration(s.DurationMin) * time.Minute) }

// Attendee is one person's place in a session and their answer to its invite.
type Attendee struct {
	SessionID int64      `db:"session_id" json:"-"`
	PersonID  int64      `db:"person_id" json:"person_id"`
	Role      string     `db:"role" json:"role"`
	Partstat  string     `db:"partstat" json:"partstat"`
	RepliedAt *time.Time `db:"replied_at" json:"replied_at,omitempty"`
}

// InsertSession adds s and sets its ID, with the mentor and mentee as attendees.
func InsertSession(ctx context.Context, q Querier, s *Session, mentorID, menteeID int64) error {
	s.StartsAt, s.CreatedAt, s.UpdatedAt = UTC(s.StartsAt), UTC(s.CreatedAt), UTC(s.UpdatedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO sessions (pair_id, number, kind, starts_at, duration_min,
		timezone, location, status, uid, sequence, created_at, updated_at)
		VALUES (:pair_id, :number, :kind, :starts_at, :duration_min, :timezone, :location, :status, :uid, :sequence,
		:created_at, :updated_at)`, s)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	if s.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO session_attendees (session_id, person_id, role) VALUES (?, ?, 'mentor'), (?, ?, 'mentee')`,
		s.ID, mentorID, s.ID, menteeID)
	if err != nil {
		return fmt.Errorf("insert attendees: %w", err)
	}
	return nil
}

// GetSession returns one session.
func GetSession(ctx context.Context, q Querier, id int64) (Session, error) {
	var s Session
	err := sqlx.GetContext(ctx, q, &s, `SELECT * FROM sessions WHERE id = ?`, id)
	return s, notFound(err, "session", id)
}

// ListSessions returns a pair's sessions in time order.
func ListSessions(ctx context.Context, q Querier, pairID int64) ([]Session, error) {
	var ss []Session
	err := sqlx.SelectContext(ctx, q, &ss, `SELECT * FROM sessions WHERE pair_id = ? ORDER BY starts_at, number`, pairID)
	return ss, err
}

// ListAttendees returns the attendees of a session.
func ListAttendees(ctx context.Context, q Querier, sessionID int64) ([]Attendee, error) {
	var as []Attendee
	err := sqlx.SelectContext(ctx, q, &as, `SELECT session_id, person_id, role, partstat, replied_at FROM session_attendees WHERE session_id = ? ORDER BY role`, sessionID)
	return as, err
}

// MaxSessionNumber returns the highest session number of a pair (0 when none).
func MaxSessionNumber(ctx context.Context, q Querier, pairID int64) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COALESCE(MAX(number), 0) FROM sessions WHERE pair_id = ?`, pairID)
	return n, err
}

// MoveSession sets a new start, raises the SEQUENCE (RFC 5546 section 2.1.4) and
// asks every attendee again, as clients do when the time changes.
func MoveSession(ctx context.Context, q Querier, id int64, start, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE sessions SET starts_at = ?, sequence = sequence + 1, updated_at = ? WHERE id = ?`,
		UTC(start), UTC(now), id); err != nil {
		return fmt.Errorf("move session %d: %w", id, err)
	}
	_, err := q.ExecContext(ctx, `UPDATE session_attendees SET partstat = 'NEEDS-ACTION', replied_at = NULL WHERE session_id = ?`, id)
	return err
}

// CancelSession marks a session cancelled and raises its SEQUENCE.
func CancelSession(ctx context.Context, q Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET status = 'cancelled', sequence = sequence + 1, updated_at = ?
		WHERE id = ? AND status = 'planned'`, UTC(now), id)
	if err != nil {
		return fmt.Errorf("cancel session %d: %w", id, err)
	}
	return nil
}

// CancelFutureSessions cancels every planned session of the pair that starts
// after now, and returns how many it cancelled.
func CancelFutureSessions(ctx context.Context, q Querier, pairID int64, now time.Time) (int, error) {
	res, err := q.ExecContext(ctx, `UPDATE sessions SET status = 'cancelled', sequence = sequence + 1, updated_at = ?
		WHERE pair_id = ? AND status = 'planned' AND starts_at > ?`, UTC(now), pairID, UTC(now))
	if err != nil {
		return 0, fmt.Errorf("cancel sessions of pair %d: %w", pairID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReplaceMentor makes newID the pair's mentor and the mentor attendee of its
// planned sessions still to come, raising their SEQUENCE.
func ReplaceMentor(ctx context.Context, q Querier, pairID, oldID, newID int64, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE pairs SET mentor_id = ? WHERE id = ?`, newID, pairID); err != nil {
		return fmt.Errorf("replace mentor of pair %d: %w", pairID, err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE session_attendees SET person_id = ?, partstat = 'NEEDS-ACTION', replied_at = NULL
		WHERE person_id = ? AND role = 'mentor' AND session_id IN
		(SELECT id FROM sessions WHERE pair_id = ? AND status = 'planned' AND starts_at > ?)`,
		newID, oldID, pairID, UTC(now)); err != nil {
		return fmt.Errorf("replace mentor of pair %d: %w", pairID, err)
	}
	_, err := q.ExecContext(ctx, `UPDATE sessions SET sequence = sequence + 1, updated_at = ?
		WHERE pair_id = ? AND status = 'planned' AND starts_at > ?`, UTC(now), pairID, UTC(now))
	return err
}

// SetSessionKind changes what a session is for. A session still to come gets
// a higher SEQUENCE, so its invitation is sent again with the new description
// ("this is your last session"); the answers given stand, as the time did not
// change.
func SetSessionKind(ctx context.Context, q Querier, id int64, kind string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET kind = ?,
		sequence = sequence + (CASE WHEN starts_at > ? THEN 1 ELSE 0 END), updated_at = ? WHERE id = ?`,
		kind, UTC(now), UTC(now), id)
	if err != nil {
		return fmt.Errorf("set the kind of session %d: %w", id, err)
	}
	return nil
}
