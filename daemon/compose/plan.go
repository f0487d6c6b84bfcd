package compose

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// Timings turns the configuration into the schedule rules' timings.
func Timings(cfg *config.Config) schedule.Timings {
	t := cfg.Timings
	return schedule.Timings{
		InviteAhead: t.InviteAhead.D(), ChecklistLead: t.ChecklistLead.D(), ChecklistTime: t.ChecklistTime.Minutes,
		ReflectionDelay: t.ReflectionDelay.D(), NudgeAfter: t.NudgeAfter.D(), ReflectionWindow: t.ReflectionWindow.D(),
		Quiet:       schedule.Quiet{Set: t.QuietHours.Start.Set, Start: t.QuietHours.Start.Minutes, End: t.QuietHours.End.Minutes},
		MentorBrief: cfg.BriefsEnabled(), MentorReflection: cfg.Programme.MentorReflection,
	}
}

// Window is what a pass looks at: prompts for the sessions that ended
// within the reflection window (sessions last at most 8 hours) up to those
// starting a little after the checklist lead (the brief goes at most two days
// ahead), and invites up to the invite horizon.
func Window(t schedule.Timings, now time.Time) store.Window {
	return store.Window{
		PromptFrom: now.Add(-t.ReflectionWindow - 8*time.Hour),
		PromptTo:   now.Add(max(t.ChecklistLead, 24*time.Hour) + 48*time.Hour),
		InviteTo:   now.Add(t.InviteAhead),
	}
}

// PlanResult is what a pass of the schedule did.
type PlanResult struct {
	Enqueued int
	Next     time.Time // the earliest time a rule may fire next; zero when none is known
}

// A pass works through what is due in bounded parts, each committed before
// the next is read: the state of sessionsPerPart sessions, and at most
// messagesPerCommit messages composed and recorded in one transaction. So
// its memory and its write transactions stay the same size however large
// the roster (a first pass after importing 20,000 pairs enqueues 120,000
// invites), a failure or a stop loses only the part in hand, and what is
// committed can go out while the pass goes on.
const (
	sessionsPerPart   = 100
	messagesPerCommit = 200
)

// PlanOptions are what the daemon's loop gives a pass; the zero value runs
// it to the end without telling anyone.
type PlanOptions struct {
	// Progress is called after each part, with what the pass has done so
	// far: a sign of life for the watchdog, which a pass stuck in a part
	// does not give.
	Progress func(PlanResult)
	// Stop ends the pass between parts when it is done (what was committed
	// stays; the next pass goes on from there).
	Stop context.Context
}

// Plan is one pass of the schedule: it finds every action due at now and
// enqueues its message, then composes the acknowledgements of logged replies,
// a part at a time (see sessionsPerPart). Running it again for the same state
// enqueues nothing.
func Plan(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, now time.Time, log *slog.Logger, opts ...PlanOptions) (PlanResult, error) {
	p := &pass{ctx: ctx, db: db, cfg: cfg, tpl: tpl, now: now, log: log}
	if len(opts) > 0 {
		p.opts = opts[0]
	}
	t := Timings(cfg)
	w := Window(t, now)
	nextPrompt, nextInvite, err := store.PlanBounds(ctx, db.R(), w)
	if err != nil {
		return p.res, err
	}
	// The first sessions beyond the window enter it when the window has moved up to them.
	if nextPrompt.Valid {
		p.earliest(nextPrompt.Time.Add(-w.PromptTo.Sub(now)))
	}
	if nextInvite.Valid {
		p.earliest(nextInvite.Time.Add(-w.InviteTo.Sub(now)))
	}
	ids, err := store.RelevantSessions(ctx, db.R(), w)
	if err != nil {
		return p.res, err
	}
	for len(ids) > 0 && !p.stopped() {
		part := ids[:min(len(ids), sessionsPerPart)]
		ids = ids[len(part):]
		st, err := LoadPlanState(ctx, db.R(), store.Window{}, part...)
		if err != nil {
			return p.res, err
		}
		acts, next := dueIn(st, t, now)
		p.earliest(next)
		for len(acts) > 0 {
			batch := acts[:min(len(acts), messagesPerCommit)]
			acts = acts[len(batch):]
			if err := p.enqueue(batch, nil); err != nil {
				return p.res, err
			}
		}
		p.progress()
	}
	if !p.stopped() {
		if err := p.records(t); err != nil {
			return p.res, err
		}
	}
	var after int64
	for !p.stopped() {
		acks, err := store.PendingAcks(ctx, db.R(), after, messagesPerCommit)
		if err != nil || len(acks) == 0 {
			return p.res, err
		}
		after = acks[len(acks)-1].ID
		if err := p.enqueue(nil, acks); err != nil {
			return p.res, err
		}
		p.progress()
	}
	return p.res, nil
}

