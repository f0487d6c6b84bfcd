// Package demo is the guided demo (`mentord demo`): a year of one mentoring
// pair in well under a minute. It drives the production daemon from outside,
// as a person and their mail clients would, so it lives outside the
// production packages and nothing in them knows of it.
//
// The flow:
//  1. Write a configuration in a temporary directory: the embedded dev mail
//     server on free loopback ports, the database next to it.
//  2. Add one pair (mentee in Copenhagen, mentor in New York) and start the
//     real daemon (daemon.Run) on an accelerated clock, its log feeding the timeline.
//  3. Simulated mail clients for mentee and mentor read their mailboxes over
//     IMAP and answer over SMTP as people do (clients.go); the timeline
//     shows what mentord sent and what it understood of each answer.
//  4. After the last reflection's reminder window, once nothing is in flight,
//     stop the daemon and print the year in numbers and the progress log.
package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/compose"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/records"
	"github.com/mentord/mentord/daemon/store"
)

// Options tune Run.
type Options struct {
	Out      io.Writer // the timeline, the summary and the log; default stdout
	Speed    float64   // simulated days per real second; default DefaultSpeed
	Sessions int       // monthly sessions, 4 to 24; default 12
	Quiet    bool      // print only the summary and the progress log
}

// DefaultSpeed is simulated days per real second: a year in about 40 s.
const DefaultSpeed = 10

// demoStart is when the simulated clock starts: a Monday morning four weeks
// before the first session.
var demoStart = time.Date(2026, 12, 14, 8, 0, 0, 0, demoZone("Europe/Copenhagen"))

func demoZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // the zones are fixed and cmd/mentord embeds time/tzdata
	}
	return loc
}

