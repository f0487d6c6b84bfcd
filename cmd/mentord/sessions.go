package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

func setupSessionList(fs *flag.FlagSet) func(*env, *cmdline) error {
	pair := fs.String("pair", "", "the pair's `id` (required)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("session list takes no arguments")
		}
		if *pair == "" {
			return usagef("--pair is required")
		}
		id, err := parseID(*pair, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			ss, err := r.Sessions(context.Background(), id)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, ss)
			}
			printSessions(e.stdout, ss)
			return nil
		})
	}
}

func setupSessionMove(fs *flag.FlagSet) func(*env, *cmdline) error {
	to := fs.String("to", "", "new local `time` in the session's zone, like 2027-03-09T15:00 (required)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "session")
		if err != nil {
			return err
		}
		if *to == "" {
			return usagef("--to is required")
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			s, err := r.MoveSession(context.Background(), id, *to)
			if err != nil {
				return err
			}
			return printSession(e, c, s, "moved to")
		})
	}
}

func setupSessionCancel(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		id, err := oneID(c, "session")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			s, err := r.CancelSession(context.Background(), id)
			if err != nil {
				return err
			}
			return printSession(e, c, s, "cancelled, was")
		})
	}
}

func setupSessionAdd(fs *flag.FlagSet) func(*env, *cmdline) error {
	pair := fs.String("pair", "", "the pair's `id` (required)")
	at := fs.String("at", "", "local `time` in the pair's zone, like 2027-03-09T15:00 (required)")
	duration := fs.String("duration", "", "session length, like 60m (default: the agreement's)")
	location := fs.String("location", "", "where (default: the agreement's)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		if *pair == "" || *at == "" {
			return usagef("--pair and --at are required")
		}
		id, err := parseID(*pair, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			s, err := r.AddSession(context.Background(), id, *at, *duration, *location)
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, s)
			}
			fmt.Fprintf(e.stderr, "session %d added to pair %d at %s %s\n", s.ID, s.PairID,
				strings.Replace(records.LocalTime(s.StartsAt, s.Timezone), "T", " ", 1), s.Timezone)
			fmt.Fprintln(e.stdout, s.ID)
			return nil
		})
	}
}

func printSession(e *env, c *cmdline, s store.Session, verb string) error {
	if c.json {
		return printJSON(e.stdout, s)
	}
	fmt.Fprintf(e.stdout, "session %d of pair %d %s %s %s (sequence %d)\n", s.ID, s.PairID, verb,
		strings.Replace(records.LocalTime(s.StartsAt, s.Timezone), "T", " ", 1), s.Timezone, s.Sequence)
	return nil
}
