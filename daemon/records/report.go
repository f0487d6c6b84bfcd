package records

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/store"
)

// The programme report.

// ProgrammeReport is the programme at a glance, in counts: it holds no text
// that a mentee wrote (no answers, replies, promises or calendar comments).
type ProgrammeReport struct {
	GeneratedAt time.Time    `json:"generated_at"`
	Totals      ReportTotals `json:"totals"`
	// Themes: what the mentees want to talk about, in counts (LoadThemes);
	// nil when not loaded.
	Themes *Themes      `json:"themes,omitempty"`
	Pairs  []PairReport `json:"pairs"`
	// Match: the answers in force to "Are we the right match?", counted
	// over everyone asked. Unagreed: the active pairs whose chemistry
	// meeting is over AgreementWithinDays ago (timings.agreement_within) and
	// whose agreement nobody confirmed as both (no names of what anyone wrote).
	Match               store.MatchCounts    `json:"match"`
	Unagreed            []store.UnagreedPair `json:"unagreed"`
	AgreementWithinDays int                  `json:"agreement_within_days"`
}

// PairReport is one pair in the report. Risks is empty unless the pair is
// active and at risk.
type PairReport struct {
	ID          int64               `json:"pair_id"`
	Mentor      string              `json:"mentor"`
	Mentee      string              `json:"mentee"`
	Status      string              `json:"status"`
	Sessions    store.SessionCounts `json:"sessions"`
	MentorRSVPs store.InviteCounts  `json:"mentor_invitations"`
	MenteeRSVPs store.InviteCounts  `json:"mentee_invitations"`
	Checklists  PromptStats         `json:"checklists"`
	Reflections PromptStats         `json:"reflections"`
	AtRisk      bool                `json:"at_risk"`
	Risks       []string            `json:"risk_reasons"`
	PausedUntil *time.Time          `json:"paused_until,omitempty"` // paused now, until this day
}

// PromptStats is how one kind of prompt was answered.
type PromptStats struct {
	store.PromptCounts
	ReplyRate *float64 `json:"reply_rate"` // answered / sent, to two decimals; null when none was sent
}

// ReportTotals adds up the pairs.
type ReportTotals struct {
	Pairs       int                 `json:"pairs"`
	Active      int                 `json:"active"`
	Ended       int                 `json:"ended"`
	AtRisk      int                 `json:"at_risk"`
	Paused      int                 `json:"paused"`
	Sessions    store.SessionCounts `json:"sessions"`
	Invitations store.InviteCounts  `json:"invitations"` // mentors' and mentees' together
	Checklists  PromptStats         `json:"checklists"`
	Reflections PromptStats         `json:"reflections"`
}

// missingAfter is how long a prompt may wait for an answer before the report
// counts it missing (the reflection window).
const missingAfter = 7 * 24 * time.Hour

// reportRows is the counts of every pair, by pair id.
type reportRows struct {
	sessions  map[int64][]store.SessionCounts
	invites   map[int64][]store.InviteCounts
	prompts   map[int64][]store.PromptCounts
	declines  map[int64][]store.Declines
	proposals map[int64][]store.OpenProposals
	silent    map[int64]bool
}

func byPair[T any](xs []T, err error, id func(T) int64) (map[int64][]T, error) {
	m := map[int64][]T{}
	for _, x := range xs {
		m[id(x)] = append(m[id(x)], x)
	}
	return m, err
}

func loadReportRows(ctx context.Context, q store.Querier, now time.Time) (reportRows, error) {
	var r reportRows
	var err error
	errs := make([]error, 6)
	cutoff := now.Add(-missingAfter)
	xs, e := store.CountSessions(ctx, q, now)
	r.sessions, errs[0] = byPair(xs, e, func(c store.SessionCounts) int64 { return c.PairID })
	is, e := store.CountInvitations(ctx, q)
	r.invites, errs[1] = byPair(is, e, func(c store.InviteCounts) int64 { return c.PairID })
	ps, e := store.CountPrompts(ctx, q, cutoff)
	r.prompts, errs[2] = byPair(ps, e, func(c store.PromptCounts) int64 { return c.PairID })
	ds, e := store.CountDeclines(ctx, q)
	r.declines, errs[3] = byPair(ds, e, func(d store.Declines) int64 { return d.PairID })
	os, e := store.CountOpenProposals(ctx, q, now)
	r.proposals, errs[4] = byPair(os, e, func(o store.OpenProposals) int64 { return o.PairID })
	var silent []int64
	silent, errs[5] = store.SilentPairs(ctx, q, cutoff, now)
	r.silent = map[int64]bool{}
	for _, id := range silent {
		r.silent[id] = true
	}
	for _, err = range errs {
		if err != nil {
			break
		}
	}
	return r, err
}

