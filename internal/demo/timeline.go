package demo

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
)

// demoTimeline prints what happens, one line per event in time order: the
// simulated time in the person's own zone, who wrote to whom, and what. It
// also tells the clients which message of mentord's is which, and the demo
// whether anything is still in flight.
type demoTimeline struct {
	w     io.Writer
	quiet bool
	clock *accelClock
	cast  demoCast
	byID  map[int64]store.Session
	// lookup finds a session planned after the start (again, after a pause).
	lookup func(int64) (store.Session, bool)

	mu       sync.Mutex
	changed  chan struct{}           // closed and replaced when a message was sent
	keys     map[string]string       // Message-ID -> key, from "enqueued"
	sent     map[string]demoSent     // what mentord sent, from "sent" and "sent to"
	seen     map[string]bool         // messages the clients have read
	authored map[string]demoAuthored // messages the clients sent to mentord
	read     map[string]bool         // of those, the ones mentord read
	declined map[int]bool            // sessions the mentor declined
	replied  map[int]time.Time       // the last reply logged, by session
	n        map[string]int          // counters for the summary
	movedTo  map[int]time.Time       // sessions moved, by number: their new start
	lines    []demoLine              // not printed yet
	month    string                  // the last heading printed
}

type demoSent struct {
	Kind, Key string
	Session   store.Session
	To        *demoPerson
}

type demoAuthored struct {
	From    *demoPerson
	At      time.Time
	Label   string
	Session int
	Decline bool // declines the session
}

type demoLine struct {
	at              time.Time
	loc             *time.Location
	who, what, note string
}

func newDemoTimeline(w io.Writer, quiet bool, clock *accelClock, cast demoCast, ss []store.Session) *demoTimeline {
	tl := &demoTimeline{w: w, quiet: quiet, clock: clock, cast: cast, byID: map[int64]store.Session{}, changed: make(chan struct{}),
		keys: map[string]string{}, sent: map[string]demoSent{}, seen: map[string]bool{}, authored: map[string]demoAuthored{},
		read: map[string]bool{}, declined: map[int]bool{}, replied: map[int]time.Time{}, n: map[string]int{},
		movedTo: map[int]time.Time{}}
	for _, s := range ss {
		tl.byID[s.ID] = s
	}
	return tl
}

// record takes one of the daemon's log records.
func (tl *demoTimeline) record(level slog.Level, msg string, a map[string]string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	id := a["msgid"]
	switch msg {
	case "enqueued":
		tl.keys[id] = a["key"]
	case "sent":
		var sid int64
		fmt.Sscan(a["session"], &sid)
		s, ok := tl.byID[sid]
		if !ok && sid != 0 && tl.lookup != nil {
			if s, ok = tl.lookup(sid); ok {
				tl.byID[sid] = s
			}
		}
		tl.sent[id] = demoSent{Kind: a["kind"], Key: tl.keys[id], Session: s}
	case "sent to":
		m := tl.sent[id]
		m.To = tl.cast.byEmail(a["to"])
		tl.sent[id] = m
		tl.n[m.Kind]++
		tl.n["sent"]++
		close(tl.changed)
		tl.changed = make(chan struct{})
	case "message read":
		tl.understood(id, a)
	default:
		if level >= slog.LevelWarn {
			tl.n["trouble"]++
			tl.lines = append(tl.lines, demoLine{at: tl.clock.Now(), who: "mentord", what: "⚠ " + msg + " " + a["err"]})
		}
	}
}

// demoKinds says what each kind of mentord's messages is; %s is the session.
var demoKinds = map[string]string{
	"invite": "invitation to %s", "update": "updated invitation to %s", "cancel": "cancellation of %s",
	"checklist": "planning checklist for %s", "reflection": "reflection questions on %s", "brief": "brief for %s",
	"ack": "receipt: what the log now holds for %s", "digest": "the year in review, before %s",
	"declined": "notice: the mentor declined %s, so no checklist for it", // the mentor's name goes in
	"match":    "“Are we the right match?”, confidential, after %s", "agreement": "the draft agreement to confirm, after %s",
	"record": "the record for promotion (a one-page PDF), after %s",
}

