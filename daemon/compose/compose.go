// Package compose decides what is due and writes what each message says, from
// the store's state: the schedule's pass and the composer behind it.
//
// The flow of a pass (Plan):
//  1. Load the sessions something can be due for (the prompt window, sessions
//     not yet invited, sessions changed since they were sent) and ask the pure
//     rules (daemon/schedule) which actions are due at now.
//  2. Compose each action's message (Composer): the pair, the session and the
//     person from the store, the wording from templates, the iCalendar object
//     from calendar, the bytes from mail, with a deterministic Message-ID.
//  3. Record them (Record), a bounded part at a time, each part in one
//     transaction: the outbox row under its idempotency key, its prompt and
//     reply token, the calendar state it announces. Enqueueing the same
//     action again changes nothing. A long pass reports each part (Progress).
//
// Reading a message (daemon/ingest) composes its answers (a decline told to the
// mentee, a notice to the admin) with the same Composer, inside its own
// transaction (InTx). Nothing here sends: the outbox does.
package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/templates"
)

// Outgoing is one composed message and the state to record with it.
type Outgoing struct {
	action    schedule.Action
	Item      store.OutboxItem
	prompt    *store.Prompt // created if new; its id goes on the item
	tokenHash string
	calendar  *store.CalendarSent // the calendar state this message announces
	ackOf     int64               // an acknowledgement: the reply it acknowledges
	failure   string              // why the message can never be built (unsendable): recorded failed
	// sentText is the message's text/plain body, packed, when it is kept for
	// reading replies that quote it (keepsText).
	sentText []byte
	// thread makes the message an answer to one received (an
	// acknowledgement): its In-Reply-To, References and subject.
	thread *thread
	// attachments go with the message (the record for promotion's PDF).
	attachments []mail.Attachment
	// draft is the agreement's first version the message sends: recorded
	// with it, once for the pair.
	draft *store.AgreementVersion
}

// thread is what makes a message an answer to one received: the ids of
// mail.Thread (the last one the received message's own) and the subject.
type thread struct {
	references []string
	subject    string // "" keeps the template's
}

// keepsText reports whether a message of kind k keeps its text while
// replies about its session are taken: the nudges and acknowledgements of
// checklists and reflections, whose replies are read into the log (the
// checklist's or reflection's own text is its prompt's). A written reply to
// anything else goes to a person whole, so its text is not needed.
func keepsText(k schedule.ActionKind) bool { return k == schedule.ActNudge || k == actAck }

// Composer turns due actions into messages. It reads the database (through
// the read pool) and caches what several actions of one pass share.
type Composer struct {
	cfg      *config.Config
	tpl      *templates.Set
	q        store.Querier
	instance string // the database's id, part of every Message-ID
	now      time.Time
	Preview  bool // no tokens are kept: a stand-in token is used

	pairs     map[int64]store.PairView
	sessions  map[int64][]store.Session // by pair, in time order
	people    map[int64]store.Person
	attendees map[int64][]store.Attendee // by session, when prefetched
	byID      map[int64]store.Session    // prefetched sessions
}

// New returns a composer reading db's read pool, for messages dated now.
func New(cfg *config.Config, tpl *templates.Set, db *store.DB, now time.Time) *Composer {
	return &Composer{cfg: cfg, tpl: tpl, q: db.R(), instance: db.Instance(), now: now,
		pairs: map[int64]store.PairView{}, sessions: map[int64][]store.Session{}, people: map[int64]store.Person{}}
}

// InTx makes c read through q, the transaction a message is composed in
// (reading what was read so far in it), instead of the read pool.
func (c *Composer) InTx(q store.Querier) *Composer {
	c.q = q
	return c
}

