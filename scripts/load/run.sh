#!/usr/bin/env bash
# Load run: HTTP_UPLOADS (100) HTTP uploads and SFTP_SESSIONS (20) SFTP
# sessions sent all at once to rosterd, first to one daemon on SQLite, then
# to PG_DAEMONS (2) daemons sharing one PostgreSQL schema (and one SFTP host
# key), the load spread over both. A benchmark, not a test: it reports what
# it measured and fails only when an accepted file is unaccounted for.
#
# Set-up per database (with the command line, as an operator would):
#   HTTP_ORGS organisations h1… with an API token: the HTTP uploads go to
#   them round robin (partial imports; uploads to one organisation overlap,
#   so rows create, update or leave users unchanged).
#   SFTP_ORGS organisations s1… with an API token, an SFTP login (password)
#   and sync_schedule on_upload: each SFTP session puts FILES_PER_SESSION
#   files into /in/ one after the other, and each complete file is synced at
#   once as a full import (archive threshold 100%, so no sync is held; a
#   file that a newer one overtakes while queued ends superseded).
#   Every organisation has a notification address; with no smtp_url the
#   e-mails go to each daemon's outbox.
#   Files: MIN_ROWS–MAX_ROWS rows; every BAD_EVERY-th has one row in ten
#   failing. All made before the clock starts.
#
# The driver (scripts/load, Go) then starts every upload and session at the
# same instant and records each acceptance: HTTP from the request's start to
# the 202, SFTP from open to the close's answer (rosterd answers once the
# file is stored). Then it lists the imports through the API until every
# accepted file's import has ended, and accounts for each: one import per
# accepted file (found by its unique file name; for HTTP, the id of the
# 202), ended (succeeded, completed_with_errors, failed; for SFTP also
# superseded). It reports p50/p95/p99 acceptance latency per door, imports
# ended per minute (first acceptance → last finished_at) and errors by kind
# (refused, timed out, 5xx, SFTP failures). Bounded: ACCEPT_TIMEOUT per
# upload or session, DEADLINE for the whole driver run; at the deadline it
# reports what it has.
#
# Loopback only; everything in a temporary directory; the daemons and the
# schema are removed on exit. Results go to scripts/load/results.md.
#
# Environment:
#   DATABASES          which to run, default "sqlite postgres"
#   HTTP_UPLOADS       default 100        SFTP_SESSIONS     default 20
#   FILES_PER_SESSION  default 3          PG_DAEMONS        default 2
#   HTTP_ORGS          default 5          SFTP_ORGS         default 5
#   MIN_ROWS, MAX_ROWS default 50, 500    BAD_EVERY         default 4 (0: none)
#   ACCEPT_TIMEOUT     default 3m         DEADLINE          default 15m
#   SEED               default 1 (file sizes and contents)
#   BENCH_PG_URL       PostgreSQL URL without search_path,
#                      default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   LOAD_SCHEMA        the PostgreSQL schema of the run (dropped before and after), default load_run
#   RESULTS            default scripts/load/results.md
#   REV                build this git revision instead of the working tree (REV=HEAD)
#   QUIET_WAIT         seconds to wait for an idle machine before each run, default 60
#   MACHINE_NOTE       a line about the machine for the report (e.g. that it was throttled)
#   KEEP_LOGS          copy the daemons' logs (serve-*.err) into this directory on exit
set -euo pipefail

cd "$(dirname "$0")/../.."   # the repository root: go build paths are relative to it

DATABASES=${DATABASES:-sqlite postgres}
HTTP_UPLOADS=${HTTP_UPLOADS:-100}
SFTP_SESSIONS=${SFTP_SESSIONS:-20}
FILES_PER_SESSION=${FILES_PER_SESSION:-3}
PG_DAEMONS=${PG_DAEMONS:-2}
HTTP_ORGS=${HTTP_ORGS:-5}
SFTP_ORGS=${SFTP_ORGS:-5}
MIN_ROWS=${MIN_ROWS:-50}
MAX_ROWS=${MAX_ROWS:-500}
BAD_EVERY=${BAD_EVERY:-4}
ACCEPT_TIMEOUT=${ACCEPT_TIMEOUT:-3m}
DEADLINE=${DEADLINE:-15m}
SEED=${SEED:-1}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
RESULTS=${RESULTS:-scripts/load/results.md}
QUIET_WAIT=${QUIET_WAIT:-60}
MACHINE_NOTE=${MACHINE_NOTE:-}
KEEP_LOGS=${KEEP_LOGS:-}
BUSY_COLUMN="machine busy figure" # where wait_quiet points when it gives up

