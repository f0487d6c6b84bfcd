package templates

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// cph stands in for Europe/Copenhagen in winter, so the tests need no tzdata.
var cph = time.FixedZone("CET", 3600)

var (
	ase   = Person{Name: "Åse Østergaard", Email: "ase.ostergaard@example.dk"}
	bjorn = Person{Name: "Bjørn Kærgård-Nielsen", Email: "bjorn.kn@example.dk"}
)

// fixture is a review session (4 of 12) with every optional field filled,
// in lang, to the mentee; cases change what they need.
func fixture(t *testing.T, s *Set, lang string) Data {
	t.Helper()
	start := time.Date(2027, time.January, 12, 14, 0, 0, 0, cph)
	prev := time.Date(2027, time.January, 5, 14, 0, 0, 0, cph)
	d := Data{
		Lang:      lang,
		Mailbox:   "mentoring@example.dk",
		Recipient: bjorn,
		Mentor:    ase,
		Mentee:    bjorn,
		Session: Session{
			Number: 4, Count: 12, Kind: SessionReview,
			Start: start, End: start.Add(time.Hour), Zone: "Europe/Copenhagen", Minutes: 60,
			Location: "Aarhus Universitet, Nobelparken, bygning 1453, lokale 315 (3. sal, til venstre for elevatoren)",
		},
		Previous: &Session{
			Number: 4, Count: 12, Kind: SessionReview,
			Start: prev, End: prev.Add(time.Hour), Zone: "Europe/Copenhagen", Minutes: 60,
		},
		MentorSeesPlan: true,
		AckOf:          Checklist,
		Proposer:       ase,
		Decliner:       ase,
		Held:           Checklist,
		AdminMail:      true,
		Ref:            Ref{Pair: 3, Session: 41},
		Notice:         &AdminNotice{Title: "an address bounces", Lines: []string{"mentord stopped sending to it."}},
		Talk:           &Talk{What: "checkin"},
		Facts: &Facts{First: time.Date(2027, time.January, 12, 14, 0, 0, 0, cph), Last: time.Date(2027, time.December, 14, 14, 0, 0, 0, cph),
			Held: 11, Planned: 12, Minutes: 690, Made: time.Date(2027, time.December, 14, 18, 0, 0, 0, cph)},
	}
	proposed := Session{Number: 4, Count: 12, Kind: SessionReview, Start: start.AddDate(0, 0, 2).Add(-4 * time.Hour),
		End: start.AddDate(0, 0, 2).Add(-3 * time.Hour), Zone: "Europe/Copenhagen", Minutes: 60}
	d.Proposed = &proposed
	plan := s.Questions(lang, "checklist", SessionReview, true)
	if lang == "da" {
		d.Programme, d.Organisation = "Mentorprogrammet for forskningsledere", "Aarhus Universitet"
		d.Agreement = Agreement{
			Objectives: "Opbygge og lede min første forskningsgruppe", Cadence: "monthly",
			Location: "Nobelparken", Contact: "Korte mails, et opkald hvis noget haster",
			Progress: "Et fælles dokument, som opdateres efter hver samtale", ReviewEvery: 4, Minutes: 60,
		}
		d.Promises = []string{"Skrive udkastet til ansøgningen til Carlsbergfondet færdigt", "Tale med min institutleder om mindre undervisning i foråret"}
		d.Agenda = []Answer{
			{Number: 1, Question: plan[0].Text, Text: "Sendt ansøgningsudkastet til forskningsstøtteenheden.\nHaft samtaler med to ph.d.-kandidater."},
			{Number: 3, Question: plan[2].Text, Text: "Gruppen vokser hurtigere end forventet, og jeg er usikker på, hvordan jeg fordeler min tid mellem vejledning, undervisning og min egen forskning."},
			{Number: 7, Question: plan[6].Text, Text: "Ja, begge dele."},
		}
		return d
	}
	d.Programme, d.Organisation = "Research Leadership Mentoring", "Aarhus University"
	d.Agreement = Agreement{
		Objectives: "Build and lead my first research group", Cadence: "monthly",
		Location: "Nobelparken", Contact: "Short emails; a call if something is urgent",
		Progress: "A shared document, updated after each session", ReviewEvery: 4, Minutes: 60,
	}
	d.Promises = []string{"Finish the draft of the Carlsberg Foundation application", "Talk to my head of department about teaching less next spring"}
	d.Agenda = []Answer{
		{Number: 1, Question: plan[0].Text, Text: "Sent the application draft to the research support office.\nInterviewed two PhD candidates."},
		{Number: 3, Question: plan[2].Text, Text: "The group is growing faster than expected, and I am unsure how to divide my time between supervision, teaching and my own research."},
		{Number: 7, Question: plan[6].Text, Text: "Yes, both."},
	}
	return d
}

