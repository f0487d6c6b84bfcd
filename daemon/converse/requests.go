package converse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/intent"
	"github.com/mentord/mentord/templates"
)

// confirmWindow is how long a request waits for its sender's confirmation.
const confirmWindow = 7 * 24 * time.Hour

// logEvery: a mentee's log goes out on request at most once a day.
const logEvery = 24 * time.Hour

// pending answers a question mentord asked this person: a confirmation of
// their own request, or a proposed new time. ok reports whether it was one.
func (t *talk) pending(ctx context.Context) (Result, bool, error) {
	q, now := t.c.Tx, t.c.Now
	// Only a reply to our own message (token or thread, From checked by
	// ingest) confirms: a forged From cannot.
	if t.m.Prompt != nil && t.read.Answer != "" {
		r, err := store.AskedRequest(ctx, q, t.m.Person.ID, now.Add(-confirmWindow))
		switch {
		case err == nil && r.PairID == t.pair.ID:
			return t.confirmed(ctx, r)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return Result{}, false, err
		}
	}
	if t.m.Prompt == nil && !t.m.Verified {
		return Result{}, false, nil
	}
	mv, err := store.MoveAskedOf(ctx, q, t.m.Person.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Result{}, false, nil
	case err != nil:
		return Result{}, false, err
	case mv.PairID != t.pair.ID:
		return Result{}, false, nil
	}
	return t.answerMove(ctx, mv)
}

// confirmed applies a request its sender confirmed (yes) or drops it (no).
func (t *talk) confirmed(ctx context.Context, r store.Request) (Result, bool, error) {
	if t.read.Answer == intent.No {
		return t.result(store.OutcomeLogged, fmt.Sprintf("request %d (%s) withdrawn", r.ID, r.Kind), func(ctx context.Context, inboundID int64) error {
			return store.SettleRequest(ctx, t.c.Tx, r.ID, store.RequestRefused, "the sender answered no", t.c.Now)
		}), true, nil
	}
	var res Result
	var err error
	switch r.Kind {
	case store.RequestPause:
		res, err = t.pause(ctx, *r.Until, &r)
	case store.RequestResume:
		res, err = t.resume(ctx, &r)
	case store.RequestStop:
		res, err = t.stop(ctx, &r)
	case store.RequestMove:
		res, err = t.confirmedMove(ctx, r)
	default:
		return Result{}, false, nil
	}
	return res, true, err
}

// requests handles what the message asks for. One request a message: when
// it asks for several that do not go together, a person reads it.
func (t *talk) requests(ctx context.Context) (Result, bool, error) {
	rd := t.read
	strong := 0
	for _, q := range []intent.Request{intent.Pause, intent.Resume, intent.Stop, intent.Log} {
		if rd.Has(q) {
			strong++
		}
	}
	if strong > 1 {
		return t.keep(fmt.Sprintf("it asks for several things at once (%v)", rd.Requests), nil), true, nil
	}
	var res Result
	var err error
	switch {
	case rd.Has(intent.Stop):
		res, err = t.stop(ctx, nil)
	case rd.Has(intent.Pause):
		res, err = t.pauseFromText(ctx)
	case rd.Has(intent.Resume):
		res, err = t.resume(ctx, nil)
	case rd.Has(intent.Log):
		res, err = t.sendLog(ctx)
	case rd.Has(intent.Move):
		return t.moveFromText(ctx)
	default:
		return Result{}, false, nil
	}
	return res, true, err
}

// ask records a request that waits for its sender's confirmation and asks
// for it: the sender could not be made sure of.
func (t *talk) ask(kind string, until *time.Time, what string, detail string) Result {
	return t.result(store.OutcomeLogged, kind+" asked to be confirmed: the sender is not verified", func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		r := &store.Request{InboundID: &inboundID, PairID: t.pair.ID, PersonID: &pid, Kind: kind, Until: until,
			Status: store.RequestAsked, Detail: detail, CreatedAt: t.c.Now}
		if err := store.InsertRequest(ctx, t.c.Tx, r); err != nil {
			return err
		}
		tk := templates.Talk{What: what}
		if until != nil {
			tk.Until = *until
		}
		return t.send(ctx, inboundID, t.m.Person, tk, nil)
	})
}

