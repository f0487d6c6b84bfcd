package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// readMessage reads the one message a command is given: a file, or - for stdin.
func readMessage(e *env, c *cmdline, max int64) ([]byte, error) {
	src := "-"
	switch len(c.args) {
	case 0:
	case 1:
		src = c.args[0]
	default:
		return nil, usagef("give one message: a file, or - for standard input")
	}
	var r io.Reader = e.stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > max {
		return nil, fmt.Errorf("the message is over %d bytes (imap.max_message_size)", max)
	}
	return raw, nil
}

func setupInspect(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		// Without a configuration, inspect reads the message on its own; with
		// one (--config or $MENTORD_CONFIG), it also ties a reply to the prompt
		// it answers, reading the database without changing it.
		var cfg *config.Config
		var q store.Querier
		max := int64(10 << 20)
		if e.getenv("MENTORD_CONFIG") != "" || flagGiven(c, "config") {
			var err error
			if cfg, err = config.Load(c.configPath); err != nil {
				return &daemon.ConfigError{Err: err}
			}
			max = int64(cfg.IMAP.MaxMessageSize)
			if db, err := store.OpenReadOnly(context.Background(), cfg.Database.Path); err == nil {
				defer db.Close()
				q = db.R()
			} else {
				fmt.Fprintln(e.stderr, "note: reading without the database:", err)
			}
		}
		raw, err := readMessage(e, c, max)
		if err != nil {
			return err
		}
		out, err := ingest.Inspect(context.Background(), raw, cfg, q)
		if err != nil {
			return err
		}
		return printJSON(e.stdout, out)
	}
}

func setupIngest(fs *flag.FlagSet) func(*env, *cmdline) error {
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		return withRoster(e, c, func(r *admin.Roster) error {
			raw, err := readMessage(e, c, int64(r.Cfg.IMAP.MaxMessageSize))
			if err != nil {
				return err
			}
			tpl, err := templates.Load(r.Cfg.Templates.Dir)
			if err != nil {
				return &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
			}
			reader := &ingest.Reader{DB: r.DB, Cfg: r.Cfg, Tpl: tpl, Log: discardLogger(), Now: e.now}
			out, err := reader.Ingest(context.Background(), raw, ingest.Source{Mailbox: "ingest"})
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(e.stdout, out)
			}
			switch {
			case out.Duplicate:
				fmt.Fprintf(e.stdout, "read before (%s): nothing changed\n", out.Outcome)
			default:
				fmt.Fprintf(e.stdout, "%s: %s", out.Kind, out.Outcome)
				if out.Reason != "" {
					fmt.Fprintf(e.stdout, " (%s)", out.Reason)
				}
				if out.Answers > 0 {
					fmt.Fprintf(e.stdout, "; %d answers logged", out.Answers)
				}
				fmt.Fprintln(e.stdout)
			}
			return nil
		})
	}
}
