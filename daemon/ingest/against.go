package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/reply"
	"github.com/mentord/mentord/templates"
)

// readAgainst is what a reply tied to prompt p is read against: the exact
// questions the prompt asked, and the text of every message the reply may
// quote. That is the message its token or Message-ID names (a nudge, an
// acknowledgement: their texts are kept while replies are taken) and the
// prompt's first message (the checklist or reflection itself). A client that
// quotes without '>' (Outlook puts the original under a From/Sent/To/Subject
// block) then has each quoted line recognised, so none of mentord's own
// words is taken for an answer, and answers typed inside such a quote are
// found.
func readAgainst(ctx context.Context, q store.Querier, p store.PromptRef) (*reply.Prompt, []templates.Question, error) {
	var qs []templates.Question
	if err := json.Unmarshal([]byte(p.Questions), &qs); err != nil {
		return nil, nil, fmt.Errorf("questions of prompt %d: %w", p.ID, err)
	}
	prompt := &reply.Prompt{Body: p.SentText}
	for _, q := range qs {
		prompt.Questions = append(prompt.Questions, reply.Question{Number: q.Number, Text: q.Text})
	}
	if p.OutboxID != nil {
		text, err := store.SentText(ctx, q, *p.OutboxID)
		if err != nil {
			return nil, nil, err
		}
		if strings.TrimSpace(text) != "" && text != p.SentText {
			prompt.Body = text + "\n\n" + p.SentText
		}
	}
	return prompt, qs, nil
}

// knownNames are the names mentord knows for the person a prompt went to,
// beside the From display name the parser reads itself: a line that is one
// of them ends the typed text as a sign-off.
func knownNames(p store.PromptRef) []string {
	if name := strings.TrimSpace(p.Name); name != "" {
		return []string{name}
	}
	return nil
}

// threadOf is the thread an acknowledgement of the reply h joins: h's
// References (or In-Reply-To) and then its Message-ID, only ids that are
// msg-ids, bounded (mail.Thread); "" when h's Message-ID is not one.
func threadOf(h reply.Header) string {
	return strings.Join(mail.Thread(h.References, h.InReplyTo, h.MessageID), " ")
}
