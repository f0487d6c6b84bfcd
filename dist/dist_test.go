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

func unitFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mentord.service")
	if err := os.WriteFile(p, []byte(Unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The unit's exposure is at most 2.0 (RELIABILITY.md section 5, Y1).
func TestUnitSecurity(t *testing.T) {
	out, err := analyze(t, "security", "--offline=true", "--threshold=20", unitFile(t))
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for mentord.service: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if v, _ := strconv.ParseFloat(m[1], 64); v > 2.0 {
		t.Errorf("exposure %s, want at most 2.0", m[1])
	}
	t.Logf("exposure %s", m[1])
}

// systemd-analyze verify has nothing to say but that the binary is not installed here.
func TestUnitVerifies(t *testing.T) {
	out, _ := analyze(t, "verify", unitFile(t))
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.Contains(line, "/usr/local/bin/mentord") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
}

func TestUnitSettings(t *testing.T) {
	for _, want := range []string{"Type=notify", "NotifyAccess=main", "WatchdogSec=", "ExecReload=", "Restart=on-failure",
		"RestartPreventExitStatus=2", "TimeoutStopSec=45s", "DynamicUser=yes", "StateDirectory=mentord", "LoadCredential=smtp-password"} {
		if !strings.Contains(Unit, "\n"+want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
}