// delivered prints a message of mentord's as its recipient got it, at the
// time it was written (its Date), with what the recipient noticed in it.
func (tl *demoTimeline) delivered(m demoSent, at time.Time, detail, note string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := m.Session
	name := fmt.Sprintf("session %d", s.Number)
	if s.Kind != "regular" {
		name += " (" + s.Kind + ")"
	}
	what := strings.Replace(fmt.Sprintf(cmp.Or(demoKinds[m.Kind], m.Kind+" about %s"), name), "the mentor", tl.cast.mentor.First, 1)
	switch {
	case m.Kind == "invite":
		what += s.StartsAt.In(m.To.Loc).Format(", Mon 2 Jan 15:04 MST")
	case m.Kind == "nudge" && strings.HasPrefix(m.Key, "nudge:reflection"):
		what = fmt.Sprintf("reminder: no reflections on session %d yet", s.Number)
	case m.Kind == "nudge":
		what = fmt.Sprintf("reminder: no plan for session %d yet", s.Number)
	case m.Kind == "ack" && at.Before(tl.replied[s.Number]):
		at = tl.replied[s.Number] // dated when its pass began, which the reply may have come in after
	}
	tl.lines = append(tl.lines, demoLine{at: at, loc: m.To.Loc, who: "mentord → " + m.To.First + " (" + m.To.Role + ")", what: what + detail, note: note})
}

// understood prints what mentord made of a message a client sent.
func (tl *demoTimeline) understood(id string, a map[string]string) {
	au, ok := tl.authored[id]
	if !ok {
		au = demoAuthored{From: tl.cast.mentee, At: tl.clock.Now(), Label: "a message"}
	}
	tl.read[id] = true
	what := au.Label
	switch _, state, _ := strings.Cut(a["reason"], ": "); {
	case a["outcome"] == store.OutcomeLogged && a["kind"] == "reply" && a["answers"] == "0" && !strings.HasPrefix(a["reason"], "matched by"):
		tl.n["talk"]++ // the conversation: what mentord made of it
		what += " → " + a["reason"]
	case a["outcome"] == store.OutcomeKept:
		tl.n["talk"]++
		what += " → kept for the admin"
	case a["outcome"] == store.OutcomeLogged && a["kind"] == "reply":
		var n int
		fmt.Sscan(a["answers"], &n)
		tl.n["replies"]++
		tl.n["answers"] += n
		what += fmt.Sprintf(" → %d answers logged", n)
		tl.replied[au.Session] = au.At
	case a["outcome"] == store.OutcomeLogged && a["kind"] == "calendar":
		_, partstat, _ := strings.Cut(state, " ") // "mentor ACCEPTED"
		tl.n[partstat]++
		tl.declined[au.Session] = tl.declined[au.Session] || au.Decline
		what += " → recorded: " + state
	default:
		tl.n["trouble"]++
		what += fmt.Sprintf(" → %s: %s", a["outcome"], a["reason"])
	}
	tl.lines = append(tl.lines, demoLine{at: au.At, loc: au.From.Loc, who: au.From.First + " → mentord", what: what})
}

// flush prints the lines written before before (all when zero), in time
// order, with a heading at each new month.
func (tl *demoTimeline) flush(before time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	slices.SortStableFunc(tl.lines, func(a, b demoLine) int { return a.at.Compare(b.at) })
	n := 0
	for ; n < len(tl.lines) && (before.IsZero() || tl.lines[n].at.Before(before)); n++ {
		l := tl.lines[n]
		if tl.quiet {
			continue
		}
		if m := l.at.In(tl.cast.mentee.Loc).Format("January 2006"); m != tl.month {
			tl.month = m
			fmt.Fprintf(tl.w, "\n%s\n", demoHeading(m))
		}
		fmt.Fprintf(tl.w, "%-21s %-24s %s\n", l.at.In(cmp.Or(l.loc, tl.cast.mentee.Loc)).Format("2006-01-02 15:04 MST"), l.who, l.what)
		if l.note != "" {
			fmt.Fprintf(tl.w, "%47s↳ %s\n", "", l.note)
		}
	}
	tl.lines = tl.lines[n:]
}

