package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/admin"
)

// People who can never be mailed are refused on the way in, with the reason:
// the same checks the composer applies to every message.
func TestPeopleWhoCanNeverBeMailedAreRefused(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ flag, value, want string }{
		{"--mentee-name", "Bo\x1b[31mJensen", "control character"},
		{"--mentor-name", "Ada \u202eecalevoL", "bidi"},
		{"--mentee-email", "bø@example.org", "other than ASCII"},
		{"--mentee-email", "bo\u202e@example.org", "other than ASCII"},
		{"--mentor-email", "ada&co@example.org", "mailto"},
	} {
		args := append(append([]string(nil), pairArgs...), c.flag, c.value)
		code, _, errOut := h.run(args...)
		if code != exitUsage || !strings.Contains(errOut, c.flag+":") || !strings.Contains(errOut, c.want) {
			t.Errorf("pair add %s %q = %d\n%s", c.flag, c.value, code, errOut)
		}
	}
	csv := "mentor_name,mentor_email,mentee_name,mentee_email,start,every,sessions,duration,location\n" +
		"Ada,ada@example.org,Bo\x07,bo@example.org,2027-01-12T14:00,monthly,3,60m,Room 1\n" +
		"Ada,ada@example.org,Cy,cy@exämple.org,2027-01-12T14:00,monthly,3,60m,Room 1\n"
	code, out, _ := h.runStdin(csv, "import", "-")
	if code != exitFailure || !strings.Contains(out, "-:2: mentee_name:") || !strings.Contains(out, "-:3: mentee_email:") {
		t.Errorf("import = %d\n%s", code, out)
	}
	for _, table := range []string{"people", "pairs", "sessions"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after refused input", n, table)
		}
	}

	// Text that looks like an encoded-word is a name like any other: it goes
	// out as typed (see mail's tests).
	name := "=?utf-8?q?admin@example.org=0D=0ABcc:_evil@x?="
	h.mustRun(append(append([]string(nil), pairArgs...), "--mentee-name", name)...)
	var p admin.PairDetail
	if err := json.Unmarshal([]byte(h.mustRun("pair", "show", "1", "--json")), &p); err != nil || p.Mentee.Name != name {
		t.Errorf("pair show = %+v, %v", p.Mentee, err)
	}
	code, _, errOut := h.run("pair", "replace-mentor", "1", "--mentor-name", "Eve", "--mentor-email", "eve@exämple.org")
	if code != exitUsage || !strings.Contains(errOut, "--mentor-email:") {
		t.Errorf("replace-mentor with an unmailable address = %d %s", code, errOut)
	}
}

// The pair's own texts go into every invitation and message: a terminal
// escape or a bidi override in them is refused like one in a name.
func TestPairTextsWithControlCharactersAreRefused(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ flag, value string }{
		{"--location", "Room\x1b[2J 4.12"},
		{"--objectives", "Lead\x07 a group"},
		{"--contact", "By \u202eliame"},
	} {
		args := append(append([]string(nil), pairArgs...), c.flag, c.value)
		code, _, errOut := h.run(args...)
		if code != exitUsage || !strings.Contains(errOut, c.flag+":") || !strings.Contains(errOut, "control") {
			t.Errorf("pair add %s %q = %d\n%s", c.flag, c.value, code, errOut)
		}
	}
	h.mustRun(append(append([]string(nil), pairArgs...), "--objectives", "Lead a group\n\twith tabs and lines")...)
	if code, _, errOut := h.run("session", "add", "--pair", "1", "--at", "2027-06-30T10:00", "--location", "Zoom\x1b]0;x\x07"); code != exitUsage || !strings.Contains(errOut, "--location:") {
		t.Errorf("session add --location with an escape = %d %s", code, errOut)
	}
}
