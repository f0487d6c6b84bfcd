package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func analyze(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze is missing (Debian package systemd; scripts/install-test-deps.sh installs it): %v", err)
	}
	out, err := exec.Command("systemd-analyze", args...).CombinedOutput()
	return string(out), err
}

// unitFiles writes both units into one directory and returns the paths to
// check: mentord.service, and the template as its instance mentord@staff.service.
func unitFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range Units {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"mentord.service": filepath.Join(dir, "mentord.service"), "mentord@staff.service": filepath.Join(dir, "mentord@staff.service")}
}

// Each unit's exposure is at most 2.0 (RELIABILITY.md section 5, Y1).
func TestUnitSecurity(t *testing.T) {
	for name, path := range unitFiles(t) {
		out, err := analyze(t, "security", "--offline=true", "--threshold=20", path)
		if err != nil {
			t.Fatalf("systemd-analyze security %s: %v\n%s", name, err, out)
		}
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(name) + `: ([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in:\n%s", out)
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v > 2.0 {
			t.Errorf("%s: exposure %s, want at most 2.0", name, m[1])
		}
		t.Logf("%s: exposure %s", name, m[1])
	}
}

// systemd-analyze verify has nothing to say but that the binary is not
// installed here (the Debian package's test verifies them with it installed).
func TestUnitVerifies(t *testing.T) {
	for name, path := range unitFiles(t) {
		out, _ := analyze(t, "verify", path)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" || strings.Contains(line, "Command /usr/bin/mentord is not executable") {
				continue
			}
			t.Errorf("systemd-analyze verify %s: %s", name, line)
		}
	}
}

func TestUnitSettings(t *testing.T) {
	for name, unit := range Units {
		for _, want := range []string{"Type=notify", "NotifyAccess=main", "WatchdogSec=", "ExecReload=", "Restart=on-failure",
			"RestartPreventExitStatus=2", "TimeoutStopSec=45s", "DynamicUser=yes", "StateDirectory=mentord", "LoadCredential=smtp-password",
			"ExecStartPre=/usr/bin/mentord backup --before-start", "ExecStart=/usr/bin/mentord serve", "Documentation=file:/usr/share/doc/mentord/README.md"} {
			if !strings.Contains(unit, "\n"+want) {
				t.Errorf("%s lacks %s", name, want)
			}
		}
	}
	for _, want := range []string{"--programme %i", "StateDirectory=mentord/%i", "LoadCredential=smtp-password:/etc/mentord/%i/smtp-password",
		"LoadCredential=imap-password:/etc/mentord/%i/imap-password", "Conflicts=mentord.service"} {
		if !strings.Contains(Template, want) {
			t.Errorf("mentord@.service lacks %s", want)
		}
	}
}
