package templates

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// MentorReflection is the purpose Questions takes for the mentor's own
// reflection: the reflection's questions but its one-line evaluation, and
// at the final session the programme evaluation in a mentor's words.
const MentorReflection = "mentor-reflection"

// catalogue is one language's questions, as written in its questions.yaml.
type catalogue struct {
	Checklist struct {
		Planning  []entry `yaml:"planning"`  // before every session but the first
		Promises  *entry  `yaml:"promises"`  // added when the mentee promised something last time
		Chemistry []entry `yaml:"chemistry"` // before the first session, instead of planning
		Review    []entry `yaml:"review"`    // added before a review session
		Final     []entry `yaml:"final"`     // added before the final session
	} `yaml:"checklist"`
	Reflection []entry `yaml:"reflection"` // after every session
	// Mentor holds what only the mentor is asked: at the final session, the
	// programme evaluation in a mentor's words (after the reflection's
	// questions but its one-line evaluation).
	Mentor struct {
		Final []entry `yaml:"final"`
	} `yaml:"mentor"`
	// Themes are the guide's themes, offered under the planning checklist's
	// questions as prompts for the topics question, and counted (never
	// quoted) in the report: a topics answer counts for a theme when it
	// holds one of the theme's words.
	Themes []Theme `yaml:"themes"`
}

// Theme is one of the guide's themes: how the checklist names it, and the
// words (lower case, matched at the start of a word of the answer) that
// count a topics answer for it in the report.
type Theme struct {
	Key   string   `yaml:"key" json:"key"`
	Text  string   `yaml:"text" json:"text"`
	Words []string `yaml:"words" json:"-"`
}

// entry is one question in the catalogue, with the line it is on.
type entry struct {
	Key, Text string
	line      int
}

// UnmarshalYAML reads {key, text}, refusing other fields.
func (e *entry) UnmarshalYAML(n *yaml.Node) error {
	e.line = n.Line
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a question is a mapping with key: and text:", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "key":
			e.Key = strings.TrimSpace(v.Value)
		case "text":
			e.Text = strings.TrimSpace(v.Value)
		default:
			return fmt.Errorf("line %d: unknown field %q in a question (want key, text)", k.Line, k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a string", v.Line, k.Value)
		}
	}
	return nil
}

// questions composes the numbered list for a purpose and session kind; nil
// when the combination is unknown.
func (c *catalogue) questions(purpose, sessionKind string, withPromises bool) []Question {
	var parts [][]entry
	switch {
	case purpose == string(Reflection) && slices.Contains(SessionKinds, sessionKind):
		parts = [][]entry{c.Reflection}
	case purpose == MentorReflection && slices.Contains(SessionKinds, sessionKind):
		var own []entry
		for _, e := range c.Reflection {
			if e.Key != "evaluation" {
				own = append(own, e)
			}
		}
		parts = [][]entry{own}
		if sessionKind == SessionFinal {
			parts = append(parts, c.Mentor.Final)
		}
	case purpose != string(Checklist):
		return nil
	case sessionKind == SessionChemistry:
		parts = [][]entry{c.Checklist.Chemistry}
	case sessionKind == SessionRegular, sessionKind == SessionReview, sessionKind == SessionFinal:
		parts = [][]entry{c.Checklist.Planning}
		if withPromises && c.Checklist.Promises != nil {
			parts = append(parts, []entry{*c.Checklist.Promises})
		}
		switch sessionKind {
		case SessionReview:
			parts = append(parts, c.Checklist.Review)
		case SessionFinal:
			parts = append(parts, c.Checklist.Final)
		}
	default:
		return nil
	}
	var qs []Question
	for _, p := range parts {
		for _, e := range p {
			qs = append(qs, Question{Number: len(qs) + 1, Text: e.Text, Key: e.Key})
		}
	}
	return qs
}

