package templates

import "time"

// Issue 14's messages get golden files in both languages: the match check
// and its answers, the agreement both confirm, and the mentor's own
// reflection and final evaluation.
func init() {
	add := func(name string, kind Kind, edit func(s *Set, d *Data)) {
		goldenCases = append(goldenCases, struct {
			name string
			kind Kind
			edit func(s *Set, d *Data)
		}{name, kind, edit})
	}
	talk := func(name string, t Talk, edit func(d *Data)) {
		add(name, TalkKind, func(s *Set, d *Data) {
			tt := t
			d.Talk = &tt
			if edit != nil {
				edit(d)
			}
		})
	}
	chemistry := func(d *Data) { d.Session.Number, d.Session.Kind, d.Promises = 1, SessionChemistry, nil }
	toMentor := func(d *Data) { d.Recipient = d.Mentor }

	// The match check: asked after the chemistry meeting, again after the
	// next session when the answer was "not sure yet", and the replies.
	talk("talk-match-ask", Talk{What: "match-ask"}, chemistry)
	talk("talk-match-ask-mentor", Talk{What: "match-ask"}, func(d *Data) { chemistry(d); toMentor(d) })
	talk("talk-match-ask-again", Talk{What: "match-ask"}, func(d *Data) { d.Session.Number, d.Session.Kind = 2, SessionRegular })
	talk("talk-match-thanks", Talk{What: "match-thanks"}, toMentor)
	talk("talk-match-unsure", Talk{What: "match-unsure"}, nil)
	talk("talk-match-unclear", Talk{What: "match-unclear"}, nil)
	// A "no" from either: both told kindly, the sessions to come cancelled.
	talk("talk-match-paused", Talk{What: "match-paused"}, func(d *Data) {
		later := d.Session
		later.Number, later.Start, later.End = 5, later.Start.AddDate(0, 1, 0), later.End.AddDate(0, 1, 0)
		d.Talk.Sessions = []Session{d.Session, later}
	})
	talk("talk-match-paused-none", Talk{What: "match-paused"}, toMentor)
	// The admin hears at once (the lines are written by converse.matchNo).
	add("notice-match-no", Notice, func(s *Set, d *Data) {
		d.Recipient = Person{Email: "mentoring-admin@example.dk"}
		d.Notice = &AdminNotice{Title: "pair 3: not the right match, paused", Lines: []string{
			`Åse Østergaard (mentor of pair 3, with Bjørn Kærgård-Nielsen) answered no to "Are we the right match?".`,
			"The pair is paused until 2028-01-11: 11 sessions to come were cancelled, and nothing more is sent to them. Both were told that the programme team will be in touch, not who answered what.",
			"See their answers with `mentord pair show 3`, then `mentord pair resume 3` to go on, `mentord pair replace-mentor 3 ...` or `mentord pair end 3`.",
		}}
	})

	// The agreement: the draft to each, a new version after a change, and
	// the answers to a confirmation.
	talk("talk-agreement", Talk{What: "agreement", Version: 1}, chemistry)
	talk("talk-agreement-mentor", Talk{What: "agreement", Version: 1}, func(d *Data) { chemistry(d); toMentor(d) })
	talk("talk-agreement-version", Talk{What: "agreement", Version: 2, Changed: []string{"location", "cadence"},
		Who: Person{Name: "Åse Østergaard"}}, func(d *Data) {
		d.Agreement.Location, d.Agreement.Cadence = "Lokale 5.01", "fortnightly"
	})
	talk("talk-agreement-confirmed", Talk{What: "agreement-confirmed", Version: 2}, nil)
	talk("talk-agreement-agreed", Talk{What: "agreement-agreed", Version: 2}, func(d *Data) {
		next := d.Session
		next.Location = "Lokale 5.01"
		d.Agreement.Location, d.Talk.Sessions = "Lokale 5.01", []Session{next}
	})
	talk("talk-agreement-agreed-same", Talk{What: "agreement-agreed", Version: 1}, toMentor)
	talk("talk-agreement-unclear", Talk{What: "agreement-unclear", Version: 1, Reason: "agreement-format"}, nil)
	talk("talk-agreement-old", Talk{What: "agreement-unclear", Version: 2, Reason: "agreement-old"}, toMentor)

	// The mentor's own reflection after a session, and at the final session
	// with the mentor's evaluation of the programme.
	add("reflection-mentor", Reflection, func(s *Set, d *Data) {
		d.Recipient = d.Mentor
		d.Questions = s.Questions(d.Lang, MentorReflection, d.Session.Kind, false)
	})
	add("reflection-mentor-final", Reflection, func(s *Set, d *Data) {
		d.Recipient = d.Mentor
		d.Session.Number, d.Session.Kind = 12, SessionFinal
		d.Session.Start = time.Date(2027, time.December, 13, 14, 0, 0, 0, cph)
		d.Session.End = d.Session.Start.Add(time.Hour)
		d.Questions = s.Questions(d.Lang, MentorReflection, SessionFinal, false)
	})
}
