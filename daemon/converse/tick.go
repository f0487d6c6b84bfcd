package converse

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// TickResult is what Tick did: how many things it acted on (each may have
// enqueued mail), and when it is next due (zero: nothing known).
type TickResult struct {
	Acted int
	Next  time.Time
}

// Tick does the conversation's work that comes with time, each part in a
// transaction of its own:
//  1. pauses whose end has come are resumed, their sessions planned again;
//  2. proposals nobody answered within timings.move_wait are declined (the
//     proposer and the admin are told);
//  3. requests waiting for a confirmation for over a week expire;
//  4. the admin digest (programme.admin_digest) goes out at
//     timings.checklist_time in defaults.timezone, daily or on Mondays, when
//     something needs a person.
func Tick(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, now time.Time, log *slog.Logger) (TickResult, error) {
	var res TickResult
	conv := func(tx *sqlx.Tx) *Conversation {
		return &Conversation{Cfg: cfg, Tpl: tpl, DB: db, Tx: tx, Now: now, Log: log}
	}
	pauses, err := store.PausesDue(ctx, db.R(), now)
	if err != nil {
		return res, err
	}
	for _, pa := range pauses {
		err := db.Tx(ctx, func(tx *sqlx.Tx) error { return conv(tx).endPause(ctx, pa) })
		if err != nil {
			return res, fmt.Errorf("resume pair %d: %w", pa.PairID, err)
		}
		log.Info("pause ended: sessions planned again", "pair", pa.PairID)
		res.Acted++
	}
	moves, err := store.MovesDue(ctx, db.R(), now)
	if err != nil {
		return res, err
	}
	for _, mv := range moves {
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return conv(tx).declineMove(ctx, mv, "timeout", 0) }); err != nil {
			return res, fmt.Errorf("decline proposal %d: %w", mv.ID, err)
		}
		log.Info("a proposed new time got no answer in time", "session", mv.SessionID, "proposal", mv.ID)
		res.Acted++
	}
	// Only a pass with something to expire writes: the loop runs often.
	if n, err := store.CountAskedBefore(ctx, db.R(), now.Add(-confirmWindow)); err != nil {
		return res, err
	} else if n > 0 {
		if err := db.Tx(ctx, func(tx *sqlx.Tx) error {
			_, err := store.ExpireRequests(ctx, tx, now.Add(-confirmWindow), now)
			return err
		}); err != nil {
			return res, err
		}
	}
	digestAt, sent, err := digest(ctx, db, cfg, tpl, now)
	if err != nil {
		return res, err
	}
	if sent {
		res.Acted++
	}
	next := digestAt
	for _, f := range []func(context.Context, store.Querier) (*time.Time, error){store.NextPauseEnd, store.NextMoveDue} {
		if t, err := f(ctx, db.R()); err != nil {
			return res, err
		} else if t != nil && t.After(now) && (next.IsZero() || t.Before(next)) {
			next = *t
		}
	}
	res.Next = next
	return res, nil
}

// endPause resumes a pair whose pause's end has come.
func (c *Conversation) endPause(ctx context.Context, pa store.Pause) error {
	planned, err := Resume(ctx, c.Tx, pa.PairID, c.Now, c.Cfg.Mailbox.Address)
	if err != nil {
		return err
	}
	pair, err := store.GetPair(ctx, c.Tx, pa.PairID)
	if err != nil {
		return err
	}
	if pair.Status != store.PairActive {
		return nil
	}
	for _, to := range []store.Person{pair.Mentee, pair.Mentor} {
		if err := c.sendTalkAbout(ctx, pair, to, fmt.Sprintf("talk:resumed:pause%d:%d", pa.ID, to.ID),
			templates.Talk{What: "resumed", Sessions: sessionInfos(planned)}); err != nil {
			return err
		}
	}
	return c.tellAdmin(ctx, fmt.Sprintf("resumed:pause%d", pa.ID), fmt.Sprintf("pair %d resumed after its pause", pa.PairID),
		fmt.Sprintf("The pause of pair %d ended; %d sessions are planned again.", pa.PairID, len(planned)))
}

func (c *Conversation) sendTalkAbout(ctx context.Context, pair store.PairView, to store.Person, key string, tk templates.Talk) error {
	return c.sendTalk(ctx, composeTalk(pair, to, key, tk))
}

// digest sends the admin digest when it is due and returns when the next one is.
func digest(ctx context.Context, db *store.DB, cfg *config.Config, tpl *templates.Set, now time.Time) (time.Time, bool, error) {
	if cfg.Programme.AdminDigest == config.DigestOff || cfg.Programme.AdminEmail == "" {
		return time.Time{}, false, nil
	}
	loc, err := time.LoadLocation(cfg.Defaults.Timezone)
	if err != nil {
		loc = time.UTC
	}
	weekly := cfg.Programme.AdminDigest == config.DigestWeekly
	at := func(day time.Time) time.Time {
		m := cfg.Timings.ChecklistTime.Minutes
		return time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
	}
	due := func(day time.Time) bool { return !weekly || day.Weekday() == time.Monday }
	local := now.In(loc)
	today := at(local)
	var next time.Time
	for d := 1; d <= 7; d++ {
		if day := local.AddDate(0, 0, d); due(day) {
			next = at(day)
			break
		}
	}
	if !due(local) || now.Before(today) {
		if due(local) && now.Before(today) {
			next = today
		}
		return next, false, nil
	}
	period := 24 * time.Hour
	key := "admin-digest:" + today.Format(time.DateOnly)
	if weekly {
		period = 7 * 24 * time.Hour
	}
	// Looked at once a day (or week): the loop runs often.
	if last, err := store.Setting(ctx, db.R(), "admin_digest_day"); err != nil || last == key {
		return next, false, err
	}
	a, err := LoadAttention(ctx, db.R(), now, now.Add(-period), cfg.Timings.AgreementWithin.D())
	if err != nil {
		return next, false, err
	}
	if a.Empty() {
		return next, false, db.Tx(ctx, func(tx *sqlx.Tx) error { return store.SetSetting(ctx, tx, "admin_digest_day", key) })
	}
	lines := []string{fmt.Sprintf("These need a person (%s):", strings.TrimSpace(cfg.Programme.AdminDigest))}
	lines = append(lines, a.Lines(loc)...)
	if a.Strangers > 0 {
		lines = append(lines, fmt.Sprintf("%d messages from strangers were left in the %s folder.", a.Strangers, cfg.IMAP.Folders.Unrelated))
	}
	lines = append(lines, "`mentord status` shows the same; `mentord inbox list` the messages, `mentord inbox show ID` one of them.")
	return next, true, db.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := store.SetSetting(ctx, tx, "admin_digest_day", key); err != nil {
			return err
		}
		c := &Conversation{Cfg: cfg, Tpl: tpl, DB: db, Tx: tx, Now: now}
		return c.tellAdmin(ctx, key, fmt.Sprintf("what needs a person: %d %s", len(a.Lines(loc)), map[bool]string{true: "item", false: "items"}[len(a.Lines(loc)) == 1]), lines...)
	})
}
