package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// recorded is every statement run through the "sqlite3_recorded" driver,
// with the arguments of its first run.
var recorded = struct {
	sync.Mutex
	on    bool
	stmts map[string][]driver.NamedValue
}{stmts: map[string][]driver.NamedValue{}}

func record(query string, args []driver.NamedValue) {
	recorded.Lock()
	defer recorded.Unlock()
	if _, ok := recorded.stmts[query]; recorded.on && !ok {
		recorded.stmts[query] = append([]driver.NamedValue(nil), args...)
	}
}

// recordingDriver is mattn/go-sqlite3 with each statement noted on its way.
type recordingDriver struct{}

func (recordingDriver) Open(name string) (driver.Conn, error) {
	c, err := sqliteDriver.Open(name)
	if err != nil {
		return nil, err
	}
	return &recordingConn{c.(*sqlite3.SQLiteConn)}, nil
}

type recordingConn struct{ *sqlite3.SQLiteConn }

func (c *recordingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	record(query, args)
	return c.SQLiteConn.ExecContext(ctx, query, args)
}

func (c *recordingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	record(query, args)
	return c.SQLiteConn.QueryContext(ctx, query, args)
}

func (c *recordingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	record(query, nil)
	return c.SQLiteConn.PrepareContext(ctx, query)
}

func init() { sql.Register("sqlite3_recorded", recordingDriver{}) }

// bigTables grow with the programme: a query that reads one whole (a SCAN,
// of the table or of a whole index) costs more with every pair and message.
var bigTables = map[string]bool{
	"people": true, "pairs": true, "agreements": true, "sessions": true, "session_attendees": true, "outbox": true,
	"outbox_payloads": true, "inbound": true, "replies": true, "progress_entries": true, "action_items": true, "prompts": true,
	"reply_tokens": true, "calendar_sent": true, "calendar_replies": true, "proposals": true, "bounces": true, "sent_texts": true,
}

