package admin

import (
	"context"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// Status is `mentord status`: what the admin checks first. It holds no text a
// mentee wrote (no answers, no reply text, no subjects of received mail).
type Status struct {
	Now         time.Time      `json:"now"`
	Daemon      *health.Report `json:"daemon"` // nil when the daemon never ran on this database
	Outbox      OutboxStatus   `json:"outbox"`
	Quota       QuotaStatus    `json:"quota"`
	DueNow      int            `json:"due_now"`  // messages the schedule would send at once (many: the daemon is not running)
	Upcoming    []Upcoming     `json:"upcoming"` // the soonest 10, due now first
	Quarantined []Quarantined  `json:"quarantined"`
	Suspended   []store.Person `json:"suspended"`
	Waiting     []Waiting      `json:"waiting"`
}

// OutboxStatus counts the outbox.
type OutboxStatus struct {
	Pending       int                `json:"pending"`
	Sending       int                `json:"sending"`
	Sent          int                `json:"sent"`
	Failed        int                `json:"failed"`
	OldestPending *time.Time         `json:"oldest_pending,omitempty"`
	Failures      []store.OutboxItem `json:"failures"` // the latest 10
}

// QuotaStatus is the outbox against the server's sending quotas.
type QuotaStatus struct {
	Minute QuotaWindow `json:"minute"`  // smtp.max_per_minute
	Day    QuotaWindow `json:"day"`     // smtp.max_recipients_per_day
	DueNow int         `json:"due_now"` // outbox messages due now or being sent
	// DoneBy estimates when the last of them will have been sent, as fast as
	// the quotas and the server's pause allow.
	DoneBy *time.Time    `json:"done_by,omitempty"`
	Paused *outbox.Pause `json:"paused,omitempty"` // the server throttled sending: until when, and what it said
}

// QuotaWindow is one rolling window of a sending quota.
type QuotaWindow struct {
	Used    int        `json:"used"`               // sent in the window, and being sent
	Limit   int        `json:"limit"`              // 0: no limit
	FreesAt *time.Time `json:"frees_at,omitempty"` // when a full window has room again
}

// Upcoming is a message the schedule will send.
type Upcoming struct {
	At        time.Time `json:"at"` // when it is due; at or before now: due at once
	Kind      string    `json:"kind"`
	To        string    `json:"to"` // mentor or mentee
	Pair      int64     `json:"pair"`
	SessionID int64     `json:"session_id"`
	Number    int       `json:"number"` // the session's number in its pair
}

// Quarantined is a message put aside, with why.
type Quarantined struct {
	ID         int64     `db:"id" json:"id"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	From       string    `db:"from_addr" json:"from"`
	Kind       string    `db:"kind" json:"kind"`
	Reason     string    `db:"reason" json:"reason"`
}

// Waiting is a prompt that got no reply yet.
type Waiting struct {
	Pair    int64          `db:"pair_id" json:"pair"`
	Session int64          `db:"session_id" json:"session_id"`
	Number  int            `db:"number" json:"number"` // the session's number in its pair
	Purpose string         `db:"purpose" json:"purpose"`
	Mentee  string         `db:"email" json:"mentee"`
	SentAt  *time.Time     `db:"-" json:"sent_at,omitempty"`
	Sent    store.NullTime `db:"sent_at" json:"-"`
}

// LoadStatus gathers the status at now.
func LoadStatus(ctx context.Context, db *store.DB, cfg *config.Config, now time.Time) (Status, error) {
	q := db.R()
	st := Status{Now: now, Upcoming: []Upcoming{}, Quarantined: []Quarantined{}, Suspended: []store.Person{}, Waiting: []Waiting{}}
	var err error
	if st.Daemon, err = health.Load(ctx, q, now); err != nil {
		return st, err
	}
	if err := loadOutboxStatus(ctx, q, &st.Outbox); err != nil {
		return st, err
	}
	if err := loadQuotaStatus(ctx, q, cfg, now, &st.Quota); err != nil {
		return st, err
	}
	if err := sqlx.SelectContext(ctx, q, &st.Quarantined, `SELECT id, received_at, from_addr, kind, reason FROM inbound
		WHERE outcome = 'quarantined' ORDER BY id DESC LIMIT 20`); err != nil {
		return st, err
	}
	if err := sqlx.SelectContext(ctx, q, &st.Suspended, `SELECT * FROM people WHERE suspended_at IS NOT NULL ORDER BY email`); err != nil {
		return st, err
	}
	if err := sqlx.SelectContext(ctx, q, &st.Waiting, `SELECT s.pair_id, pr.session_id, s.number, pr.purpose, pe.email,
		(SELECT MIN(o.sent_at) FROM outbox o WHERE o.prompt_id = pr.id) AS sent_at
		FROM prompts pr JOIN sessions s ON s.id = pr.session_id JOIN people pe ON pe.id = pr.person_id
		JOIN pairs p ON p.id = s.pair_id
		WHERE pr.purpose IN ('checklist', 'reflection') AND pr.replied_at IS NULL AND p.status = 'active'
		AND s.status = 'planned' AND s.starts_at > ? ORDER BY pr.id`, store.UTC(now.Add(-cfg.Timings.ReflectionWindow.D()))); err != nil {
		return st, err
	}
	for i := range st.Waiting {
		st.Waiting[i].SentAt = st.Waiting[i].Sent.Ptr()
	}
	up, due, err := upcoming(ctx, q, compose.Timings(cfg), now)
	st.Upcoming, st.DueNow = up, due
	return st, err
}

func loadOutboxStatus(ctx context.Context, q store.Querier, o *OutboxStatus) error {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`); err != nil {
		return err
	}
	for _, r := range rows {
		switch r.State {
		case store.OutboxPending:
			o.Pending = r.N
		case store.OutboxSending:
			o.Sending = r.N
		case store.OutboxSent:
			o.Sent = r.N
		case store.OutboxFailed:
			o.Failed = r.N
		}
	}
	if o.Pending > 0 {
		var t []time.Time
		if err := sqlx.SelectContext(ctx, q, &t, `SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY created_at LIMIT 1`); err != nil {
			return err
		}
		if len(t) == 1 {
			o.OldestPending = &t[0]
		}
	}
	var err error
	o.Failures, err = store.ListOutbox(ctx, q, store.OutboxFailed, 10)
	if o.Failures == nil {
		o.Failures = []store.OutboxItem{}
	}
	return err
}

