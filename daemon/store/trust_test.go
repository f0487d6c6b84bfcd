package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// schema4 is a database at schema 4 with a pair, two messages read (one
// logged with a reply and its answer, one quarantined) and what refers to
// them, as mentord before schema 5 left it.
func schema4(t *testing.T) (path string, sessionID int64) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "old.db")
	db, err := open(ctx, path, migrations[:4])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		mentor := &Person{Email: "ada@example.org", Name: "Ada", Timezone: "UTC", Language: "en", CreatedAt: now}
		mentee := &Person{Email: "bo@example.org", Name: "Bo", Timezone: "UTC", Language: "en", CreatedAt: now}
		for _, p := range []*Person{mentor, mentee} {
			if err := InsertPerson(ctx, tx, p); err != nil {
				return err
			}
		}
		p := &Pair{MentorID: mentor.ID, MenteeID: mentee.ID, Status: PairActive, CreatedAt: now}
		if err := InsertPair(ctx, tx, p, &Agreement{Cadence: "monthly", SessionMinutes: 60, Timezone: "UTC", StartsAt: now, EndsAt: now.AddDate(1, 0, 0)}); err != nil {
			return err
		}
		s := &Session{PairID: p.ID, Number: 1, Kind: KindChemistry, StartsAt: now.Add(24 * time.Hour), DurationMin: 60,
			Timezone: "UTC", Status: SessionPlanned, UID: "u1@example.org", CreatedAt: now, UpdatedAt: now}
		if err := InsertSession(ctx, tx, s, mentor.ID, mentee.ID); err != nil {
			return err
		}
		sessionID = s.ID
		// The mentee's answer came with SEQUENCE 2147483647, the mentor's
		// stamped in 9999: both froze the session's answers. Session 2's are sound.
		s2 := &Session{PairID: p.ID, Number: 2, Kind: KindRegular, StartsAt: now.Add(30 * 24 * time.Hour), DurationMin: 60,
			Timezone: "UTC", Status: SessionPlanned, UID: "u2@example.org", CreatedAt: now, UpdatedAt: now}
		if err := InsertSession(ctx, tx, s2, mentor.ID, mentee.ID); err != nil {
			return err
		}
		for _, set := range []struct {
			session, person int64
			seq             int
			stamp           time.Time
		}{
			{s.ID, mentee.ID, 2147483647, now},
			{s.ID, mentor.ID, 0, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
			{s2.ID, mentee.ID, 0, time.Now().Add(-time.Hour)}, // the migration compares with the real clock
		} {
			if err := SetPartstat(ctx, tx, set.session, set.person, "ACCEPTED", set.seq, set.stamp, now); err != nil {
				return err
			}
		}
		for i, row := range []struct{ id, hash, from, outcome string }{
			{"r1@example.org", "hash-r1", "bo@example.org", OutcomeLogged},
			{"r2@example.org", "hash-r2", "eve@x.example", OutcomeQuarantined},
		} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbound (mailbox, uidvalidity, uid, message_id, message_id_hash, from_addr,
				kind, outcome, session_id, person_id, raw, received_at) VALUES ('INBOX', 1, ?, ?, ?, ?, 'reply', ?, ?, ?, x'01', ?)`,
				i+1, row.id, row.hash, row.from, row.outcome, s.ID, mentee.ID, UTC(now)); err != nil {
				return err
			}
		}
		// One message sent, reported as bounced twice (schema 4 counted both), and
		// a bounce tied to no message.
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, idempotency_key, kind, recipient, message_id, payload,
			state, next_attempt_at, created_at) VALUES (7, 'k', 'checklist', 'bo@example.org', 'm7@example.org', x'00', 'sent', ?, ?)`,
			UTC(now), UTC(now)); err != nil {
			return err
		}
		for _, outbox := range []any{7, 7, nil} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bounces (inbound_id, person_id, address, status, permanent, outbox_id,
				received_at) VALUES (2, ?, 'bo@example.org', '5.1.1', 1, ?, ?)`, mentee.ID, outbox, UTC(now)); err != nil {
				return err
			}
		}
		// Written as schema 4 holds them (InsertReply and LogAnswer write
		// the columns of the latest schema).
		if _, err := tx.ExecContext(ctx, `INSERT INTO replies (id, inbound_id, session_id, person_id, prompt_kind, new_text,
			received_at) VALUES (1, 1, ?, ?, 'checklist', '1. Yes', ?)`, s.ID, mentee.ID, UTC(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO progress_entries (reply_id, session_id, person_id, prompt_kind, question_no,
			question, answer, received_at, source_msgid) VALUES (1, ?, ?, 'checklist', 1, 'Q', 'Yes', ?, 'r1@example.org')`,
			s.ID, mentee.ID, UTC(now))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, sessionID
}

