package daemon

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/store"
)

// addPairs adds n pairs whose first three monthly sessions are within the
// invite horizon of the sim's now: six invites each are due at once.
func (s *sim) addPairs(t *testing.T, n int) {
	t.Helper()
	start := s.now.AddDate(0, 0, 10)
	for i := range n {
		addPair(t, s.roster, admin.PairInput{
			MentorName: fmt.Sprintf("Mentor %d", i), MentorEmail: fmt.Sprintf("mentor%d@example.org", i),
			MenteeName: fmt.Sprintf("Mentee %d", i), MenteeEmail: fmt.Sprintf("mentee%d@example.org", i),
			TZ: "Europe/Copenhagen", Start: start.Add(0).Format("2006-01-02") + "T14:00", Every: "monthly", Sessions: "12",
			Duration: "60m", Location: "Room 4.12",
		})
	}
}

func (s *sim) outboxCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.db.R().Get(&n, `SELECT COUNT(*) FROM outbox`); err != nil {
		t.Fatal(err)
	}
	return n
}

// One pass acknowledges every reply waiting for it, however many: 600
// replies read in a burst (the inbox reads faster than a pass composed 500
// a minute) are all acknowledged by the next pass, not 500 of them with the
// rest a minute later.
func TestOnePassAcknowledgesEveryReply(t *testing.T) {
	s := newSim(t, utc("2027-01-04T10:00Z"), "")
	addPair(t, s.roster, yearPair)
	s.runUntil(utc("2027-01-09T12:00Z")) // the checklist of session 1 has gone
	ctx := context.Background()
	var sessionID, personID int64
	if err := s.db.R().QueryRow(`SELECT session_id, person_id FROM prompts WHERE purpose = 'checklist'`).Scan(&sessionID, &personID); err != nil {
		t.Fatal(err)
	}
	const replies = 600
	err := s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		for i := range replies {
			in := &store.Inbound{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), MessageID: fmt.Sprintf("r%d@example.org", i),
				MessageIDHash: fmt.Sprintf("hash-%d", i), Kind: "reply", Outcome: store.OutcomeLogged, ReceivedAt: s.now}
			if err := store.InsertInbound(ctx, tx, in); err != nil {
				return err
			}
			r := &store.Reply{InboundID: in.ID, SessionID: sessionID, PersonID: personID, PromptKind: store.PurposeChecklist,
				NewText: fmt.Sprintf("answer %d", i), ReceivedAt: s.now, AckWanted: true}
			if err := store.InsertReply(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := s.outboxCount(t)
	res, err := compose.Plan(ctx, s.db, s.cfg, s.tpl, s.now, s.log)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.outboxCount(t) - before; got != replies || res.Enqueued != replies {
		t.Errorf("one pass enqueued %d acknowledgements (reported %d), want %d", got, res.Enqueued, replies)
	}
	if acks, _ := store.PendingAcks(ctx, s.db.R(), 0, 10); len(acks) != 0 {
		t.Errorf("%d replies still wait for their acknowledgement", len(acks))
	}
}

// A pass with much to do commits a part at a time and says so after each:
// what it reports is already in the database, no commit holds more than a
// part, and the whole is the same as one pass at once would have enqueued.
func TestPlanCommitsAndReportsEachPart(t *testing.T) {
	s := newSim(t, utc("2027-01-04T10:00Z"), "")
	const pairs = 150 // 900 invites: five commits, and two parts of sessions
	s.addPairs(t, pairs)
	ctx := context.Background()
	var reports []compose.PlanResult
	res, err := compose.Plan(ctx, s.db, s.cfg, s.tpl, s.now, s.log, compose.PlanOptions{
		Progress: func(r compose.PlanResult) {
			reports = append(reports, r)
			if n := s.outboxCount(t); n != r.Enqueued {
				t.Errorf("progress reports %d enqueued, the database holds %d", r.Enqueued, n)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := 6 * pairs; res.Enqueued != want || s.outboxCount(t) != want {
		t.Fatalf("Plan enqueued %d (%d in the outbox), want %d", res.Enqueued, s.outboxCount(t), want)
	}
	if len(reports) < 5 {
		t.Fatalf("%d progress reports for %d messages, want one a part (at least 5)", len(reports), res.Enqueued)
	}
	for i := 1; i < len(reports); i++ {
		if step := reports[i].Enqueued - reports[i-1].Enqueued; step > 200 {
			t.Errorf("one part enqueued %d messages, more than a commit holds (200)", step)
		}
	}
	if res2, err := compose.Plan(ctx, s.db, s.cfg, s.tpl, s.now, s.log); err != nil || res2.Enqueued != 0 {
		t.Errorf("a second pass = %+v, %v; want nothing new", res2, err)
	}

	// A stop between parts ends the pass; the next one goes on from there.
	s2 := newSim(t, utc("2027-01-04T10:00Z"), "")
	s2.addPairs(t, pairs)
	stop, cancel := context.WithCancel(ctx)
	first, err := compose.Plan(ctx, s2.db, s2.cfg, s2.tpl, s2.now, s2.log, compose.PlanOptions{Stop: stop,
		Progress: func(compose.PlanResult) { cancel() }})
	if err != nil || first.Enqueued == 0 || first.Enqueued >= 6*pairs {
		t.Fatalf("a pass stopped after its first part = %+v, %v", first, err)
	}
	rest, err := compose.Plan(ctx, s2.db, s2.cfg, s2.tpl, s2.now, s2.log)
	if err != nil || first.Enqueued+rest.Enqueued != 6*pairs {
		t.Errorf("the next pass enqueued %d (%v) after %d, want %d in all", rest.Enqueued, err, first.Enqueued, 6*pairs)
	}
}
