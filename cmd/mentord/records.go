package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/templates"
)

// The records commands read the database without changing it: `log` prints
// one mentee's own words for that mentee (or a mentor's, --mentor), `report` the programme in counts.

func setupLog(fs *flag.FlagSet) func(*env, *cmdline) error {
	mentee := fs.String("mentee", "", "the mentee's `address` (this or --mentor is required)")
	mentor := fs.String("mentor", "", "the mentor's `address`: the mentor's own log instead")
	format := formatFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("log takes no arguments (the mentee is --mentee EMAIL, the mentor --mentor EMAIL)")
		}
		hasMentee, hasMentor := strings.TrimSpace(*mentee) != "", strings.TrimSpace(*mentor) != ""
		switch {
		case hasMentee && hasMentor:
			return usagef("--mentee and --mentor: give one, each log holds one person's words")
		case !hasMentee && !hasMentor:
			return usagef("--mentee is required: the mentee's address (or --mentor, the mentor's)")
		}
		f, err := recordFormat(c, *format)
		if err != nil {
			return err
		}
		if hasMentor {
			return withRecords(e, c, func(ctx context.Context, q store.Querier) error {
				l, err := records.LoadMentorLog(ctx, q, *mentor, e.now())
				if err != nil {
					return err
				}
				return records.WriteMentorLog(e.stdout, l, f)
			})
		}
		return withRecords(e, c, func(ctx context.Context, q store.Querier) error {
			l, err := records.LoadMenteeLog(ctx, q, *mentee, e.now())
			if err != nil {
				return err
			}
			return records.WriteMenteeLog(e.stdout, l, f)
		})
	}
}

func setupReport(fs *flag.FlagSet) func(*env, *cmdline) error {
	format := formatFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("report takes no arguments")
		}
		f, err := recordFormat(c, *format)
		if err != nil {
			return err
		}
		return withRecords(e, c, func(ctx context.Context, q store.Querier) error {
			cfg, err := e.loadConfig(c, false)
			if err != nil {
				return err
			}
			r, err := records.LoadReport(ctx, q, e.now(), cfg.Timings.AgreementWithin.D())
			if err != nil {
				return err
			}
			if r.Themes, err = loadThemes(ctx, e, c, q); err != nil {
				return err
			}
			return records.WriteReport(e.stdout, r, f)
		})
	}
}

func formatFlag(fs *flag.FlagSet) *string {
	jsonFlag(fs)
	return fs.String("format", "text", "output `format`: "+strings.Join(records.Formats, ", "))
}

// recordFormat checks --format; --json is short for --format json.
func recordFormat(c *cmdline, format string) (string, error) {
	if !slices.Contains(records.Formats, format) {
		return "", usagef("--format must be one of %s, not %q", strings.Join(records.Formats, ", "), format)
	}
	if c.json {
		if flagGiven(c, "format") && format != "json" {
			return "", usagef("--json and --format %s contradict each other", format)
		}
		return "json", nil
	}
	return format, nil
}

// withRecords runs fn on the database opened read-only: reading the records
// changes nothing, and works beside the running daemon.
func withRecords(e *env, c *cmdline, fn func(ctx context.Context, q store.Querier) error) error {
	cfg, err := e.loadConfig(c, false)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.OpenReadOnly(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()
	// One read transaction: every query sees the same moment, even while the
	// daemon writes.
	tx, err := db.R().BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read the database: %w", err)
	}
	defer tx.Rollback()
	return fn(ctx, tx)
}

// loadThemes counts the topics answers against the guide's themes, as the
// configured templates (with their overrides) name them.
func loadThemes(ctx context.Context, e *env, c *cmdline, q store.Querier) (*records.Themes, error) {
	cfg, err := e.loadConfig(c, false)
	if err != nil {
		return nil, err
	}
	tpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		return nil, &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
	}
	return records.LoadThemes(ctx, q, tpl)
}
