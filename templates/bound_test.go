package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loopsFor is an English checklist subject that loops for good, when the
// mentee is named name, writing nothing but empty strings.
func loopsFor(t *testing.T, name string) string {
	return embeddedWith(t, "en/checklist.txt.tmpl", `{{define "subject"}}`,
		`{{define "subject"}}{{if eq .Mentee.Name "`+name+`"}}{{range 100000000000}}{{""}}{{end}}{{end}}`)
}

// within fails the test when fn does not return within limit.
func within[T any](t *testing.T, limit time.Duration, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("still running after %v", limit)
		var zero T
		return zero
	}
}

// checklistFor is the checklist data of the fixture for a mentee named name.
func checklistFor(t *testing.T, s *Set, name string) Data {
	d := fixture(t, s, "en")
	d.Mentee.Name = name
	d.Questions = s.Questions("en", "checklist", d.Session.Kind, false)
	return d
}

// eventually waits until the checklist renders again for an ordinary mentee.
func eventually(t *testing.T, s *Set) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		_, err := s.Render(Checklist, checklistFor(t, s, "Bo Jensen"))
		if err == nil {
			return
		}
		if !errors.Is(err, ErrRunaway) || time.Now().After(deadline) {
			t.Fatalf("the checklist does not render again: %v", err)
		}
	}
}

// A template that loops gives up after renderTimeout with ErrRunaway, naming
// its files, and is stopped at its next write: the template renders again
// for the next mentee.
func TestRenderIsBoundedInTime(t *testing.T) {
	s := load(t, override(t, map[string]string{"en/checklist.txt.tmpl": loopsFor(t, "Loop Forever")}))
	defer func(d time.Duration) { renderTimeout = d }(renderTimeout)
	renderTimeout = 50 * time.Millisecond
	err := within(t, time.Minute, func() error { _, err := s.Render(Checklist, checklistFor(t, s, "Loop Forever")); return err })
	if !errors.Is(err, ErrRunaway) || !strings.Contains(err.Error(), "checklist.txt.tmpl") {
		t.Fatalf("Render of a looping template = %v, want ErrRunaway naming the file", err)
	}
	eventually(t, s)
	render(t, s, Reflection, fixture(t, s, "en")) // another kind renders
}

// A loop that writes nothing cannot be stopped: while it runs, its template
// is not started again (each would take a CPU), and once it ends it renders.
func TestRunawayThatCannotBeStoppedIsNotStartedAgain(t *testing.T) {
	// About a tenth of a second of looping here: far longer than the bound.
	s := load(t, override(t, map[string]string{"en/checklist.txt.tmpl": embeddedWith(t, "en/checklist.txt.tmpl", `{{define "subject"}}`,
		`{{define "subject"}}{{if eq .Mentee.Name "Loop Silently"}}{{range 2000000}}{{end}}{{end}}`)}))
	defer func(d time.Duration) { renderTimeout = d }(renderTimeout)
	renderTimeout = 20 * time.Millisecond
	if _, err := s.Render(Checklist, checklistFor(t, s, "Loop Silently")); !errors.Is(err, ErrRunaway) {
		t.Fatalf("Render of a looping template = %v, want ErrRunaway", err)
	}
	_, err := s.Render(Checklist, checklistFor(t, s, "Bo Jensen"))
	if !errors.Is(err, ErrRunaway) || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Render while the runaway still runs = %v, want ErrRunaway at once", err)
	}
	renderTimeout = time.Minute
	eventually(t, s)
}

// A template that writes without end gives up at maxOutput.
func TestRenderIsBoundedInSize(t *testing.T) {
	s := load(t, override(t, map[string]string{"en/checklist.txt.tmpl": embeddedWith(t, "en/checklist.txt.tmpl", `{{define "text"}}`,
		`{{define "text"}}{{if eq .Mentee.Name "Write Forever"}}{{range 100000000000}}`+strings.Repeat("0123456789abcdef", 64)+`{{end}}{{end}}`)}))
	defer func(d time.Duration) { renderTimeout = d }(renderTimeout)
	renderTimeout = time.Hour // only the size can stop it
	err := within(t, time.Minute, func() error { _, err := s.Render(Checklist, checklistFor(t, s, "Write Forever")); return err })
	if !errors.Is(err, ErrRunaway) || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("Render of an endless template = %v, want ErrRunaway for its size", err)
	}
}

// Load renders every override with sample data, so an override that loops
// there is refused, in bounded time, naming its file.
func TestLoadRefusesALoopingOverride(t *testing.T) {
	defer func(d time.Duration) { loadTimeout = d }(loadTimeout)
	loadTimeout = 200 * time.Millisecond
	dir := override(t, map[string]string{"en/checklist.txt.tmpl": loopsFor(t, "Mentee Name")}) // the sample's mentee
	err := within(t, time.Minute, func() error { _, err := Load(dir); return err })
	if !errors.Is(err, ErrRunaway) || !strings.Contains(err.Error(), filepath.Join(dir, "en", "checklist.txt.tmpl")) {
		t.Errorf("Load = %v, want ErrRunaway naming the override", err)
	}
}

// An override that is not a regular file (a named pipe would hang the read)
// or is too large is refused.
func TestOverrideFilesAreRegularAndSmall(t *testing.T) {
	dir := override(t, map[string]string{"en/nudge.txt.tmpl": strings.Repeat("x", maxTemplateFile+1)})
	if err := syscall.Mkfifo(filepath.Join(dir, "en", "checklist.txt.tmpl"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := within(t, 10*time.Second, func() error { _, err := Load(dir); return err })
	if err == nil || !strings.Contains(err.Error(), "checklist.txt.tmpl: not a regular file") || !strings.Contains(err.Error(), "nudge.txt.tmpl: over") {
		t.Errorf("Load = %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
