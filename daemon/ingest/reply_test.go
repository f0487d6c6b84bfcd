package ingest

import "testing"

func TestYesOrNo(t *testing.T) {
	for answer, want := range map[string]string{
		"Yes":                          "yes",
		"yes, that is fine":            "yes",
		"Sure.":                        "yes",
		"OK":                           "yes",
		"Ja, gerne.":                   "yes",
		"Sí, claro":                    "yes",
		"oui":                          "yes",
		"No":                           "no",
		"No, thank you.":               "no",
		"Not yet: ask me again later.": "no",
		"nej tak":                      "no",
		"Helst ikke.":                  "no",
		"Nein":                         "no",
		"I'll think about it":          "",
		"Yesterday I was unsure":       "",
		"Nobody should see them":       "",
		"Maybe the topics only":        "",
		"":                             "",
	} {
		got := ""
		if yes, clear := yesOrNo(answer); clear {
			got = map[bool]string{true: "yes", false: "no"}[yes]
		}
		if got != want {
			t.Errorf("yesOrNo(%q) = %q, want %q", answer, got, want)
		}
	}
}
