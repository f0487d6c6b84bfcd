package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentord/mentord/daemon/admin"
	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/health"
	"github.com/mentord/mentord/daemon/store"
	"github.com/mentord/mentord/mail/oauth"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// notifications records what the daemon tells systemd.
type notifications struct {
	mu     sync.Mutex
	states []string
	ch     chan string
}

func newNotifications() *notifications { return &notifications{ch: make(chan string, 64)} }

func (n *notifications) notify(s string) {
	n.mu.Lock()
	n.states = append(n.states, s)
	n.mu.Unlock()
	n.ch <- s
}

func (n *notifications) waitFor(t *testing.T, prefix string) {
	t.Helper()
	// A deadline for a daemon that never gets there, not a bound on how
	// soon: with -race on a loaded machine a start has taken over 10 s.
	deadline := time.After(90 * time.Second)
	for {
		select {
		case s := <-n.ch:
			if strings.HasPrefix(s, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q notification; got %v", prefix, n.states)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testConfig writes a configuration using the dev mail server on free ports.
func testConfig(t testing.TB, extra string) (path string, httpAddr string) {
	t.Helper()
	dir := t.TempDir()
	httpAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	body := fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: %s}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
http: {listen: %q}
log: {level: debug}
%s`, filepath.Join(dir, "m.db"), freePort(t), freePort(t), httpAddr, extra)
	path = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, httpAddr
}

type healthz struct {
	Status string        `json:"status"`
	Parts  []health.Part `json:"components"`
	OAuth  *oauth.State  `json:"oauth"`
}

func getHealth(t *testing.T, addr string) (int, healthz) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthz
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, h
}

// waitHealthy polls /healthz until the IMAP connection is up.
func waitHealthy(t *testing.T, addr string) healthz {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, h := getHealth(t, addr)
		if code == 200 {
			for _, p := range h.Parts {
				if p.Name == "imap" && strings.HasPrefix(p.State, "connected") {
					return h
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy: %d %+v", code, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunLifecycle(t *testing.T) {
	path, httpAddr := testConfig(t, "")
	n := newNotifications()
	logs := &syncBuffer{}
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, LogOutput: logs, Notify: n.notify, Reload: reload})
	}()
	n.waitFor(t, "READY=1")
	h := waitHealthy(t, httpAddr)
	names := map[string]bool{}
	for _, p := range h.Parts {
		names[p.Name] = true
	}
	for _, want := range []string{"schedule", "outbox", "inbox", "imap"} {
		if !names[want] {
			t.Errorf("/healthz lacks %s: %+v", want, h)
		}
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"mentord_up 1", "mentord_outbox_depth 0", "mentord_imap_sync_lag_seconds", "mentord_addresses_suspended 0"} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A valid new configuration is taken; an invalid one is refused and the old one kept.
	orig, _ := os.ReadFile(path)
	os.WriteFile(path, append(orig, []byte("timings: {nudge_after: 3d}\n")...), 0o600)
	reload <- struct{}{}
	n.waitFor(t, "RELOADING=1")
	n.waitFor(t, "READY=1")
	os.WriteFile(path, append(orig, []byte("timings: {nudge_aftr: 3d}\n")...), 0o600)
	reload <- struct{}{}
	n.waitFor(t, "READY=1")
	if !strings.Contains(logs.String(), "configuration reloaded") || !strings.Contains(logs.String(), "keeping the old one") ||
		!strings.Contains(logs.String(), "nudge_aftr") {
		t.Errorf("reload logs:\n%s", logs.String())
	}
	if code, _ := getHealth(t, httpAddr); code != 200 {
		t.Errorf("unhealthy after a refused reload")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	n.waitFor(t, "STOPPING=1")
	if _, err := net.Dial("tcp", httpAddr); err == nil {
		t.Error("HTTP listener still open after shutdown")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("programme: {nam: x}\n"), 0o600)
	err := Run(context.Background(), Options{ConfigPath: path, LogOutput: &syncBuffer{}, Notify: func(string) {}})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "programme.nam") {
		t.Fatalf("Run = %v, want a ConfigError naming the key", err)
	}
}

// No password reaches a log line, at debug level, through start, reload and stop.
func TestSecretsNeverLogged(t *testing.T) {
	const pw = "Tr0ub4dor&3-not-in-logs"
	path, httpAddr := testConfig(t, "imap: {password_file: pw}\n")
	pwFile := filepath.Join(filepath.Dir(path), "pw")
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	logs := &syncBuffer{}
	n := newNotifications()
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: logs, Notify: n.notify, Reload: reload}) }()
	n.waitFor(t, "READY=1")
	waitHealthy(t, httpAddr)
	reload <- struct{}{}
	n.waitFor(t, "READY=1")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "imap connected") {
		t.Fatalf("the test did not log in over IMAP:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("the password appears in the log:\n%s", logs.String())
	}
}

// A pair added by the mentord command (another process: here another
// connection) is acted on within seconds, not at the schedule's next tick.
func TestChangesByAnotherProcessWakeTheSchedule(t *testing.T) {
	path, httpAddr := testConfig(t, "")
	n := newNotifications()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- Run(ctx, Options{ConfigPath: path, LogOutput: logs, Notify: n.notify}) }()
	defer func() {
		cancel()
		<-done
	}()
	n.waitFor(t, "READY=1")
	waitHealthy(t, httpAddr)

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	added := time.Now()
	addPair(t, &admin.Roster{DB: db, Cfg: cfg, Now: time.Now}, admin.PairInput{MentorName: "Ada", MentorEmail: "ada@example.com",
		MenteeName: "Bo", MenteeEmail: "bo@example.org", TZ: "Europe/Copenhagen", Every: "monthly", Sessions: "3",
		Start: time.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04"), Duration: "60m", Location: "Room 1"})
	for {
		var invites int
		if err := db.R().Get(&invites, `SELECT COUNT(*) FROM outbox WHERE kind = 'invite'`); err != nil {
			t.Fatal(err)
		}
		if invites > 0 {
			t.Logf("invites enqueued %v after the pair was added", time.Since(added).Round(time.Millisecond))
			return
		}
		if time.Since(added) > scheduleTick/2 {
			t.Fatalf("no invite %v after the pair was added: the schedule waited for its tick (%v)\n%s", time.Since(added), scheduleTick, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
