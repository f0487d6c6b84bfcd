package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

func setupStatus(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("status takes no arguments")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			st, err := admin.LoadStatus(context.Background(), r.DB, r.Cfg, e.now())
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, st)
			}
			printStatus(e.stdout, st)
			return nil
		})
	}
}

func printStatus(w io.Writer, st admin.Status) {
	when := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }
	switch {
	case st.Daemon == nil:
		fmt.Fprintln(w, "Daemon     never ran on this database")
	default:
		state := "running"
		if st.Daemon.Stale {
			state = "NOT RUNNING? (no word since " + when(st.Daemon.At) + ")"
		}
		fmt.Fprintf(w, "Daemon     %s, last report %s\n", state, when(st.Daemon.At))
		for _, p := range st.Daemon.Parts {
			ok := "ok  "
			if !p.OK {
				ok = "FAIL"
			}
			line := fmt.Sprintf("  %s %-9s %s", ok, p.Name, p.State)
			if !p.LastProgress.IsZero() {
				line += ", last progress " + when(p.LastProgress)
			}
			if p.Error != "" {
				line += ": " + p.Error
			}
			fmt.Fprintln(w, line)
		}
		if t := st.Daemon.OAuth; t != nil {
			fmt.Fprintf(w, "OAuth      %s, grant %s, as %s: ", t.Provider, t.Grant, t.Identity)
			if t.ValidUntil.IsZero() {
				fmt.Fprint(w, "no token yet")
			} else {
				fmt.Fprintf(w, "token valid until %s, last refresh %s (%d since start)", when(t.ValidUntil), when(t.LastRefresh), t.Refreshes)
			}
			fmt.Fprintln(w)
			if t.LastError != "" {
				fmt.Fprintf(w, "  last error %s: %s\n", when(t.LastErrorAt), t.LastError)
			}
		}
	}
	o := st.Outbox
	fmt.Fprintf(w, "Outbox     %d pending, %d sending, %d sent, %d failed", o.Pending, o.Sending, o.Sent, o.Failed)
	if o.OldestPending != nil {
		fmt.Fprintf(w, "; oldest pending since %s", when(*o.OldestPending))
	}
	fmt.Fprintln(w)
	for _, f := range o.Failures {
		fmt.Fprintf(w, "  failed   %s %s to %s: %s\n", when(f.CreatedAt), f.Kind, f.Recipient, f.LastError)
	}
	printQuota(w, st, when)
	printNext(w, st, when)
	for _, u := range st.Upcoming {
		at := "now"
		if u.At.After(st.Now) {
			at = when(u.At)
		}
		fmt.Fprintf(w, "  %-17s %-16s to the %-6s pair %d session %d\n", at, u.Kind, u.To, u.Pair, u.Number)
	}
	fmt.Fprintf(w, "Held       %d sessions whose prompts wait: someone declined or passed on the invitation\n", len(st.Held))
	for _, h := range st.Held {
		fmt.Fprintf(w, "  pair %d session %d %s (%s): %s wait until it is moved or accepted\n", h.Pair, h.Number, when(h.Start), h.By,
			strings.Join(h.Kinds, ", "))
	}
	fmt.Fprintf(w, "Waiting    %d prompts without a reply\n", len(st.Waiting))
	for _, wt := range st.Waiting {
		sent := "not sent yet"
		if wt.SentAt != nil {
			sent = "sent " + when(*wt.SentAt)
		}
		fmt.Fprintf(w, "  pair %d session %d %-10s %s (%s)\n", wt.Pair, wt.Number, wt.Purpose, wt.Mentee, sent)
	}
	fmt.Fprintf(w, "Quarantine %d\n", len(st.Quarantined))
	for _, q := range st.Quarantined {
		fmt.Fprintf(w, "  %d %s %s from %s: %s\n", q.ID, when(q.ReceivedAt), q.Kind, q.From, q.Reason)
	}
	fmt.Fprintf(w, "Late       %d replies after their session's reply window (kept in the quarantine folder, not logged)\n", len(st.Late))
	for _, l := range st.Late {
		fmt.Fprintf(w, "  %d %s %s from %s: %s\n", l.ID, when(l.ReceivedAt), l.Kind, l.From, l.Reason)
	}
	fmt.Fprintf(w, "Suspended  %d addresses (they bounce)\n", len(st.Suspended))
	for _, p := range st.Suspended {
		fmt.Fprintf(w, "  %s <%s>, bounce score %.1f\n", p.Name, p.Email, p.BounceScore)
	}
	printAttention(w, st)
}

// printNext says how many messages are due now, or when none is, how long
// nothing will be and what comes next.
func printNext(w io.Writer, st admin.Status, when func(time.Time) string) {
	next := st.Next
	if len(st.Upcoming) > 0 {
		next = &st.Upcoming[0]
	}
	switch {
	case st.DueNow > 0:
		fmt.Fprintf(w, "Next due   %d due now", st.DueNow)
		if st.Daemon == nil || st.Daemon.Stale {
			fmt.Fprint(w, " (the daemon is not running: they go out when it starts)")
		}
	case next == nil:
		fmt.Fprint(w, "Next due   nothing due in the next year: no session is planned")
	default:
		gap := next.At.Sub(st.Now)
		switch days := int(gap / (24 * time.Hour)); {
		case days == 1:
			fmt.Fprint(w, "Next due   nothing due in the next day")
		case days > 1:
			fmt.Fprintf(w, "Next due   nothing due in the next %d days", days)
		default:
			fmt.Fprint(w, "Next due   nothing due now")
		}
		fmt.Fprintf(w, "; next: %s %s to the %s, pair %d session %d (in %s)", when(next.At), next.Kind, next.To, next.Pair, next.Number, roughly(gap))
	}
	fmt.Fprintln(w)
}

