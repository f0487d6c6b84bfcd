package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/templates"
)

// The conversation's commands (issue 13): pausing and resuming a pair, and
// the messages kept for a person. Registered here, beside the others'.
func init() {
	commands = append(commands,
		command{name: "pair pause", args: "ID", summary: "pause a pair until a day (--until 2027-05-01): its sessions in that time are cancelled, planned again on resume", setup: setupPairPause},
		command{name: "pair resume", args: "ID", summary: "end a pair's pause now and plan its cancelled sessions again", setup: setupPairResume},
		command{name: "inbox list", summary: "the messages waiting for a person: kept from participants, quarantined, late (--all: also those settled)", setup: setupInboxList},
		command{name: "inbox show", args: "ID", summary: "one read message: what mentord decided, and the original as it came", setup: setupInboxShow},
		command{name: "inbox release", args: "ID", summary: "read a kept or quarantined message again, as if it came now (after fixing a cause); idempotent", setup: setupInboxRelease},
		command{name: "inbox dismiss", args: "ID", summary: "close a kept, quarantined or late message: read, nothing to do", setup: setupInboxDismiss},
	)
}

func setupPairPause(fs *flag.FlagSet) func(*env, *cmdline) error {
	until := fs.String("until", "", "the `day` the pause ends, like 2027-05-01, in the pair's zone (required)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "pair")
		if err != nil {
			return err
		}
		if *until == "" {
			return usagef("--until is required: the day the pause ends, like 2027-05-01")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			res, err := r.PausePair(context.Background(), id, strings.TrimSpace(*until))
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, res)
			}
			fmt.Fprintf(e.stdout, "pair %d paused until %s; %d sessions cancelled (planned again on resume)\n", id, *until, len(res.Cancelled))
			for _, s := range res.Cancelled {
				fmt.Fprintf(e.stdout, "  session %d (#%d) %s\n", s.ID, s.Number, records.LocalTime(s.StartsAt, s.Timezone))
			}
			return nil
		})
	}
}

func setupPairResume(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			planned, err := r.ResumePair(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, planned)
			}
			fmt.Fprintf(e.stdout, "pair %d resumed; %d sessions planned again\n", id, len(planned))
			for _, s := range planned {
				fmt.Fprintf(e.stdout, "  session %d (#%d) %s\n", s.ID, s.Number, records.LocalTime(s.StartsAt, s.Timezone))
			}
			return nil
		})
	}
}

func setupInboxList(fs *flag.FlagSet) func(*env, *cmdline) error {
	all := fs.Bool("all", false, "also the messages released or dismissed")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("inbox list takes no arguments")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			items, err := r.Inbox(context.Background(), *all)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, items)
			}
			fmt.Fprintf(e.stdout, "%d messages\n", len(items))
			for _, it := range items {
				who := it.From
				if it.PersonName != "" {
					who = it.PersonName + " <" + it.From + ">"
				}
				pair := ""
				if it.PairID != nil {
					pair = fmt.Sprintf(" pair %d", *it.PairID)
				}
				fmt.Fprintf(e.stdout, "  %d %s %-11s %-9s %s%s: %s\n", it.InboundID, it.ReceivedAt.UTC().Format("2006-01-02 15:04Z"),
					it.Outcome, it.KeptStatus, who, pair, it.Reason)
			}
			return nil
		})
	}
}

func setupInboxShow(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "message")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			m, err := r.InboxShow(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, m)
			}
			fmt.Fprintf(e.stdout, "Message %d, %s, from %s\nSubject: %s\nRead as: %s (%s)\n\n", m.InboundID,
				m.ReceivedAt.UTC().Format("2006-01-02 15:04Z"), m.From, m.Subject, m.Outcome, m.Reason)
			if m.Raw == "" {
				fmt.Fprintln(e.stdout, "(the original was dropped after retention.raw_messages)")
				return nil
			}
			_, err = io.WriteString(e.stdout, m.Raw)
			return err
		})
	}
}

func setupInboxRelease(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "message")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			tpl, err := templates.Load(r.Cfg.Templates.Dir)
			if err != nil {
				return &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
			}
			reader := &ingest.Reader{DB: r.DB, Cfg: r.Cfg, Tpl: tpl, Log: discardLogger(), Now: func() time.Time { return e.now() }}
			out, err := reader.Release(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "message %d read again: %s (%s)\n", id, out.Outcome, out.Reason)
			return nil
		})
	}
}

func setupInboxDismiss(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "message")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			if err := r.InboxDismiss(context.Background(), id); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "message %d dismissed\n", id)
			return nil
		})
	}
}

// printAttention is the part of `mentord status` that lists what needs a person.
func printAttention(w io.Writer, st admin.Status) {
	a := st.Attention
	zone, err := time.LoadLocation(st.Zone)
	if err != nil {
		zone = time.UTC
	}
	lines := a.Lines(zone)
	fmt.Fprintf(w, "Attention  %d to see to (times in %s)", len(lines), zone)
	if a.Strangers > 0 {
		fmt.Fprintf(w, "; %d messages from strangers in the last 7 days (unrelated)", a.Strangers)
	}
	fmt.Fprintln(w)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}
