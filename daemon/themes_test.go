package daemon

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mentord/mentord/daemon/records"
)

// The report counts the topics answers against the guide's themes and
// shows none of their words.
func TestReportCountsThemes(t *testing.T) {
	r := newReading(t, "")
	if text := textOf(t, r.checklist.Raw); !strings.Contains(strings.Join(strings.Fields(text), " "),
		"For question 4, the programme's guide suggests these themes: feedback on my CV, my academic profile") {
		t.Errorf("the checklist offers no themes:\n%s", text)
	}
	r.answer(t, "checklist", menteeAddr, "bo1@mail.example.org", "4. Feedback on my CV, and growing my Networks abroad (OKAPIWORD).")
	r.runUntil(utc("2027-03-09T12:00Z"))
	r.answer(t, "checklist", menteeAddr, "bo2@mail.example.org", "4. Whether to go for promotion this year.")
	r.runUntil(utc("2027-04-09T12:00Z"))
	r.answer(t, "checklist", menteeAddr, "bo3@mail.example.org", "4. Nothing in particular, LLAMAWORD.")
	ctx := context.Background()
	th, err := records.LoadThemes(ctx, r.db.R(), r.tpl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range th.Counts {
		got[c.Key] = c.Topics
	}
	if th.Answers != 3 || th.Unthemed != 1 || got["cv"] != 1 || got["networks"] != 1 || got["promotion"] != 1 || got["balance"] != 0 || len(th.Counts) != 8 {
		t.Errorf("themes = %+v", th)
	}
	rep, err := records.LoadReport(ctx, r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil {
		t.Fatal(err)
	}
	rep.Themes = th
	for _, f := range []string{"text", "markdown", "json"} {
		var buf bytes.Buffer
		if err := records.WriteReport(&buf, rep, f); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "OKAPIWORD") || strings.Contains(out, "LLAMAWORD") || strings.Contains(out, "abroad") {
			t.Errorf("report (%s) holds a mentee's words:\n%s", f, out)
		}
		if f == "text" && (!strings.Contains(out, "feedback on my CV") || !strings.Contains(out, "Of 3 answers")) {
			t.Errorf("report (%s) lacks the themes:\n%s", f, out)
		}
	}
}
