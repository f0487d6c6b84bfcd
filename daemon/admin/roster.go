package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// Errors of roster operations that the admin can act on.
var (
	ErrPairExists  = errors.New("an active pair of these two people already exists")
	ErrPairEnded   = errors.New("the pair has ended")
	ErrNotPlanned  = errors.New("the session is cancelled")
	ErrInThePast   = errors.New("that time is in the past")
	ErrSessionOver = errors.New("the session has already taken place")
)

// Roster manages the programme's people, pairs and sessions. Every operation
// runs in one transaction: it happens whole or not at all.
type Roster struct {
	DB  *store.DB
	Cfg *config.Config
	Now func() time.Time
}

func (r *Roster) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// AddResult tells what AddPair did.
type AddResult struct {
	PairID  int64
	Created bool     // false: the same pair already existed and nothing changed
	Notes   []string // things the admin should know, such as an existing person's name kept
}

// AddPair creates the pair with its agreement and planned sessions, and the
// mentor and mentee when they are new. Adding the same input again returns
// the existing pair unchanged.
func (r *Roster) AddPair(ctx context.Context, in PairInput) (AddResult, error) {
	sp, err := in.validate(r.Cfg, r.now())
	if err != nil {
		return AddResult{}, err
	}
	var res AddResult
	err = r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err = r.addPair(ctx, tx, sp)
		return err
	})
	return res, err
}

func (r *Roster) addPair(ctx context.Context, tx *sqlx.Tx, sp pairSpec) (AddResult, error) {
	now := r.now()
	pl, err := planPair(ctx, txRoster{tx}, sp, now)
	if err != nil || pl.existing != nil {
		var res AddResult
		if pl.existing != nil {
			res.PairID = pl.existing.id
		}
		return res, err
	}
	res := AddResult{Notes: pl.notes}
	mentor, mentee := pl.mentor, pl.mentee
	for _, p := range []*store.Person{&mentor, &mentee} {
		if p.ID == 0 { // new
			p.CreatedAt = now
			if err := store.InsertPerson(ctx, tx, p); err != nil {
				return res, err
			}
		}
	}
	pair := &store.Pair{MentorID: mentor.ID, MenteeID: mentee.ID, Status: store.PairActive, SpecHash: sp.hash,
		SharePlans: sp.sharePlans, CreatedAt: now}
	agreement := sp.agreement
	if err := store.InsertPair(ctx, tx, pair, &agreement); err != nil {
		return res, err
	}
	for _, p := range sp.plan {
		s := &store.Session{
			PairID: pair.ID, Number: p.Number, Kind: string(p.Kind), StartsAt: p.Start,
			DurationMin: agreement.SessionMinutes, Timezone: agreement.Timezone, Location: agreement.Location,
			Status: store.SessionPlanned, UID: r.newUID(), CreatedAt: now, UpdatedAt: now,
		}
		if err := store.InsertSession(ctx, tx, s, mentor.ID, mentee.ID); err != nil {
			return res, err
		}
	}
	res.PairID, res.Created = pair.ID, true
	return res, nil
}

// rosterView is what adding a pair needs to know of the roster: the people
// by address, and the active pair of two people. txRoster reads it in the
// transaction that adds the pair; an import's check reads one snapshot of
// the database plus what the rows before have added (importView).
type rosterView interface {
	person(ctx context.Context, email string) (store.Person, bool, error)
	activePair(ctx context.Context, mentor, mentee store.Person) (*pairRef, error)
}

// pairRef is an active pair as the admin knows it.
type pairRef struct {
	id   int64 // in the database
	line int   // or added by this line of an import file
	hash string
}

func (p *pairRef) String() string {
	if p.id == 0 {
		return fmt.Sprintf("line %d of this file", p.line)
	}
	return fmt.Sprintf("pair %d", p.id)
}

// pairPlan is what adding a pair does: the people (ID 0 when new), notes
// for the admin, and an existing pair with the same details when there is
// one (then nothing changes).
type pairPlan struct {
	mentor, mentee store.Person
	notes          []string
	existing       *pairRef
}

