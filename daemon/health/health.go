// Package health is what the daemon knows and tells about itself: each
// component's state (the loops, SMTP, IMAP, the OAuth token) and each loop's
// last sign of life.
//
// The flow:
//  1. The loops Set their state and Beat while alive (Progress when they did
//     their work); the daemon's watchdog asks Alive before it pings systemd.
//  2. /healthz serves Parts, a running loop without a sign of life (Lifeless)
//     marked as wedged; the schedule loop saves a Report in the database
//     (Save) on every pass.
//  3. `mentord status`, another process, reads it back (Load), stale when the
//     daemon has not written for five minutes.
package health

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/oauth"
)

// Health is what the loops report about themselves, for /healthz, the
// watchdog and `mentord status`.
type Health struct {
	now   func() time.Time // the daemon's clock
	mu    sync.Mutex
	parts map[string]*Part
	beats map[string]time.Time     // real time of each loop's last sign of life
	quiet map[string]time.Duration // how long a loop may be silent now (Quiet)
}

// Part is one component's state.
type Part struct {
	Name         string    `json:"name"`
	OK           bool      `json:"ok"`
	State        string    `json:"state"`
	Error        string    `json:"error,omitempty"`
	LastProgress time.Time `json:"last_progress,omitzero"`
	Since        time.Time `json:"since"`
}

// New returns a Health that dates changes with now, the daemon's clock.
func New(now func() time.Time) *Health {
	return &Health{now: now, parts: map[string]*Part{}, beats: map[string]time.Time{}, quiet: map[string]time.Duration{}}
}

// Beat records that a loop is alive: working, or waiting as it should.
func (h *Health) Beat(name string) {
	h.mu.Lock()
	h.beats[name] = time.Now()
	h.mu.Unlock()
}

// Quiet says that the loop is about to wait, for up to d between two beats,
// on something that has deadlines of its own but cannot beat meanwhile (an
// SMTP transaction); Alive allows it that long. Zero ends it.
func (h *Health) Quiet(name string, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.quiet[name] = d
}

// Alive reports whether every named loop beat within the last d (or the
// longer time it declared with Quiet), and if not, which one did not.
func (h *Health) Alive(d time.Duration, names ...string) (bool, string) {
	if lifeless := h.Lifeless(d, names...); len(lifeless) > 0 {
		return false, lifeless[0]
	}
	return true, ""
}

// Lifeless names the loops, in the order given, that did not beat within the
// last d (or the longer time they declared with Quiet).
func (h *Health) Lifeless(d time.Duration, names ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, n := range names {
		if time.Since(h.beats[n]) > max(d, h.quiet[n]) {
			out = append(out, n)
		}
	}
	return out
}

// Set records a component's state; the time of the change is kept while the
// state stays the same.
func (h *Health) Set(name string, ok bool, state string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.parts[name]
	if p == nil {
		p = &Part{Name: name}
		h.parts[name] = p
	}
	if p.OK != ok || p.State != state || p.Since.IsZero() {
		p.Since = h.now()
	}
	p.OK, p.State, p.Error = ok, state, ""
	if err != nil {
		p.Error = err.Error()
	}
}

// Progress records that a component did its work just now.
func (h *Health) Progress(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.beats[name] = time.Now()
	if p := h.parts[name]; p != nil {
		p.LastProgress = h.now()
	}
}

// Parts returns a copy of every component's state, by name.
func (h *Health) Parts() []Part {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Part, 0, len(h.parts))
	for _, p := range h.parts {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Remove forgets a component that no longer exists (after a reload).
func (h *Health) Remove(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.parts, name)
}

// OK reports whether the component is known and ok.
func (h *Health) OK(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.parts[name]
	return p != nil && p.OK
}

// Report is what the running daemon last wrote about itself.
type Report struct {
	At    time.Time    `json:"at"`
	Parts []Part       `json:"components"`
	OAuth *oauth.State `json:"oauth,omitempty"` // the access token's state, without the token
	Stale bool         `json:"stale"`           // older than 5 minutes: the daemon is probably not running
}

// setting is where the report is kept in the database.
const setting = "health"

// staleAfter is how old a report is when its daemon probably no longer runs.
const staleAfter = 5 * time.Minute

// Save stores the report for `mentord status` (another process).
func Save(ctx context.Context, db *store.DB, r Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *sqlx.Tx) error { return store.SetSetting(ctx, tx, setting, string(b)) })
}

// Load reads the last report saved, nil when the daemon never ran on this
// database; it is stale when older than five minutes at now.
func Load(ctx context.Context, q store.Querier, now time.Time) (*Report, error) {
	h, err := store.Setting(ctx, q, setting)
	if err != nil || h == "" {
		return nil, err
	}
	var r Report
	if json.Unmarshal([]byte(h), &r) != nil {
		return nil, nil
	}
	r.Stale = now.Sub(r.At) > staleAfter
	return &r, nil
}
