package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// mentord pair pause and resume, and the inbox commands, as the admin types them.
func TestPairPauseResumeAndInbox(t *testing.T) {
	h := newHarness(t)
	h.mustRun(pairArgs...)
	out := h.mustRun("pair", "pause", "1", "--until", "2027-04-01")
	if !strings.Contains(out, "pair 1 paused until 2027-04-01; 3 sessions cancelled") {
		t.Errorf("pause printed %q", out)
	}
	if code, _, errOut := h.run("pair", "pause", "1", "--until", "2027-05-01"); code != 1 || !strings.Contains(errOut, "paused already") {
		t.Errorf("a second pause = %d %q", code, errOut)
	}
	if code, _, errOut := h.run("pair", "pause", "1"); code != 2 || !strings.Contains(errOut, "--until is required") {
		t.Errorf("pause without --until = %d %q", code, errOut)
	}
	status := h.mustRun("status")
	if !strings.Contains(status, "pair 1 is paused until Thu 1 Apr 2027 00:00") {
		t.Errorf("status does not list the paused pair:\n%s", status)
	}
	if !strings.Contains(h.mustRun("report"), "Paused        1 pairs paused now") {
		t.Errorf("report does not count the paused pair")
	}
	var planned []map[string]any
	if err := json.Unmarshal([]byte(h.mustRun("pair", "resume", "1", "--json")), &planned); err != nil || len(planned) != 3 {
		t.Errorf("resume --json = %v, %v", planned, err)
	}
	if code, _, errOut := h.run("pair", "resume", "1"); code != 1 || !strings.Contains(errOut, "not paused") {
		t.Errorf("a second resume = %d %q", code, errOut)
	}
	if out := h.mustRun("inbox", "list"); !strings.HasPrefix(out, "0 messages") {
		t.Errorf("inbox list = %q", out)
	}
	if code, _, _ := h.run("inbox", "show", "7"); code != 1 {
		t.Errorf("inbox show of a message never read = %d", code)
	}
}
