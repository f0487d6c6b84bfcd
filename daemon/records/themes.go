package records

import (
	"context"
	"strings"
	"unicode"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// ThemeCount is how many topics answers named one of the guide's themes.
type ThemeCount struct {
	Key    string `json:"key"`
	Theme  string `json:"theme"` // its text in the report's language (English)
	Topics int    `json:"topics"`
}

// Themes is what the programme's mentees want to talk about, in counts: of
// the answers in force to the planning checklist's topics question, how
// many named each theme (an answer may name several) and how many named
// none. An answer counts for a theme when a word of it starts with one of
// the theme's words in the language it was asked in (questions.yaml); the
// answers themselves are read only to count, never kept or shown.
type Themes struct {
	Answers  int          `json:"topic_answers"`
	Counts   []ThemeCount `json:"themes"`
	Unthemed int          `json:"unthemed"`
}

// LoadThemes counts the topics answers against the themes of tpl.
func LoadThemes(ctx context.Context, q store.Querier, tpl *templates.Set) (*Themes, error) {
	answers, err := store.TopicAnswers(ctx, q)
	if err != nil {
		return nil, err
	}
	ref := tpl.Themes("en")
	if ref == nil && len(tpl.Languages()) > 0 {
		ref = tpl.Themes(tpl.Languages()[0])
	}
	t := &Themes{Answers: len(answers)}
	index := map[string]int{}
	for i, th := range ref {
		t.Counts = append(t.Counts, ThemeCount{Key: th.Key, Theme: th.Text})
		index[th.Key] = i
	}
	byLang := map[string][]templates.Theme{}
	for _, a := range answers {
		ths, ok := byLang[a.Language]
		if !ok {
			ths = tpl.Themes(a.Language)
			byLang[a.Language] = ths
		}
		words := strings.FieldsFunc(strings.ToLower(a.Answer), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
		})
		text := " " + strings.Join(words, " ")
		any := false
		for _, th := range ths {
			if i, ok := index[th.Key]; ok && names(text, th.Words) {
				t.Counts[i].Topics++
				any = true
			}
		}
		if !any {
			t.Unthemed++
		}
	}
	return t, nil
}

// names reports whether text (its words lower case, each after a space)
// has a word starting with one of words (which may be two words long).
func names(text string, words []string) bool {
	for _, w := range words {
		if w != "" && strings.Contains(text, " "+w) {
			return true
		}
	}
	return false
}
