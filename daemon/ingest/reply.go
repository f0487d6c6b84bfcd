package ingest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/reply"
	"github.com/mentord/mentord/templates"
)

// reply logs a mentee's answers: the prompt is found and the sender checked,
// the message is read again with the exact questions and text that were sent,
// and each answer goes to the progress log (a later answer supersedes).
func (a *apply) reply(ctx context.Context) error {
	p, err := a.findPrompt(ctx)
	if errors.Is(err, errNoPrompt) {
		return a.talk(ctx, nil) // a new message: from a participant, or a stranger's
	}
	if err != nil {
		return err
	}
	a.in.SessionID, a.in.PersonID = &p.SessionID, &p.PersonID
	doubt := a.senderDoubt()
	switch {
	case a.res.Header.FromProblem != "":
		a.set(store.OutcomeQuarantined, doubt)
		return nil
	case !sameAddress(a.res.Header.From, p.Email):
		a.set(store.OutcomeQuarantined, fmt.Sprintf("sender_mismatch: the reply names a message sent to someone else (matched by %s)", p.Matched))
		return nil
	case doubt != "":
		a.set(store.OutcomeQuarantined, doubt)
		return nil
	}
	if late := a.lateForPrompt(p); late != "" {
		a.set(store.OutcomeLate, late)
		return nil
	}
	if p.Purpose != store.PurposeChecklist && p.Purpose != store.PurposeReflection {
		return a.talk(ctx, &p) // a written reply to an invite, brief, notice, ...: the conversation's
	}
	prompt, qs, err := readAgainst(ctx, a.tx, p)
	if err != nil {
		return err
	}
	res, err := reply.Parse(a.raw, reply.Options{Prompt: prompt, Names: knownNames(p), MaxBytes: int64(a.r.Cfg.IMAP.MaxMessageSize)})
	if err != nil {
		return fmt.Errorf("read the reply again with its prompt: %w", err)
	}
	if strings.TrimSpace(res.NewText) == "" {
		a.set(store.OutcomeIgnored, "empty reply: nothing was typed")
		return nil
	}
	a.set(store.OutcomeLogged, "matched by "+p.Matched)
	a.out.Answers = len(res.Answers)
	a.later(func(ctx context.Context, inboundID int64) error { return a.logReply(ctx, inboundID, p, qs, res) })
	return nil
}

func (a *apply) logReply(ctx context.Context, inboundID int64, p store.PromptRef, qs []templates.Question, res *reply.Result) error {
	now := a.r.Now()
	rep := &store.Reply{InboundID: inboundID, SessionID: p.SessionID, PersonID: p.PersonID, PromptKind: p.Purpose,
		NewText: res.NewText, ReceivedAt: now, AckWanted: a.r.Cfg.AcknowledgeReplies(), Thread: threadOf(res.Header)}
	if err := store.InsertReply(ctx, a.tx, rep); err != nil {
		return err
	}
	for _, q := range qs {
		answer, ok := res.Answers[q.Number]
		if !ok || strings.TrimSpace(answer) == "" {
			continue
		}
		e := &store.Entry{ReplyID: rep.ID, SessionID: p.SessionID, PersonID: p.PersonID, PromptKind: p.Purpose,
			QuestionNo: q.Number, Question: q.Text, Answer: answer, ReceivedAt: now, SourceMsgID: a.res.Header.MessageID,
			TiedBy: string(res.Ties[q.Number])}
		if err := store.LogAnswer(ctx, a.tx, e); err != nil {
			return err
		}
		switch q.Key {
		case "promises":
			if err := store.ReplacePromises(ctx, a.tx, p.PairID, p.SessionID, e.ID, promiseItems(answer), now); err != nil {
				return err
			}
		case "promises-kept":
			if status := keptStatus(answer); status != "" {
				if err := store.ReviewPromises(ctx, a.tx, p.PairID, p.SessionID, status, now); err != nil {
					return err
				}
			}
		case "share-plans":
			if share, clear := yesOrNo(answer); clear {
				if err := store.SetSharePlans(ctx, a.tx, p.PairID, share); err != nil {
					return err
				}
			}
		}
	}
	return store.MarkReplied(ctx, a.tx, p.ID, now)
}

var bullet = regexp.MustCompile(`^\s*(?:[-*•·–]|\d{1,2}[.)]|[a-z][.)])\s+`)

// promiseItems splits the answer to "What have I promised to do before the
// next session?" into action items: one per bullet or line, or the whole
// answer when it is one paragraph.
func promiseItems(answer string) []string {
	var items []string
	for _, line := range strings.Split(answer, "\n") {
		line = strings.TrimSpace(bullet.ReplaceAllString(line, ""))
		if line != "" {
			items = append(items, line)
		}
	}
	if len(items) > 12 { // prose wrapped over many lines: keep it whole
		return []string{strings.Join(strings.Fields(answer), " ")}
	}
	return items
}

var (
	keptYes = regexp.MustCompile(`(?i)^\s*(yes|yep|done|all done|ja|jo|gjort|oui|sí|si|sim)(?:[^\pL\pN]|$)`)
	keptNo  = regexp.MustCompile(`(?i)^\s*(no|not yet|nope|nej|ikke endnu|non|nein)\b`)
)

var (
	saysYes = regexp.MustCompile(`(?i)^\s*(yes|yep|yeah|sure|of course|certainly|please do|ok|okay|fine|ja|jo|gerne|selvfølgelig|oui|sí|si|sim)(?:[^\pL\pN]|$)`)
	saysNo  = regexp.MustCompile(`(?i)^\s*(no|nope|not|rather not|i'?d rather not|nej|helst ikke|ikke|non|nein)(?:[^\pL\pN]|$)`)
)

// yesOrNo reads a yes-or-no question's answer; clear is false when it is
// neither a plain yes nor a plain no ("I'll think about it"), and then
// nothing changes. A no wins when the answer starts with one.
func yesOrNo(answer string) (yes, clear bool) {
	switch {
	case saysNo.MatchString(answer):
		return false, true
	case saysYes.MatchString(answer):
		return true, true
	}
	return false, false
}

// keptStatus reads "Did I do what I promised last time?": done, not_done or
// "" when the answer is neither a clear yes nor a clear no (it stays open).
func keptStatus(answer string) string {
	switch {
	case keptNo.MatchString(answer):
		return "not_done"
	case keptYes.MatchString(answer):
		return "done"
	}
	return ""
}
