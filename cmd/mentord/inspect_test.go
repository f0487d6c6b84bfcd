package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const inspectReply = "From: Ana Silva <ana@example.org>\r\nSubject: Re: Plan\r\n\r\n3. Hiring.\r\n1. The grant.\r\n\r\n" +
	"Forgot 2: the plan.\r\n\r\nOn Tue, 9 Mar 2027 at 08:00, Mentoring <m@example.org> wrote:\r\n> 1. What went well?\r\n" +
	"> 2. What didn't?\r\n> 3. What next?\r\n"

// TestInspectShowsHowAnswersAreTied: the JSON says per answer how it was
// tied, and --text says it in words.
func TestInspectShowsHowAnswersAreTied(t *testing.T) {
	h := newHarness(t)
	code, out, errOut := h.runStdin(inspectReply, "inspect", "-")
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, errOut)
	}
	var got struct {
		Answers map[string]string `json:"answers"`
		Tied    map[string]string `json:"tied"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := map[string]string{"1": "number", "2": "late-number", "3": "number"}; len(got.Answers) != 3 || !equalMaps(got.Tied, want) {
		t.Errorf("tied = %v, want %v (answers %v)", got.Tied, want, got.Answers)
	}
	code, out, errOut = h.runStdin(inspectReply, "inspect", "--text", "-")
	if code != 0 {
		t.Fatalf("inspect --text: %d %s", code, errOut)
	}
	for _, want := range []string{"kind: reply", "answer 2 [tied by late-number:", "  the plan.", "answer 3 [tied by number:"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect --text lacks %q:\n%s", want, out)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
