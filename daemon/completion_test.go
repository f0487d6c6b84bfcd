package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/store"
)

// attachmentOf returns the decoded part of a message with content type ct
// and its file name.
func attachmentOf(t testing.TB, raw []byte, ct string) (name string, data []byte) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(h func(string) string, body io.Reader) bool
	walk = func(h func(string) string, body io.Reader) bool {
		mt, params, _ := mime.ParseMediaType(h("Content-Type"))
		if mt == ct {
			_, dp, _ := mime.ParseMediaType(h("Content-Disposition"))
			name = dp["filename"]
			if strings.EqualFold(h("Content-Transfer-Encoding"), "base64") {
				body = base64.NewDecoder(base64.StdEncoding, body)
			}
			data, _ = io.ReadAll(body)
			return true
		}
		if !strings.HasPrefix(mt, "multipart/") {
			return false
		}
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextPart()
			if err != nil {
				return false
			}
			if walk(p.Header.Get, p) {
				return true
			}
		}
	}
	if !walk(m.Header.Get, m.Body) {
		t.Fatalf("no %s part", ct)
	}
	return name, data
}

// pdfText reads a PDF with poppler's pdftotext and pdfinfo (readers nobody
// here wrote), its words on single spaces.
func pdfText(t testing.TB, data []byte) (text, info string) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: install it with: apt-get install -y poppler-utils")
	}
	p := filepath.Join(t.TempDir(), "record.pdf")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	inf, err := exec.Command("pdfinfo", p).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, inf)
	}
	return strings.Join(strings.Fields(string(out)), " "), string(inf)
}

// A pair that completes: both get the record for promotion once, a PDF
// whose text holds the right counts (a session the mentor declined is not
// held, a cancelled one not planned) and nothing from the log.
func TestRecordWhenThePairCompletes(t *testing.T) {
	r := newReading(t, "")
	ctx := context.Background()
	// Words in the log and in a calendar answer that the record must never carry.
	r.answer(t, "checklist", menteeAddr, "bo1@mail.example.org", "1. Finished the ZEBRAPLAN draft.\n\n5. Write the QUOKKAPROMISE.")
	r.rsvpTo(t, mentorAddr, r.pairID, 3, "REPLY", "DECLINED", "COMMENT:Away at WOMBATCOMMENT\n")
	if _, err := r.roster.CancelSession(ctx, r.sessionID(5)); err != nil {
		t.Fatal(err)
	}
	r.runUntil(utc("2027-04-14T12:00Z"))
	r.answer(t, "reflection", menteeAddr, "bo2@mail.example.org", "1. KIWIREFLECTION was the best part.")
	r.runUntil(utc("2028-02-28T00:00Z"))

	var held []store.Session
	if err := r.db.R().Select(&held, `SELECT * FROM sessions WHERE status = 'planned' AND number <> 3 ORDER BY starts_at`); err != nil {
		t.Fatal(err)
	}
	if len(held) != 10 {
		t.Fatalf("%d sessions held, want 10", len(held))
	}
	records := map[string][]simMsg{}
	for _, m := range r.got {
		if m.Kind == "record" {
			records[m.To] = append(records[m.To], m)
		}
	}
	cph := mustZone("Europe/Copenhagen")
	day := func(s store.Session) string {
		t := s.StartsAt.In(cph)
		return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year())
	}
	for _, c := range []struct {
		to, sentence string
	}{
		{mentorAddr, "This is evidence of guiding and mentoring others: Ada Lovelace supported a colleague's professional development"},
		{menteeAddr, "Bo Jensen took part as mentee in Staff Mentoring at Example University"},
	} {
		got := records[c.to]
		if len(got) != 1 {
			t.Fatalf("%d records to %s, want exactly 1", len(got), c.to)
		}
		m := got[0]
		if want := held[len(held)-1].End(); m.At.Before(want) {
			t.Errorf("record to %s at %v, before the final session ended (%v)", c.to, m.At, want)
		}
		if subj := headerOf(t, m.Raw, "Subject"); subj != "Your record of mentoring in Staff Mentoring" {
			t.Errorf("record to %s: Subject %q", c.to, subj)
		}
		name, data := attachmentOf(t, m.Raw, "application/pdf")
		if name != "mentoring-record.pdf" {
			t.Errorf("attachment name %q", name)
		}
		text, info := pdfText(t, data)
		for _, want := range []string{"Record of mentoring", "Programme Staff Mentoring", "Organisation Example University",
			"Mentor Ada Lovelace", "Mentee Bo Jensen", "Period " + day(held[0]) + " to " + day(held[len(held)-1]),
			"Sessions held 10 of 11 planned", "Time in sessions 10 hours", c.sentence} {
			if !strings.Contains(text, want) {
				t.Errorf("record to %s: the PDF's text lacks %q:\n%s", c.to, want, text)
			}
		}
		for _, bad := range []string{"ZEBRAPLAN", "QUOKKAPROMISE", "WOMBATCOMMENT", "KIWIREFLECTION", "Room 4.12"} {
			if strings.Contains(text, bad) || strings.Contains(string(m.Raw), bad) {
				t.Errorf("record to %s carries %q from the log", c.to, bad)
			}
		}
		if !strings.Contains(info, "Pages:           1\n") {
			t.Errorf("pdfinfo:\n%s", info)
		}
		t.Logf("record to %s: %d bytes of PDF, %d bytes of message", c.to, len(data), len(m.Raw))
	}

	// Once per person per pair: a session added after the final one becomes
	// the final one, and is held too, but nobody gets a second record.
	if _, err := r.roster.AddSession(ctx, r.pairID, "2028-03-07T10:00", "", ""); err != nil {
		t.Fatal(err)
	}
	r.runUntil(utc("2028-04-30T00:00Z"))
	n := 0
	for _, m := range r.got {
		if m.Kind == "record" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d records after another final session, want still 2", n)
	}
}

// A pair ended before its final session has not completed: no record.
func TestNoRecordForAPairEndedEarly(t *testing.T) {
	r := newReading(t, "")
	if _, err := r.roster.EndPair(context.Background(), r.pairID); err != nil {
		t.Fatal(err)
	}
	r.runUntil(utc("2028-02-28T00:00Z"))
	for _, m := range r.got {
		if m.Kind == "record" {
			t.Errorf("record %s sent for a pair ended early", m.Key)
		}
	}
}
