package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mentord/mentord/internal/demo"
)

// setupDemo is `mentord demo`: the real daemon on a fast clock, with
// simulated mentee and mentor mail clients, in a temporary directory. It
// needs no configuration file.
func setupDemo(fs *flag.FlagSet) func(*env, *cmdline) error {
	speed := fs.Float64("speed", demo.DefaultSpeed, "simulated `days` per real second")
	quiet := fs.Bool("quiet", false, "print only the summary and the progress log, not the timeline")
	return func(e *env, c *cmdline) error {
		if len(c.args) > 0 {
			return usagef("demo takes no arguments")
		}
		if *speed <= 0 || *speed > 100 {
			return usagef("--speed must be above 0 and at most 100 days a second")
		}
		// SIGPIPE too (mentord demo | head): stop, and remove the temporary directory.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
		defer stop()
		if err := demo.Run(ctx, demo.Options{Out: e.stdout, Speed: *speed, Quiet: *quiet}); err != nil {
			return fmt.Errorf("the demo failed: %v", err) // %v: a failure, never a usage or configuration error
		}
		return nil
	}
}
