package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mentord/mentord/daemon/config"
)

// The man page and the bash completion are written from the commands table
// and each command's own flag set, so they list what the binary takes. The
// Debian package is built with them (scripts/release.sh):
//
//	mentord man >mentord.1
//	mentord completion bash >mentord.bash

// The two are added at init: they read the commands table themselves.
func init() {
	commands = append(commands,
		command{name: "man", summary: "print the manual page (roff), written from the commands' own help", setup: setupMan, noConfig: true, hidden: true},
		command{name: "completion", args: "bash", summary: "print the bash completion script", setup: setupCompletion, noConfig: true, hidden: true})
}

func setupMan(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("man takes no arguments")
		}
		return writeMan(e.stdout, version())
	}
}

func setupCompletion(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) != 1 || c.args[0] != "bash" {
			return usagef("give the shell: bash")
		}
		return writeBashCompletion(e.stdout)
	}
}

// flagsOf returns the flag set command c parses, with the common flags.
func flagsOf(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("mentord "+c.name, flag.ContinueOnError)
	if !c.noConfig {
		var s string
		fs.StringVar(&s, "config", config.DefaultPath, "configuration `file` (or $MENTORD_CONFIG)")
		fs.StringVar(&s, "programme", "", "the programme `NAME` run by the unit mentord@NAME: configuration "+etcDir+"/NAME.yaml (or $MENTORD_PROGRAMME)")
	}
	c.setup(fs)
	return fs
}

// visible is every command help lists.
func visible() []*command {
	var out []*command
	for i := range commands {
		if !commands[i].hidden {
			out = append(out, &commands[i])
		}
	}
	return out
}

// roff escapes text for a man page line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func writeMan(w io.Writer, ver string) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH MENTORD 1 \"\" \"mentord %s\" \"mentord manual\"\n", roff(ver))
	b.WriteString(".SH NAME\nmentord \\- the mentoring programme by email, and its admin tool\n")
	b.WriteString(".SH SYNOPSIS\n.B mentord\n.I COMMAND\n[\\fIflags\\fR]\n")
	b.WriteString(".SH DESCRIPTION\n" + roff("mentord runs a staff mentoring programme by email: calendar invites for every "+
		"session, a planning checklist before it, reflection questions after it, and a progress log of the mentee's answers. "+
		"mentord serve is the daemon (the systemd units mentord.service and mentord@NAME.service run it); "+
		"the other commands are the admin's, run beside it on the same database.") + "\n")
	b.WriteString(".PP\n" + roff("Every command takes --help; commands that list or create things take --json and then print only JSON.") + "\n")
	b.WriteString(".SH COMMANDS\n")
	for _, c := range visible() {
		fs := flagsOf(c)
		fmt.Fprintf(&b, ".SS \"%s\"\n%s\n", roff(strings.TrimSpace("mentord "+c.name+" "+c.args)), roff(c.summary))
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		sort.Strings(names)
		for _, n := range names {
			f := fs.Lookup(n)
			arg, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(&b, ".TP\n.B \\-\\-%s", roff(n))
			if arg != "" {
				fmt.Fprintf(&b, " \\fI%s\\fR", roff(arg))
			}
			b.WriteString("\n" + roff(usage))
			if f.DefValue != "" && f.DefValue != "false" {
				b.WriteString(roff(" (default " + f.DefValue + ")"))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString(".SH ENVIRONMENT\n")
	b.WriteString(".TP\n.B MENTORD_CONFIG\n" + roff("the configuration file when --config and --programme are not given") + "\n")
	b.WriteString(".TP\n.B MENTORD_PROGRAMME\n" + roff("the programme NAME (configuration "+etcDir+"/NAME.yaml) when neither flag nor MENTORD_CONFIG is given") + "\n")
	b.WriteString(".TP\n.B CREDENTIALS_DIRECTORY, STATE_DIRECTORY\n" + roff("set by systemd for the service: where the passwords named with *_credential are read, and where a relative database.path lies. "+
		"Without them, for "+etcDir+"/config.yaml and "+etcDir+"/NAME.yaml the commands use the units' directories (below); only root can read the credentials.") + "\n")
	b.WriteString(".SH FILES\n")
	for _, f := range [][2]string{
		{etcDir + "/config.yaml", "the configuration of mentord.service"},
		{etcDir + "/NAME.yaml", "the configuration of programme NAME (mentord@NAME.service)"},
		{etcDir + "/smtp-password, " + etcDir + "/NAME/smtp-password", "the credentials the units load (LoadCredential=), mode 0600"},
		{stateDir + ", " + stateDir + "/NAME", "the state directories: the database, backups/ made before a migration"},
		{"/usr/share/doc/mentord/README.md", "the full documentation"},
	} {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roff(f[0]), roff(f[1]))
	}
	b.WriteString(".SH EXIT STATUS\n0 success, 1 a runtime failure, 2 a usage or configuration error (the units do not restart mentord then).\n")
	b.WriteString(".SH SEE ALSO\n.BR systemctl (1),\n.BR systemd.exec (5)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeBashCompletion(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# bash completion for mentord, written by `mentord completion bash`.\n")
	b.WriteString("_mentord() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd flags i\n")
	b.WriteString("\tlocal -a w=()\n\tfor ((i = 1; i < COMP_CWORD; i++)); do\n\t\tcase ${COMP_WORDS[i]} in -*) ;; *) w+=(\"${COMP_WORDS[i]}\") ;; esac\n\tdone\n")
	b.WriteString("\tcase $prev in\n")
	b.WriteString("\t--config | -o | --out) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n")
	b.WriteString("\t--programme) COMPREPLY=($(compgen -W \"$(cd " + etcDir + " 2>/dev/null && for f in *.yaml; do [ \"$f\" = config.yaml ] || echo \"${f%.yaml}\"; done)\" -- \"$cur\")); return ;;\n")
	b.WriteString("\tesac\n")
	var top []string
	groups := map[string][]string{}
	for _, c := range visible() {
		first, rest, ok := strings.Cut(c.name, " ")
		if !ok || len(groups[first]) == 0 {
			top = append(top, first)
		}
		if ok {
			groups[first] = append(groups[first], rest)
		}
	}
	fmt.Fprintf(&b, "\tif ((${#w[@]} == 0)); then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", strings.Join(top, " "))
	b.WriteString("\tcmd=${w[0]}\n\tcase $cmd in\n")
	gnames := make([]string, 0, len(groups))
	for g := range groups {
		gnames = append(gnames, g)
	}
	sort.Strings(gnames)
	for _, g := range gnames {
		fmt.Fprintf(&b, "\t%s)\n\t\tif ((${#w[@]} == 1)); then\n\t\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\t\treturn\n\t\tfi\n\t\tcmd=\"%s ${w[1]}\"\n\t\t;;\n",
			g, strings.Join(groups[g], " "), g)
	}
	b.WriteString("\tesac\n\tcase $cmd in\n")
	for _, c := range visible() {
		var flags []string
		flagsOf(c).VisitAll(func(f *flag.Flag) { flags = append(flags, "--"+f.Name) })
		flags = append(flags, "--help")
		fmt.Fprintf(&b, "\t%q) flags=%q ;;\n", c.name, strings.Join(flags, " "))
	}
	b.WriteString("\t*) flags=--help ;;\n\tesac\n")
	b.WriteString("\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n")
	b.WriteString("complete -F _mentord mentord\n")
	_, err := io.WriteString(w, b.String())
	return err
}
