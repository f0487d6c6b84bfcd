package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

// The notices people get when the pair's plans change, each tried as a user
// would: a calendar answer in, the mail out read as the person reads it, in
// English and Danish.

const adminAddr = "admin@example.org"

// newNotices is a pair of twelve monthly sessions from 12 January 2027 whose
// first invitations went out on 1 December 2026; the mentor and the mentee
// read the given languages. withAdmin sets programme.admin_email.
func newNotices(t *testing.T, mentorLang, menteeLang string, withAdmin bool) *reading {
	t.Helper()
	// The COUNTER notices are those of programme.rescheduling: admin; with
	// pair (the default), the conversation asks the other one (talk_test.go).
	extra := "programme: {name: Staff Mentoring, rescheduling: admin}\n"
	if withAdmin {
		extra = "programme: {name: Staff Mentoring, admin_email: " + adminAddr + ", rescheduling: admin}\n"
	}
	s := newSim(t, utc("2026-12-01T09:00Z"), extra)
	pairID := addPair(t, s.roster, admin.PairInput{
		MentorName: "Ada Lovelace", MentorEmail: mentorAddr, MentorLang: mentorLang,
		MenteeName: "Bo Jensen", MenteeEmail: menteeAddr, Lang: menteeLang,
		TZ: "Europe/Copenhagen", Start: "2027-01-12T14:00", Every: "monthly", Sessions: "12", Duration: "60m", Location: "Room 4.12",
	})
	s.step()
	return &reading{sim: s, pairID: pairID, reader: &ingest.Reader{DB: s.db, Cfg: s.cfg, Tpl: s.tpl, Log: s.log, Now: func() time.Time { return s.now }}}
}

// proposal is a COUNTER for session 1 from the attendee at addr, two days later.
func (r *reading) proposal(t *testing.T, addr string) []byte {
	t.Helper()
	var s store.Session
	if err := r.db.R().Get(&s, `SELECT * FROM sessions WHERE number = 1`); err != nil {
		t.Fatal(err)
	}
	const f = "20060102T150405Z"
	proposed := s.StartsAt.Add(48 * time.Hour)
	raw := string(r.rsvp(t, addr, addr, "COUNTER", "TENTATIVE", s.Sequence, r.now, ""))
	raw = strings.Replace(raw, "DTSTART:"+s.StartsAt.UTC().Format(f), "DTSTART:"+proposed.UTC().Format(f), 1)
	raw = strings.Replace(raw, "DTEND:"+s.End().UTC().Format(f), "DTEND:"+proposed.Add(time.Hour).UTC().Format(f), 1)
	return []byte(raw)
}

// told is every notice of kind in the outbox, by recipient, as one line of
// text, with its subject first.
func (r *reading) told(t *testing.T, kind string) map[string]string {
	t.Helper()
	var rows []struct {
		Recipient string `db:"recipient"`
		Subject   string `db:"subject"`
		Payload   []byte `db:"payload"`
	}
	if err := r.db.R().Select(&rows, `SELECT o.recipient, o.subject, p.data AS payload FROM outbox o
		JOIN outbox_payloads p ON p.outbox_id = o.id WHERE o.kind = ?`, kind); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, row := range rows {
		raw, err := store.Unpack(row.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out[row.Recipient] = row.Subject + " | " + strings.Join(strings.Fields(textOf(t, raw)), " ")
	}
	return out
}

// says checks that text holds every one of want and none of never.
func says(t *testing.T, who, text string, want []string, never ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s is not told %q:\n%s", who, w, text)
		}
	}
	for _, n := range never {
		if strings.Contains(text, n) {
			t.Errorf("%s is told %q:\n%s", who, n, text)
		}
	}
}

