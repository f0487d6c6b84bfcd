package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The admin writes a pair's record for promotion by hand: the page the two
// get by mail, read back with poppler's pdftotext (a reader nobody here wrote).
func TestRecordCommandWritesThePDF(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is missing: install it with: apt-get install -y poppler-utils")
	}
	h := newHarness(t)
	args := append([]string(nil), pairArgs...)
	for i, a := range args {
		switch a {
		case "Ada Mentor":
			args[i] = "Åse Østergaard"
		case "Bo Mentee":
			args[i] = "Łukasz Żółć"
		}
	}
	h.mustRun(append(args, "--lang", "da", "--mentor-lang", "en")...)
	h.now = time.Date(2027, 7, 1, 9, 0, 0, 0, time.UTC) // sessions 1 to 6 held, 6 to come
	dir := t.TempDir()
	for _, c := range []struct {
		role  string
		wants []string
	}{
		{"mentor", []string{"Record of mentoring", "Mentor Åse Østergaard", "Mentee Łukasz Żółć", "Sessions held 6 of 12 planned",
			"Time in sessions 6 hours", "guiding and mentoring others"}},
		{"mentee", []string{"Dokumentation for mentorforløb", "Mentor Åse Østergaard", "Mentee Łukasz Żółć",
			"Afholdte samtaler 6 af 12 planlagte", "Tid i samtaler 6 timer", "har deltaget som mentee"}},
	} {
		out := filepath.Join(dir, c.role+".pdf")
		h.mustRun("record", "--pair", "1", "--for", c.role, "-o", out)
		text, err := exec.Command("pdftotext", "-enc", "UTF-8", out, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(string(text)), " ")
		for _, want := range c.wants {
			if !strings.Contains(flat, want) {
				t.Errorf("%s's record lacks %q:\n%s", c.role, want, flat)
			}
		}
		if strings.Contains(flat, "Lead a research group") || strings.Contains(flat, "Room 4.12") {
			t.Errorf("%s's record carries the agreement's words:\n%s", c.role, flat)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", out, fi.Mode(), err)
		}
	}
	if code, _, errOut := h.run("record", "--pair", "1", "--for", "admin", "-o", filepath.Join(dir, "x.pdf")); code != exitUsage || !strings.Contains(errOut, "mentor or mentee") {
		t.Errorf("record --for admin = %d %s", code, errOut)
	}
	if code, _, _ := h.run("record", "--pair", "7", "-o", filepath.Join(dir, "x.pdf")); code == 0 {
		t.Errorf("record of a pair that does not exist succeeded")
	}
}

// pair add warns of sessions on a weekend, and monthly-weekday plans "the
// second Tuesday of the month".
func TestPairAddWeekendsAndMonthlyWeekday(t *testing.T) {
	h := newHarness(t)
	args := append([]string(nil), pairArgs...)
	for i, a := range args {
		if a == "2027-01-12T14:00" {
			args[i] = "2027-01-16T10:00" // a Saturday
		}
	}
	code, _, errOut := h.run(args...)
	if code != 0 || !strings.Contains(errOut, "note: session 1 (Saturday 2027-01-16) falls on a weekend") {
		t.Errorf("pair add on a Saturday = %d\n%s", code, errOut)
	}
	// A weekly rhythm from a Sunday: every session is on a weekend.
	args = append([]string(nil), pairArgs...)
	for i, a := range args {
		switch a {
		case "2027-01-12T14:00":
			args[i] = "2027-01-17T10:00"
		case "monthly":
			args[i] = "weekly"
		case "bo@example.org":
			args[i] = "cy@example.org"
		case "12":
			args[i] = "3"
		}
	}
	if code, _, errOut := h.run(args...); code != 0 || !strings.Contains(errOut, "note: 3 sessions fall on a weekend: 1 (Sunday 2027-01-17), 2 (Sunday 2027-01-24), 3 (Sunday 2027-01-31)") {
		t.Errorf("pair add weekly from a Sunday = %d\n%s", code, errOut)
	}
	// The second Tuesday, every month.
	args = append([]string(nil), pairArgs...)
	for i, a := range args {
		switch a {
		case "monthly":
			args[i] = "monthly-weekday"
		case "bo@example.org":
			args[i] = "dy@example.org"
		}
	}
	if code, _, errOut := h.run(args...); code != 0 || strings.Contains(errOut, "weekend") {
		t.Fatalf("pair add --every monthly-weekday = %d\n%s", code, errOut)
	}
	out := h.mustRun("pair", "show", "3")
	for _, want := range []string{"2027-02-09", "2027-03-09", "2027-06-08", "2027-11-09", "2027-12-14"} {
		if !strings.Contains(out, want) {
			t.Errorf("pair show lacks %s (the second Tuesday):\n%s", want, out)
		}
	}
}
