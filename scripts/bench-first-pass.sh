#!/usr/bin/env bash
# bench-first-pass.sh [PAIRS...]: what the real binary costs for a cohort
# imported at once (BENCHMARKS.md, "A large cohort"). For each size (default
# 1000 10000 20000) it generates a CSV of that many pairs (12 monthly sessions,
# the first ones spread over 30 days from tomorrow, four time zones, English
# and Danish), then:
#   1. `mentord import FILE.csv`: its time and peak memory (the write
#      transaction is most of the time);
#   2. `mentord serve` with the embedded dev server until its first pass has
#      enqueued everything due: the pass's time, the peak resident memory
#      (VmHWM from /proc) and the database and WAL sizes at that moment;
#   3. `mentord serve` again on that database: the time from exec to READY
#      (the "mentord running" line, logged as READY=1 is sent).
# Sending is held back (smtp.max_per_minute: 30): the dev server keeps every
# message delivered to it in the daemon's own memory, which would measure the
# dev server's mailboxes rather than the pass.
#
# MENTORD_BIN=path measures that binary instead of building this tree's;
# MENTORD_BENCH_DIR=dir keeps the files there (each size in its own folder).
set -euo pipefail
cd "$(dirname "$0")/.."

work=${MENTORD_BENCH_DIR:-$(mktemp -d)}
serve_pid=""
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
	if [ -z "${MENTORD_BENCH_DIR:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

bin=${MENTORD_BIN:-}
if [ -z "$bin" ]; then
	bin=$work/mentord
	mkdir -p "$work"
	go build -o "$bin" ./cmd/mentord
fi

# gen N: the CSV of N pairs.
gen() {
	awk -v n="$1" -v start="$(date -u -d tomorrow +%s)" 'BEGIN {
		print "mentor_name,mentor_email,mentee_name,mentee_email,start,tz,every,sessions,duration,location,lang"
		split("Europe/Copenhagen America/New_York Asia/Tokyo UTC", tz, " ")
		split("en da", lang, " ")
		for (i = 1; i <= n; i++) {
			t = start + (i % 30) * 86400 + (9 + i % 8) * 3600
			printf "Mentor %d,mentor%d@example.org,Mentee %d,mentee%d@example.net,%s,%s,monthly,12,60m,Room %d,%s\n",
				i, i, i, i, strftime("%Y-%m-%dT%H:00", t, 1), tz[i % 4 + 1], i % 100, lang[i % 2 + 1]
		}
	}'
}

# wait_log FILE TEXT: waits until FILE holds TEXT, or the server died.
wait_log() {
	until grep -q -- "$2" "$1"; do
		if ! kill -0 "$serve_pid" 2>/dev/null; then
			echo "bench-first-pass: mentord serve died:" >&2
			tail -20 "$1" >&2
			exit 1
		fi
		sleep 0.05
	done
}

# logtime FILE TEXT: the time= of the first line holding TEXT, in seconds.
logtime() {
	date -d "$(grep -m1 -- "$2" "$1" | sed -E 's/^time=([^ ]+) .*/\1/')" +%s.%N
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

printf '| pairs | import | import peak RSS | first pass (CPU) | messages | pass peak RSS (VmHWM) | database + WAL | per message | start to READY |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for n in "${@:-1000 10000 20000}"; do
	dir=$work/$n
	mkdir -p "$dir"
	gen "$n" >"$dir/pairs.csv"
	port=$((20000 + RANDOM % 20000))
	cat >"$dir/config.yaml" <<-EOF
		programme: {name: Bench}
		mailbox: {address: mentoring@example.org}
		database: {path: m.db}
		devserver: {enabled: true, smtp_listen: "127.0.0.1:$port", imap_listen: "127.0.0.1:$((port + 1))"}
		smtp: {max_per_minute: 30}
		log: {level: info}
	EOF
	/usr/bin/time -f '%e %M' -o "$dir/import.time" "$bin" import --config "$dir/config.yaml" "$dir/pairs.csv" >/dev/null
	read -r import_s import_kb <"$dir/import.time"
	roster=$(stat -c %s "$dir/m.db")

	"$bin" serve --config "$dir/config.yaml" 2>"$dir/serve.log" &
	serve_pid=$!
	wait_log "$dir/serve.log" 'msg="mentord running"'
	wait_log "$dir/serve.log" 'msg="messages enqueued"'
	hwm_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$serve_pid/status")
	# user + system CPU of the process so far (clock ticks): steadier than the
	# wall time on a busy machine.
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$serve_pid/stat")
	db=$(stat -c %s "$dir/m.db")
	wal=$(stat -c %s "$dir/m.db-wal" 2>/dev/null || echo 0)
	count=$(grep -m1 'msg="messages enqueued"' "$dir/serve.log" | sed -E 's/.*count=([0-9]+).*/\1/')
	pass=$(awk -v a="$(logtime "$dir/serve.log" 'msg="mentord running"')" -v b="$(logtime "$dir/serve.log" 'msg="messages enqueued"')" \
		'BEGIN { printf "%.1f", b - a }')
	kill -TERM "$serve_pid"
	wait "$serve_pid" || true

	: >"$dir/restart.log"
	t0=$(date +%s.%N)
	"$bin" serve --config "$dir/config.yaml" 2>"$dir/restart.log" &
	serve_pid=$!
	wait_log "$dir/restart.log" 'msg="mentord running"'
	t1=$(date +%s.%N)
	kill -TERM "$serve_pid"
	wait "$serve_pid" || true
	serve_pid=""

	per=$(awk -v d="$((db + wal - roster))" -v c="$count" 'BEGIN { printf "%.2f", d / c / 1024 }')
	ready=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	printf '| %s | %s s | %s MiB | %s s (%s s) | %s | %s MiB | %s + %s MiB (roster %s) | %s KiB | %s s |\n' "$n" "$import_s" \
		"$(mib $((import_kb * 1024)))" "$pass" "$cpu" "$count" "$(mib $((hwm_kb * 1024)))" "$(mib "$db")" "$(mib "$wal")" \
		"$(mib "$roster")" "$per" "$ready"
done
