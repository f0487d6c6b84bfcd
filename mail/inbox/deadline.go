package inbox

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// go-imap's commands take no context, and a command waits for the server's
// answer for as long as that takes: a server that reads a command and says
// nothing (Dovecot waiting on its own index lock) would hold its caller
// forever. So every command after login has a deadline: when the server sends
// nothing at all for Config.Timeout while a command waits, the connection is
// closed, which ends the command; it returns ErrStalled. A server that is
// slowly sending a large answer is not stalled. While a command waits, the
// heartbeat of the connection (Watch's) goes on: waiting for a server, with a
// deadline, is a sign of life.

// ErrStalled means the server sent nothing for the timeout while a command
// waited for its answer; the connection was closed.
var ErrStalled = errors.New("the server stopped answering")

// defaultTimeout is the deadline of commands on connections not made by Dial.
const defaultTimeout = 30 * time.Second

// liveness is what a connection made here knows: when the server last sent a
// byte, how long it may stay silent while a command waits, and whom to tell
// meanwhile that the wait goes on.
type liveness struct {
	lastRead  atomic.Int64 // unix nanoseconds
	timeout   time.Duration
	heartbeat func() // nil: none
	beatEvery time.Duration
}

// watchedConn notes every byte the server sends.
type watchedConn struct {
	net.Conn
	l *liveness
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.l.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// connections maps each *imapclient.Client made by dial to its liveness,
// until it closes: the commands' callers hold only the client.
var connections sync.Map

func watchClient(c *imapclient.Client, l *liveness) {
	connections.Store(c, l)
	go func() {
		<-c.Closed()
		connections.Delete(c)
	}()
}

func livenessOf(c *imapclient.Client) *liveness {
	if l, ok := connections.Load(c); ok {
		return l.(*liveness)
	}
	return &liveness{timeout: defaultTimeout}
}

// Await runs fn, which sends a command on c and waits for its answer, with
// the deadline of c's connection: for commands this package does not send.
func Await(c *imapclient.Client, fn func() error) error { return await(c, fn) }

// await runs fn, which sends a command on c and waits for its answer,
// closing c when the server stays silent for the timeout meanwhile.
func await(c *imapclient.Client, fn func() error) error {
	_, err := awaitValue(c, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// awaitValue is await for a command with a result.
func awaitValue[T any](c *imapclient.Client, fn func() (T, error)) (T, error) {
	l := livenessOf(c)
	start := time.Now().UnixNano()
	done := make(chan struct{})
	var stalled atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		check := time.NewTimer(l.timeout)
		defer check.Stop()
		var beat <-chan time.Time
		if l.heartbeat != nil {
			t := time.NewTicker(cmp.Or(l.beatEvery, 5*time.Second))
			defer t.Stop()
			beat = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-beat:
				l.heartbeat()
			case <-check.C:
				silent := time.Duration(time.Now().UnixNano() - max(start, l.lastRead.Load()))
				if silent >= l.timeout {
					stalled.Store(true)
					_ = c.Close()
					return
				}
				check.Reset(l.timeout - silent)
			}
		}
	}()
	v, err := fn()
	close(done)
	wg.Wait()
	if stalled.Load() {
		return v, fmt.Errorf("%w: nothing for %v, so the connection was closed (imap.timeout)", ErrStalled, l.timeout)
	}
	return v, err
}
