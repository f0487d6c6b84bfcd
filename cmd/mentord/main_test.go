package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type harness struct {
	t      *testing.T
	config string
	now    time.Time // the commands' clock; zero: testNow
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	body := `programme: {name: Test Programme}
mailbox: {address: mentoring@example.org}
defaults: {timezone: Europe/Copenhagen, language: en}
devserver: {enabled: true}
database: {path: test.db}
`
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, config: cfg}
}

// run runs one command in-process and returns its exit status and output.
func (h *harness) run(args ...string) (int, string, string) {
	h.t.Helper()
	return h.runStdin("", args...)
}

func (h *harness) runStdin(stdin string, args ...string) (int, string, string) {
	h.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string {
			if k == "MENTORD_CONFIG" {
				return h.config
			}
			return ""
		},
		now: func() time.Time {
			if !h.now.IsZero() {
				return h.now
			}
			return testNow
		},
		serve: func(*env, string) error { return nil },
	}
	code := run(args, e)
	return code, out.String(), errOut.String()
}

func (h *harness) mustRun(args ...string) string {
	h.t.Helper()
	code, out, errOut := h.run(args...)
	if code != 0 {
		h.t.Fatalf("mentord %s = exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// count returns the number of rows in a table.
func (h *harness) count(table string) int {
	h.t.Helper()
	cfg, err := config.Load(h.config)
	if err != nil {
		h.t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.R().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

var pairArgs = []string{"pair", "add", "--mentor-name", "Ada Mentor", "--mentor-email", "ada@example.org",
	"--mentee-name", "Bo Mentee", "--mentee-email", "bo@example.org", "--start", "2027-01-12T14:00",
	"--tz", "Europe/Copenhagen", "--every", "monthly", "--sessions", "12", "--duration", "60m",
	"--location", "Room 4.12", "--objectives", "Lead a research group"}

func TestEveryCommandHasHelp(t *testing.T) {
	h := newHarness(t)
	for _, c := range commands {
		args := append(strings.Fields(c.name), "--help")
		code, out, _ := h.run(args...)
		if code != 0 || !strings.Contains(out, "Usage: mentord "+c.name) || strings.Contains(out, "--config") == c.noConfig {
			t.Errorf("mentord %s --help = %d\n%s", c.name, code, out)
		}
	}
	if code, out, _ := h.run("help"); code != 0 || !strings.Contains(out, "pair add") {
		t.Errorf("mentord help = %d %s", code, out)
	}
	if code, _, _ := h.run(); code != exitUsage {
		t.Errorf("mentord without a command = %d, want 2", code)
	}
	if code, _, errOut := h.run("frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command = %d %s", code, errOut)
	}
	if code, _, errOut := h.run("pair", "list", "--bogus"); code != exitUsage || !strings.Contains(errOut, "bogus") {
		t.Errorf("unknown flag = %d %s", code, errOut)
	}
}

func TestCheckConfig(t *testing.T) {
	h := newHarness(t)
	if code, out, errOut := h.run("check-config", "--config", "../../config.example.yaml"); code != 0 {
		t.Errorf("check-config example = %d\n%s%s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("programme:\n  name: X\nmailbox:\n  adress: m@example.org\n"), 0o600)
	code, _, errOut := h.run("check-config", "--config", bad)
	if code != exitUsage || !strings.Contains(errOut, bad+":4: mailbox.adress: unknown key") {
		t.Errorf("check-config misspelt = %d\n%s", code, errOut)
	}
	if code, _, _ := h.run("check-config", "--config", "/nonexistent.yaml"); code != exitUsage {
		t.Errorf("check-config missing file = %d, want 2", code)
	}
}

func TestPairAddIsIdempotentAndPrintsID(t *testing.T) {
	h := newHarness(t)
	out := h.mustRun(pairArgs...)
	if strings.TrimSpace(out) != "1" {
		t.Fatalf("pair add printed %q, want the id", out)
	}
	if out := h.mustRun(pairArgs...); strings.TrimSpace(out) != "1" {
		t.Errorf("adding the same pair again printed %q", out)
	}
	if n := h.count("sessions"); n != 12 {
		t.Errorf("%d sessions after adding twice, want 12", n)
	}
	var p admin.PairDetail
	if err := json.Unmarshal([]byte(h.mustRun("pair", "show", "1", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	want := []string{"chemistry", "regular", "regular", "review", "regular", "regular", "regular", "review", "regular", "regular", "regular", "final"}
	for i, s := range p.Sessions {
		if s.Kind != want[i] || s.Local[11:] != "14:00" || s.UID == "" || s.Mentor != "NEEDS-ACTION" {
			t.Errorf("session %d = %+v", i+1, s)
		}
	}
	if p.Agreement.Objectives != "Lead a research group" || p.Agreement.ReviewEvery != 4 || p.Mentee.Email != "bo@example.org" {
		t.Errorf("pair = %+v", p)
	}
	if !p.Agreement.EndsAt.Equal(time.Date(2028, 1, 12, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("agreement ends %v, want a year after the start", p.Agreement.EndsAt)
	}

	// The same two people with other details: refused, nothing changes.
	other := append(append([]string(nil), pairArgs...), "--review-every", "3")
	if code, _, errOut := h.run(other...); code != exitFailure || !strings.Contains(errOut, "already exists") {
		t.Errorf("conflicting pair add = %d %s", code, errOut)
	}
	if n := h.count("pairs"); n != 1 {
		t.Errorf("%d pairs", n)
	}
}

func TestPairAddBadInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	cases := map[string][]string{
		"--mentee-email": {"--mentee-email", "bo at example.org"},
		"--start":        {"--start", "2027-02-30T10:00"},
		"--tz":           {"--tz", "Mars/Olympus"},
		"--every":        {"--every", "sometimes"},
		"--sessions":     {"--sessions", "13", "--end", "2027-06-30"},
		"--lang":         {"--lang", "xx"},
		"--duration":     {"--duration", "forever"},
	}
	for field, extra := range cases {
		args := append(append([]string(nil), pairArgs...), extra...)
		code, _, errOut := h.run(args...)
		if code != exitUsage || !strings.Contains(errOut, field) {
			t.Errorf("pair add with bad %s = %d %s", field, code, errOut)
		}
	}
	// A first session in the past.
	args := append(append([]string(nil), pairArgs...), "--start", "2026-11-01T10:00")
	if code, _, errOut := h.run(args...); code == 0 || !strings.Contains(errOut, "past") {
		t.Errorf("past start = %d %s", code, errOut)
	}
	for _, table := range []string{"people", "pairs", "sessions"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after bad input", n, table)
		}
	}
}

func TestSessionCommands(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)

	var s store.Session
	json.Unmarshal([]byte(h.mustRun("session", "move", "3", "--to", "2027-03-09T15:00", "--json")), &s)
	if s.Sequence != 1 || records.LocalTime(s.StartsAt, s.Timezone) != "2027-03-09T15:00" {
		t.Errorf("after move: %+v", s)
	}
	json.Unmarshal([]byte(h.mustRun("session", "cancel", "4", "--json")), &s)
	if s.Status != "cancelled" || s.Sequence != 1 {
		t.Errorf("after cancel: %+v", s)
	}
	if code, _, errOut := h.run("session", "cancel", "4"); code != exitFailure || !strings.Contains(errOut, "cancelled") {
		t.Errorf("cancelling twice = %d %s", code, errOut)
	}
	if code, _, _ := h.run("session", "move", "99", "--to", "2027-03-09T15:00"); code != exitFailure {
		t.Errorf("moving a missing session = %d", code)
	}
	if code, _, _ := h.run("session", "move", "3", "--to", "2020-01-01T10:00"); code != exitUsage {
		t.Errorf("moving into the past = %d", code)
	}
	if code, _, _ := h.run("session", "move", "3"); code != exitUsage {
		t.Errorf("move without --to = %d", code)
	}
	out := h.mustRun("session", "add", "--pair", "1", "--at", "2027-06-30T10:00", "--duration", "90m")
	if strings.TrimSpace(out) != "13" {
		t.Errorf("session add printed %q", out)
	}
	var list []admin.SessionDetail
	json.Unmarshal([]byte(h.mustRun("session", "list", "--pair", "1", "--json")), &list)
	if len(list) != 13 || list[6].Number != 13 || list[6].DurationMin != 90 || list[6].Location != "Room 4.12" {
		t.Errorf("session list has %d sessions; 7th = %+v", len(list), list[6])
	}

	var ended map[string]any
	json.Unmarshal([]byte(h.mustRun("pair", "end", "1", "--json")), &ended)
	if ended["sessions_cancelled"].(float64) != 12 { // 13 sessions, one already cancelled
		t.Errorf("pair end = %v", ended)
	}
	if code, _, errOut := h.run("session", "add", "--pair", "1", "--at", "2027-07-30T10:00"); code != exitFailure || !strings.Contains(errOut, "ended") {
		t.Errorf("adding to an ended pair = %d %s", code, errOut)
	}
	var ps []admin.PairSummary
	json.Unmarshal([]byte(h.mustRun("pair", "list", "--json", "--status", "ended")), &ps)
	if len(ps) != 1 || ps[0].Status != "ended" || ps[0].Cancelled != 13 {
		t.Errorf("pair list = %+v", ps)
	}
}

const goodCSV = `mentor_name,mentor_email,mentee_name,mentee_email,start,tz,every,sessions,duration,location,lang
Ada Mentor,ada@example.org,Bo Mentee,bo@example.org,2027-01-12T14:00,Europe/Copenhagen,monthly,12,60m,Room 4.12,en
# a comment line
Cy Mentor,cy@example.org,Di Mentee,di@example.org,2027-02-01T09:30,America/New_York,2w,10,45m,"Zoom, link in invite",da
`

func TestImport(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "pairs.csv")
	os.WriteFile(file, []byte(goodCSV), 0o600)

	code, out, _ := h.run("import", file, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: 2 pairs would be created") || h.count("pairs") != 0 {
		t.Fatalf("dry run = %d %s (%d pairs)", code, out, h.count("pairs"))
	}
	out = h.mustRun("import", file)
	if !strings.Contains(out, "2 pairs created") || h.count("sessions") != 22 {
		t.Fatalf("import = %s (%d sessions)", out, h.count("sessions"))
	}
	var rep admin.ImportReport
	json.Unmarshal([]byte(h.mustRun("import", file, "--json")), &rep)
	if rep.Created != 0 || rep.Unchanged != 2 || !rep.Committed || h.count("sessions") != 22 || h.count("people") != 4 {
		t.Errorf("importing again = %+v (%d sessions)", rep, h.count("sessions"))
	}
	if rep.Rows[1].Line != 4 {
		t.Errorf("second row reported at line %d, want 4", rep.Rows[1].Line)
	}
	if _, out, _ := h.run("import", file, "--dry-run"); !strings.Contains(out, "pair 2 unchanged") ||
		!strings.Contains(out, "dry run: 0 pairs would be created, 2 already exist unchanged") {
		t.Errorf("dry run of a file imported = %s", out)
	}
}

// A dry run finds what the import finds, rows that repeat or contradict
// earlier rows of the same file included, and changes nothing.
func TestImportDryRunFindsWhatTheImportFinds(t *testing.T) {
	h := newHarness(t)
	csv := goodCSV + `Ada Mentor,ada@example.org,Bo Mentee,bo@example.org,2027-01-12T14:00,Europe/Copenhagen,monthly,12,60m,Room 4.12,en
Ada Lovelace,ada@example.org,Eve Mentee,eve@example.org,2027-01-13T14:00,Europe/Copenhagen,monthly,12,60m,Room 4.12,en
`
	file := filepath.Join(t.TempDir(), "pairs.csv")
	os.WriteFile(file, []byte(csv), 0o600)
	code, out, _ := h.run("import", file, "--dry-run")
	for _, want := range []string{
		file + ":5: ok, the same pair as an earlier line",
		file + ":6: ok, would be created",
		file + `:6: note: ada@example.org is already known as "Ada Mentor"`,
		"dry run: 3 pairs would be created, 1 already exist unchanged",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("dry run = %d, lacks %q:\n%s", code, want, out)
		}
	}
	if n := h.count("people"); n != 0 {
		t.Errorf("%d people after a dry run", n)
	}
	out = h.mustRun("import", file)
	if !strings.Contains(out, "imported: 3 pairs created, 1 already existed unchanged") ||
		!strings.Contains(out, file+":5: pair 1 unchanged") || !strings.Contains(out, file+`:6: note: ada@example.org is already known as "Ada Mentor"`) {
		t.Errorf("import = %s", out)
	}

	conflict := goodCSV + `Ada Mentor,ada@example.org,Bo Mentee,bo@example.org,2027-01-19T14:00,Europe/Copenhagen,monthly,12,60m,Room 4.12,en
`
	h2 := newHarness(t)
	os.WriteFile(file, []byte(conflict), 0o600)
	for _, args := range [][]string{{"import", file, "--dry-run"}, {"import", file}} {
		code, out, _ := h2.run(args...)
		if code != exitFailure || !strings.Contains(out, file+":5: an active pair of these two people already exists (line 2 of this file)") {
			t.Errorf("%s = %d\n%s", strings.Join(args, " "), code, out)
		}
	}
}

func TestImportSemicolonsAndBOM(t *testing.T) {
	h := newHarness(t)
	csv := "\xef\xbb\xbfMentor-Name;Mentor-Email;Mentee-Name;Mentee-Email;Start;TZ;Every;Sessions;Duration;Location\n" +
		"Åse Mentor;ase@example.dk;Øjvind;oj@example.dk;2027-01-12 14:00;Europe/Copenhagen;4w;6;1h;Lokale 2\n"
	code, out, errOut := h.runStdin(csv, "import", "-")
	if code != 0 || !strings.Contains(out, "1 pairs created") {
		t.Errorf("import = %d %s %s", code, out, errOut)
	}
}

func TestImportBadRowsImportNothing(t *testing.T) {
	h := newHarness(t)
	bad := goodCSV + `Eve Mentor,eve@example.org,Fay,fay-at-example.org,2027-01-12T14:00,Europe/Copenhagen,monthly,12,60m,Room 1,en
Gus,gus@example.org,Hal,hal@example.org,2027-01-12T25:00,Europe/Nowhere,monthly,12,60m,Room 1,en
Ivy,ivy@example.org,Jo,jo@example.org,2027-01-12T10:00,Europe/Copenhagen,monthly,12,60m
Ada Mentor,ada@example.org,Bo Mentee,bo@example.org,2027-01-19T14:00,Europe/Copenhagen,monthly,12,60m,Room 4.12,en
`
	file := filepath.Join(t.TempDir(), "pairs.csv")
	os.WriteFile(file, []byte(bad), 0o600)
	code, out, _ := h.run("import", file)
	if code != exitFailure {
		t.Errorf("import with bad rows = %d, want 1", code)
	}
	for _, want := range []string{
		file + ":5: mentee_email:",
		file + ":6: start:",
		file + ":6: tz: unknown time zone",
		file + ":7: has 9 fields",
		file + ":8: an active pair of these two people already exists",
		"4 rows bad: nothing was imported",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, table := range []string{"people", "pairs", "sessions"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after a failed import", n, table)
		}
	}
}

func TestImportBadHeader(t *testing.T) {
	h := newHarness(t)
	code, _, errOut := h.runStdin("mentor_name,mentor_mail,start\n", "import", "-")
	if code != exitFailure || !strings.Contains(errOut, `unknown column "mentor_mail"`) || !strings.Contains(errOut, `missing column "mentee_email"`) {
		t.Errorf("bad header = %d %s", code, errOut)
	}
}

// pair show says whether the mentor reads the mentee's plans, as the
// mentee chose (by email, or through the admin).
func TestPairShowSaysWhetherPlansAreShared(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)
	if out := h.mustRun("pair", "show", "1"); !strings.Contains(out, "Plans       the mentee's own") {
		t.Errorf("pair show, plans not shared:\n%s", out)
	}
	h.mustRun("pair", "share-plans", "1", "yes")
	if out := h.mustRun("pair", "show", "1"); !strings.Contains(out, "Plans       shared: the mentor's brief shows") {
		t.Errorf("pair show, plans shared:\n%s", out)
	}
}
