package reply

import (
	"reflect"
	"testing"
)

func TestProseAnswers(t *testing.T) {
	p := promptFromBody("Dear Ana,\n\n1. What have I accomplished since our last session?\n\n2. What didn't get done?\n\n" +
		"3. What problems, challenges and opportunities do I face?\n\n4. How do I want my mentor to support me?\n")
	da := promptFromBody("Kære Ana\n\n1. Hvad har jeg nået siden vores sidste samtale?\n\n2. Hvilke emner vil jeg gerne drøfte?\n\n" +
		"3. Hvordan vil jeg gerne have, at min mentor støtter mig?\n")
	type a = map[int]string
	type ties = map[int]Tie
	for _, tc := range []struct {
		name, body string
		p          *Prompt
		want       a
		tied       ties
	}{
		{"one paragraph per question, in order", "Hi,\n\nThe grant.\n\nThe plan.\n\nHiring.\n\nBe blunt.", p,
			a{1: "The grant.", 2: "The plan.", 3: "Hiring.", 4: "Be blunt."}, ties{1: TieOrder, 4: TieOrder}},
		{"fewer paragraphs than questions stay unassigned", "The grant.\n\nThe plan.", p, nil, nil},
		{"more paragraphs than questions stay unassigned", "A.\n\nB.\n\nC.\n\nD.\n\nE.", p, nil, nil},
		{"topic leads", "About blockers: hiring.\n\nSupport: be blunt.", p, a{3: "hiring.", 4: "be blunt."}, ties{3: TieTopic, 4: TieTopic}},
		{"a lead's answer runs to the next lead", "Challenges - hiring.\n\nAnd the budget.\n\nAccomplishments: the grant.", p,
			a{3: "hiring.\n\nAnd the budget.", 1: "the grant."}, nil},
		{"a heading line", "Support\nBe blunt with me.", p, a{4: "Be blunt with me."}, ties{4: TieTopic}},
		{"leads in order with the count", "The grant.\n\nThe plan.\n\nChallenges: hiring.\n\nBe blunt.", p,
			a{1: "The grant.", 2: "The plan.", 3: "hiring.", 4: "Be blunt."}, ties{1: TieOrder, 3: TieTopic}},
		{"a lead out of place with the count: only the lead", "Support: be blunt.\n\nThe plan.\n\nHiring.\n\nThe grant.", p,
			a{4: "be blunt.\n\nThe plan.\n\nHiring.\n\nThe grant."}, nil},
		{"a lead naming two questions is no lead", "Problems and support: both.", p, nil, nil},
		{"Danish leads", "Om emner: Tid.\n\nStøtte: Vær ærlig.", da, a{2: "Tid.", 3: "Vær ærlig."}, nil},
		{"no prompt, no prose mapping", "The grant.\n\nThe plan.\n\nHiring." + quote3, nil, nil, nil},
		{"numbers win", "1. The grant.\n\nSupport: be blunt.", p, a{1: "The grant.\n\nSupport: be blunt."}, nil},
	} {
		res := parseBody(t, tc.body, tc.p)
		got := res.Answers
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, map[int]string(tc.want)) {
			t.Errorf("%s: Answers = %v, want %v", tc.name, got, tc.want)
		}
		for n, tie := range tc.tied {
			if res.Ties[n] != tie {
				t.Errorf("%s: Ties[%d] = %q, want %q", tc.name, n, res.Ties[n], tie)
			}
		}
	}
}