// planPair decides what adding sp does, against the roster ro: the one set of
// rules for a pair added, an import's rows checked, and an import's rows written.
func planPair(ctx context.Context, ro rosterView, sp pairSpec, now time.Time) (pairPlan, error) {
	var pl pairPlan
	var err error
	if pl.mentor, err = planPerson(ctx, ro, sp.mentor, &pl.notes); err != nil {
		return pl, err
	}
	if pl.mentee, err = planPerson(ctx, ro, sp.mentee, &pl.notes); err != nil {
		return pl, err
	}
	existing, err := ro.activePair(ctx, pl.mentor, pl.mentee)
	switch {
	case err != nil:
		return pl, err
	case existing != nil && existing.hash == sp.hash:
		return pairPlan{existing: existing}, nil
	case existing != nil:
		return pl, fmt.Errorf("%w (%s) with other details; change its sessions with `mentord session`, or end it first", ErrPairExists, existing)
	}
	if sp.plan[0].Start.Before(now) {
		return pl, fmt.Errorf("start: the first session (%s) %w", sp.plan[0].Start.Format("2006-01-02 15:04 MST"), ErrInThePast)
	}
	pl.notes = append(pl.notes, weekendNotes(sp.plan)...)
	return pl, nil
}

// weekendNotes warns of the sessions planned on a Saturday or a Sunday:
// the first one as given, or any of a weekly or daily rhythm that starts
// on one (monthly ones move to the nearest weekday by themselves).
func weekendNotes(plan []schedule.Planned) []string {
	var on []string
	for _, p := range plan {
		if schedule.Weekend(p.Start) {
			on = append(on, fmt.Sprintf("%d (%s %s)", p.Number, p.Start.Weekday(), p.Start.Format("2006-01-02")))
		}
	}
	switch {
	case len(on) == 0:
		return nil
	case len(on) == 1:
		return []string{"session " + on[0] + " falls on a weekend; move it with `mentord session move` if that is not meant"}
	}
	return []string{fmt.Sprintf("%d sessions fall on a weekend: %s; move them with `mentord session move`, or start on a weekday",
		len(on), strings.Join(on, ", "))}
}

// planPerson returns the person with want's address, or want (ID 0) when new.
// An existing person keeps their details; a note says when they differ.
func planPerson(ctx context.Context, ro rosterView, want store.Person, notes *[]string) (store.Person, error) {
	p, ok, err := ro.person(ctx, want.Email)
	if err != nil || !ok {
		return want, err
	}
	if p.Name != want.Name || p.Timezone != want.Timezone || p.Language != want.Language {
		*notes = append(*notes, fmt.Sprintf("%s is already known as %q (%s, %s); kept as is", p.Email, p.Name, p.Timezone, p.Language))
	}
	return p, nil
}

// ensurePerson returns the person with want's address, creating them when new.
// An existing person keeps their details; a note says when they differ.
func ensurePerson(ctx context.Context, tx *sqlx.Tx, want store.Person, now time.Time) (store.Person, []string, error) {
	var notes []string
	p, err := planPerson(ctx, txRoster{tx}, want, &notes)
	if err != nil || p.ID != 0 {
		return p, notes, err
	}
	p.CreatedAt = now
	return p, nil, store.InsertPerson(ctx, tx, &p)
}

// txRoster is the roster as a transaction sees it.
type txRoster struct{ q store.Querier }

