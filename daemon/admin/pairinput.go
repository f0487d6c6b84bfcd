package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/schedule"
	"github.com/mentord/mentord/daemon/store"
)

// PairInput is a new pair as an admin gives it, on the command line or as a CSV
// row: text fields, checked by validate. The field names are the CSV columns
// (and, with "-" for "_", the flags of `mentord pair add`).
type PairInput struct {
	MentorName, MentorEmail, MentorTZ, MentorLang string
	MenteeName, MenteeEmail, Lang                 string
	Start, TZ, Every, Sessions, Duration          string
	Location, ReviewEvery, Objectives             string
	Contact, Progress, End                        string
	SharePlans                                    string // yes or no (default): the mentee lets the mentor see their plans
}

// FieldError is one bad field of an input.
type FieldError struct {
	Field string // CSV column name, like "mentor_email"
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// InputError is every problem with one input; nothing was changed.
type InputError []FieldError

func (e InputError) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "; ")
}

// Limits on free text, to keep one bad row from filling the database.
const (
	maxName = 200
	maxLine = 1000
	maxText = 8000
)

// DefaultReviewEvery is how often a relationship review comes when not given.
const DefaultReviewEvery = 4

// DefaultProgressRecording says how progress is recorded when the pair did not say.
const DefaultProgressRecording = "Planning and reflection answers by email, kept in the programme's progress log"

// pairSpec is a validated PairInput.
type pairSpec struct {
	mentor, mentee store.Person
	sharePlans     bool
	agreement      store.Agreement
	plan           []schedule.Planned
	hash           string // identifies the input, so adding it again changes nothing
}

type validator struct {
	errs InputError
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) text(field, s string, required bool, max int, multiline bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		v.fail(field, "required")
	case len(s) > max:
		v.fail(field, "longer than %d characters", max)
	case !multiline && strings.ContainsAny(s, "\r\n"):
		v.fail(field, "must be a single line")
	case strings.ContainsRune(s, 0):
		v.fail(field, "contains a NUL character")
	case strings.IndexFunc(s, records.Hidden) >= 0:
		// It goes into every invitation and message, and to the admin's terminal.
		v.fail(field, "contains a control character (a terminal escape, a bell) or a bidi override; only text, line breaks and tabs")
	}
	return s
}

func (v *validator) email(field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.fail(field, "required")
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsAny(s, "\r\n") {
		v.fail(field, "%q is not a plain email address (like name@example.org)", s)
		return ""
	}
	if err := compose.CheckAddress(a.Address); err != nil {
		v.fail(field, "%q can never be mailed: %v", s, err)
		return ""
	}
	return a.Address
}

// name reads a person's name: one line that every message and invitation
// can carry (compose.CheckName, the composer's own check).
func (v *validator) name(field, s string) string {
	n := len(v.errs)
	s = v.text(field, s, true, maxName, false)
	if len(v.errs) == n {
		if err := compose.CheckName(s); err != nil {
			v.fail(field, "%q can never be mailed: %v", s, err)
		}
	}
	return s
}

func (v *validator) zone(field, s, def string) (string, *time.Location) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = def
	}
	loc, err := time.LoadLocation(s)
	if err != nil || s == "Local" || s == "" {
		v.fail(field, "unknown time zone %q (use an IANA name such as Europe/Copenhagen)", s)
		return s, nil
	}
	return s, loc
}

func (v *validator) lang(field, s, def string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		s = def
	}
	if !slices.Contains(config.Languages, s) {
		v.fail(field, "language must be one of %s, not %q", strings.Join(config.Languages, ", "), s)
	}
	return s
}

func (v *validator) integer(field, s string, def, lo, hi int) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.fail(field, "must be a whole number from %d to %d, not %q", lo, hi, s)
	}
	return n
}

func (v *validator) yesNo(field, s string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def
	case "yes", "true", "1", "on":
		return true
	case "no", "false", "0", "off":
		return false
	}
	v.fail(field, "must be yes or no, not %q", s)
	return def
}

