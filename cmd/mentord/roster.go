package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

func setupPairAdd(fs *flag.FlagSet) func(*env, *cmdline) error {
	var in admin.PairInput
	for _, f := range []struct {
		name, usage string
		dst         *string
	}{
		{"mentor-name", "the mentor's name (required)", &in.MentorName},
		{"mentor-email", "the mentor's address (required)", &in.MentorEmail},
		{"mentee-name", "the mentee's name (required)", &in.MenteeName},
		{"mentee-email", "the mentee's address (required)", &in.MenteeEmail},
		{"start", "the first (chemistry) session, local `time` like 2027-01-12T14:00 (required)", &in.Start},
		{"tz", "the pair's and mentee's time `zone`, like Europe/Copenhagen (default: defaults.timezone)", &in.TZ},
		{"every", "how often they meet: monthly, 2w, 4w, weekly, fortnightly, 6w, 2m, ... (required)", &in.Every},
		{"sessions", "how many sessions, chemistry and final included (required)", &in.Sessions},
		{"duration", "session length, like 60m or 1h30m (required)", &in.Duration},
		{"location", "where they meet: a room or a video link (required)", &in.Location},
		{"lang", "the mentee's language: en or da (default: defaults.language)", &in.Lang},
		{"mentor-tz", "the mentor's time zone (default: --tz)", &in.MentorTZ},
		{"mentor-lang", "the mentor's language (default: --lang)", &in.MentorLang},
		{"review-every", "every Nth session also reviews the relationship; 0 for never (default 4)", &in.ReviewEvery},
		{"objectives", "the mentee's objectives for the programme", &in.Objectives},
		{"contact", "how they stay in touch between sessions", &in.Contact},
		{"progress", "how progress is recorded (default: by email, in the progress log)", &in.Progress},
		{"end", "last day of the agreement, YYYY-MM-DD (default: one year after the start)", &in.End},
		{"share-plans", "yes or no: the mentee lets the mentor see their topics, the support they ask for and their check-ins in the brief the day before each session (default no)", &in.SharePlans},
	} {
		fs.StringVar(f.dst, f.name, "", f.usage)
	}
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q (values with spaces need quotes)", c.args[0])
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			ctx := context.Background()
			res, err := r.AddPair(ctx, in)
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintln(e.stderr, "note:", n)
			}
			p, err := r.Pair(ctx, res.PairID)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, p)
			}
			verb := "created"
			if !res.Created {
				verb = "already exists, unchanged"
			}
			fmt.Fprintf(e.stderr, "pair %d %s: %s mentors %s, %d sessions %s from %s %s\n", p.ID, verb,
				p.Mentor.Name, p.Mentee.Name, len(p.Sessions), p.Agreement.Cadence,
				records.LocalTime(p.Agreement.StartsAt, p.Agreement.Timezone), p.Agreement.Timezone)
			fmt.Fprintln(e.stdout, p.ID)
			return nil
		})
	}
}

func setupPairList(fs *flag.FlagSet) func(*env, *cmdline) error {
	status := fs.String("status", "", "only pairs with this `status`: active or ended")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("pair list takes no arguments")
		}
		if *status != "" && *status != store.PairActive && *status != store.PairEnded {
			return usagef("--status must be active or ended")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			ps, err := r.Pairs(context.Background(), *status)
			if err != nil {
				return err
			}
			if c.json {
				if ps == nil {
					ps = []admin.PairSummary{}
				}
				return printJSON(e.stdout, ps)
			}
			if len(ps) == 0 {
				fmt.Fprintln(e.stderr, "no pairs yet; add one with mentord pair add")
				return nil
			}
			tw := table(e.stdout, "ID", "STATUS", "MENTOR", "MENTEE", "SESSIONS", "NEXT SESSION")
			for _, p := range ps {
				next := "-"
				if p.NextSession != nil {
					next = records.LocalTime(*p.NextSession, p.Agreement.Timezone) + " " + p.Agreement.Timezone
				}
				fmt.Fprintf(tw, "%d\t%s\t%s <%s>\t%s <%s>\t%d held, %d to come, %d cancelled\t%s\n", p.ID, p.Status,
					p.Mentor.Name, p.Mentor.Email, p.Mentee.Name, p.Mentee.Email,
					p.Held, p.Sessions-p.Held-p.Cancelled, p.Cancelled, next)
			}
			return tw.Flush()
		})
	}
}