func demoHeading(s string) string {
	return "── " + s + " " + strings.Repeat("─", max(3, 75-utf8.RuneCountInString(s)))
}

// sessionMoments adds a line when each session takes place.
func (tl *demoTimeline) sessionMoments(ctx context.Context, ss []store.Session) {
	for _, s := range ss {
		if !tl.clock.sleep(ctx, s.StartsAt.Sub(tl.clock.Now())) {
			return
		}
		tl.mu.Lock()
		if to, ok := tl.movedTo[s.Number]; ok && to.After(s.StartsAt) {
			tl.mu.Unlock()
			if !tl.clock.sleep(ctx, to.Sub(tl.clock.Now())) {
				return
			}
			tl.mu.Lock()
			s.StartsAt, s.Location = to, s.Location+", moved at "+tl.cast.mentor.First+"'s request"
		}
		what := fmt.Sprintf("meet for session %d (%s) in %s", s.Number, s.Kind, s.Location)
		if tl.declined[s.Number] {
			what = fmt.Sprintf("no session %d: %s declined it", s.Number, tl.cast.mentor.First)
		}
		tl.lines = append(tl.lines, demoLine{at: s.StartsAt, who: tl.cast.mentee.First + " & " + tl.cast.mentor.First, what: what})
		tl.mu.Unlock()
	}
}

// waitSent returns what mentord sent under a Message-ID, and marks it read:
// a client may read the message before the outbox has logged it.
func (tl *demoTimeline) waitSent(ctx context.Context, id string) (demoSent, bool) {
	timeout := time.After(10 * time.Second)
	for {
		tl.mu.Lock()
		m, changed := tl.sent[id], tl.changed
		tl.seen[id] = true
		tl.mu.Unlock()
		if m.To != nil {
			return m, true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return m, false
		case <-timeout:
			return m, false
		}
	}
}

// wrote registers a message a client is about to send to mentord; with a
// non-nil err, it could not.
func (tl *demoTimeline) wrote(id string, a demoAuthored, err error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.authored[id] = a
	if err != nil {
		delete(tl.authored, id)
		tl.n["trouble"]++
		tl.lines = append(tl.lines, demoLine{at: a.At, loc: a.From.Loc, who: a.From.First + " → mentord", what: "⚠ " + err.Error()})
	}
}

