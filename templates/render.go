package templates

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// width is where text bodies wrap: short enough to stay under 78 columns
// after a few levels of "> " quoting in a reply.
const width = 72

// Render writes message k in d.Lang. It returns an error wrapping ErrKind,
// ErrLanguage or ErrData for input it cannot render, ErrRunaway when the
// templates take longer than renderTimeout or write more than maxOutput, and
// the template's own error (with file and line) when execution fails; it
// never panics.
//
// text/template cannot be cancelled: a template that runs away (a loop an
// override wrote) is stopped at its next write after the deadline, and one
// that loops without writing goes on in the background until it ends, if it
// ever does; meanwhile that kind in that language is not started again, and
// fails at once with ErrRunaway. A reload with fixed templates brings a new Set.
func (s *Set) Render(k Kind, d Data) (Rendered, error) {
	return s.renderWithin(k, d, renderTimeout)
}

// renderWithin is Render with a time bound of its own.
func (s *Set) renderWithin(k Kind, d Data, timeout time.Duration) (Rendered, error) {
	if err := s.validate(k, d); err != nil {
		return Rendered{}, err
	}
	kt := s.langs[d.Lang].kinds[k]
	if s.running(kt) {
		return Rendered{}, fmt.Errorf("render %s (%s): %w: an earlier rendering of it is still running; look for a loop in %s",
			k, d.Lang, ErrRunaway, strings.Join(kt.files, " or "))
	}
	type result struct {
		r   Rendered
		err error
	}
	done := make(chan result, 1)
	stop := new(atomic.Bool)
	go func() {
		r, err := s.render(k, d, kt, stop)
		done <- result{r, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.r, res.err
	case <-timer.C:
	}
	stop.Store(true)
	s.runaway.Store(kt, struct{}{})
	go func() {
		<-done
		s.runaway.Delete(kt)
	}()
	return Rendered{}, fmt.Errorf("render %s (%s): %w: still running after %v; look for a loop in %s",
		k, d.Lang, ErrRunaway, timeout, strings.Join(kt.files, " or "))
}

// running reports whether a rendering of kt ran away and still runs.
func (s *Set) running(kt *kindTemplates) bool {
	_, ok := s.runaway.Load(kt)
	return ok
}

// render is Render's work, in a goroutine of its own; its writes fail once
// stop is set.
func (s *Set) render(k Kind, d Data, kt *kindTemplates, stop *atomic.Bool) (r Rendered, err error) {
	d = clean(d)
	defer func() {
		// The template packages recover their own panics; this keeps a
		// panicking template function from taking the daemon down.
		if p := recover(); p != nil {
			r, err = Rendered{}, fmt.Errorf("render %s (%s): panic: %v", k, d.Lang, p)
		}
	}()
	left := maxOutput
	exec := func(name string, w func(io.Writer) error) (string, error) {
		b := &limitedBuilder{left: &left, stop: stop}
		if err := w(b); err != nil {
			return "", fmt.Errorf("render %s (%s) %s: %w", k, d.Lang, name, err)
		}
		return b.String(), nil
	}
	text := func(name string) (string, error) {
		return exec(name, func(w io.Writer) error { return kt.text.ExecuteTemplate(w, name, d) })
	}
	if r.Subject, err = text("subject"); err != nil {
		return Rendered{}, err
	}
	if r.Text, err = text("text"); err != nil {
		return Rendered{}, err
	}
	if k == TalkKind && d.Talk != nil { // the HTML shows the text's body, a paragraph each
		body, err := text("body")
		if err != nil {
			return Rendered{}, err
		}
		t := *d.Talk
		t.Body = paragraphs(body)
		d.Talk = &t
	}
	if r.HTML, err = exec("html", func(w io.Writer) error { return kt.html.ExecuteTemplate(w, "html", d) }); err != nil {
		return Rendered{}, err
	}
	if k.Calendar() {
		if r.Summary, err = text("summary"); err != nil {
			return Rendered{}, err
		}
		if r.Description, err = text("description"); err != nil {
			return Rendered{}, err
		}
		r.Summary = oneLine(r.Summary)
		r.Description = tidy(r.Description)
	}
	if k.Document() {
		if r.Document, err = text("document"); err != nil {
			return Rendered{}, err
		}
		r.Document = tidy(r.Document)
		if strings.TrimSpace(r.Document) == "" {
			return Rendered{}, fmt.Errorf("render %s (%s): the document came out empty", k, d.Lang)
		}
	}
	r.Subject = oneLine(r.Subject)
	r.Text = wrap(tidy(r.Text), keepLines(d))
	r.HTML = tidy(r.HTML)
	if r.Subject == "" || strings.TrimSpace(r.Text) == "" || strings.TrimSpace(r.HTML) == "" || (k.Calendar() && r.Summary == "") {
		return Rendered{}, fmt.Errorf("render %s (%s): the subject, text, html or summary came out empty", k, d.Lang)
	}
	return r, nil
}

// renderTimeout bounds one Render: well under the watchdog's interval, so a
// runaway template cannot stop the loop that renders (rendering a message
// takes well under a millisecond). loadTimeout bounds each rendering of
// Load's check, which nothing waits on but the start, a reload or
// check-config: long enough that a machine under heavy load cannot fail a
// good template. Variables for tests.
var (
	renderTimeout = 5 * time.Second
	loadTimeout   = 10 * time.Second
)

// maxOutput bounds what one Render writes, every part together: far above a
// message any mail server would take.
const maxOutput = 16 << 20

// limitedBuilder is a strings.Builder that refuses to grow past what is left,
// or at all once its rendering's time is up (text/template writes each
// action's output, even an empty one, so this stops most loops).
type limitedBuilder struct {
	strings.Builder
	left *int
	stop *atomic.Bool
}

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.stop.Load() {
		return 0, fmt.Errorf("%w: out of time", ErrRunaway)
	}
	if len(p) > *b.left {
		return 0, fmt.Errorf("%w: it wrote over %d MiB; look for a loop", ErrRunaway, maxOutput>>20)
	}
	*b.left -= len(p)
	return b.Builder.Write(p)
}

