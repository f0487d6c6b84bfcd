package calendar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The calendar objects must be read the same way by parsers nobody here
// wrote: Debian's python3-icalendar and Mozilla's ical.js (Thunderbird).
// Each test sends every sample to one process. A missing parser fails the
// test with the command that installs it.

const (
	pythonBin     = "/usr/bin/python3" // Debian packages live in the system interpreter
	installPython = "install it with: apt-get install -y python3-icalendar"
	installICALJS = "install it with: npm ci --prefix calendar/testdata " +
		"(node and npm from: apt-get install -y nodejs npm)"
)

type externalSample struct {
	Name   string `json:"name"`
	ICS    string `json:"ics"`
	method string
	event  Event
}

// externalSamples are the golden samples plus generated events whose texts
// and names mix TEXT specials, line breaks, Danish, CJK, emoji and RFC 6868
// carets.
func externalSamples(t *testing.T) []externalSample {
	t.Helper()
	var out []externalSample
	add := func(name, method string, e Event) {
		s := sample{name, method, e}
		b, err := s.build()
		if err != nil {
			t.Fatalf("%s: %s() error = %v", name, method, err)
		}
		out = append(out, externalSample{Name: name, ICS: string(b), method: method, event: e})
	}
	for _, s := range samples() {
		add(s.name, s.method, s.event)
	}
	rng := rand.New(rand.NewPCG(5545, 5546))
	textPieces := []string{"a", "Z", " ", ",", ";", ":", "\\", "\n", "\r\n", "\t", `"`, "'", "^",
		"æ", "ø", "Å", "日", "本", "語", "🎉", "👩🏽‍🏫", "🇩🇰", "e\u0301", "\u00a0", "mentor ", "n"}
	namePieces := []string{"a", "Z", " ", ",", ";", ":", `"`, "'", "^", "n", "æ", "Ø", "日", "🌻", "\\"}
	gen := func(pieces []string, n int) string {
		var sb strings.Builder
		for range rng.IntN(n) + 1 {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	for i := range 40 {
		e := with(func(e *Event) {
			e.Sequence = i
			e.Start = e.Start.Add(time.Duration(i) * 24 * time.Hour)
			e.End = e.Start.Add(time.Duration(rng.IntN(180)+15) * time.Minute)
			e.Summary = "x" + gen(textPieces, 60)
			e.Description = gen(textPieces, 300)
			e.Location = gen(textPieces, 40)
			e.Organizer.Name = gen(namePieces, 30)
			for j := range e.Attendees {
				e.Attendees[j].Name = gen(namePieces, 30)
				e.Attendees[j].Partstat = []string{"", PartstatAccepted, PartstatTentative, PartstatDeclined}[rng.IntN(4)]
			}
		})
		method := MethodRequest
		if i%4 == 3 {
			method = MethodCancel
		}
		add(fmt.Sprintf("generated-%02d", i), method, e)
	}
	return out
}

// runParser runs one parser process over all samples and returns its
// reading of each, in order.
func runParser(t *testing.T, samples []externalSample, install, name string, args ...string) []parsed {
	t.Helper()
	in, err := json.Marshal(samples)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit), err != nil && exit.ExitCode() == 3:
		t.Fatalf("%s %s: parser missing: %v\n%s\n%s", name, strings.Join(args, " "), err, stderr.Bytes(), install)
	case err != nil:
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	var got []parsed
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%s: bad output: %v\n%s\n%s", name, err, stdout.Bytes(), stderr.Bytes())
	}
	if len(got) != len(samples) {
		t.Fatalf("%s read %d objects, want %d", name, len(got), len(samples))
	}
	if len(got) > 0 {
		t.Logf("%s read %d objects in %v", got[0].Parser, len(got), time.Since(start).Round(time.Millisecond))
	}
	for i, s := range samples {
		p := got[i]
		if p.Name != s.Name || p.Error != "" {
			t.Errorf("%s: %s could not read it: name %q, error %s\n%s", s.Name, p.Parser, p.Name, p.Error, s.ICS)
			got[i] = parsed{Name: s.Name}
		}
	}
	return got
}

func checkExternal(t *testing.T, samples []externalSample, got []parsed, quirk func(field, got, want string) bool) {
	t.Helper()
	for i, s := range samples {
		for _, d := range diff(got[i], expect(s.method, s.event), quirk) {
			t.Errorf("%s: %s read %s", s.Name, got[i].Parser, d)
		}
	}
}

func TestExternalPythonIcalendar(t *testing.T) {
	samples := externalSamples(t)
	got := runParser(t, samples, installPython, pythonBin, "testdata/parse_icalendar.py")
	var quirk func(field, got, want string) bool
	if len(got) > 0 && strings.HasPrefix(got[0].Parser, "python3-icalendar 4.") {
		// icalendar 4.x (Debian 12) unescapes by chained replacements, so
		// the escaped backslash in "\\n" is read as the start of "\n".
		// The object is right (ical.js and go-ical read it exactly): a text
		// field is excused only when 4.x read exactly what that bug makes
		// of the expected value.
		excused := 0
		quirk = func(field, got, want string) bool {
			text := field == "summary" || field == "description" || field == "location"
			if text && got == icalendar4Text(want) {
				excused++
				return true
			}
			return false
		}
		defer func() { t.Logf("excused %d text fields misread by icalendar 4.x", excused) }()
	}
	checkExternal(t, samples, got, quirk)
}

// icalendar4Text is what python-icalendar 4.x reads for a TEXT value want
// written by go-ical: Contentline.parts() swaps escapes for %XX codes and
// back, then vText.from_ical() runs unescape_char(), each a chain of
// str.replace calls (icalendar/parser.py).
func icalendar4Text(want string) string {
	v := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(want)
	for _, r := range [][2]string{
		{`\,`, "%2C"}, {`\:`, "%3A"}, {`\;`, "%3B"}, {`\\`, "%5C"},
		{"%2C", ","}, {"%3A", ":"}, {"%3B", ";"}, {"%5C", `\`},
		{`\N`, `\n`}, {"\r\n", "\n"}, {`\n`, "\n"}, {`\,`, ","}, {`\;`, ";"}, {`\\`, `\`},
	} {
		v = strings.ReplaceAll(v, r[0], r[1])
	}
	return v
}

func TestExternalICalJS(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found: %v\n%s", err, installICALJS)
	}
	samples := externalSamples(t)
	checkExternal(t, samples, runParser(t, samples, installICALJS, "node", "testdata/parse_icaljs.mjs"), nil)
}
