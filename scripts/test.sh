#!/usr/bin/env bash
# Runs every mentord test on a fresh Debian machine with Go: unit tests,
# integration tests against in-process SMTP/IMAP servers, and the end-to-end
# suite against a real Postfix + Dovecot on loopback (e2e/mailstack.sh installs
# the Debian packages when missing and starts and stops the stack; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: the end-to-end tests install and run Postfix and Dovecot, which needs root" >&2
	exit 1
fi
bash e2e/mailstack.sh install
go vet ./...
go test -race -count=1 ./...
