package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/records"
)

// Exit statuses: 0 success, 1 a runtime failure, 2 a usage or configuration error
// (the unit's RestartPreventExitStatus=2 keeps systemd from restarting a bad config).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a command may touch of the process, so tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	serve          func(e *env, configPath string) error
	// euid is the effective user id (default os.Geteuid); etcDir and
	// stateDir replace /etc/mentord and /var/lib/mentord in tests.
	euid             func() int
	etcDir, stateDir string
}

// cleaned returns e with standard output and error passed through a
// cleanWriter: nothing a command prints can act on the admin's terminal.
func (e *env) cleaned() *env {
	c := *e
	c.stdout, c.stderr = newCleanWriter(e.stdout), newCleanWriter(e.stderr)
	return &c
}

func newEnv() *env {
	return &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now, serve: serveProcess}
}

// command is one subcommand.
type command struct {
	name    string // "pair add"
	args    string // synopsis of positional arguments
	summary string
	setup   func(fs *flag.FlagSet) func(e *env, c *cmdline) error
	// noConfig: the command reads no configuration file, so it takes no --config.
	noConfig bool
	// secrets: the command talks to a mail server, so it reads the secrets.
	secrets bool
	// hidden: a command for the build (man page, completion), not in help.
	hidden bool
}

// cmdline is a parsed command line: common flags and positional arguments.
type cmdline struct {
	name       string // the command's name, for messages
	secrets    bool   // the command reads the mailbox's secrets
	configPath string
	json       bool
	args       []string
	set        map[string]bool // flags given on the command line
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(args []string, e *env) int {
	e = e.cleaned()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(append(args[1:], "--help"), e)
		}
		printOverview(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(e.stdout, "mentord", version())
		return exitOK
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		group := groupOf(args[0])
		if len(group) > 0 {
			printGroup(e.stdout, args[0], group)
			if len(args) > 1 && (args[1] == "--help" || args[1] == "-h") {
				return exitOK
			}
			if len(args) > 1 {
				fmt.Fprintf(e.stderr, "mentord: unknown command %q\n", strings.Join(args[:2], " "))
			}
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "mentord: unknown command %q; run mentord help\n", args[0])
		return exitUsage
	}
	return runCommand(cmd, rest, e)
}

func runCommand(cmd *command, args []string, e *env) int {
	fs := flag.NewFlagSet("mentord "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cl := &cmdline{name: cmd.name, secrets: cmd.secrets}
	var programme string
	if !cmd.noConfig {
		fs.StringVar(&cl.configPath, "config", config.DefaultPath, "configuration `file` (or $MENTORD_CONFIG)")
		fs.StringVar(&programme, "programme", "", "the programme `NAME` run by the unit mentord@NAME: configuration "+
			etcDir+"/NAME.yaml (or $MENTORD_PROGRAMME)")
	}
	action := cmd.setup(fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(e.stdout, cmd, fs)
		return exitOK
	}
	if err == nil && !cmd.noConfig {
		err = cl.chooseConfig(e, fs, programme)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "mentord %s: %v\n", cmd.name, err)
		fmt.Fprintf(e.stderr, "run: mentord %s --help\n", cmd.name)
		return exitUsage
	}
	if f := fs.Lookup("json"); f != nil {
		cl.json = f.Value.String() == "true"
	}
	cl.args = pos
	cl.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { cl.set[f.Name] = true })
	return report(e, cmd, action(e, cl))
}

// chooseConfig sets the configuration file: --config, else --programme's,
// else $MENTORD_CONFIG, else $MENTORD_PROGRAMME's, else /etc/mentord/config.yaml.
func (cl *cmdline) chooseConfig(e *env, fs *flag.FlagSet, programme string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	switch {
	case given["config"] && given["programme"]:
		return usagef("give --config or --programme, not both")
	case given["config"]:
	case given["programme"]:
		cl.configPath, err = e.programmeConfig(programme)
	case e.getenv("MENTORD_CONFIG") != "":
		cl.configPath = e.getenv("MENTORD_CONFIG")
	case e.getenv("MENTORD_PROGRAMME") != "":
		cl.configPath, err = e.programmeConfig(e.getenv("MENTORD_PROGRAMME"))
	default:
		cl.configPath = filepath.Join(e.dirs().etc, "config.yaml") // config.DefaultPath
	}
	return err
}