// printQuota shows the sending quotas when one is set or the server paused
// sending: how much of each window is used, and when what is due will have gone.
func printQuota(w io.Writer, st admin.Status, when func(time.Time) string) {
	q := st.Quota
	if q.Minute.Limit == 0 && q.Day.Limit == 0 && q.Paused == nil {
		return
	}
	window := func(label string, u admin.QuotaWindow, at func(time.Time) string) string {
		if u.Limit == 0 {
			return fmt.Sprintf("%s: %d (no limit)", label, u.Used)
		}
		s := fmt.Sprintf("%s: %d of %d", label, u.Used, u.Limit)
		if u.FreesAt != nil {
			s += " (full until " + at(*u.FreesAt) + ")"
		}
		return s
	}
	seconds := func(t time.Time) string { return t.UTC().Format("15:04:05Z") }
	fmt.Fprintf(w, "Quota      %s; %s\n", window("sent in the last 24 h", q.Day, when), window("last minute", q.Minute, seconds))
	if p := q.Paused; p != nil {
		what := "throttled by the server"
		if p.Quota {
			what = "the server's daily sending quota is used up"
		}
		fmt.Fprintf(w, "  paused   %s: no sending until %s; it said %q\n", what, when(p.Until), p.Reply)
	}
	if q.DoneBy != nil && q.DoneBy.After(st.Now) {
		fmt.Fprintf(w, "  %d due now go out by about %s (in %s)\n", q.DueNow, when(*q.DoneBy), roughly(q.DoneBy.Sub(st.Now)))
	}
}

// roughly writes d in minutes, hours or days, as a person would say it.
func roughly(d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case m < 1:
		return "under a minute"
	case m < 120:
		return fmt.Sprintf("%d min", m)
	case d < 48*time.Hour:
		return fmt.Sprintf("%.0f h", d.Hours())
	default:
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	}
}

func setupBackup(fs *flag.FlagSet) func(*env, *cmdline) error {
	beforeStart := fs.Bool("before-start", false, "the unit's ExecStartPre=: when this mentord will migrate the database, copy it first to backups/ beside it (the last 3 are kept); else do nothing")
	return func(e *env, c *cmdline) error {
		if *beforeStart {
			return backupBeforeStart(e, c)
		}
		if len(c.args) != 1 {
			return usagef("give the backup file to write (it must not exist)")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			if err := r.DB.Backup(context.Background(), c.args[0]); err != nil {
				return err
			}
			st, err := os.Stat(c.args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: %d bytes, integrity_check ok\n", c.args[0], st.Size())
			return nil
		})
	}
}

// backupBeforeStart runs before every start of the service. It never stops a
// start for a configuration error (serve reports that, with status 2, so that
// systemd does not restart it in a loop), only when a needed backup failed:
// then nothing is migrated.
func backupBeforeStart(e *env, c *cmdline) error {
	if len(c.args) > 0 {
		return usagef("--before-start takes no file: it writes into backups/ beside the database")
	}
	cfg, err := e.loadConfig(c, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "mentord backup: no backup before the start: the configuration is not usable (serve says why)\n")
		return nil
	}
	file, why, err := admin.BackupBeforeStart(context.Background(), cfg.Database.Path, e.now())
	switch {
	case err != nil:
		return err
	case file == "":
		fmt.Fprintf(e.stdout, "mentord backup: no backup needed before the start: %s\n", why)
	default:
		fmt.Fprintf(e.stdout, "mentord backup: the database will be migrated; a checked copy of it is in %s\n", file)
	}
	return nil
}

func setupSendTest(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) != 1 || !strings.Contains(c.args[0], "@") {
			return usagef("give one address to send the test messages to")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			tpl, err := templates.Load(r.Cfg.Templates.Dir)
			if err != nil {
				return &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
			}
			ids, err := admin.SendTest(context.Background(), r.Cfg, tpl, c.args[0], e.now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "sent a test invite and a test planning checklist to %s\n", c.args[0])
			for _, id := range ids {
				fmt.Fprintf(e.stdout, "  Message-ID: <%s>\n", id)
			}
			return nil
		})
	}
}

func setupPurge(fs *flag.FlagSet) func(*env, *cmdline) error {
	dryRun := fs.Bool("dry-run", false, "say what would go, and change nothing")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("purge takes no arguments")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			ret := r.Cfg.Retention
			p, err := store.Purge(context.Background(), r.DB, e.now(), ret.RawMessages.D(), ret.PairLog.D(), *dryRun)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, p)
			}
			verb := "purged"
			if *dryRun {
				verb = "would purge"
			}
			fmt.Fprintf(e.stdout, "%s: the originals of %d read messages (retention.raw_messages %s); the whole log of %d pairs, %d answers (retention.pair_log %s after their programme ended)\n",
				verb, p.RawMessages, ret.RawMessages, p.Pairs, p.Entries, ret.PairLog)
			return nil
		})
	}
}
