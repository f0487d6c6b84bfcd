// Package daemon is the running mentord process: it loads the configuration,
// opens the database, and runs the loops that join the rooms below it:
// compose (what is due and what it says), outbox (sending), ingest (reading),
// with health, connect and the leaf packages (config, store, schedule, mail).
// The admin's operations are in daemon/admin, beside it; it does not import them.
//
// The flow of Run:
//  1. Load and validate the configuration; take the database's lock (one
//     daemon per database), open and migrate the database; start the
//     embedded dev mail server when enabled.
//  2. Start the three loops under a supervisor that recovers panics and
//     restarts a failed loop after a backoff: schedule (decides what is due),
//     outbox (sends it), inbox (reads the programme mailbox).
//  3. Tell systemd READY=1, then check the whole database file in the
//     background (quick_check: its "database" component says what it
//     found); on SIGHUP reload the configuration (RELOADING=1, then
//     READY=1), keeping the old one when the new one is invalid.
//     A reload runs beside the wait for a signal, so INT and TERM are always heard.
//  4. On INT or TERM: STOPPING=1, stop taking new work, let in-flight work
//     finish for up to service.shutdown_timeout, then cut it off and return;
//     a loop wedged in its own code is left behind after a few seconds more.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/devserver"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/templates"
)

// ConfigError is a configuration that cannot be used; the process should exit
// with status 2 so that systemd does not restart it in a loop.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Options are what the process passes to Run.
type Options struct {
	ConfigPath string
	LogOutput  io.Writer       // where logs go; default stderr
	Logger     *slog.Logger    // overrides the logger built from the configuration
	Clock      Clock           // default: the real clock
	Reload     <-chan struct{} // a receive reloads the configuration (SIGHUP)
	Notify     func(state string)
	Faults     *Faults // test hooks; nil in production
}

// Faults lets a test wedge or break the daemon at chosen points.
type Faults struct {
	BeforeInbox  func() // called before each read of the inbox; blocking it wedges the inbox loop
	BeforeReload func() // called at the start of each reload; blocking it holds the reload
}

// Daemon is the running process's state, shared by the loops.
type Daemon struct {
	cfg    atomic.Pointer[config.Config]
	tpl    atomic.Pointer[templates.Set]
	db     *store.DB
	log    *slog.Logger
	clock  Clock
	notify func(string)
	health *health.Health
	dev    *devserver.Server
	http   *http.Server
	lock   *instanceLock // this process's claim on the database
	// started is the configuration the process started with: what the
	// settings a reload cannot change (restartOnly) are running on.
	started *config.Config

	// reloaded is closed and replaced on every successful reload, so loops
	// holding connections can reconnect with the new settings.
	mu       sync.Mutex
	reloaded chan struct{}
	// kick wakes the outbox loop when something was enqueued.
	kick chan struct{}
	// changed wakes the schedule loop when another process changed the
	// database, or the inbox loop logged what needs a receipt.
	changed chan struct{}
	// tokens is the OAuth token source (nil with passwords); stopTokens ends
	// its renewal. Both under mu: a reload replaces them.
	tokens     *oauth.Source
	stopTokens func()
	tokenCtx   context.Context // what a reload's new token source runs under
	// inboxConn is the IMAP connection the inbox was last read on (inbox loop only).
	inboxConn *imapclient.Client
	// lastPurge is when old raw messages were last dropped (schedule loop only).
	lastPurge time.Time
	watchdog  time.Duration // systemd's WatchdogSec, 0 when off
	faults    *Faults
}

// Config returns the configuration in force.
func (d *Daemon) Config() *config.Config { return d.cfg.Load() }

func (d *Daemon) templates() *templates.Set { return d.tpl.Load() }