// validate refuses data that no template could turn into a sensible message.
func (s *Set) validate(k Kind, d Data) error {
	if !slices.Contains(Kinds, k) {
		return fmt.Errorf("render %q: %w", k, ErrKind)
	}
	if _, ok := s.langs[d.Lang]; !ok {
		return fmt.Errorf("render %s: %w %q (have %s)", k, ErrLanguage, d.Lang, strings.Join(s.Languages(), ", "))
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("render %s (%s): %w: %s", k, d.Lang, ErrData, fmt.Sprintf(format, args...))
	}
	if k == Notice {
		if d.Notice == nil || strings.TrimSpace(d.Notice.Title) == "" {
			return bad("a notice needs a title")
		}
		return nil
	}
	if k == TalkKind {
		return validTalk(d)
	}
	if k == Ack && d.AckOf != Checklist && d.AckOf != Reflection {
		return bad("an acknowledgement is for a checklist or a reflection, not %q", d.AckOf)
	}
	if k == Ack && len(d.Agenda) == 0 && strings.TrimSpace(d.Reply) == "" {
		return bad("an acknowledgement needs the answers or the reply it acknowledges")
	}
	if k == Record && d.Facts == nil {
		return bad("a record needs its facts")
	}
	if k == Counter && d.Proposed == nil {
		return bad("a counter-proposal needs the proposed time")
	}
	if !slices.Contains(SessionKinds, d.Session.Kind) {
		return bad("session kind %q is not one of %s", d.Session.Kind, strings.Join(SessionKinds, ", "))
	}
	if d.Session.Start.IsZero() {
		return bad("the session has no start time")
	}
	if k == Nudge && d.NudgeOf != Checklist && d.NudgeOf != Reflection {
		return bad("a nudge is for a checklist or a reflection, not %q", d.NudgeOf)
	}
	if k.asks() && len(d.Questions) == 0 {
		return bad("no questions to ask")
	}
	for _, q := range d.Questions {
		if strings.TrimSpace(q.Text) == "" || strings.ContainsAny(q.Text, "\r\n") {
			return bad("question %d must be one non-empty line", q.Number)
		}
	}
	return nil
}

