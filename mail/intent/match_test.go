package intent

import "testing"

func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		text   string
		want   Answer
		reason string
	}{
		{"Yes", Yes, ""},
		{"yes, we get on well", Yes, "we get on well"},
		{"I think so. Her questions were spot on.", Yes, "Her questions were spot on"},
		{"Ja", Yes, ""},
		{"Ja, det tror jeg bestemt.", Yes, "det tror jeg bestemt"},
		{"Det tror jeg, vi fik en god snak.", Yes, "vi fik en god snak"},
		{"Not sure yet", Unsure, ""},
		{"Not sure yet - we only met once.", Unsure, "we only met once"},
		{"I'm not sure, ask me again", Unsure, "ask me again"},
		{"Maybe", Unsure, ""},
		{"Ikke sikker endnu", Unsure, ""},
		{"ikke sikker endnu, vi har kun mødtes én gang", Unsure, "vi har kun mødtes én gang"},
		{"Måske", Unsure, ""},
		{"No", No, ""},
		{"No. Our fields are too far apart.", No, "Our fields are too far apart"},
		{"I don't think so, sorry.", No, "sorry"},
		{"Nej", No, ""},
		{"Nej, vi passer ikke sammen.", No, "vi passer ikke sammen"},
		{"Jeg tror det ikke", No, ""},
		{"Not really.", No, ""},
		{"\n\n  yes\nShe listens.", Yes, "She listens"},
		{"We had a nice chat.", "", "We had a nice chat."},
		{"", "", ""},
		{"Nothing to add", "", "Nothing to add"},
		{"Notably good", "", "Notably good"},
	} {
		a, r := Verdict(c.text)
		if a != c.want || r != c.reason {
			t.Errorf("Verdict(%q) = %q, %q; want %q, %q", c.text, a, r, c.want, c.reason)
		}
	}
}

func FuzzVerdict(f *testing.F) {
	for _, s := range []string{"yes", "Not sure yet", "ikke sikker endnu", "nej tak", "I think so"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { Verdict(s) })
}