func setupPairShow(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			p, err := r.Pair(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, p)
			}
			printPair(e.stdout, p)
			return nil
		})
	}
}

func printPair(w io.Writer, p admin.PairDetail) {
	a := p.Agreement
	fmt.Fprintf(w, "Pair %d (%s)\n", p.ID, p.Status)
	fmt.Fprintf(w, "  Mentor      %s <%s>, %s, %s\n", p.Mentor.Name, p.Mentor.Email, p.Mentor.Timezone, p.Mentor.Language)
	fmt.Fprintf(w, "  Mentee      %s <%s>, %s, %s\n", p.Mentee.Name, p.Mentee.Email, p.Mentee.Timezone, p.Mentee.Language)
	fmt.Fprintf(w, "Agreement\n")
	fmt.Fprintf(w, "  Objectives  %s\n", orDash(a.Objectives))
	fmt.Fprintf(w, "  Meetings    %s, %d minutes, at %s\n", a.Cadence, a.SessionMinutes, a.Location)
	fmt.Fprintf(w, "  Contact     %s\n", orDash(a.Contact))
	fmt.Fprintf(w, "  Progress    %s\n", a.ProgressRecording)
	review := "never"
	if a.ReviewEvery > 0 {
		review = fmt.Sprintf("every %d sessions", a.ReviewEvery)
	}
	fmt.Fprintf(w, "  Review      %s\n", review)
	plans := "the mentee's own: the mentor's brief does not show them"
	if p.SharePlans {
		plans = "shared: the mentor's brief shows the mentee's topics, support asked for and check-ins"
	}
	fmt.Fprintf(w, "  Plans       %s\n", plans)
	fmt.Fprintf(w, "  Runs        %s to %s (%s)\n", records.LocalTime(a.StartsAt, a.Timezone)[:10],
		records.LocalTime(a.EndsAt.AddDate(0, 0, -1), a.Timezone)[:10], a.Timezone)
	who := map[int64]string{p.Mentor.ID: p.Mentor.Name, p.Mentee.ID: p.Mentee.Name}
	for _, v := range p.Versions {
		by := "mentord's draft"
		if v.ProposedByName != "" {
			by = "proposed by " + v.ProposedByName + ", changing " + strings.ReplaceAll(v.Changed, ",", ", ")
		}
		state := "waiting"
		if v.AgreedAt != nil {
			state = "agreed " + records.LocalTime(*v.AgreedAt, a.Timezone)
		}
		fmt.Fprintf(w, "  Version %d  %s (%s): %s, %d minutes, at %s\n", v.Version, state, by, v.Cadence, v.SessionMinutes, v.Location)
		for _, c := range v.Confirmed {
			fmt.Fprintf(w, "    confirmed by %s at %s\n", who[c.PersonID], records.LocalTime(c.ConfirmedAt, a.Timezone))
		}
	}
	fmt.Fprintln(w, "Match (for the admin only)")
	for _, role := range []string{"mentor", "mentee"} {
		m := p.Match[role]
		if m == nil {
			fmt.Fprintf(w, "  %-10s  no answer\n", role)
			continue
		}
		fmt.Fprintf(w, "  %-10s  %s on %s%s\n", role, map[string]string{"yes": "yes", "unsure": "not sure yet", "no": "no"}[m.Answer],
			records.LocalTime(m.ReceivedAt, a.Timezone), map[bool]string{true: ": " + records.Clean(m.Reason), false: ""}[m.Reason != ""])
	}
	fmt.Fprintln(w, "Sessions")
	printSessions(w, p.Sessions)
}

func printSessions(w io.Writer, ss []admin.SessionDetail) {
	tw := table(w, "  ID", "NO", "KIND", "WHEN (LOCAL)", "ZONE", "MIN", "STATUS", "SEQ", "MENTOR", "MENTEE")
	for _, s := range ss {
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", s.ID, s.Number, s.Kind, strings.Replace(s.Local, "T", " ", 1),
			s.Timezone, s.DurationMin, s.Status, s.Sequence, s.Mentor, s.Mentee)
	}
	tw.Flush()
}