// Prefetch loads, in a few queries, the pairs, sessions and attendees that
// the actions of a pass need, instead of a few queries per message.
func (c *Composer) Prefetch(ctx context.Context, acts []schedule.Action) error {
	ids := make([]int64, len(acts))
	for i, a := range acts {
		ids[i] = a.SessionID
	}
	pf, err := store.LoadForSessions(ctx, c.q, ids)
	if err != nil {
		return err
	}
	for _, p := range pf.Pairs {
		c.pairs[p.ID] = p
	}
	c.byID = make(map[int64]store.Session, len(pf.Sessions))
	for _, s := range pf.Sessions {
		c.sessions[s.PairID] = append(c.sessions[s.PairID], s)
		c.byID[s.ID] = s
	}
	c.attendees = map[int64][]store.Attendee{}
	for _, a := range pf.Attendees {
		c.attendees[a.SessionID] = append(c.attendees[a.SessionID], a)
	}
	return nil
}

// session returns a session, from the prefetched pairs when it is there.
func (c *Composer) session(ctx context.Context, id int64) (store.Session, error) {
	if s, ok := c.byID[id]; ok {
		return s, nil
	}
	return store.GetSession(ctx, c.q, id)
}

func (c *Composer) sessionAttendees(ctx context.Context, id int64) ([]store.Attendee, error) {
	if as, ok := c.attendees[id]; ok {
		return as, nil
	}
	return store.ListAttendees(ctx, c.q, id)
}

// Pair returns a pair and its sessions in time order.
func (c *Composer) Pair(ctx context.Context, id int64) (store.PairView, []store.Session, error) {
	if p, ok := c.pairs[id]; ok {
		return p, c.sessions[id], nil
	}
	p, err := store.GetPair(ctx, c.q, id)
	if err != nil {
		return p, nil, err
	}
	ss, err := store.ListSessions(ctx, c.q, id)
	if err != nil {
		return p, nil, err
	}
	c.pairs[id], c.sessions[id] = p, ss
	return p, ss, nil
}

func (c *Composer) person(ctx context.Context, p store.PairView, id int64) (store.Person, error) {
	switch id {
	case p.Mentor.ID:
		return p.Mentor, nil
	case p.Mentee.ID:
		return p.Mentee, nil
	}
	if pp, ok := c.people[id]; ok {
		return pp, nil
	}
	pp, err := store.GetPerson(ctx, c.q, id)
	c.people[id] = pp
	return pp, err
}

// about is what a message on an action is made from: the session, its
// pair's sessions, the recipient, and the data every template gets.
type about struct {
	s        store.Session
	p        store.PairView
	sessions []store.Session
	to       store.Person
	d        templates.Data
}

// load reads what a message on action a is about.
func (c *Composer) load(ctx context.Context, a schedule.Action) (ab about, err error) {
	if ab.s, err = c.session(ctx, a.SessionID); err != nil {
		return ab, err
	}
	if ab.p, ab.sessions, err = c.Pair(ctx, ab.s.PairID); err != nil {
		return ab, err
	}
	if ab.to, err = c.person(ctx, ab.p, a.PersonID); err != nil {
		return ab, err
	}
	if ab.d, err = c.data(ab.p, ab.sessions, ab.s, ab.to); err != nil {
		return ab, err
	}
	if ab.to.ID != ab.p.Mentor.ID && ab.to.ID != ab.p.Mentee.ID {
		// Someone taken off the session (a mentor replaced): to them, they
		// were its mentor, not the one who took over.
		ab.d.Mentor = templates.Person{Name: ab.to.Name, Email: ab.to.Email}
		ab.d.Removed = ab.s.Status == store.SessionPlanned && ab.p.Status == store.PairActive
	}
	return ab, nil
}

