package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail/oauth"
)

// errCheckFailed ends check-mail with status 1: a server said no.
var errCheckFailed = errors.New("the mail check failed; the failing step says what to fix")

func setupCheckMail(fs *flag.FlagSet) func(*env, *cmdline) error {
	sendTo := fs.String("send-to", "", "also send a short test message to this `address`")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the probe to arrive")
	jsonFlag(fs)
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("check-mail takes no arguments (the address goes after --send-to)")
		}
		if *sendTo != "" && !strings.Contains(*sendTo, "@") {
			return usagef("--send-to needs an email address")
		}
		if *wait < time.Second {
			return usagef("--wait must be at least 1s")
		}
		cfg, err := e.loadConfig(c, true)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		var progress func(admin.Step)
		if !c.json {
			fmt.Fprintf(e.stdout, "Checking the mail of %s as mentord would (%s)\n", cfg.Mailbox.Address, cfg.File)
			progress = func(s admin.Step) { printStep(e.stdout, s) }
		}
		res := admin.CheckMail(ctx, cfg, admin.CheckMailOptions{SendTo: *sendTo, Wait: *wait}, progress)
		if c.json {
			if err := printJSON(e.stdout, res); err != nil {
				return err
			}
		} else if res.OK {
			fmt.Fprintln(e.stdout, "All steps OK: mentord can send, receive and file mail with this configuration.")
		}
		if !res.OK {
			return errCheckFailed
		}
		return nil
	}
}

func printStep(w io.Writer, s admin.Step) {
	switch {
	case s.Skipped:
		fmt.Fprintf(w, "  skip  %-24s (an earlier step failed)\n", s.Name)
	case s.OK:
		fmt.Fprintf(w, "  OK    %-24s %s (%d ms)\n", s.Name, s.Detail, s.Millis)
	default:
		fmt.Fprintf(w, "  FAIL  %-24s %s\n", s.Name, s.Error)
	}
}

func setupOAuthLogin(fs *flag.FlagSet) func(*env, *cmdline) error {
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("oauth login takes no arguments")
		}
		cfg, err := e.loadConfig(c, true)
		if err != nil {
			return err
		}
		o := cfg.OAuth
		if !o.Enabled() || o.Grant != config.GrantRefreshToken {
			return &daemon.ConfigError{Err: fmt.Errorf("%s: oauth login is for oauth.grant refresh_token (a person's consent); "+
				"with grant %q mentord signs in by itself: run mentord check-mail", cfg.File, o.Grant)}
		}
		src, err := connect.NewTokenSource(cfg, nil, nil)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		err = src.Login(ctx, func(p oauth.LoginPrompt) {
			fmt.Fprintf(e.stdout, "To let mentord use the mailbox %s, sign in as its user, on any device:\n", cfg.IMAP.Username)
			fmt.Fprintf(e.stdout, "  1. open   %s\n  2. enter  %s\n", p.URL, p.Code)
			if p.CompleteURL != "" {
				fmt.Fprintf(e.stdout, "  (or open %s, which holds the code)\n", p.CompleteURL)
			}
			if !p.Expires.IsZero() {
				fmt.Fprintf(e.stdout, "The code works until %s. Waiting for the sign-in...\n", p.Expires.Local().Format("15:04"))
			}
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Signed in. The refresh token is in %s (mode 0600); mentord renews it by itself.\n", o.RefreshTokenFile)
		fmt.Fprintln(e.stdout, "A running mentord picks it up at its next try; `systemctl reload mentord` makes that now. Check with: mentord check-mail")
		return nil
	}
}