func setupPairEnd(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			n, err := r.EndPair(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, map[string]any{"pair_id": id, "status": store.PairEnded, "sessions_cancelled": n})
			}
			fmt.Fprintf(e.stdout, "pair %d ended; %d sessions still to come were cancelled\n", id, n)
			return nil
		})
	}
}

func setupPairReplaceMentor(fs *flag.FlagSet) func(*env, *cmdline) error {
	name := fs.String("mentor-name", "", "the new mentor's name (required)")
	email := fs.String("mentor-email", "", "the new mentor's address (required)")
	tz := fs.String("mentor-tz", "", "the new mentor's time zone (default: the old mentor's)")
	lang := fs.String("mentor-lang", "", "the new mentor's language (default: the old mentor's)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			v, err := r.ReplaceMentor(context.Background(), id, *name, *email, *tz, *lang)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, v)
			}
			fmt.Fprintf(e.stdout, "pair %d: %s <%s> now mentors %s for the sessions still to come\n", v.ID, v.Mentor.Name, v.Mentor.Email, v.Mentee.Name)
			return nil
		})
	}
}

func setupPairSharePlans(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) != 2 {
			return usagef("give the pair's id and yes or no")
		}
		id, err := parseID(c.args[0], "pair")
		if err != nil {
			return err
		}
		var share bool
		switch strings.ToLower(c.args[1]) {
		case "yes", "true", "on":
			share = true
		case "no", "false", "off":
		default:
			return usagef("say yes or no, not %q", c.args[1])
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			if err := r.SetSharePlans(context.Background(), id, share); err != nil {
				return err
			}
			if share {
				fmt.Fprintf(e.stdout, "pair %d: the mentor now sees the mentee's topics, support asked for and check-ins in the brief before each session\n", id)
			} else {
				fmt.Fprintf(e.stdout, "pair %d: the mentee's answers and check-ins stay private; the mentor's brief holds none of them\n", id)
			}
			return nil
		})
	}
}

func setupImport(fs *flag.FlagSet) func(*env, *cmdline) error {
	dryRun := fs.Bool("dry-run", false, "check every row and report, but change nothing")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) != 1 {
			return usagef("give one CSV file (or - for standard input)")
		}
		var src io.Reader = e.stdin
		if c.args[0] != "-" {
			f, err := os.Open(c.args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			src = f
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			rep, err := r.Import(context.Background(), src, *dryRun)
			if rep.Rows == nil {
				return err // the file itself could not be read
			}
			if c.json {
				if perr := printJSON(e.stdout, rep); perr != nil {
					return perr
				}
			} else {
				printImport(e.stdout, c.args[0], rep)
			}
			return err
		})
	}
}

func printImport(w io.Writer, file string, rep admin.ImportReport) {
	for _, row := range rep.Rows {
		switch row.Action {
		case "error":
			for _, msg := range row.Errors {
				fmt.Fprintf(w, "%s:%d: %s\n", file, row.Line, msg)
			}
		case "created":
			if rep.Committed {
				fmt.Fprintf(w, "%s:%d: pair %d created (%s mentors %s)\n", file, row.Line, row.PairID, row.Mentor, row.Mentee)
			} else if rep.Failed == 0 {
				fmt.Fprintf(w, "%s:%d: ok, would be created (%s mentors %s)\n", file, row.Line, row.Mentor, row.Mentee)
			}
		default:
			if row.PairID == 0 { // a dry run: the pair of an earlier line, not kept
				fmt.Fprintf(w, "%s:%d: ok, the same pair as an earlier line (%s mentors %s)\n", file, row.Line, row.Mentor, row.Mentee)
				break
			}
			fmt.Fprintf(w, "%s:%d: pair %d unchanged (%s mentors %s)\n", file, row.Line, row.PairID, row.Mentor, row.Mentee)
		}
		for _, n := range row.Notes {
			fmt.Fprintf(w, "%s:%d: note: %s\n", file, row.Line, n)
		}
	}
	switch {
	case rep.Failed > 0:
		fmt.Fprintf(w, "%d rows bad: nothing was imported\n", rep.Failed)
	case rep.DryRun:
		fmt.Fprintf(w, "dry run: %d pairs would be created, %d already exist unchanged; nothing was changed\n", rep.Created, rep.Unchanged)
	default:
		fmt.Fprintf(w, "imported: %d pairs created, %d already existed unchanged\n", rep.Created, rep.Unchanged)
	}
}

func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