// Run runs the guided demo. It returns nil when the simulated year ran
// through and the mentee's progress log was printed.
func Run(ctx context.Context, opts Options) error {
	opts.Out = cmp.Or[io.Writer](opts.Out, os.Stdout)
	opts.Speed, opts.Sessions = cmp.Or(opts.Speed, DefaultSpeed), cmp.Or(opts.Sessions, 12)
	if opts.Sessions < 4 || opts.Sessions > 24 || opts.Speed < 0 {
		return errors.New("demo: from 4 to 24 sessions, at a positive speed")
	}
	dir, err := os.MkdirTemp(demoTempRoot(), "mentord-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := &demo{cast: newDemoCast(opts.Sessions), clock: newAccelClock(demoStart, opts.Speed)}
	if d.cfgPath, err = writeDemoConfig(dir); err != nil {
		return err
	}
	if d.cfg, err = config.Load(d.cfgPath); err != nil {
		return fmt.Errorf("the demo's configuration: %w", err)
	}
	if d.sessions, err = addDemoPair(ctx, d.cfg, d.clock, d.cast); err != nil {
		return err
	}
	d.tl = newDemoTimeline(opts.Out, opts.Quiet, d.clock, d.cast, d.sessions)
	if !opts.Quiet {
		d.tl.intro(opts.Speed, d.cfg, d.sessions[0])
	}
	if err := d.run(ctx); err != nil {
		return err
	}
	return d.report(ctx)
}

// demo is one run of the guided demo.
type demo struct {
	cfg      *config.Config
	cfgPath  string
	clock    *accelClock
	tl       *demoTimeline
	cast     demoCast
	sessions []store.Session
	started  time.Time
}

// run starts the daemon and the clients, waits for the end of the year, and
// stops them: the daemon as at SIGTERM, by ending the context daemon.Run got.
func (d *demo) run(ctx context.Context) error {
	d.started = time.Now()
	runCtx, stopDaemon := context.WithCancel(ctx)
	defer stopDaemon()
	ready, stopped := make(chan struct{}), make(chan struct{})
	var once sync.Once
	notify := func(s string) {
		if strings.HasPrefix(s, "READY=1") {
			once.Do(func() { close(ready) })
		}
	}
	var runErr error
	go func() {
		defer close(stopped)
		runErr = daemon.Run(runCtx, daemon.Options{ConfigPath: d.cfgPath, Logger: slog.New(demoHandler{d.tl}), Clock: d.clock, Notify: notify})
	}()
	select {
	case <-ready:
	case <-stopped:
		return fmt.Errorf("the daemon did not start: %w", runErr)
	}
	lookup, closeLookup := sessionLookup(ctx, d.cfg.Database.Path)
	defer closeLookup()
	d.tl.setLookup(lookup)
	clientCtx, stopClients := context.WithCancel(ctx)
	clients := d.startClients(clientCtx)
	err := demoWaitUp(clients)
	d.conversation(clientCtx, clients)
	d.clock.begin() // the clock stood still while everything started
	var moments sync.WaitGroup
	moments.Go(func() { d.tl.sessionMoments(clientCtx, d.sessions) })
	if err == nil {
		err = d.waitForTheEnd(ctx, stopped, clients)
	}
	stopClients()
	moments.Wait()
	for _, c := range clients {
		c.wg.Wait()
	}
	stopDaemon()
	<-stopped
	if runErr != nil && err == nil {
		err = fmt.Errorf("the daemon stopped with an error: %w", runErr)
	}
	d.tl.flush(time.Time{})
	return err
}

// demoWaitUp waits until every client has read its mailbox once.
func demoWaitUp(clients []*demoClient) error {
	timeout := time.After(30 * time.Second)
	for _, c := range clients {
		select {
		case <-c.up:
		case <-timeout:
			return fmt.Errorf("%s's mail client cannot read the mailbox", c.p.First)
		}
	}
	return nil
}

// waitForTheEnd waits until the clock is past the last session's reminder
// window and nothing is in flight.
func (d *demo) waitForTheEnd(ctx context.Context, stopped <-chan struct{}, clients []*demoClient) error {
	t := compose.Timings(d.cfg)
	end := d.sessions[len(d.sessions)-1].End().Add(t.ReflectionDelay + t.NudgeAfter + 6*time.Hour)
	deadline := time.Now().Add(d.clock.real(end.Sub(demoStart)) + 2*time.Minute)
	// A reply read and logged is in flight until its receipt is composed and
	// sent: the timeline sees a message from the daemon's log line after it
	// was enqueued, the database as it is committed.
	db, err := store.OpenReadOnly(ctx, d.cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()
	unsettled := func() (string, error) {
		if what := d.tl.unsettled(clients); what != "" {
			return what, nil
		}
		acks, err := store.PendingAcks(ctx, db.R(), 0, 1)
		if err != nil {
			return "", err
		}
		if len(acks) > 0 {
			return fmt.Sprintf("no receipt composed yet for reply %d", acks[0].ID), nil
		}
		if n, err := store.CountWaiting(ctx, db.R()); err != nil || n > 0 {
			return fmt.Sprintf("%d messages waiting in the outbox", n), err
		}
		return "", nil
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		d.tl.flush(d.clock.Now().Add(-d.clock.simulated(demoLag)))
		if d.clock.Now().After(end) {
			switch what, err := unsettled(); {
			case err != nil:
				return err
			case what == "":
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted on %s (simulated)", d.clock.Now().Format("2 Jan 2006"))
		case <-stopped:
			return errors.New("the daemon stopped early")
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			what, _ := unsettled()
			return fmt.Errorf("the simulated year did not settle: %s", what)
		}
	}
}

// report prints the year in numbers, then the mentee's progress log from the
// database the daemon left behind.
func (d *demo) report(ctx context.Context) error {
	// What the daemon logged as it stopped comes after the last flush; a
	// warning among it is counted below and must be shown too.
	d.tl.flush(time.Time{})
	if err := d.tl.summary(time.Since(d.started)); err != nil {
		return err
	}
	db, err := store.OpenReadOnly(ctx, d.cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()
	log, err := records.LoadMenteeLog(ctx, db.R(), d.cast.mentee.Email, d.clock.Now())
	if err != nil {
		return fmt.Errorf("load the progress log: %w", err)
	}
	fmt.Fprintf(d.tl.w, "\n%s\n\n", demoHeading("The progress log (mentord log --mentee "+d.cast.mentee.Email+")"))
	if err := records.WriteMenteeLog(d.tl.w, log, "text"); err != nil {
		return fmt.Errorf("print the progress log: %w", err)
	}
	_, err = fmt.Fprintf(d.tl.w, "\n%s\n%s\n", demoHeading("That was the demo"), demoOutro)
	return err
}

const demoOutro = `The daemon, its database and the mail server were real, with a fast clock;
only Bo and Ada were simulated. The database is gone now. To run mentord by
hand, see README.md: mentord serve --config config.example.yaml.`

// accelClock is simulated time: it stands at start until begin, then runs
// speed days per real second. After(d) fires after d/speed of real time, but
// no sooner than demoMinWait: the loops sleep at most a simulated minute,
// which would otherwise make them spin.
type accelClock struct {
	start time.Time
	speed float64 // simulated seconds per real second
	real0 atomic.Pointer[time.Time]
}

const (
	demoMinWait = 500 * time.Microsecond
	demoLag     = 150 * time.Millisecond // the timeline prints events this late, in time order
)

func newAccelClock(start time.Time, daysPerSecond float64) *accelClock {
	return &accelClock{start: start, speed: daysPerSecond * 86400}
}

func (c *accelClock) begin() {
	now := time.Now()
	c.real0.Store(&now)
}

// Now returns the simulated time.
func (c *accelClock) Now() time.Time {
	r := c.real0.Load()
	if r == nil {
		return c.start
	}
	return c.start.Add(c.simulated(time.Since(*r)))
}

// After waits for d of simulated time.
func (c *accelClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(max(c.real(d), demoMinWait), func() { ch <- c.Now() })
	return ch
}

func (c *accelClock) real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.speed) }

func (c *accelClock) simulated(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.speed)
}

// sleep waits for d of simulated time; false when ctx ended first.
func (c *accelClock) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(c.real(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

const demoMailbox = "demo@example.org"

// writeDemoConfig writes the demo's configuration: the embedded defaults with
// the dev mail server on free loopback ports and the database in dir.
func writeDemoConfig(dir string) (string, error) {
	var addrs [2]string
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("find a free port: %w", err)
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
	}
	body := fmt.Sprintf(`programme: {name: Staff Mentoring Programme, organisation: Example University, admin_email: `+demoAdmin+`, admin_digest: weekly}
mailbox: {address: %s}
database: {path: %q}
devserver: {enabled: true, smtp_listen: %q, imap_listen: %q}
defaults: {timezone: Europe/Copenhagen, language: en}
timings: {quiet_hours: {start: "21:00", end: "08:00"}}
service: {shutdown_timeout: 10s}
`, demoMailbox, filepath.Join(dir, "mentord.db"), addrs[0], addrs[1])
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(body), 0o600)
}

// demoTempRoot is where the demo's directory goes: in memory when there is a
// tmpfs, since an fsync on a disk at every commit costs simulated hours.
func demoTempRoot() string {
	f, err := os.CreateTemp("/dev/shm", "mentord-")
	if err != nil {
		return ""
	}
	f.Close()
	os.Remove(f.Name())
	return "/dev/shm"
}

// addDemoPair adds the demo's pair and returns its sessions in order.
func addDemoPair(ctx context.Context, cfg *config.Config, clock *accelClock, cast demoCast) ([]store.Session, error) {
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := &admin.Roster{DB: db, Cfg: cfg, Now: clock.Now}
	res, err := r.AddPair(ctx, admin.PairInput{
		MentorName: cast.mentor.Name, MentorEmail: cast.mentor.Email, MentorTZ: cast.mentor.Loc.String(), MentorLang: "en",
		MenteeName: cast.mentee.Name, MenteeEmail: cast.mentee.Email, TZ: cast.mentee.Loc.String(), Lang: "en",
		Start: "2027-01-12T14:00", Every: "monthly", Sessions: fmt.Sprint(cast.sessions), Duration: "60m",
		Location: "Room 4.12", Objectives: "Lead my first research group",
		Contact: "Short emails; a call when something is urgent", Progress: "The progress log mentord keeps",
	})
	if err != nil {
		return nil, fmt.Errorf("add the demo's pair: %w", err)
	}
	ss, err := store.ListSessions(ctx, db.R(), res.PairID)
	if err == nil && len(ss) != cast.sessions {
		err = fmt.Errorf("the demo's pair has %d sessions, want %d", len(ss), cast.sessions)
	}
	return ss, err
}

// demoHandler hands the daemon's log records to the timeline. Loggers with
// attributes (the mail server, IMAP and SMTP components) are dropped.
type demoHandler struct{ tl *demoTimeline }

func (h demoHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h demoHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	h.tl.record(r.Level, r.Message, attrs)
	return nil
}

func (h demoHandler) WithAttrs([]slog.Attr) slog.Handler { return slog.DiscardHandler }

func (h demoHandler) WithGroup(string) slog.Handler { return slog.DiscardHandler }