// LoadReport counts, for every pair and the programme, the sessions, the
// answers to invitations and prompts, and the reasons a pair may be at risk;
// it lists the pairs without an agreement both confirmed agreementWithin
// after their first meeting (timings.agreement_within).
func LoadReport(ctx context.Context, q store.Querier, now time.Time, agreementWithin time.Duration) (ProgrammeReport, error) {
	pairs, err := store.ListPairs(ctx, q, "")
	if err != nil {
		return ProgrammeReport{}, fmt.Errorf("report: list pairs: %w", err)
	}
	rows, err := loadReportRows(ctx, q, now)
	if err != nil {
		return ProgrammeReport{}, fmt.Errorf("report: %w", err)
	}
	match, err := store.CountMatches(ctx, q)
	if err != nil {
		return ProgrammeReport{}, fmt.Errorf("report: match: %w", err)
	}
	unagreed, err := store.PairsWithoutAgreement(ctx, q, now.Add(-agreementWithin))
	if err != nil {
		return ProgrammeReport{}, fmt.Errorf("report: agreements: %w", err)
	}
	pauses, err := store.OpenPauses(ctx, q)
	if err != nil {
		return ProgrammeReport{}, fmt.Errorf("report: pauses: %w", err)
	}
	paused := map[int64]time.Time{}
	for _, pa := range pauses {
		paused[pa.PairID] = pa.Until
	}
	r := ProgrammeReport{GeneratedAt: store.UTC(now), Pairs: make([]PairReport, len(pairs)), Match: match, Unagreed: unagreed,
		AgreementWithinDays: int(agreementWithin.Hours() / 24)}
	for i, v := range pairs {
		r.Pairs[i] = rows.pair(v)
		if until, ok := paused[v.ID]; ok {
			r.Pairs[i].PausedUntil = &until
			r.Totals.Paused++
		}
		r.Totals.add(r.Pairs[i])
	}
	r.Totals.Checklists.rate()
	r.Totals.Reflections.rate()
	return r, nil
}

func (rows reportRows) pair(v store.PairView) PairReport {
	p := PairReport{ID: v.ID, Mentor: v.Mentor.Name, Mentee: v.Mentee.Name, Status: v.Status, Risks: []string{}}
	for _, c := range rows.sessions[v.ID] {
		p.Sessions = c
	}
	for _, c := range rows.invites[v.ID] {
		if c.Role == store.RoleMentee {
			p.MenteeRSVPs = c
		} else {
			p.MentorRSVPs = c
		}
	}
	for _, c := range rows.prompts[v.ID] {
		if c.Purpose == store.PurposeChecklist {
			p.Checklists.PromptCounts = c
		} else {
			p.Reflections.PromptCounts = c
		}
	}
	p.Checklists.rate()
	p.Reflections.rate()
	if v.Status == store.PairActive {
		p.Risks = rows.risks(v)
	}
	p.AtRisk = len(p.Risks) > 0
	return p
}