// sessionLength reads "60m", "1h30m" or a bare number of minutes.
func (v *validator) sessionLength(field, s string, def int) int {
	s = strings.TrimSpace(s)
	if s == "" {
		if def > 0 {
			return def
		}
		v.fail(field, "required, like 60m or 1h30m")
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		s = strconv.Itoa(n) + "m"
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 10*time.Minute || d > 8*time.Hour || d%time.Minute != 0 {
		v.fail(field, "must be whole minutes between 10m and 8h, like 60m or 1h30m, not %q", s)
		return 0
	}
	return int(d / time.Minute)
}

// validate checks every field, collecting all problems; dates must lie in
// the window around now (schedule.CheckWindow).
func (in PairInput) validate(cfg *config.Config, now time.Time) (pairSpec, error) {
	v := &validator{}
	var sp pairSpec
	def := cfg.Defaults
	sp.mentor.Name = v.name("mentor_name", in.MentorName)
	sp.mentor.Email = v.email("mentor_email", in.MentorEmail)
	sp.mentee.Name = v.name("mentee_name", in.MenteeName)
	sp.mentee.Email = v.email("mentee_email", in.MenteeEmail)
	if sp.mentor.Email != "" && strings.EqualFold(sp.mentor.Email, sp.mentee.Email) {
		v.fail("mentee_email", "the mentor and the mentee must be different people")
	}
	for _, p := range []struct{ field, addr string }{{"mentor_email", sp.mentor.Email}, {"mentee_email", sp.mentee.Email}} {
		if p.addr != "" && strings.EqualFold(p.addr, cfg.Mailbox.Address) {
			v.fail(p.field, "%s is the programme's own mailbox", p.addr)
		}
	}
	tz, loc := v.zone("tz", in.TZ, def.Timezone)
	sp.mentee.Timezone = tz
	if loc != nil || strings.TrimSpace(in.MentorTZ) != "" {
		sp.mentor.Timezone, _ = v.zone("mentor_tz", in.MentorTZ, tz)
	}
	sp.mentee.Language = v.lang("lang", in.Lang, def.Language)
	sp.mentor.Language = v.lang("mentor_lang", in.MentorLang, sp.mentee.Language)

	a := &sp.agreement
	a.Timezone = tz
	a.Location = v.text("location", in.Location, true, maxLine, false)
	a.Objectives = v.text("objectives", in.Objectives, false, maxText, true)
	a.Contact = v.text("contact", in.Contact, false, maxLine, true)
	a.ProgressRecording = v.text("progress", in.Progress, false, maxLine, true)
	if a.ProgressRecording == "" {
		a.ProgressRecording = DefaultProgressRecording
	}
	a.SessionMinutes = v.sessionLength("duration", in.Duration, 0)
	count := v.integer("sessions", in.Sessions, 0, 2, 60)
	if strings.TrimSpace(in.Sessions) == "" {
		v.fail("sessions", "required: how many sessions, the chemistry meeting and the final one included")
	}
	sp.sharePlans = v.yesNo("share_plans", in.SharePlans, false)
	a.ReviewEvery = v.integer("review_every", in.ReviewEvery, DefaultReviewEvery, 0, 60)
	cadence, err := schedule.ParseCadence(in.Every)
	if err != nil {
		v.fail("every", "%v", err)
	}
	a.Cadence = cadence.String()

	var first time.Time
	if loc == nil {
		// Still check the start's form, so that every error shows at once.
		if _, err := schedule.ParseLocal(in.Start, time.UTC); err != nil && strings.TrimSpace(in.Start) != "" {
			v.fail("start", "%v", err)
		}
	} else {
		if strings.TrimSpace(in.Start) == "" {
			v.fail("start", "required: the first session's local date and time, like 2027-01-12T14:00")
		} else if first, err = schedule.ParseLocal(in.Start, loc); err != nil {
			v.fail("start", "%v", err)
		} else if err := schedule.CheckWindow(first, now); err != nil {
			v.fail("start", "%v", err)
		}
	}
	if len(v.errs) > 0 {
		return sp, v.errs
	}

	sp.plan = schedule.Plan(first, cadence, count, a.ReviewEvery)
	a.StartsAt = first
	a.EndsAt = first.AddDate(1, 0, 0)
	if strings.TrimSpace(in.End) != "" {
		end, err := schedule.ParseDate(in.End, loc)
		if err == nil {
			err = schedule.CheckWindow(end, now)
		}
		if err != nil {
			v.fail("end", "%v", err)
			return sp, v.errs
		}
		a.EndsAt = end.AddDate(0, 0, 1) // the whole of the last day
	}
	last := sp.plan[len(sp.plan)-1].Start.Add(time.Duration(a.SessionMinutes) * time.Minute)
	if !a.EndsAt.After(first) {
		v.fail("end", "the agreement must end after its first session")
	} else if last.After(a.EndsAt) {
		v.fail("sessions", "%d sessions %s from %s run until %s, after the agreement ends (%s); give fewer sessions or a later end",
			count, cadence, first.Format("2006-01-02"), last.Format("2006-01-02"), a.EndsAt.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	if len(v.errs) > 0 {
		return sp, v.errs
	}
	sp.hash = specHash(sp)
	return sp, nil
}

// specHash identifies what the admin asked for, so the same pair added or
// imported again is recognised whatever has happened to its sessions since.
func specHash(sp pairSpec) string {
	a := sp.agreement
	h := sha256.New()
	for _, s := range []string{
		strings.ToLower(sp.mentor.Email), sp.mentor.Name, sp.mentor.Timezone, sp.mentor.Language,
		strings.ToLower(sp.mentee.Email), sp.mentee.Name, sp.mentee.Timezone, sp.mentee.Language,
		a.StartsAt.UTC().Format(time.RFC3339), a.EndsAt.UTC().Format(time.RFC3339), a.Timezone, a.Cadence,
		strconv.Itoa(len(sp.plan)), strconv.Itoa(a.SessionMinutes), strconv.Itoa(a.ReviewEvery),
		a.Location, a.Objectives, a.Contact, a.ProgressRecording, strconv.FormatBool(sp.sharePlans),
	} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