// Compose renders the message for one action.
func (c *Composer) Compose(ctx context.Context, a schedule.Action) (*Outgoing, error) {
	ab, err := c.load(ctx, a)
	if err != nil {
		return nil, err
	}
	s, p, sessions, to, d := ab.s, ab.p, ab.sessions, ab.to, ab.d
	out := &Outgoing{action: a}
	var kind templates.Kind
	purpose := store.PurposeInvite
	switch a.Kind {
	case schedule.ActInvite, schedule.ActUpdate, schedule.ActCancel:
		kind = templates.Kind(a.Kind)
		if a.Kind == schedule.ActUpdate {
			d.Previous = c.previous(ctx, s, to)
		}
	case schedule.ActChecklist:
		kind, purpose = templates.Checklist, store.PurposeChecklist
		if d.Promises, err = c.promises(ctx, s); err != nil {
			return nil, err
		}
		d.Questions = c.tpl.Questions(to.Language, "checklist", s.Kind, len(d.Promises) > 0)
		if !c.cfg.BriefsEnabled() { // no brief, nothing to share
			d.Questions = templates.Without(d.Questions, "share-plans")
		}
		for _, th := range c.tpl.Themes(to.Language) { // prompts for the topics question, when it is asked
			d.Themes = append(d.Themes, th.Text)
		}
	case schedule.ActReflection:
		kind, purpose = templates.Reflection, store.PurposeReflection
		if to.ID == p.Mentor.ID { // the mentor's own reflection, for the mentor's own log
			d.Questions = c.tpl.Questions(to.Language, templates.MentorReflection, s.Kind, false)
		} else {
			d.Questions = c.tpl.Questions(to.Language, "reflection", s.Kind, false)
		}
	case schedule.ActMatch:
		kind, purpose = templates.TalkKind, store.PurposeMatch
		d.Talk = &templates.Talk{What: "match-ask"}
	case schedule.ActAgreement:
		kind, purpose = templates.TalkKind, store.PurposeAgreement
		v, err := c.agreementVersion(ctx, p, sessions)
		if err != nil {
			return nil, err
		}
		out.draft = &v
		d.Talk = &templates.Talk{What: "agreement", Version: v.Version}
		d.Agreement = AgreementOf(v)
	case schedule.ActNudge:
		kind, purpose = templates.Nudge, string(a.NudgeOf)
		d.NudgeOf = templates.Kind(a.NudgeOf)
		if err := c.nudgeQuestions(ctx, s, to, purpose, &d); err != nil {
			return nil, err
		}
	case schedule.ActBrief:
		kind, purpose = templates.Brief, store.PurposeBrief
		if d.MentorSeesPlan { // the mentee's words go to the mentor only with their consent
			if d.Agenda, err = c.agenda(ctx, s, p.Mentee.ID); err != nil {
				return nil, err
			}
			if d.CheckIns, err = c.checkIns(ctx, s, p.Mentee.ID, to); err != nil {
				return nil, err
			}
		}
	case schedule.ActDigest:
		kind, purpose = templates.Digest, store.PurposeDigest
		if d.Review, err = c.review(ctx, p, sessions, s, to); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown action %q", a.Kind)
	}
	r, err := c.tpl.Render(kind, d)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	qs, _ := json.Marshal(d.Questions)
	out.prompt = &store.Prompt{SessionID: s.ID, PersonID: to.ID, Purpose: purpose, Language: to.Language, Questions: string(qs),
		CreatedAt: c.now}
	if purpose == store.PurposeChecklist || purpose == store.PurposeReflection {
		// Replies to these are read against the text sent, to find it
		// quoted; a reply to anything else goes to a person, so its text
		// (an invite's, 120,000 of them after a large import) is not kept.
		out.prompt.SentText = r.Text
	}
	if d.Questions == nil {
		out.prompt.Questions = "[]"
	}
	return out, c.message(ctx, out, p, s, to, r, a.Key())
}

