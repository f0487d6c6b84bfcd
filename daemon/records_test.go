package daemon

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

var updateRecords = flag.Bool("update", false, "rewrite the golden files in testdata/records")

const (
	cyAddr  = "cy@example.org"
	eveAddr = "eve@example.com"
)

// Words the mentees (and, in calendar comments, the mentors) wrote: none may
// reach the report.
var menteeWords = []string{"ZEBRA-PLANS-42", "ZEBRA-THANKS-9", "ZEBRA-PROMISE-1", "ZEBRA-RSVP-7", "ZEBRA-LATE-3",
	"OTHER-MENTEE-SECRET", "grant draft", "Away at a conference", "Could we do Thursday", "ADA-COMMENT-5"}

// newRecords builds, through the real schedule and reader, two pairs over two
// and a half months: Ada mentors Bo, who answers (once correcting himself,
// once late, once without numbers) and promises; Eve mentors Cy, who answers once, then
// falls silent; Eve declines twice and proposes another time; Cy's address
// bounces until mail to it stops. Bo's last session is cancelled. It ends at
// 2027-03-20 12:00 UTC.
func newRecords(t *testing.T) *reading {
	t.Helper()
	s := newSim(t, utc("2026-12-01T09:00Z"), "")
	addPair(t, s.roster, admin.PairInput{MentorName: "Ada Lovelace", MentorEmail: mentorAddr, MenteeName: "Bo Jensen", MenteeEmail: menteeAddr,
		TZ: "Europe/Copenhagen", Start: "2027-01-12T14:00", Every: "monthly", Sessions: "5", Duration: "60m", Location: "Room 4.12",
		Objectives: "Lead my first research group"})
	addPair(t, s.roster, admin.PairInput{MentorName: "Eve Hansen", MentorEmail: eveAddr, MenteeName: "Cy Nielsen", MenteeEmail: cyAddr,
		TZ: "Europe/Copenhagen", Start: "2027-01-13T10:00", Every: "monthly", Sessions: "5", Duration: "45m", Location: "Zoom"})
	r := &reading{sim: s, reader: &ingest.Reader{DB: s.db, Cfg: s.cfg, Tpl: s.tpl, Log: s.log, Now: func() time.Time { return s.now }}}

	s.runUntil(utc("2027-01-10T12:00Z")) // both chemistry checklists sent
	r.rsvpTo(t, menteeAddr, 1, 1, "REPLY", "ACCEPTED", "COMMENT:ZEBRA-RSVP-7 looking forward\n")
	r.rsvpTo(t, mentorAddr, 1, 1, "REPLY", "ACCEPTED", "COMMENT:ADA-COMMENT-5 see you\n")
	r.answer(t, "checklist", menteeAddr, "bo1@mail.example.org", "1. I hope to ZEBRA-PLANS-42 grow as a leader.\n\n2. Lead my first research group.\n\n7. I am new to Denmark.")
	r.answer(t, "checklist", cyAddr, "cy1@mail.example.org", "1. OTHER-MENTEE-SECRET hopes.\n\n2. Publish more.")

	s.runUntil(utc("2027-01-14T12:00Z")) // both first sessions held, reflections sent
	r.answer(t, "reflection", menteeAddr, "bo2@mail.example.org", "Thank you, ZEBRA-THANKS-9, a good first meeting.")
	r.answer(t, "reflection", menteeAddr, "bo3@mail.example.org", "1. Talking about the group.\n\n4. Very well.")

	s.runUntil(utc("2027-02-10T12:00Z")) // the second checklists
	r.answer(t, "checklist", menteeAddr, "bo4@mail.example.org", "1. Got the grant draft to the research office.\n\n"+
		"5. - Send the draft to ZEBRA-PROMISE-1 colleagues\n   - Book the room\n\n6. Help me think about delegating.")
	r.answer(t, "checklist", menteeAddr, "bo5@mail.example.org", "1. Sent the grant draft AND the budget.")
	r.rsvpTo(t, eveAddr, 2, 2, "REPLY", "DECLINED", "COMMENT:Away at a conference\n")
	r.rsvpTo(t, eveAddr, 2, 3, "REPLY", "DECLINED", "")
	r.rsvpTo(t, eveAddr, 2, 4, "COUNTER", "TENTATIVE", "COMMENT:Could we do Thursday?\n")
	r.bounceAll(t, cyAddr)
	if _, err := s.roster.CancelSession(context.Background(), 5); err != nil { // Bo's final session
		t.Fatal(err)
	}

	s.runUntil(utc("2027-03-12T15:00Z")) // Bo's third session has started
	r.answer(t, "checklist", menteeAddr, "bo6@mail.example.org", "4. The budget, ZEBRA-LATE-3.\n\n7. Yes, both done.")
	s.runUntil(utc("2027-03-20T12:00Z"))
	return r
}

