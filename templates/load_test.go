package templates

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// override writes files (path → content) into a fresh override directory.
func override(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, src := range files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// embeddedWith returns an embedded file with old replaced by new.
func embeddedWith(t *testing.T, p, old, new string) string {
	t.Helper()
	src, err := embedded.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s does not contain %q", p, old)
	}
	return strings.Replace(string(src), old, new, 1)
}

// The embedded templates render every kind, in every language and for every
// session kind, with every optional field filled and with none: Load leaves
// that check to this test when there are no overrides.
func TestEmbeddedTemplatesRender(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
}

func TestLanguages(t *testing.T) {
	if got := load(t, "").Languages(); !slices.Equal(got, []string{"da", "en"}) {
		t.Errorf("Languages() = %v, want [da en]", got)
	}
}

func TestOverride(t *testing.T) {
	dir := override(t, map[string]string{
		"en/checklist.txt.tmpl":   embeddedWith(t, "en/checklist.txt.tmpl", `{{define "subject"}}Plan your`, `{{define "subject"}}Prepare for your`),
		"en/questions.yaml":       embeddedWith(t, "en/questions.yaml", "What topics or issues do I want to discuss at the next session?", "Which topics shall we talk about?"),
		".checklist.txt.tmpl.swp": "editor noise, ignored",
	})
	s := load(t, dir)
	for lang, want := range map[string]string{"en": "Prepare for your mentoring session 4 of 12", "da": "Forbered din mentorsamtale 4 af 12"} {
		d := fixture(t, s, lang)
		d.Questions = s.Questions(lang, "checklist", SessionRegular, false)
		r, err := s.Render(Checklist, d)
		if err != nil {
			t.Fatalf("Render(%s) = %v", lang, err)
		}
		if !strings.HasPrefix(r.Subject, want) {
			t.Errorf("Render(%s).Subject = %q, want it to start with %q", lang, r.Subject, want)
		}
	}
	if got := s.Questions("en", "checklist", SessionRegular, false)[3].Text; got != "Which topics shall we talk about?" {
		t.Errorf("overridden question 4 = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string // in the error, after the override directory
	}{
		{"parse error", map[string]string{
			"en/invite.txt.tmpl": "{{define \"subject\"}}\n{{.Session.Number}\n{{end}}",
		}, []string{"en/invite.txt.tmpl:2:"}},
		{"missing field", map[string]string{
			"en/nudge.txt.tmpl": embeddedWith(t, "en/nudge.txt.tmpl", "{{define \"text\"}}{{template \"greeting\" .}}\n", "{{define \"text\"}}{{template \"greeting\" .}}\n{{.Recipient.Nickname}}\n"),
		}, []string{"en/nudge.txt.tmpl:4:", "Nickname"}},
		{"missing field in html", map[string]string{
			"da/brief.html.tmpl": "{{define \"html\"}}{{.Mentee.Phone}}{{end}}",
		}, []string{"da/brief.html.tmpl:1:", "Phone"}},
		{"missing define", map[string]string{
			"en/update.txt.tmpl": embeddedWith(t, "en/update.txt.tmpl", `{{define "summary"}}`, `{{define "sumary"}}`),
		}, []string{"en/update.txt.tmpl", `no {{define "summary"}}`}},
		{"unknown file", map[string]string{
			"en/chekclist.txt.tmpl": "",
		}, []string{"en/chekclist.txt.tmpl", "no such template", "checklist.txt.tmpl"}},
		{"unknown language", map[string]string{
			"dk/checklist.txt.tmpl": "",
		}, []string{"dk/checklist.txt.tmpl", "no such template"}},
		{"yaml syntax", map[string]string{
			"da/questions.yaml": "checklist:\n  planning:\n    - key: a\n     text: b\n",
		}, []string{"da/questions.yaml:2:"}},
		{"yaml unknown field", map[string]string{
			"en/questions.yaml": embeddedWith(t, "en/questions.yaml", "  - key: lessons\n", "  - key: lessons\n    txet: typo\n"),
		}, []string{"en/questions.yaml:75:", `unknown field "txet"`}},
		{"two-line question", map[string]string{
			"en/questions.yaml": embeddedWith(t, "en/questions.yaml", "text: What didn't get done?", "text: |\n        What didn't\n        get done?"),
		}, []string{"en/questions.yaml:13:", "one line"}},
		{"missing list", map[string]string{
			"da/questions.yaml": "checklist:\n  planning:\n    - {key: a, text: b}\n",
		}, []string{"da/questions.yaml: reflection is missing"}},
		{"keys differ between languages", map[string]string{
			"da/questions.yaml": embeddedWith(t, "da/questions.yaml", "key: self", "key: myself"),
		}, []string{"da/questions.yaml: reflection", "same questions"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := override(t, c.files)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load() = nil, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() = %v\nwant it to contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("Load() = %v\nwant it to name the file under %s", err, dir)
			}
		})
	}
}

func TestLoadMissingDir(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("Load(missing directory) = nil, want an error")
	}
}

// TestRenderMissingField renders a template that names a missing field in a
// branch Load's check does not reach: Render returns the error, naming the
// file and line.
func TestRenderMissingField(t *testing.T) {
	files, err := collect("")
	if err != nil {
		t.Fatal(err)
	}
	files["en/brief.txt.tmpl"] = file{name: "brief.txt.tmpl", src: []byte(`{{define "subject"}}x{{end}}
{{define "text"}}{{if eq .Mentee.Name "Nobody"}}{{.Mentee.Phone}}{{end}}x{{end}}`)}
	s, err := parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatalf("check() = %v, want nil (the branch is not taken)", err)
	}
	d := fixture(t, s, "en")
	d.Mentee.Name = "Nobody"
	_, err = s.Render(Brief, d)
	if err == nil || !strings.Contains(err.Error(), "brief.txt.tmpl:2:") || !strings.Contains(err.Error(), "Phone") {
		t.Errorf("Render() = %v, want an error naming brief.txt.tmpl:2 and Phone", err)
	}
}

func TestRenderBadInput(t *testing.T) {
	s := load(t, "")
	ok := func(t *testing.T, d *Data) {}
	for _, c := range []struct {
		name string
		kind Kind
		edit func(t *testing.T, d *Data)
		want error
	}{
		{"unknown kind", "postcard", ok, ErrKind},
		{"unknown language", Invite, func(t *testing.T, d *Data) { d.Lang = "sv" }, ErrLanguage},
		{"no language", Invite, func(t *testing.T, d *Data) { d.Lang = "" }, ErrLanguage},
		{"unknown session kind", Invite, func(t *testing.T, d *Data) { d.Session.Kind = "lunch" }, ErrData},
		{"zero start", Brief, func(t *testing.T, d *Data) { d.Session.Start = time.Time{} }, ErrData},
		{"checklist without questions", Checklist, ok, ErrData},
		{"nudge of nothing", Nudge, func(t *testing.T, d *Data) { d.Questions = []Question{{Number: 1, Text: "Q?"}} }, ErrData},
		{"two-line question", Reflection, func(t *testing.T, d *Data) { d.Questions = []Question{{Number: 1, Text: "Q?\nMore"}} }, ErrData},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := fixture(t, s, "en")
			c.edit(t, &d)
			_, err := s.Render(c.kind, d)
			if c.want == nil {
				if err != nil {
					t.Errorf("Render() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Errorf("Render() = %v, want %v", err, c.want)
			}
		})
	}
}
