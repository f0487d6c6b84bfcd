package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Reply is the whole new text of one reply to a prompt.
type Reply struct {
	ID         int64     `db:"id"`
	InboundID  int64     `db:"inbound_id"`
	SessionID  int64     `db:"session_id"`
	PersonID   int64     `db:"person_id"`
	PromptKind string    `db:"prompt_kind"`
	NewText    string    `db:"new_text"`
	ReceivedAt time.Time `db:"received_at"`
	AckWanted  bool      `db:"ack_wanted"`
	// Thread is the reply's References and then its own Message-ID, each a
	// valid msg-id, space-separated: its acknowledgement's References.
	Thread string `db:"thread"`
}

// Entry is one answered question in the progress log.
type Entry struct {
	ID           int64     `db:"id"`
	ReplyID      int64     `db:"reply_id"`
	SessionID    int64     `db:"session_id"`
	PersonID     int64     `db:"person_id"`
	PromptKind   string    `db:"prompt_kind"`
	QuestionNo   int       `db:"question_no"`
	Question     string    `db:"question"`
	Answer       string    `db:"answer"`
	ReceivedAt   time.Time `db:"received_at"`
	SourceMsgID  string    `db:"source_msgid"`
	SupersededBy *int64    `db:"superseded_by"`
	TiedBy       string    `db:"tied_by"` // how the answer was tied to its question (mail/reply Tie); "" before schema 7
}

// InsertReply records a reply's whole text and sets its ID.
func InsertReply(ctx context.Context, q Querier, r *Reply) error {
	r.ReceivedAt = UTC(r.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO replies (inbound_id, session_id, person_id, prompt_kind, new_text,
		received_at, ack_wanted, thread) VALUES (:inbound_id, :session_id, :person_id, :prompt_kind, :new_text, :received_at, :ack_wanted,
		:thread)`, r)
	if err != nil {
		return fmt.Errorf("record reply: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// LogAnswer adds an answer to the progress log. A later answer to the same
// question of the same prompt supersedes the current one, which stays as history.
func LogAnswer(ctx context.Context, q Querier, e *Entry) error {
	e.ReceivedAt = UTC(e.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO progress_entries (reply_id, session_id, person_id, prompt_kind,
		question_no, question, answer, received_at, source_msgid, tied_by)
		VALUES (:reply_id, :session_id, :person_id, :prompt_kind, :question_no, :question, :answer, :received_at, :source_msgid,
		:tied_by)`, e)
	if err != nil {
		return fmt.Errorf("log answer: %w", err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE progress_entries SET superseded_by = ?
		WHERE session_id = ? AND person_id = ? AND prompt_kind = ? AND question_no = ? AND superseded_by IS NULL AND id <> ?`,
		e.ID, e.SessionID, e.PersonID, e.PromptKind, e.QuestionNo, e.ID)
	return err
}

// CurrentAnswers returns the answers in force for a prompt, by question number.
func CurrentAnswers(ctx context.Context, q Querier, sessionID, personID int64, kind string) ([]Entry, error) {
	var es []Entry
	err := sqlx.SelectContext(ctx, q, &es, `SELECT * FROM progress_entries WHERE session_id = ? AND person_id = ?
		AND prompt_kind = ? AND superseded_by IS NULL ORDER BY question_no`, sessionID, personID, kind)
	return es, err
}

// MarkReplied records the first reply to a prompt (a later one keeps the first time).
func MarkReplied(ctx context.Context, q Querier, promptID int64, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE prompts SET replied_at = COALESCE(replied_at, ?) WHERE id = ?`, UTC(at), promptID)
	return err
}

// ActionItem is something the mentee promised to do before the next session.
type ActionItem struct {
	ID              int64     `db:"id"`
	PairID          int64     `db:"pair_id"`
	SessionID       int64     `db:"session_id"`
	ProgressEntryID *int64    `db:"progress_entry_id"`
	Text            string    `db:"text"`
	Status          string    `db:"status"`
	ReviewedSession *int64    `db:"reviewed_session_id"`
	CreatedAt       time.Time `db:"created_at"`
	UpdatedAt       time.Time `db:"updated_at"`
}

// ReplacePromises makes items the promises made at a session, replacing those
// of an earlier answer to the same question (latest wins).
func ReplacePromises(ctx context.Context, q Querier, pairID, sessionID, entryID int64, items []string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM action_items WHERE session_id = ? AND status = 'open'`, sessionID); err != nil {
		return err
	}
	for _, text := range items {
		if _, err := q.ExecContext(ctx, `INSERT INTO action_items (pair_id, session_id, progress_entry_id, text, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'open', ?, ?)`, pairID, sessionID, entryID, text, UTC(now), UTC(now)); err != nil {
			return fmt.Errorf("record promise: %w", err)
		}
	}
	return nil
}

// ReviewPromises sets the status of the open promises from sessions before
// this one, as the mentee reported at this session's checklist.
func ReviewPromises(ctx context.Context, q Querier, pairID, sessionID int64, status string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE action_items SET status = ?, reviewed_session_id = ?, updated_at = ?
		WHERE pair_id = ? AND status IN ('open', 'done', 'not_done') AND (reviewed_session_id IS NULL OR reviewed_session_id = ?)
		AND session_id IN (SELECT id FROM sessions WHERE pair_id = ? AND starts_at < (SELECT starts_at FROM sessions WHERE id = ?))`,
		status, sessionID, UTC(now), pairID, sessionID, pairID, sessionID)
	return err
}

