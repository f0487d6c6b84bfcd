package outbox

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// The outbox's own writes after a claim: the 250 recorded, a retry or a
// failure recorded, untried claims released, the server's pause kept. None
// may be lost: a 250 not recorded sends the message again at the next start,
// and a claim neither recorded nor released keeps its message from going
// until then. So each is tried until it lands, with a log line for every
// failed attempt: a database kept busy by an admin command's transaction
// beyond the busy timeout, or a failing disk, is waited out.
const (
	recordTimeout  = 10 * time.Second       // one attempt (SQLite's busy timeout is as long)
	recordRetry    = 250 * time.Millisecond // the wait after the first failed attempt, doubling
	recordRetryMax = 5 * time.Second
	// recordGrace is how long the writes still try once hard has ended (the
	// shutdown's deadline): within the unit's TimeoutStopSec, which is 15 s
	// above the default shutdown timeout.
	recordGrace = 10 * time.Second
)

// record runs fn in a write transaction until it commits. Once hard has
// ended it still tries, until recordGrace after it ended (shared by the
// writes that follow, so a shutdown is not held up twice), and then returns
// the last error, logged with what was lost.
func (o *Outbox) record(hard context.Context, what string, attrs []any, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	wait := recordRetry
	for attempt := 1; ; attempt++ {
		timeout := recordTimeout
		if hard.Err() != nil {
			if o.graceEnd.IsZero() {
				o.graceEnd = time.Now().Add(recordGrace)
			}
			timeout = min(timeout, max(time.Until(o.graceEnd), time.Second)) // at least one real attempt
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(hard), timeout)
		err := o.DB.Tx(ctx, func(tx *sqlx.Tx) error { return fn(ctx, tx) })
		cancel()
		if err == nil {
			if attempt > 1 {
				o.Log.Info(what+": done after retrying", append(attrs, "attempts", attempt)...)
			}
			return nil
		}
		if hard.Err() != nil && !time.Now().Before(o.graceEnd) {
			o.Log.Error(what+": failed, giving up as mentord stops", append(attrs, "attempts", attempt, "err", err)...)
			return err
		}
		o.Log.Error(what+": failed; retrying", append(attrs, "attempt", attempt, "retry_in", wait, "err", err)...)
		if o.Beat != nil {
			o.Beat() // trying is a sign of life; a loop stuck elsewhere gives none
		}
		select {
		case <-time.After(wait):
		case <-hard.Done(): // the last attempts, within the grace, start now
		}
		wait = min(2*wait, recordRetryMax)
	}
}