// goldenCases are the messages with golden files: every kind, plus the
// variants whose wording differs.
var goldenCases = []struct {
	name string
	kind Kind
	edit func(s *Set, d *Data)
}{
	{"invite", Invite, nil},
	{"invite-gap", Invite, func(s *Set, d *Data) { d.Session.Cancelled = []int{3} }},
	{"invite-gaps", Invite, func(s *Set, d *Data) { d.Recipient, d.Session.Cancelled = d.Mentor, []int{2, 3, 9} }},
	{"update", Update, func(s *Set, d *Data) { d.Recipient = d.Mentor }},
	{"update-details", Update, func(s *Set, d *Data) { d.Previous = nil }},
	{"cancel", Cancel, nil},
	{"cancel-removed", Cancel, func(s *Set, d *Data) { d.Recipient, d.Removed = d.Mentor, true }},
	{"checklist", Checklist, func(s *Set, d *Data) {
		d.Questions = s.Questions(d.Lang, "checklist", d.Session.Kind, true)
		for _, th := range s.Themes(d.Lang) {
			d.Themes = append(d.Themes, th.Text)
		}
	}},
	{"checklist-chemistry", Checklist, func(s *Set, d *Data) {
		d.Session.Number, d.Session.Kind, d.Promises = 1, SessionChemistry, nil
		d.Questions = s.Questions(d.Lang, "checklist", SessionChemistry, false)
	}},
	{"reflection", Reflection, func(s *Set, d *Data) {
		d.Questions = s.Questions(d.Lang, "reflection", d.Session.Kind, false)
	}},
	{"reflection-final", Reflection, func(s *Set, d *Data) {
		d.Session.Number, d.Session.Kind = 12, SessionFinal
		d.Questions = s.Questions(d.Lang, "reflection", SessionFinal, false)
	}},
	{"nudge", Nudge, func(s *Set, d *Data) {
		d.NudgeOf = Checklist
		d.Questions = s.Questions(d.Lang, "checklist", d.Session.Kind, true)
	}},
	{"nudge-reflection", Nudge, func(s *Set, d *Data) {
		d.NudgeOf = Reflection
		d.Questions = s.Questions(d.Lang, "reflection", d.Session.Kind, false)
	}},
	{"brief", Brief, func(s *Set, d *Data) { d.Recipient, d.Agenda = d.Mentor, briefAgenda(s, d) }},
	{"brief-chemistry", Brief, func(s *Set, d *Data) {
		d.Recipient, d.Agenda, d.Session.Kind, d.Session.Number = d.Mentor, nil, SessionChemistry, 1
	}},
	{"brief-noplan", Brief, func(s *Set, d *Data) {
		d.Recipient, d.Agenda, d.Session.Kind = d.Mentor, nil, SessionRegular
	}},
	{"brief-private", Brief, func(s *Set, d *Data) {
		d.Recipient, d.Agenda, d.MentorSeesPlan = d.Mentor, nil, false
	}},
	{"ack", Ack, nil},
	{"ack-prose", Ack, func(s *Set, d *Data) {
		d.AckOf, d.Agenda = Reflection, nil
		d.Reply = "A good session. I left with a clearer plan for the spring\nand two names to contact."
	}},
	// Prose without numbers: each answer says how it was placed, and how to
	// correct a wrong one.
	{"ack-placed", Ack, func(s *Set, d *Data) {
		agenda := append([]Answer(nil), d.Agenda...)
		agenda[1].Tied, agenda[2].Tied = TiedOrder, TiedTopic
		d.Agenda = agenda
	}},
	{"declined", Declined, func(s *Set, d *Data) { d.Comment = "Away at a conference that week, sorry." }},
	{"declined-sent", Declined, func(s *Set, d *Data) { d.HeldSent, d.AdminMail = true, false }},
	{"declined-mentee", Declined, func(s *Set, d *Data) { d.Recipient, d.Decliner, d.Held = d.Mentor, d.Mentee, Brief }},
	{"delegated", Declined, func(s *Set, d *Data) { d.Delegated = true }},
	{"declined-admin", Declined, func(s *Set, d *Data) {
		d.Recipient, d.Decliner, d.Held = Person{Email: "mentoring-admin@example.dk"}, d.Mentee, ""
		d.Comment = "Sick, sorry."
	}},
	{"delegated-admin", Declined, func(s *Set, d *Data) {
		d.Recipient, d.Delegated, d.Held = Person{Email: "mentoring-admin@example.dk"}, true, ""
	}},
	{"counter", Counter, nil},
	{"counter-mentee", Counter, func(s *Set, d *Data) { d.Recipient, d.Proposer, d.AdminMail = d.Mentor, d.Mentee, false }},
	{"counter-comment", Counter, func(s *Set, d *Data) {
		d.Comment = "Could we move it to Thursday? The faculty board meets on Tuesday\nafternoon, and <b>I chair it</b> this term."
	}},
	{"counter-admin", Counter, func(s *Set, d *Data) {
		d.Recipient = Person{Name: "", Email: "mentoring-admin@example.dk"}
		d.Ref.Move = "2027-01-14T10:00"
	}},
	{"digest", Digest, func(s *Set, d *Data) {
		d.Session.Number, d.Session.Kind = 12, SessionFinal
		first := d.Session
		first.Number, first.Kind = 1, SessionChemistry
		first.Start, first.End = first.Start.AddDate(0, -11, 0), first.End.AddDate(0, -11, 0)
		refl := s.Questions(d.Lang, "reflection", SessionRegular, false)
		d.Review = []ReviewSession{
			{Session: first, Plan: d.Agenda[:1], Reflection: []Answer{{Number: 1, Question: refl[0].Text, Text: "Talking about the group."}},
				Promises: []Promise{{Text: d.Promises[0], Status: "done"}, {Text: d.Promises[1], Status: "not_done"}}},
			{Session: d.Session},
		}
	}},
	{"record-mentor", Record, func(s *Set, d *Data) { d.Recipient = d.Mentor }},
	{"record-mentee", Record, nil},
	{"record-one", Record, func(s *Set, d *Data) {
		d.Recipient, d.Organisation = d.Mentor, ""
		d.Facts = &Facts{First: d.Facts.First, Last: d.Facts.First, Held: 1, Planned: 3, Minutes: 60, Made: d.Facts.Made}
	}},
	{"record-none", Record, func(s *Set, d *Data) { d.Facts = &Facts{Planned: 12, Made: d.Facts.Made} }},
	{"notice", Notice, func(s *Set, d *Data) {
		d.Recipient = Person{Email: "mentoring-admin@example.dk"}
		d.Notice = &AdminNotice{Title: "mail to bjorn@example.dk keeps bouncing", Lines: []string{
			"Three messages to Bjørn Kærgård-Nielsen <bjorn@example.dk> bounced within 30 days (last: 5.1.1 user unknown).",
			"mentord has stopped sending to this address. Check it with the mentee, correct it, and clear the suspension.",
		}}
	}},
}