// SessionByUID finds a session by its calendar UID.
func SessionByUID(ctx context.Context, q Querier, uid string) (Session, error) {
	var s Session
	err := sqlx.GetContext(ctx, q, &s, `SELECT * FROM sessions WHERE uid = ?`, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// AttendeeReply is an attendee with the last calendar reply applied.
type AttendeeReply struct {
	Attendee
	Email         string     `db:"email"`
	ReplySequence *int       `db:"reply_sequence"`
	ReplyStamp    *time.Time `db:"reply_stamp"`
}

// SessionAttendees returns a session's attendees with their addresses.
func SessionAttendees(ctx context.Context, q Querier, sessionID int64) ([]AttendeeReply, error) {
	var as []AttendeeReply
	err := sqlx.SelectContext(ctx, q, &as, `SELECT a.session_id, a.person_id, a.role, a.partstat, a.replied_at,
		a.reply_sequence, a.reply_stamp, p.email FROM session_attendees a JOIN people p ON p.id = a.person_id
		WHERE a.session_id = ?`, sessionID)
	return as, err
}

// SetPartstat applies a calendar reply to an attendee.
func SetPartstat(ctx context.Context, q Querier, sessionID, personID int64, partstat string, seq int, stamp, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE session_attendees SET partstat = ?, replied_at = ?, reply_sequence = ?, reply_stamp = ?
		WHERE session_id = ? AND person_id = ?`, partstat, UTC(now), seq, UTC(stamp), sessionID, personID)
	return err
}

// CalendarReply is a calendar answer applied, for the record.
type CalendarReply struct {
	InboundID  int64      `db:"inbound_id"`
	SessionID  int64      `db:"session_id"`
	PersonID   int64      `db:"person_id"`
	Method     string     `db:"method"`
	Partstat   string     `db:"partstat"`
	Sequence   int        `db:"sequence"`
	Stamp      *time.Time `db:"stamp"`
	Comment    string     `db:"comment"`
	ReceivedAt time.Time  `db:"received_at"`
}

// InsertCalendarReply records an applied calendar answer.
func InsertCalendarReply(ctx context.Context, q Querier, r CalendarReply) error {
	r.ReceivedAt = UTC(r.ReceivedAt)
	_, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO calendar_replies (inbound_id, session_id, person_id, method, partstat,
		sequence, stamp, comment, received_at) VALUES (:inbound_id, :session_id, :person_id, :method, :partstat, :sequence,
		:stamp, :comment, :received_at)`, r)
	return err
}

// Proposal is a new time proposed for a session.
type Proposal struct {
	ID            int64     `db:"id"`
	InboundID     int64     `db:"inbound_id"`
	SessionID     int64     `db:"session_id"`
	PersonID      int64     `db:"person_id"`
	ProposedStart time.Time `db:"proposed_start"`
	ProposedEnd   time.Time `db:"proposed_end"`
	Location      string    `db:"location"`
	Comment       string    `db:"comment"`
	Status        string    `db:"status"`
	ReceivedAt    time.Time `db:"received_at"`
}

// InsertProposal records a COUNTER and sets its ID.
func InsertProposal(ctx context.Context, q Querier, p *Proposal) error {
	p.ProposedStart, p.ProposedEnd, p.ReceivedAt = UTC(p.ProposedStart), UTC(p.ProposedEnd), UTC(p.ReceivedAt)
	res, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO proposals (inbound_id, session_id, person_id, proposed_start,
		proposed_end, location, comment, received_at) VALUES (:inbound_id, :session_id, :person_id, :proposed_start,
		:proposed_end, :location, :comment, :received_at)`, p)
	if err != nil {
		return err
	}
	p.ID, err = res.LastInsertId()
	return err
}

// SettleProposals decides the open COUNTER proposals of a session the admin
// moved (to start) or cancelled (start nil): the one whose time the session
// took is accepted, every other declined.
func SettleProposals(ctx context.Context, q Querier, sessionID int64, start *time.Time) error {
	var at any
	if start != nil {
		at = UTC(*start)
	}
	_, err := q.ExecContext(ctx, `UPDATE proposals SET status = CASE WHEN proposed_start = ? THEN 'accepted' ELSE 'declined' END
		WHERE session_id = ? AND status = 'open'`, at, sessionID)
	if err != nil {
		return fmt.Errorf("settle the proposals for session %d: %w", sessionID, err)
	}
	return nil
}

// Bounce is a delivery failure reported for an address.
type Bounce struct {
	InboundID  int64     `db:"inbound_id"`
	PersonID   *int64    `db:"person_id"`
	Address    string    `db:"address"`
	Status     string    `db:"status"`
	Permanent  bool      `db:"permanent"`
	OutboxID   *int64    `db:"outbox_id"`
	ReceivedAt time.Time `db:"received_at"`
}

// RecordBounce stores a bounce and returns the address's score over the
// window: 1 for each permanent failure, 0.5 for each temporary one.
func RecordBounce(ctx context.Context, q Querier, b Bounce, window time.Duration) (float64, error) {
	b.ReceivedAt = UTC(b.ReceivedAt)
	if _, err := sqlx.NamedExecContext(ctx, q, `INSERT INTO bounces (inbound_id, person_id, address, status, permanent,
		outbox_id, received_at) VALUES (:inbound_id, :person_id, :address, :status, :permanent, :outbox_id, :received_at)`, b); err != nil {
		return 0, fmt.Errorf("record bounce: %w", err)
	}
	var score float64
	err := sqlx.GetContext(ctx, q, &score, `SELECT COALESCE(SUM(CASE WHEN permanent = 1 THEN 1.0 ELSE 0.5 END), 0)
		FROM bounces WHERE address = ? AND received_at > ?`, b.Address, UTC(b.ReceivedAt.Add(-window)))
	if err != nil {
		return 0, err
	}
	if b.PersonID != nil {
		_, err = q.ExecContext(ctx, `UPDATE people SET bounce_score = ? WHERE id = ?`, score, *b.PersonID)
	}
	return score, err
}

// BounceCounted reports whether a bounce of this sent message was counted:
// each message counts at most once, however many reports arrive.
func BounceCounted(ctx context.Context, q Querier, outboxID int64) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM bounces WHERE outbox_id = ?`, outboxID)
	return n > 0, err
}

