package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mentord/mentord/dist"
)

// unitHost is a host laid out as the units expect, in temporary directories:
// etc (/etc/mentord) and state (/var/lib/mentord).
type unitHost struct {
	t          *testing.T
	etc, state string
	root       bool
	env        map[string]string
}

func newUnitHost(t *testing.T) *unitHost {
	dir := t.TempDir()
	h := &unitHost{t: t, etc: filepath.Join(dir, "etc"), state: filepath.Join(dir, "state"), root: true, env: map[string]string{}}
	for _, d := range []string{h.etc, h.state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *unitHost) write(name, body string, mode os.FileMode) {
	h.t.Helper()
	p := filepath.Join(h.etc, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		h.t.Fatal(err)
	}
}

func (h *unitHost) run(args ...string) (int, string, string) {
	h.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return h.env[k] },
		now: func() time.Time { return testNow }, serve: func(*env, string) error { return nil },
		euid: func() int {
			if h.root {
				return 0
			}
			return 1000
		}, etcDir: h.etc, stateDir: h.state}
	code := run(args, e)
	return code, out.String(), errOut.String()
}

// The packaged configuration, with the passwords where the unit loads them:
// check-config passes as root, and the commands that need no password work
// without them, for anyone who can read the database.
func TestPackagedConfigAsTheREADMESays(t *testing.T) {
	h := newUnitHost(t)
	h.write("config.yaml", dist.Config, 0o644)
	code, _, errOut := h.run("check-config")
	if code != exitUsage || !strings.Contains(errOut, "smtp-password") {
		t.Fatalf("check-config without the password files = %d, %s; want 2 naming smtp-password", code, errOut)
	}
	h.write("smtp-password", "s3cret-smtp\n", 0o600)
	h.write("imap-password", "s3cret-imap\n", 0o600)
	if code, out, errOut := h.run("check-config"); code != 0 || !strings.Contains(out, filepath.Join(h.state, "mentord.db")) {
		t.Fatalf("check-config = %d\n%s%s\nwant 0 with the database in the state directory", code, out, errOut)
	}
	for _, args := range [][]string{{"pair", "list"}, {"status"}, {"report"}, {"backup", filepath.Join(t.TempDir(), "b.db")}, {"backup", "--before-start"}} {
		h.root = false // no password is read: no need to be root
		if code, out, errOut := h.run(args...); code != 0 {
			t.Errorf("mentord %s = %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(h.state, "mentord.db")); err != nil {
		t.Errorf("the database is not in the state directory: %v", err)
	}
	// Not root: a command that signs in says in one line how to run it.
	h.root = false
	code, _, errOut = h.run("send-test", "you@example.org")
	if code != exitUsage || !strings.Contains(errOut, "systemd-run -P --wait -p LoadCredential=") || !strings.Contains(errOut, "run it as root") {
		t.Errorf("send-test as a user = %d, %s; want 2 and how to run it", code, errOut)
	}
}

// --programme NAME (or $MENTORD_PROGRAMME) reads /etc/mentord/NAME.yaml, keeps
// the database in /var/lib/mentord/NAME and the credentials in /etc/mentord/NAME.
func TestProgrammeFlag(t *testing.T) {
	h := newUnitHost(t)
	h.write("config.yaml", strings.Replace(dist.Config, "name: Staff Mentoring Programme", "name: Default", 1), 0o644)
	h.write("phd.yaml", strings.Replace(dist.Config, "name: Staff Mentoring Programme", "name: PhD Mentoring", 1), 0o644)
	h.write("phd/smtp-password", "p1\n", 0o600)
	h.write("phd/imap-password", "p2\n", 0o600)
	code, out, errOut := h.run("check-config", "--programme", "phd")
	if code != 0 || !strings.Contains(out, "PhD Mentoring") || !strings.Contains(out, filepath.Join(h.state, "phd", "mentord.db")) {
		t.Fatalf("check-config --programme phd = %d\n%s%s", code, out, errOut)
	}
	h.env["MENTORD_PROGRAMME"] = "phd"
	if code, out, _ := h.run("check-config"); code != 0 || !strings.Contains(out, "PhD Mentoring") {
		t.Errorf("$MENTORD_PROGRAMME=phd check-config = %d\n%s", code, out)
	}
	for _, args := range [][]string{{"status", "--programme", "phd", "--config", "x.yaml"}, {"status", "--programme", "../etc"}, {"status", "--programme", "config"}} {
		if code, _, errOut := h.run(args...); code != exitUsage {
			t.Errorf("mentord %s = %d, want 2\n%s", strings.Join(args, " "), code, errOut)
		}
	}
}

// The units and the admin's commands agree on where each programme lives.
func TestUnitsMatchTheCommandsLayout(t *testing.T) {
	e := &env{}
	for unit, want := range map[string][3]string{
		dist.Unit:     {"--config /etc/mentord/config.yaml", "StateDirectory=mentord\n", "/etc/mentord/smtp-password"},
		dist.Template: {"--programme %i", "StateDirectory=mentord/%i\n", "/etc/mentord/%i/smtp-password"},
	} {
		for _, w := range want {
			if !strings.Contains(unit, w) {
				t.Errorf("a unit lacks %q", w)
			}
		}
	}
	for path, want := range map[string][2]string{
		"/etc/mentord/config.yaml": {"/var/lib/mentord", "/etc/mentord"},
		"/etc/mentord/staff.yaml":  {"/var/lib/mentord/staff", "/etc/mentord/staff"},
	} {
		state, creds, ok := e.unitLayout(path)
		if !ok || state != want[0] || creds != want[1] {
			t.Errorf("unitLayout(%s) = %s, %s, %v; want %v", path, state, creds, ok, want)
		}
	}
	if _, _, ok := e.unitLayout("/home/ada/config.yaml"); ok {
		t.Error("a configuration elsewhere took the units' layout")
	}
}

// The packaged configuration is config.example.yaml for production: the same
// keys, and the same values but where production differs.
func TestPackagedConfigFollowsTheExample(t *testing.T) {
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := yamlLeaves(t, example), yamlLeaves(t, []byte(dist.Config))
	differ := map[string]bool{"smtp.host": true, "smtp.port": true, "smtp.tls": true, "smtp.auth": true, "smtp.username": true,
		"smtp.password_credential": true, "imap.host": true, "imap.port": true, "imap.tls": true, "imap.password_credential": true,
		"database.path": true, "devserver.enabled": true}
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case !inA || !inB:
			t.Errorf("%s is in only one of config.example.yaml and dist/config.yaml", k)
		case va != vb && !differ[k]:
			t.Errorf("%s: config.example.yaml has %q, dist/config.yaml %q", k, va, vb)
		}
	}
	if b["devserver.enabled"] != "false" {
		t.Error("the packaged configuration runs the dev mail server")
	}
}

func yamlLeaves(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode {
			out[path] = n.Value
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			walk(n.Content[i+1], p)
		}
	}
	walk(root.Content[0], "")
	return out
}