// answer replies to the latest prompt of this kind sent to the address.
func (r *reading) answer(t *testing.T, kind, to, msgID, typed string) {
	t.Helper()
	for i := len(r.got) - 1; i >= 0; i-- {
		if m := r.got[i]; m.Kind == kind && m.To == to {
			r.checklist = m
			break
		}
	}
	replyTo, err := mail.ParseAddress(headerOf(t, r.checklist.Raw, "Reply-To"))
	if err != nil {
		t.Fatal(err)
	}
	if out := r.ingest(r.replyMsg(to, replyTo.Address, msgID, typed)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("reply %s: %+v", msgID, out)
	}
}

// rsvpTo answers the invite of a pair's session number n as the invitee.
func (r *reading) rsvpTo(t *testing.T, to string, pairID int64, n int, method, partstat, extra string) {
	t.Helper()
	var sess store.Session
	if err := r.db.R().Get(&sess, `SELECT * FROM sessions WHERE pair_id = ? AND number = ?`, pairID, n); err != nil {
		t.Fatal(err)
	}
	one := *r.sim
	one.got = nil
	for _, m := range r.got {
		if m.Kind == "invite" && m.To == to && strings.HasPrefix(m.Key, fmt.Sprintf("invite:%d:", sess.ID)) {
			one.got = append(one.got, m)
		}
	}
	raw := string((&reading{sim: &one}).rsvp(t, to, to, method, partstat, sess.Sequence, r.now, extra))
	if method == "COUNTER" { // a new time two days later, for the occurrence it answers
		at := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
		later := sess.StartsAt.Add(48 * time.Hour)
		raw = strings.Replace(raw, "DTSTART:"+at(sess.StartsAt), "RECURRENCE-ID:"+at(sess.StartsAt)+"\r\nDTSTART:"+at(later), 1)
		raw = strings.Replace(raw, "DTEND:"+at(sess.StartsAt.Add(time.Hour)), "DTEND:"+at(later.Add(time.Hour)), 1) // as rsvp writes it
	}
	if out := r.ingest([]byte(raw)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("%s %s from %s: %+v", method, partstat, to, out)
	}
}

// bounceAll bounces the latest three messages to the address, each reported
// once, which suspends it.
func (r *reading) bounceAll(t *testing.T, to string) {
	t.Helper()
	sent := r.sentTo(t, to)
	if len(sent) < 3 {
		t.Fatalf("%d messages sent to %s, want 3 to bounce", len(sent), to)
	}
	for i, s := range sent[len(sent)-3:] {
		if out := r.ingest(dsn(t, s.Msg, s.Envelope, i+1, "5.1.1")); out.Outcome != store.OutcomeLogged {
			t.Fatalf("bounce %d: %+v", i+1, out)
		}
	}
}

// golden compares got with testdata/records/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "records", name)
	if *updateRecords {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test -run %s -update rewrites it):\n%s", name, t.Name(), got)
	}
}

var formatExt = map[string]string{"text": "txt", "markdown": "md", "csv": "csv", "json": "json"}

// writeAll writes a record in every format, by format.
func writeAll(t *testing.T, write func(w *bytes.Buffer, format string) error) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range records.Formats {
		var b bytes.Buffer
		if err := write(&b, f); err != nil {
			t.Fatalf("write %s: %v", f, err)
		}
		out[f] = b.Bytes()
	}
	return out
}