// Run runs the daemon until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, opts Options) error {
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return &ConfigError{Err: err}
	}
	d := &Daemon{clock: opts.Clock, notify: opts.Notify, reloaded: make(chan struct{}), kick: make(chan struct{}, 1), changed: make(chan struct{}, 1),
		watchdog: watchdogInterval(), faults: opts.Faults}
	d.cfg.Store(cfg)
	d.started = cfg
	d.log = opts.Logger
	if d.log == nil {
		d.log = NewLogger(opts.LogOutput, cfg.Log.Level, cfg.Log.Format)
	}
	if d.clock == nil {
		d.clock = RealClock{}
	}
	if d.notify == nil {
		d.notify = SdNotify
	}
	d.health = health.New(d.clock.Now)

	if err := d.start(ctx); err != nil {
		d.close()
		return err
	}
	defer d.close()
	d.markStarting(cfg)

	hard, cutWork := context.WithCancel(context.Background())
	defer cutWork()
	// The first token is fetched now, before the loops need one.
	d.tokenCtx = hard
	if err := d.startTokens(hard, cfg); err != nil {
		return err
	}
	defer d.stopTokenRenewal()
	soft, stopWork := context.WithCancel(context.Background())
	// What other processes had committed is taken before the first pass
	// reads: a commit after it is seen by the pass or wakes the next one.
	version, verr := d.db.ChangedElsewhere(soft)
	loops := d.startLoops(soft, hard)
	go d.runWatchdog(soft)
	go d.watchChanges(soft, version, verr)
	go d.checkDatabase(soft)

	d.notify("READY=1\nSTATUS=running")
	// Saved now, after READY (not to hold it up), rather than left to the
	// schedule's first pass, which may take long on a large database.
	d.writeHealth(soft)
	d.log.Info("mentord running", "config", cfg.File, "database", cfg.Database.Path, "pid", pidOf())

	// A reload runs beside this loop, one at a time, so that SIGTERM is
	// always heard, whatever a reload waits for.
	var reloading chan struct{}
	for done := false; !done; {
		reload := opts.Reload
		if reloading != nil {
			reload = nil // the next one waits in its channel
		}
		select {
		case <-ctx.Done():
			done = true
		case <-reload:
			reloading = make(chan struct{})
			go func(finished chan struct{}) {
				defer close(finished)
				d.reload(opts.ConfigPath)
			}(reloading)
		case <-reloading:
			reloading = nil
		}
	}
	if reloading != nil {
		select {
		case <-reloading:
		case <-time.After(cutGrace):
			d.log.Error("a reload did not finish; stopping without it")
		}
	}

	timeout := d.Config().Service.ShutdownTimeout.D()
	d.notify("STOPPING=1\nSTATUS=stopping")
	d.log.Info("shutting down: finishing in-flight work", "timeout", timeout)
	stopWork()
	select {
	case <-loops:
	case <-time.After(timeout):
		d.log.Warn("in-flight work did not finish in time; cutting it off", "timeout", timeout)
		cutWork()
		select {
		case <-loops:
		case <-time.After(cutGrace):
			// Wedged in its own code: nothing can stop it but the exit.
			d.log.Error("a loop did not stop when its work was cut off; stopping without it", "loops", d.stillRunning())
		}
	}
	d.log.Info("mentord stopped")
	return nil
}

// cutGrace is how long the loops get to return once their work is cut off
// (and a reload to finish once SIGTERM came).
const cutGrace = 5 * time.Second

// stillRunning names the loops that have not stopped.
func (d *Daemon) stillRunning() []string {
	var out []string
	for _, p := range d.health.Parts() {
		if slices.Contains(loopNames, p.Name) && p.State != "stopped" {
			out = append(out, p.Name)
		}
	}
	return out
}

// start opens what the loops need: the database, the dev mail server, the HTTP listener.
func (d *Daemon) start(ctx context.Context) error {
	cfg := d.Config()
	tpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		return &ConfigError{Err: fmt.Errorf("templates: %w", err)}
	}
	d.tpl.Store(tpl)
	// One daemon per database, before anything touches the outbox.
	if d.lock, err = lockDatabase(cfg.Database.Path); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		return fmt.Errorf("%w (database.path at %s:%d)", err, cfg.File, cfg.Line("database.path"))
	}
	d.db = db
	// Opening read the file's header and schema (a file that is not a
	// database, or whose first page is damaged, fails there). The whole file
	// is checked after READY (checkDatabase): quick_check reads every page,
	// 17 s at 100,000 pairs, and the start must not wait for it.
	var n int
	if err := db.Tx(ctx, func(tx *sqlx.Tx) (err error) { n, err = store.ReleaseClaims(ctx, tx); return err }); err != nil {
		return err
	}
	if n > 0 {
		d.log.Warn("messages claimed by a process that stopped are queued again", "count", n)
	}
	if cfg.DevServer.Enabled {
		dc := devserver.Config{
			SMTPAddr: cfg.DevServer.SMTPListen, IMAPAddr: cfg.DevServer.IMAPListen, Logger: d.log.With("component", "devserver"),
		}
		if cfg.PlusAddressing() { // replies to mentoring+TOKEN@ reach the programme's INBOX, as on a real server
			dc.RecipientDelimiter = cfg.Mailbox.PlusDelimiter
		}
		// Its mail is gone with the last process: its INBOX is numbered above
		// the UIDVALIDITY the last one was read in, so no UID read then names
		// a new message.
		cur, err := store.GetCursor(ctx, db.R(), cfg.IMAP.Folders.Inbox)
		if err != nil {
			return err
		}
		dc.UIDValidityAbove = cur.UIDValidity
		d.dev, err = devserver.Start(dc)
		if err != nil {
			return fmt.Errorf("start the dev mail server: %w (is another mentord running? change devserver.smtp_listen and imap_listen)", err)
		}
	}
	if cfg.HTTP.Listen != "" {
		if err := d.startHTTP(cfg.HTTP.Listen); err != nil {
			return err
		}
	}
	return nil
}

