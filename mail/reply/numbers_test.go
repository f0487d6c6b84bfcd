package reply

import (
	"reflect"
	"testing"
)

func TestNumberToken(t *testing.T) {
	for _, tc := range []struct {
		in     string
		num    int
		rest   string
		strong bool
	}{
		{"1. Finished it.", 1, "Finished it.", false},
		{"2) The budget", 2, "The budget", false},
		{"3: Two people leave", 3, "Two people leave", false},
		{"4 - Pricing", 4, "Pricing", false},
		{"4 – Pricing", 4, "Pricing", false},
		{"5- Pricing", 5, "Pricing", false},
		{"6/ Be blunt", 6, "Be blunt", false},
		{"1.) Done", 1, "Done", false},
		{"1.Done", 1, "Done", false},
		{"2.", 2, "", false},
		{"**3.** Bold", 3, "Bold", false},
		{"1、完成了培训手册", 1, "完成了培训手册", false},
		{"１．完成了", 1, "完成了", false},
		{"2\ufe0f\u20e3 Keycap answer", 2, "Keycap answer", false},
		{"Q1: Negotiation", 1, "Negotiation", true},
		{"q2. Lessons", 2, "Lessons", true},
		{"Q 3 - Me", 3, "Me", true},
		{"#4 Topics", 4, "Topics", true},
		{"#5: Promises", 5, "Promises", true},
		{"(6) Support", 6, "Support", true},
		{"[2] Brackets", 2, "Brackets", true},
		{"Question 2: The budget", 2, "The budget", true},
		{"Spørgsmål 3: Tid", 3, "Tid", true},
		{"Frage 4 - Themen", 4, "Themen", true},
		{"Answer 1. Done", 1, "Done", true},
	} {
		num, rest, strong, ok := numberToken(tc.in)
		if !ok || num != tc.num || rest != tc.rest || strong != tc.strong {
			t.Errorf("numberToken(%q) = %d, %q, %v, %v; want %d, %q, %v", tc.in, num, rest, strong, ok, tc.num, tc.rest, tc.strong)
		}
	}
	for _, in := range []string{
		"1.5 hours went on it", "10:30 was the meeting", "1-2 hours", "2/3 of the work", "2027. A year",
		"Q2 planning took long", "100. Too big", "1.x is the version", "3 people left", "#hashtag",
		"Questions 1-3 were easy", "(see above)", "", "   ", "2)my",
	} {
		if num, _, _, ok := numberToken(in); ok {
			t.Errorf("numberToken(%q) = %d, want no number", in, num)
		}
	}
}

func TestNumberedDrafts(t *testing.T) {
	type d = map[int]string
	for _, tc := range []struct {
		name  string
		lines []string
		maxQ  int
		want  d
	}{
		{"across paragraphs", []string{"Hi,", "1. One.", "", "More on one.", "2. Two."}, 6,
			d{1: "One.\n\nMore on one.", 2: "Two."}},
		{"greeting without blank line", []string{"Hej", "1. En.", "2. To."}, 3, d{1: "En.", 2: "To."}},
		{"number wrapped into a sentence", []string{
			"I have been weighing the two options and my first point is timing, and",
			"2) my second point depends on the reorg in April."}, 6, d{}},
		{"out of range", []string{"7. Seven.", "8. Eight."}, 6, d{}},
		{"past the last question", []string{"5. Five.", "6. Six.", "7. And one more thing."}, 6, d{5: "Five.", 6: "Six."}},
		{"falling numbers are text", []string{"1. We did:", "1. this", "2. and that"}, 6,
			d{1: "We did:\n1. this", 2: "and that"}},
		{"unknown range, two numbers", []string{"1. A.", "2. B."}, 0, d{1: "A.", 2: "B."}},
		{"unknown range, one number mid-text", []string{"Some prose.", "", "3. A thing."}, 0, d{}},
		{"unknown range, one Q number", []string{"Some prose.", "", "Q3: A thing."}, 0, d{3: "A thing."}},
	} {
		drafts := numberedDrafts(tc.lines, tc.maxQ, true, true)
		if tc.maxQ == 0 {
			drafts = filterUnknownRange(drafts)
		}
		got := d{}
		for _, dr := range drafts {
			got[dr.num] = tidy(joinLines(dr.lines))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: numberedDrafts = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func joinLines(ls []string) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += "\n"
		}
		s += l
	}
	return s
}

func TestDropEcho(t *testing.T) {
	qs := questions{max: 3, text: map[int]string{2: "What didn't get done?"}}
	for in, want := range map[string]string{
		"What didn't get done? The budget.":  "The budget.",
		"What didn’t get done - The budget.": "The budget.",
		"The budget.":                        "The budget.",
		"What didn't get done?":              "",
	} {
		if got := qs.dropEcho(2, in); got != want {
			t.Errorf("dropEcho(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNumberedDraftsQuoteCutShort: questions seen only in a quote the sender
// cut short are a floor, not a ceiling.
func TestNumberedDraftsQuoteCutShort(t *testing.T) {
	got := map[int]string{}
	for _, d := range numberedDrafts([]string{"1. One.", "2. Two.", "4. Four."}, 2, false, true) {
		got[d.num] = joinLines(d.lines)
	}
	if want := map[int]string{1: "One.", 2: "Two.", 4: "Four."}; !reflect.DeepEqual(got, want) {
		t.Errorf("numberedDrafts = %v, want %v", got, want)
	}
	if ds := numberedDrafts([]string{"4. Four."}, 2, false, true); len(ds) != 0 {
		t.Errorf("a first number past the quote's questions was read: %v", ds)
	}
}
