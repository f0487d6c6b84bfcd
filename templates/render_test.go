package templates

import (
	"strconv"
	"strings"
	"testing"
)

// render renders kind k from the fixture with the questions it needs.
func render(t *testing.T, s *Set, k Kind, d Data) Rendered {
	t.Helper()
	switch k {
	case Checklist, Nudge:
		d.NudgeOf = Checklist
		d.Questions = s.Questions(d.Lang, "checklist", d.Session.Kind, len(d.Promises) > 0)
	case Reflection:
		d.Questions = s.Questions(d.Lang, "reflection", d.Session.Kind, false)
	}
	r, err := s.Render(k, d)
	if err != nil {
		t.Fatalf("Render(%s, %s) = %v", k, d.Lang, err)
	}
	return r
}

func TestEscaping(t *testing.T) {
	s := load(t, "")
	for _, lang := range s.Languages() {
		for _, k := range Kinds {
			if k == Notice {
				continue // written by mentord itself, naming no one's input; see TestNoticeEscaping
			}
			d := fixture(t, s, lang)
			d.Mentor.Name = "<script>alert(1)</script>"
			d.Mentee.Name = `"Bo" & co`
			d.Session.Location = `https://meet.example.org/j/1?pwd=a&x="><img src=x>`
			d.Promises[0] = "<b>bold</b> promise"
			d.Agenda[0].Text = "</p><h1>answer</h1>"
			for _, recipient := range []Person{d.Mentor, d.Mentee} {
				d.Recipient = recipient
				r := render(t, s, k, d)
				for _, bad := range []string{"<script>", "<b>", "<h1>", "<img", `"Bo"`} {
					if strings.Contains(r.HTML, bad) {
						t.Errorf("%s %s HTML contains %q unescaped:\n%s", lang, k, bad, r.HTML)
					}
				}
				if !strings.Contains(r.HTML, "&lt;script&gt;") && !strings.Contains(r.HTML, "&#34;Bo&#34; &amp; co") {
					t.Errorf("%s %s HTML names neither person, escaped:\n%s", lang, k, r.HTML)
				}
				if !strings.Contains(r.Text, "<script>") && !strings.Contains(r.Text, `"Bo" & co`) {
					t.Errorf("%s %s text should carry names as written:\n%s", lang, k, r.Text)
				}
			}
		}
	}
}

func TestOneLineHeaders(t *testing.T) {
	s := load(t, "")
	for _, lang := range s.Languages() {
		for _, k := range Kinds {
			d := fixture(t, s, lang)
			d.Mentor.Name = "Åse\r\nBcc: victim@example.org"
			d.Mentee.Name = "Bjørn\n\n  Kærgård\t"
			d.Programme = "Mentoring\r\n"
			r := render(t, s, k, d)
			for field, v := range map[string]string{"Subject": r.Subject, "Summary": r.Summary} {
				if strings.ContainsAny(v, "\r\n\t") || strings.Contains(v, "  ") {
					t.Errorf("%s %s %s = %q, want one line with single spaces", lang, k, field, v)
				}
			}
			if strings.Contains(r.Text, "\r") || strings.Contains(r.HTML, "\r") {
				t.Errorf("%s %s body has a CR", lang, k)
			}
		}
	}
}