func loadQuotaStatus(ctx context.Context, q store.Querier, cfg *config.Config, now time.Time, qs *QuotaStatus) error {
	for _, w := range []struct {
		out    *QuotaWindow
		window time.Duration
		limit  int
	}{{&qs.Minute, store.Minute, cfg.SMTP.MaxPerMinute}, {&qs.Day, store.Day, cfg.SMTP.MaxRecipientsPerDay}} {
		u, err := store.Usage(ctx, q, now, w.window, w.limit)
		if err != nil {
			return err
		}
		*w.out = QuotaWindow{Used: u.Used, Limit: w.limit}
		if u.Full() {
			w.out.FreesAt = &u.FreesAt
		}
	}
	p, err := outbox.LoadPause(ctx, q)
	if err != nil {
		return err
	}
	start := now
	if p.Active(now) {
		qs.Paused, start = &p, p.Until
	}
	if qs.DueNow, err = store.DueCount(ctx, q, now); err != nil || qs.DueNow == 0 {
		return err
	}
	var history []time.Time
	if cfg.SMTP.MaxPerMinute > 0 || cfg.SMTP.MaxRecipientsPerDay > 0 {
		if history, err = store.SentSince(ctx, q, now.Add(-store.Day)); err != nil {
			return err
		}
	}
	done := outbox.EstimateDone(qs.DueNow, start, cfg.SMTP.MaxPerMinute, cfg.SMTP.MaxRecipientsPerDay, history)
	qs.DoneBy = &done
	return nil
}

// upcoming lists the soonest messages the schedule will send (what is due at
// once first, then the prompts to come) and counts those due at once.
func upcoming(ctx context.Context, q store.Querier, t schedule.Timings, now time.Time) ([]Upcoming, int, error) {
	st, err := compose.LoadPlanState(ctx, q, compose.Window(t, now))
	if err != nil {
		return nil, 0, err
	}
	var out []Upcoming
	due := 0
	for _, s := range compose.BuildSessions(st) {
		add := func(kind schedule.ActionKind, person int64, at time.Time) {
			to := "mentee"
			if person == s.Mentor.ID {
				to = "mentor"
			}
			out = append(out, Upcoming{At: at, Kind: string(kind), To: to, SessionID: s.ID})
		}
		for _, a := range schedule.Due(s, t, now) {
			kind := a.Kind
			if kind == schedule.ActNudge {
				kind += "-" + a.NudgeOf
			}
			add(kind, a.PersonID, a.Due)
			due++
		}
		if s.Cancelled || !s.PairActive {
			continue
		}
		later := func(kind schedule.ActionKind, person int64, at time.Time, done bool) {
			if !done && at.After(now) {
				add(kind, person, at)
			}
		}
		later(schedule.ActChecklist, s.Mentee.ID, schedule.ChecklistAt(s, t), s.Checklist.Exists)
		later(schedule.ActReflection, s.Mentee.ID, schedule.ReflectionAt(s, t), s.Reflection.Exists)
		if t.MentorBrief {
			later(schedule.ActBrief, s.Mentor.ID, schedule.BriefAt(s, t), s.Brief.Exists)
		}
		if s.Final {
			later(schedule.ActDigest, s.Mentee.ID, schedule.DigestAt(s, t), s.Digest.Exists)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	out = out[:min(len(out), 10)]
	for i := range out { // the pair and number an admin knows the session by
		var ref struct {
			Pair   int64 `db:"pair_id"`
			Number int   `db:"number"`
		}
		if err := sqlx.GetContext(ctx, q, &ref, `SELECT pair_id, number FROM sessions WHERE id = ?`, out[i].SessionID); err != nil {
			return nil, 0, err
		}
		out[i].Pair, out[i].Number = ref.Pair, ref.Number
	}
	if out == nil {
		out = []Upcoming{}
	}
	return out, due, nil
}