// pass is one run of Plan.
type pass struct {
	ctx  context.Context
	db   *store.DB
	cfg  *config.Config
	tpl  *templates.Set
	now  time.Time
	log  *slog.Logger
	opts PlanOptions
	res  PlanResult
}

func (p *pass) earliest(at time.Time) {
	if at.After(p.now) && (p.res.Next.IsZero() || at.Before(p.res.Next)) {
		p.res.Next = at
	}
}

func (p *pass) stopped() bool { return p.opts.Stop != nil && p.opts.Stop.Err() != nil }

func (p *pass) progress() {
	if p.opts.Progress != nil {
		p.opts.Progress(p.res)
	}
}

// enqueue composes the messages of acts and the acknowledgements of acks,
// and records them in one transaction. A message that cannot be composed is
// left out and logged; it is tried again at the next pass.
func (p *pass) enqueue(acts []schedule.Action, acks []store.Reply) error {
	ctx := p.ctx
	comp := New(p.cfg, p.tpl, p.db, p.now) // a new one each time: its caches last one commit
	if err := comp.Prefetch(ctx, acts); err != nil {
		return err
	}
	outs := make([]*Outgoing, 0, len(acts)+len(acks))
	for _, a := range acts {
		out, err := comp.Compose(ctx, a)
		if errors.Is(err, ErrUnsendable) {
			// It would fail the same way at every pass: record it failed, once.
			p.log.Warn("a message can never be built; recorded as failed, not retried", "key", a.Key(), "session", a.SessionID,
				"person", a.PersonID, "err", err)
			out, err = comp.unsendable(ctx, a, err)
		}
		if err != nil {
			p.log.Error("cannot compose a message", "key", a.Key(), "session", a.SessionID, "err", err)
			continue
		}
		outs = append(outs, out)
	}
	for _, r := range acks {
		out, err := comp.composeAck(ctx, r)
		if err != nil {
			p.log.Error("cannot compose an acknowledgement", "reply", r.ID, "err", err)
			continue
		}
		out.ackOf = r.ID
		outs = append(outs, out)
	}
	if len(outs) == 0 {
		return nil
	}
	n := 0
	err := p.db.Tx(ctx, func(tx *sqlx.Tx) error {
		n = 0
		for _, out := range outs {
			added, err := Record(ctx, tx, out, p.now)
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", out.Item.Key, err)
			}
			if out.ackOf != 0 {
				if err := store.AckDone(ctx, tx, out.ackOf); err != nil {
					return err
				}
			}
			if added {
				n++
				p.log.Debug("enqueued", "kind", out.Item.Kind, "key", out.Item.Key, "msgid", out.Item.MessageID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.res.Enqueued += n
	return nil
}

// DueActions loads the relevant sessions and applies the schedule rules. It
// also returns when a rule may fire next among the sessions it looked at.
func DueActions(ctx context.Context, q store.Querier, t schedule.Timings, now time.Time) ([]schedule.Action, time.Time, error) {
	w := Window(t, now)
	st, err := LoadPlanState(ctx, q, w)
	if err != nil {
		return nil, time.Time{}, err
	}
	p := &pass{now: now}
	// The first sessions beyond the window enter it when the window has moved up to them.
	if st.NextPrompt.Valid {
		p.earliest(st.NextPrompt.Time.Add(-w.PromptTo.Sub(now)))
	}
	if st.NextInvite.Valid {
		p.earliest(st.NextInvite.Time.Add(-w.InviteTo.Sub(now)))
	}
	acts, next := dueIn(st, t, now)
	p.earliest(next)
	return acts, p.res.Next, nil
}

// dueIn applies the schedule rules to the sessions of st: the actions due at
// now, and the earliest time after now a rule may fire among them (zero when
// none).
func dueIn(st store.PlanState, t schedule.Timings, now time.Time) ([]schedule.Action, time.Time) {
	var acts []schedule.Action
	var next time.Time
	for _, s := range BuildSessions(st) {
		acts = append(acts, schedule.Due(s, t, now)...)
		if at, ok := schedule.Next(s, t, now); ok && at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return acts, next
}

// LoadPlanState reads the state in one read transaction, so it is one
// snapshot even while the mentord command changes the roster: of the given
// sessions when ids are given, else of every session relevant in w.
func LoadPlanState(ctx context.Context, q store.Querier, w store.Window, ids ...int64) (store.PlanState, error) {
	load := func(q store.Querier) (store.PlanState, error) {
		if len(ids) > 0 {
			return store.LoadPlanSessions(ctx, q, ids)
		}
		return store.LoadPlanState(ctx, q, w)
	}
	db, ok := q.(*sqlx.DB)
	if !ok {
		return load(q)
	}
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.PlanState{}, err
	}
	defer tx.Rollback()
	return load(tx)
}

// BuildSessions joins the loaded rows into the rules' view of each session.
func BuildSessions(st store.PlanState) []schedule.Session {
	locs := map[string]*time.Location{}
	loc := func(name string) *time.Location {
		if l, ok := locs[name]; ok {
			return l
		}
		l, err := time.LoadLocation(name)
		if err != nil {
			l = time.UTC // validated on the way in; a zone that vanished from tzdata falls back to UTC
		}
		locs[name] = l
		return l
	}
	out := make([]schedule.Session, len(st.Sessions))
	index := make(map[int64]*schedule.Session, len(st.Sessions))
	for i, s := range st.Sessions {
		out[i] = schedule.Session{
			ID: s.ID, Start: s.StartsAt, End: s.End(), Cancelled: s.Status == store.SessionCancelled, Final: s.Kind == store.KindFinal,
			PairActive: s.PairStatus == store.PairActive, Sequence: s.Sequence, Paused: s.Paused,
			Chemistry: s.Kind == store.KindChemistry, Match: map[int64]schedule.Prompt{}, Agreement: map[int64]schedule.Prompt{},
			Mentor: schedule.Person{ID: s.MentorID, Loc: loc(s.MentorTZ), Partstat: store.PartstatNeedsAction},
			Mentee: schedule.Person{ID: s.MenteeID, Loc: loc(s.MenteeTZ), Partstat: store.PartstatNeedsAction},
			Sent:   map[int64]schedule.Sent{},
		}
		if out[i].Chemistry {
			out[i].AskMatch = []int64{s.MentorID, s.MenteeID}
		}
		index[s.ID] = &out[i]
	}
	for _, m := range st.MatchAsks {
		if s := index[m.SessionID]; s != nil && !slices.Contains(s.AskMatch, m.PersonID) {
			s.AskMatch = append(s.AskMatch, m.PersonID)
		}
	}
	for _, a := range st.Attendees {
		s := index[a.SessionID]
		switch {
		case s == nil:
		case a.PersonID == s.Mentor.ID:
			s.Mentor.Partstat = a.Partstat
		case a.PersonID == s.Mentee.ID:
			s.Mentee.Partstat = a.Partstat
		}
	}
	for _, c := range st.CalendarSent {
		if s := index[c.SessionID]; s != nil {
			s.Sent[c.PersonID] = schedule.Sent{Sequence: c.Sequence, Method: c.Method}
			if c.PersonID != s.Mentor.ID && c.PersonID != s.Mentee.ID {
				s.Removed = append(s.Removed, c.PersonID)
			}
		}
	}
	for _, p := range st.Prompts {
		s := index[p.SessionID]
		if s == nil {
			continue
		}
		ps := schedule.Prompt{Exists: true, FirstSentAt: p.FirstSentAt.Ptr(), Replied: p.RepliedAt != nil, Messages: p.Messages}
		switch p.Purpose {
		case store.PurposeChecklist:
			s.Checklist = ps
		case store.PurposeReflection:
			if p.PersonID == s.Mentor.ID {
				s.MentorReflection = ps
			} else {
				s.Reflection = ps
			}
		case store.PurposeMatch:
			s.Match[p.PersonID] = ps
		case store.PurposeAgreement:
			s.Agreement[p.PersonID] = ps
		case store.PurposeBrief:
			s.Brief = ps
		case store.PurposeDigest:
			s.Digest = ps
		}
	}
	return out
}
