package daemon

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// Clock tells the time; tests inject one to simulate a year.
type Clock interface {
	Now() time.Time
	// After waits for d on this clock.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// After waits for d.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// logLevel is shared by every logger NewLogger makes, so a reload can change it.
var logLevel = new(slog.LevelVar)

// NewLogger builds the process logger: text or JSON on w (stderr when nil).
// Under systemd (JOURNAL_STREAM set) the journal adds timestamps, so the text
// format leaves them out.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	if lv, ok := parseLevel(level); ok {
		logLevel.Set(lv)
	}
	opts := &slog.HandlerOptions{Level: logLevel}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	if os.Getenv("JOURNAL_STREAM") != "" {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) (slog.Level, bool) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return 0, false
	}
	return lv, true
}

// SdNotify tells systemd about the service's state (sd_notify(3)). Outside
// systemd, with no $NOTIFY_SOCKET, it does nothing.
func SdNotify(state string) {
	_, _ = sddaemon.SdNotify(false, state)
}

// reloadingState is the RELOADING=1 message with the monotonic timestamp that
// systemd asks for with Type=notify-reload.
func reloadingState() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return "RELOADING=1"
	}
	usec := ts.Nano() / 1000
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
}

func pidOf() int { return os.Getpid() }