// The queries the daemon runs per message sent, per reply read, per pass of
// the schedule and per purged pair each find their rows through an index
// (EXPLAIN QUERY PLAN): none reads a whole table that grows with the
// programme, nor a whole index of one (a partial index, which holds only the
// rows it is for, may be read whole).
func TestHotQueriesUseAnIndex(t *testing.T) {
	driverName = "sqlite3_recorded"
	t.Cleanup(func() { driverName = "sqlite3_mentord" })
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	fx := seedProgramme(t, db, now)

	recorded.Lock()
	recorded.on = true
	recorded.Unlock()
	lim := Limits{Batch: 50, PerMinute: 30, PerDay: 1000, PerDomainPerMinute: 10}
	w := Window{PromptFrom: now.Add(-72 * time.Hour), PromptTo: now.Add(96 * time.Hour), InviteTo: now.AddDate(0, 0, 90)}
	hot := []struct {
		name string
		run  func(tx *sqlx.Tx) error
	}{
		// Sending: each claim, message and pass of the outbox.
		{"outbox", func(tx *sqlx.Tx) error {
			if err := FailSuspended(ctx, tx); err != nil {
				return err
			}
			items, err := ClaimDue(ctx, tx, now, lim)
			if err != nil || len(items) < 3 {
				return fmt.Errorf("claimed %d: %v", len(items), err)
			}
			_, err = Usage(ctx, tx, now, Minute, 30)
			return firstErr(err, MarkSent(ctx, tx, items[0].ID, now), MarkRetry(ctx, tx, items[1].ID, now.Add(time.Minute), "451"),
				MarkFailed(ctx, tx, items[2].ID, "550"), Release(ctx, tx, items[1].ID), errOf(NextDue(ctx, tx)),
				errOf(NextClaim(ctx, tx, now, lim)), errOf(CountWaiting(ctx, tx)), errOf(Enqueued(ctx, tx, "k")),
				errOf(RetryNow(ctx, tx, now)), errOf(ReleaseClaims(ctx, tx)), errOf(OldestCreated(ctx, tx, OutboxPending)),
				errOf(Setting(ctx, tx, "smtp_pause")), SetSetting(ctx, tx, "health", "{}"))
		}},
		// The schedule: each pass, and each message it composes.
		{"schedule", func(tx *sqlx.Tx) error {
			ids, err := RelevantSessions(ctx, tx, w)
			if err != nil || len(ids) == 0 {
				return fmt.Errorf("relevant sessions %v: %v", ids, err)
			}
			_, _, err = PlanBounds(ctx, tx, w)
			acks, aerr := PendingAcks(ctx, tx, 0, 200)
			if len(acks) == 0 {
				return fmt.Errorf("no reply waits for its acknowledgement: %v", aerr)
			}
			return firstErr(err, aerr, errOf(LoadPlanSessions(ctx, tx, ids)), errOf(LoadForSessions(ctx, tx, ids)),
				errOf(ReplyAnswers(ctx, tx, acks[0].ID)), AckDone(ctx, tx, acks[0].ID),
				errOf(GetPrompt(ctx, tx, fx.session, fx.mentee, PurposeChecklist)), EnsurePrompt(ctx, tx, &Prompt{SessionID: fx.session,
					PersonID: fx.mentee, Purpose: PurposeChecklist, Language: "en", Questions: "[]", CreatedAt: now}),
				InsertToken(ctx, tx, "f00d", fx.prompt, 1, now), SetCalendarSent(ctx, tx, fx.session, fx.mentee, 1, "REQUEST", now, now),
				errOf(GetCalendarSent(ctx, tx, fx.session, fx.mentee)), errOf(FirstMessageID(ctx, tx, fx.prompt)),
				errOf(OpenPromises(ctx, tx, fx.pair, now)), errOf(PlanAnswers(ctx, tx, fx.session, fx.mentee)),
				errOf(PairAnswers(ctx, tx, fx.pair, fx.mentee)), errOf(PairPromises(ctx, tx, fx.pair)),
				errOf(GetSession(ctx, tx, fx.session)), errOf(ListAttendees(ctx, tx, fx.session)), errOf(GetPair(ctx, tx, fx.pair)),
				errOf(ListSessions(ctx, tx, fx.pair)), errOf(GetPerson(ctx, tx, fx.mentee)),
				InsertSentText(ctx, tx, 1, fx.session, Pack([]byte("the text of a nudge"))), errOf(InboundSubject(ctx, tx, 1)))
		}},
		// Reading: each message read from the mailbox.
		{"reading", func(tx *sqlx.Tx) error {
			in := &Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: 99, MessageID: "x@example.org", MessageIDHash: "h99", Kind: "reply",
				DedupeKey: "k99", RawHash: "r99", FromAddr: "mentee@example.org", Outcome: OutcomeLogged, ReceivedAt: now}
			r := &Reply{SessionID: fx.session, PersonID: fx.mentee, PromptKind: PurposeChecklist, NewText: "x", ReceivedAt: now}
			e := &Entry{SessionID: fx.session, PersonID: fx.mentee, PromptKind: PurposeChecklist, QuestionNo: 1, Question: "q",
				Answer: "a", ReceivedAt: now, SourceMsgID: "x@example.org"}
			_, _, err := InboundSeen(ctx, tx, "k99", "r99", "h99", "mentee@example.org")
			if _, _, aerr := InboundAt(ctx, tx, "INBOX", 1, 98); aerr != nil {
				return aerr
			}
			return firstErr(err, errOf(GetCursor(ctx, tx, "INBOX")), errOf(BounceCounted(ctx, tx, 1)),
				SetCursor(ctx, tx, "INBOX", Cursor{UIDValidity: 1, LastUID: 99}), errOf(PromptByToken(ctx, tx, "f00d")),
				errOf(PromptByMessageID(ctx, tx, "m0@example.org")), errOf(SentByMessageID(ctx, tx, "m0@example.org")),
				errOf(SentText(ctx, tx, 1)),
				errOf(SentByEnvelope(ctx, tx, "mentoring+bounce-00@example.org")), InsertInbound(ctx, tx, in),
				func() error { r.InboundID = in.ID; return InsertReply(ctx, tx, r) }(),
				func() error { e.ReplyID = r.ID; return LogAnswer(ctx, tx, e) }(),
				ReplacePromises(ctx, tx, fx.pair, fx.session, e.ID, []string{"read a paper"}, now),
				ReviewPromises(ctx, tx, fx.pair, fx.session, "done", now), MarkReplied(ctx, tx, fx.prompt, now),
				errOf(CurrentAnswers(ctx, tx, fx.session, fx.mentee, PurposeChecklist)), errOf(SessionByUID(ctx, tx, "uid-1@example.org")),
				errOf(SessionAttendees(ctx, tx, fx.session)), SetPartstat(ctx, tx, fx.session, fx.mentee, "ACCEPTED", 0, now, now),
				InsertCalendarReply(ctx, tx, CalendarReply{InboundID: in.ID, SessionID: fx.session, PersonID: fx.mentee, Method: "REPLY",
					Partstat: "ACCEPTED", ReceivedAt: now}),
				InsertProposal(ctx, tx, &Proposal{InboundID: in.ID, SessionID: fx.session, PersonID: fx.mentee, ProposedStart: now,
					ProposedEnd: now.Add(time.Hour), ReceivedAt: now}),
				errOf(RecordBounce(ctx, tx, Bounce{InboundID: in.ID, PersonID: &fx.mentee, Address: "m@example.org", Permanent: true,
					ReceivedAt: now}, 30*24*time.Hour)),
				errOf(Suspend(ctx, tx, fx.mentee, now)), SettleProposals(ctx, tx, fx.session, nil),
				FailSuspended(ctx, tx)) // with someone suspended now
		}},
		// Retention: each pair whose log is purged, and the originals dropped.
		{"purge", func(tx *sqlx.Tx) error {
			return firstErr(purgePair(ctx, tx, fx.pair), errOf(dropRawBefore(ctx, tx, now, 500)))
		}},
	}
	for _, h := range hot {
		if err := db.Tx(ctx, h.run); err != nil {
			t.Fatalf("%s: %v", h.name, err)
		}
	}
	recorded.Lock()
	recorded.on = false
	stmts := recorded.stmts
	recorded.Unlock()

	partial := partialIndexes(t, db)
	checked := 0
	for query, args := range stmts {
		verb := strings.ToUpper(strings.Fields(query)[0])
		if verb != "SELECT" && verb != "UPDATE" && verb != "DELETE" && verb != "INSERT" && verb != "WITH" {
			continue
		}
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a.Value
		}
		var plan []struct {
			ID, Parent, NotUsed int
			Detail              string
		}
		rows, err := db.w.QueryxContext(ctx, "EXPLAIN QUERY PLAN "+query, vals...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
		}
		for rows.Next() {
			var p struct {
				ID, Parent, NotUsed int
				Detail              string
			}
			if err := rows.Scan(&p.ID, &p.Parent, &p.NotUsed, &p.Detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, p)
		}
		rows.Close()
		checked++
		aliases := tableAliases(query)
		for _, p := range plan {
			m := scanStep.FindStringSubmatch(p.Detail)
			if m == nil {
				continue
			}
			table := m[1]
			if real, ok := aliases[table]; ok {
				table = real
			}
			if !bigTables[table] || partial[m[2]] {
				continue
			}
			var steps []string
			for _, p := range plan {
				steps = append(steps, p.Detail)
			}
			t.Errorf("%s reads all of %s:\n%s\nplan: %s", p.Detail, table, strings.Join(strings.Fields(query), " "), strings.Join(steps, "; "))
		}
	}
	if checked < 60 {
		t.Errorf("only %d statements checked: the recording driver missed some", checked)
	}
}