// refuse answers a request that cannot be done, and tells the admin.
func (t *talk) refuse(kind, reason string) Result {
	return t.result(store.OutcomeLogged, kind+" refused: "+reason, func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		if err := store.InsertRequest(ctx, t.c.Tx, &store.Request{InboundID: &inboundID, PairID: t.pair.ID, PersonID: &pid, Kind: kind,
			Status: store.RequestRefused, Detail: reason, CreatedAt: t.c.Now}); err != nil {
			return err
		}
		if err := t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "refused", Reason: reason}, nil); err != nil {
			return err
		}
		return t.c.tellAdmin(ctx, fmt.Sprintf("refused:%d", inboundID), fmt.Sprintf("a request from pair %d could not be done", t.pair.ID),
			fmt.Sprintf("%s (%s of pair %d) asked to %s; mentord could not do it (%s).", t.m.Person.Name, t.role(), t.pair.ID, kind, reason),
			fmt.Sprintf("Read it with `mentord inbox show %d`.", inboundID))
	})
}

// done records a request as done.
func (t *talk) done(ctx context.Context, inboundID int64, confirmed *store.Request, kind string, until *time.Time, detail string) error {
	if confirmed != nil {
		return store.SettleRequest(ctx, t.c.Tx, confirmed.ID, store.RequestDone, "confirmed by a reply", t.c.Now)
	}
	pid := t.m.Person.ID
	return store.InsertRequest(ctx, t.c.Tx, &store.Request{InboundID: &inboundID, PairID: t.pair.ID, PersonID: &pid, Kind: kind,
		Until: until, Status: store.RequestDone, Detail: detail, CreatedAt: t.c.Now, SettledAt: &t.c.Now})
}

// pauseFromText reads until when to pause.
func (t *talk) pauseFromText(ctx context.Context) (Result, error) {
	loc := personZone(t.m.Person)
	until, ok := intent.FindUntil(t.text, t.c.Now, loc, t.read.Danish || t.m.Person.Language == "da")
	if !ok {
		return t.refuse(store.RequestPause, "no-date-pause"), nil
	}
	if t.m.Verified {
		return t.pause(ctx, until, nil)
	}
	return t.ask(store.RequestPause, &until, "pause-confirm", ""), nil
}

// pause pauses the pair now until until and tells both and the admin.
func (t *talk) pause(ctx context.Context, until time.Time, confirmed *store.Request) (Result, error) {
	if _, err := store.OpenPause(ctx, t.c.Tx, t.pair.ID); err == nil {
		return t.refuse(store.RequestPause, "paused"), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Result{}, err
	}
	day := until.In(personZone(store.Person{Timezone: t.pair.Agreement.Timezone})).Format(time.DateOnly)
	return t.result(store.OutcomeLogged, "pause until "+day, func(ctx context.Context, inboundID int64) error {
		pid := t.m.Person.ID
		_, cancelled, err := Pause(ctx, t.c.Tx, t.pair.ID, t.c.Now, until, t.c.Now, &pid)
		if err != nil {
			return err
		}
		if err := t.done(ctx, inboundID, confirmed, store.RequestPause, &until, ""); err != nil {
			return err
		}
		t.session = nil // the message is about the pair now, not a cancelled session
		for _, to := range []store.Person{t.pair.Mentee, t.pair.Mentor} {
			if err := t.send(ctx, inboundID, to, templates.Talk{What: "paused", Until: until, Sessions: sessionInfos(cancelled)}, nil); err != nil {
				return err
			}
		}
		return t.c.tellAdmin(ctx, fmt.Sprintf("paused:%d", inboundID), fmt.Sprintf("pair %d paused until %s", t.pair.ID, day),
			fmt.Sprintf("%s (%s) asked to pause the mentoring of pair %d (%s and %s) until %s.", t.m.Person.Name, t.role(), t.pair.ID,
				t.pair.Mentor.Name, t.pair.Mentee.Name, day),
			fmt.Sprintf("%d sessions in that time were cancelled; they are planned again when the pause ends or on `mentord pair resume %d`.", len(cancelled), t.pair.ID))
	}), nil
}