// message builds the email bytes and the outbox row.
func (c *Composer) message(ctx context.Context, out *Outgoing, p store.PairView, s store.Session, to store.Person, r templates.Rendered, key string) error {
	a := out.action
	if err := checkPerson(to); err != nil {
		return err
	}
	box := c.cfg.Mailbox
	domain := mail.Domain(box.Address)
	token := mail.NewToken()
	if c.Preview {
		token = "previewpreviewpreviewprevi" // same form, never stored: a reply to it matches nothing
	}
	out.tokenHash = mail.HashToken(token)
	msg := &mail.Message{
		From:      mail.Address{Name: box.DisplayName, Email: box.Address},
		To:        mail.Address{Name: to.Name, Email: to.Email},
		ReplyTo:   mail.ReplyAddress(box.Address, box.PlusDelimiter, token),
		Subject:   r.Subject,
		Date:      c.now,
		MessageID: mail.MessageID(c.instance, key, domain),
		Text:      r.Text,
		HTML:      r.HTML,

		Attachments: out.attachments,
	}
	if a.Kind == schedule.ActNudge {
		if first, err := c.firstMessage(ctx, s.ID, to.ID, string(a.NudgeOf)); err == nil && first != "" {
			msg.InReplyTo, msg.References = first, []string{first}
		}
	}
	if th := out.thread; th != nil {
		if n := len(th.references); n > 0 {
			msg.InReplyTo, msg.References = th.references[n-1], th.references
		}
		if th.subject != "" {
			msg.Subject = th.subject
		}
	}
	if a.Kind == schedule.ActInvite || a.Kind == schedule.ActUpdate || a.Kind == schedule.ActCancel {
		ics, err := c.ics(ctx, a, p, s, r)
		if err != nil {
			return err
		}
		method := "REQUEST"
		if a.Kind == schedule.ActCancel {
			method = "CANCEL"
		}
		msg.Calendar = &mail.Calendar{Method: method, Data: ics}
		out.calendar = &store.CalendarSent{SessionID: s.ID, PersonID: to.ID, Sequence: a.Sequence, Method: method, StartsAt: s.StartsAt}
	}
	raw, err := msg.Bytes()
	if err != nil {
		return fmt.Errorf("build %s: %w", a.Key(), err)
	}
	out.Item = store.OutboxItem{
		Key: key, Kind: string(a.Kind), PairID: &p.ID, SessionID: &s.ID, Recipient: to.Email,
		RecipientDomain: mail.Domain(to.Email), EnvelopeFrom: mail.BounceAddress(box.Address, box.PlusDelimiter, msg.MessageID),
		MessageID: msg.MessageID, Subject: msg.Subject, Payload: raw, NextAttemptAt: c.now, CreatedAt: c.now,
		Packed: store.Pack(raw), // here, not in the write transaction that records it
	}
	if keepsText(a.Kind) && !c.Preview {
		out.sentText = store.Pack([]byte(r.Text))
	}
	return nil
}