// parseCatalogue reads and checks one questions.yaml; name is how errors
// call the file.
func parseCatalogue(name string, src []byte) (*catalogue, error) {
	var c catalogue
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, yamlError(name, err)
	}
	var errs []error
	lists := []struct {
		path    string
		entries []entry
	}{
		{"checklist.planning", c.Checklist.Planning},
		{"checklist.chemistry", c.Checklist.Chemistry},
		{"checklist.review", c.Checklist.Review},
		{"checklist.final", c.Checklist.Final},
		{"reflection", c.Reflection},
		{"mentor.final", c.Mentor.Final},
	}
	if c.Checklist.Promises == nil {
		errs = append(errs, fmt.Errorf("%s: checklist.promises is missing", name))
	} else {
		lists = append(lists, struct {
			path    string
			entries []entry
		}{"checklist.promises", []entry{*c.Checklist.Promises}})
	}
	for _, l := range lists {
		if len(l.entries) == 0 {
			errs = append(errs, fmt.Errorf("%s: %s is missing or empty", name, l.path))
		}
		for _, e := range l.entries {
			switch {
			case e.Key == "":
				errs = append(errs, fmt.Errorf("%s:%d: %s: a question needs a key", name, e.line, l.path))
			case e.Text == "":
				errs = append(errs, fmt.Errorf("%s:%d: %s: question %q has no text", name, e.line, l.path, e.Key))
			case strings.ContainsAny(e.Text, "\r\n"):
				errs = append(errs, fmt.Errorf("%s:%d: %s: question %q must be one line (replies are matched by its text)", name, e.line, l.path, e.Key))
			}
		}
	}
	keys := map[string]bool{}
	for i, t := range c.Themes {
		switch {
		case strings.TrimSpace(t.Key) == "" || strings.TrimSpace(t.Text) == "":
			errs = append(errs, fmt.Errorf("%s: themes: theme %d needs a key and a text", name, i+1))
		case keys[t.Key]:
			errs = append(errs, fmt.Errorf("%s: themes: key %q twice", name, t.Key))
		case strings.ContainsAny(t.Text, "\r\n"):
			errs = append(errs, fmt.Errorf("%s: themes: %q must be one line", name, t.Key))
		}
		keys[t.Key] = true
		for j, w := range t.Words {
			c.Themes[i].Words[j] = strings.ToLower(strings.TrimSpace(w))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, c.checkUnique(name))
	}
	return &c, errors.Join(errs...)
}

// checkUnique makes sure every list that can be asked has distinct keys and
// texts, so an answer maps to exactly one question.
func (c *catalogue) checkUnique(name string) error {
	var errs []error
	for _, p := range []string{string(Checklist), string(Reflection), MentorReflection} {
		for _, k := range SessionKinds {
			keys, texts := map[string]bool{}, map[string]bool{}
			for _, q := range c.questions(p, k, true) {
				if keys[q.Key] {
					errs = append(errs, fmt.Errorf("%s: %s before a %s session asks key %q twice", name, p, k, q.Key))
				}
				if texts[q.Text] {
					errs = append(errs, fmt.Errorf("%s: %s before a %s session asks %q twice", name, p, k, q.Text))
				}
				keys[q.Key], texts[q.Text] = true, true
			}
		}
	}
	return errors.Join(errs...)
}

// sameKeys reports where c asks other questions than ref: every language
// must ask the same questions in the same order, so answers line up in the
// progress log whatever language the mentee reads.
func (c *catalogue) sameKeys(name, refName string, ref *catalogue) error {
	var errs []error
	for _, p := range []string{string(Checklist), string(Reflection), MentorReflection} {
		for _, k := range SessionKinds {
			got, want := keysOf(c.questions(p, k, true)), keysOf(ref.questions(p, k, true))
			if !slices.Equal(got, want) {
				errs = append(errs, fmt.Errorf("%s: %s before a %s session asks %v, but %s asks %v: every language must ask the same questions (same keys, same order)",
					name, p, k, got, refName, want))
			}
		}
	}
	var got, want []string
	for _, t := range c.Themes {
		got = append(got, t.Key)
	}
	for _, t := range ref.Themes {
		want = append(want, t.Key)
	}
	if !slices.Equal(got, want) {
		errs = append(errs, fmt.Errorf("%s: themes %v, but %s has %v: every language must have the same themes (same keys, same order)",
			name, got, refName, want))
	}
	return errors.Join(errs...)
}

func keysOf(qs []Question) []string {
	keys := make([]string, len(qs))
	for i, q := range qs {
		keys[i] = q.Key
	}
	return keys
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError rewrites yaml.v3's "yaml: line 5: ..." as "name:5: ...".
func yamlError(name string, err error) error {
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", name, sm[1], sm[2]))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.Join(errs...)
}