// noCommands checks that no mail to a participant shows an admin's command.
func (r *reading) noCommands(t *testing.T) {
	t.Helper()
	var rows []struct {
		Recipient string `db:"recipient"`
		Payload   []byte `db:"payload"`
	}
	if err := r.db.R().Select(&rows, `SELECT o.recipient, p.data AS payload FROM outbox o
		JOIN outbox_payloads p ON p.outbox_id = o.id WHERE o.recipient <> ?`, adminAddr); err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		raw, _ := store.Unpack(row.Payload)
		if strings.Contains(string(raw), "mentord ") {
			t.Errorf("mail to %s shows an admin's command:\n%s", row.Recipient, textOf(t, raw))
		}
	}
}

func TestCounterNamesWhoProposed(t *testing.T) {
	// The mentee proposes: the mentor (in Danish) and the admin hear it is the mentee.
	r := newNotices(t, "da", "en", true)
	if out := r.ingest(r.proposal(t, menteeAddr)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("counter: %+v", out)
	}
	got := r.told(t, "counter")
	if len(got) != 2 {
		t.Fatalf("told %v, want the mentor and the admin", got)
	}
	id := r.sessionID(1)
	says(t, "the mentor", got[mentorAddr], []string{"Bo Jensen foreslår et andet tidspunkt for jeres mentorsamtale",
		"Bo Jensen foreslår at flytte din mentorsamtale 1 af 12", "Intet er ændret endnu", "Programmets sekretariat har fået besked"},
		"Ada Lovelace foreslår", "mentord")
	says(t, "the admin", got[adminAddr], []string{"Bo Jensen proposes to move the mentoring session 1 of 12 between Ada Lovelace (mentor) and Bo Jensen (mentee)",
		"Ada Lovelace has been told", "mentord session move " + itoa(id) + " --to 2027-01-14T14:00"}, "Ada Lovelace proposes")
	r.noCommands(t)

	// The mentor proposes, with no admin address: the mentee (in Danish) is
	// not told that a team was told.
	r = newNotices(t, "en", "da", false)
	if out := r.ingest(r.proposal(t, mentorAddr)); out.Outcome != store.OutcomeLogged {
		t.Fatalf("counter: %+v", out)
	}
	got = r.told(t, "counter")
	if len(got) != 1 {
		t.Fatalf("told %v, want the mentee alone (no admin address)", got)
	}
	says(t, "the mentee", got[menteeAddr], []string{"Ada Lovelace foreslår at flytte din mentorsamtale 1 af 12",
		"skriv til mentoring@example.org, så samtalen kan blive flyttet"}, "sekretariat har fået besked", "mentord")
}

