package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mentord/mentord/daemon"
	"github.com/mentord/mentord/daemon/config"
)

// Where the units keep a programme (dist/mentord.service and mentord@.service):
//
//	mentord.service        /etc/mentord/config.yaml  /var/lib/mentord       credentials /etc/mentord/NAME
//	mentord@PROG.service   /etc/mentord/PROG.yaml    /var/lib/mentord/PROG  credentials /etc/mentord/PROG/NAME
//
// The admin's commands run as root beside the service, without the variables
// systemd sets for it ($STATE_DIRECTORY, $CREDENTIALS_DIRECTORY), so for a
// configuration at one of these places they use the same directories.
const (
	etcDir   = "/etc/mentord"
	stateDir = "/var/lib/mentord"
)

// programmeName is what `--programme` and a unit's instance name may be.
var programmeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// programmeConfig is the configuration file of programme name.
func (e *env) programmeConfig(name string) (string, error) {
	if !programmeName.MatchString(name) {
		return "", usagef("programme %q: use lower-case letters, digits, - and _ (it names the unit mentord@%s)", name, name)
	}
	if name == "config" {
		return "", usagef("programme %q: that is the configuration of mentord.service; leave --programme out", name)
	}
	return filepath.Join(e.dirs().etc, name+".yaml"), nil
}

type dirs struct{ etc, state string }

func (e *env) dirs() dirs {
	d := dirs{etc: etcDir, state: stateDir}
	if e.etcDir != "" {
		d = dirs{etc: e.etcDir, state: e.stateDir}
	}
	return d
}

// unitLayout returns the state and credentials directories the units give the
// programme configured at path, and false for a file elsewhere.
func (e *env) unitLayout(path string) (state, creds string, ok bool) {
	d := e.dirs()
	abs, err := filepath.Abs(path)
	if err != nil || filepath.Dir(abs) != d.etc || !strings.HasSuffix(abs, ".yaml") {
		return "", "", false
	}
	name := strings.TrimSuffix(filepath.Base(abs), ".yaml")
	if name == "config" {
		return d.state, d.etc, true
	}
	if !programmeName.MatchString(name) {
		return "", "", false
	}
	return filepath.Join(d.state, name), filepath.Join(d.etc, name), true
}

// loadConfig loads the command's configuration. Commands that never talk to
// a mail server read no secret. For a configuration where the units keep it,
// a relative database.path is in the unit's state directory, and root reads
// the credentials from the files the unit's LoadCredential= names.
func (e *env) loadConfig(c *cmdline, secrets bool) (*config.Config, error) {
	o := config.Options{NoSecrets: !secrets}
	if state, creds, ok := e.unitLayout(c.configPath); ok {
		o.StateDir = state
		if e.isRoot() {
			o.CredentialsDir = creds
		}
	}
	cfg, err := config.LoadWith(c.configPath, o)
	if err != nil {
		if secrets && o.CredentialsDir == "" && e.getenv("CREDENTIALS_DIRECTORY") == "" && strings.Contains(err.Error(), "$CREDENTIALS_DIRECTORY is not set") {
			err = fmt.Errorf("%w\n%s", err, credentialsHint(c))
		}
		return nil, &daemon.ConfigError{Err: err}
	}
	return cfg, nil
}

// credentialsHint says in one line how to run a command that needs the
// mailbox's credentials without being root.
func credentialsHint(c *cmdline) string {
	return fmt.Sprintf("run it as root (sudo mentord %s ...), which reads the files the unit's LoadCredential= names, "+
		"or as: sudo systemd-run -P --wait -p LoadCredential=NAME:/etc/mentord/NAME mentord %s --config %s ...", c.name, c.name, c.configPath)
}

func (e *env) isRoot() bool {
	if e.euid != nil {
		return e.euid() == 0
	}
	return os.Geteuid() == 0
}
