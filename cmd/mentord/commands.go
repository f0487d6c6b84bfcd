package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/dist"
	"github.com/mentord/mentord/templates"
)

// commands is every subcommand, in the order help lists them.
var commands = []command{
	{name: "serve", summary: "run the daemon (under systemd: Type=notify; INT/TERM stop, HUP reloads)", setup: setupServe},
	{name: "print-unit", summary: "print the systemd unit (mentord.service, or with --template mentord@.service) to install", setup: setupPrintUnit, noConfig: true},
	{name: "check-config", summary: "load and validate the configuration, reporting every error with file, line and key", setup: setupCheckConfig, secrets: true},
	{name: "pair add", summary: "add a mentoring pair with its agreement and planned sessions; prints the pair's id", setup: setupPairAdd},
	{name: "pair list", summary: "list the pairs", setup: setupPairList},
	{name: "pair show", args: "ID", summary: "show a pair: people, agreement and sessions", setup: setupPairShow},
	{name: "pair end", args: "ID", summary: "end a pair and cancel its sessions still to come", setup: setupPairEnd},
	{name: "pair replace-mentor", args: "ID", summary: "give a pair a new mentor for its sessions still to come (--mentor-name N --mentor-email E)", setup: setupPairReplaceMentor},
	{name: "pair share-plans", args: "ID yes|no", summary: "record the mentee's choice whether the mentor sees their topics, support asked for and check-ins", setup: setupPairSharePlans},
	{name: "person edit", args: "ID|EMAIL", summary: "change a person's address, name, language or time zone (--email, --name, --lang, --tz)", setup: setupPersonEdit},
	{name: "person unsuspend", args: "ID|EMAIL", summary: "send to an address suspended after bounces again", setup: setupPersonUnsuspend},
	{name: "session list", summary: "list a pair's sessions (--pair ID)", setup: setupSessionList},
	{name: "session move", args: "ID", summary: "move a session to a new local time (--to 2027-03-09T15:00)", setup: setupSessionMove},
	{name: "session cancel", args: "ID", summary: "cancel a session", setup: setupSessionCancel},
	{name: "session add", summary: "add a session to a pair (--pair ID --at 2027-03-09T15:00)", setup: setupSessionAdd},
	{name: "preview", summary: "write the messages mentord would send for a pair as .eml files (--pair ID -o DIR)", setup: setupPreview},
	{name: "inspect", args: "[FILE|-]", summary: "print how mentord understands one message, as JSON, changing nothing", setup: setupInspect},
	{name: "ingest", args: "FILE.eml", summary: "read one saved message as if it came from the mailbox, and apply it", setup: setupIngest},
	{name: "status", summary: "what the admin checks first: the daemon, the outbox, what is due, quarantine, bouncing addresses", setup: setupStatus},
	{name: "backup", args: "FILE", summary: "write a consistent copy of the live database to FILE and check it", setup: setupBackup},
	{name: "check-mail", summary: "sign in to SMTP and IMAP as the daemon would, make the folders, and prove a message to the mailbox arrives", setup: setupCheckMail, secrets: true},
	{name: "oauth login", summary: "sign the mailbox in once with OAuth's device flow (grant refresh_token) and keep the refresh token", setup: setupOAuthLogin, secrets: true},
	{name: "send-test", args: "ADDRESS", summary: "send a sample invite and planning checklist to ADDRESS now, to check delivery and looks", setup: setupSendTest, secrets: true},
	{name: "purge", summary: "apply the retention settings now (the daemon does it daily)", setup: setupPurge},
	{name: "log", summary: "print one person's own log, only their own words, to answer them (--mentee EMAIL or --mentor EMAIL [--format F])", setup: setupLog},
	{name: "record", summary: "write a pair's one-page record for promotion as PDF (--pair ID [--for mentor|mentee] -o FILE.pdf)", setup: setupRecord},
	{name: "report", summary: "print the programme at a glance in counts, with no mentee's words: sessions, RSVPs, replies, pairs at risk", setup: setupReport},
	{name: "import", args: "FILE.csv", summary: "add pairs from a CSV file, all or nothing (--dry-run to check only)", setup: setupImport},
	{name: "demo", summary: "watch a simulated year of one pair in under a minute: the real daemon, a fast clock, simulated mail clients", setup: setupDemo, noConfig: true},
}

func setupServe(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("serve takes no arguments")
		}
		return e.serve(e, c.configPath)
	}
}

func setupPrintUnit(fs *flag.FlagSet) func(*env, *cmdline) error {
	template := fs.Bool("template", false, "print mentord@.service, the unit of one of several programmes on a host")
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("print-unit takes no arguments")
		}
		unit := dist.Unit
		if *template {
			unit = dist.Template
		}
		_, err := fmt.Fprint(e.stdout, unit)
		return err
	}
}