// Suspend stops sending to a person (their address keeps bouncing).
func Suspend(ctx context.Context, q Querier, personID int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE people SET suspended_at = ? WHERE id = ? AND suspended_at IS NULL`, UTC(now), personID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PendingAcks returns the logged replies waiting for an acknowledgement, the
// first limit after the reply with id after, in order.
func PendingAcks(ctx context.Context, q Querier, after int64, limit int) ([]Reply, error) {
	var rs []Reply
	err := sqlx.SelectContext(ctx, q, &rs, `SELECT * FROM replies WHERE ack_wanted = 1 AND id > ? ORDER BY id LIMIT ?`, after, limit)
	return rs, err
}

// AckDone records that a reply's acknowledgement was enqueued (or is not wanted).
func AckDone(ctx context.Context, q Querier, replyID int64) error {
	_, err := q.ExecContext(ctx, `UPDATE replies SET ack_wanted = 0 WHERE id = ?`, replyID)
	return err
}

// ReplyAnswers returns the answers a reply logged, by question.
func ReplyAnswers(ctx context.Context, q Querier, replyID int64) ([]Entry, error) {
	var es []Entry
	err := sqlx.SelectContext(ctx, q, &es, `SELECT * FROM progress_entries WHERE reply_id = ? ORDER BY question_no`, replyID)
	return es, err
}
