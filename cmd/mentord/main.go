// Command mentord is the mentoring programme daemon and its admin tool.
//
// main stays thin: it parses the command line, wires signals and exit codes,
// and hands everything else to package daemon.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // time zones work on hosts without /usr/share/zoneinfo

	"github.com/mentord/mentord/daemon"
)

func main() {
	os.Exit(run(os.Args[1:], newEnv()))
}

// serveProcess runs the daemon with the process's signals: INT and TERM stop
// it gracefully, HUP reloads the configuration.
func serveProcess(e *env, configPath string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	return daemon.Run(ctx, daemon.Options{ConfigPath: configPath, LogOutput: e.stderr, Reload: reload})
}