func setupCheckConfig(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("check-config takes no arguments")
		}
		cfg, err := e.loadConfig(c, true)
		if err != nil {
			return err
		}
		// As serve, reload and preview load them: parsed, and rendered with sample data.
		if _, err := templates.Load(cfg.Templates.Dir); err != nil {
			return &daemon.ConfigError{Err: fmt.Errorf("templates: %w", err)}
		}
		fmt.Fprintf(e.stdout, "%s: OK\n", cfg.File)
		fmt.Fprintf(e.stdout, "  programme  %s (%s)\n", cfg.Programme.Name, cfg.Mailbox.Address)
		fmt.Fprintf(e.stdout, "  smtp       %s:%d tls=%s auth=%s", cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS, cfg.SMTP.Auth)
		if cfg.SMTP.Auth != "none" {
			fmt.Fprintf(e.stdout, " as %s", cfg.SMTP.Username)
		}
		var quota []string
		if n := cfg.SMTP.MaxPerMinute; n > 0 {
			quota = append(quota, fmt.Sprintf("%d a minute", n))
		}
		if n := cfg.SMTP.MaxRecipientsPerDay; n > 0 {
			quota = append(quota, fmt.Sprintf("%d a day", n))
		}
		if len(quota) > 0 {
			fmt.Fprintf(e.stdout, ", at most %s", strings.Join(quota, " and "))
		}
		fmt.Fprintln(e.stdout)
		fmt.Fprintf(e.stdout, "  imap       %s:%d tls=%s auth=%s as %s folder=%s\n", cfg.IMAP.Host, cfg.IMAP.Port, cfg.IMAP.TLS,
			cfg.IMAP.Auth, cfg.IMAP.Username, cfg.IMAP.Folders.Inbox)
		if o := cfg.OAuth; o.Enabled() {
			fmt.Fprintf(e.stdout, "  oauth      %s, grant %s, token endpoint %s, scopes %s\n", o.Provider, o.Grant,
				cmpOr(o.TokenURL, "from the service account key"), strings.Join(o.Scopes, " "))
			if o.Grant == config.GrantRefreshToken {
				state := "present"
				if _, err := os.Stat(o.RefreshTokenFile); err != nil {
					state = "MISSING: sign in once with `mentord oauth login`"
				}
				fmt.Fprintf(e.stdout, "  refresh    %s (%s)\n", o.RefreshTokenFile, state)
			}
		}
		fmt.Fprintf(e.stdout, "  database   %s\n", cfg.Database.Path)
		if cfg.Templates.Dir != "" {
			fmt.Fprintf(e.stdout, "  templates  %s over the embedded ones (each rendered with sample data)\n", cfg.Templates.Dir)
		}
		if cfg.DevServer.Enabled {
			fmt.Fprintf(e.stdout, "  devserver  smtp %s, imap %s (development only)\n", cfg.DevServer.SMTPListen, cfg.DevServer.IMAPListen)
		}
		if len(cfg.Filled) > 0 {
			fmt.Fprintf(e.stdout, "Filled in from %s (set a key to change it):\n", cfg.Filled[0].From)
			for _, f := range cfg.Filled {
				fmt.Fprintf(e.stdout, "  %-28s %s\n", f.Key, f.Value)
			}
		}
		if cfg.OAuth.Enabled() {
			fmt.Fprintln(e.stdout, "Next: mentord check-mail signs in with these settings and proves the round trip.")
		}
		return nil
	}
}

// openRoster loads the configuration and opens the database for a roster command.
func openRoster(e *env, c *cmdline) (*admin.Roster, func(), error) {
	cfg, err := e.loadConfig(c, c.secrets)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		return nil, nil, err
	}
	return &admin.Roster{DB: db, Cfg: cfg, Now: e.now}, func() { db.Close() }, nil
}

// withRoster runs fn with an open roster, closing it afterwards.
func withRoster(e *env, c *cmdline, fn func(r *admin.Roster) error) error {
	r, closeDB, err := openRoster(e, c)
	if err != nil {
		return err
	}
	defer closeDB()
	return fn(r)
}

// oneID reads the single positional ID argument.
func oneID(c *cmdline, what string) (int64, error) {
	if len(c.args) != 1 {
		return 0, usagef("give exactly one %s id", what)
	}
	return parseID(c.args[0], what)
}

func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%q is not a %s id (a positive number)", s, what)
	}
	return id, nil
}

func jsonFlag(fs *flag.FlagSet) {
	fs.Bool("json", false, "print JSON only")
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(c *cmdline, name string) bool { return c.set[name] }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
