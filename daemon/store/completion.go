package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// A pair completes when its final session is held: planned (not cancelled),
// ended, and declined or passed on by neither of them, as the report counts
// "held". Each of the two then gets the record for promotion once, under
// the idempotency key RecordKey, whatever happens to the pair's sessions
// afterwards.

// RecordKey is the outbox idempotency key of the record for promotion sent
// to one person of a pair: one per person per pair, ever.
func RecordKey(pairID, personID int64) string {
	return "record:" + strconv.FormatInt(pairID, 10) + ":" + strconv.FormatInt(personID, 10)
}

// Completion is a pair's final session, held, with a person of the pair who
// has not been sent the record yet.
type Completion struct {
	PairID    int64     `db:"pair_id"`
	SessionID int64     `db:"session_id"`
	PersonID  int64     `db:"person_id"`
	Timezone  string    `db:"timezone"` // the person's
	StartsAt  time.Time `db:"starts_at"`
	Minutes   int       `db:"duration_min"`
}

// End is when the final session ended.
func (c Completion) End() time.Time { return c.StartsAt.Add(time.Duration(c.Minutes) * time.Minute) }

// Completions returns the final sessions starting from from to to (sessions
// last at most 8 hours), planned and declined by nobody, with each of the
// pair's two people who has no record in the outbox yet. Whether a session
// has ended is the caller's to judge, at its own now.
func Completions(ctx context.Context, q Querier, from, to time.Time) ([]Completion, error) {
	var cs []Completion
	err := sqlx.SelectContext(ctx, q, &cs, `WITH final AS (
			SELECT s.id, s.pair_id, s.starts_at, s.duration_min, p.mentor_id, p.mentee_id FROM sessions s JOIN pairs p ON p.id = s.pair_id
			WHERE s.starts_at BETWEEN ? AND ? AND s.kind = 'final' AND s.status = 'planned'
				AND NOT EXISTS (SELECT 1 FROM session_attendees a WHERE a.session_id = s.id AND a.partstat IN ('DECLINED', 'DELEGATED'))),
		person AS (SELECT id AS session_id, pair_id, starts_at, duration_min, mentor_id AS person_id FROM final
			UNION ALL SELECT id, pair_id, starts_at, duration_min, mentee_id FROM final)
		SELECT x.pair_id, x.session_id, x.person_id, pp.timezone, x.starts_at, x.duration_min
		FROM person x JOIN people pp ON pp.id = x.person_id
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = 'record:' || x.pair_id || ':' || x.person_id)
		ORDER BY x.starts_at, x.pair_id, x.person_id`, UTC(from), UTC(to))
	if err != nil {
		return nil, fmt.Errorf("completions: %w", err)
	}
	return cs, nil
}

// PairTally is what the record for promotion states of a pair's sessions:
// the ones held by now in time order, and how many it planned in all.
type PairTally struct {
	Held    []Session
	Planned int // not cancelled: held, passed declined or to come
}

// TallyPair counts a pair's sessions at now. Held means what the report
// means: planned, ended by now, declined or passed on by neither person.
func TallyPair(ctx context.Context, q Querier, pairID int64, now time.Time) (PairTally, error) {
	var t PairTally
	ss, err := ListSessions(ctx, q, pairID)
	if err != nil {
		return t, err
	}
	var declined []int64
	if err := sqlx.SelectContext(ctx, q, &declined, `SELECT DISTINCT a.session_id FROM session_attendees a JOIN sessions s ON s.id = a.session_id
		WHERE s.pair_id = ? AND a.partstat IN ('DECLINED', 'DELEGATED')`, pairID); err != nil {
		return t, fmt.Errorf("tally pair %d: %w", pairID, err)
	}
	no := map[int64]bool{}
	for _, id := range declined {
		no[id] = true
	}
	for _, s := range ss {
		if s.Status != SessionPlanned {
			continue
		}
		t.Planned++
		if !s.End().After(now) && !no[s.ID] {
			t.Held = append(t.Held, s)
		}
	}
	return t, nil
}

// TopicAnswer is a mentee's answer in force to a checklist's topics
// question, with the language it was asked in. The report only counts
// them against the guide's themes; nothing shows their text.
type TopicAnswer struct {
	Language string `db:"language"`
	Answer   string `db:"answer"`
}

// TopicAnswers returns every answer in force to the question with key
// "topics" of a planning checklist.
func TopicAnswers(ctx context.Context, q Querier) ([]TopicAnswer, error) {
	var as []TopicAnswer
	err := sqlx.SelectContext(ctx, q, &as, `SELECT pp.language, e.answer FROM progress_entries e
		JOIN prompts pp ON pp.session_id = e.session_id AND pp.person_id = e.person_id AND pp.purpose = e.prompt_kind
		WHERE e.superseded_by IS NULL AND e.prompt_kind = 'checklist'
			AND EXISTS (SELECT 1 FROM json_each(pp.questions) j
				WHERE json_extract(j.value, '$.number') = e.question_no AND json_extract(j.value, '$.key') = 'topics')`)
	if err != nil {
		return nil, fmt.Errorf("topic answers: %w", err)
	}
	return as, nil
}
