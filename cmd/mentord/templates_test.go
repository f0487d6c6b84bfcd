package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An override of the English checklist: the embedded file with change applied.
func checklistOverride(t *testing.T, change func(src string) string) string {
	t.Helper()
	src, err := os.ReadFile("../../templates/en/checklist.txt.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return change(string(src))
}

// loopingSubject makes the checklist's subject loop for good (with sample
// data too: every mentee).
func loopingSubject(src string) string {
	return strings.Replace(src, `{{define "subject"}}`, `{{define "subject"}}{{range 100000000000}}{{end}}`, 1)
}

// templatesConfig writes a configuration on the embedded dev server with an
// override directory holding en/checklist.txt.tmpl (when checklist is set).
func templatesConfig(t *testing.T, checklist string) (config, dir string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "templates")
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	if checklist != "" {
		os.WriteFile(filepath.Join(dir, "en", "checklist.txt.tmpl"), []byte(checklist), 0o644)
	}
	config = filepath.Join(base, "config.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`programme: {name: Test}
mailbox: {address: mentoring@example.org}
database: {path: m.db}
devserver: {enabled: true, smtp_listen: "127.0.0.1:%d", imap_listen: "127.0.0.1:%d"}
http: {listen: "127.0.0.1:%d"}
templates: {dir: %s}
service: {shutdown_timeout: 2s}
`, freePort(t), freePort(t), freePort(t), dir)), 0o600)
	return config, dir
}

// runFor runs the binary, failing the test when it does not exit within limit.
func runFor(t *testing.T, limit time.Duration, args ...string) (code int, out string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var b logBuffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode(), b.String()
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("mentord %s still running after %v\n%s", strings.Join(args, " "), limit, &b)
		return 0, ""
	}
}

// check-config loads the override templates and renders them with sample
// data, as serve, reload and preview do: a file they refuse, it refuses,
// with the file and line, and exit status 2. Before, it read only the YAML,
// and passed a file with `{{` garbage that preview and reload then refused.
func TestCheckConfigLoadsAndRendersTheTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, checklist string
		code            int
		want            string
	}{
		{"garbage", "{{", 2, "checklist.txt.tmpl:1"},
		{"a loop", checklistOverride(t, loopingSubject), 2, "the template ran away"},
		{"fine", checklistOverride(t, func(s string) string { return strings.Replace(s, "Plan your", "Prepare your", 1) }), 0,
			"templates  "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config, _ := templatesConfig(t, tc.checklist)
			code, out := runFor(t, 120*time.Second, "check-config", "--config", config)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("check-config = exit %d, want %d with %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// A reload with an override that loops is refused in bounded time, the old
// templates stay, and SIGTERM still stops mentord within its shutdown
// timeout. Before, the reload rendered the sample messages for ever: the
// daemon never handled SIGTERM, while /healthz said ok.
func TestServeReloadWithALoopingTemplateStillStops(t *testing.T) {
	config, dir := templatesConfig(t, "")
	p, notify := serve(t, config)
	os.WriteFile(filepath.Join(dir, "en", "checklist.txt.tmpl"), []byte(checklistOverride(t, loopingSubject)), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "the templates are invalid; keeping the old configuration")
	notify.waitFor(t, "READY=1", 2)
	stop := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
	}
	if took := time.Since(stop); took > 10*time.Second {
		t.Errorf("stopping took %v", took)
	}
}
