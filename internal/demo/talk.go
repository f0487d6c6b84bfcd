package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// The conversation in the demo (issue 13), beside the answers to prompts:
//   - Bo checks in between sessions with a new message ("the grant went
//     in!"); mentord logs it and says so;
//   - Bo asks to pause the mentoring for a few weeks around the session Ada
//     declined; the From alone is no proof, so mentord asks Bo to confirm,
//     Bo says yes, the session is cancelled and planned again when the
//     pause ends;
//   - Ada answers the last session's invitation in words with another
//     time; mentord asks Bo, Bo says yes, and both get the update;
//   - the admin reads their notices and the weekly digest.
//
// And the relationship (issue 14), in clients.go and matchCheck: both
// answer the match check (Bo "not sure yet", then yes when asked again),
// both confirm the draft agreement, and each gets a record at the end.

const demoAdmin = "admin@example.org"

// demoTalkWhat says what a conversation message or an admin notice is, from
// its subject.
func demoTalkWhat(m demoSent, subject string) string {
	if m.Kind == "notice" {
		return "notice: " + strings.TrimPrefix(subject, "mentord: ")
	}
	return "“" + subject + "”"
}

// conversation runs Bo's check-in and pause request at their times.
func (d *demo) conversation(ctx context.Context, clients []*demoClient) {
	bo := clients[0]
	first := d.sessions[0]
	bo.mu.Lock()
	bo.at(ctx, first.StartsAt.AddDate(0, 0, 9).Add(-4*time.Hour), func() {
		id := bo.msgID("mail.gmail.com")
		bo.send(ctx, demoMailbox, id, demoAuthored{Label: "a check-in (Gmail, a new message)", Session: 1},
			demoNewMessage(bo.p, demoMailbox, id, "Quick update", bo.d.clock.Now(),
				"Quick update: the grant went in! I also talked to my head of department about\nteaching less next spring, and it went well.\n\n-- \nBo"))
	})
	if p := d.sessions[d.cast.decline-1]; p.StartsAt.After(first.StartsAt) {
		until := time.Date(p.StartsAt.Year(), p.StartsAt.Month(), p.StartsAt.Day()+10, 0, 0, 0, 0, bo.p.Loc)
		bo.at(ctx, p.StartsAt.AddDate(0, 0, -20).Add(-4*time.Hour), func() {
			id := bo.msgID("icloud.com")
			body := fmt.Sprintf("Hi,\n\n%s can't make our next session, and I'm on leave for a few weeks anyway:\nplease pause my mentoring until %s.\n\nThanks,\nBo\n\nSent from my iPhone",
				d.cast.mentor.First, until.Format("2 January"))
			bo.send(ctx, demoMailbox, id, demoAuthored{Label: "asks to pause (Apple Mail, a new message)", Session: d.cast.decline},
				demoNewMessage(bo.p, demoMailbox, id, "Pausing my mentoring", bo.d.clock.Now(), body))
		})
	}
	bo.mu.Unlock()
}

// at runs fn at t (simulated), counted as an answer to come. The caller holds mu.
func (c *demoClient) at(ctx context.Context, t time.Time, fn func()) {
	c.pending++
	c.wg.Go(func() {
		if c.d.clock.sleep(ctx, t.Sub(c.d.clock.Now())) {
			fn()
		}
		c.mu.Lock()
		c.pending--
		c.mu.Unlock()
	})
}

// talk reacts to a conversation message: a question it can answer yes to.
// The caller holds mu.
func (c *demoClient) talk(ctx context.Context, m demoMail, sent demoSent) string {
	switch {
	case strings.HasPrefix(sent.Key, "talk:move-ask:"):
		c.later(ctx, func() { c.answer(ctx, m, "Yes, that works for me.", "says yes to the new time (Apple Mail)") })
		return c.p.First + " will say yes"
	case strings.HasPrefix(sent.Key, "talk:pause-confirm:"):
		c.later(ctx, func() { c.answer(ctx, m, "Yes, please.", "confirms the pause (Apple Mail)") })
		return "the From alone is no proof: " + c.p.First + " confirms by replying"
	}
	return ""
}