func TestTidy(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"\n\n  \n", ""},
		{"\n\na  \r\n\r\n\r\n\nb\t\n\n", "a\n\nb\n"},
		{"a\n-- \nfooter", "a\n-- \nfooter\n"},
		{"a\r\rb", "a\n\nb\n"},
	} {
		if got := tidy(c.in); got != c.want {
			t.Errorf("tidy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	words := func(n int) string { return strings.TrimSpace(strings.Repeat("word ", n)) }
	q := "What problems, challenges and opportunities do I face when the question is very long?"
	for _, c := range []struct {
		name, in, want string
		keep           []string
	}{
		{"short", "a b c\n", "a b c\n", nil},
		{"prose", words(20) + "\n", words(14) + "\n" + words(6) + "\n", nil},
		{"bullet hangs", "- " + words(20), "- " + words(14) + "\n  " + words(6), nil},
		{"label hangs", "Where: " + words(20), "Where: " + words(13) + "\n       " + words(7), nil},
		{"two-word label, spacing kept", "New time:      " + words(15), "New time:      " + words(11) + "\n               " + words(4), nil},
		{"indent kept", "   " + words(20), "   " + words(14) + "\n   " + words(6), nil},
		{"prose is no label", "A friendly reminder: " + words(14), "A friendly reminder: " + words(10) + "\n" + words(4), nil},
		{"link stays by its label", "Where: https://" + strings.Repeat("x", 80), "Where: https://" + strings.Repeat("x", 80), nil},
		{"question kept", "3. " + q, "3. " + q, []string{q}},
		{"long word", "see " + strings.Repeat("x", 80) + " now", "see\n" + strings.Repeat("x", 80) + "\nnow", nil},
		{"no line starts with a number", strings.Repeat("a", 66) + " room 3. floor", strings.Repeat("a", 66) + "\nroom 3. floor", nil},
		{"nor with Q2", strings.Repeat("a", 68) + " see Q2 below", strings.Repeat("a", 68) + "\nsee Q2 below", nil},
	} {
		if got := wrap(c.in, c.keep); got != c.want {
			t.Errorf("%s: wrap() =\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

// TestTextShape checks what the reply parser relies on in every text body:
// each question on its own line as "N. text", an empty line under it, and
// other lines within 78 columns.
func TestTextShape(t *testing.T) {
	s := load(t, "")
	for _, lang := range s.Languages() {
		for _, c := range goldenCases {
			d := fixture(t, s, lang)
			if c.edit != nil {
				c.edit(s, &d)
			}
			r, err := s.Render(c.kind, d)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(r.Text, "\n")
			for _, q := range d.Questions {
				i := indexOf(lines, strconv.Itoa(q.Number)+". "+q.Text)
				if i < 0 || i+1 >= len(lines) || lines[i+1] != "" {
					t.Errorf("%s %s: question %d is not a line of its own with an empty line under it:\n%s", lang, c.name, q.Number, r.Text)
				}
			}
			for _, l := range lines {
				if n := len([]rune(l)); n > 78 && indexOf(keepLines(d), strings.TrimLeft(l, "0123456789. ")) < 0 {
					t.Errorf("%s %s: line of %d columns: %q", lang, c.name, n, l)
				}
			}
		}
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderChecklist(b *testing.B) {
	s, err := Load("")
	if err != nil {
		b.Fatal(err)
	}
	d := s.sample("da", Checklist, SessionReview, true)
	for b.Loop() {
		if _, err := s.Render(Checklist, d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNoticeEscaping(t *testing.T) {
	s := load(t, "")
	d := fixture(t, s, "en")
	d.Notice = &AdminNotice{Title: "mail to <x@example.org>\r\nBcc: y", Lines: []string{"<script>alert(1)</script> bounced"}}
	r := render(t, s, Notice, d)
	if strings.Contains(r.HTML, "<script>") || strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("notice not escaped: %q\n%s", r.Subject, r.HTML)
	}
}

// How often a pair meets is written in the reader's language, from the
// canonical form the roster stores; free text stays as it was written.
func TestCadenceWords(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{"en", "monthly", "monthly"},
		{"en", "fortnightly", "every two weeks"},
		{"en", "6w", "every 6 weeks"},
		{"en", "2m", "every 2 months"},
		{"en", "10d", "every 10 days"},
		{"da", "monthly", "en gang om måneden"},
		{"da", "weekly", "hver uge"},
		{"da", "3w", "hver 3. uge"},
		{"da", "quarterly", "hvert kvartal"},
		{"da", "Hver anden tirsdag", "Hver anden tirsdag"},
		{"en", "0w", "0w"},
		{"en", "w", "w"},
	} {
		if got := locales[c.lang].cadence(c.in); got != c.want {
			t.Errorf("%s cadence(%q) = %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
