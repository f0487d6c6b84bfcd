package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail/sender"
)

// notifySocket is a fake systemd: a unixgram socket at $NOTIFY_SOCKET that
// records every state with when it arrived.
type notifySocket struct {
	mu     sync.Mutex
	states []stamped
}

type stamped struct {
	at    time.Time
	state string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	n := &notifySocket{}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			for _, s := range strings.Split(string(buf[:k]), "\n") {
				n.states = append(n.states, stamped{time.Now(), s})
			}
			n.mu.Unlock()
		}
	}()
	return n
}

// since returns the states with the prefix received after from.
func (n *notifySocket) since(from time.Time, prefix string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []time.Time
	for _, s := range n.states {
		if s.at.After(from) && strings.HasPrefix(s.state, prefix) {
			out = append(out, s.at)
		}
	}
	return out
}

func (n *notifySocket) wait(t *testing.T, from time.Time, prefix string) time.Time {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := n.since(from, prefix); len(got) > 0 {
			return got[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s from the daemon", prefix)
	return time.Time{}
}

// With WatchdogSec=1s: READY=1, then WATCHDOG=1 every half second while the
// loops live, none once the inbox loop is wedged, STOPPING=1 at the end.
// It waits for each state rather than timing it: how soon READY comes is a
// figure in BENCHMARKS.md, and a loaded machine may delay any ping.
func TestWatchdog(t *testing.T) {
	n := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	path, _ := testConfig(t, "")
	var wedged sync.Mutex
	var armed bool
	var wedgedAt time.Time
	release := make(chan struct{})
	faults := &Faults{BeforeInbox: func() {
		wedged.Lock()
		a := armed
		if a && wedgedAt.IsZero() {
			wedgedAt = time.Now()
		}
		wedged.Unlock()
		if a {
			<-release
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	logs := &syncBuffer{}
	start := time.Now()
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: logs, Faults: faults}) }()
	ready := n.wait(t, start, "READY=1")
	deadline := time.Now().Add(30 * time.Second)
	for len(n.since(ready, "WATCHDOG=1")) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d watchdog pings in 30 s", len(n.since(ready, "WATCHDOG=1")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	pings := n.since(ready, "WATCHDOG=1")
	var gaps []time.Duration
	for i := 1; i < len(pings); i++ {
		gaps = append(gaps, pings[i].Sub(pings[i-1]))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	// The cadence is WatchdogSec/2: a ping is never early, and a typical one
	// comes well within WatchdogSec, however loaded the machine.
	if median := gaps[len(gaps)/2]; median < 450*time.Millisecond || median >= time.Second {
		t.Errorf("median watchdog gap %v, want about 500 ms (WatchdogSec/2); gaps %v", median, gaps)
	}

	// Wedge the inbox loop: new mail makes it read the inbox, and it never
	// returns. The watchdog says so, and the pings stop: none for three
	// times WatchdogSec, where they came every half second before.
	wedged.Lock()
	armed = true
	wedged.Unlock()
	deliverToDev(t, loadConfigFile(t, path))
	deadline = time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "a loop shows no sign of life; not pinging the watchdog") {
		if time.Now().After(deadline) {
			t.Fatalf("the wedged inbox loop was never noticed:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		last := n.since(start, "WATCHDOG=1")
		if quiet := time.Since(last[len(last)-1]); quiet > 3*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watchdog pings go on after the inbox loop wedged at %v: %v", wedgedAt, n.since(wedgedAt, "WATCHDOG=1"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "loop=inbox") {
		t.Errorf("the watchdog did not name the inbox loop:\n%s", logs)
	}
	close(release)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n.wait(t, start, "STOPPING=1")
}

func loadConfigFile(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deliverToDev sends a message to the programme mailbox through the dev server's SMTP.
func deliverToDev(t *testing.T, cfg *config.Config) {
	t.Helper()
	ctx := context.Background()
	c, err := sender.New(connect.SMTPConfig(cfg, nil), nil).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw := "From: someone@example.net\r\nTo: " + cfg.Mailbox.Address + "\r\nSubject: hello\r\nMessage-ID: <w1@example.net>\r\n\r\nHi.\r\n"
	if err := c.Send(ctx, sender.Envelope{From: "someone@example.net", To: []string{cfg.Mailbox.Address}}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}
