package daemon

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/store"
)

// withLog makes the sim log at level into a buffer.
func (s *sim) withLog(level slog.Level) *syncBuffer {
	logs := &syncBuffer{}
	s.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	s.outbox.Log = s.log
	return logs
}

// A message that can never be built (an address stored before addresses were
// checked on the way in) fails once: it is recorded failed with the reason,
// `mentord status` shows it, the log says so once without the address, and
// no pass tries it again.
func TestUnsendableMessagesFailOnce(t *testing.T) {
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	logs := s.withLog(slog.LevelInfo)
	addPair(t, s.roster, yearPair)
	const bad = "bø@example.org"
	err := s.db.Tx(context.Background(), func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`UPDATE people SET email = ? WHERE email = ?`, bad, yearPair.MenteeEmail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.runUntil(utc("2027-02-20T12:00Z"))
	for i := 0; i < 5; i++ { // more passes at the same moment change nothing
		s.step()
	}

	var rows []struct {
		Key   string `db:"idempotency_key"`
		State string `db:"state"`
		Error string `db:"last_error"`
	}
	if err := s.db.R().Select(&rows, `SELECT idempotency_key, state, last_error FROM outbox WHERE recipient = ?`, bad); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range rows {
		kinds[strings.Split(r.Key, ":")[0]] = true
		if r.State != store.OutboxFailed || !strings.Contains(r.Error, "other than ASCII") || !strings.Contains(r.Error, "person 2") {
			t.Errorf("outbox row %+v, want failed with the reason", r)
		}
	}
	if !kinds["invite"] || !kinds["checklist"] || !kinds["reflection"] {
		t.Errorf("failed messages to the bad address: %v, want invites, checklists and reflections", kinds)
	}
	var failed int // to the bad address, and the mentor's invitations that list it
	if err := s.db.R().Get(&failed, `SELECT COUNT(*) FROM outbox WHERE state = 'failed'`); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "a message can never be built"); n != failed {
		t.Errorf("%d log lines for %d failed messages:\n%s", n, failed, logs.String())
	}
	if strings.Contains(logs.String(), "cannot compose") {
		t.Errorf("a message was tried again:\n%s", logs.String())
	}
	st, err := admin.LoadStatus(context.Background(), s.db, s.cfg, s.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Outbox.Failures) == 0 || !strings.Contains(st.Outbox.Failures[0].LastError, "other than ASCII") || st.DueNow != 0 {
		t.Errorf("status: failures %+v, due now %d", st.Outbox.Failures, st.DueNow)
	}
	for _, m := range s.got {
		if m.To == bad {
			t.Errorf("a message went to %s", bad)
		}
	}
	if strings.Contains(logs.String(), bad) || strings.Contains(logs.String(), "Bo Jensen") {
		t.Errorf("the log names the person:\n%s", logs.String())
	}
}