// ics builds the calendar object: the whole session for invites, updates and
// cancellations of the session; only the removed person for a mentor replaced.
func (c *Composer) ics(ctx context.Context, a schedule.Action, p store.PairView, s store.Session, r templates.Rendered) ([]byte, error) {
	as, err := c.sessionAttendees(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	var atts []calendar.Attendee
	removed := true
	for _, at := range as {
		pp, err := c.person(ctx, p, at.PersonID)
		if err != nil {
			return nil, err
		}
		if err := checkPerson(pp); err != nil {
			return nil, err
		}
		atts = append(atts, calendar.Attendee{Person: calendar.Person{Name: pp.Name, Email: pp.Email}, Partstat: at.Partstat})
		removed = removed && at.PersonID != a.PersonID
	}
	if removed && a.Kind == schedule.ActCancel {
		pp, err := c.person(ctx, p, a.PersonID)
		if err != nil {
			return nil, err
		}
		atts = []calendar.Attendee{{Person: calendar.Person{Name: pp.Name, Email: pp.Email}}}
	}
	ev := calendar.Event{
		UID: s.UID, Sequence: a.Sequence, Stamp: c.now, Start: s.StartsAt, End: s.End(),
		Summary: r.Summary, Description: r.Description, Location: s.Location,
		Organizer: calendar.Person{Name: c.cfg.Mailbox.DisplayName, Email: c.cfg.Mailbox.Address},
		Attendees: atts,
	}
	if a.Kind == schedule.ActCancel {
		return calendar.Cancel(ev)
	}
	return calendar.Request(ev)
}

// data is what every template gets: the people, the session in the
// recipient's own zone, and the agreement.
func (c *Composer) data(p store.PairView, sessions []store.Session, s store.Session, to store.Person) (templates.Data, error) {
	loc, err := time.LoadLocation(to.Timezone)
	if err != nil {
		return templates.Data{}, fmt.Errorf("time zone of person %d: %w", to.ID, err)
	}
	a := p.Agreement
	return templates.Data{
		Lang: to.Language, Programme: c.cfg.Programme.Name, Organisation: c.cfg.Programme.Organisation,
		Mailbox:   c.cfg.Mailbox.Address,
		Recipient: templates.Person{Name: to.Name, Email: to.Email},
		Mentor:    templates.Person{Name: p.Mentor.Name, Email: p.Mentor.Email},
		Mentee:    templates.Person{Name: p.Mentee.Name, Email: p.Mentee.Email},
		Session:   sessionInfo(s, sessions, loc),
		Agreement: templates.Agreement{Objectives: a.Objectives, Cadence: a.Cadence, Location: a.Location, Contact: a.Contact,
			Progress: a.ProgressRecording, ReviewEvery: a.ReviewEvery, Minutes: a.SessionMinutes},
		MentorSeesPlan: c.cfg.BriefsEnabled() && p.SharePlans,
		AdminMail:      c.cfg.Programme.AdminEmail != "",
	}, nil
}

// sessionInfo is s as a message names it. A session keeps the number it was
// planned with for life, as every message and calendar title already sent
// names it: a cancellation or a move renumbers nothing. Count is the highest
// number the pair has (sessions added later raise it); Cancelled names the
// pair's other cancelled sessions, so "session 4 of 12" can say that
// session 3 will not take place.
func sessionInfo(s store.Session, sessions []store.Session, loc *time.Location) templates.Session {
	count := s.Number
	var cancelled []int
	for _, o := range sessions {
		count = max(count, o.Number)
		if o.Status == store.SessionCancelled && o.ID != s.ID {
			cancelled = append(cancelled, o.Number)
		}
	}
	sort.Ints(cancelled)
	return templates.Session{
		Number: s.Number, Count: count, Cancelled: cancelled, Kind: s.Kind, Start: s.StartsAt.In(loc), End: s.End().In(loc),
		Zone: loc.String(), Location: s.Location, Minutes: s.DurationMin,
	}
}

// previous is the session's time as last announced to the person, when it moved.
func (c *Composer) previous(ctx context.Context, s store.Session, to store.Person) *templates.Session {
	sent, err := store.GetCalendarSent(ctx, c.q, s.ID, to.ID)
	if err != nil || sent.StartsAt.Equal(s.StartsAt) {
		return nil
	}
	loc, err := time.LoadLocation(to.Timezone)
	if err != nil {
		return nil
	}
	prev := s
	prev.StartsAt = sent.StartsAt
	info := sessionInfo(prev, nil, loc)
	return &info
}

// promises are the mentee's open promises from earlier sessions of the pair.
func (c *Composer) promises(ctx context.Context, s store.Session) ([]string, error) {
	return store.OpenPromises(ctx, c.q, s.PairID, s.StartsAt)
}

// AgendaKeys are the planning questions whose answers the mentor's brief
// carries when the mentee consented: the topics they want to discuss and
// the support they ask for. The consent question names exactly these; the
// rest of the checklist (what was done, challenges, promises, reviews and
// evaluations) stays in the mentee's own log.
var AgendaKeys = []string{"topics", "support"}

// agenda is the mentee's current answers to the agenda questions for the session.
func (c *Composer) agenda(ctx context.Context, s store.Session, menteeID int64) ([]templates.Answer, error) {
	rows, err := store.PlanAnswers(ctx, c.q, s.ID, menteeID)
	var out []templates.Answer
	for _, r := range rows {
		if slices.Contains(AgendaKeys, r.Key) {
			out = append(out, templates.Answer{Number: r.Number, Question: r.Question, Text: r.Answer})
		}
	}
	return out, err
}

// review is the mentee's own log of the pair's sessions before s, session by
// session: the answers in force and the promises made, with whether they were
// kept. Cancelled sessions are left out unless something was logged for them.
func (c *Composer) review(ctx context.Context, p store.PairView, sessions []store.Session, s store.Session, to store.Person) ([]templates.ReviewSession, error) {
	answers, err := store.PairAnswers(ctx, c.q, p.ID, p.Mentee.ID)
	if err != nil {
		return nil, err
	}
	promises, err := store.PairPromises(ctx, c.q, p.ID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(to.Timezone)
	if err != nil {
		return nil, fmt.Errorf("time zone of person %d: %w", to.ID, err)
	}
	var out []templates.ReviewSession
	for _, o := range sessions {
		if !o.StartsAt.Before(s.StartsAt) {
			continue
		}
		rs := templates.ReviewSession{Session: sessionInfo(o, sessions, loc)}
		for _, a := range answers {
			if a.SessionID != o.ID {
				continue
			}
			ans := templates.Answer{Number: a.QuestionNo, Question: a.Question, Text: a.Answer}
			switch a.PromptKind {
			case store.PurposeChecklist:
				rs.Plan = append(rs.Plan, ans)
			case store.PurposeReflection:
				rs.Reflection = append(rs.Reflection, ans)
			}
		}
		for _, pr := range promises {
			if pr.SessionID == o.ID {
				rs.Promises = append(rs.Promises, templates.Promise{Text: pr.Text, Status: pr.Status})
			}
		}
		if o.Status == store.SessionCancelled && rs.Plan == nil && rs.Reflection == nil && rs.Promises == nil {
			continue
		}
		out = append(out, rs)
	}
	return out, nil
}

// nudgeQuestions repeats exactly the questions of the prompt being nudged.
func (c *Composer) nudgeQuestions(ctx context.Context, s store.Session, to store.Person, purpose string, d *templates.Data) error {
	pr, err := store.GetPrompt(ctx, c.q, s.ID, to.ID, purpose)
	if err != nil {
		if !c.Preview {
			return fmt.Errorf("nudge without its %s: %w", purpose, err)
		}
		d.Questions = c.tpl.Questions(to.Language, purpose, s.Kind, false) // preview of a nudge never sent
		return nil
	}
	if err := json.Unmarshal([]byte(pr.Questions), &d.Questions); err != nil {
		return fmt.Errorf("questions of prompt %d: %w", pr.ID, err)
	}
	sort.Slice(d.Questions, func(i, j int) bool { return d.Questions[i].Number < d.Questions[j].Number })
	return nil
}

func (c *Composer) firstMessage(ctx context.Context, sessionID, personID int64, purpose string) (string, error) {
	pr, err := store.GetPrompt(ctx, c.q, sessionID, personID, purpose)
	if err != nil {
		return "", err
	}
	return store.FirstMessageID(ctx, c.q, pr.ID)
}

// Record writes a composed message into the outbox with its prompt, token and
// calendar state, in the caller's transaction. It reports whether the message
// was new (an action already enqueued changes nothing).
func Record(ctx context.Context, tx *sqlx.Tx, out *Outgoing, now time.Time) (bool, error) {
	if out.prompt != nil {
		if err := store.EnsurePrompt(ctx, tx, out.prompt); err != nil {
			return false, err
		}
		out.Item.PromptID = &out.prompt.ID
	}
	added, err := store.Enqueue(ctx, tx, &out.Item)
	if err != nil || !added {
		return false, err
	}
	if out.draft != nil && out.draft.ID == 0 {
		if err := store.InsertAgreementDraft(ctx, tx, out.draft); err != nil {
			return false, err
		}
	}
	if out.failure != "" {
		if err := store.MarkFailed(ctx, tx, out.Item.ID, out.failure); err != nil {
			return false, err
		}
	}
	if out.prompt != nil && out.tokenHash != "" {
		if err := store.InsertToken(ctx, tx, out.tokenHash, out.prompt.ID, out.Item.ID, now); err != nil {
			return false, err
		}
	}
	if out.sentText != nil && out.Item.SessionID != nil {
		if err := store.InsertSentText(ctx, tx, out.Item.ID, *out.Item.SessionID, out.sentText); err != nil {
			return false, err
		}
	}
	if cs := out.calendar; cs != nil {
		if err := store.SetCalendarSent(ctx, tx, cs.SessionID, cs.PersonID, cs.Sequence, cs.Method, cs.StartsAt, now); err != nil {
			return false, err
		}
	}
	return true, nil
}
