package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/records"
)

func TestRecordsHelp(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{"log", []string{"Usage: mentord log", "--mentee address", "--mentor address", "--format format", "text, markdown, csv, json", "(default text)"}},
		{"report", []string{"Usage: mentord report", "--format format", "no mentee's words"}},
	} {
		code, out, _ := h.run(c.cmd, "--help")
		for _, w := range c.want {
			if code != exitOK || !strings.Contains(out, w) {
				t.Errorf("mentord %s --help = %d, lacks %q:\n%s", c.cmd, code, w, out)
			}
		}
	}
}

func TestRecordsExitCodes(t *testing.T) {
	h := newHarness(t)
	// Before anything exists there is no database to read: a runtime failure.
	if code, _, errOut := h.run("report"); code != exitFailure || !strings.Contains(errOut, "database") {
		t.Errorf("report without a database = %d %s", code, errOut)
	}
	h.mustRun(pairArgs...)
	for _, c := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"log", "--mentee", "nobody@example.org"}, exitFailure, "nobody@example.org"},
		{[]string{"log", "--mentee", "ada@example.org"}, exitFailure, "mentee of no pair"},
		{[]string{"log"}, exitUsage, "--mentee is required"},
		{[]string{"log", "--mentor", "bo@example.org"}, exitFailure, "mentor of no pair"},
		{[]string{"log", "--mentee", "bo@example.org", "--mentor", "ada@example.org"}, exitUsage, "give one"},
		{[]string{"log", "bo@example.org"}, exitUsage, "no arguments"},
		{[]string{"log", "--mentee", "bo@example.org", "--format", "pdf"}, exitUsage, "--format must be"},
		{[]string{"report", "--format", "xml"}, exitUsage, "--format must be"},
		{[]string{"report", "--format", "csv", "--json"}, exitUsage, "contradict"},
		{[]string{"report", "extra"}, exitUsage, "no arguments"},
	} {
		code, _, errOut := h.run(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("mentord %s = %d %q, want %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
}

func TestRecordsFormats(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)

	var l records.MenteeLog
	if err := json.Unmarshal([]byte(h.mustRun("log", "--mentee", "BO@example.org", "--format", "json")), &l); err != nil {
		t.Fatalf("log --format json: %v", err)
	}
	if l.Mentee.Email != "bo@example.org" || len(l.Pairs) != 1 || len(l.Pairs[0].Sessions) != 12 ||
		l.Pairs[0].Agreement.Objectives != "Lead a research group" || l.Pairs[0].Sessions[0].Status != "planned" {
		t.Errorf("log JSON = %+v", l)
	}
	if out := h.mustRun("log", "--mentor", "ada@example.org"); !strings.HasPrefix(out, "Mentor's log of ") ||
		!strings.Contains(out, "Session 12 (final), 2027-12-13 14:00 Europe/Copenhagen, planned") {
		t.Errorf("log --mentor:\n%s", out)
	}
	var ml records.MentorLog
	if err := json.Unmarshal([]byte(h.mustRun("log", "--mentor", "ada@example.org", "--json")), &ml); err != nil ||
		len(ml.Pairs) != 1 || len(ml.Pairs[0].Sessions) != 12 || ml.Pairs[0].Mentee.Email != "bo@example.org" {
		t.Errorf("log --mentor --json = %+v, %v", ml, err)
	}
	var r records.ProgrammeReport
	if err := json.Unmarshal([]byte(h.mustRun("report", "--json")), &r); err != nil {
		t.Fatalf("report --json: %v", err)
	}
	if r.Totals.Pairs != 1 || len(r.Pairs) != 1 || r.Pairs[0].Sessions.ToCome != 12 || r.Pairs[0].AtRisk {
		t.Errorf("report JSON = %+v", r)
	}

	if out := h.mustRun("log", "--mentee", "bo@example.org"); !strings.HasPrefix(out, "Progress log of Bo Mentee <bo@example.org>\n") ||
		!strings.Contains(out, "Session 12 (final), 2027-12-13 14:00 Europe/Copenhagen, planned") { // Sunday the 12th moves to Monday
		t.Errorf("log:\n%s", out)
	}
	if out := h.mustRun("log", "--mentee", "bo@example.org", "--format", "markdown"); !strings.HasPrefix(out, "# Progress log of Bo Mentee") {
		t.Errorf("log --format markdown:\n%s", out)
	}
	rows, err := csv.NewReader(strings.NewReader(h.mustRun("log", "--mentee", "bo@example.org", "--format", "csv"))).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "pair_id" {
		t.Errorf("log --format csv = %q, %v (want only the header: nothing answered yet)", rows, err)
	}
	if out := h.mustRun("report"); !strings.Contains(out, "Pair 1: Ada Mentor mentors Bo Mentee (active)") ||
		!strings.Contains(out, "0 held, 12 to come, 0 cancelled") {
		t.Errorf("report:\n%s", out)
	}
	rows, err = csv.NewReader(strings.NewReader(h.mustRun("report", "--format", "csv"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "Ada Mentor" {
		t.Errorf("report --format csv = %q, %v", rows, err)
	}
	if out := h.mustRun("report", "--format", "markdown"); !strings.HasPrefix(out, "# Programme report, 2026-12-01 09:00 UTC") {
		t.Errorf("report --format markdown:\n%s", out)
	}
}