// risks names why an active pair may need the admin: a mentee silent for
// the last two prompts, someone who declined two sessions or more, mail that
// stopped after bounces, a proposed new time nobody has acted on.
func (rows reportRows) risks(v store.PairView) []string {
	rs := []string{}
	if rows.silent[v.ID] {
		rs = append(rs, "no reply to the last two prompts")
	}
	for _, d := range rows.declines[v.ID] {
		role := "former mentor"
		switch d.PersonID {
		case v.Mentee.ID:
			role = store.RoleMentee
		case v.Mentor.ID:
			role = store.RoleMentor
		}
		if d.Sessions >= 2 {
			rs = append(rs, fmt.Sprintf("%s (%s) declined %d sessions", d.Name, role, d.Sessions))
		}
	}
	for _, who := range []store.Person{v.Mentor, v.Mentee} {
		if who.SuspendedAt != nil {
			rs = append(rs, fmt.Sprintf("mail to %s is suspended after bounces (since %s)", who.Name, who.SuspendedAt.UTC().Format(time.DateOnly)))
		}
	}
	for _, o := range rows.proposals[v.ID] {
		rs = append(rs, fmt.Sprintf("%d open counter-proposal%s", o.Count, map[bool]string{true: "s"}[o.Count > 1]))
	}
	return rs
}

func (s *PromptStats) rate() {
	s.ReplyRate = nil
	if s.Sent > 0 {
		r := math.Round(float64(s.Answered)/float64(s.Sent)*100) / 100
		s.ReplyRate = &r
	}
}

func (t *ReportTotals) add(p PairReport) {
	t.Pairs++
	if p.Status == store.PairActive {
		t.Active++
	} else {
		t.Ended++
	}
	if p.AtRisk {
		t.AtRisk++
	}
	t.Sessions.Held += p.Sessions.Held
	t.Sessions.Declined += p.Sessions.Declined
	t.Sessions.ToCome += p.Sessions.ToCome
	t.Sessions.Cancelled += p.Sessions.Cancelled
	for _, c := range []store.InviteCounts{p.MentorRSVPs, p.MenteeRSVPs} {
		t.Invitations.Accepted += c.Accepted
		t.Invitations.Declined += c.Declined
		t.Invitations.Tentative += c.Tentative
		t.Invitations.NoAnswer += c.NoAnswer
		t.Invitations.Delegated += c.Delegated
	}
	for _, x := range []struct{ sum, c *PromptStats }{{&t.Checklists, &p.Checklists}, {&t.Reflections, &p.Reflections}} {
		x.sum.Sent += x.c.Sent
		x.sum.Answered += x.c.Answered
		x.sum.Late += x.c.Late
		x.sum.Missing += x.c.Missing
	}
}

// WriteReport writes the report as text, markdown, csv (one row per pair) or json.
func WriteReport(w io.Writer, r ProgrammeReport, format string) error {
	switch format {
	case "text":
		return reportDoc(r).writeText(w)
	case "markdown":
		return reportDoc(r).writeMarkdown(w)
	case "csv":
		return writeReportCSV(w, r)
	case "json":
		return writeJSON(w, r)
	}
	return unknownFormat(format)
}

func reportDoc(r ProgrammeReport) doc {
	var d doc
	d.heading(1, "Programme report, "+strings.Replace(r.GeneratedAt.UTC().Format(LocalLayout), "T", " ", 1)+" UTC")
	d.para("Counts only: nothing a mentee wrote is in this report.")
	t := r.Totals
	d.heading(2, "Programme")
	d.field("Pairs", fmt.Sprintf("%d (%d active, %d ended), %d at risk", t.Pairs, t.Active, t.Ended, t.AtRisk))
	if t.Paused > 0 {
		d.field("Paused", fmt.Sprintf("%d pairs paused now", t.Paused))
	}
	d.field("Sessions", sessionsLine(t.Sessions))
	d.field("Invitations", invitesLine(t.Invitations))
	d.field("Checklists", promptLine(t.Checklists, true))
	d.field("Reflections", promptLine(t.Reflections, false))
	m := r.Match
	d.field("Match check", fmt.Sprintf("%d yes, %d not sure yet, %d no, %d not answered", m.Yes, m.Unsure, m.No, m.Unanswered))
	un := make([]string, len(r.Unagreed))
	for i, u := range r.Unagreed {
		un[i] = strconv.FormatInt(u.PairID, 10)
	}
	d.field("Agreements", fmt.Sprintf("%d pairs without an agreement both confirmed %d days after their first meeting%s",
		len(r.Unagreed), r.AgreementWithinDays, map[bool]string{true: " (pairs " + strings.Join(un, ", ") + ")", false: ""}[len(un) > 0]))
	if th := r.Themes; th != nil {
		d.heading(2, "Themes")
		d.para(fmt.Sprintf("Of %d answers to the planning question on topics, how many named each of the guide's themes (an answer may name several).", th.Answers))
		for _, c := range th.Counts {
			d.field(c.Theme, strconv.Itoa(c.Topics))
		}
		d.field("none of them", strconv.Itoa(th.Unthemed))
	}
	for _, p := range r.Pairs {
		d.heading(2, fmt.Sprintf("Pair %d: %s mentors %s (%s)", p.ID, p.Mentor, p.Mentee, p.Status))
		d.field("Sessions", sessionsLine(p.Sessions))
		d.field("Mentor RSVPs", invitesLine(p.MentorRSVPs))
		d.field("Mentee RSVPs", invitesLine(p.MenteeRSVPs))
		d.field("Checklists", promptLine(p.Checklists, true))
		d.field("Reflections", promptLine(p.Reflections, false))
		risk := "no"
		if p.AtRisk {
			risk = "yes: " + strings.Join(p.Risks, "; ")
		}
		d.field("At risk", risk)
	}
	return d
}