// clean returns d with its strings normalised, without touching the caller's
// slices: names, addresses and other one-line fields on one line, and the
// mentee's own words without trailing blanks or runs of blank lines; empty
// promises are dropped.
func clean(d Data) Data {
	for _, p := range []*string{
		&d.Programme, &d.Organisation, &d.Mailbox,
		&d.Recipient.Name, &d.Recipient.Email, &d.Mentor.Name, &d.Mentor.Email, &d.Mentee.Name, &d.Mentee.Email,
		&d.Session.Location, &d.Session.Zone,
		&d.Agreement.Cadence, &d.Agreement.Location, &d.Agreement.Contact, &d.Agreement.Progress,
	} {
		*p = oneLine(*p)
	}
	d.Agreement.Objectives = block(d.Agreement.Objectives)
	var promises []string
	for _, p := range d.Promises {
		if p = block(p); p != "" {
			promises = append(promises, p)
		}
	}
	d.Promises = promises
	agenda := make([]Answer, len(d.Agenda))
	for i, a := range d.Agenda {
		agenda[i] = Answer{Number: a.Number, Question: oneLine(a.Question), Text: block(a.Text), Tied: a.Tied}
	}
	d.Agenda = agenda
	if d.Previous != nil {
		p := *d.Previous
		p.Location, p.Zone = oneLine(p.Location), oneLine(p.Zone)
		d.Previous = &p
	}
	return d
}

// block tidies a multi-line string without the final newline.
func block(s string) string { return strings.TrimSuffix(tidy(s), "\n") }

// oneLine collapses all whitespace, line breaks included, to single spaces:
// for header fields and the event summary.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// tidy normalises a body: LF line endings, no trailing blanks (except in the
// "-- " signature separator), no leading or trailing blank lines, and at most
// one blank line in a row. It ends with a newline.
func tidy(s string) string {
	var out []string
	blank := false
	for _, l := range lines(s) {
		if l != "-- " {
			l = strings.TrimRight(l, " \t")
		}
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// keepLines returns the question texts that must stay on one line whatever
// their length: the reply parser finds them by their exact text.
func keepLines(d Data) []string {
	var keep []string
	for _, q := range d.Questions {
		keep = append(keep, q.Text)
	}
	for _, a := range d.Agenda {
		keep = append(keep, strings.TrimSpace(a.Question))
	}
	return keep
}

// wrap breaks lines longer than width at spaces. Continuation lines keep the
// line's indentation or "> " quote mark, hang under a "- " bullet or after a short "Label: ",
// and never start with a list number ("3.", "Q3"), which the reply parser
// would take for a question. Lines ending in a question text from keep are
// left alone, and a word longer than width (a link) is never cut.
func wrap(s string, keep []string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		body := strings.TrimSuffix(l, "\n")
		if utf8.RuneCountInString(body) <= width || endsWithAny(body, keep) {
			b.WriteString(l)
			continue
		}
		hang := strings.Repeat(" ", utf8.RuneCountInString(hangPrefix.FindString(body)))
		if strings.HasPrefix(body, "> ") { // a quote stays a quote
			hang = "> "
		}
		line, n := "", 0
		for i, tok := range tokens(body) {
			word := strings.TrimLeft(tok, " ")
			// Past the first word, break before a word that does not fit,
			// unless the line so far is only a label or bullet.
			if tn := utf8.RuneCountInString(tok); i == 0 || n+tn <= width || n <= len(hang) {
				line, n = line+tok, n+tn
				continue
			}
			b.WriteString(line + "\n")
			line, n = hang+word, len(hang)+utf8.RuneCountInString(word)
		}
		b.WriteString(line)
		if strings.HasSuffix(l, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// hangPrefix is what a continuation line is indented by: the indentation,
// and a bullet or a label of one or two words.
var hangPrefix = regexp.MustCompile(`^ *(?:- |[^\s:]+(?: [^\s:]+)?: +)?`)

// listNumber is a word that would read as a question number at the start
// of a line.
var listNumber = regexp.MustCompile(`^(?:\(?\d+[.):]|[Qq]\d+)`)

// tokens splits a line into words, each with the spaces before it; the first
// keeps the indentation. A word that looks like a list number is glued to the
// word before it, so no line can start with it.
func tokens(line string) []string {
	var toks []string
	for _, m := range token.FindAllString(line, -1) {
		if len(toks) > 0 && listNumber.MatchString(strings.TrimLeft(m, " ")) {
			toks[len(toks)-1] += m
			continue
		}
		toks = append(toks, m)
	}
	return toks
}

var token = regexp.MustCompile(` *[^ ]+`)

func endsWithAny(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if x != "" && strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}
