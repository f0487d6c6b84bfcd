package daemon

import (
	"context"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// The systemd watchdog (WatchdogSec=, sd_watchdog_enabled(3)): WATCHDOG=1 is
// sent every half interval, but only while every loop has shown a sign of life
// within the interval, so a wedged loop gets the service restarted.
//
// The watchdog is about mentord being alive and not wedged, not about its
// peers being up or its work being large. A loop shows life (health.Beat) when
// it works (per message, per batch; a long pass such as the schedule's should
// beat per chunk: d.health.Beat("schedule")), and while it waits as designed:
// its sleep, a restart's backoff, IMAP's reconnect backoff, IDLE, polling and
// each command's wait for the server (all with deadlines). A wait inside code
// that cannot beat, such as an SMTP dial or transaction, is declared with
// health.Quiet and the deadlines it has. A loop stuck in its own code does
// none of these, and the pings stop.

// loopNames are the loops the watchdog watches.
var loopNames = []string{"schedule", "outbox", "inbox"}

// liveWindow is how long a loop may show no sign of life before it counts as
// wedged: WatchdogSec, or a minute outside systemd's watchdog.
func (d *Daemon) liveWindow() time.Duration {
	if d.watchdog > 0 {
		return d.watchdog
	}
	return time.Minute
}

// heartbeatEvery is how often a waiting loop says it is alive.
func (d *Daemon) heartbeatEvery() time.Duration {
	if d.watchdog > 0 {
		return min(5*time.Second, d.watchdog/4)
	}
	return 5 * time.Second
}

// watchdogInterval reads WATCHDOG_USEC (for this process), 0 when off.
func watchdogInterval() time.Duration {
	d, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// runWatchdog pings systemd while the loops are alive, until ctx ends.
func (d *Daemon) runWatchdog(ctx context.Context) {
	if d.watchdog <= 0 {
		return
	}
	t := time.NewTicker(d.watchdog / 2)
	defer t.Stop()
	stalled := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ok, loop := d.health.Alive(d.watchdog, loopNames...); ok {
			d.notify("WATCHDOG=1")
			stalled = ""
		} else if loop != stalled {
			d.log.Error("a loop shows no sign of life; not pinging the watchdog", "loop", loop)
			stalled = loop
		}
	}
}

// sleep waits for dur on the daemon's clock, or until soft ends or kick
// fires, beating for the loop meanwhile. It reports whether soft ended.
func (d *Daemon) sleep(soft context.Context, dur time.Duration, loop string, kick <-chan struct{}) bool {
	return d.waitFor(soft, d.clock.After(dur), loop, kick)
}

// waitFor waits until deadline, soft ends or kick fires, beating for the loop
// meanwhile. It reports whether soft ended.
func (d *Daemon) waitFor(soft context.Context, deadline <-chan time.Time, loop string, kick <-chan struct{}) bool {
	beat := time.NewTicker(d.heartbeatEvery())
	defer beat.Stop()
	for {
		d.health.Beat(loop)
		select {
		case <-soft.Done():
			return true
		case <-deadline:
			return false
		case <-kick:
			return false
		case <-beat.C:
		}
	}
}
