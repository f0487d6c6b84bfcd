package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/templates"
)

func setupPreview(fs *flag.FlagSet) func(*env, *cmdline) error {
	pair := fs.String("pair", "", "the pair's `id` (required)")
	session := fs.Int("session", 0, "only the session with this `number` in the pair (see session list)")
	kind := fs.String("kind", "", "only this kind: invite, update, cancel, checklist, reflection, nudge or brief")
	dir := fs.String("o", "", "write the .eml files into this `directory` (required; created if missing)")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		if *pair == "" || *dir == "" {
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
			msgs, err := admin.Preview(context.Background(), r.DB, r.Cfg, tpl, id, *session, *kind, e.now())
			if err != nil {
				return err
			}
			if err := os.MkdirAll(*dir, 0o700); err != nil {
				return err
			}
			type written struct {
				File string `json:"file"`
				Kind string `json:"kind"`
				To   string `json:"to"`
			}
			var files []written
			for _, m := range msgs {
				path := filepath.Join(*dir, m.Name)
				if err := os.WriteFile(path, m.Raw, 0o600); err != nil {
					return err
				}
				files = append(files, written{File: path, Kind: m.Kind, To: m.To})
			}
			if c.json {
				return printJSON(e.stdout, files)
			}
			for _, f := range files {
				fmt.Fprintln(e.stdout, f.File)
			}
			fmt.Fprintf(e.stderr, "%d messages written to %s\n", len(files), *dir)
			return nil
		})
	}
}