func (t txRoster) person(ctx context.Context, email string) (store.Person, bool, error) {
	p, err := store.GetPersonByEmail(ctx, t.q, email)
	if errors.Is(err, store.ErrNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

func (t txRoster) activePair(ctx context.Context, mentor, mentee store.Person) (*pairRef, error) {
	if mentor.ID == 0 || mentee.ID == 0 {
		return nil, nil // a new person has no pair yet
	}
	p, err := store.FindActivePair(ctx, t.q, mentor.ID, mentee.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &pairRef{id: p.ID, hash: p.SpecHash}, nil
}

// newUID makes a calendar UID: 128 random bits at the programme's domain, so
// it is unique everywhere and never reused (RFC 5545 section 3.8.4.7).
func (r *Roster) newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := r.Cfg.Mailbox.Address[strings.LastIndexByte(r.Cfg.Mailbox.Address, '@')+1:]
	return "mentord-" + hex.EncodeToString(b[:]) + "@" + domain
}

// EndPair ends the pair and cancels its sessions still to come. It returns how
// many sessions it cancelled.
func (r *Roster) EndPair(ctx context.Context, id int64) (int, error) {
	var n int
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := store.GetPair(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Status == store.PairEnded {
			return fmt.Errorf("pair %d: %w", id, ErrPairEnded)
		}
		now := r.now()
		if n, err = store.CancelFutureSessions(ctx, tx, id, now); err != nil {
			return err
		}
		return store.EndPair(ctx, tx, id, now)
	})
	return n, err
}

// changeableSession loads a session that may still be moved or cancelled.
func (r *Roster) changeableSession(ctx context.Context, tx *sqlx.Tx, id int64) (store.Session, error) {
	s, err := store.GetSession(ctx, tx, id)
	if err != nil {
		return s, err
	}
	p, err := store.GetPair(ctx, tx, s.PairID)
	if err != nil {
		return s, err
	}
	switch {
	case p.Status == store.PairEnded:
		return s, fmt.Errorf("session %d: pair %d: %w", id, p.ID, ErrPairEnded)
	case s.Status != store.SessionPlanned:
		return s, fmt.Errorf("session %d: %w", id, ErrNotPlanned)
	case !s.StartsAt.After(r.now()):
		return s, fmt.Errorf("session %d: %w", id, ErrSessionOver)
	}
	return s, nil
}

// MoveSession moves a planned session to a new local time in its own zone.
func (r *Roster) MoveSession(ctx context.Context, id int64, to string) (store.Session, error) {
	var s store.Session
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if s, err = r.changeableSession(ctx, tx, id); err != nil {
			return err
		}
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			return err
		}
		start, err := schedule.ParseLocal(to, loc)
		if err == nil {
			err = schedule.CheckWindow(start, r.now())
		}
		if err != nil {
			return InputError{{Field: "to", Msg: err.Error()}}
		}
		if !start.After(r.now()) {
			return InputError{{Field: "to", Msg: ErrInThePast.Error()}}
		}
		if start.Equal(s.StartsAt) {
			return nil // already there: nothing changes, no update goes out
		}
		if err := store.MoveSession(ctx, tx, id, start, r.now()); err != nil {
			return err
		}
		if err := store.SettleProposals(ctx, tx, id, &start); err != nil {
			return err
		}
		if err := r.settleFinal(ctx, tx, s.PairID); err != nil {
			return err
		}
		s, err = store.GetSession(ctx, tx, id)
		return err
	})
	return s, err
}

// CancelSession cancels a planned session.
func (r *Roster) CancelSession(ctx context.Context, id int64) (store.Session, error) {
	var s store.Session
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := r.changeableSession(ctx, tx, id); err != nil {
			return err
		}
		if err := store.CancelSession(ctx, tx, id, r.now()); err != nil {
			return err
		}
		if err := store.SettleProposals(ctx, tx, id, nil); err != nil {
			return err
		}
		var err error
		if s, err = store.GetSession(ctx, tx, id); err != nil {
			return err
		}
		return r.settleFinal(ctx, tx, s.PairID)
	})
	return s, err
}

// AddSession adds a regular session to an active pair at a local time in the
// pair's zone; duration and location default to the agreement's.
func (r *Roster) AddSession(ctx context.Context, pairID int64, at, duration, location string) (store.Session, error) {
	var s store.Session
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := store.GetPair(ctx, tx, pairID)
		if err != nil {
			return err
		}
		if p.Status == store.PairEnded {
			return fmt.Errorf("pair %d: %w", pairID, ErrPairEnded)
		}
		v := &validator{}
		loc, _ := time.LoadLocation(p.Agreement.Timezone)
		start, err := schedule.ParseLocal(at, loc)
		if err == nil {
			err = schedule.CheckWindow(start, r.now())
		}
		if err != nil {
			v.fail("at", "%v", err)
		} else if !start.After(r.now()) {
			v.fail("at", "%v", ErrInThePast)
		}
		minutes := v.sessionLength("duration", duration, p.Agreement.SessionMinutes)
		place := v.text("location", location, false, maxLine, false)
		if place == "" {
			place = p.Agreement.Location
		}
		if len(v.errs) > 0 {
			return v.errs
		}
		n, err := store.MaxSessionNumber(ctx, tx, pairID)
		if err != nil {
			return err
		}
		now := r.now()
		s = store.Session{
			PairID: pairID, Number: n + 1, Kind: store.KindRegular, StartsAt: start, DurationMin: minutes,
			Timezone: p.Agreement.Timezone, Location: place, Status: store.SessionPlanned, UID: r.newUID(),
			CreatedAt: now, UpdatedAt: now,
		}
		if err := store.InsertSession(ctx, tx, &s, p.MentorID, p.MenteeID); err != nil {
			return err
		}
		if err := r.settleFinal(ctx, tx, pairID); err != nil {
			return err
		}
		s, err = store.GetSession(ctx, tx, s.ID)
		return err
	})
	return s, err
}

