// Package outbox sends what the schedule enqueued through one SMTP server,
// modelled on mox's queue:
//
//  1. Claim up to batchSize due rows ('sending', attempts+1) in one transaction.
//  2. Open one SMTP connection for the batch and send each row's exact bytes.
//  3. Right after the server's 250, mark the row sent and drop its bytes (the
//     mentee's prompt and the live reply token are not kept once delivered;
//     `mentord preview` shows the wording), trying until it is recorded
//     (record.go: a busy database is waited out); a 4xx or network error puts it
//     back with an exponential backoff with jitter; a 5xx fails it at once,
//     logged for the admin.
//  4. A claim takes only what the sending quotas allow, and a reply that says
//     the server is throttling us pauses all sending (quota.go).
//
// A crash between a 250 and its commit resends that one message, with the same
// Message-ID; rows claimed but not yet tried go back to pending at start-up.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/sender"
)

// Metrics are the outbox's counters, for the daemon's /metrics.
var Metrics = []prometheus.Collector{sentTotal, failedTotal, throttledTotal}

var (
	sentTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "mentord", Name: "messages_sent_total", Help: "Messages accepted by the SMTP server, by kind.",
	}, []string{"kind"})
	failedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "mentord", Name: "messages_failed_total", Help: "Messages that failed for good (5xx, or retried too long), by kind.",
	}, []string{"kind"})
	throttledTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "mentord", Name: "smtp_throttled_total",
		Help: "Replies from the SMTP server asking to send less (rate or daily quota); each pauses sending.",
	})
)

func countSent(it store.OutboxItem)   { sentTotal.WithLabelValues(it.Kind).Inc() }
func countFailed(it store.OutboxItem) { failedTotal.WithLabelValues(it.Kind).Inc() }

const (
	batchSize   = 50
	retryBase   = time.Minute
	retryMax    = 2 * time.Hour
	giveUpAfter = 3 * 24 * time.Hour // like an MTA's queue lifetime
)

// retryDelay is the wait before attempt n+1: 1m, 2m, 4m ... 2h, with jitter.
func retryDelay(attempts int) time.Duration {
	d := retryBase << min(max(attempts-1, 0), 10)
	d = min(d, retryMax)
	return d/2 + rand.N(d/2+1)
}

// Outbox sends what is due through one SMTP server.
type Outbox struct {
	DB     *store.DB
	Sender *sender.Sender
	Cfg    *config.Config
	Log    *slog.Logger
	Now    func() time.Time
	// AfterSend, when set, runs after the server accepted a message and
	// before it is marked sent: a test hook to crash in that window.
	AfterSend func(store.OutboxItem)
	// Beat, when set, is called per message: a sign of life for the watchdog.
	Beat func()

	pause    Pause     // the server's last request to pause, as SendDue found it
	graceEnd time.Time // when the writes stop trying after hard ended (record)
}

