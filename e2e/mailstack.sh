#!/usr/bin/env bash
# mailstack.sh: a real Postfix + Dovecot on 127.0.0.1 for mentord's end-to-end tests.
#
# Usage: e2e/mailstack.sh {install|up|down|reset|status}   (as root, Debian 12)
#
#   install  install the Debian packages if any is missing (apt-get update only then)
#   up       install, (re)write the configuration, start or reload the daemons and
#            wait until SMTP, submission and IMAP (both Dovecot instances) answer; idempotent
#   down     stop the daemons; a no-op when already down
#   reset    delete every mailbox and every message in the Postfix queue
#   status   show what runs; exit 0 when up, 3 when down, 1 when partly up
#
# Environment (defaults in brackets):
#   MS_ROOT [/var/lib/mailstack]  state: tls/, users, vmailbox, mail/, log/, stack.env
#   MS_SMTP_PORT [2525]        SMTP, no auth, STARTTLS offered, relays only to example.test
#   MS_SUBMISSION_PORT [2587]  submission, STARTTLS required, AUTH PLAIN/LOGIN
#   MS_IMAP_PORT [1143]        IMAP, STARTTLS offered
#   MS_IMAPS_PORT [1993]       IMAP over implicit TLS
#   MS_OAUTH_HOST [127.0.0.2]  address of the OAuth-only Dovecot (a loopback address other
#                              than 127.0.0.1: see write_dovecot_oauth)
#   MS_OAUTH_IMAP_PORT [1144]  IMAP of the OAuth-only Dovecot: STARTTLS, then AUTHENTICATE
#                              XOAUTH2 or OAUTHBEARER; no password login
#   MS_OAUTH_IMAPS_PORT [1994] the same over implicit TLS
#   MS_OAUTH_SUBMISSION_PORT [2588]  Dovecot submission: STARTTLS required, AUTH XOAUTH2 and
#                              OAUTHBEARER; relays to Postfix on MS_SMTP_PORT
#   MS_OAUTH_AS_PORT [2590]    the OAuth 2.0 authorization server on 127.0.0.1 that Dovecot
#                              asks about each token (RFC 7662 introspection). The e2e
#                              harness runs it (mail/oauth/oauthtest); Dovecot calls it only
#                              when a client authenticates, so it may start after `up`
#   MS_OAUTH_INTROSPECT_ID [dovecot-introspect], MS_OAUTH_INTROSPECT_SECRET [e2e-Introspect-3Vw8pR]
#                              the HTTP Basic credentials Dovecot introspects with
#   MS_USERS [mentee mentor daemon other programme]  mailbox users (local parts or @example.test)
#   MS_PASS [e2e-Secret-7Kq9xZ]  password of every user (distinctive: the tests search their logs for it)
#   MS_WAIT [30]               seconds `up` waits for the listeners
#
# bounce@example.test is accepted by Postfix but unknown to Dovecot: LMTP rejects it
# with 550 and Postfix returns a real RFC 3464 DSN to the sender. Every other
# recipient outside the users above is rejected at RCPT, so no mail leaves the machine.
#
# The recipe and its pitfalls are in MAILSTACK.md. /etc/postfix and the Postfix
# queue are global, so there is one stack per machine; a lock serialises callers.
set -Eeuo pipefail
umask 022 # Postfix daemons read main.cf as user postfix, whatever the caller's umask

readonly DOMAIN=example.test
readonly PACKAGES=(postfix dovecot-imapd dovecot-lmtpd dovecot-submissiond openssl swaks libnet-ssleay-perl)
readonly DOVECOT_CONF=/etc/dovecot/mailstack.conf
readonly DOVECOT_BASE=/run/dovecot-mailstack
readonly OAUTH_CONF=/etc/dovecot/mailstack-oauth.conf
readonly OAUTH_PASSDB_CONF=/etc/dovecot/mailstack-oauth2.conf.ext
readonly OAUTH_BASE=/run/dovecot-mailstack-oauth
readonly POSTFIX_SPOOL=/var/spool/postfix
readonly LOCK_FILE=/run/mailstack.lock

MS_ROOT=${MS_ROOT:-/var/lib/mailstack}
MS_SMTP_PORT=${MS_SMTP_PORT:-2525}
MS_SUBMISSION_PORT=${MS_SUBMISSION_PORT:-2587}
MS_IMAP_PORT=${MS_IMAP_PORT:-1143}
MS_IMAPS_PORT=${MS_IMAPS_PORT:-1993}
MS_OAUTH_HOST=${MS_OAUTH_HOST:-127.0.0.2}
MS_OAUTH_IMAP_PORT=${MS_OAUTH_IMAP_PORT:-1144}
MS_OAUTH_IMAPS_PORT=${MS_OAUTH_IMAPS_PORT:-1994}
MS_OAUTH_SUBMISSION_PORT=${MS_OAUTH_SUBMISSION_PORT:-2588}
MS_OAUTH_AS_PORT=${MS_OAUTH_AS_PORT:-2590}
MS_OAUTH_INTROSPECT_ID=${MS_OAUTH_INTROSPECT_ID:-dovecot-introspect}
MS_OAUTH_INTROSPECT_SECRET=${MS_OAUTH_INTROSPECT_SECRET:-e2e-Introspect-3Vw8pR}
MS_USERS=${MS_USERS:-mentee mentor daemon other programme}
MS_PASS=${MS_PASS:-e2e-Secret-7Kq9xZ}
MS_WAIT=${MS_WAIT:-30}


