package demo

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
)

// demoMail is what a client reads of a message from mentord.
type demoMail struct {
	id, subject, from, fromName, replyTo, text, ics string
	date                                            time.Time
}

func parseDemoMail(raw []byte) demoMail {
	var m demoMail
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	h := msg.Header
	m.id = strings.Trim(h.Get("Message-Id"), "<> ")
	m.subject, _ = new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	m.date, _ = h.Date()
	if a, err := netmail.ParseAddress(h.Get("From")); err == nil {
		m.from, m.fromName = a.Name+" <"+a.Address+">", a.Name
	}
	if a, err := netmail.ParseAddress(h.Get("Reply-To")); err == nil {
		m.replyTo = a.Address
	}
	m.walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

// walk finds the text/plain and text/calendar parts, decoded.
func (m *demoMail) walk(ct, cte string, r io.Reader) {
	mt, params, _ := mime.ParseMediaType(ct)
	switch strings.ToLower(cte) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(r, params["boundary"])
		for p, err := mr.NextPart(); err == nil; p, err = mr.NextPart() {
			m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	case mt == "text/plain" && m.text == "":
		b, _ := io.ReadAll(r)
		m.text = strings.ReplaceAll(string(b), "\r\n", "\n")
	case mt == "text/calendar" && m.ics == "":
		b, _ := io.ReadAll(r)
		m.ics = string(b)
	}
}

// demoICSFields returns the VEVENT lines a REPLY repeats, unfolded, by name.
func demoICSFields(ics string) map[string]string {
	out := map[string]string{}
	ics = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\r", "").Replace(ics)
	_, event, _ := strings.Cut(ics, "BEGIN:VEVENT\n")
	for _, line := range strings.Split(event, "\n") {
		name, _, _ := strings.Cut(line, ":")
		name, _, _ = strings.Cut(strings.ToUpper(name), ";")
		if out[name] == "" {
			out[name] = line
		}
	}
	return out
}

// demoFold folds content lines longer than 75 octets (RFC 5545 section 3.1).
func demoFold(ics string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(ics, "\r\n") {
		for limit := 75; len(strings.TrimSuffix(line, "\r\n")) > limit; limit = 74 { // 74 after the leading space
			cut := limit
			for line[cut]&0xC0 == 0x80 {
				cut-- // not inside a UTF-8 sequence
			}
			b.WriteString(line[:cut] + "\r\n ")
			line = line[cut:]
		}
		b.WriteString(line)
	}
	return b.String()
}

// demoShorten cuts s after a word, to at most n runes.
func demoShorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		cut := string(r[:n])
		return cut[:max(strings.LastIndex(cut, " "), 1)] + "…"
	}
	return s
}

// demoWrap76 breaks base64 into lines of 76 characters (RFC 2045 section 6.8).
func demoWrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s
}

func demoCRLF(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// demoListAfter returns the "- " items under a title line.
func demoListAfter(text, title string) []string {
	_, rest, _ := strings.Cut(text, title+"\n")
	var items []string
	for _, line := range strings.Split(rest, "\n") {
		item, ok := strings.CutPrefix(line, "- ")
		if rest == "" || !ok {
			break
		}
		items = append(items, item)
	}
	return items
}

// demoAnswerFor is the mentee's answer to the question with this key before or
// after session n, when the prompt quotes open promises; "" leaves the
// question out.
func demoAnswerFor(key string, n, open int) string {
	them := map[bool]string{true: "it", false: "they"}[open == 1]
	switch {
	case key == "promises":
		return "- " + strings.Join(demoPromises[n%len(demoPromises)], "\n- ")
	case key == "promises-kept" && n%5 == 0:
		return "Not yet. Teaching took every hour this month; " + them + " stay on my list."
	case key == "promises-kept" && n%4 == 3:
		return "Partly: I have made a start and need another week."
	case key == "promises-kept":
		return "Yes, " + []string{"", "done", "both done", "all three done"}[min(open, 3)] + "."
	case (key == "not-done" || key == "self") && n%3 == 0:
		return "" // left out, as people do
	}
	bank := demoAnswers[key]
	if len(bank) == 0 {
		return ""
	}
	return bank[n%len(bank)]
}

var demoPromises = [][]string{
	{"Send the grant draft to two colleagues for comments", "Book a room for the group's first away day"},
	{"Write down what I want to delegate to the postdoc"},
	{"Ask the head of department about teaching less next spring", "Block two mornings a week for writing"},
	{"Draft the group's meeting rules and share them"},
	{"Read the two papers Ada suggested on research leadership"},
	{"Have the career conversation with my PhD student", "Reply to the journal about the special issue"},
	{"Sketch the budget for the next grant application"},
}

var demoAnswers = map[string][]string{
	"hopes":          {"A sparring partner outside my department while I build my first research group."},
	"objectives":     {"- Build a group that works well without me in every meeting\n- Submit one large grant application\n- Keep time for my own research"},
	"meetings":       {"Monthly, an hour, in person when Ada visits and on video otherwise."},
	"contact":        {"Short emails between sessions; a call if something is urgent."},
	"progress":       {"These emails: I'd like the log mentord keeps."},
	"review-cadence": {"Every four sessions seems right."},
	"about-me":       {"I am new to leading people and tend to say yes to everything."},
	"share-plans":    {"Yes, Ada may read them."},
	"promises-final": {"- Keep meeting Ada for coffee once a semester"},
	"accomplished": {"Submitted the grant pre-proposal and hired a student assistant.", "The group meets weekly with an agenda now; the meetings are shorter.",
		"Finished the revision of our paper and sent it back to the journal.", "Handed the lab budget to the postdoc, which went better than I feared."},
	"not-done": {"The teaching plan for spring is still not settled.", "I did not find time for my own writing."},
	"challenges": {"The group grows faster than my time: supervision eats my research days.", "Two students disagree about authorship on a joint paper.",
		"I am asked to coordinate a network application, but it would cost me a semester."},
	"topics":               {"How to say no to committee work.", "Giving critical feedback to a senior postdoc.", "Whether to join the network application."},
	"support":              {"Ask hard questions about my priorities.", "Tell me how you handled similar situations.", "Tell me when I overcommit."},
	"relationship-purpose": {"Yes: it is the one hour a month I think about leadership rather than deadlines."},
	"relationship-format":  {"Monthly still suits me; perhaps one session in person each semester."},
	"programme-value":      {"Confidence as a group leader, and the habit of planning before I react."},
	"objectives-reached":   {"The group works well without me in every meeting, and the grant is submitted."},
	"programme-changes":    {"A joint kick-off for all pairs would help."},
	"recommend":            {"Yes: someone outside the department to think with is worth the hour."},
	"energised":            {"Talking about the group's culture and how to build it on purpose.", "Planning the away day together.", "The discussion about saying no."},
	"lessons":              {"I do not need every answer; asking the group works better.", "Delegating means accepting other ways of doing things."},
	"self":                 {"I avoid conflict longer than is good for anyone.", "I enjoy mentoring others more than I expected."},
	"evaluation":           {"Very useful, and concrete.", "Good, though we ran out of time.", "The best session so far."},
}
