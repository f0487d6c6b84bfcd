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

// With WatchdogSec=1s: READY=1 soon after start, WATCHDOG=1 every half second
// while the loops live, none once the inbox loop is wedged, STOPPING=1 at the end.
func TestWatchdog(t *testing.T) {
	n := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	path, _ := testConfig(t, "")
	var wedged sync.Mutex
	var armed bool
	release := make(chan struct{})
	faults := &Faults{BeforeInbox: func() {
		wedged.Lock()
		a := armed
		wedged.Unlock()
		if a {
			<-release
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: &syncBuffer{}, Faults: faults}) }()
	if ready := n.wait(t, start, "READY=1"); ready.Sub(start) > 2*time.Second {
		t.Errorf("READY=1 after %v", ready.Sub(start))
	}
	time.Sleep(2200 * time.Millisecond)
	pings := n.since(start, "WATCHDOG=1")
	if len(pings) < 3 {
		t.Fatalf("%d watchdog pings in 2.2 s", len(pings))
	}
	var gaps []time.Duration
	for i := 1; i < len(pings); i++ {
		gaps = append(gaps, pings[i].Sub(pings[i-1]))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	// The cadence is WatchdogSec/2 ± 10%; a ping may be late on a loaded machine,
	// but never so late that systemd (WatchdogSec) would fire.
	if median := gaps[len(gaps)/2]; median < 450*time.Millisecond || median > 550*time.Millisecond {
		t.Errorf("median watchdog gap %v, want 500 ms ± 10%% (WatchdogSec/2); gaps %v", median, gaps)
	}
	if gaps[len(gaps)-1] >= time.Second {
		t.Errorf("a watchdog gap of %v reaches WatchdogSec", gaps[len(gaps)-1])
	}

	// Wedge the inbox loop: new mail makes it read the inbox, and it never returns.
	wedged.Lock()
	armed = true
	wedged.Unlock()
	deliverToDev(t, loadConfigFile(t, path))
	wedgedAt := time.Now()
	time.Sleep(2500 * time.Millisecond)
	if late := n.since(wedgedAt.Add(1100*time.Millisecond), "WATCHDOG=1"); len(late) > 0 {
		t.Errorf("%d watchdog pings more than WatchdogSec after the inbox loop wedged", len(late))
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