WORK=$(mktemp -d -t rosterd-load.XXXXXX)
SCHEMAS=()    # created by this run, dropped on exit
PIDS=()       # the running rosterd serve processes, stopped on exit
HTTP_ADDRS="" # of the running daemons, comma-separated
SFTP_ADDRS=""
UNACCOUNTED="" # the databases whose run left a file unaccounted for
declare -A NOTES  # per database: the daemons' figures under the driver's report

# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

cleanup() {
	stop_daemons
	if [[ -n $KEEP_LOGS ]]; then
		mkdir -p "$KEEP_LOGS"
		cp "$WORK"/serve-*.err "$KEEP_LOGS"/ 2>/dev/null || true
	fi
	drop_schemas
	rm -rf "$WORK"
}

# build_all: rosterd (lib.sh's build) and the driver, from the same source.
build_all() {
	build
	local src=.
	[[ -n ${REV:-} ]] && src=$WORK/src
	(cd "$src" && go build -o "$WORK/load" ./scripts/load)
	DRIVER=$WORK/load
}

# start_rosterd LABEL ENV…: rosterd serve with ENV on free loopback ports,
# the per-address connection caps raised (the load comes from one address),
# as configured by default otherwise (workers = CPUs, job poll 1s, log
# format auto: JSON here), e-mails to its outbox; waits for "rosterd ready"
# (is_ready, text or JSON) in $WORK/serve-LABEL.err and adds
# its addresses to HTTP_ADDRS and SFTP_ADDRS.
start_rosterd() {
	local label=$1 deadline=$((SECONDS + 120)) pid
	shift
	: >"$WORK/serve-$label.err"
	# Every client here is 127.0.0.1, standing for many HR systems: the
	# per-address caps (64 HTTP, 20 SFTP) would refuse most of the load.
	env "$@" ROSTERD_HTTP_ADDR=127.0.0.1:0 ROSTERD_SFTP_ADDR=127.0.0.1:0 ROSTERD_SMTP_URL= ROSTERD_SHUTDOWN_GRACE=5s \
		ROSTERD_HTTP_MAX_CONNECTIONS_PER_IP=1000 ROSTERD_SFTP_MAX_CONNECTIONS_PER_IP=200 \
		"$ROSTERD" serve >"$WORK/serve-$label.out" 2>"$WORK/serve-$label.err" &
	pid=$!
	PIDS+=("$pid")
	until is_ready "$WORK/serve-$label.err"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$WORK/serve-$label.err" >&2
			die "$label: rosterd serve exited before it was ready"
		fi
		((SECONDS < deadline)) || die "$label: rosterd serve not ready within 120s"
		sleep 0.2
	done
	ready_addr "$label" http
	HTTP_ADDRS+=${HTTP_ADDRS:+,}$READY_ADDR
	ready_addr "$label" sftp
	SFTP_ADDRS+=${SFTP_ADDRS:+,}$READY_ADDR
	log "$label: rosterd serve ready (pid $pid, http $(tail_addr "$HTTP_ADDRS"), sftp $READY_ADDR)"
}

tail_addr() { echo "${1##*,}"; }

# stop_daemons: SIGTERM every daemon and wait for each.
stop_daemons() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
	HTTP_ADDRS="" SFTP_ADDRS=""
}

