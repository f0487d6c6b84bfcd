#!/usr/bin/env bash
# Installs what the tests need beyond Go, only what is missing:
#  - Postfix, Dovecot and friends for e2e/ (via e2e/mailstack.sh install);
#  - python3-icalendar and Node.js with npm, and ical.js into calendar/testdata,
#    the outside calendar parsers the calendar tests check every invite with;
#  - systemd-analyze (package systemd), which checks the unit in dist/;
#  - strace, which watches which files the service opens (cmd/mentord);
#  - debootstrap, which makes the clean Debian system scripts/test-deb.sh
#    installs the package into.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

bash e2e/mailstack.sh install

missing=()
/usr/bin/python3 -c 'import icalendar' 2>/dev/null || missing+=(python3-icalendar)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils) # pdftotext, pdfinfo: read the record PDF back
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-test-deps: installing ${missing[*]}" >&2
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f calendar/testdata/node_modules/ical.js/package.json ]; then
	echo "install-test-deps: installing ical.js from npm into calendar/testdata" >&2
	npm ci --prefix calendar/testdata --no-audit --no-fund --silent
fi