func TestRecords(t *testing.T) {
	r := newRecords(t)
	ctx := context.Background()
	logOf := func(t *testing.T, email string) map[string][]byte {
		t.Helper()
		l, err := records.LoadMenteeLog(ctx, r.db.R(), email, r.now)
		if err != nil {
			t.Fatalf("records.LoadMenteeLog(%s) = %v", email, err)
		}
		return writeAll(t, func(w *bytes.Buffer, f string) error { return records.WriteMenteeLog(w, l, f) })
	}
	rep, err := records.LoadReport(ctx, r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil {
		t.Fatal(err)
	}
	report := writeAll(t, func(w *bytes.Buffer, f string) error { return records.WriteReport(w, rep, f) })
	bo := logOf(t, "BO@example.org ")

	t.Run("golden", func(t *testing.T) {
		for _, f := range records.Formats {
			golden(t, "log."+formatExt[f], bo[f])
			golden(t, "report."+formatExt[f], report[f])
		}
	})
	t.Run("report holds no one's words", func(t *testing.T) {
		for f, out := range report {
			for _, w := range menteeWords {
				if bytes.Contains(out, []byte(w)) {
					t.Errorf("the %s report contains %q", f, w)
				}
			}
		}
	})
	t.Run("log holds only the mentee's words", func(t *testing.T) {
		cy := logOf(t, cyAddr)
		// Eve declined two of Cy's sessions that have passed: they were not held.
		if n := bytes.Count(cy["text"], []byte(", declined\n")); n != 2 {
			t.Errorf("Cy's log shows %d sessions declined, want 2:\n%s", n, cy["text"])
		}
		for _, f := range records.Formats {
			for _, c := range []struct {
				out       []byte
				want, not []string
			}{
				{bo[f], []string{"ZEBRA-PLANS-42", "ZEBRA-THANKS-9", "ZEBRA-PROMISE-1", "ZEBRA-RSVP-7", "ZEBRA-LATE-3"},
					[]string{"OTHER-MENTEE-SECRET", "ADA-COMMENT-5", "Cy Nielsen", "Eve Hansen"}},
				{cy[f], []string{"OTHER-MENTEE-SECRET"}, []string{"ZEBRA", "grant draft", "Away at a conference", "Could we do Thursday", "Bo Jensen"}},
			} {
				for _, w := range c.want {
					if f == "csv" && w == "ZEBRA-RSVP-7" {
						continue // the CSV holds the answers, not the RSVPs
					}
					if !bytes.Contains(c.out, []byte(w)) {
						t.Errorf("the %s log lacks %q", f, w)
					}
				}
				for _, w := range c.not {
					if bytes.Contains(c.out, []byte(w)) {
						t.Errorf("the %s log contains %q:\n%s", f, w, c.out)
					}
				}
			}
		}
	})
	t.Run("csv and json parse", func(t *testing.T) {
		rows, err := csv.NewReader(bytes.NewReader(bo["csv"])).ReadAll()
		if err != nil || len(rows) != 12 || len(rows[0]) != 11 || rows[0][0] != "pair_id" {
			t.Fatalf("log CSV: %d rows, %v", len(rows), err)
		}
		if rows[7][6] != "1" || rows[7][10] != "2" || !strings.Contains(rows[8][8], "\n- Book the room") {
			t.Errorf("log CSV rows 7 and 8 = %q, %q", rows[7], rows[8])
		}
		if rows, err := csv.NewReader(bytes.NewReader(report["csv"])).ReadAll(); err != nil || len(rows) != 3 || rows[2][25] != "true" || rows[2][5] != "2" {
			t.Errorf("report CSV = %q, %v", rows, err)
		}
		var l records.MenteeLog
		if err := json.Unmarshal(bo["json"], &l); err != nil || len(l.Pairs) != 1 || len(l.Pairs[0].Sessions) != 5 {
			t.Fatalf("log JSON: %v", err)
		}
		var p records.ProgrammeReport
		if err := json.Unmarshal(report["json"], &p); err != nil || p.Totals.Pairs != 2 || !p.Pairs[1].AtRisk || len(p.Pairs[1].Risks) != 4 {
			t.Errorf("report JSON: %+v, %v", p, err)
		}
	})
}

func TestRecordsErrors(t *testing.T) {
	r := newReading(t, "")
	ctx := context.Background()
	for _, email := range []string{"nobody@example.org", mentorAddr} {
		if _, err := records.LoadMenteeLog(ctx, r.db.R(), email, r.now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("records.LoadMenteeLog(%s) = %v, want ErrNotFound", email, err)
		}
	}
	l, err := records.LoadMenteeLog(ctx, r.db.R(), menteeAddr, r.now)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := records.LoadReport(ctx, r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil {
		t.Fatal(err)
	}
	if err := records.WriteMenteeLog(&bytes.Buffer{}, l, "xml"); err == nil {
		t.Error("records.WriteMenteeLog(xml) = nil, want an error")
	}
	if err := records.WriteReport(&bytes.Buffer{}, rep, "pdf"); err == nil {
		t.Error("records.WriteReport(pdf) = nil, want an error")
	}
}