// matchCheck answers "Are we the right match?": Ada yes at once; Bo "not
// sure yet" the first time, and yes when asked again after the next
// session. Which answer follows from what was answered before, not from
// when. The caller holds mu.
func (c *demoClient) matchCheck(ctx context.Context, m demoMail) string {
	text, label, note := "Yes, a good start.", "answers the match check: yes (Apple Mail)", c.p.First+" will say yes"
	if c.p.Role == "mentee" && !c.answered["match"] {
		text, label, note = "Not sure yet: we have only met once.", "answers the match check: not sure yet (Apple Mail)",
			c.p.First+" is not sure yet after one meeting"
	}
	c.answered["match"] = true
	c.later(ctx, func() { c.answer(ctx, m, text, label) })
	return note
}

// answer replies to m from Apple Mail on a phone: the text on top, the quote below.
func (c *demoClient) answer(ctx context.Context, m demoMail, text, label string) {
	id := c.msgID("icloud.com")
	raw := fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: Re: %s\nDate: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s>\n"+
		"Mime-Version: 1.0 (1.0)\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\nX-Mailer: iPhone Mail (21D61)\n\n"+
		"%s\n\nSent from my iPhone\n\n> On %s, %s wrote:\n>\n%s\n",
		c.p.Name, c.p.Email, m.replyTo, m.subject, c.d.clock.Now().In(c.p.Loc).Format(time.RFC1123Z), id, m.id, m.id,
		text, m.date.In(c.p.Loc).Format("2 Jan 2006, at 15:04"), m.from, demoQuote(m.text))
	c.send(ctx, m.replyTo, id, demoAuthored{Label: label}, raw)
}

// proposeMove answers an invitation in words, as mentors do: another time,
// the next weekday at the same local time.
func (c *demoClient) proposeMove(ctx context.Context, m demoMail, sent demoSent) {
	at := sent.Session.StartsAt.In(c.p.Loc).AddDate(0, 0, 1)
	for at.Weekday() == time.Saturday || at.Weekday() == time.Sunday {
		at = at.AddDate(0, 0, 1)
	}
	id := c.msgID("mail.gmail.com")
	body := fmt.Sprintf("Sorry, I'm at a conference that day. Can we do %s at %s instead?\n\nAda\n\n%s\n%s\n",
		at.Format("Monday 2 January"), at.Format("3:04pm"), m.date.In(c.p.Loc).Format("On Mon, 2 Jan 2006 at 15:04, ")+m.from+" wrote:",
		demoQuote(m.text))
	raw := fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: Re: %s\nDate: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s>\n"+
		"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n%s",
		c.p.Name, c.p.Email, m.replyTo, m.subject, c.d.clock.Now().In(c.p.Loc).Format(time.RFC1123Z), id, m.id, m.id, body)
	c.send(ctx, m.replyTo, id, demoAuthored{Label: fmt.Sprintf("answers the invitation to session %d in words: another time (Gmail)", sent.Session.Number),
		Session: sent.Session.Number}, raw)
}

// demoNewMessage is a message written afresh to the programme address.
func demoNewMessage(p *demoPerson, to, id, subject string, now time.Time, body string) string {
	return fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\n"+
		"Content-Type: text/plain; charset=UTF-8\n\n%s\n", p.Name, p.Email, to, subject, now.In(p.Loc).Format(time.RFC1123Z), id, body)
}

// sessionLookup finds sessions the demo did not start with (planned again
// after a pause) in the daemon's database, read only.
func sessionLookup(ctx context.Context, path string) (func(int64) (store.Session, bool), func()) {
	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return func(int64) (store.Session, bool) { return store.Session{}, false }, func() {}
	}
	return func(id int64) (store.Session, bool) {
		s, err := store.GetSession(ctx, db.R(), id)
		return s, err == nil
	}, func() { db.Close() }
}