// unsettled names something in flight: a message queued, not sent; sent,
// not read by its client; an answer a client will send or mentord has not
// read. "" when there is none.
func (tl *demoTimeline) unsettled(clients []*demoClient) string {
	for _, c := range clients {
		if c.busy() {
			return c.p.First + " has yet to answer"
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for id, key := range tl.keys {
		if tl.sent[id].To == nil {
			return "queued, not sent: " + key
		}
	}
	for id, m := range tl.sent {
		if !tl.seen[id] {
			return m.To.First + " has not read " + id
		}
	}
	for id, a := range tl.authored {
		if !tl.read[id] {
			return "mentord has not read " + a.Label
		}
	}
	return ""
}

func (tl *demoTimeline) intro(speed float64, cfg *config.Config, first store.Session) {
	c := tl.cast
	fmt.Fprintf(tl.w, `mentord demo: a year of one mentoring pair, %g simulated days a second.

The daemon is real: its database (in a temporary directory), its loops and its
dev mail server (SMTP %s, IMAP %s), on a fast clock. The
people are simulated by mail clients that read over IMAP and answer over SMTP.

  mentee  %s (%s) answers in turn from Gmail (on top of the
          quote), Outlook (on top of the unquoted original), Apple Mail
          (inline, under each question) and Thunderbird (below the quote)
  mentor  %s (%s) accepts invitations in Google Calendar,
          but declines session %d and asks in words to move the last one
  both    also talk to mentord: a check-in, a pause around the declined
          session, a yes to the new time; the admin reads the notices and
          the weekly digest
  pair    after the first meeting both answer "Are we the right match?"
          (Bo: not sure yet, then yes after the next session) and both
          confirm the draft agreement; at the end each gets a record for
          promotion
  pair    %d monthly sessions from %s, %s

Each line: the simulated time in that person's own zone, who wrote to whom, and what.
`, speed, cfg.DevServer.SMTPListen, cfg.DevServer.IMAPListen, c.mentee.Name, c.mentee.Loc, c.mentor.Name, c.mentor.Loc,
		c.decline, c.sessions, first.StartsAt.In(c.mentee.Loc).Format("Mon 2 Jan 2006 15:04 MST"), first.Location)
}

// demoNouns name mentord's messages in the summary.
var demoNouns = []struct{ kind, one, many string }{
	{"invite", "invitation", "invitations"}, {"update", "updated invitation", "updated invitations"},
	{"checklist", "checklist", "checklists"}, {"brief", "mentor brief", "mentor briefs"},
	{"reflection", "reflection", "reflections"}, {"nudge", "reminder", "reminders"}, {"ack", "receipt", "receipts"},
	{"declined", "decline notice", "decline notices"}, {"digest", "year in review", "years in review"},
	{"cancel", "cancellation", "cancellations"}, {"talk", "answer in the conversation", "answers in the conversation"},
	{"notice", "notice to the admin", "notices to the admin"},
	{"match", "match check", "match checks"}, {"agreement", "agreement to confirm", "agreements to confirm"},
	{"record", "record for promotion", "records for promotion"},
}

// summary prints the year in numbers.
func (tl *demoTimeline) summary(took time.Duration) error {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n, sent := tl.n, []string{}
	for _, k := range demoNouns {
		if n[k.kind] > 0 {
			sent = append(sent, demoCount(n[k.kind], k.one, k.many))
		}
	}
	if !tl.quiet {
		fmt.Fprintln(tl.w)
	}
	_, err := fmt.Fprintf(tl.w, "%s\nSimulated %s to %s in %.1f s.\nmentord sent %s:\n  %s.\n"+
		"It read %s (%s logged) and %s (%d accepted, %d declined).\n",
		demoHeading("The year in numbers"), demoStart.Format("2 Jan 2006"), tl.clock.Now().Format("2 Jan 2006"), took.Seconds(),
		demoCount(n["sent"], "message", "messages"), strings.Join(sent, ", "), demoCount(n["replies"], "reply", "replies"),
		demoCount(n["answers"], "answer", "answers"), demoCount(n["ACCEPTED"]+n["DECLINED"], "calendar answer", "calendar answers"),
		n["ACCEPTED"], n["DECLINED"])
	if n["trouble"] > 0 && err == nil {
		_, err = fmt.Fprintf(tl.w, "%s went wrong: see the lines marked ⚠.\n", demoCount(n["trouble"], "thing", "things"))
	}
	return err
}

func demoCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprint(n, " ", many)
}

// setLookup gives the timeline a way to find sessions planned after the start.
func (tl *demoTimeline) setLookup(f func(int64) (store.Session, bool)) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.lookup = f
}

// deliveredWhat prints a message of mentord's that is about no one session
// in particular: a conversation message, a notice to the admin.
func (tl *demoTimeline) deliveredWhat(m demoSent, at time.Time, what, note string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.lines = append(tl.lines, demoLine{at: at, loc: m.To.Loc, who: "mentord → " + m.To.First + " (" + m.To.Role + ")", what: what, note: note})
}

// moved records a session's new start from its update's DTSTART line.
func (tl *demoTimeline) moved(number int, dtstart string) {
	_, v, _ := strings.Cut(dtstart, ":")
	t, err := time.Parse("20060102T150405Z", strings.TrimSpace(v))
	if err != nil {
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.movedTo[number] = t
}