func sessionsLine(c store.SessionCounts) string {
	if c.Declined > 0 {
		return fmt.Sprintf("%d held, %d declined, %d to come, %d cancelled", c.Held, c.Declined, c.ToCome, c.Cancelled)
	}
	return fmt.Sprintf("%d held, %d to come, %d cancelled", c.Held, c.ToCome, c.Cancelled)
}

func invitesLine(c store.InviteCounts) string {
	line := fmt.Sprintf("%d accepted, %d declined, %d tentative, %d no answer", c.Accepted, c.Declined, c.Tentative, c.NoAnswer)
	if c.Delegated > 0 {
		line += fmt.Sprintf(", %d passed on (delegated)", c.Delegated)
	}
	return line
}

func promptLine(s PromptStats, late bool) string {
	if s.ReplyRate == nil {
		return "none sent yet"
	}
	line := fmt.Sprintf("%d of %d answered (%.0f%%)", s.Answered, s.Sent, 100**s.ReplyRate)
	if late {
		line += fmt.Sprintf(", %d late", s.Late)
	}
	return line + fmt.Sprintf(", %d missing", s.Missing)
}

func writeReportCSV(w io.Writer, r ProgrammeReport) error {
	cw := newCSV(w)
	cw.Write([]string{"pair_id", "status", "mentor", "mentee", "sessions_held", "sessions_declined", "sessions_to_come", "sessions_cancelled",
		"mentor_accepted", "mentor_declined", "mentor_tentative", "mentor_no_answer",
		"mentee_accepted", "mentee_declined", "mentee_tentative", "mentee_no_answer",
		"checklists_sent", "checklists_answered", "checklist_reply_rate", "checklists_late", "checklists_missing",
		"reflections_sent", "reflections_answered", "reflection_reply_rate", "reflections_missing", "at_risk", "risk_reasons",
		"mentor_delegated", "mentee_delegated"}) // new columns go last, so older readers keep their positions
	n := strconv.Itoa
	rate := func(s PromptStats) string {
		if s.ReplyRate == nil {
			return ""
		}
		return strconv.FormatFloat(*s.ReplyRate, 'f', 2, 64)
	}
	for _, p := range r.Pairs {
		m, e, c, f := p.MentorRSVPs, p.MenteeRSVPs, p.Checklists, p.Reflections
		cw.Write([]string{strconv.FormatInt(p.ID, 10), p.Status, p.Mentor, p.Mentee,
			n(p.Sessions.Held), n(p.Sessions.Declined), n(p.Sessions.ToCome), n(p.Sessions.Cancelled),
			n(m.Accepted), n(m.Declined), n(m.Tentative), n(m.NoAnswer), n(e.Accepted), n(e.Declined), n(e.Tentative), n(e.NoAnswer),
			n(c.Sent), n(c.Answered), rate(c), n(c.Late), n(c.Missing), n(f.Sent), n(f.Answered), rate(f), n(f.Missing),
			strconv.FormatBool(p.AtRisk), strings.Join(p.Risks, "; "), n(m.Delegated), n(e.Delegated)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
