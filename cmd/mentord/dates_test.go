package main

import (
	"strings"
	"testing"
)

// Every date the admin gives lies from 2000-01-01 to ten years from now:
// a session moved to 9999-12-31T23:30 in Etc/GMT+12 was stored in the year
// 10000, which the database cannot order. Each is refused, saying the window,
// and nothing changes.
func TestDatesOutsideTheWindowAreRefused(t *testing.T) {
	h := newHarness(t)
	pair := append(append([]string(nil), pairArgs...), "--tz", "Etc/GMT+12")
	h.mustRun(pair...)
	before := h.mustRun("session", "list", "--pair", "1", "--json")

	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"session", "move", "3", "--to", "9999-12-31T23:30"}, "--to"},
		{[]string{"session", "move", "3", "--to", "2037-01-12T14:00"}, "--to"}, // over ten years after 2026-12-01
		{[]string{"session", "add", "--pair", "1", "--at", "9999-12-31T23:30"}, "--at"},
		{append(append([]string(nil), pairArgs...), "--mentee-email", "cy@example.org", "--start", "9999-12-01T10:00"), "--start"},
		{append(append([]string(nil), pairArgs...), "--mentee-email", "cy@example.org", "--end", "9999-12-31"), "--end"},
	} {
		code, _, errOut := h.run(c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.flag+":") || !strings.Contains(errOut, "2000-01-01") ||
			!strings.Contains(errOut, "ten years") {
			t.Errorf("mentord %s = %d\n%s", strings.Join(c.args, " "), code, errOut)
		}
	}
	csv := "mentor_name,mentor_email,mentee_name,mentee_email,start,tz,every,sessions,duration,location\n" +
		"Ada,ada@example.org,Cy,cy@example.org,9999-12-31T23:30,Etc/GMT+12,monthly,3,60m,Room 1\n"
	code, out, _ := h.runStdin(csv, "import", "-")
	if code != exitFailure || !strings.Contains(out, "-:2: start:") || !strings.Contains(out, "ten years") {
		t.Errorf("import of a start in 9999 = %d\n%s", code, out)
	}
	if after := h.mustRun("session", "list", "--pair", "1", "--json"); after != before || h.count("pairs") != 1 {
		t.Errorf("a refused date changed the sessions:\n%s", after)
	}
}