// settleFinal makes the pair's last remaining session the final one, which
// evaluates the programme (its checklist, its reflection, the year in review
// before it), however the admin got there: cancelling the final session,
// adding one after it, or moving one past it. A session that was final and no
// longer is the last becomes what its number would have made it. The first
// session stays the chemistry meeting. Sessions still to come whose kind
// changed get a new SEQUENCE, so their invitations say it.
func (r *Roster) settleFinal(ctx context.Context, tx *sqlx.Tx, pairID int64) error {
	p, err := store.GetPair(ctx, tx, pairID)
	if err != nil {
		return err
	}
	ss, err := store.ListSessions(ctx, tx, pairID) // in time order
	if err != nil {
		return err
	}
	var planned []store.Session
	for _, s := range ss {
		if s.Status == store.SessionPlanned {
			planned = append(planned, s)
		}
	}
	for i, s := range planned {
		want := s.Kind
		switch {
		case i == len(planned)-1 && s.Kind != store.KindChemistry:
			want = store.KindFinal
		case s.Kind == store.KindFinal: // no longer the last: as its number makes it, with no end in sight
			want = string(schedule.KindOf(s.Number, 0, p.Agreement.ReviewEvery))
		}
		if want != s.Kind {
			if err := store.SetSessionKind(ctx, tx, s.ID, want, r.now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReplaceMentor gives the pair a new mentor from now on: the sessions still to
// come change attendee (and SEQUENCE), so the old mentor is sent a
// cancellation and the new mentor and the mentee an invite or update; the
// sessions held keep the mentor who was there.
func (r *Roster) ReplaceMentor(ctx context.Context, pairID int64, name, email, tz, lang string) (store.PairView, error) {
	var view store.PairView
	err := r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		p, err := store.GetPair(ctx, tx, pairID)
		if err != nil {
			return err
		}
		if p.Status == store.PairEnded {
			return fmt.Errorf("pair %d: %w", pairID, ErrPairEnded)
		}
		v := &validator{}
		want := store.Person{Name: v.name("mentor_name", name), Email: v.email("mentor_email", email)}
		want.Timezone, _ = v.zone("mentor_tz", tz, p.Mentor.Timezone)
		want.Language = v.lang("mentor_lang", lang, p.Mentor.Language)
		if strings.EqualFold(want.Email, p.Mentee.Email) {
			v.fail("mentor_email", "the mentor and the mentee must be different people")
		}
		if len(v.errs) > 0 {
			return v.errs
		}
		if strings.EqualFold(want.Email, p.Mentor.Email) {
			view = p
			return nil // already the mentor
		}
		mentor, _, err := ensurePerson(ctx, tx, want, r.now())
		if err != nil {
			return err
		}
		if other, err := store.FindActivePair(ctx, tx, mentor.ID, p.MenteeID); err == nil {
			return fmt.Errorf("%w (pair %d)", ErrPairExists, other.ID)
		}
		if err := store.ReplaceMentor(ctx, tx, pairID, p.MentorID, mentor.ID, r.now()); err != nil {
			return err
		}
		view, err = store.GetPair(ctx, tx, pairID)
		return err
	})
	return view, err
}

// SetSharePlans records the mentee's choice whether the mentor sees their
// planning answers (in the brief the day before each session).
func (r *Roster) SetSharePlans(ctx context.Context, pairID int64, share bool) error {
	return r.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := store.GetPair(ctx, tx, pairID); err != nil {
			return err
		}
		return store.SetSharePlans(ctx, tx, pairID, share)
	})
}
