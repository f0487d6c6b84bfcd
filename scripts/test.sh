#!/usr/bin/env bash
# Runs every mentord test on a fresh Debian machine with Go: unit tests,
# integration tests against in-process SMTP/IMAP servers, calendar checks with
# parsers nobody here wrote (Debian's python3-icalendar, Mozilla's ical.js from
# npm), and the end-to-end suite against a real Postfix + Dovecot on loopback
# (e2e/mailstack.sh installs the Debian packages when missing and starts and
# stops the stack), and the Debian package installed into a clean Debian
# chroot (scripts/test-deb.sh). Installing needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: the tests install Debian packages and run Postfix and Dovecot, which needs root" >&2
	exit 1
fi
bash scripts/install-test-deps.sh
go vet ./...
bash scripts/test-deb.sh
go test -race -count=1 ./...
