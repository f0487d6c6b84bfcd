package templates

import (
	"strings"
	"testing"
	"time"
)

// The conversation's messages get golden files too, in both languages.
func init() {
	talk := func(name string, t Talk, edit func(d *Data)) {
		goldenCases = append(goldenCases, struct {
			name string
			kind Kind
			edit func(s *Set, d *Data)
		}{name, TalkKind, func(s *Set, d *Data) {
			tt := t
			d.Talk = &tt
			if edit != nil {
				edit(d)
			}
		}})
	}
	until := time.Date(2027, time.March, 31, 0, 0, 0, 0, cph)
	talk("talk-checkin", Talk{What: "checkin"}, nil)
	talk("talk-kept", Talk{What: "kept"}, nil)
	talk("talk-pause-confirm", Talk{What: "pause-confirm", Until: until}, nil)
	talk("talk-paused", Talk{What: "paused", Until: until}, func(d *Data) { d.Talk.Sessions = []Session{d.Session} })
	talk("talk-resumed", Talk{What: "resumed"}, func(d *Data) { d.Talk.Sessions = []Session{d.Session} })
	talk("talk-stop", Talk{What: "stop"}, nil)
	talk("talk-log", Talk{What: "log", Log: "# Progress log\n\n## Session 1\n\n1. What have I accomplished?\n   The draft."}, nil)
	talk("talk-move-ask", Talk{What: "move-ask", Who: Person{Name: "Bjørn Kærgård"}, Text: "Sorry, I'm at a conference; can we do Thursday?"},
		func(d *Data) { d.Recipient = d.Mentor })
	talk("talk-move-proposed", Talk{What: "move-proposed"}, nil)
	talk("talk-move-declined", Talk{What: "move-declined", Reason: "timeout"}, nil)
	talk("talk-move-question", Talk{What: "move-question", Reason: "unclear", Text: "Tuesday the 14th at 3"}, nil)
	talk("talk-admin", Talk{What: "admin", Lines: []string{"Bjørn Kærgård asked to stop taking part (pair 3).", "Nothing was cancelled."}},
		func(d *Data) { d.Recipient = Person{Email: "admin@example.dk"} })
}

// Every message to a participant says in one line what they can ask for by
// replying; the admin's do not.
func TestCanAskLine(t *testing.T) {
	s := load(t, "")
	want := map[string]string{"en": "You can reply to this email at any time", "da": "Du kan altid svare på denne mail"}
	for _, lang := range s.Languages() {
		for _, k := range Kinds {
			if k == Notice {
				continue
			}
			d := fixture(t, s, lang)
			d.Questions = s.Questions(lang, "checklist", d.Session.Kind, true)
			for _, to := range []Person{d.Mentor, d.Mentee} {
				d.Recipient = to
				r := render(t, s, k, d)
				if strings.Count(r.Text, want[lang]) != 1 || !strings.Contains(r.HTML, want[lang]) {
					t.Errorf("%s %s to %s: the text and HTML should say once what one can ask for:\n%s", lang, k, to.Name, r.Text)
				}
			}
			d.Recipient = Person{Email: "admin@example.dk"}
			if r := render(t, s, k, d); strings.Contains(r.Text, want[lang]) {
				t.Errorf("%s %s to the admin offers what only participants can ask for", lang, k)
			}
		}
	}
}

func init() {
	goldenCases = append(goldenCases, struct {
		name string
		kind Kind
		edit func(s *Set, d *Data)
	}{"talk-checkin-mentor", TalkKind, func(s *Set, d *Data) { d.Talk, d.Recipient = &Talk{What: "checkin"}, d.Mentor }})
}
