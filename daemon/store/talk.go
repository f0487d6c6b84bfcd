package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The conversation (issue 13): what participants write besides answers to
// checklists and reflections, and what the admin must see of it.

// OutcomeKept is a participant's message that needs a person: kept for the
// admin (the kept table says who, when, which pair and why), in the
// Unrelated folder for a person to read.
const OutcomeKept = "kept"

// Kept statuses.
const (
	KeptOpen      = "open"
	KeptReleased  = "released"
	KeptDismissed = "dismissed"
)

// Kept is a message kept for the admin.
type Kept struct {
	ID        int64      `db:"id" json:"id"`
	InboundID int64      `db:"inbound_id" json:"inbound_id"`
	PersonID  *int64     `db:"person_id" json:"person_id,omitempty"`
	PairID    *int64     `db:"pair_id" json:"pair_id,omitempty"`
	Why       string     `db:"why" json:"why"`
	Status    string     `db:"status" json:"status"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	SettledAt *time.Time `db:"settled_at" json:"settled_at,omitempty"`
}

// KeepMessage records that a message waits for the admin; keeping it again
// (a release that keeps it once more) opens it again with the new reason.
func KeepMessage(ctx context.Context, q Querier, k *Kept) error {
	k.CreatedAt = UTC(k.CreatedAt)
	_, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO kept (inbound_id, person_id, pair_id, why, status, created_at)
		VALUES (:inbound_id, :person_id, :pair_id, :why, 'open', :created_at)
		ON CONFLICT (inbound_id) DO UPDATE SET why = excluded.why, status = 'open', settled_at = NULL`, k)
	if err != nil {
		return fmt.Errorf("keep message %d: %w", k.InboundID, err)
	}
	return nil
}

// SettleKept marks a kept message released or dismissed; false when it was not open.
func SettleKept(ctx context.Context, q Querier, inboundID int64, status string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE kept SET status = ?, settled_at = ? WHERE inbound_id = ? AND status = 'open'`,
		status, UTC(now), inboundID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// InboxItem is a message the admin may need to act on: kept for a person,
// quarantined or late. It holds no content.
type InboxItem struct {
	InboundID  int64     `db:"id" json:"id"`
	From       string    `db:"from_addr" json:"from"`
	Subject    string    `db:"subject" json:"-"` // shown only by `inbox show`
	Outcome    string    `db:"outcome" json:"outcome"`
	Reason     string    `db:"reason" json:"reason"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	PersonName string    `db:"person_name" json:"person,omitempty"`
	PairID     *int64    `db:"pair_id" json:"pair_id,omitempty"`
	KeptStatus string    `db:"kept_status" json:"status"`
	HasRaw     bool      `db:"has_raw" json:"has_raw"`
}

const inboxSelect = `SELECT i.id, i.from_addr, i.subject, i.outcome, i.reason, i.received_at,
	COALESCE(pe.name, '') AS person_name, COALESCE(k.pair_id, s.pair_id) AS pair_id,
	COALESCE(k.status, CASE WHEN i.outcome IN ('quarantined', 'late') THEN 'open' ELSE '' END) AS kept_status,
	i.raw IS NOT NULL AS has_raw
	FROM inbound i LEFT JOIN kept k ON k.inbound_id = i.id
	LEFT JOIN people pe ON pe.id = COALESCE(k.person_id, i.person_id)
	LEFT JOIN sessions s ON s.id = i.session_id`

// ListInbox returns the messages waiting for the admin (kept, quarantined or
// late, not released or dismissed), oldest first; all of them with all.
func ListInbox(ctx context.Context, q Querier, all bool, limit int) ([]InboxItem, error) {
	where := ` WHERE (k.status = 'open' OR (k.id IS NULL AND i.outcome IN ('quarantined', 'late')))`
	if all {
		where = ` WHERE k.id IS NOT NULL OR i.outcome IN ('quarantined', 'late')`
	}
	var out []InboxItem
	err := sqlx.SelectContext(ctx, q, &out, inboxSelect+where+` ORDER BY i.received_at, i.id LIMIT ?`, limit)
	return out, err
}

// GetInboxItem returns one inbound message as the inbox shows it.
func GetInboxItem(ctx context.Context, q Querier, inboundID int64) (InboxItem, error) {
	var it InboxItem
	err := sqlx.GetContext(ctx, q, &it, inboxSelect+` WHERE i.id = ?`, inboundID)
	return it, notFound(err, "message", inboundID)
}

