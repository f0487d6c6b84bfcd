#!/usr/bin/env bash
# test-deb.sh: builds mentord's Debian package (scripts/release.sh, amd64) and
# installs it into a clean Debian 12 system, as an admin would: a chroot made
# by debootstrap from the Debian mirror (minbase, with systemd and procps),
# cached as a tarball in $MENTORD_CHROOT_CACHE (default /var/cache/mentord-test)
# and unpacked afresh for every run. It checks the files and their modes, the
# conffile, `mentord version`, check-config of the packaged configuration
# with the passwords set up as the README says, the admin's commands without
# them, `systemd-analyze verify` of the installed units, an upgrade that keeps
# an edited configuration and the database, and that `dpkg -r` and `dpkg -P`
# leave the database. Needs root (debootstrap, chroot, dpkg); skips otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "test-deb: skipped: installing a package into a chroot needs root"
	exit 0
fi
# The chroot's /dev and /proc are mounted in a mount namespace of its own, so
# they go away with it, however the test ends.
if [ -z "${MENTORD_TEST_DEB_NS:-}" ]; then
	exec unshare --mount --propagation private env MENTORD_TEST_DEB_NS=1 bash "$0" "$@"
fi
for tool in debootstrap systemd-analyze dpkg-deb unshare; do
	command -v "$tool" >/dev/null || { echo "test-deb: $tool is missing (scripts/install-test-deps.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
root=$work/root
cleanup() {
	umount -R "$root/dev" "$root/proc" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The chroot, cached: debootstrap takes about 2 minutes, unpacking seconds.
cache=${MENTORD_CHROOT_CACHE:-/var/cache/mentord-test}
suite=bookworm
tarball=$cache/$suite-minbase-systemd.tar
if [ ! -s "$tarball" ]; then
	mirror=${MENTORD_DEB_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "test-deb: making a clean $suite chroot from $mirror (cached in $tarball)"
	mkdir -p "$cache" "$work/boot"
	debootstrap --variant=minbase --include=systemd,procps "$suite" "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -20 "$work/debootstrap.log" >&2
		exit 1
	}
	rm -rf "$work/boot/var/cache/apt/archives/"*.deb "$work/boot/var/lib/apt/lists/"*
	tar -C "$work/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$work/boot"
fi
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"

# Two versions of the package, to upgrade from one to the other.
RELEASE_DIR=$work/v1 bash scripts/release.sh 0.0.1~test1 amd64 >/dev/null
RELEASE_DIR=$work/v2 bash scripts/release.sh 0.0.2~test2 amd64 >/dev/null
cp "$work/v1/mentord_0.0.1~test1_amd64.deb" "$work/v2/mentord_0.0.2~test2_amd64.deb" "$root/tmp/"
echo "test-deb: packages $(du -h "$work/v1/mentord_0.0.1~test1_amd64.deb" | cut -f1) (amd64), binary $(du -h "$work/v1/mentord-0.0.1~test1-linux-amd64" | cut -f1)"

passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1" >&2; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: runs COMMAND on the host, passes on exit 0.
check() {
	local what=$1
	shift
	if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; echo "$out" | sed 's/^/     /' >&2; fi
}
# inroot COMMAND...: runs COMMAND inside the chroot, as root, without a terminal.
inroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@" </dev/null; }

check "dpkg -i installs v1 in a clean Debian $suite" inroot dpkg -i /tmp/mentord_0.0.1~test1_amd64.deb
check "mentord version prints the version and the commit" \
	bash -c "[[ \$(chroot '$root' mentord version) =~ ^mentord\ 0\.0\.1~test1\ \(commit\ [0-9a-f]{40} ]]"
mode() { stat -c '%a %U:%G' "$root$1"; }
for f in "/usr/bin/mentord 755" "/etc/mentord/config.yaml 644" "/lib/systemd/system/mentord.service 644" \
	"/lib/systemd/system/mentord@.service 644" "/usr/share/doc/mentord/README.md 644" "/usr/share/doc/mentord/CHANGELOG.md 644" \
	"/usr/share/doc/mentord/config.example.yaml 644" "/usr/share/man/man1/mentord.1.gz 644" \
	"/usr/share/bash-completion/completions/mentord 644" "/etc/mentord 755"; do
	set -- $f
	check "$1 is there, mode $2, owned by root" test "$(mode "$1")" = "$2 root:root"
done
check "/etc/mentord/config.yaml is a conffile" bash -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' mentord | grep -q '^ /etc/mentord/config.yaml '"
check "the man page lists every command" bash -c "zcat '$root/usr/share/man/man1/mentord.1.gz' | grep -q 'mentord session move' && zcat '$root/usr/share/man/man1/mentord.1.gz' | grep -q 'mentord backup'"
check "the unit's Documentation= file is installed" test -f "$root$(sed -n 's#^Documentation=file:##p' "$root/lib/systemd/system/mentord.service")"
check "nothing was enabled or started" bash -c "! ls '$root'/etc/systemd/system/*.wants/mentord* 2>/dev/null"
check "systemd-analyze verify: the installed units are clean" \
	bash -c "out=\$(systemd-analyze --root='$root' verify mentord.service mentord@staff.service 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"

# As the README says: the passwords where the unit loads them, then check-config.
check "without the password files, check-config names them" bash -c "chroot '$root' mentord check-config 2>&1 | grep -q smtp-password"
# The README's way: `sudo install -m 0600 /dev/stdin /etc/mentord/smtp-password <<<'...'`.
chroot "$root" bash -c "install -m 0600 /dev/stdin /etc/mentord/smtp-password <<<'the SMTP password' &&
	install -m 0600 /dev/stdin /etc/mentord/imap-password <<<'the IMAP password'"
# The service's first start makes its state directory; here, by hand.
inroot mkdir -p /var/lib/mentord
check "check-config of the packaged configuration passes" inroot mentord check-config
check "pair add writes the database in the state directory" inroot mentord pair add --mentor-name "Ada Lovelace" --mentor-email ada@example.org \
	--mentee-name "Bo Jensen" --mentee-email bo@example.org --start "$(date -d '+10 days' +%Y-%m-%d)T14:00" --tz Europe/Copenhagen \
	--every monthly --sessions 12 --duration 60m --location "Room 4.12"
check "the database is /var/lib/mentord/mentord.db" test -s "$root/var/lib/mentord/mentord.db"
for c in "status" "pair list" "session list --pair 1" "report" "log --mentee bo@example.org" "backup /root/b.db" "backup --before-start"; do
	# shellcheck disable=SC2086 # the words of the command
	check "mentord $c runs" inroot mentord $c
done
check "bash completion offers the commands" inroot bash -c '. /usr/share/bash-completion/completions/mentord; COMP_WORDS=(mentord pa); COMP_CWORD=1; _mentord; [ "${COMPREPLY[*]}" = pair ]'

# Upgrade: the admin's edit of the configuration stays, so does the database.
inroot sed -i 's/^  name: Staff Mentoring Programme$/  name: Edited By The Admin/' /etc/mentord/config.yaml
check "dpkg -i upgrades to v2 without asking" inroot dpkg -i /tmp/mentord_0.0.2~test2_amd64.deb
check "v2 is installed" bash -c "chroot '$root' mentord version | grep -q '0.0.2~test2'"
check "the edited configuration is kept" grep -q "name: Edited By The Admin" "$root/etc/mentord/config.yaml"
check "no .dpkg-dist or .dpkg-new copy is left" bash -c "! ls '$root'/etc/mentord/*.dpkg-* 2>/dev/null"
check "the database is kept: pair 1 is there" bash -c "chroot '$root' mentord pair show 1 | grep -q 'Bo Jensen'"

# Removal keeps the database (and, until a purge, the configuration).
check "dpkg -r removes the package" inroot dpkg -r mentord
check "the binary is gone" test ! -e "$root/usr/bin/mentord"
check "dpkg -r leaves the configuration" test -f "$root/etc/mentord/config.yaml"
check "dpkg -r leaves the database" test -s "$root/var/lib/mentord/mentord.db"
check "dpkg -P purges the configuration" bash -c "chroot '$root' dpkg -P mentord >/dev/null && test ! -e '$root/etc/mentord/config.yaml'"
check "dpkg -P leaves the database" test -s "$root/var/lib/mentord/mentord.db"

echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
