package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
)

// Sending quotas and a server that throttles:
//  1. The outbox claims only what the rolling windows have room for
//     (smtp.max_per_minute in any 60 s, smtp.max_recipients_per_day in any
//     24 h, counted from the outbox), and the outbox loop sleeps until the
//     next slot frees (store.NextClaim) instead of asking again and again.
//  2. A throttling reply (sender.Throttling) puts the message and the rest of
//     its batch back as they were, without spending an attempt, and pauses all
//     sending: a minute, doubling up to an hour while the server keeps saying
//     so, back to a minute after a message goes through; an hour after a
//     daily quota answer. The pause is kept in the database, so a restart
//     does not hammer the server and `mentord status` shows it.
//  3. EstimateDone works out when the messages due now will all have gone.

const (
	pauseFirst = time.Minute // the first pause after a throttling reply
	pauseMax   = time.Hour   // the longest, however often the server says so
	pauseQuota = time.Hour   // after a daily quota answer: try again in an hour
	pauseKey   = "smtp_pause"
)

// ErrThrottled is returned by SendDue when the server asked it to send less:
// sending is paused (Outbox.Paused says until when).
var ErrThrottled = errors.New("the SMTP server is throttling sending")

// Pause is the server's last request to stop sending for a while.
type Pause struct {
	Until          time.Time `json:"until"`
	BackoffSeconds int       `json:"backoff_seconds"` // this pause; the next one doubles it, a sent message clears it
	Quota          bool      `json:"quota"`           // a daily or submission quota answer, not a rate
	Reply          string    `json:"reply"`           // what the server said
	At             time.Time `json:"at"`              // when it said it
}

// Active reports whether sending is paused at now.
func (p Pause) Active(now time.Time) bool { return now.Before(p.Until) }

// next is the pause after a throttling reply at now, following p.
func (p Pause) next(kind sender.Throttle, now time.Time, reply string) Pause {
	d := pauseFirst
	if prev := time.Duration(p.BackoffSeconds) * time.Second; prev > 0 {
		d = min(2*prev, pauseMax)
	}
	if kind == sender.QuotaExhausted {
		d = max(d, pauseQuota)
	}
	return Pause{Until: store.UTC(now.Add(d)), BackoffSeconds: int(d / time.Second), Quota: kind == sender.QuotaExhausted,
		Reply: reply, At: store.UTC(now)}
}

// LoadPause reads the pause; the zero Pause when there is none.
func LoadPause(ctx context.Context, q store.Querier) (Pause, error) {
	var p Pause
	v, err := store.Setting(ctx, q, pauseKey)
	if err != nil || v == "" {
		return p, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return Pause{}, fmt.Errorf("read the sending pause: %w", err)
	}
	return p, nil
}

func savePause(ctx context.Context, q store.Querier, p Pause) error {
	v := ""
	if p != (Pause{}) {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		v = string(b)
	}
	return store.SetSetting(ctx, q, pauseKey, v)
}

// Paused returns the server's last request to pause; Active says whether it holds now.
func (o *Outbox) Paused(ctx context.Context) (Pause, error) { return LoadPause(ctx, o.DB.R()) }

// NextSend returns when sending can next make progress: when the earliest
// pending message is due, or, when some are due already, when the quotas have
// room again, and in any case not before a pause ends. Zero: nothing pending.
func (o *Outbox) NextSend(ctx context.Context) (time.Time, error) {
	next, err := store.NextClaim(ctx, o.DB.R(), o.Now(), o.limits())
	if err != nil || next.IsZero() {
		return next, err
	}
	p, err := o.Paused(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if p.Until.After(next) {
		next = p.Until
	}
	return next, nil
}

// throttled handles a throttling reply: the message it answered and the rest
// of the batch go back as they were, and all sending pauses.
func (o *Outbox) throttled(ctx context.Context, items []store.OutboxItem, cause error) error {
	o.release(ctx, items)
	throttledTotal.Inc()
	now := o.Now()
	p := o.pause.next(sender.Throttling(cause), now, replyText(cause))
	attrs := []any{"until", p.Until.Format(time.RFC3339), "pause", time.Duration(p.BackoffSeconds) * time.Second,
		"quota", p.Quota, "waiting", len(items), "reply", p.Reply}
	if o.pause.BackoffSeconds == 0 {
		o.Log.Warn("the SMTP server is throttling sending; all sending paused, nothing failed", attrs...)
	} else {
		o.Log.Info("the SMTP server still throttles sending; paused again", attrs...)
	}
	o.pause = p
	_ = o.record(ctx, "keep the sending pause", nil, func(ctx context.Context, tx *sqlx.Tx) error { return savePause(ctx, tx, p) })
	return fmt.Errorf("%w until %s: %w", ErrThrottled, p.Until.Format(time.RFC3339), cause)
}

// resumed clears the pause once the server accepted a message again.
func (o *Outbox) resumed(ctx context.Context) {
	if o.pause == (Pause{}) {
		return
	}
	o.Log.Info("the SMTP server accepts mail again; the throttling pause is over")
	o.pause = Pause{}
	_ = o.record(ctx, "end the sending pause", nil, func(ctx context.Context, tx *sqlx.Tx) error { return savePause(ctx, tx, Pause{}) })
}

// replyText is the server's reply in err, or err itself when there was none.
func replyText(err error) string {
	var se *sender.Error
	if errors.As(err, &se) && se.Err != nil {
		return se.Err.Error()
	}
	return err.Error()
}

// EstimateDone returns when the last of n messages, due at start, will have
// been sent if the outbox sends each as soon as the limits allow (a limit of 0
// is none). history holds the stamps of earlier sends, oldest first; those
// of the last 24 hours still count against the windows. A day quota that runs
// out pushes the rest to when its oldest sends leave the window. Zero when n is 0.
func EstimateDone(n int, start time.Time, perMinute, perDay int, history []time.Time) time.Time {
	type window struct {
		d     time.Duration
		limit int
		lo    int // the first send still counting in the window
	}
	var ws []window
	for _, w := range []window{{d: store.Minute, limit: perMinute}, {d: store.Day, limit: perDay}} {
		if w.limit > 0 {
			ws = append(ws, w)
		}
	}
	sends := append([]time.Time(nil), history...)
	t := store.UTC(start)
	var last time.Time
	for n > 0 {
		k := n
		for i := range ws {
			w := &ws[i]
			for w.lo < len(sends) && !store.Freed(sends[w.lo], w.d).After(t) {
				w.lo++
			}
			k = min(k, w.limit-(len(sends)-w.lo))
		}
		if k > 0 {
			for range k {
				sends = append(sends, t)
			}
			n, last = n-k, t
			continue
		}
		next := t.Add(time.Second)
		for _, w := range ws {
			if used := len(sends) - w.lo; used >= w.limit {
				if f := store.Freed(sends[w.lo+used-w.limit], w.d); f.After(next) {
					next = f
				}
			}
		}
		t = next
	}
	return last
}
