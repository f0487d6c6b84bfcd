package converse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// Pausing a pair: no invites or prompts while it is paused, because every
// planned session from the pause's start to its end is cancelled (the
// schedule sends each attendee a CANCEL, RFC 5546 section 3.2.5) and listed
// with the pause. On resume (asked for, by `mentord pair resume`, or when the
// pause's end comes) each of them is planned again as a new session with a
// new UID, so calendars get a fresh invitation: at its old time when that is
// still more than a day away, else after the pair's last planned session at
// the pair's cadence, in order.

// Errors of pausing and resuming.
var (
	ErrPaused    = errors.New("the pair is paused already")
	ErrNotPaused = errors.New("the pair is not paused")
	ErrUntil     = errors.New("a pause ends after it starts and within a year")
	ErrEnded     = errors.New("the pair has ended")
)

// Pause pauses pair from from until until (a day at midnight: the pause
// covers the days before it). by is who asked (nil: the admin). It returns
// the pause and the sessions it cancelled.
func Pause(ctx context.Context, q store.Querier, pairID int64, from, until, now time.Time, by *int64) (store.Pause, []store.Session, error) {
	p, err := store.GetPair(ctx, q, pairID)
	if err != nil {
		return store.Pause{}, nil, err
	}
	if p.Status != store.PairActive {
		return store.Pause{}, nil, fmt.Errorf("pair %d: %w", pairID, ErrEnded)
	}
	if !until.After(from) || until.After(from.AddDate(1, 0, 1)) {
		return store.Pause{}, nil, fmt.Errorf("pair %d until %s: %w", pairID, until.Format(time.DateOnly), ErrUntil)
	}
	if _, err := store.OpenPause(ctx, q, pairID); err == nil {
		return store.Pause{}, nil, fmt.Errorf("pair %d: %w", pairID, ErrPaused)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Pause{}, nil, err
	}
	pa := store.Pause{PairID: pairID, FromAt: from, Until: until, RequestedBy: by, CreatedAt: now}
	ids, err := store.InsertPause(ctx, q, &pa)
	if err != nil {
		return pa, nil, err
	}
	for _, id := range ids {
		if err := store.SettleProposals(ctx, q, id, nil); err != nil {
			return pa, nil, err
		}
	}
	cancelled, err := store.PausedSessions(ctx, q, pa.ID)
	return pa, cancelled, err
}

// Resume ends the pair's pause and plans its cancelled sessions again. It
// returns the sessions it planned. mailbox names the domain of new UIDs.
func Resume(ctx context.Context, q store.Querier, pairID int64, now time.Time, mailbox string) ([]store.Session, error) {
	pa, err := store.OpenPause(ctx, q, pairID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pair %d: %w", pairID, ErrNotPaused)
	}
	if err != nil {
		return nil, err
	}
	if err := store.EndPause(ctx, q, pa.ID, now); err != nil {
		return nil, err
	}
	p, err := store.GetPair(ctx, q, pairID)
	if err != nil {
		return nil, err
	}
	if p.Status != store.PairActive {
		return nil, nil
	}
	paused, err := store.PausedSessions(ctx, q, pa.ID)
	if err != nil {
		return nil, err
	}
	cadence, err := schedule.ParseCadence(p.Agreement.Cadence)
	if err != nil {
		cadence = schedule.Cadence{Months: 1}
	}
	loc, err := time.LoadLocation(p.Agreement.Timezone)
	if err != nil {
		loc = time.UTC
	}
	var planned []store.Session
	for _, old := range paused {
		start := old.StartsAt
		if !start.After(now.Add(24 * time.Hour)) {
			last, err := lastPlanned(ctx, q, pairID)
			if err != nil {
				return nil, err
			}
			from := start
			if last != nil {
				from = *last
			}
			n := 1
			for start = cadence.Nth(from.In(loc), n); !start.After(now.Add(24 * time.Hour)); start = cadence.Nth(from.In(loc), n) {
				n++
			}
		}
		num, err := store.MaxSessionNumber(ctx, q, pairID)
		if err != nil {
			return nil, err
		}
		s := store.Session{PairID: pairID, Number: num + 1, Kind: old.Kind, StartsAt: start, DurationMin: old.DurationMin,
			Timezone: old.Timezone, Location: old.Location, Status: store.SessionPlanned, UID: newUID(mailbox), CreatedAt: now, UpdatedAt: now}
		if err := store.InsertSession(ctx, q, &s, p.MentorID, p.MenteeID); err != nil {
			return nil, err
		}
		planned = append(planned, s)
	}
	return planned, nil
}

// lastPlanned is the start of the pair's last planned session, nil when none.
func lastPlanned(ctx context.Context, q store.Querier, pairID int64) (*time.Time, error) {
	ss, err := store.ListSessions(ctx, q, pairID)
	if err != nil {
		return nil, err
	}
	var last *time.Time
	for i := range ss {
		if ss[i].Status == store.SessionPlanned && (last == nil || ss[i].StartsAt.After(*last)) {
			last = &ss[i].StartsAt
		}
	}
	return last, nil
}

// newUID makes a calendar UID: 128 random bits at the programme's domain,
// never reused (RFC 5545 section 3.8.4.7), as the roster makes them.
func newUID(mailbox string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "mentord-" + hex.EncodeToString(b[:]) + "@" + mailbox[strings.LastIndexByte(mailbox, '@')+1:]
}
