package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs a command in-process and fails the test when it has not
// returned within the limit (a blocked open of a named pipe never does).
func (h *harness) runWithin(limit time.Duration, args ...string) (int, string) {
	h.t.Helper()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, _, errOut := h.run(args...)
		done <- result{code, errOut}
	}()
	select {
	case r := <-done:
		return r.code, r.stderr
	case <-time.After(limit):
		h.t.Fatalf("mentord %s still running after %v: blocked on a file", strings.Join(args, " "), limit)
		return 0, ""
	}
}

// mkfifo makes a named pipe; when the test ends it is opened for writing
// once, so a reader blocked on it (before the fix) is let go.
func mkfifo(t *testing.T, path string, mode uint32) {
	t.Helper()
	if err := syscall.Mkfifo(path, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// A file the configuration names that is a named pipe (or a directory, or a
// device) is refused at once with the reason; check-config never waits on it.
func TestCheckConfigRefusesFilesThatAreNotRegular(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Dir(h.config)
	fifo := filepath.Join(dir, "pipe")
	mkfifo(t, fifo, 0o600)
	base, err := os.ReadFile(h.config)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, extra, key string }{
		{"password_file", "imap: {password_file: pipe}\n", "imap.password_file"},
		{"ca_file", "smtp: {ca_file: pipe}\n", "smtp.ca_file"},
		{"password_file a directory", "imap: {password_file: " + dir + "}\n", "imap.password_file"},
		{"password_file a device", "imap: {password_file: /dev/zero}\n", "imap.password_file"},
	} {
		cfg := filepath.Join(dir, "c-"+strings.ReplaceAll(c.name, " ", "-")+".yaml")
		if err := os.WriteFile(cfg, append(append([]byte(nil), base...), c.extra...), 0o600); err != nil {
			t.Fatal(err)
		}
		code, errOut := h.runWithin(10*time.Second, "check-config", "--config", cfg)
		if code != exitUsage || !strings.Contains(errOut, c.key) || !strings.Contains(errOut, "not a regular file") {
			t.Errorf("%s: check-config = %d\n%s", c.name, code, errOut)
		}
	}
	// The configuration file itself.
	cfgPipe := filepath.Join(dir, "config-pipe.yaml")
	mkfifo(t, cfgPipe, 0o644)
	code, errOut := h.runWithin(10*time.Second, "check-config", "--config", cfgPipe)
	if code != exitUsage || !strings.Contains(errOut, "not a regular file") {
		t.Errorf("config a named pipe: check-config = %d\n%s", code, errOut)
	}
}