func TestGolden(t *testing.T) {
	s := load(t, "")
	for _, lang := range s.Languages() {
		for _, c := range goldenCases {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				d := fixture(t, s, lang)
				if c.edit != nil {
					c.edit(s, &d)
				}
				r, err := s.Render(c.kind, d)
				if err != nil {
					t.Fatalf("Render(%s) = %v", c.kind, err)
				}
				base := filepath.Join("testdata", "golden", lang, c.name)
				golden(t, base+".subject", r.Subject+"\n")
				golden(t, base+".txt", r.Text)
				golden(t, base+".html", r.HTML)
				if c.kind.Document() {
					golden(t, base+".document", r.Document+"\n")
				}
				if c.kind.Calendar() {
					golden(t, base+".summary", r.Summary+"\n")
					golden(t, base+".description", r.Description)
				}
			})
		}
	}
}

// golden compares got with the file, or writes it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates/ -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./templates/ -update and review the diff):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func load(t *testing.T, dir string) *Set {
	t.Helper()
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%q) = %v", dir, err)
	}
	return s
}

// briefAgenda is what a brief carries of the mentee's plan: only the answers
// to the topics and support questions (compose.AgendaKeys).
func briefAgenda(s *Set, d *Data) []Answer {
	plan := s.Questions(d.Lang, "checklist", SessionReview, true)
	text := map[string][2]string{
		"en": {"How to divide my time between supervision, teaching and my own research.", "Tell me how you protected your research time when your group grew."},
		"da": {"Hvordan jeg fordeler min tid mellem vejledning, undervisning og min egen forskning.", "Fortæl mig, hvordan du beskyttede din forskningstid, da din gruppe voksede."},
	}[d.Lang]
	return []Answer{{Number: 4, Question: plan[3].Text, Text: text[0]}, {Number: 6, Question: plan[5].Text, Text: text[1]}}
}