// resume ends the pair's pause and plans its sessions again.
func (t *talk) resume(ctx context.Context, confirmed *store.Request) (Result, error) {
	if _, err := store.OpenPause(ctx, t.c.Tx, t.pair.ID); errors.Is(err, store.ErrNotFound) {
		return t.refuse(store.RequestResume, "not-paused"), nil
	} else if err != nil {
		return Result{}, err
	}
	if !t.m.Verified && confirmed == nil {
		return t.ask(store.RequestResume, nil, "resume-confirm", ""), nil
	}
	return t.result(store.OutcomeLogged, "resume", func(ctx context.Context, inboundID int64) error {
		planned, err := Resume(ctx, t.c.Tx, t.pair.ID, t.c.Now, t.c.Cfg.Mailbox.Address)
		if err != nil {
			return err
		}
		if err := t.done(ctx, inboundID, confirmed, store.RequestResume, nil, ""); err != nil {
			return err
		}
		for _, to := range []store.Person{t.pair.Mentee, t.pair.Mentor} {
			if err := t.send(ctx, inboundID, to, templates.Talk{What: "resumed", Sessions: sessionInfos(planned)}, nil); err != nil {
				return err
			}
		}
		return t.c.tellAdmin(ctx, fmt.Sprintf("resumed:%d", inboundID), fmt.Sprintf("pair %d resumed", t.pair.ID),
			fmt.Sprintf("%s (%s) resumed the mentoring of pair %d; %d sessions are planned again.", t.m.Person.Name, t.role(), t.pair.ID, len(planned)))
	}), nil
}

// stop records that the sender wishes to stop taking part: nothing is
// cancelled; the admin is told and decides (`mentord pair end`).
func (t *talk) stop(ctx context.Context, confirmed *store.Request) (Result, error) {
	if !t.m.Verified && confirmed == nil {
		return t.ask(store.RequestStop, nil, "stop-confirm", ""), nil
	}
	return t.result(store.OutcomeLogged, "stop requested", func(ctx context.Context, inboundID int64) error {
		if err := t.done(ctx, inboundID, confirmed, store.RequestStop, nil, ""); err != nil {
			return err
		}
		if err := t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "stop"}, nil); err != nil {
			return err
		}
		return t.c.tellAdmin(ctx, fmt.Sprintf("stop:%d", inboundID), fmt.Sprintf("%s asks to stop taking part (pair %d)", t.m.Person.Name, t.pair.ID),
			fmt.Sprintf("%s, %s of pair %d (with %s), wrote that they wish to stop taking part. Nothing has been cancelled.",
				t.m.Person.Name, t.role(), t.pair.ID, t.other().Name),
			fmt.Sprintf("Read the message with `mentord inbox show %d`; end the pair with `mentord pair end %d`, or pause it with `mentord pair pause %d --until DATE`.",
				inboundID, t.pair.ID, t.pair.ID))
	}), nil
}

