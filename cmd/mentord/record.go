package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/templates"
)

func setupRecord(fs *flag.FlagSet) func(*env, *cmdline) error {
	pair := fs.String("pair", "", "the pair's `id` (required)")
	role := fs.String("for", "mentor", "whose record: `mentor` or mentee")
	out := fs.String("o", "", "write the PDF to this `file` (required)")
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		if *pair == "" || *out == "" {
			return usagef("--pair and -o are required")
		}
		id, err := parseID(*pair, "pair")
		if err != nil {
			return err
		}
		return withRoster(e, c, func(r *admin.Roster) error {
			tpl, err := templates.Load(r.Cfg.Templates.Dir)
			if err != nil {
				return &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
			}
			doc, err := admin.RecordPDF(context.Background(), r.DB, r.Cfg, tpl, id, *role, e.now())
			if err != nil {
				return err
			}
			if err := os.WriteFile(*out, doc, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "the %s's record of pair %d written to %s (%d bytes)\n", *role, id, *out, len(doc))
			return nil
		})
	}
}
