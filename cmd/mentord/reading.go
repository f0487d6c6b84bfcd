package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/reply"
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
	text := fs.Bool("text", false, "print for a person to read, with how each answer was tied to its question, instead of JSON")
	return func(e *env, c *cmdline) error {
		// Without a configuration, inspect reads the message on its own; with
		// one (--config or $MENTORD_CONFIG), it also ties a reply to the prompt
		// it answers, reading the database without changing it.
		var cfg *config.Config
		var q store.Querier
		max := int64(10 << 20)
		if e.getenv("MENTORD_CONFIG") != "" || e.getenv("MENTORD_PROGRAMME") != "" || flagGiven(c, "config") || flagGiven(c, "programme") {
			var err error
			if cfg, err = e.loadConfig(c, false); err != nil {
				return err
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
		if *text {
			return printInspection(e.stdout, out)
		}
		return printJSON(e.stdout, out)
	}
}

// tieWords say how an answer was tied to its question, for inspect --text.
var tieWords = map[reply.Tie]string{
	reply.TieNumber:     "opened by its number",
	reply.TieInline:     "typed under the quoted question",
	reply.TieLateNumber: "a lead names its number (\"Forgot 3: ...\")",
	reply.TieTopic:      "led by the question's topic words",
	reply.TieOrder:      "one paragraph for each question, in their order",
}

// printInspection writes what inspect found for a person to read: the kind,
// what the sender typed, and each answer with how it was tied.
func printInspection(w io.Writer, in ingest.Inspection) error {
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\n", in.Kind)
	if in.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", in.Reason)
	}
	if in.FromProblem != "" {
		fmt.Fprintf(&b, "from: %s\n", in.FromProblem)
	}
	if p := in.Prompt; p != nil {
		fmt.Fprintf(&b, "answers: the %s of session %d (matched by %s; sender as sent to: %v)\n", p.Purpose, p.Session, p.MatchedBy, p.SenderOK)
	}
	if it := in.ITIP; it != nil {
		fmt.Fprintf(&b, "calendar: %s from %s, uid %s, sequence %d", it.Method, it.Attendee, it.UID, it.Sequence)
		if it.Partstat != nil {
			fmt.Fprintf(&b, ", %s", *it.Partstat)
		}
		b.WriteString("\n")
	}
	if in.Kind == string(reply.KindReply) {
		b.WriteString("\nnew text:\n" + indentText(in.NewText) + "\n")
		nums := make([]int, 0, len(in.Answers))
		for k := range in.Answers {
			n, _ := strconv.Atoi(k)
			nums = append(nums, n)
		}
		sort.Ints(nums)
		if len(nums) == 0 {
			b.WriteString("\nno answer tied to a question\n")
		}
		for _, n := range nums {
			k := strconv.Itoa(n)
			tie := in.Tied[k]
			fmt.Fprintf(&b, "\nanswer %d [tied by %s: %s]\n%s\n", n, cmpOr(string(tie), "?"), cmpOr(tieWords[tie], "not recorded"), indentText(in.Answers[k]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indentText(s string) string {
	if strings.TrimSpace(s) == "" {
		return "  (nothing)"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
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