say() { printf 'mailstack: %s\n' "$*" >&2; }
die() { printf 'mailstack: error: %s\n' "$*" >&2; exit 1; }
# Any other failing command stops the script (set -e); say which, not just "exit 1".
trap 'die "unexpected failure (status $?) at line $LINENO: $BASH_COMMAND"' ERR

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10)); }

usage() {
	sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

check_env() {
	[[ $MS_ROOT == /?* && $MS_ROOT != *[[:space:]:]* ]] ||
		die "MS_ROOT must be an absolute path other than / without spaces or ':' (got '$MS_ROOT')"
	MS_ROOT=${MS_ROOT%/}
	TLS_DIR=$MS_ROOT/tls
	CERT=$TLS_DIR/cert.pem
	KEY=$TLS_DIR/key.pem
	LOG_DIR=$MS_ROOT/log
	POSTFIX_LOG=$LOG_DIR/postfix.log
	DOVECOT_LOG=$LOG_DIR/dovecot.log
	OAUTH_LOG=$LOG_DIR/dovecot-oauth.log
	OAUTH_PORTS=$MS_ROOT/oauth-ports
	MAIL_DIR=$MS_ROOT/mail
	STACK_ENV=$MS_ROOT/stack.env
	local name port
	for name in MS_SMTP_PORT MS_SUBMISSION_PORT MS_IMAP_PORT MS_IMAPS_PORT \
		MS_OAUTH_IMAP_PORT MS_OAUTH_IMAPS_PORT MS_OAUTH_SUBMISSION_PORT MS_OAUTH_AS_PORT; do
		port=${!name}
		if [[ ! $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
			die "$name must be a TCP port (got '$port')"
		fi
	done
	for name in MS_SMTP_PORT MS_SUBMISSION_PORT MS_IMAP_PORT MS_IMAPS_PORT; do
		((MS_OAUTH_AS_PORT != ${!name})) || die "MS_OAUTH_AS_PORT and $name are both $MS_OAUTH_AS_PORT (both on 127.0.0.1)"
	done
	local re_lo='^127[.]([0-9]{1,3})[.]([0-9]{1,3})[.]([0-9]{1,3})$'
	if [[ ! $MS_OAUTH_HOST =~ $re_lo ]] || ((BASH_REMATCH[1] > 255 || BASH_REMATCH[2] > 255 || BASH_REMATCH[3] > 255)) ||
		[[ $MS_OAUTH_HOST == 127.0.0.1 ]]; then
		die "MS_OAUTH_HOST must be a loopback address 127.x.y.z other than 127.0.0.1 (got '$MS_OAUTH_HOST'): Dovecot counts a connection from 127.0.0.1 to 127.0.0.1 as secure and would then take a token before STARTTLS"
	fi
	[[ -n $MS_OAUTH_INTROSPECT_ID && $MS_OAUTH_INTROSPECT_ID =~ ^[A-Za-z0-9._~-]+$ ]] ||
		die "MS_OAUTH_INTROSPECT_ID must be non-empty and only use A-Z a-z 0-9 . _ ~ - (it goes into a URL)"
	[[ ${#MS_OAUTH_INTROSPECT_SECRET} -ge 8 && $MS_OAUTH_INTROSPECT_SECRET =~ ^[A-Za-z0-9._~-]+$ ]] ||
		die "MS_OAUTH_INTROSPECT_SECRET must be at least 8 of A-Z a-z 0-9 . _ ~ - (it goes into a URL, and the tests search their log for it)"
	[[ -n $MS_PASS && $MS_PASS != *[[:space:]:\'\"\\]* ]] ||
		die "MS_PASS must be non-empty without spaces, quotes, backslashes or ':'"
	[[ $MS_WAIT =~ ^[0-9]+$ ]] || die "MS_WAIT must be a number of seconds (got '$MS_WAIT')"
	USERS=()
	local u re='^[a-z0-9._+-]+@example[.]test$'
	for u in $MS_USERS; do
		[[ $u == *@* ]] || u=$u@$DOMAIN
		u=${u,,}
		[[ $u =~ $re ]] || die "MS_USERS: '$u' is not a user @$DOMAIN"
		[[ $u != bounce@$DOMAIN ]] || die "MS_USERS: bounce@$DOMAIN is reserved (it must stay unknown to Dovecot)"
		USERS+=("$u")
	done
	((${#USERS[@]} > 0)) || die "MS_USERS is empty"
}

require_root() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages, writes /etc/postfix and starts daemons)"
}

# lock serialises concurrent callers. Fd 9 must not leak into the daemons (see start_*),
# or the lock would stay held for as long as they run.
lock() {
	exec 9>"$LOCK_FILE"
	if ! flock -n 9; then
		say "waiting for another mailstack.sh (lock $LOCK_FILE)"
		flock -w 600 9 || die "another mailstack.sh still holds $LOCK_FILE after 600s"
	fi
}

cmd_install() {
	local missing p t0 status
	status=$(dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null) || true
	missing=()
	for p in "${PACKAGES[@]}"; do
		grep -qE "^$p(:[a-z0-9]+)? installed$" <<<"$status" || missing+=("$p")
	done
	((${#missing[@]} > 0)) || return 0
	command -v apt-get >/dev/null || die "packages missing (${missing[*]}) and no apt-get: this needs Debian 12"
	t0=$(now_ms)
	say "installing ${missing[*]}"
	# "No configuration": the Postfix postinst must not write main.cf; `up` owns it.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -q </dev/null >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" </dev/null >&2 9>&- || die "apt-get install ${missing[*]} failed"
	status=$(dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null) || true
	for p in "${PACKAGES[@]}"; do
		grep -qE "^$p(:[a-z0-9]+)? installed$" <<<"$status" || die "package $p is still not installed"
	done
	say "installed in $(elapsed "$t0")"
}

# alive reports whether pid runs. A zombie counts as gone: the daemons are
# reparented to PID 1, and a container's PID 1 may reap them only seconds later.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != [ZX] ]]
}

postfix_running() { command -v postfix >/dev/null && postfix status >/dev/null 2>&1; }

postfix_pid() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"$POSTFIX_SPOOL/pid/master.pid") || true
	echo "${pid:-}"
}

# dovecot_pid prints the master pid of the Dovecot instance whose base_dir is $1
# (default: the first instance's).
dovecot_pid() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"${1:-$DOVECOT_BASE}/master.pid") || true
	[[ -n $pid ]] && alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dovecot ]] || return 1
	echo "$pid"
}

oauth_pid() { dovecot_pid "$OAUTH_BASE"; }

# write_tls creates a self-signed certificate unless a valid one with the right SANs
# exists. Both Dovecot instances and Postfix share it; MS_OAUTH_HOST is among its names
# so that a client dialling the OAuth instance by its address can verify it.
write_tls() {
	install -d -m 0755 "$TLS_DIR"
	if [[ -s $CERT && -s $KEY ]] && openssl x509 -in "$CERT" -noout -checkend 86400 >/dev/null 2>&1; then
		local san
		san=$(openssl x509 -in "$CERT" -noout -ext subjectAltName 2>/dev/null | tr -d ' \n') || san=
		san=",${san#*AlternativeName:},"
		if [[ $san == *,DNS:localhost,* && $san == *",IPAddress:127.0.0.1,"* && $san == *,DNS:mail.$DOMAIN,* &&
			$san == *",IPAddress:$MS_OAUTH_HOST,"* ]]; then
			return 0
		fi
	fi
	say "creating a self-signed certificate in $TLS_DIR"
	(umask 077 && openssl req -x509 -newkey rsa:2048 -sha256 -days 3650 -nodes \
		-keyout "$KEY.new" -out "$CERT.new" -subj "/CN=mail.$DOMAIN" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:mail.$DOMAIN,IP:$MS_OAUTH_HOST" \
		</dev/null >/dev/null 2>"$TLS_DIR/openssl.err") ||
		die "openssl could not create the certificate: $(cat "$TLS_DIR/openssl.err")"
	rm -f "$TLS_DIR/openssl.err"
	chmod 0644 "$CERT.new"
	chmod 0600 "$KEY.new"
	mv -f "$KEY.new" "$KEY"
	mv -f "$CERT.new" "$CERT"
}

# write_users writes the Dovecot passwd-file, the Postfix recipient map and the homes.
write_users() {
	id vmail >/dev/null 2>&1 || useradd -r -U -d "$MAIL_DIR" -s /usr/sbin/nologin vmail
	local uid gid u
	uid=$(id -u vmail)
	gid=$(id -g vmail)
	install -d -m 0755 "$MS_ROOT"
	install -d -m 0750 -o vmail -g vmail "$MAIL_DIR" "$MAIL_DIR/$DOMAIN"
	: >"$MS_ROOT/users.new"
	: >"$MS_ROOT/vmailbox.new"
	for u in "${USERS[@]}"; do
		install -d -m 0700 -o vmail -g vmail "$MAIL_DIR/$DOMAIN/${u%@*}"
		echo "$u:{PLAIN}$MS_PASS:$uid:$gid::$MAIL_DIR/$DOMAIN/${u%@*}" >>"$MS_ROOT/users.new"
		echo "$u ${u%@*}" >>"$MS_ROOT/vmailbox.new"
	done
	echo "bounce@$DOMAIN bounce" >>"$MS_ROOT/vmailbox.new"
	chown root:dovecot "$MS_ROOT/users.new"
	chmod 0640 "$MS_ROOT/users.new"
	chmod 0644 "$MS_ROOT/vmailbox.new"
	install_file "$MS_ROOT/users.new" "$MS_ROOT/users"
	install_file "$MS_ROOT/vmailbox.new" "$MS_ROOT/vmailbox"
}

write_dovecot() {
	cat >"$DOVECOT_CONF.new" <<EOF
# Written by mentord e2e/mailstack.sh on every "up"; edits are lost.
# Standalone: it does not include conf.d. Start: dovecot -c $DOVECOT_CONF
instance_name = mailstack
hostname = mail.$DOMAIN
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $DOVECOT_BASE
log_path = $DOVECOT_LOG
auth_verbose = yes
ssl = yes
ssl_cert = <$CERT
ssl_key = <$KEY
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
mail_location = maildir:~/Maildir
mail_fsync = always
recipient_delimiter = +
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $MS_ROOT/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $MS_ROOT/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $MS_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $MS_IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  unix_listener $POSTFIX_SPOOL/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service auth {
  unix_listener $POSTFIX_SPOOL/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
	local err
	if ! err=$(doveconf -c "$DOVECOT_CONF.new" -n 2>&1 >/dev/null); then
		die "the generated Dovecot configuration $DOVECOT_CONF.new is invalid: $err"
	fi
	install_file "$DOVECOT_CONF.new" "$DOVECOT_CONF"
}

# write_dovecot_oauth writes the second Dovecot instance: the same users and
# maildirs as the first (the same passwd-file as userdb; mail that LMTP delivers
# through the first instance shows here), but it logs in only by OAuth 2.0 bearer
# token (SASL XOAUTH2 and OAUTHBEARER, RFC 7628) and serves IMAP and submission.
#
#  1. A client names a user and sends a token. The first passdb only adds the
#     nodelay field; it authenticates nobody (noauthenticate). See below.
#  2. The oauth2 passdb POSTs token=<token> to the authorization server's RFC 7662
#     introspection endpoint on 127.0.0.1:$MS_OAUTH_AS_PORT, with HTTP Basic
#     credentials from the URL. There is no auth cache: a revoked token fails at once.
#  3. It accepts the token when the answer has "active": true and a "username" equal
#     to the user the client named (both %Lu). Otherwise XOAUTH2 gets the challenge
#     {"status":"401","schemes":"bearer","scope":"mail"} and OAUTHBEARER
#     {"status":"invalid_token"}, then a failure. An authorization server that is
#     down or answers 5xx is a temporary failure.
#     Scopes are not checked here: Microsoft, Google and the device flow each use
#     other scopes, and Debian's 2.3.19.1+deb12u7 (CVE-2026-40205) made the oauth2
#     `scope` setting require every listed scope, so one list cannot admit them all.
#     Which scopes a client may get is the authorization server's decision.
#  4. The passwd-file userdb gives the user's home and uid, as in the first instance.
#  5. Submission relays the accepted mail to Postfix on 127.0.0.1:$MS_SMTP_PORT.
#
# It listens on MS_OAUTH_HOST, not 127.0.0.1: Dovecot 2.3 counts a connection whose
# client and server addresses are equal as secured and lets it authenticate without
# TLS whatever `ssl` says. From 127.0.0.1 to 127.0.0.2 the addresses differ, so a
# token is refused before STARTTLS (ssl = required), as Microsoft 365 and Gmail do.
#
# nodelay: Dovecot delays every failed authentication (auth_failure_delay, 2 s) and
# puts a penalty on the client's IP (2 s doubling to 15 s, kept by anvil; no setting
# turns it off) that delays the next attempt from it. Every test connects from
# 127.0.0.1, so a few deliberate failures would stall all later logins. The nodelay
# extra field skips both, and only a passdb before the failing one can set it.
write_dovecot_oauth() {
	local url="http://$MS_OAUTH_INTROSPECT_ID:$MS_OAUTH_INTROSPECT_SECRET@127.0.0.1:$MS_OAUTH_AS_PORT/introspect"
	cat >"$OAUTH_PASSDB_CONF.new" <<EOF
# Written by mentord e2e/mailstack.sh on every "up"; edits are lost.
# The oauth2 passdb of $OAUTH_CONF (Dovecot 2.3 db-oauth2 settings).
introspection_mode = post
introspection_url = $url
username_attribute = username
username_format = %Lu
active_attribute = active
active_value = true
timeout_msecs = 10000
# Close idle connections to the authorization server well before its own idle
# timeout, so that a request never races the server closing the connection.
max_idle_time_msecs = 5000
EOF
	# It holds the introspection secret: the auth process (group dovecot) reads it.
	chown root:dovecot "$OAUTH_PASSDB_CONF.new"
	chmod 0640 "$OAUTH_PASSDB_CONF.new"
	cat >"$OAUTH_CONF.new" <<EOF
# Written by mentord e2e/mailstack.sh on every "up"; edits are lost.
# Standalone: it does not include conf.d. Start: dovecot -c $OAUTH_CONF
# The OAuth-only instance: XOAUTH2 and OAUTHBEARER over IMAP and submission,
# tokens checked by introspection at 127.0.0.1:$MS_OAUTH_AS_PORT.
instance_name = mailstack-oauth
hostname = mail.$DOMAIN
protocols = imap submission
listen = $MS_OAUTH_HOST
base_dir = $OAUTH_BASE
log_path = $OAUTH_LOG
auth_verbose = yes
ssl = required
ssl_cert = <$CERT
ssl_key = <$KEY
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 oauthbearer
auth_cache_size = 0
first_valid_uid = 100
mail_location = maildir:~/Maildir
mail_fsync = always
recipient_delimiter = +
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = static
  args = noauthenticate nodelay=yes
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $OAUTH_PASSDB_CONF
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $MS_ROOT/users
}
submission_relay_host = 127.0.0.1
submission_relay_port = $MS_SMTP_PORT
submission_relay_ssl = no
service imap-login {
  inet_listener imap {
    address = $MS_OAUTH_HOST
    port = $MS_OAUTH_IMAP_PORT
  }
  inet_listener imaps {
    address = $MS_OAUTH_HOST
    port = $MS_OAUTH_IMAPS_PORT
    ssl = yes
  }
}
service submission-login {
  inet_listener submission {
    address = $MS_OAUTH_HOST
    port = $MS_OAUTH_SUBMISSION_PORT
  }
}
EOF
	local err
	if ! err=$(doveconf -c "$OAUTH_CONF.new" -n 2>&1 >/dev/null); then
		die "the generated Dovecot configuration $OAUTH_CONF.new is invalid: $err"
	fi
	install_file "$OAUTH_PASSDB_CONF.new" "$OAUTH_PASSDB_CONF"
	install_file "$OAUTH_CONF.new" "$OAUTH_CONF"
}

# install_file moves the staged file $1 over $2 unless they are equal, and
# backdates it: every Postfix program re-reads main.cf in 300 ms steps while its
# mtime is less than 2 s old (dict_load_file_xt, "pausing to let it cool down"),
# which otherwise adds about 2 s to each `up`. The file is complete when moved.
install_file() {
	if cmp -s "$1" "$2"; then
		rm -f "$1"
		return 0
	fi
	touch -d "@$(($(date +%s) - 10))" "$1"
	mv -f "$1" "$2"
}

# write_postfix rebuilds main.cf from empty (the compiled-in Debian defaults; never
# main.cf.dist) and master.cf from Debian's pristine copy, so `up` is idempotent and a
# changed port leaves no stale listener behind. Both are built in a staging directory
# (postconf -c) and only replace the live files when they differ.
write_postfix() {
	local master_dist=/usr/share/postfix/master.cf.dist stage
	[[ -s $master_dist ]] || die "$master_dist is missing: reinstall the postfix package"
	stage=$(mktemp -d "$MS_ROOT/postfix.XXXXXX")
	cp "$master_dist" "$stage/master.cf"
	# The same settings as `postconf -e` on an empty main.cf, but in a fixed order,
	# so an unchanged configuration is byte-for-byte the same.
	cat >"$stage/main.cf" <<EOF
# Written by mentord e2e/mailstack.sh on every "up"; edits are lost.
# Everything not set here is a compiled-in default (postconf -d).
compatibility_level = 3.6
myhostname = mail.$DOMAIN
myorigin = $DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$MS_ROOT/vmailbox
# Sub-addresses (daemon+TOKEN@) reach the mailbox: mentord's reply tokens and
# VERP return paths live in them.
recipient_delimiter = +
virtual_transport = lmtp:unix:private/dovecot-lmtp
default_transport = error:outbound mail disabled in test stack
relay_transport = error:outbound mail disabled in test stack
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtpd_tls_cert_file = $CERT
smtpd_tls_key_file = $KEY
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
message_size_limit = 10485760
maillog_file = $POSTFIX_LOG
smtp_dns_support_level = disabled
delay_warning_time = 0
queue_run_delay = 10s
EOF
	touch -d "@$(($(date +%s) - 10))" "$stage/main.cf"
	local pc=(postconf -c "$stage")
	"${pc[@]}" -F '*/*/chroot = n'
	"${pc[@]}" -M# smtp/inet
	"${pc[@]}" -M "127.0.0.1:$MS_SMTP_PORT/inet=127.0.0.1:$MS_SMTP_PORT inet n - n - - smtpd"
	"${pc[@]}" -M "127.0.0.1:$MS_SUBMISSION_PORT/inet=127.0.0.1:$MS_SUBMISSION_PORT inet n - n - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	"${pc[@]}" -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"
	install_file "$stage/main.cf" /etc/postfix/main.cf
	install_file "$stage/master.cf" /etc/postfix/master.cf
	rmdir "$stage"
}

write_stack_env() {
	cat >"$STACK_ENV.new" <<EOF
# Written by e2e/mailstack.sh up; read by the Go e2e harness. Shell-sourceable.
MS_ROOT=$MS_ROOT
MS_HOST=127.0.0.1
MS_SMTP_PORT=$MS_SMTP_PORT
MS_SUBMISSION_PORT=$MS_SUBMISSION_PORT
MS_IMAP_PORT=$MS_IMAP_PORT
MS_IMAPS_PORT=$MS_IMAPS_PORT
MS_DOMAIN=$DOMAIN
MS_USERS='${USERS[*]}'
MS_PASS='$MS_PASS'
MS_BOUNCE=bounce@$DOMAIN
MS_CERT=$CERT
MS_POSTFIX_LOG=$POSTFIX_LOG
MS_DOVECOT_LOG=$DOVECOT_LOG
MS_OAUTH_HOST=$MS_OAUTH_HOST
MS_OAUTH_IMAP_PORT=$MS_OAUTH_IMAP_PORT
MS_OAUTH_IMAPS_PORT=$MS_OAUTH_IMAPS_PORT
MS_OAUTH_SUBMISSION_PORT=$MS_OAUTH_SUBMISSION_PORT
MS_OAUTH_AS_PORT=$MS_OAUTH_AS_PORT
MS_OAUTH_INTROSPECT_ID=$MS_OAUTH_INTROSPECT_ID
MS_OAUTH_INTROSPECT_SECRET='$MS_OAUTH_INTROSPECT_SECRET'
MS_OAUTH_DOVECOT_LOG=$OAUTH_LOG
EOF
	chmod 0644 "$STACK_ENV.new"
	mv -f "$STACK_ENV.new" "$STACK_ENV"
}

# stack_ports prints the ports a running stack was started with (from stack.env).
stack_ports() {
	[[ -r $STACK_ENV ]] || return 0
	sed -n 's/^\(MS_[A-Z]*_PORT\)=\([0-9]*\)$/\1=\2/p' "$STACK_ENV" | sort | paste -sd' '
}

wanted_ports() {
	printf '%s\n' "MS_IMAPS_PORT=$MS_IMAPS_PORT" "MS_IMAP_PORT=$MS_IMAP_PORT" \
		"MS_SMTP_PORT=$MS_SMTP_PORT" "MS_SUBMISSION_PORT=$MS_SUBMISSION_PORT" | sort | paste -sd' '
}

# config_sum fingerprints everything `up` writes, so an unchanged stack is not reloaded.
config_sum() {
	{ cat /etc/postfix/main.cf /etc/postfix/master.cf "$MS_ROOT/vmailbox" "$MS_ROOT/users" \
		"$DOVECOT_CONF" "$CERT" "$KEY" 2>/dev/null || true; } | md5sum
}

# oauth_config_sum is config_sum for the OAuth instance, so either instance is
# reloaded only when its own configuration changed.
oauth_config_sum() {
	{ cat "$OAUTH_CONF" "$OAUTH_PASSDB_CONF" "$MS_ROOT/users" "$CERT" "$KEY" 2>/dev/null || true; } | md5sum
}

# The OAuth instance's addresses are kept in their own file, not compared through
# stack.env: an older mailstack.sh (other worktrees) rewrites stack.env without them,
# and that must not make the next `up` restart the whole stack under a running test.
oauth_wanted_ports() {
	echo "$MS_OAUTH_HOST imap=$MS_OAUTH_IMAP_PORT imaps=$MS_OAUTH_IMAPS_PORT submission=$MS_OAUTH_SUBMISSION_PORT"
}

# The daemons get /dev/null, the log file and no fd 9: a daemon that inherits the
# caller's pipe makes `mailstack.sh up | tee` and Go's exec.Cmd hang (MAILSTACK.md).
start_postfix() {
	ports_free SMTP:"$MS_SMTP_PORT":MS_SMTP_PORT submission:"$MS_SUBMISSION_PORT":MS_SUBMISSION_PORT
	if postfix start </dev/null >>"$POSTFIX_LOG" 2>&1 9>&-; then return 0; fi
	# Postfix's master reports its own start-up errors (bind, config) only to
	# syslog or /dev/console; postlogd, which writes maillog_file, is not up yet.
	die "postfix start failed (the master's own reason goes to syslog, which this machine may lack). Last lines of $POSTFIX_LOG:
$(tail -n 20 "$POSTFIX_LOG" 2>/dev/null)"
}

# ports_free fails when a port the daemon about to start needs is taken already,
# since Postfix would only say "mail system startup failed". Args: name:port:variable;
# the address is $HOST (default 127.0.0.1).
ports_free() {
	local spec name port var host=${HOST:-127.0.0.1}
	for spec in "$@"; do
		IFS=: read -r name port var <<<"$spec"
		if HOST=$host accepts "$port"; then
			die "$name port $host:$port is already in use by another program (see: ss -ltnp 'sport = :$port'); pick another with $var=..."
		fi
	done
}

start_dovecot() {
	ports_free IMAP:"$MS_IMAP_PORT":MS_IMAP_PORT IMAPS:"$MS_IMAPS_PORT":MS_IMAPS_PORT
	if dovecot -c "$DOVECOT_CONF" </dev/null >>"$DOVECOT_LOG" 2>&1 9>&-; then return 0; fi
	die "dovecot failed to start; last lines of $DOVECOT_LOG:
$(tail -n 20 "$DOVECOT_LOG" 2>/dev/null)"
}

start_dovecot_oauth() {
	HOST=$MS_OAUTH_HOST ports_free "OAuth IMAP:$MS_OAUTH_IMAP_PORT:MS_OAUTH_IMAP_PORT" \
		"OAuth IMAPS:$MS_OAUTH_IMAPS_PORT:MS_OAUTH_IMAPS_PORT" \
		"OAuth submission:$MS_OAUTH_SUBMISSION_PORT:MS_OAUTH_SUBMISSION_PORT"
	if dovecot -c "$OAUTH_CONF" </dev/null >>"$OAUTH_LOG" 2>&1 9>&-; then
		oauth_wanted_ports >"$OAUTH_PORTS"
		return 0
	fi
	die "the OAuth Dovecot ($OAUTH_CONF) failed to start; last lines of $OAUTH_LOG:
$(tail -n 20 "$OAUTH_LOG" 2>/dev/null)"
}

# stop_dovecot stops the Dovecot master $1 (TERM, then waits for it and its children).
stop_dovecot() {
	local pid=$1 kids left
	kids=$(children "$pid")
	kill -TERM "$pid"
	# shellcheck disable=SC2086 # word splitting of the pid list is intended
	left=$(wait_gone 20 "$pid" $kids) || die "Dovecot processes $left still run 20s after TERM to $pid"
}

# greeting prints the first line the server on port $1 sends, then sends $2 (goodbye).
# The address is $HOST (default 127.0.0.1), as for accepts.
greeting() {
	# shellcheck disable=SC2016 # $1, $2 and $3 belong to the inner bash
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$3/$1" && IFS= read -r -t 2 line <&3 &&
		printf "%s\r\n" "$2" >&3 && printf "%s\n" "$line"' greeting "$1" "$2" "${HOST:-127.0.0.1}" 2>/dev/null 9>&- | tr -d '\r'
}

# shellcheck disable=SC2016 # $1 and $2 belong to the inner bash
accepts() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$2/$1"' accepts "$1" "${HOST:-127.0.0.1}" 2>/dev/null 9>&-; }

# ready reports what is not answering yet; it returns 0 when everything is.
ready() {
	local missing=() g
	g=$(greeting "$MS_SMTP_PORT" QUIT) && [[ $g == 220* ]] || missing+=("SMTP 127.0.0.1:$MS_SMTP_PORT")
	g=$(greeting "$MS_SUBMISSION_PORT" QUIT) && [[ $g == 220* ]] || missing+=("submission 127.0.0.1:$MS_SUBMISSION_PORT")
	g=$(greeting "$MS_IMAP_PORT" "a LOGOUT") && [[ $g == "* OK"* ]] || missing+=("IMAP 127.0.0.1:$MS_IMAP_PORT")
	accepts "$MS_IMAPS_PORT" || missing+=("IMAPS 127.0.0.1:$MS_IMAPS_PORT")
	[[ -S $POSTFIX_SPOOL/private/dovecot-lmtp ]] || missing+=("LMTP socket $POSTFIX_SPOOL/private/dovecot-lmtp")
	[[ -S $POSTFIX_SPOOL/private/auth ]] || missing+=("SASL socket $POSTFIX_SPOOL/private/auth")
	local h=$MS_OAUTH_HOST
	g=$(HOST=$h greeting "$MS_OAUTH_IMAP_PORT" "a LOGOUT") && [[ $g == "* OK"* ]] || missing+=("OAuth IMAP $h:$MS_OAUTH_IMAP_PORT")
	HOST=$h accepts "$MS_OAUTH_IMAPS_PORT" || missing+=("OAuth IMAPS $h:$MS_OAUTH_IMAPS_PORT")
	g=$(HOST=$h greeting "$MS_OAUTH_SUBMISSION_PORT" QUIT) && [[ $g == 220* ]] || missing+=("OAuth submission $h:$MS_OAUTH_SUBMISSION_PORT")
	NOT_READY=${missing[*]:-}
	((${#missing[@]} == 0))
}

wait_ready() {
	local deadline=$(($(now_ms) + MS_WAIT * 1000))
	until ready; do
		if (($(now_ms) > deadline)); then
			die "not ready after ${MS_WAIT}s: $NOT_READY not answering.
Logs: $POSTFIX_LOG, $DOVECOT_LOG and $OAUTH_LOG. Last lines:
--- $POSTFIX_LOG
$(tail -n 15 "$POSTFIX_LOG" 2>/dev/null)
--- $DOVECOT_LOG
$(tail -n 15 "$DOVECOT_LOG" 2>/dev/null)
--- $OAUTH_LOG
$(tail -n 15 "$OAUTH_LOG" 2>/dev/null)"
		fi
		sleep 0.1
	done
}

banner() {
	cat <<EOF
mailstack is up on 127.0.0.1 ($1)
  SMTP        127.0.0.1:$MS_SMTP_PORT   no auth, STARTTLS offered, relays to @$DOMAIN only
  submission  127.0.0.1:$MS_SUBMISSION_PORT   STARTTLS required, AUTH PLAIN/LOGIN
  IMAP        127.0.0.1:$MS_IMAP_PORT   STARTTLS offered, LOGIN allowed
  IMAPS       127.0.0.1:$MS_IMAPS_PORT   implicit TLS
  OAuth-only Dovecot (same users and mailboxes; SASL XOAUTH2 and OAUTHBEARER only, no password):
  IMAP        $MS_OAUTH_HOST:$MS_OAUTH_IMAP_PORT   STARTTLS, then AUTHENTICATE
  IMAPS       $MS_OAUTH_HOST:$MS_OAUTH_IMAPS_PORT   implicit TLS
  submission  $MS_OAUTH_HOST:$MS_OAUTH_SUBMISSION_PORT   STARTTLS required, relays through Postfix
  tokens      introspected (RFC 7662) at http://127.0.0.1:$MS_OAUTH_AS_PORT/introspect as $MS_OAUTH_INTROSPECT_ID
              (the e2e harness runs that server; without it OAuth logins fail temporarily)
  users       ${USERS[*]}   password: $MS_PASS
  bounce      bounce@$DOMAIN   accepted by Postfix, rejected by Dovecot: a DSN returns to the sender
  cert        $CERT   self-signed, SAN localhost, 127.0.0.1, mail.$DOMAIN, $MS_OAUTH_HOST
  logs        $POSTFIX_LOG
              $DOVECOT_LOG
              $OAUTH_LOG
  mailboxes   $MAIL_DIR/$DOMAIN/<user>/Maildir
  env         $STACK_ENV
EOF
}

cmd_up() {
	local t0 how
	t0=$(now_ms)
	cmd_install
	# The log directory first: Postfix commands stall for a second when the
	# directory of maillog_file is missing.
	install -d -m 0755 "$MS_ROOT" "$LOG_DIR"
	touch "$POSTFIX_LOG" "$DOVECOT_LOG" "$OAUTH_LOG"
	local running_ports
	running_ports=$(stack_ports)
	if { postfix_running || dovecot_pid >/dev/null; } && [[ $running_ports != "$(wanted_ports)" ]]; then
		say "ports changed (${running_ports:-unknown} -> $(wanted_ports)): restarting"
		cmd_down
	fi
	local pid oauth_ports
	oauth_ports=$(cat "$OAUTH_PORTS" 2>/dev/null) || oauth_ports=
	if pid=$(oauth_pid) && [[ $oauth_ports != "$(oauth_wanted_ports)" ]]; then
		say "OAuth Dovecot addresses changed (${oauth_ports:-unknown} -> $(oauth_wanted_ports)): restarting it"
		stop_dovecot "$pid"
	fi
	local before after oauth_before oauth_after
	before=$(config_sum)
	oauth_before=$(oauth_config_sum)
	write_tls
	write_users
	write_dovecot
	write_dovecot_oauth
	write_postfix
	after=$(config_sum)
	oauth_after=$(oauth_config_sum)
	how="already up, configuration unchanged"
	if ! postfix_running; then
		start_postfix
		how=started
	elif [[ $before != "$after" ]]; then
		# `postfix start` checks the configuration itself; `postfix reload` does not.
		local err
		err=$(postfix check 2>&1 </dev/null 9>&-) || die "postfix check failed: $err (see $POSTFIX_LOG)"
		postfix reload </dev/null >>"$POSTFIX_LOG" 2>&1 9>&- || die "postfix reload failed (see $POSTFIX_LOG)"
		how=reloaded
	fi
	if ! pid=$(dovecot_pid); then
		start_dovecot
		[[ $how != already* ]] || how=started
	elif [[ $before != "$after" ]]; then
		kill -HUP "$pid"
		how=reloaded
	fi
	if ! pid=$(oauth_pid); then
		start_dovecot_oauth
		[[ $how != already* ]] || how=started
	elif [[ $oauth_before != "$oauth_after" ]]; then
		kill -HUP "$pid"
		[[ $how == started ]] || how=reloaded
	fi
	wait_ready
	write_stack_env
	say "$how in $(elapsed "$t0")"
	banner "Postfix $(postconf -h mail_version), Dovecot $(dovecot --version | cut -d' ' -f1)"
}

# wait_gone waits up to $1 seconds for the given pids to exit.
wait_gone() {
	local secs=$1 p left
	shift
	local deadline=$(($(now_ms) + secs * 1000))
	while :; do
		left=()
		for p in "$@"; do alive "$p" && left+=("$p"); done
		((${#left[@]} == 0)) && return 0
		(($(now_ms) > deadline)) && { echo "${left[*]}"; return 1; }
		sleep 0.05
	done
}

# children prints the pids of the children of $1 (none without procps).
children() {
	if command -v pgrep >/dev/null; then
		pgrep -P "$1" | paste -sd' ' || true
	fi
}

cmd_down() {
	local t0 stopped=0 pid kids left log=$POSTFIX_LOG
	t0=$(now_ms)
	[[ -d $LOG_DIR ]] || log=/dev/null # MS_ROOT was removed or differs from `up`'s
	if postfix_running; then
		pid=$(postfix_pid)
		kids=
		[[ -z $pid ]] || kids=$(children "$pid")
		postfix stop </dev/null >>"$log" 2>&1 9>&- || die "postfix stop failed (see $POSTFIX_LOG)"
		# shellcheck disable=SC2086 # word splitting of the pid list is intended
		left=$(wait_gone 20 $pid $kids) || die "Postfix processes $left still run 20s after postfix stop"
		stopped=1
	fi
	if pid=$(dovecot_pid); then
		stop_dovecot "$pid"
		stopped=1
	fi
	if pid=$(oauth_pid); then
		stop_dovecot "$pid"
		stopped=1
	fi
	if ((stopped)); then
		say "down in $(elapsed "$t0")"
	else
		say "already down"
	fi
}

cmd_reset() {
	local n=0
	if command -v postsuper >/dev/null && [[ -s /etc/postfix/main.cf ]]; then
		postsuper -d ALL </dev/null >&2 9>&- || die "postsuper -d ALL failed (see $POSTFIX_LOG)"
	fi
	if [[ -d $MAIL_DIR/$DOMAIN ]]; then
		local home
		for home in "$MAIL_DIR/$DOMAIN"/*/; do
			[[ -d $home ]] || continue
			find "$home" -mindepth 1 -delete
			n=$((n + 1))
		done
	fi
	say "reset: Postfix queue emptied, $n mailboxes wiped under $MAIL_DIR/$DOMAIN"
}

cmd_status() {
	local p=0 d=0 o=0 pid port name host
	if pid=$(postfix_pid) && postfix_running; then
		say "postfix: running (master pid $pid)"
		p=1
	else
		say "postfix: stopped"
	fi
	if pid=$(dovecot_pid); then
		say "dovecot: running (master pid $pid, $DOVECOT_CONF)"
		d=1
	else
		say "dovecot: stopped"
	fi
	if pid=$(oauth_pid); then
		say "dovecot (OAuth): running (master pid $pid, $OAUTH_CONF)"
		o=1
	else
		say "dovecot (OAuth): stopped"
	fi
	for name in MS_SMTP_PORT MS_SUBMISSION_PORT MS_IMAP_PORT MS_IMAPS_PORT \
		MS_OAUTH_IMAP_PORT MS_OAUTH_IMAPS_PORT MS_OAUTH_SUBMISSION_PORT MS_OAUTH_AS_PORT; do
		port=${!name}
		host=127.0.0.1
		[[ $name != MS_OAUTH_*_PORT || $name == MS_OAUTH_AS_PORT ]] || host=$MS_OAUTH_HOST
		if HOST=$host accepts "$port"; then
			say "$host:$port ($name): listening"
		elif [[ $name == MS_OAUTH_AS_PORT ]]; then
			say "$host:$port ($name): closed (the e2e harness runs the authorization server only during a test run)"
		else
			say "$host:$port ($name): closed"
		fi
	done
	if ((p && d && o)) && ready; then
		banner "Postfix $(postconf -h mail_version), Dovecot $(dovecot --version | cut -d' ' -f1)"
		exit 0
	fi
	# exit, not return: a failing return would trip the ERR trap.
	if ((p || d || o)); then exit 1; fi
	exit 3
}

main() {
	(($# == 1)) || usage
	check_env
	case $1 in
	install | up | down | reset | status) ;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
	require_root
	lock
	"cmd_$1"
}

main "$@"