# setup_orgs DB ENV…: the organisations, tokens and SFTP logins of the run,
# made with the command line; writes the driver's $WORK/orgs-DB.txt.
setup_orgs() {
	local db=$1 i slug token pw out=$WORK/orgs-$1.txt
	shift
	log "$db: $HTTP_ORGS HTTP and $SFTP_ORGS SFTP organisations"
	: >"$out"
	for ((i = 1; i <= HTTP_ORGS; i++)); do
		slug=h$i
		env "$@" "$ROSTERD" org create "$slug" --name "Load HTTP $i" --notify "hr@$slug.example" --phone-region BE >/dev/null
		token=$(env "$@" "$ROSTERD" token create --org "$slug" --name load)
		echo "http $slug $token" >>"$out"
	done
	for ((i = 1; i <= SFTP_ORGS; i++)); do
		slug=s$i
		env "$@" "$ROSTERD" org create "$slug" --name "Load SFTP $i" --notify "hr@$slug.example" --phone-region BE \
			--schedule on_upload --archive-threshold-percent 100 --archive-threshold-min 1000000 >/dev/null
		token=$(env "$@" "$ROSTERD" token create --org "$slug" --name load)
		pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
		printf '%s\n' "$pw" | env "$@" "$ROSTERD" sftp-account add --org "$slug" --user "load-$slug" --password-stdin >/dev/null
		echo "sftp $slug $token load-$slug $pw" >>"$out"
	done
}

# drive DB LABEL HOSTKEY: the driver against the running daemons; its report
# goes to $WORK/report-DB.md. Exit 1 (unaccounted) is recorded, not fatal.
drive() {
	local db=$1 label=$2 hostkey=$3 status=0 b0 b1 t0 t1 pid i=0
	wait_quiet
	b0=$(busy_seconds) t0=$(now)
	"$DRIVER" -orgs "$WORK/orgs-$db.txt" -http "$HTTP_ADDRS" -sftp "$SFTP_ADDRS" -host-key "$hostkey" \
		-http-uploads "$HTTP_UPLOADS" -sftp-sessions "$SFTP_SESSIONS" -files-per-session "$FILES_PER_SESSION" \
		-min-rows "$MIN_ROWS" -max-rows "$MAX_ROWS" -bad-every "$BAD_EVERY" -accept-timeout "$ACCEPT_TIMEOUT" \
		-deadline "$DEADLINE" -seed "$SEED" -label "$label" -report "$WORK/report-$db.md" || status=$?
	t1=$(now) b1=$(busy_seconds)
	case $status in
	0) ;;
	1) UNACCOUNTED+=" $db" ;;
	*) die "$db: the driver failed (exit status $status)" ;;
	esac
	local wall busy
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	busy=$(busy_share "$b0" "$b1" "$wall")
	NOTES[$db]="Driver run ${wall} s; the machine was ${busy}% busy over it (all processes, all $(nproc) cores)."
	for pid in "${PIDS[@]}"; do
		i=$((i + 1))
		NOTES[$db]+=" Daemon $i: peak RSS $(awk -v k="$(rss_kib "$pid" VmHWM)" 'BEGIN { printf "%.0f", k / 1024 }') MiB"
		NOTES[$db]+=", $(grep -c -E 'level=ERROR|"level":"ERROR"' "$WORK/serve-$db$i.err" || true) ERROR and $(grep -c -E 'level=WARN|"level":"WARN"' "$WORK/serve-$db$i.err" || true) WARN log lines"
		NOTES[$db]+="$(log_summary "$WORK/serve-$db$i.err")."
	done
}

# log_summary FILE: the daemon's ERROR and WARN messages (text or JSON log),
# each once with its count, most frequent first (at most 6), as ": 3× WARN \"msg\", …".
log_summary() {
	local s
	s=$(sed -n -e 's/.*level=\(ERROR\|WARN\) msg=\("[^"]*"\|[^ ]*\).*/\1 \2/p' \
		-e 's/.*"level":"\(ERROR\|WARN\)","msg":\("[^"]*"\).*/\1 \2/p' "$1" | sort | uniq -c | sort -rn | head -n 6 |
		awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "%s%s× %s", (NR > 1 ? "; " : ""), n, $0 }')
	[[ -z $s ]] || printf ': %s' "$s"
}