// report prints err and maps it to an exit status.
func report(e *env, cmd *command, err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ce *daemon.ConfigError
	var cerrs config.Errors
	var ie admin.InputError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "mentord %s: %v\nrun: mentord %s --help\n", cmd.name, err, cmd.name)
		return exitUsage
	case errors.As(err, &cerrs), errors.As(err, &ce):
		fmt.Fprintf(e.stderr, "mentord: configuration error:\n%v\n", err)
		return exitUsage
	case errors.As(err, &ie):
		for _, f := range ie {
			fmt.Fprintf(e.stderr, "mentord %s: --%s: %s\n", cmd.name, strings.ReplaceAll(f.Field, "_", "-"), f.Msg)
		}
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "mentord %s: %v\n", cmd.name, err)
	return exitFailure
}

// parseInterspersed parses flags wherever they stand among positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func findCommand(args []string) (*command, []string) {
	if len(args) >= 2 {
		if c := commandByName(args[0] + " " + args[1]); c != nil {
			return c, args[2:]
		}
	}
	if c := commandByName(args[0]); c != nil {
		return c, args[1:]
	}
	return nil, nil
}

func commandByName(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func groupOf(prefix string) []*command {
	var out []*command
	for i := range commands {
		if strings.HasPrefix(commands[i].name, prefix+" ") {
			out = append(out, &commands[i])
		}
	}
	return out
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, `mentord runs a staff mentoring programme by email: calendar invites for every
session, a planning checklist before it, reflection questions after it, and a
progress log of the mentee's answers.

Usage: mentord COMMAND [flags]

Commands:
`)
	names := make([]string, len(commands))
	width := 0
	for i, c := range commands {
		names[i] = c.name
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
		}
	}
	fmt.Fprint(w, `
Every command takes --config FILE (default $MENTORD_CONFIG, else `+config.DefaultPath+`)
or --programme NAME (`+etcDir+`/NAME.yaml, the unit mentord@NAME; or $MENTORD_PROGRAMME),
and --help. Commands that list or create things take --json.
Exit status: 0 success, 1 failure, 2 usage or configuration error.
`)
}

func printGroup(w io.Writer, group string, cmds []*command) {
	fmt.Fprintf(w, "Usage: mentord %s SUBCOMMAND [flags]\n\n", group)
	for _, c := range cmds {
		fmt.Fprintf(w, "  mentord %s %s\n      %s\n", c.name, c.args, c.summary)
	}
}

func printUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	synopsis := strings.Join(strings.Fields(c.args+" [flags]"), " ")
	if len(names) == 0 {
		synopsis = strings.TrimSpace(c.args)
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("mentord "+c.name+" "+synopsis), c.summary)
	if len(names) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
	}
	for _, n := range names {
		f := fs.Lookup(n)
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + n
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%-28s %s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	}
}

// printJSON writes v as indented JSON, with the characters a terminal acts
// on escaped (records.WriteJSON).
func printJSON(w io.Writer, v any) error { return records.WriteJSON(w, v) }

func version() string {
	v, commit := stampedVersion, stampedCommit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && commit == "" {
				commit = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && stampedCommit == "" {
				commit += "-dirty"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if commit != "" {
		v += " (commit " + commit + ")"
	}
	return v
}

// stampedVersion and stampedCommit are set at release builds
// (scripts/release.sh: -ldflags "-X main.stampedVersion=1.2.0 -X main.stampedCommit=...");
// without them, version reads what the go command recorded in the binary.
var stampedVersion, stampedCommit string