// markStarting marks every component "starting", so that status (once the
// report is saved, right after READY) shows all of them from the start, each
// until it reports its own state.
func (d *Daemon) markStarting(cfg *config.Config) {
	names := append(slices.Clone(loopNames), "smtp", "imap", "database")
	if cfg.OAuth.Enabled() {
		names = append(names, "oauth")
	}
	for _, n := range names {
		d.health.Set(n, true, "starting", nil)
	}
}

// checkDatabase checks the whole database file (quick_check) after the
// start, and reports it as the "database" component: a damaged file makes
// /healthz fail and is logged, with what to do.
func (d *Daemon) checkDatabase(ctx context.Context) {
	d.health.Set("database", true, "checking", nil)
	err := d.db.QuickCheck(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		d.health.Set("database", false, "damaged", err)
		d.log.Error("the database failed its check; stop mentord and restore a backup", "err", err)
	default:
		d.health.Set("database", true, "ok", nil)
	}
}

func (d *Daemon) close() {
	if d.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = d.http.Shutdown(ctx)
		cancel()
	}
	if d.dev != nil {
		_ = d.dev.Close()
	}
	if d.db != nil {
		if err := d.db.Close(); err != nil {
			d.log.Error("close database", "err", err)
		}
	}
	d.lock.release()
}

// reload swaps in a new configuration when it is valid; otherwise the old one stays.
func (d *Daemon) reload(path string) {
	d.notify(reloadingState())
	defer d.notify("READY=1\nSTATUS=running")
	if d.faults != nil && d.faults.BeforeReload != nil {
		d.faults.BeforeReload()
	}
	old := d.Config()
	cfg, err := config.Load(path)
	if err != nil {
		d.log.Error("reload: the new configuration is invalid; keeping the old one", "err", err)
		return
	}
	tpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		d.log.Error("reload: the templates are invalid; keeping the old configuration", "err", err)
		return
	}
	// Against what runs, not the last file read: a change taken back warns no more.
	for _, key := range restartOnly(d.started, cfg) {
		d.log.Warn("reload: this setting changes only at the next restart", "key", key)
	}
	if !sameOAuth(old, cfg) {
		if err := d.startTokens(d.tokenCtx, cfg); err != nil {
			d.log.Error("reload: the new oauth settings cannot be used; keeping the old configuration", "err", err)
			return
		}
		d.log.Info("reload: oauth settings changed; fetching a new token")
	} else if src := d.Tokens(); src != nil {
		src.Wake() // a failing source tries again now (after `oauth login`, say)
	}
	d.tpl.Store(tpl)
	d.cfg.Store(cfg)
	if lv, ok := parseLevel(cfg.Log.Level); ok {
		logLevel.Set(lv)
	}
	d.mu.Lock()
	close(d.reloaded)
	d.reloaded = make(chan struct{})
	d.mu.Unlock()
	d.log.Info("configuration reloaded", "config", cfg.File)
	d.retryNow("the configuration was reloaded")
}

// Reloaded returns a channel closed at the next successful reload.
func (d *Daemon) Reloaded() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reloaded
}

// restartOnly names the changed settings that a reload cannot apply.
func restartOnly(old, cfg *config.Config) []string {
	var keys []string
	if old.Database.Path != cfg.Database.Path {
		keys = append(keys, "database.path")
	}
	if old.DevServer != cfg.DevServer {
		keys = append(keys, "devserver")
	}
	if old.HTTP != cfg.HTTP {
		keys = append(keys, "http.listen")
	}
	if old.Log.Format != cfg.Log.Format {
		keys = append(keys, "log.format")
	}
	return keys
}

// Kick wakes the outbox loop.
func (d *Daemon) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

var errStopped = errors.New("stopped")