// SendDue sends due messages in batches over one connection until none is due,
// the sending quotas have no more room, or soft ends. soft ending stops it
// between messages; hard ending cuts the one in flight. While the server's
// pause lasts it does nothing; a throttling reply starts one and returns
// ErrThrottled. It returns how many were sent and the last error, if any.
func (o *Outbox) SendDue(soft, hard context.Context) (int, error) {
	var conn *sender.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	if err := o.DB.Tx(hard, func(tx *sqlx.Tx) error { return store.FailSuspended(hard, tx) }); err != nil {
		o.Log.Error("cannot fail the messages to suspended addresses; will try again", "err", err)
		return 0, err
	}
	var err error
	if o.pause, err = LoadPause(hard, o.DB.R()); err != nil {
		o.Log.Error("cannot read the sending pause; will try again", "err", err)
		return 0, err
	}
	if o.pause.Active(o.Now()) {
		return 0, nil
	}
	total := 0
	for soft.Err() == nil {
		var items []store.OutboxItem
		err := o.DB.Tx(hard, func(tx *sqlx.Tx) error {
			var err error
			items, err = store.ClaimDue(hard, tx, o.Now(), o.limits())
			return err
		})
		if err != nil {
			// Nothing was claimed: the messages wait for the next pass.
			o.Log.Error("cannot claim the messages due; will try again", "err", err)
			return total, err
		}
		if len(items) == 0 {
			return total, nil
		}
		if conn == nil {
			if conn, err = o.Sender.Dial(hard); err != nil {
				if sender.IsThrottled(err) {
					return total, o.throttled(hard, items, err)
				}
				o.retryAll(hard, items, err)
				return total, err
			}
		}
		n, err := o.sendBatch(soft, hard, conn, items)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// limits are the configured bounds on a claim.
func (o *Outbox) limits() store.Limits {
	s := o.Cfg.SMTP
	return store.Limits{Batch: batchSize, PerMinute: s.MaxPerMinute, PerDay: s.MaxRecipientsPerDay,
		PerDomainPerMinute: s.MaxPerDomainPerMinute}
}

// sendBatch sends claimed items on conn. After a temporary error the
// connection may be broken: the rest of the batch is released and the error
// returned, so the next attempt starts on a new connection.
func (o *Outbox) sendBatch(soft, hard context.Context, conn *sender.Conn, items []store.OutboxItem) (sent int, err error) {
	for i, it := range items {
		if o.Beat != nil {
			o.Beat()
		}
		if soft.Err() != nil {
			o.release(hard, items[i:])
			return sent, nil
		}
		err := conn.Send(hard, sender.Envelope{From: it.EnvelopeFrom, To: []string{it.Recipient}}, it.Payload)
		if err == nil {
			if o.AfterSend != nil {
				o.AfterSend(it)
			}
			if err := o.markSent(hard, it); err != nil {
				o.release(hard, items[i+1:])
				return sent, err
			}
			sent++
			o.resumed(hard)
			continue
		}
		if sender.IsThrottled(err) {
			// Not this message's fault: it and the rest wait, untouched, for the pause to end.
			return sent, o.throttled(hard, items[i:], err)
		}
		if !sender.IsTemporary(err) {
			o.fail(hard, it, err)
			continue
		}
		// A temporary error may have broken the connection: retry this one
		// later and leave the rest of the batch for the next connection.
		o.retry(hard, it, err)
		o.release(hard, items[i+1:])
		return sent, err
	}
	return sent, nil
}

// markSent records the server's acceptance; it waits out a busy database
// (record), so a 250 is lost only when mentord stops before it could record
// it: then that one message is sent again at the next start.
func (o *Outbox) markSent(hard context.Context, it store.OutboxItem) error {
	err := o.record(hard, "record a message the server accepted", []any{"msgid", it.MessageID, "kind", it.Kind},
		func(ctx context.Context, tx *sqlx.Tx) error { return store.MarkSent(ctx, tx, it.ID, o.Now()) })
	if err != nil {
		return fmt.Errorf("mark outbox %d sent: %w", it.ID, err)
	}
	countSent(it)
	o.Log.Info("sent", "kind", it.Kind, "msgid", it.MessageID, "session", sessionAttr(it))
	o.Log.Debug("sent to", "msgid", it.MessageID, "to", it.Recipient)
	return nil
}

func (o *Outbox) retry(ctx context.Context, it store.OutboxItem, cause error) {
	if o.Now().Sub(it.CreatedAt) > giveUpAfter {
		o.fail(ctx, it, fmt.Errorf("gave up after %d attempts over %s: %w", it.Attempts, giveUpAfter, cause))
		return
	}
	next := o.Now().Add(retryDelay(it.Attempts))
	o.Log.Warn("send failed, will retry", "kind", it.Kind, "msgid", it.MessageID, "attempt", it.Attempts,
		"retry_at", next.UTC().Format(time.RFC3339), causeAttr(cause))
	o.Log.Debug("send failed", "msgid", it.MessageID, "to", it.Recipient, "err", cause)
	_ = o.record(ctx, "record a retry", []any{"msgid", it.MessageID},
		func(ctx context.Context, tx *sqlx.Tx) error {
			return store.MarkRetry(ctx, tx, it.ID, next, cause.Error())
		})
}

func (o *Outbox) retryAll(ctx context.Context, items []store.OutboxItem, cause error) {
	for _, it := range items {
		o.retry(ctx, it, cause)
	}
}

func (o *Outbox) fail(ctx context.Context, it store.OutboxItem, cause error) {
	countFailed(it)
	o.Log.Error("send failed permanently; not retrying", "kind", it.Kind, "msgid", it.MessageID,
		"session", sessionAttr(it), causeAttr(cause))
	o.Log.Debug("send failed", "msgid", it.MessageID, "to", it.Recipient, "err", cause)
	_ = o.record(ctx, "record a failed message", []any{"msgid", it.MessageID},
		func(ctx context.Context, tx *sqlx.Tx) error { return store.MarkFailed(ctx, tx, it.ID, cause.Error()) })
}

// release returns claimed but untried items to the queue, due at once.
func (o *Outbox) release(ctx context.Context, items []store.OutboxItem) {
	if len(items) == 0 {
		return
	}
	_ = o.record(ctx, "release claimed messages", []any{"count", len(items)}, func(ctx context.Context, tx *sqlx.Tx) error {
		for _, it := range items {
			if err := store.Release(ctx, tx, it.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func sessionAttr(it store.OutboxItem) int64 {
	if it.SessionID == nil {
		return 0
	}
	return *it.SessionID
}

// causeAttr is how a failed send's cause is logged at info and above. A
// server's reply often repeats the recipient's address ("550 5.1.1
// <bo@example.org>: user unknown"), and addresses belong at debug level only,
// so a reply is logged by its codes; the whole of it goes to the debug line
// and to the outbox row that `mentord status` shows.
func causeAttr(cause error) slog.Attr {
	var se *sender.Error
	if errors.As(cause, &se) && se.Code != 0 {
		return slog.String("reply", strings.TrimSpace(fmt.Sprintf("%d %s (the server's text is in mentord status)", se.Code, se.Enhanced)))
	}
	return slog.Any("err", cause)
}
