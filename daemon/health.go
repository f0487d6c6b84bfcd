package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mentord/mentord/mail/oauth"
)

// Health is what the loops report about themselves, for /healthz, the
// watchdog and `mentord status`.
type Health struct {
	clock Clock
	mu    sync.Mutex
	parts map[string]*Part
	beats map[string]time.Time // real time of each loop's last sign of life
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

func newHealth(c Clock) *Health {
	return &Health{clock: c, parts: map[string]*Part{}, beats: map[string]time.Time{}}
}

// Beat records that a loop is alive: working, or waiting as it should.
func (h *Health) Beat(name string) {
	h.mu.Lock()
	h.beats[name] = time.Now()
	h.mu.Unlock()
}

// Alive reports whether every named loop beat within the last d, and if not,
// which one did not.
func (h *Health) Alive(d time.Duration, names ...string) (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range names {
		if time.Since(h.beats[n]) > d {
			return false, n
		}
	}
	return true, ""
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
		p.Since = h.clock.Now()
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
		p.LastProgress = h.clock.Now()
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

func (d *Daemon) startHTTP(addr string) error {
	reg := d.registry()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", d.serveHealth)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", addr, err)
	}
	d.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() {
		if err := d.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http listener stopped", "err", err)
		}
	}()
	d.log.Info("health and metrics listening", "addr", ln.Addr().String())
	return nil
}

// healthy returns nil when the database answers and every component is ok.
func (d *Daemon) healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := d.db.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	for _, p := range d.health.Parts() {
		if !p.OK {
			return fmt.Errorf("%s: %s %s", p.Name, p.State, p.Error)
		}
	}
	return nil
}

func (d *Daemon) serveHealth(w http.ResponseWriter, r *http.Request) {
	body := struct {
		Status string       `json:"status"`
		Error  string       `json:"error,omitempty"`
		Parts  []Part       `json:"components"`
		OAuth  *oauth.State `json:"oauth,omitempty"`
	}{Status: "ok", Parts: d.health.Parts(), OAuth: d.tokenReport()}
	code := http.StatusOK
	if err := d.healthy(r.Context()); err != nil {
		body.Status, body.Error, code = "failing", err.Error(), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
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
