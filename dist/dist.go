// Package dist holds what an admin installs besides the binary: the systemd
// units, which `mentord print-unit` prints and the Debian package installs.
package dist

import _ "embed"

// Unit is the systemd service unit of one programme (mentord.service).
//
//go:embed mentord.service
var Unit string

// Template is the unit of one of several programmes on a host
// (mentord@.service; mentord@NAME reads /etc/mentord/NAME.yaml).
//
//go:embed mentord@.service
var Template string

// Units are the unit files by the name they are installed under.
var Units = map[string]string{"mentord.service": Unit, "mentord@.service": Template}

// Config is the configuration the Debian package installs as
// /etc/mentord/config.yaml: config.example.yaml for production (a test keeps
// the two alike).
//
//go:embed config.yaml
var Config string