run_sqlite() {
	local envs=(ROSTERD_DATA_DIR="$WORK/data-sqlite" ROSTERD_DATABASE_URL=)
	setup_orgs sqlite "${envs[@]}"
	start_rosterd sqlite1 "${envs[@]}"
	drive sqlite "SQLite, 1 daemon" "$WORK/data-sqlite/sftp_host_key"
	stop_daemons
}

run_postgres() {
	local schema=${LOAD_SCHEMA:-load_run} url i
	new_schema "$schema"
	url=$(url_with "$schema" rosterd)
	setup_orgs postgres ROSTERD_DATA_DIR="$WORK/data-postgres1" ROSTERD_DATABASE_URL="$url"
	# One after the other: the first makes the shared host key, the rest read it.
	for ((i = 1; i <= PG_DAEMONS; i++)); do
		start_rosterd "postgres$i" ROSTERD_DATA_DIR="$WORK/data-postgres$i" ROSTERD_DATABASE_URL="$url" \
			ROSTERD_SFTP_HOST_KEY="$WORK/sftp_host_key"
	done
	drive postgres "PostgreSQL, $PG_DAEMONS daemons on one schema" "$WORK/sftp_host_key"
	stop_daemons
	drop_schema "$schema"
}

write_results() {
	local db
	{
		echo "# rosterd load run"
		echo
		echo "Written by \`scripts/load/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), rosterd built from $(built_from)."
		echo "A benchmark, not a test: figures from one run on the machine below."
		echo
		echo "## Machine"
		echo
		echo "- CPU: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
		[[ -n $MACHINE_NOTE ]] && echo "- $MACHINE_NOTE"
		echo "- $(go version); SQLite $(go list -m -f '{{.Version}}' modernc.org/sqlite) (modernc.org/sqlite, in rosterd)"
		has_db postgres && echo "- PostgreSQL: $(pg -c 'SELECT version()' | cut -d, -f1)"
		echo
		echo "## Parameters"
		echo
		echo "HTTP_UPLOADS=$HTTP_UPLOADS SFTP_SESSIONS=$SFTP_SESSIONS FILES_PER_SESSION=$FILES_PER_SESSION" \
			"HTTP_ORGS=$HTTP_ORGS SFTP_ORGS=$SFTP_ORGS MIN_ROWS=$MIN_ROWS MAX_ROWS=$MAX_ROWS BAD_EVERY=$BAD_EVERY" \
			"PG_DAEMONS=$PG_DAEMONS ACCEPT_TIMEOUT=$ACCEPT_TIMEOUT DEADLINE=$DEADLINE SEED=$SEED."
		echo
		echo "Daemons: \`rosterd serve\` with its defaults (workers = $(nproc) CPUs, job poll 1 s, SFTP limit 200" \
			"connections; per-address caps raised to 1000 HTTP and 200 SFTP connections, as every client is 127.0.0.1) on loopback; e-mails to each daemon's outbox. HTTP organisations take partial" \
			"uploads; SFTP organisations sync each file on upload as a full import. Acceptance: HTTP from the" \
			"request's start to the 202; SFTP from open to the close's answer (the file is stored by then)." \
			"Imports ended per minute: from the first acceptance to the last import's finished_at." \
			"The uploads and sessions all start at the same instant; latencies are of accepted files only."
		echo
		echo "## Results"
		for db in $DATABASES; do
			echo
			cat "$WORK/report-$db.md"
			echo
			echo "${NOTES[$db]}"
		done
	} >"$RESULTS"
}

main() {
	trap cleanup EXIT
	trap_errors
	local v
	for v in HTTP_UPLOADS SFTP_SESSIONS FILES_PER_SESSION PG_DAEMONS HTTP_ORGS SFTP_ORGS MIN_ROWS MAX_ROWS; do
		check_positive "$v"
	done
	check_databases
	command -v psql >/dev/null || ! has_db postgres || apt_install postgresql-client
	build_all
	has_db postgres && check_postgres
	for db in $DATABASES; do
		"run_$db"
	done
	write_results
	echo
	cat "$RESULTS"
	[[ -z $UNACCOUNTED ]] || die "files unaccounted for on:$UNACCOUNTED (see $RESULTS)"
}

main "$@"
