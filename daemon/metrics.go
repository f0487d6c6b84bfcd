package daemon

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mentord/mentord/daemon/ingest"
	"github.com/mentord/mentord/daemon/outbox"
	"github.com/mentord/mentord/daemon/store"
)

// registry builds the daemon's metrics (Prometheus client_golang): the
// reading's and the outbox's counters, gauges read at scrape time, and the Go
// and process collectors.
func (d *Daemon) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(ingest.Metrics...)
	reg.MustRegister(outbox.Metrics...)
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mentord", Name: name, Help: help}, f))
	}
	gauge("up", "1 when every component of mentord reports ok.", func() float64 {
		if d.healthy(context.Background()) == nil {
			return 1
		}
		return 0
	})
	gauge("outbox_depth", "Messages waiting in the outbox (pending or being sent).", func() float64 {
		n, _ := store.CountWaiting(context.Background(), d.db.R())
		return float64(n)
	})
	gauge("outbox_oldest_seconds", "Age of the oldest message waiting in the outbox.", func() float64 {
		t, _ := store.OldestCreated(context.Background(), d.db.R(), store.OutboxPending, store.OutboxSending)
		if t == nil {
			return 0
		}
		return d.clock.Now().Sub(*t).Seconds()
	})
	gauge("imap_sync_lag_seconds", "Time since the inbox was last read completely.", func() float64 {
		for _, p := range d.health.Parts() {
			if p.Name == "inbox" && !p.LastProgress.IsZero() {
				return d.clock.Now().Sub(p.LastProgress).Seconds()
			}
		}
		return -1
	})
	gauge("addresses_suspended", "Addresses mentord stopped sending to after repeated bounces.", func() float64 {
		n, _ := store.CountSuspended(context.Background(), d.db.R())
		return float64(n)
	})
	d.quotaMetrics(reg)
	d.oauthMetrics(reg)
	return reg
}

// quotaMetrics are the sending quotas: how much of each rolling window is
// used and its limit, and whether the server paused sending.
func (d *Daemon) quotaMetrics(reg *prometheus.Registry) {
	for _, w := range []struct {
		label  string
		window time.Duration
		limit  func() int
	}{
		{"minute", store.Minute, func() int { return d.Config().SMTP.MaxPerMinute }},
		{"day", store.Day, func() int { return d.Config().SMTP.MaxRecipientsPerDay }},
	} {
		labels := prometheus.Labels{"window": w.label}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mentord", Name: "smtp_quota_used",
			Help:        "Messages sent in the rolling window (the last minute or 24 hours), and those being sent.",
			ConstLabels: labels}, func() float64 {
			u, err := store.Usage(context.Background(), d.db.R(), d.clock.Now(), w.window, 0)
			if err != nil {
				return -1
			}
			return float64(u.Used)
		}))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mentord", Name: "smtp_quota_limit",
			Help:        "The configured sending quota of the rolling window (smtp.max_per_minute, smtp.max_recipients_per_day); 0 is no limit.",
			ConstLabels: labels}, func() float64 { return float64(w.limit()) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mentord", Name: "smtp_paused",
		Help: "1 while sending is paused because the SMTP server throttled it."}, func() float64 {
		if p, err := outbox.LoadPause(context.Background(), d.db.R()); err == nil && p.Active(d.clock.Now()) {
			return 1
		}
		return 0
	}))
}