// Schema 5 rebuilds inbound: every row and every row that refers to one
// stays (foreign keys are off while it migrates, on again after), and
// messages read before it are still recognised when read again.
func TestMigrationFiveKeepsTheRecord(t *testing.T) {
	ctx := context.Background()
	path, _ := schema4(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n struct {
		Inbound  int `db:"inbound"`
		Replies  int `db:"replies"`
		Entries  int `db:"entries"`
		Orphaned int `db:"orphaned"`
	}
	if err := db.R().Get(&n, `SELECT (SELECT COUNT(*) FROM inbound) AS inbound, (SELECT COUNT(*) FROM replies) AS replies,
		(SELECT COUNT(*) FROM progress_entries) AS entries,
		(SELECT COUNT(*) FROM replies r WHERE NOT EXISTS (SELECT 1 FROM inbound i WHERE i.id = r.inbound_id)) AS orphaned`); err != nil {
		t.Fatal(err)
	}
	if n.Inbound != 2 || n.Replies != 1 || n.Entries != 1 || n.Orphaned != 0 {
		t.Errorf("after migrating: %+v, want 2 inbound rows, 1 reply, 1 entry, none orphaned", n)
	}
	var fk int
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { return tx.GetContext(ctx, &fk, "PRAGMA foreign_keys") }); err != nil || fk != 1 {
		t.Errorf("foreign keys after migrating: %d, %v; want on", fk, err)
	}
	// The frozen answers are forgotten as the last applied; the sound one stays.
	var kept []struct {
		Number int  `db:"number"`
		Seq    *int `db:"reply_sequence"`
	}
	if err := db.R().Select(&kept, `SELECT s.number, a.reply_sequence FROM session_attendees a JOIN sessions s ON s.id = a.session_id
		WHERE a.reply_sequence IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Number != 2 || *kept[0].Seq != 0 {
		t.Errorf("answers kept as the last applied: %+v, want only session 2's", kept)
	}
	// A message's bounce counts once: the repeat went, the others stayed.
	var bounces []struct {
		ID     int64  `db:"id"`
		Outbox *int64 `db:"outbox_id"`
	}
	if err := db.R().Select(&bounces, `SELECT id, outbox_id FROM bounces ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(bounces) != 2 || bounces[0].ID != 1 || bounces[1].Outbox != nil {
		t.Errorf("bounces after migrating: %+v, want the first of outbox 7's and the one without a message", bounces)
	}
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`INSERT INTO bounces (inbound_id, address, status, permanent, outbox_id, received_at)
			VALUES (2, 'bo@example.org', '5.1.1', 1, 7, '2027-01-01 10:00:00+00:00')`)
		return err
	}); err == nil {
		t.Error("a second bounce of one message was recorded")
	}
	// Deleting a message still deletes what refers to it (the references
	// follow the rebuilt table).
	if err := db.Tx(ctx, func(tx *sqlx.Tx) error { _, err := tx.Exec(`DELETE FROM inbound WHERE id = 1`); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.R().Get(&n.Replies, `SELECT COUNT(*) FROM replies`); err != nil || n.Replies != 0 {
		t.Errorf("%d replies left after deleting their message (%v)", n.Replies, err)
	}
}

func TestInboundSeen(t *testing.T) {
	ctx := context.Background()
	path, _ := schema4(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		for i, in := range []Inbound{
			{MessageID: "q@x", MessageIDHash: "h-q", DedupeKey: "k-q", RawHash: "raw-q", Outcome: OutcomeQuarantined},
			{MessageID: "g@x", MessageIDHash: "h-g", DedupeKey: "k-g", RawHash: "raw-g", Outcome: OutcomeLogged},
		} {
			in.Mailbox, in.UIDValidity, in.UID, in.Kind, in.ReceivedAt = "INBOX", 2, uint32(i+1), "reply", now
			if err := InsertInbound(ctx, tx, &in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                   string
		key, raw, idHash, from string
		want                   bool
	}{
		{"the same message again", "k-g", "raw-g2", "h-g", "bo@example.org", true},
		{"a quarantined one's bytes again", "k-q", "raw-q", "h-q", "", true},
		{"a later one like a quarantined one", "k-q", "raw-other", "h-q", "", false},
		{"read before schema 5, same sender", "k-new", "raw-new", "hash-r1", "BO@example.org", true},
		{"read before schema 5, another sender", "k-new2", "raw-new2", "hash-r1", "eve@x.example", false},
		{"quarantined before schema 5", "k-new3", "raw-new3", "hash-r2", "eve@x.example", false},
		{"new", "k-none", "raw-none", "h-none", "bo@example.org", false},
	} {
		_, seen, err := InboundSeen(ctx, db.R(), c.key, c.raw, c.idHash, c.from)
		if err != nil || seen != c.want {
			t.Errorf("%s: seen %v, %v; want %v", c.name, seen, err, c.want)
		}
	}
	// Both lookups use an index, however many messages were read.
	rows, err := db.R().Query(`EXPLAIN QUERY PLAN SELECT outcome FROM (
		SELECT outcome FROM inbound WHERE dedupe_key = ? AND (outcome <> 'quarantined' OR raw_hash = ?)
		UNION ALL
		SELECT outcome FROM inbound WHERE dedupe_key = '' AND message_id_hash = ? AND from_addr = ? COLLATE NOCASE
			AND outcome <> 'quarantined') LIMIT 1`, "k", "r", "h", "f")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, d := range plan {
		if strings.HasPrefix(d, "SCAN inbound") {
			t.Errorf("InboundSeen scans inbound: %s", strings.Join(plan, "; "))
		}
	}
}