// InboundRaw returns a read message's stored (compressed) original; nil after
// the retention period dropped it.
func InboundRaw(ctx context.Context, q Querier, inboundID int64) ([]byte, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, q, &raw, `SELECT raw FROM inbound WHERE id = ?`, inboundID)
	return raw, notFound(err, "message", inboundID)
}

// SetInboundOutcome records what reading a message again decided.
func SetInboundOutcome(ctx context.Context, q Querier, in *Inbound) error {
	_, err := q.ExecContext(ctx, `UPDATE inbound SET outcome = ?, reason = ?, session_id = COALESCE(?, session_id), person_id = COALESCE(?, person_id) WHERE id = ?`,
		in.Outcome, in.Reason, in.SessionID, in.PersonID, in.ID)
	return err
}

// MarkReleased records that a message the admin released was read again
// and is settled.
func MarkReleased(ctx context.Context, q Querier, inboundID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO kept (inbound_id, person_id, why, status, created_at, settled_at)
		SELECT id, person_id, 'released: ' || outcome, 'released', ?, ? FROM inbound WHERE id = ?
		ON CONFLICT (inbound_id) DO UPDATE SET status = 'released', settled_at = excluded.settled_at`, UTC(now), UTC(now), inboundID)
	return err
}

// DismissInbound closes a quarantined or late message the admin has read:
// it stays recorded, kept with status dismissed.
func DismissInbound(ctx context.Context, q Querier, inboundID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO kept (inbound_id, person_id, why, status, created_at, settled_at)
		SELECT id, person_id, outcome || ': ' || reason, 'dismissed', ?, ? FROM inbound WHERE id = ?
		ON CONFLICT (inbound_id) DO UPDATE SET status = 'dismissed', settled_at = excluded.settled_at`, UTC(now), UTC(now), inboundID)
	return err
}

// CheckIn is a participant's message between sessions, in their own log.
type CheckIn struct {
	ID         int64     `db:"id" json:"id"`
	InboundID  int64     `db:"inbound_id" json:"-"`
	PairID     int64     `db:"pair_id" json:"pair_id"`
	PersonID   int64     `db:"person_id" json:"person_id"`
	SessionID  *int64    `db:"session_id" json:"session_id,omitempty"`
	About      string    `db:"about" json:"about,omitempty"`
	Text       string    `db:"text" json:"text"`
	Relayable  bool      `db:"relayable" json:"-"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
}

// InsertCheckIn records a check-in; reading the same message again records nothing new.
func InsertCheckIn(ctx context.Context, q Querier, c *CheckIn) error {
	c.ReceivedAt = UTC(c.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO checkins (inbound_id, pair_id, person_id, session_id, about, text, relayable, received_at)
		SELECT :inbound_id, :pair_id, :person_id, :session_id, :about, :text, :relayable, :received_at
		WHERE NOT EXISTS (SELECT 1 FROM checkins WHERE inbound_id = :inbound_id AND person_id = :person_id)`, c)
	if err != nil {
		return fmt.Errorf("record check-in: %w", err)
	}
	c.ID, err = res.LastInsertId()
	return err
}

// PairCheckIns returns a person's check-ins in a pair, oldest first.
func PairCheckIns(ctx context.Context, q Querier, pairID, personID int64) ([]CheckIn, error) {
	var out []CheckIn
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM checkins WHERE pair_id = ? AND person_id = ? ORDER BY received_at, id`,
		pairID, personID)
	return out, err
}

// SessionCheckIns returns the relayable check-ins of a person tied to a session.
func SessionCheckIns(ctx context.Context, q Querier, sessionID, personID int64) ([]CheckIn, error) {
	var out []CheckIn
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM checkins WHERE session_id = ? AND person_id = ? AND relayable = 1
		ORDER BY received_at, id`, sessionID, personID)
	return out, err
}

// Request kinds and statuses.
const (
	RequestPause  = "pause"
	RequestResume = "resume"
	RequestMove   = "move"
	RequestLog    = "log"
	RequestStop   = "stop"

	RequestDone    = "done"
	RequestAsked   = "asked"
	RequestRefused = "refused"
	RequestExpired = "expired"
)

