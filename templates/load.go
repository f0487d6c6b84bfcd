package templates

import (
	"embed"
	"errors"
	"fmt"
	htemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	ttemplate "text/template"
	"time"
)

// embedded holds the default wording: one directory per language and shared/
// for what every language uses.
//
//go:embed shared en da
var embedded embed.FS

// Set is every language's parsed templates and questions. It is read-only
// after Load and safe for concurrent use; a reload loads a new Set.
type Set struct {
	langs map[string]*language
	// runaway holds the *kindTemplates whose rendering ran past its
	// deadline and still runs (Render).
	runaway sync.Map
}

type language struct {
	loc       *locale
	questions *catalogue
	kinds     map[Kind]*kindTemplates
}

type kindTemplates struct {
	text  *ttemplate.Template // defines subject, text and, for calendar kinds, summary and description
	html  *htemplate.Template // defines html
	files []string            // where they were read from, for errors
}

// file is one template or data file; name is how errors call it.
type file struct {
	name string
	src  []byte
}

// Load parses the embedded templates, each replaced by the file at the same
// path under overrideDir when there is one ("" means embedded only). With
// overrides it renders every kind once with sample data, so that a mistake
// in one fails here rather than at a send. Errors name the file and line.
//
// The embedded set alone is not rendered: TestEmbeddedTemplatesRender does
// that for every build, and the check costs 150 ms of CPU (3 s under the
// race detector) on every start and every command that loads templates.
func Load(overrideDir string) (*Set, error) {
	files, err := collect(overrideDir)
	if files == nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	s, perr := parse(files) // report unknown override files and parse errors together
	if err = errors.Join(err, perr); err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	if overrideDir == "" {
		return s, nil
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	return s, nil
}

// Languages lists the languages the Set can render, sorted.
func (s *Set) Languages() []string {
	langs := make([]string, 0, len(s.langs))
	for l := range s.langs {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	return langs
}

// Questions returns the numbered questions of a checklist or reflection
// (purpose "checklist" or "reflection") for a session kind (chemistry,
// regular, review, final), numbered from 1. withPromises adds the question
// about last time's promises to a checklist (never to a chemistry one). An
// unknown language, purpose or session kind gives nil. The slice is the
// caller's own.
func (s *Set) Questions(lang, purpose, sessionKind string, withPromises bool) []Question {
	l, ok := s.langs[lang]
	if !ok {
		return nil
	}
	return l.questions.questions(purpose, sessionKind, withPromises)
}

// Themes returns the guide's themes in lang (nil for an unknown language or
// a catalogue without themes). The slice is the caller's own.
func (s *Set) Themes(lang string) []Theme {
	l, ok := s.langs[lang]
	if !ok {
		return nil
	}
	out := make([]Theme, len(l.questions.Themes))
	for i, t := range l.questions.Themes {
		out[i] = Theme{Key: t.Key, Text: t.Text, Words: slices.Clone(t.Words)}
	}
	return out
}

// collect reads the embedded files and lays the override directory over them.
// An override file with no embedded counterpart is an error, so a misspelt
// name cannot be silently ignored; dot files (editor swap files) are skipped.
func collect(overrideDir string) (map[string]file, error) {
	files := map[string]file{}
	err := fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := embedded.ReadFile(p)
		files[p] = file{name: "templates/" + p, src: src}
		return err
	})
	if err != nil || overrideDir == "" {
		return files, err
	}
	if fi, err := os.Stat(overrideDir); err != nil {
		return nil, fmt.Errorf("override directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("override directory %s is not a directory", overrideDir)
	}
	var errs []error
	err = fs.WalkDir(os.DirFS(overrideDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		name := filepath.Join(overrideDir, filepath.FromSlash(p))
		if _, ok := files[p]; !ok {
			errs = append(errs, fmt.Errorf("%s: no such template to override (%s)", name, hint(files, p)))
			return nil
		}
		src, err := readOverride(name)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		files[p] = file{name: name, src: src}
		return nil
	})
	return files, errors.Join(append(errs, err)...)
}

// maxTemplateFile bounds an override file: the largest embedded one is a few KiB.
const maxTemplateFile = 1 << 20

// readOverride reads an override file, which must be a regular file of at
// most maxTemplateFile bytes: a named pipe or a device there would hang
// check-config, start-up and reload on the read.
func readOverride(name string) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a pipe opens at once, to be refused
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, fi.Mode().Type())
	}
	src, err := io.ReadAll(io.LimitReader(f, maxTemplateFile+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxTemplateFile {
		return nil, fmt.Errorf("%s: over %d KiB, more than any template needs", name, maxTemplateFile>>10)
	}
	return src, nil
}

// hint suggests what an unknown override path may have meant.
func hint(files map[string]file, p string) string {
	var near []string
	for q := range files {
		if path.Dir(q) == path.Dir(p) {
			near = append(near, path.Base(q))
		}
	}
	if len(near) == 0 {
		return "directories: shared, " + strings.Join(languagesIn(files), ", ")
	}
	sort.Strings(near)
	return "files here: " + strings.Join(near, ", ")
}

// parse builds the Set from the files, collecting every error.
func parse(files map[string]file) (*Set, error) {
	s := &Set{langs: map[string]*language{}}
	var errs []error
	for _, lang := range languagesIn(files) {
		l, err := parseLanguage(lang, files)
		errs = append(errs, err)
		if err == nil {
			s.langs[lang] = l
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ref := "en"
	if _, ok := s.langs[ref]; !ok {
		ref = s.Languages()[0]
	}
	for _, lang := range s.Languages() {
		if lang != ref {
			q := path.Join(lang, "questions.yaml")
			errs = append(errs, s.langs[lang].questions.sameKeys(files[q].name, files[path.Join(ref, "questions.yaml")].name, s.langs[ref].questions))
		}
	}
	return s, errors.Join(errs...)
}

func languagesIn(files map[string]file) []string {
	var langs []string
	for p := range files {
		if dir, _, ok := strings.Cut(p, "/"); ok && dir != "shared" && !slices.Contains(langs, dir) {
			langs = append(langs, dir)
		}
	}
	sort.Strings(langs)
	return langs
}

// parseLanguage parses one language: its questions, its partials over the
// shared ones, and each kind's text and HTML file over those.
func parseLanguage(lang string, files map[string]file) (*language, error) {
	loc, ok := locales[lang]
	if !ok {
		return nil, fmt.Errorf("templates/%s: no date and time names for language %q in funcs.go", lang, lang)
	}
	get := func(p string) (file, error) {
		f, ok := files[p]
		if !ok {
			return f, fmt.Errorf("templates/%s: missing", p)
		}
		return f, nil
	}
	l := &language{loc: loc, kinds: map[Kind]*kindTemplates{}}
	var errs []error
	if f, err := get(lang + "/questions.yaml"); err != nil {
		errs = append(errs, err)
	} else if l.questions, err = parseCatalogue(f.name, f.src); err != nil {
		errs = append(errs, err)
	}

	text := ttemplate.New(lang).Funcs(loc.funcs()).Option("missingkey=error")
	html := htemplate.New(lang).Funcs(loc.funcs()).Option("missingkey=error")
	for _, p := range []string{"shared/partials", lang + "/partials", lang + "/requests"} {
		if f, err := get(p + ".txt.tmpl"); err != nil {
			errs = append(errs, err)
		} else if _, err := text.New(f.name).Parse(string(f.src)); err != nil {
			errs = append(errs, err)
		}
		if f, err := get(p + ".html.tmpl"); err != nil {
			errs = append(errs, err)
		} else if _, err := html.New(f.name).Parse(string(f.src)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, k := range Kinds {
		kt, err := parseKind(lang, k, text, html, get)
		errs = append(errs, err)
		l.kinds[k] = kt
	}
	return l, errors.Join(errs...)
}

// parseKind parses one kind's pair of files over clones of the partials and
// checks that they define what Render executes.
func parseKind(lang string, k Kind, text *ttemplate.Template, html *htemplate.Template, get func(string) (file, error)) (*kindTemplates, error) {
	kt := &kindTemplates{}
	var errs []error
	tf, err := get(path.Join(lang, string(k)+".txt.tmpl"))
	kt.files = append(kt.files, tf.name)
	if err == nil {
		kt.text = ttemplate.Must(text.Clone())
		_, err = kt.text.New(tf.name).Parse(string(tf.src))
	}
	if err == nil {
		want := []string{"subject", "text"}
		if k.Calendar() {
			want = append(want, "summary", "description")
		}
		if k.Document() {
			want = append(want, "document")
		}
		for _, name := range want {
			if kt.text.Lookup(name) == nil {
				errs = append(errs, fmt.Errorf("%s: no {{define %q}}", tf.name, name))
			}
		}
	}
	errs = append(errs, err)

	hf, err := get(path.Join(lang, string(k)+".html.tmpl"))
	kt.files = append(kt.files, hf.name)
	if err == nil {
		kt.html = htemplate.Must(html.Clone())
		_, err = kt.html.New(hf.name).Parse(string(hf.src))
	}
	if err == nil && kt.html.Lookup("html") == nil {
		err = fmt.Errorf("%s: no {{define \"html\"}}", hf.name)
	}
	errs = append(errs, err)
	return kt, errors.Join(errs...)
}

// check renders every kind in every language for every session kind, once
// with every optional field filled and once with them all empty, so that a
// template naming a missing field, or one that html/template cannot escape,
// fails at Load instead of at the first send. It reports the first failure of
// each kind and language.
func (s *Set) check() error {
	var errs []error
	for _, lang := range s.Languages() {
		failed := map[Kind]bool{}
		for _, sk := range SessionKinds {
			for _, full := range []bool{true, false} {
				for _, k := range Kinds {
					if failed[k] {
						continue
					}
					if _, err := s.renderWithin(k, s.sample(lang, k, sk, full), loadTimeout); err != nil {
						failed[k] = true
						errs = append(errs, err)
					}
				}
			}
		}
	}
	return errors.Join(append(errs, s.checkTalk())...)
}

// sample is made-up data for check: full fills every optional field
// (promises, agenda, previous time, agreement) and writes to the mentee;
// otherwise they are empty and the message goes to the mentor.
func (s *Set) sample(lang string, k Kind, sessionKind string, full bool) Data {
	start := time.Date(2027, time.January, 12, 14, 0, 0, 0, time.UTC)
	mentor := Person{Name: "Mentor Name", Email: "mentor@example.org"}
	mentee := Person{Name: "Mentee Name", Email: "mentee@example.org"}
	d := Data{
		Lang:         lang,
		Programme:    "Programme",
		Organisation: "Organisation",
		Mailbox:      "mentoring@example.org",
		Recipient:    mentor,
		Mentor:       mentor,
		Mentee:       mentee,
		Session: Session{
			Number: 2, Count: 12, Kind: sessionKind,
			Start: start, End: start.Add(time.Hour), Zone: "UTC", Minutes: 60,
		},
		NudgeOf: Reflection,
		AckOf:   Reflection,
		Facts: &Facts{First: start, Last: start.AddDate(1, 0, 0), Held: 11, Planned: 12, Minutes: 660,
			Made: start.AddDate(1, 0, 1)},
		Reply:  "What the mentee wrote.",
		Notice: &AdminNotice{Title: "Title", Lines: []string{"What happened.", "What to do."}},
		Talk:   sampleTalk(start),
	}
	proposed := d.Session
	proposed.Start, proposed.End = start.AddDate(0, 0, 2), start.AddDate(0, 0, 2).Add(time.Hour)
	d.Proposed = &proposed
	d.Proposer, d.Decliner = mentee, mentee
	d.Ref = Ref{Pair: 1, Session: 2}
	if full {
		d.Proposer, d.Decliner = mentor, mentor
		d.Session.Cancelled = []int{1, 3}
		d.Delegated, d.Held, d.HeldSent, d.AdminMail, d.Removed = true, Checklist, true, true, true
		d.Recipient = mentee
		d.Session.Location = "Room 1"
		d.Agreement = Agreement{
			Objectives: "Objectives", Cadence: "monthly", Location: "Room 1",
			Contact: "email", Progress: "a notebook", ReviewEvery: 4, Minutes: 60,
		}
		d.Promises = []string{"A promise"}
		d.Themes = []string{"A theme", "Another theme"}
		d.Agenda = []Answer{{Number: 1, Question: "A question?", Text: "An answer"},
			{Number: 2, Question: "Another question?", Text: "A paragraph without a number", Tied: TiedOrder},
			{Number: 3, Question: "A third question?", Text: "A paragraph on its topic", Tied: TiedTopic}}
		prev := d.Session
		prev.Start, prev.End = start.AddDate(0, 0, -7), start.AddDate(0, 0, -7).Add(time.Hour)
		d.Previous = &prev
		d.NudgeOf = Checklist
		d.MentorSeesPlan = true
		d.AckOf = Checklist
		d.Comment = "Sorry, I am travelling that week."
		d.Review = []ReviewSession{{Session: d.Session, Plan: d.Agenda, Reflection: d.Agenda,
			Promises: []Promise{{Text: "A promise", Status: "done"}, {Text: "Another", Status: "open"}}}, {Session: d.Session}}
	}
	switch {
	case k == Checklist || (k == Nudge && d.NudgeOf == Checklist):
		d.Questions = s.Questions(lang, string(Checklist), sessionKind, full)
	case k == Reflection || k == Nudge:
		d.Questions = s.Questions(lang, string(Reflection), sessionKind, false)
	}
	return d
}
