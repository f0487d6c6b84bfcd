package admin

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/converse"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// Status is `mentord status`: what the admin checks first. It holds no text a
// mentee wrote (no answers, no reply text, no subjects of received mail).
type Status struct {
	Now      time.Time      `json:"now"`
	Daemon   *health.Report `json:"daemon"` // nil when the daemon never ran on this database
	Outbox   OutboxStatus   `json:"outbox"`
	Quota    QuotaStatus    `json:"quota"`
	DueNow   int            `json:"due_now"`  // messages the schedule would send at once (many: the daemon is not running)
	Upcoming []Upcoming     `json:"upcoming"` // the soonest 10, due now first
	Held     []Held         `json:"held"`     // sessions whose prompts wait because someone declined or passed it on
	// Next is the first message to come when nothing is due within the
	// schedule's horizon (Upcoming is empty): weeks away, say. Nil then when
	// nothing is planned within a year.
	Next        *Upcoming           `json:"next,omitempty"`
	Quarantined []store.Quarantined `json:"quarantined"`
	Late        []store.Quarantined `json:"late"` // replies after their session's reply window: kept, not logged
	Suspended   []store.Person      `json:"suspended"`
	Waiting     []store.Waiting     `json:"waiting"`
	// Attention is what needs a person (issue 13): kept messages, declines
	// and proposals waiting, paused pairs, stop requests, bouncing addresses.
	Attention converse.Attention `json:"attention"`
	Zone      string             `json:"zone"` // defaults.timezone, for the days in Attention
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

// Held is a session to come whose prompts (checklist, brief, reflection) wait
// because the mentor or the mentee declined it or passed it on (DELEGATED):
// they go only when the session is moved or the answer changes.
type Held struct {
	Pair      int64     `json:"pair"`
	SessionID int64     `json:"session_id"`
	Number    int       `json:"number"`
	Start     time.Time `json:"start"`
	By        string    `json:"by"`    // whose answer holds them: "mentor DECLINED", "mentee DELEGATED", or both
	Kinds     []string  `json:"kinds"` // what waits: checklist, brief, digest
}

// LoadStatus gathers the status at now.
func LoadStatus(ctx context.Context, db *store.DB, cfg *config.Config, now time.Time) (Status, error) {
	q := db.R()
	st := Status{Now: now, Upcoming: []Upcoming{}, Zone: cfg.Defaults.Timezone}
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
	if st.Quarantined, err = store.ListQuarantined(ctx, q, 20); err != nil {
		return st, err
	}
	if st.Late, err = store.ListLate(ctx, q, 20); err != nil {
		return st, err
	}
	if st.Suspended, err = store.ListSuspended(ctx, q); err != nil {
		return st, err
	}
	if st.Waiting, err = store.ListWaiting(ctx, q, now.Add(-cfg.Timings.ReflectionWindow.D())); err != nil {
		return st, err
	}
	st.Quarantined, st.Late, st.Suspended, st.Waiting = orEmpty(st.Quarantined), orEmpty(st.Late), orEmpty(st.Suspended), orEmpty(st.Waiting)
	if st.Attention, err = converse.LoadAttention(ctx, q, now, now.Add(-7*24*time.Hour), cfg.Timings.AgreementWithin.D()); err != nil {
		return st, err
	}
	t := compose.Timings(cfg)
	up, held, due, err := upcoming(ctx, q, t, now, compose.Window(t, now))
	st.Upcoming, st.Held, st.DueNow = up, held, due
	if err != nil || len(up) > 0 {
		return st, err
	}
	// Nothing within the schedule's horizon: look a year ahead for the next.
	wide := compose.Window(t, now)
	wide.PromptTo = now.AddDate(1, 0, 0)
	wide.InviteTo = wide.PromptTo
	next, _, _, err := upcoming(ctx, q, t, now, wide)
	if len(next) > 0 {
		st.Next = &next[0]
	}
	return st, err
}

func loadOutboxStatus(ctx context.Context, q store.Querier, o *OutboxStatus) error {
	n, err := store.CountOutbox(ctx, q)
	if err != nil {
		return err
	}
	o.Pending, o.Sending, o.Sent, o.Failed = n[store.OutboxPending], n[store.OutboxSending], n[store.OutboxSent], n[store.OutboxFailed]
	if o.Pending > 0 {
		if o.OldestPending, err = store.OldestCreated(ctx, q, store.OutboxPending); err != nil {
			return err
		}
	}
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
// once first, then the prompts to come) and counts those due at once. The
// prompts of a session someone declined are not to come: they are listed as
// held.
func upcoming(ctx context.Context, q store.Querier, t schedule.Timings, now time.Time, window store.Window) ([]Upcoming, []Held, int, error) {
	st, err := compose.LoadPlanState(ctx, q, window)
	if err != nil {
		return nil, nil, 0, err
	}
	var out []Upcoming
	held := []Held{}
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
		var waiting []string // while the session can still be moved
		later := func(kind schedule.ActionKind, person int64, at time.Time, done bool) {
			switch {
			case done:
			case s.HeldBy() != "":
				if s.Start.After(now) {
					waiting = append(waiting, string(kind))
				}
			case at.After(now):
				add(kind, person, at)
			}
		}
		for _, p := range []schedule.Person{s.Mentor, s.Mentee} { // an invite when the session comes within invite_ahead
			_, sent := s.Sent[p.ID]
			later(schedule.ActInvite, p.ID, s.Start.Add(-t.InviteAhead), sent)
		}
		later(schedule.ActChecklist, s.Mentee.ID, schedule.ChecklistAt(s, t), s.Checklist.Exists)
		later(schedule.ActReflection, s.Mentee.ID, schedule.ReflectionAt(s, t), s.Reflection.Exists)
		if t.MentorBrief {
			later(schedule.ActBrief, s.Mentor.ID, schedule.BriefAt(s, t), s.Brief.Exists)
		}
		if s.Final {
			later(schedule.ActDigest, s.Mentee.ID, schedule.DigestAt(s, t), s.Digest.Exists)
		}
		if len(waiting) > 0 {
			var by []string
			for _, p := range []struct {
				role string
				p    schedule.Person
			}{{"mentor", s.Mentor}, {"mentee", s.Mentee}} {
				if schedule.Holds(p.p.Partstat) {
					by = append(by, p.role+" "+p.p.Partstat)
				}
			}
			held = append(held, Held{SessionID: s.ID, Start: s.Start, By: strings.Join(by, ", "), Kinds: waiting})
		}
	}
	sort.Slice(held, func(i, j int) bool { return held[i].Start.Before(held[j].Start) })
	for i := range held {
		var err error
		if held[i].Pair, held[i].Number, err = store.SessionRef(ctx, q, held[i].SessionID); err != nil {
			return nil, nil, 0, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	out = out[:min(len(out), 10)]
	for i := range out { // the pair and number an admin knows the session by
		var err error
		if out[i].Pair, out[i].Number, err = store.SessionRef(ctx, q, out[i].SessionID); err != nil {
			return nil, nil, 0, err
		}
	}
	if out == nil {
		out = []Upcoming{}
	}
	return out, held, due, nil
}

// orEmpty makes a nil list an empty one, so JSON shows [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