// Request is something a participant asked for (or the admin, PersonID nil).
type Request struct {
	ID        int64      `db:"id" json:"id"`
	InboundID *int64     `db:"inbound_id" json:"-"`
	PairID    int64      `db:"pair_id" json:"pair_id"`
	PersonID  *int64     `db:"person_id" json:"person_id,omitempty"`
	Kind      string     `db:"kind" json:"kind"`
	Until     *time.Time `db:"until" json:"until,omitempty"`
	Status    string     `db:"status" json:"status"`
	Detail    string     `db:"detail" json:"detail,omitempty"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	SettledAt *time.Time `db:"settled_at" json:"settled_at,omitempty"`
}

// InsertRequest records a request and sets its ID.
func InsertRequest(ctx context.Context, q Querier, r *Request) error {
	r.CreatedAt = UTC(r.CreatedAt)
	if r.Until != nil {
		u := UTC(*r.Until)
		r.Until = &u
	}
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO requests (inbound_id, pair_id, person_id, kind, until, status, detail, created_at, settled_at)
		VALUES (:inbound_id, :pair_id, :person_id, :kind, :until, :status, :detail, :created_at, :settled_at)`, r)
	if err != nil {
		return fmt.Errorf("record request: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// SettleRequest sets an asked request's outcome.
func SettleRequest(ctx context.Context, q Querier, id int64, status, detail string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE requests SET status = ?, detail = CASE WHEN ? = '' THEN detail ELSE ? END, settled_at = ?
		WHERE id = ?`, status, detail, detail, UTC(now), id)
	return err
}

// AskedRequest returns the person's latest request waiting for their
// confirmation (asked since since), or ErrNotFound.
func AskedRequest(ctx context.Context, q Querier, personID int64, since time.Time) (Request, error) {
	var r Request
	err := sqlx.GetContext(ctx, q, &r, `SELECT * FROM requests WHERE person_id = ? AND status = 'asked' AND created_at >= ?
		ORDER BY id DESC LIMIT 1`, personID, UTC(since))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// CountAskedBefore counts the requests still waiting for a confirmation asked before cut.
func CountAskedBefore(ctx context.Context, q Querier, cut time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM requests WHERE status = 'asked' AND created_at < ?`, UTC(cut))
	return n, err
}

// ExpireRequests closes the requests asked before cut that nobody confirmed.
func ExpireRequests(ctx context.Context, q Querier, cut, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE requests SET status = 'expired', settled_at = ? WHERE status = 'asked' AND created_at < ?`,
		UTC(now), UTC(cut))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// LastLogSent returns when the person's log was last sent on request.
func LastLogSent(ctx context.Context, q Querier, personID int64) (*time.Time, error) {
	var t NullTime
	err := sqlx.GetContext(ctx, q, &t, `SELECT MAX(created_at) FROM requests WHERE person_id = ? AND kind = 'log' AND status = 'done'`, personID)
	return t.Ptr(), err
}

// StopRequests returns the pairs where someone asked to stop, newest first.
func StopRequests(ctx context.Context, q Querier) ([]Request, error) {
	var out []Request
	err := sqlx.SelectContext(ctx, q, &out, `SELECT r.* FROM requests r JOIN pairs p ON p.id = r.pair_id
		WHERE r.kind = 'stop' AND r.status = 'done' AND p.status = 'active' ORDER BY r.created_at DESC`)
	return out, err
}

// RequestsSince returns the requests made since from, oldest first.
func RequestsSince(ctx context.Context, q Querier, from time.Time) ([]Request, error) {
	var out []Request
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM requests WHERE created_at >= ? ORDER BY created_at, id`, UTC(from))
	return out, err
}

// ActivePairsOf returns the active pairs a person is mentor or mentee in.
func ActivePairsOf(ctx context.Context, q Querier, personID int64) ([]PairView, error) {
	var vs []PairView
	err := sqlx.SelectContext(ctx, q, &vs, pairViewSelect+` WHERE p.status = 'active' AND (p.mentor_id = ? OR p.mentee_id = ?)
		ORDER BY p.id`, personID, personID)
	return vs, err
}

