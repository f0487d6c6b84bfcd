package intent

import "testing"

func TestAgreement(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"I agree", true}, {"I agree, thank you!", true}, {"Jeg er enig", true}, {"Enig.", true}, {"Yes", true}, {"Ja tak", true},
		{"I agree, but\n3. Room 5.01", false}, {"3. Room 5.01", false}, {"I disagree", false}, {"Not yet", false},
	} {
		if got := Agrees(c.text); got != c.want {
			t.Errorf("Agrees(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := Items("Hi,\n2. fortnightly\n 3) Room 5.01\nthanks\n12. no", 7); len(got) != 2 || got[2] != "fortnightly" || got[3] != "Room 5.01" {
		t.Errorf("Items = %v", got)
	}
	for text, want := range map[string]int{"90 minutes": 90, "1.5 hours": 90, "1,5 timer": 90, "45 min": 45, "an hour": 0} {
		if got := Minutes(text); got != want {
			t.Errorf("Minutes(%q) = %d, want %d", text, got, want)
		}
	}
	for text, want := range map[string]string{"every two weeks": "fortnightly", "Hver 14. dag": "fortnightly", "monthly": "monthly",
		"hver måned": "monthly", "6w": "6w", "now and then": ""} {
		if got := Cadence(text); got != want {
			t.Errorf("Cadence(%q) = %q, want %q", text, got, want)
		}
	}
	for text, want := range map[string]int{"every 4 sessions": 4, "hver 3. samtale": 3, "never": 0} {
		if got, ok := Every(text); !ok || got != want {
			t.Errorf("Every(%q) = %d, %v", text, got, ok)
		}
	}
}
