package demo

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The guided demo runs the real daemon through four monthly sessions with
// simulated mail clients. The clients react to what arrives and the demo
// ends when nothing is in flight, so nothing here waits on a fixed time.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four simulated months")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := &syncBuffer{}
	started := time.Now()
	if err := Run(ctx, Options{Out: out, Speed: 8, Sessions: 4}); err != nil {
		t.Fatalf("Run = %v\n%s", err, out)
	}
	t.Logf("four simulated months in %s", time.Since(started).Round(time.Millisecond))
	text := out.String()
	timeline, log, ok := strings.Cut(text, "── The year in numbers")
	if !ok {
		t.Fatalf("no summary:\n%s", text)
	}
	for _, want := range []string{
		"mentord → Bo (mentee)    invitation to session 1 (chemistry), Tue 12 Jan 14:00 CET",
		"mentord → Ada (mentor)   invitation to session 1 (chemistry), Tue 12 Jan 08:00 EST",
		"accepted session 1 (Google Calendar) → recorded: mentee ACCEPTED",
		"accepted session 1 (Google Calendar) → recorded: mentor ACCEPTED",
		"planning checklist for session 1 (chemistry)",
		"it asks whether Ada may read Bo's topics, the support asked for and check-ins; Bo will say yes",
		"brief for session 1 (chemistry), saying the draft agreement follows the meeting",
		"brief for session 4 (final), with Bo's topics and the support asked for as the agenda", // only because Bo said yes
		"reflection questions on session 1 (chemistry)",
		"Bo is swamped this week and lets it lie",
		"reminder: no plan for session 2 yet",
		"Bo → mentord             reply from Apple Mail to the reminder for session 2 → 6 answers logged",
		"declined session 3 (Google Calendar) → recorded: mentor DECLINED",
		"notice: Ada declined session 3, so no checklist for it",
		"no session 3: Ada declined it",
		`it quotes 2 open promises: "Ask the head of department about…"`,
		"receipt: what the log now holds for session 4",
		// The conversation (issue 13): a check-in, a pause, a move by email, the admin.
		"a check-in (Gmail, a new message) → check-in",
		"“Noted: your message for your mentoring”",
		"asks to pause (Apple Mail, a new message) → pause asked to be confirmed",
		"confirms the pause (Apple Mail) → pause until",
		"cancellation of session 3",
		"“Your mentoring is running again”",
		"answers the invitation to session 4 in words: another time (Gmail) → session 4: mentor proposes",
		"says yes to the new time (Apple Mail) → session 4: proposal 1 accepted",
		"updated invitation to session 4",
		"mentord → the admin (admin) notice: what needs a person",
		// The relationship (issue 14): the match check, the agreement both
		// confirm, and the records for promotion at the end.
		"mentord → Bo (mentee)    “Are we the right match?”, confidential, after session 1 (chemistry)",
		"mentord → Ada (mentor)   “Are we the right match?”, confidential, after session 1 (chemistry)",
		"answers the match check: not sure yet (Apple Mail) → match check: unsure",
		"“Are we the right match?”, confidential, after session 2",
		"answers the match check: yes (Apple Mail) → match check: yes",
		"mentord → Bo (mentee)    the draft agreement to confirm, after session 1 (chemistry)",
		"mentord → Ada (mentor)   the draft agreement to confirm, after session 1 (chemistry)",
		"confirms the agreement (Apple Mail) → agreement: version 1 confirmed",
		"“Your mentoring agreement is agreed”",
		"mentord → Bo (mentee)    the record for promotion (a one-page PDF), after session 4 (final)",
		"mentord → Ada (mentor)   the record for promotion (a one-page PDF), after session 4 (final)",
	} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
	// Every mail program's reply is understood, answer by answer.
	for _, program := range []string{"Gmail", "Outlook", "Apple Mail", "Thunderbird"} {
		if !regexp.MustCompile(`reply from ` + program + ` to the .* → [1-9]\d* answers logged`).MatchString(timeline) {
			t.Errorf("no reply from %s was logged with answers", program)
		}
	}
	if strings.Contains(text, "⚠") || strings.Contains(text, "not logged") {
		t.Errorf("something went wrong in the demo:\n%s", text)
	}
	for _, want := range []string{
		"Progress log of Bo Jensen <bo@example.org>",
		"A sparring partner outside my department while I build my first research group.", // chemistry checklist, by Gmail
		"Ask the head of department about teaching less next spring",                      // a promise, by Apple Mail inline
		"In one line: how did this meeting go?",                                           // a reflection
		"Yes, Ada may read them.",                                                         // the consent, in the log
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the progress log lacks %q:\n%s", want, log)
		}
	}
	if t.Failed() {
		t.Logf("the demo's output:\n%s", text)
	}
}

// The demo's clock stands still until it begins, then After(d) fires no
// sooner than d of simulated time.
func TestAccelClock(t *testing.T) {
	c := newAccelClock(demoStart, 1) // a day a second
	if !c.Now().Equal(demoStart) {
		t.Errorf("before begin, Now = %v, want the start %v", c.Now(), demoStart)
	}
	c.begin()
	if at := <-c.After(time.Hour); at.Sub(demoStart) < time.Hour {
		t.Errorf("After(1h) fired %v after the start", at.Sub(demoStart))
	}
}

// syncBuffer is a bytes.Buffer safe for the demo's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
