package daemon

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/oauth"
)

// sameOAuth reports whether two configurations sign in the same way, so a
// reload can keep the token it has.
func sameOAuth(a, b *config.Config) bool {
	x, y := a.OAuth, b.OAuth
	x.RootCAs, y.RootCAs = nil, nil
	x.ClientCertificate, y.ClientCertificate = nil, nil
	if !reflect.DeepEqual(x, y) || a.IMAP.Username != b.IMAP.Username {
		return false
	}
	ca, cb := a.OAuth.ClientCertificate, b.OAuth.ClientCertificate
	return (ca == nil) == (cb == nil) && (ca == nil || ca.Equal(cb))
}

// startTokens starts the token source of cfg (none without OAuth): it fetches
// the first token at once and renews it until ctx ends, reporting its state
// as the health component "oauth".
func (d *Daemon) startTokens(ctx context.Context, cfg *config.Config) error {
	src, err := connect.NewTokenSource(cfg, d.log.With("component", "oauth"), d.tokenState)
	if err != nil {
		return &ConfigError{Err: err}
	}
	d.mu.Lock()
	if d.stopTokens != nil {
		d.stopTokens()
	}
	d.tokens, d.stopTokens = src, nil
	if src != nil {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		d.stopTokens = func() { cancel(); <-done }
		go func() {
			defer close(done)
			if err := safeRun(func() error { src.Run(runCtx); return nil }); err != nil {
				d.log.Error("oauth token renewal stopped", "err", err)
			}
		}()
		d.health.Set("oauth", true, "fetching the first token", nil)
	} else {
		d.health.Remove("oauth")
	}
	d.mu.Unlock()
	return nil
}

// stopTokenRenewal stops the token source's renewal, at shutdown.
func (d *Daemon) stopTokenRenewal() {
	d.mu.Lock()
	stop := d.stopTokens
	d.stopTokens = nil
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Tokens returns the token source in force, nil without OAuth.
func (d *Daemon) Tokens() *oauth.Source {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tokens
}

// tokenState reports a fetch's outcome as the health component "oauth"; when
// a token comes after failures, the mail that waits for a retry goes now.
func (d *Daemon) tokenState(st oauth.State) {
	if !st.OK() {
		d.health.Set("oauth", false, "no valid token", fmt.Errorf("%s", st.LastError))
		return
	}
	recovered := st.Failures > 0 && !d.health.OK("oauth")
	d.health.Set("oauth", true, "token valid until "+st.ValidUntil.UTC().Format(time.RFC3339), nil)
	d.health.Progress("oauth")
	if recovered {
		d.retryNow("the OAuth token works again")
	}
}

// tokenReport is the token's state for status and /healthz, nil without OAuth.
func (d *Daemon) tokenReport() *oauth.State {
	src := d.Tokens()
	if src == nil {
		return nil
	}
	st := src.State()
	return &st
}

// oauthMetrics are the OAuth token's: when it expires, whether the last
// request succeeded, and how many requests were made and failed.
func (d *Daemon) oauthMetrics(reg *prometheus.Registry) {
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mentord", Name: name, Help: help}, f))
	}
	tokenState := func(f func(st *oauth.State) float64) func() float64 {
		return func() float64 {
			if st := d.tokenReport(); st != nil {
				return f(st)
			}
			return 0
		}
	}
	gauge("oauth_token_valid_until_seconds", "When the OAuth access token expires (Unix time); 0 without OAuth or a token.",
		tokenState(func(st *oauth.State) float64 {
			if st.ValidUntil.IsZero() {
				return 0
			}
			return float64(st.ValidUntil.Unix())
		}))
	gauge("oauth_token_ok", "1 when the last OAuth token request succeeded (0 without OAuth).", tokenState(func(st *oauth.State) float64 {
		if st.OK() {
			return 1
		}
		return 0
	}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mentord", Name: "oauth_token_refreshes_total",
		Help: "OAuth access tokens fetched since the token source started."}, tokenState(func(st *oauth.State) float64 { return float64(st.Refreshes) })))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mentord", Name: "oauth_token_failures_total",
		Help: "Failed OAuth token requests since the token source started."}, tokenState(func(st *oauth.State) float64 { return float64(st.Failures) })))
}

// retryNow sends at once the mail that waits to retry after an error, once
// what failed it may be fixed (a reload, a token that works again).
func (d *Daemon) retryNow(why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	err := d.db.Tx(ctx, func(tx *sqlx.Tx) (err error) { n, err = store.RetryNow(ctx, tx, d.clock.Now()); return err })
	switch {
	case err != nil:
		d.log.Warn("cannot make the waiting mail due", "err", err)
	case n > 0:
		d.log.Info("mail waiting to retry goes now", "count", n, "why", why)
		d.Kick()
	}
}
