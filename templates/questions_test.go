package templates

import (
	"strings"
	"testing"
	"time"
)

// TestQuestions checks every language, purpose, session kind and promise
// setting: numbers 1..n, one-line texts and keys, nothing asked twice, and
// the lists the programme prescribes.
func TestQuestions(t *testing.T) {
	s := load(t, "")
	wantLen := map[string][2]int{ // without, with promises
		"checklist/chemistry":  {8, 8},
		"checklist/regular":    {6, 7},
		"checklist/review":     {8, 9},
		"checklist/final":      {10, 11},
		"reflection/chemistry": {4, 4},
		"reflection/regular":   {4, 4},
		"reflection/review":    {4, 4},
		"reflection/final":     {4, 4},
	}
	for _, lang := range s.Languages() {
		for _, purpose := range []string{"checklist", "reflection"} {
			for _, kind := range SessionKinds {
				for i, promises := range []bool{false, true} {
					qs := s.Questions(lang, purpose, kind, promises)
					name := lang + " " + purpose + "/" + kind
					if want := wantLen[purpose+"/"+kind][i]; len(qs) != want {
						t.Errorf("%s (promises %v): %d questions, want %d", name, promises, len(qs), want)
					}
					texts, keys := map[string]bool{}, map[string]bool{}
					asksPromises := false
					for j, q := range qs {
						if q.Number != j+1 {
							t.Errorf("%s: question %d has number %d", name, j+1, q.Number)
						}
						if strings.TrimSpace(q.Text) != q.Text || q.Text == "" || strings.ContainsAny(q.Text, "\r\n\t") {
							t.Errorf("%s: question %d text %q is not one trimmed line", name, q.Number, q.Text)
						}
						if q.Key == "" || texts[q.Text] || keys[q.Key] {
							t.Errorf("%s: question %d (%q, key %q) is unkeyed or asked twice", name, q.Number, q.Text, q.Key)
						}
						texts[q.Text], keys[q.Key] = true, true
						asksPromises = asksPromises || q.Key == "promises-kept"
					}
					if want := promises && purpose == "checklist" && kind != SessionChemistry; asksPromises != want {
						t.Errorf("%s (promises %v): asks about promises %v, want %v", name, promises, asksPromises, want)
					}
				}
			}
		}
	}
}

func TestQuestionsUnknown(t *testing.T) {
	s := load(t, "")
	for _, c := range [][3]string{
		{"sv", "checklist", "regular"},
		{"en", "nudge", "regular"},
		{"en", "checklist", "lunch"},
		{"en", "reflection", ""},
	} {
		if got := s.Questions(c[0], c[1], c[2], true); got != nil {
			t.Errorf("Questions(%q, %q, %q) = %v, want nil", c[0], c[1], c[2], got)
		}
	}
}

func TestQuestionsAreCopies(t *testing.T) {
	s := load(t, "")
	qs := s.Questions("en", "reflection", SessionRegular, false)
	qs[0].Text = "changed"
	if got := s.Questions("en", "reflection", SessionRegular, false)[0].Text; got == "changed" {
		t.Error("Questions returned the catalogue's own slice")
	}
}

func TestDates(t *testing.T) {
	start := time.Date(2027, time.January, 12, 14, 0, 0, 0, cph)
	late := time.Date(2027, time.May, 30, 23, 30, 0, 0, cph)
	session := Session{Start: start, End: start.Add(time.Hour), Zone: "Europe/Copenhagen"}
	overnight := Session{Start: late, Minutes: 90, Zone: "Europe/Copenhagen"}
	for _, c := range []struct{ lang, fn, want string }{
		{"en", "when", "Tuesday 12 January 2027, 14:00–15:00 (Europe/Copenhagen)"},
		{"da", "when", "tirsdag den 12. januar 2027 kl. 14.00–15.00 (Europe/Copenhagen)"},
		{"en", "overnight", "Sunday 30 May 2027, 23:30 – Monday 31 May 2027, 01:00 (Europe/Copenhagen)"},
		{"da", "overnight", "søndag den 30. maj 2027 kl. 23.30 – mandag den 31. maj 2027 kl. 01.00 (Europe/Copenhagen)"},
		{"en", "short", "Tue 12 Jan 14:00"},
		{"da", "short", "tirs. 12. jan. kl. 14.00"},
		{"en", "shortDate", "Sun 30 May"},
		{"da", "shortDate", "søn. 30. maj"},
		{"en", "genitive", "Bjørn's / Jens's"},
		{"da", "genitive", "Bjørns / Jens'"},
	} {
		f := locales[c.lang].funcs()
		var got string
		switch c.fn {
		case "when":
			got = f["when"].(func(Session) string)(session)
		case "overnight":
			got = f["when"].(func(Session) string)(overnight)
		case "short":
			got = f["short"].(func(time.Time) string)(start)
		case "shortDate":
			got = f["shortDate"].(func(time.Time) string)(late)
		case "genitive":
			g := f["genitive"].(func(string) string)
			got = g("Bjørn") + " / " + g("Jens")
		}
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.lang, c.fn, got, c.want)
		}
	}
}

func TestWithout(t *testing.T) {
	qs := []Question{{1, "A?", "a"}, {2, "B?", "b"}, {3, "C?", "c"}}
	got := Without(qs, "b")
	if len(got) != 2 || got[0] != (Question{1, "A?", "a"}) || got[1] != (Question{2, "C?", "c"}) {
		t.Errorf("Without = %v", got)
	}
	if qs[2].Number != 3 {
		t.Errorf("Without changed its input: %v", qs)
	}
}
