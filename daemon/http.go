package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/mail/oauth"
)

// httpLimitSet bounds the HTTP listener: how long a client may take to send
// its request and to read the answer, how long an idle keep-alive connection
// is kept, and how many connections are served at once (the rest wait in
// the kernel's backlog). Without them idle connections were never closed,
// and 20,000 of them used up the file descriptors SMTP needed.
type httpLimitSet struct {
	ReadHeader, Read, Write, Idle time.Duration
	Conns                         int
}

// httpLimits are ample for a health check and a Prometheus scrape every few
// seconds; a test may shorten them.
var httpLimits = httpLimitSet{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second,
	Idle: 60 * time.Second, Conns: 64}

func (d *Daemon) startHTTP(addr string) error {
	reg := d.registry()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", d.serveHealth)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", addr, err)
	}
	lim := httpLimits
	d.http = &http.Server{Handler: mux, ReadHeaderTimeout: lim.ReadHeader, ReadTimeout: lim.Read,
		WriteTimeout: lim.Write, IdleTimeout: lim.Idle, MaxHeaderBytes: 16 << 10, ErrorLog: nil}
	go func() {
		if err := d.http.Serve(netutil.LimitListener(ln, lim.Conns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
	for _, p := range d.parts() {
		if !p.OK {
			return fmt.Errorf("%s: %s %s", p.Name, p.State, p.Error)
		}
	}
	return nil
}

// parts is every component's state, with a running loop that has shown no
// sign of life within liveWindow marked as wedged, as the watchdog sees it.
func (d *Daemon) parts() []health.Part {
	parts := d.health.Parts()
	window := d.liveWindow()
	for _, loop := range d.health.Lifeless(window, loopNames...) {
		for i := range parts {
			if parts[i].Name == loop && parts[i].State == "running" {
				parts[i].OK, parts[i].State = false, fmt.Sprintf("wedged: no sign of life for over %v", window)
			}
		}
	}
	return parts
}

func (d *Daemon) serveHealth(w http.ResponseWriter, r *http.Request) {
	body := struct {
		Status string        `json:"status"`
		Error  string        `json:"error,omitempty"`
		Parts  []health.Part `json:"components"`
		OAuth  *oauth.State  `json:"oauth,omitempty"`
	}{Status: "ok", Parts: d.parts(), OAuth: d.tokenReport()}
	code := http.StatusOK
	if err := d.healthy(r.Context()); err != nil {
		body.Status, body.Error, code = "failing", err.Error(), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// writeHealth stores the daemon's health for `mentord status` (another process).
func (d *Daemon) writeHealth(ctx context.Context) {
	err := health.Save(ctx, d.db, health.Report{At: d.clock.Now(), Parts: d.parts(), OAuth: d.tokenReport()})
	if err != nil {
		d.log.Warn("cannot record the daemon's health", "err", err)
	}
}
