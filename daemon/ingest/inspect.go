package ingest

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/mentord/mentord/calendar"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/reply"
)

// Inspection is how mentord understands one message, as `mentord inspect`
// prints it. It changes nothing.
type Inspection struct {
	Kind    string            `json:"kind"`
	NewText string            `json:"new_text"`
	Answers map[string]string `json:"answers"`
	// Tied says for each answer how it was tied to its question: "number",
	// "inline" (typed under the quoted question), "late-number" ("Forgot
	// 3: ..."), "topic" (led by the question's topic) or "order" (one
	// paragraph per question, in order), so an admin can see why.
	Tied   map[string]reply.Tie `json:"tied,omitempty"`
	ITIP   *InspectedITIP       `json:"itip,omitempty"`
	Reason string               `json:"reason,omitempty"`
	// FromProblem says why the From field is not exactly one mailbox: such
	// a message is never taken for a participant's.
	FromProblem string `json:"from_problem,omitempty"`
	// Prompt names what the reply answers, when a database was given and the
	// reply could be tied to a message mentord sent.
	Prompt *InspectedPrompt `json:"prompt,omitempty"`
}

// InspectedITIP is the first calendar answer in the message.
type InspectedITIP struct {
	Method       string  `json:"method"`
	UID          string  `json:"uid"`
	Attendee     string  `json:"attendee"`
	Partstat     *string `json:"partstat"`
	RecurrenceID *string `json:"recurrence_id"`
	Sequence     int     `json:"sequence"`
}

// InspectedPrompt is the prompt a reply was tied to.
type InspectedPrompt struct {
	Session   int64  `json:"session"`
	Purpose   string `json:"purpose"`
	MatchedBy string `json:"matched_by"`
	SenderOK  bool   `json:"sender_ok"`
}

// Inspect reads one message as the inbox would, without a database (db nil)
// or with one, read-only, to tie a reply to its prompt and use the exact
// questions and text that were sent.
func Inspect(ctx context.Context, raw []byte, cfg *config.Config, q store.Querier) (Inspection, error) {
	res, err := reply.Parse(raw, reply.Options{})
	if err != nil {
		return Inspection{Kind: string(reply.KindOther), Answers: map[string]string{}, Reason: err.Error()}, nil
	}
	if q != nil && cfg != nil && res.Kind == reply.KindReply {
		if p, err := findPrompt(ctx, q, cfg, res.Header); err == nil {
			prompt, _, err := readAgainst(ctx, q, p)
			if err != nil {
				return Inspection{}, err
			}
			if again, err := reply.Parse(raw, reply.Options{Prompt: prompt, Names: knownNames(p)}); err == nil {
				res = again
			}
			out := inspection(res)
			out.Prompt = &InspectedPrompt{Session: p.SessionID, Purpose: p.Purpose, MatchedBy: p.Matched,
				SenderOK: sameAddress(res.Header.From, p.Email)}
			return out, nil
		} else if !errors.Is(err, errNoPrompt) {
			return Inspection{}, err
		}
	}
	return inspection(res), nil
}

func inspection(res *reply.Result) Inspection {
	out := Inspection{Kind: string(res.Kind), Answers: map[string]string{}, Reason: res.Reason, FromProblem: res.Header.FromProblem}
	if res.Kind == reply.KindReply {
		out.NewText = res.NewText
		for n, a := range res.Answers {
			out.Answers[strconv.Itoa(n)] = a
			if tie, ok := res.Ties[n]; ok {
				if out.Tied == nil {
					out.Tied = map[string]reply.Tie{}
				}
				out.Tied[strconv.Itoa(n)] = tie
			}
		}
	}
	for _, part := range res.Calendar {
		replies, err := calendar.ParseReplies(part.Data, part.Method)
		if err != nil {
			if out.Reason == "" {
				out.Reason = "calendar part: " + err.Error()
			}
			continue
		}
		if len(replies) == 0 {
			continue
		}
		r := replies[0]
		it := &InspectedITIP{Method: r.Method, UID: r.UID, Attendee: r.Attendee, Sequence: r.Sequence}
		if r.Partstat != "" {
			it.Partstat = &r.Partstat
		}
		if r.RecurrenceID != nil {
			s := r.RecurrenceID.UTC().Format(time.RFC3339)
			it.RecurrenceID = &s
		}
		out.ITIP = it
		break
	}
	return out
}