// sendLog sends the mentee their own log: only to the address on file
// (never a Reply-To), at most once a day. Anyone may ask; it only ever goes
// to the mentee themself.
func (t *talk) sendLog(ctx context.Context) (Result, error) {
	if !t.mentee {
		return t.refuse(store.RequestLog, "mentee-only"), nil
	}
	last, err := store.LastLogSent(ctx, t.c.Tx, t.m.Person.ID)
	if err != nil {
		return Result{}, err
	}
	if last != nil && t.c.Now.Sub(*last) < logEvery {
		return t.result(store.OutcomeLogged, "log already sent today", func(ctx context.Context, inboundID int64) error {
			return t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "log-limit"}, nil)
		}), nil
	}
	return t.result(store.OutcomeLogged, "log sent", func(ctx context.Context, inboundID int64) error {
		l, err := records.LoadMenteeLog(ctx, t.c.Tx, t.m.Person.Email, t.c.Now)
		if err != nil {
			return err
		}
		var text, md bytes.Buffer
		if err := records.WriteMenteeLog(&text, l, "text"); err != nil {
			return err
		}
		if err := records.WriteMenteeLog(&md, l, "markdown"); err != nil {
			return err
		}
		if err := t.done(ctx, inboundID, nil, store.RequestLog, nil, ""); err != nil {
			return err
		}
		to := t.pair.Mentee // the address on file, whatever the message's Reply-To said
		return t.send(ctx, inboundID, to, templates.Talk{What: "log", Log: text.String()}, func(ct *compose.Talk) {
			ct.Attach = []mail.Attachment{{Name: "progress-log.md", ContentType: "text/markdown; charset=UTF-8", Data: md.Bytes()}}
		})
	}), nil
}

// writtenDecline: a participant wrote to an invite that they cannot come,
// with no new time. It counts as their calendar's DECLINED (the prompts
// wait, as for a decline in the calendar): the other one of the pair is
// told as for a calendar's decline (their words are not passed on: they go
// to the admin, who is told and can read them).
func (t *talk) writtenDecline(ctx context.Context) (Result, error) {
	s := *t.session
	return t.result(store.OutcomeLogged, fmt.Sprintf("session %d: %s declined in writing", s.ID, t.role()), func(ctx context.Context, inboundID int64) error {
		if err := store.SetPartstat(ctx, t.c.Tx, s.ID, t.m.Person.ID, store.PartstatDeclined, s.Sequence, t.c.Now, t.c.Now); err != nil {
			return err
		}
		attendees, err := store.SessionAttendees(ctx, t.c.Tx, s.ID)
		if err != nil {
			return err
		}
		for _, who := range attendees {
			if who.PersonID != t.m.Person.ID {
				continue
			}
			d := compose.Decline{InboundID: inboundID, Session: s, Who: who, Attendees: attendees}
			if err := compose.New(t.c.Cfg, t.c.Tpl, t.c.DB, t.c.Now).TellOtherOfDecline(ctx, t.c.Tx, d); err != nil {
				return err
			}
		}
		if err := t.send(ctx, inboundID, t.m.Person, templates.Talk{What: "kept"}, nil); err != nil {
			return err
		}
		pid := t.m.Person.ID
		if err := store.KeepMessage(ctx, t.c.Tx, &store.Kept{InboundID: inboundID, PersonID: &pid, PairID: &t.pair.ID,
			Why: "a written decline without a new time", CreatedAt: t.c.Now}); err != nil {
			return err
		}
		return t.c.tellAdmin(ctx, fmt.Sprintf("declined:%d", inboundID), fmt.Sprintf("%s cannot come to session %d (pair %d)", t.m.Person.Name, s.Number, t.pair.ID),
			fmt.Sprintf("%s (%s) wrote that they cannot come to the session on %s, without proposing another time.", t.m.Person.Name, t.role(),
				s.StartsAt.In(personZone(t.pair.Mentee)).Format("Mon 2 Jan 2006 15:04 MST")),
			fmt.Sprintf("Read it with `mentord inbox show %d`, then move the session with `mentord session move %d --to ...` or cancel it.", inboundID, s.ID))
	}), nil
}

// sessionInfos turns sessions into what templates print (their numbers
// among the pair's are not needed in a list of dates).
func sessionInfos(ss []store.Session) []templates.Session {
	out := make([]templates.Session, len(ss))
	for i, s := range ss {
		out[i] = templates.Session{Number: s.Number, Kind: s.Kind, Start: s.StartsAt, End: s.End(), Minutes: s.DurationMin, Location: s.Location}
	}
	return out
}

// personZone is a person's zone, UTC when it cannot be loaded.
func personZone(p store.Person) *time.Location {
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
