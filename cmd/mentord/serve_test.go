package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real binary under a fake systemd: READY=1, RELOADING=1 then READY=1 on
// SIGHUP, STOPPING=1 and exit status 0 on SIGTERM, well within TimeoutStopSec.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mentord")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu sync.Mutex
	var states []string
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			states = append(states, strings.Split(string(buf[:n]), "\n")...)
			mu.Unlock()
		}
	}()
	waitFor := func(state string, count int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := 0
			for _, s := range states {
				if s == state {
					n++
				}
			}
			mu.Unlock()
			if n >= count {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("no %d× %s; got %q", count, state, states)
	}

	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: m.db}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
`, freePort(t), freePort(t))), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor("READY=1", 1)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("RELOADING=1", 1)
	waitFor("READY=1", 2)
	stop := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if took := time.Since(stop); took > 10*time.Second {
		t.Errorf("stopping took %v", took)
	}
	waitFor("STOPPING=1", 1)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