func TestDeclineNoticesAreTrue(t *testing.T) {
	// The mentor declines before the checklist: the mentee (Danish) hears the
	// questions wait, the admin what to do; nothing goes before the session.
	r := newNotices(t, "en", "da", true)
	if out := r.ingest(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("decline: %+v", out)
	}
	got := r.told(t, "declined")
	id := itoa(r.sessionID(1))
	says(t, "the mentee", got[menteeAddr], []string{"Ada Lovelace kan ikke komme til jeres mentorsamtale",
		"Ada Lovelace har meldt afbud til din mentorsamtale 1 af 12",
		"Forberedelsesspørgsmålene til denne samtale venter, til samtalen er flyttet, eller Ada Lovelace accepterer den",
		"Programmets sekretariat har fået besked"}, "allerede fået", "mentord")
	says(t, "the admin", got[adminAddr], []string{"Declined: Ada Lovelace and Bo Jensen, mentoring session 1",
		"Ada Lovelace has declined the mentoring session 1 of 12", "Bo Jensen has been told",
		"mentord session move " + id + " --to YYYY-MM-DDTHH:MM", "mentord session cancel " + id})
	if len(got) != 2 {
		t.Errorf("told %d, want the mentee and the admin", len(got))
	}
	mark := len(r.got)
	r.runUntil(utc("2027-01-12T12:00Z"))
	for _, m := range r.got[mark:] {
		if m.Kind == "checklist" || m.Kind == "brief" || m.Kind == "nudge" {
			t.Errorf("%s went to %s for a declined session", m.Kind, m.To)
		}
	}
	st, err := admin.LoadStatus(context.Background(), r.db, r.cfg, r.now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range st.Upcoming {
		if u.Number == 1 {
			t.Errorf("status lists %s to the %s of session 1 as to come", u.Kind, u.To)
		}
	}
	if len(st.Held) != 1 || st.Held[0].Number != 1 || st.Held[0].By != "mentor DECLINED" || strings.Join(st.Held[0].Kinds, ",") != "checklist,reflection,brief" {
		t.Errorf("status held = %+v, want session 1's checklist, reflection and brief, held by the mentor's decline", st.Held)
	}
	r.noCommands(t)

	// The mentee declines after the checklist went, with no admin address:
	// the mentor (English) is told, and not that a team was.
	r = newNotices(t, "en", "da", false)
	r.runUntil(utc("2027-01-09T10:00Z"))
	if out := r.ingest(r.rsvp(t, menteeAddr, menteeAddr, "REPLY", "DECLINED", 0, r.now, "")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("decline: %+v", out)
	}
	got = r.told(t, "declined")
	if len(got) != 1 {
		t.Fatalf("told %v, want the mentor alone", got)
	}
	says(t, "the mentor", got[mentorAddr], []string{"Bo Jensen cannot make your mentoring session",
		"Bo Jensen has declined your mentoring session 1 of 12",
		"The note we send you the day before this session will wait until the session is moved or Bo Jensen accepts it",
		"write it to mentoring@example.org, so that the session can be moved"}, "has been told", "planning questions", "mentord")

	// The mentor declines after the checklist went: the mentee (English)
	// hears they already have the questions.
	r = newNotices(t, "da", "en", true)
	r.runUntil(utc("2027-01-09T10:00Z"))
	if out := r.ingest(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DECLINED", 0, r.now, "")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("decline: %+v", out)
	}
	says(t, "the mentee", r.told(t, "declined")[menteeAddr], []string{"You already have the planning questions for this session; no reminder will follow",
		"The programme team has been told"}, "will wait", "mentord")
	says(t, "the admin", r.told(t, "declined")[adminAddr], []string{"Declined: Ada Lovelace and Bo Jensen"}, "Afbud") // in the programme's language
}

func TestDelegatedIsToldHeldAndCounted(t *testing.T) {
	r := newNotices(t, "da", "en", true)
	if out := r.ingest(r.rsvp(t, mentorAddr, mentorAddr, "REPLY", "DELEGATED", 0, r.now, "")); out.Outcome != store.OutcomeLogged {
		t.Fatalf("delegated: %+v", out)
	}
	got := r.told(t, "declined")
	says(t, "the mentee", got[menteeAddr], []string{"Ada Lovelace has passed on your mentoring session",
		"Ada Lovelace's calendar has passed the invitation to your mentoring session 1 of 12",
		"this counts as a decline for now", "The planning questions for this session will wait"}, "mentord")
	says(t, "the admin", got[adminAddr], []string{"Passed on: Ada Lovelace and Bo Jensen, mentoring session 1",
		"on to someone else", "while it stands passed on", "mentord session cancel"})
	mark := len(r.got)
	r.runUntil(utc("2027-01-12T12:00Z"))
	for _, m := range r.got[mark:] {
		if m.Kind == "checklist" || m.Kind == "brief" {
			t.Errorf("%s went to %s for a delegated session", m.Kind, m.To)
		}
	}
	// The invitation went to the mentee from Danish Ada: the mentee's is read
	// back in the report, the mentor's answer counted as passed on.
	r.runUntil(utc("2027-01-20T12:00Z"))
	rep, err := records.LoadReport(context.Background(), r.db.R(), r.now, r.cfg.Timings.AgreementWithin.D())
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Pairs[0]
	if p.MentorRSVPs.Delegated != 1 || p.Sessions.Declined != 1 || p.Sessions.Held != 0 {
		t.Errorf("report: mentor %+v, sessions %+v; want one passed on, the session passed declined", p.MentorRSVPs, p.Sessions)
	}
	r.noCommands(t)
}

func TestReplacedMentorIsToldAsTheMentor(t *testing.T) {
	for _, lang := range []string{"en", "da"} {
		r := newNotices(t, lang, "en", true)
		if _, err := r.roster.ReplaceMentor(context.Background(), r.pairID, "Cy Hansen", "cy@example.net", "", lang); err != nil {
			t.Fatal(err)
		}
		mark := len(r.got)
		r.step()
		var cancels []simMsg
		for _, m := range r.got[mark:] {
			if m.Kind == "cancel" && m.To == mentorAddr {
				cancels = append(cancels, m)
			}
		}
		if len(cancels) != 2 {
			t.Fatalf("%s: %d cancellations to the old mentor, want sessions 1 and 2", lang, len(cancels))
		}
		text := strings.Join(strings.Fields(textOf(t, cancels[0].Raw)), " ")
		want := map[string][]string{
			"en": {"Cancelled: Mentoring session 1 of 12 with Bo Jensen", "is cancelled for you: Bo Jensen's sessions still to come continue with another mentor"},
			"da": {"Aflyst: Mentorsamtale 1 af 12 med Bo Jensen", "er aflyst for dig: Bo Jensens kommende samtaler fortsætter med en anden mentor"},
		}[lang]
		says(t, "the old mentor", headerOf(t, cancels[0].Raw, "Subject")+" "+text, want, "Cy Hansen")
		if _, ev := calendarOf(t, cancels[0].Raw); !strings.Contains(ev.Props.Get(ical.PropSummary).Value, "Ada Lovelace") {
			t.Errorf("%s: the cancelled event's title is %q, not the one the old mentor has", lang, ev.Props.Get(ical.PropSummary).Value)
		}
		validateICS(t, cancels...)
	}
}

func TestSessionKeepsItsNumber(t *testing.T) {
	r := newNotices(t, "en", "da", true)
	if _, err := r.roster.CancelSession(context.Background(), r.sessionID(2)); err != nil {
		t.Fatal(err)
	}
	r.runUntil(utc("2027-01-01T09:00Z")) // session 3's invitations (12 March) go out within 90 days
	var invites []simMsg
	for _, m := range r.got {
		if m.Kind == "invite" && strings.Contains(m.Key, ":"+itoa(r.sessionID(3))+":") {
			invites = append(invites, m)
		}
	}
	if len(invites) != 2 {
		t.Fatalf("%d invitations to session 3", len(invites))
	}
	for _, m := range invites {
		subject, text := headerOf(t, m.Raw, "Subject"), strings.Join(strings.Fields(textOf(t, m.Raw)), " ")
		_, ev := calendarOf(t, m.Raw)
		summary, desc := ev.Props.Get(ical.PropSummary).Value, ev.Props.Get(ical.PropDescription).Value
		if m.To == menteeAddr {
			says(t, "the mentee", subject+" "+text+" "+desc, []string{"Mentorsamtale 3 af 12", "mentorsamtale 3 af 12 (samtale 2 er aflyst)"}, "2 af 11")
		} else {
			says(t, "the mentor", subject+" "+text+" "+desc, []string{"Mentoring session 3 of 12", "mentoring session 3 of 12 (session 2 was cancelled)"}, "2 of 11")
		}
		if !strings.HasSuffix(summary, "(3/12)") {
			t.Errorf("calendar title %q, want session 3 of 12", summary)
		}
	}
	validateICS(t, invites...)
}

// The pair's last remaining session is the final one, whatever the order of
// the admin's edits; a session that stops being the last gets an update.
func TestLastSessionIsFinal(t *testing.T) {
	ctx := context.Background()
	short := func(t *testing.T) *reading {
		r := newNotices(t, "en", "da", false)
		var n int
		r.db.R().Get(&n, `SELECT COUNT(*) FROM sessions`)
		for i := 4; i <= n; i++ { // three sessions: January, February, March
			if _, err := r.roster.CancelSession(ctx, r.sessionID(i)); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	final := func(t *testing.T, r *reading) int {
		t.Helper()
		var nums []int
		r.db.R().Select(&nums, `SELECT number FROM sessions WHERE status = 'planned' AND kind = 'final'`)
		var last int
		r.db.R().Get(&last, `SELECT number FROM sessions WHERE status = 'planned' ORDER BY starts_at DESC LIMIT 1`)
		if len(nums) != 1 || nums[0] != last {
			t.Fatalf("final sessions %v, want only the last one, %d", nums, last)
		}
		return last
	}
	t.Run("cancel the final, then add one", func(t *testing.T) {
		r := short(t)
		if final(t, r) != 3 {
			t.Fatal("session 3 is not final once 4 to 12 are cancelled")
		}
		if _, err := r.roster.CancelSession(ctx, r.sessionID(3)); err != nil {
			t.Fatal(err)
		}
		if final(t, r) != 2 {
			t.Error("session 2 did not become final")
		}
		s, err := r.roster.AddSession(ctx, r.pairID, "2027-04-20T14:00", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if final(t, r) != s.Number {
			t.Error("the added session is not final")
		}
		// Session 2 was invited as the last; it is sent an update saying
		// what it now is.
		mark := len(r.got)
		r.step()
		var updates []simMsg
		for _, m := range r.got[mark:] {
			if m.Kind == "update" && strings.Contains(m.Key, ":"+itoa(r.sessionID(2))+":") {
				updates = append(updates, m)
			}
		}
		if len(updates) != 2 {
			t.Fatalf("%d updates of session 2, want one to each", len(updates))
		}
		for _, m := range updates {
			says(t, m.To, textOf(t, m.Raw), nil, "last session", "sidste samtale")
		}
		validateICS(t, updates...)
		// The added session's checklist asks for the evaluation, and the
		// year in review goes before it.
		r.runUntil(utc("2027-04-19T12:00Z"))
		kinds := map[string]bool{}
		for _, m := range r.got {
			if strings.Contains(m.Key, ":"+itoa(s.ID)+":") {
				kinds[m.Kind] = true
				if m.Kind == "invite" {
					_, ev := calendarOf(t, m.Raw)
					if d := ev.Props.Get(ical.PropDescription).Value; !strings.Contains(d, "last session") && !strings.Contains(d, "sidste") {
						t.Errorf("the added final session's invite does not say it is the last:\n%s", d)
					}
				}
			}
		}
		if !kinds["digest"] || !kinds["checklist"] {
			t.Errorf("before the added final session: %v, want the year in review and the checklist", kinds)
		}
	})
	t.Run("add one after the final, then cancel it", func(t *testing.T) {
		r := short(t)
		s, err := r.roster.AddSession(ctx, r.pairID, "2027-04-20T14:00", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if final(t, r) != s.Number {
			t.Error("the added session is not final")
		}
		var kind string
		r.db.R().Get(&kind, `SELECT kind FROM sessions WHERE number = 3`)
		if kind != store.KindRegular {
			t.Errorf("session 3 is %s after a session was added after it, want regular", kind)
		}
		if _, err := r.roster.CancelSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if final(t, r) != 3 {
			t.Error("session 3 is not final again")
		}
	})
	t.Run("move one past the final", func(t *testing.T) {
		r := short(t)
		if _, err := r.roster.MoveSession(ctx, r.sessionID(2), "2027-04-01T14:00"); err != nil {
			t.Fatal(err)
		}
		if final(t, r) != 2 {
			t.Error("the session moved past the final is not final")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// validateICS runs the outside parsers of ../shared/tools/validate_ics.sh
// --strict on the messages, when the tool is there.
func validateICS(t *testing.T, msgs ...simMsg) {
	t.Helper()
	tool, _ := filepath.Abs("../../shared/tools/validate_ics.sh")
	if _, err := os.Stat(tool); err != nil {
		t.Logf("validate_ics.sh not found (%v): invites not checked by outside parsers", err)
		return
	}
	dir := t.TempDir()
	args := []string{"--strict"}
	for i, m := range msgs {
		f := filepath.Join(dir, itoa(int64(i))+"-"+m.Kind+".eml")
		if err := os.WriteFile(f, m.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("validate_ics.sh --strict: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "RESULT ") {
			t.Log(line)
		}
	}
}