// NextSession returns the pair's first planned session starting after now, or ErrNotFound.
func NextSession(ctx context.Context, q Querier, pairID int64, now time.Time) (Session, error) {
	var s Session
	err := sqlx.GetContext(ctx, q, &s, `SELECT * FROM sessions WHERE pair_id = ? AND status = 'planned' AND starts_at > ?
		ORDER BY starts_at, id LIMIT 1`, pairID, UTC(now))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// Pause is a pair's pause.
type Pause struct {
	ID          int64      `db:"id" json:"id"`
	PairID      int64      `db:"pair_id" json:"pair_id"`
	FromAt      time.Time  `db:"from_at" json:"from"`
	Until       time.Time  `db:"until" json:"until"`
	RequestedBy *int64     `db:"requested_by" json:"requested_by,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	EndedAt     *time.Time `db:"ended_at" json:"ended_at,omitempty"`
}

// OpenPause returns the pair's pause in force, or ErrNotFound.
func OpenPause(ctx context.Context, q Querier, pairID int64) (Pause, error) {
	var p Pause
	err := sqlx.GetContext(ctx, q, &p, `SELECT * FROM pauses WHERE pair_id = ? AND ended_at IS NULL`, pairID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// OpenPauses returns every pause in force, by pair.
func OpenPauses(ctx context.Context, q Querier) ([]Pause, error) {
	var out []Pause
	err := sqlx.SelectContext(ctx, q, &out, `SELECT pa.* FROM pauses pa JOIN pairs p ON p.id = pa.pair_id
		WHERE pa.ended_at IS NULL AND p.status = 'active' ORDER BY pa.pair_id`)
	return out, err
}

// InsertPause starts a pause: every planned session of the pair from from
// to until is cancelled (its SEQUENCE raised, so a CANCEL goes out) and
// listed with it. It returns the sessions it cancelled.
func InsertPause(ctx context.Context, q Querier, p *Pause) ([]int64, error) {
	p.FromAt, p.Until, p.CreatedAt = UTC(p.FromAt), UTC(p.Until), UTC(p.CreatedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO pauses (pair_id, from_at, until, requested_by, created_at)
		VALUES (:pair_id, :from_at, :until, :requested_by, :created_at)`, p)
	if err != nil {
		return nil, fmt.Errorf("pause pair %d: %w", p.PairID, err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	var ids []int64
	if err := sqlx.SelectContext(ctx, q, &ids, `SELECT id FROM sessions WHERE pair_id = ? AND status = 'planned'
		AND starts_at >= ? AND starts_at < ? ORDER BY starts_at`, p.PairID, p.FromAt, p.Until); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := CancelSession(ctx, q, id, p.CreatedAt); err != nil {
			return nil, err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO paused_sessions (pause_id, session_id) VALUES (?, ?)`, p.ID, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// PausedSessions returns the sessions a pause cancelled, in time order.
func PausedSessions(ctx context.Context, q Querier, pauseID int64) ([]Session, error) {
	var out []Session
	err := sqlx.SelectContext(ctx, q, &out, `SELECT s.* FROM sessions s JOIN paused_sessions ps ON ps.session_id = s.id
		WHERE ps.pause_id = ? ORDER BY s.starts_at, s.id`, pauseID)
	return out, err
}

// EndPause ends a pause.
func EndPause(ctx context.Context, q Querier, pauseID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE pauses SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, UTC(now), pauseID)
	return err
}

// PausesDue returns the pauses in force whose end has come.
func PausesDue(ctx context.Context, q Querier, now time.Time) ([]Pause, error) {
	var out []Pause
	err := sqlx.SelectContext(ctx, q, &out, `SELECT * FROM pauses WHERE ended_at IS NULL AND until <= ? ORDER BY until`, UTC(now))
	return out, err
}

// NextPauseEnd returns when the first pause in force ends.
func NextPauseEnd(ctx context.Context, q Querier) (*time.Time, error) {
	var t NullTime
	err := sqlx.GetContext(ctx, q, &t, `SELECT MIN(until) FROM pauses WHERE ended_at IS NULL`)
	return t.Ptr(), err
}

// Move is the conversation about a proposal: who was asked, until when.
type Move struct {
	ProposalID    int64      `db:"proposal_id" json:"proposal_id"`
	Source        string     `db:"source" json:"source"`
	AskedPersonID *int64     `db:"asked_person_id" json:"asked_person_id,omitempty"`
	AskedAt       *time.Time `db:"asked_at" json:"asked_at,omitempty"`
	AnswerBy      *time.Time `db:"answer_by" json:"answer_by,omitempty"`
	Sequence      int        `db:"sequence" json:"sequence"`
	SettledReason string     `db:"settled_reason" json:"settled_reason,omitempty"`
	SettledAt     *time.Time `db:"settled_at" json:"settled_at,omitempty"`
}

// InsertMove records who a proposal was asked of.
func InsertMove(ctx context.Context, q Querier, m *Move) error {
	_, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO moves (proposal_id, source, asked_person_id, asked_at, answer_by, sequence)
		VALUES (:proposal_id, :source, :asked_person_id, :asked_at, :answer_by, :sequence)`, m)
	return err
}

// OpenMove is a proposal still waiting for an answer, with its move.
type OpenMove struct {
	Proposal
	Move
	PairID int64 `db:"pair_id"`
}

const openMoveSelect = `SELECT pp.id, pp.inbound_id, pp.session_id, pp.person_id, pp.proposed_start, pp.proposed_end,
	pp.location, pp.comment, pp.status, pp.received_at, m.proposal_id, m.source, m.asked_person_id, m.asked_at, m.answer_by,
	m.sequence, m.settled_reason, m.settled_at, s.pair_id
	FROM proposals pp JOIN moves m ON m.proposal_id = pp.id JOIN sessions s ON s.id = pp.session_id`

// MoveAskedOf returns the latest proposal waiting for this person's answer, or ErrNotFound.
func MoveAskedOf(ctx context.Context, q Querier, personID int64) (OpenMove, error) {
	var m OpenMove
	err := sqlx.GetContext(ctx, q, &m, openMoveSelect+` WHERE m.asked_person_id = ? AND m.settled_at IS NULL AND pp.status = 'open'
		ORDER BY pp.id DESC LIMIT 1`, personID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// MovesDue returns the proposals whose wait for an answer is over.
func MovesDue(ctx context.Context, q Querier, now time.Time) ([]OpenMove, error) {
	var out []OpenMove
	err := sqlx.SelectContext(ctx, q, &out, openMoveSelect+` WHERE m.settled_at IS NULL AND pp.status = 'open' AND m.answer_by <= ? ORDER BY m.answer_by`, UTC(now))
	return out, err
}

// OpenMoves returns every proposal still waiting for an answer.
func OpenMoves(ctx context.Context, q Querier) ([]OpenMove, error) {
	var out []OpenMove
	err := sqlx.SelectContext(ctx, q, &out, openMoveSelect+` WHERE m.settled_at IS NULL AND pp.status = 'open' ORDER BY pp.received_at`)
	return out, err
}

// NextMoveDue returns when the first wait for an answer ends.
func NextMoveDue(ctx context.Context, q Querier) (*time.Time, error) {
	var t NullTime
	err := sqlx.GetContext(ctx, q, &t, `SELECT MIN(m.answer_by) FROM moves m JOIN proposals pp ON pp.id = m.proposal_id WHERE m.settled_at IS NULL AND pp.status = 'open'`)
	return t.Ptr(), err
}

// SettleMove records a proposal's end: accepted or declined, and why.
func SettleMove(ctx context.Context, q Querier, proposalID int64, status, reason string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE proposals SET status = ? WHERE id = ?`, status, proposalID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE moves SET settled_reason = ?, settled_at = ? WHERE proposal_id = ?`, reason, UTC(now), proposalID)
	return err
}

// DeclinedSessions returns the planned sessions to come that someone declined
// (or delegated), with the attendee's person id and role.
type DeclinedSession struct {
	SessionID int64     `db:"session_id"`
	PairID    int64     `db:"pair_id"`
	StartsAt  time.Time `db:"starts_at"`
	PersonID  int64     `db:"person_id"`
	Role      string    `db:"role"`
	Partstat  string    `db:"partstat"`
}

// DeclinedToCome lists them.
func DeclinedToCome(ctx context.Context, q Querier, now time.Time) ([]DeclinedSession, error) {
	var out []DeclinedSession
	err := sqlx.SelectContext(ctx, q, &out, `SELECT s.id AS session_id, s.pair_id, s.starts_at, a.person_id, a.role, a.partstat
		FROM sessions s JOIN session_attendees a ON a.session_id = s.id JOIN pairs p ON p.id = s.pair_id
		WHERE s.status = 'planned' AND p.status = 'active' AND s.starts_at > ? AND a.partstat IN ('DECLINED', 'DELEGATED')
		ORDER BY s.starts_at`, UTC(now))
	return out, err
}

// StrangerCount returns how many messages from strangers (unrelated, not
// from a participant) were read since from.
func StrangerCount(ctx context.Context, q Querier, from time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM inbound WHERE outcome = 'unrelated' AND received_at >= ?`, UTC(from))
	return n, err
}
