package reply

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// A case is a pair NAME.eml + NAME.expected.json, in the format of the
// public corpus (testdata/corpus/README.md), and optionally NAME.prompt.txt:
// the exact text/plain body mentord sent, given to Parse as the Prompt.
type testCase struct {
	name   string
	raw    []byte
	want   expectation
	prompt *Prompt
}

type expectation struct {
	Kind         string            `json:"kind"`
	NewText      string            `json:"new_text"`
	Answers      map[string]string `json:"answers"`
	Alternatives []string          `json:"new_text_alternatives"`
	Tied         map[string]string `json:"tied"` // our cases: how each answer is tied (Result.Ties)
	Note         string            `json:"note"`
}

var caseDirs = []string{"testdata/corpus", "testdata/cases"}

func loadCases(t testing.TB) []testCase {
	t.Helper()
	var out []testCase
	for _, dir := range caseDirs {
		emls, err := filepath.Glob(filepath.Join(dir, "*.eml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, eml := range emls {
			base := strings.TrimSuffix(eml, ".eml")
			c := testCase{name: filepath.Base(dir) + "/" + filepath.Base(base)}
			if c.raw, err = os.ReadFile(eml); err != nil {
				t.Fatal(err)
			}
			js, err := os.ReadFile(base + ".expected.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(js, &c.want); err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			if body, err := os.ReadFile(base + ".prompt.txt"); err == nil {
				c.prompt = promptFromBody(string(body))
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatal("no cases")
	}
	return out
}

var questionLine = regexp.MustCompile(`(?m)^(\d+)\. (.+)$`)

// promptFromBody builds the Prompt the daemon would pass: the body and its
// numbered question lines.
func promptFromBody(body string) *Prompt {
	p := &Prompt{Body: body}
	for _, m := range questionLine.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		p.Questions = append(p.Questions, Question{Number: n, Text: m[2]})
	}
	return p
}

// scoreNorm is score_replies.py's norm: NFC, runs of white space collapsed
// to one space, ends trimmed.
func scoreNorm(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// mismatches compares a result with the expectation as score_replies.py does.
func mismatches(want expectation, got *Result) []string {
	var why []string
	if string(got.Kind) != want.Kind {
		why = append(why, "kind "+string(got.Kind)+" != "+want.Kind)
	}
	if want.Kind != "reply" {
		if len(got.Answers) > 0 {
			why = append(why, "answers on a "+want.Kind)
		}
		return why
	}
	ok := scoreNorm(got.NewText) == scoreNorm(want.NewText)
	for _, alt := range want.Alternatives {
		ok = ok || scoreNorm(got.NewText) == scoreNorm(alt)
	}
	if !ok {
		why = append(why, "new_text differs:\n  want "+strconv.Quote(scoreNorm(want.NewText))+
			"\n  got  "+strconv.Quote(scoreNorm(got.NewText)))
	}
	for k, v := range want.Answers {
		n, _ := strconv.Atoi(k)
		if scoreNorm(got.Answers[n]) != scoreNorm(v) {
			why = append(why, "answer "+k+":\n  want "+strconv.Quote(scoreNorm(v))+"\n  got  "+strconv.Quote(scoreNorm(got.Answers[n])))
		}
	}
	var extra []string
	for n, v := range got.Answers {
		if _, ok := want.Answers[strconv.Itoa(n)]; !ok && scoreNorm(v) != "" {
			extra = append(extra, strconv.Itoa(n)+"="+strconv.Quote(v))
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		why = append(why, "spurious answers: "+strings.Join(extra, ", "))
	}
	for k, v := range want.Tied {
		n, _ := strconv.Atoi(k)
		if string(got.Ties[n]) != v {
			why = append(why, "answer "+k+" tied by "+strconv.Quote(string(got.Ties[n]))+", want "+strconv.Quote(v))
		}
	}
	return why
}

// TestCases runs every case, public and our own, and requires all to pass.
func TestCases(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.raw, Options{Prompt: c.prompt})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, why := range mismatches(c.want, got) {
				t.Error(why)
			}
		})
	}
}

// TestCasesFromHTML reads each reply's HTML body instead of its text/plain
// one: both renderings of what the client sent must say the same.
func TestCasesFromHTML(t *testing.T) {
	for _, c := range loadCases(t) {
		if c.want.Kind != "reply" || !strings.Contains(strings.ToLower(string(c.raw)), "text/html") {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			got, err := parse(c.raw, Options{Prompt: c.prompt}, true)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, why := range mismatches(c.want, got) {
				t.Error(why)
			}
		})
	}
}

// TestCasesWithoutPrompt runs the cases that have a prompt without it, as
// "mentord inspect" on a bare file does: the kind must hold and no answer
// may appear that the prompt run does not find.
func TestCasesWithoutPrompt(t *testing.T) {
	for _, c := range loadCases(t) {
		if c.prompt == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.raw, Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(got.Kind) != c.want.Kind {
				t.Errorf("kind %s, want %s", got.Kind, c.want.Kind)
			}
			for n, v := range got.Answers {
				if want, ok := c.want.Answers[strconv.Itoa(n)]; !ok || scoreNorm(want) != scoreNorm(v) {
					t.Errorf("answer %d = %q, not in the expectation", n, v)
				}
			}
		})
	}
}

// BenchmarkParse understands the public corpus's replies, one per iteration:
// typical replies (Gmail, Outlook, Apple, Thunderbird, ...) with their HTML
// alternatives, attachments, bounces and auto-replies.
func BenchmarkParse(b *testing.B) {
	var cases []testCase
	for _, c := range loadCases(b) {
		if strings.HasPrefix(c.name, "corpus/") {
			cases = append(cases, c)
		}
	}
	benchCases(b, cases)
}

// BenchmarkParseAll does the same over every test case, ours included.
func BenchmarkParseAll(b *testing.B) {
	benchCases(b, loadCases(b))
}

func benchCases(b *testing.B, cases []testCase) {
	b.ReportAllocs()
	var bytes int64
	for _, c := range cases {
		bytes += int64(len(c.raw))
	}
	b.SetBytes(bytes / int64(len(cases)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		if _, err := Parse(c.raw, Options{Prompt: c.prompt}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}

// TestLineEndingsDontMatter reads every case again with bare LF line ends, as
// a message saved by some tools arrives: nothing may change.
func TestLineEndingsDontMatter(t *testing.T) {
	for _, c := range loadCases(t) {
		want, err1 := Parse(c.raw, Options{Prompt: c.prompt})
		got, err2 := Parse([]byte(strings.ReplaceAll(string(c.raw), "\r\n", "\n")), Options{Prompt: c.prompt})
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", c.name, err1, err2)
		}
		if got.Kind != want.Kind || got.NewText != want.NewText || !reflect.DeepEqual(got.Answers, want.Answers) {
			t.Errorf("%s: with LF line ends: %s %q %v, with CRLF: %s %q %v", c.name,
				got.Kind, got.NewText, got.Answers, want.Kind, want.NewText, want.Answers)
		}
	}
}
