// Package dist holds what an admin installs besides the binary: the systemd
// unit, which `mentord print-unit` prints.
package dist

import _ "embed"

// Unit is the systemd service unit (mentord.service).
//
//go:embed mentord.service
var Unit string