var (
	scanStep  = regexp.MustCompile(`^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?`)
	fromAlias = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?`)
)

// tableAliases maps the names a query gives its tables to the tables.
func tableAliases(query string) map[string]string {
	out := map[string]string{}
	keywords := map[string]bool{"WHERE": true, "JOIN": true, "ON": true, "LEFT": true, "SET": true, "ORDER": true, "GROUP": true,
		"LIMIT": true, "USING": true, "VALUES": true, "INNER": true, "CROSS": true, "AND": true}
	for _, m := range fromAlias.FindAllStringSubmatch(query, -1) {
		if m[2] != "" && !keywords[strings.ToUpper(m[2])] {
			out[m[2]] = m[1]
		}
	}
	return out
}

func partialIndexes(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	var names []string
	if err := db.r.Select(&names, `SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'`); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// firstErr returns the first error, a row not found being none: the
// queries ran, which is what counts here.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}

func errOf[T any](_ T, err error) error { return err }

// programme is the ids seedProgramme made.
type programme struct{ pair, session, mentee, prompt int64 }

// seedProgramme adds a pair with sessions, prompts, a token, messages in
// every state, a reply waiting for its acknowledgement, an answer and a
// promise: something for each hot query to find.
func seedProgramme(t *testing.T, db *DB, now time.Time) programme {
	t.Helper()
	ctx := context.Background()
	var fx programme
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		mentor := &Person{Email: "ada@example.org", Name: "Ada", Timezone: "UTC", Language: "en", CreatedAt: now}
		mentee := &Person{Email: "bo@example.org", Name: "Bo", Timezone: "UTC", Language: "en", CreatedAt: now}
		if err := firstErr(InsertPerson(ctx, tx, mentor), InsertPerson(ctx, tx, mentee)); err != nil {
			return err
		}
		p := &Pair{MentorID: mentor.ID, MenteeID: mentee.ID, Status: PairActive, CreatedAt: now}
		a := &Agreement{Cadence: "monthly", SessionMinutes: 60, Timezone: "UTC", StartsAt: now, EndsAt: now.AddDate(1, 0, 0)}
		if err := InsertPair(ctx, tx, p, a); err != nil {
			return err
		}
		fx.pair, fx.mentee = p.ID, mentee.ID
		for i := 1; i <= 3; i++ {
			s := &Session{PairID: p.ID, Number: i, Kind: KindRegular, StartsAt: now.AddDate(0, 0, 2+30*(i-1)), DurationMin: 60,
				Timezone: "UTC", Status: SessionPlanned, UID: fmt.Sprintf("uid-%d@example.org", i), CreatedAt: now, UpdatedAt: now}
			if err := InsertSession(ctx, tx, s, mentor.ID, mentee.ID); err != nil {
				return err
			}
			if i == 1 {
				fx.session = s.ID
			}
		}
		pr := &Prompt{SessionID: fx.session, PersonID: mentee.ID, Purpose: PurposeChecklist, Language: "en", Questions: "[]", CreatedAt: now}
		if err := EnsurePrompt(ctx, tx, pr); err != nil {
			return err
		}
		fx.prompt = pr.ID
		for i := range 5 {
			it := &OutboxItem{Key: fmt.Sprintf("k%d", i), Kind: "checklist", PairID: &p.ID, SessionID: &fx.session, PromptID: &pr.ID,
				Recipient: "bo@example.org", RecipientDomain: "example.org", EnvelopeFrom: fmt.Sprintf("mentoring+bounce-%02d@example.org", i),
				MessageID: fmt.Sprintf("m%d@example.org", i), Subject: "Plan", Payload: []byte("Subject: x\r\n\r\nx"),
				NextAttemptAt: now.Add(-time.Minute), CreatedAt: now.Add(-time.Hour)}
			if _, err := Enqueue(ctx, tx, it); err != nil {
				return err
			}
		}
		in := &Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: 1, MessageID: "r@example.org", MessageIDHash: "h1", Kind: "reply",
			Outcome: OutcomeLogged, SessionID: &fx.session, PersonID: &mentee.ID, Raw: []byte("raw"), ReceivedAt: now.AddDate(0, 0, -100)}
		if err := InsertInbound(ctx, tx, in); err != nil {
			return err
		}
		r := &Reply{InboundID: in.ID, SessionID: fx.session, PersonID: mentee.ID, PromptKind: PurposeChecklist, NewText: "1. x",
			ReceivedAt: now, AckWanted: true}
		if err := InsertReply(ctx, tx, r); err != nil {
			return err
		}
		e := &Entry{ReplyID: r.ID, SessionID: fx.session, PersonID: mentee.ID, PromptKind: PurposeChecklist, QuestionNo: 1,
			Question: "q", Answer: "x", ReceivedAt: now, SourceMsgID: "r@example.org"}
		if err := LogAnswer(ctx, tx, e); err != nil {
			return err
		}
		return ReplacePromises(ctx, tx, p.ID, fx.session, e.ID, []string{"write"}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}
