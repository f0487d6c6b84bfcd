package templates

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The conversation (issue 13): what mentord answers when a participant
// writes, and the one line in every message that says what they can ask for.

// Talk is the Talk kind's message: What names which (see talk.txt.tmpl).
type Talk struct {
	// What: checkin (recorded), kept (a person will read it), paused,
	// pause-confirm, resumed, stop (taken note, the team will be in touch),
	// log (the log attached), log-limit (once a day), move-ask (to the other
	// person: yes or another time), move-proposed (to the proposer: asked),
	// move-done, move-declined, move-question (the time is questioned or
	// unclear), refused (why a request cannot be done), admin (to the
	// admin: a participant's request or message needs a person).
	What     string
	Until    time.Time // paused, pause-confirm: the last day of the pause, in the recipient's zone
	Text     string    // the sender's own words, quoted where they go to someone else
	Reason   string    // move-question, refused, move-declined: why, in the recipient's language
	Sessions []Session // paused: the sessions cancelled; resumed: the sessions planned again
	Who      Person    // move-ask, move-declined: who proposed or answered
	Log      string    // log: the mentee's log as text
	Lines    []string  // admin: what happened, a paragraph each
	Body     []string  // set by Render for the HTML: the text's body, a paragraph each
	// Version (agreement, agreement-*): the agreement's version; the
	// items are Data.Agreement. Changed names the items a version changed
	// (objectives, cadence, location, minutes, contact, progress, review).
	Version int
	Changed []string
}

// paragraphs splits a text body at its blank lines.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CanAsk reports whether the recipient is a participant (the pair's mentor
// or mentee), who can ask for things by replying; the admin cannot.
func (d Data) CanAsk() bool {
	if d.Recipient.Email == "" {
		return false
	}
	return d.Recipient.Email == d.Mentor.Email || d.Recipient.Email == d.Mentee.Email
}

// CheckIn is a participant's message between sessions, with when it came.
type CheckIn struct {
	At   time.Time // in the recipient's zone
	Text string
}

// TalkWhats lists every Talk.What, for checking the templates.
var TalkWhats = []string{"checkin", "kept", "pause-confirm", "resume-confirm", "stop-confirm", "move-confirm", "paused", "resumed", "stop",
	"log", "log-limit", "move-ask", "move-proposed", "move-declined", "move-question", "refused", "admin",
	"match-ask", "match-thanks", "match-unsure", "match-paused", "match-unclear",
	"agreement", "agreement-confirmed", "agreement-agreed", "agreement-proposed", "agreement-unclear"}

// validTalk checks a talk message's data: it needs a Talk, and a session
// for the messages about one.
func validTalk(d Data) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("render talk (%s): %w: %s", d.Lang, ErrData, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Talk == nil:
		return bad("a talk message needs its Talk")
	case !slices.Contains(TalkWhats, d.Talk.What):
		return bad("unknown talk %q", d.Talk.What)
	case strings.HasPrefix(d.Talk.What, "move-") && (d.Session.Start.IsZero() || d.Session.Count == 0):
		return bad("a message about a move needs the session")
	case (d.Talk.What == "move-ask" || d.Talk.What == "move-proposed" || d.Talk.What == "move-declined") && d.Proposed == nil:
		return bad("a message about a move needs the proposed time")
	}
	return nil
}

func sampleTalk(start time.Time) *Talk {
	return &Talk{What: "move-ask", Until: start.AddDate(0, 2, 0), Text: "Sorry, I am away that week.", Reason: "weekend",
		Who: Person{Name: "Mentor Name", Email: "mentor@example.org"}, Log: "# Log\n\nSession 1: ...",
		Sessions: []Session{{Number: 3, Count: 12, Kind: SessionRegular, Start: start.AddDate(0, 1, 0), End: start.AddDate(0, 1, 0).Add(time.Hour), Zone: "UTC", Minutes: 60}},
		Lines:    []string{"What happened.", "What to do."}}
}

// checkTalk renders every Talk.What in every language, as Load's check does
// for the kinds.
func (s *Set) checkTalk() error {
	var errs []error
	for _, lang := range s.Languages() {
		for _, full := range []bool{true, false} {
			for _, what := range TalkWhats {
				d := s.sample(lang, TalkKind, SessionRegular, full)
				t := *d.Talk
				t.What = what
				d.Talk = &t
				d.CheckIns = []CheckIn{{At: d.Session.Start, Text: "The grant went in!"}}
				if _, err := s.renderWithin(TalkKind, d, loadTimeout); err != nil {
					errs = append(errs, err)
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}
