# shellcheck shell=bash disable=SC2034 # the variables set here are read by the sourcing script
# Helpers shared by the benchmark scripts (import.sh, upload.sh, sftp.sh).
# Sourced by each of them from the repository root, after its settings:
#   . scripts/bench/lib.sh
# It only defines functions (and SCRIPT); the scripts set the variables the
# functions use: WORK (the temporary directory), PG_URL, DATABASES, SCHEMAS,
# DAEMON, SAMPLER, SIZE_MIB, BUSY_COLUMN and the like.

# The name of the script that sources this file, for its messages.
SCRIPT=${0##*/}

# has_db NAME: whether DATABASES lists NAME.
has_db() { [[ " $DATABASES " == *" $1 "* ]]; }

# log MSG…: a progress line on stderr.
log() { printf '==> %s\n' "$*" >&2; }
# die MSG…: an error on stderr, prefixed with the script's name; exit 1.
die() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# trap_errors: set -e stops silently: say where (the failing line and status).
trap_errors() {
	set -E
	trap 'printf "%s: line %s: a command failed (status %s)\n" "$SCRIPT" "$LINENO" "$?" >&2' ERR
}

# check_positive NAME: the variable NAME holds a positive number.
check_positive() {
	[[ ${!1} =~ ^[1-9][0-9]*$ ]] || die "$1: \"${!1}\" is not a positive number"
}

# check_databases: every word of DATABASES is sqlite or postgres.
check_databases() {
	local db
	for db in $DATABASES; do
		[[ $db == sqlite || $db == postgres ]] || die "DATABASES: \"$db\" is neither sqlite nor postgres"
	done
}

# ---------------------------------------------------------------- set-up

# apt_install PKG…: install missing Debian packages (with sudo unless root).
apt_install() {
	log "installing $*"
	local sudo=""
	[[ $(id -u) == 0 ]] || sudo=sudo
	$sudo apt-get update -qq
	# A package's own service (say sshd) is not started here (no systemd in a
	# container; elsewhere its service is the system's business, not ours).
	$sudo apt-get install -y -qq "$@" >/dev/null
}

# build_installed OUT [GO BUILD ARGS…]: go build, run from the current
# directory, into OUT as a package or `install` would put it there: the
# linker writes its output through a mapping, which leaves the file in the
# page cache as large folios, and every page fault of the new binary then
# maps more of it: `rosterd version` peaked at 39 MiB RSS run from the
# linker's output and at 32 MiB from a copy of it. A benchmark's peak RSS is
# the installed binary's. It is built static, without cgo, as make build and
# the Dockerfile build rosterd (the Dockerfile also strips it: -s -w leaves
# out sections no page fault maps). A cgo build (go build's default where a C
# compiler is found) also maps the C library and its allocator's arenas: a
# re-sync of 1M rows on SQLite peaked 1.3 MiB higher (64.7 against 63.4 MiB,
# five runs each).
build_installed() {
	local out=$1
	shift
	CGO_ENABLED=0 go build -trimpath "$@" -o "$out.link" ./cmd/rosterd
	install -m 0755 "$out.link" "$out"
	rm -f "$out.link"
}

# build compiles the working tree, or with REV the committed revision REV
# (exported with git archive, so edits in progress neither break the build nor
# blur the figures), into $WORK/rosterd and $WORK/genroster; sets ROSTERD.
build() {
	local src=.
	if [[ -n ${REV:-} ]]; then
		src=$WORK/src
		mkdir "$src"
		git archive "$REV" | tar -x -C "$src"
	fi
	log "building rosterd and genroster ($(built_from)) into $WORK"
	(cd "$src" && build_installed "$WORK/rosterd" && go build -o "$WORK/genroster" ./scripts/bench/genroster)
	ROSTERD=$WORK/rosterd
}

# built_from: what build compiled, for the reports.
built_from() {
	if [[ -n ${REV:-} ]]; then
		echo "commit $(git rev-parse --short "$REV")"
	else
		echo "working tree $(git describe --always --dirty 2>/dev/null || echo '(no git)')"
	fi
}

# make_roster: a genroster roster of exactly SIZE_MIB MiB in $WORK/roster.csv;
# sets FILE, FILE_BYTES and FILE_SHA (its sha256). genroster writes ~148
# bytes a row (at least 100 are needed); the file is cut at exactly
# SIZE_MIB (the last row may be cut: only the transfer is timed, the import
# is not run).
make_roster() {
	log "generating a $SIZE_MIB MiB roster"
	FILE=$WORK/roster.csv
	"$WORK/genroster" -n $(((SIZE_MIB << 20) / 100)) >"$FILE"
	truncate -s $((SIZE_MIB << 20)) "$FILE"
	FILE_BYTES=$(stat -c %s "$FILE")
	((FILE_BYTES == SIZE_MIB << 20)) || die "the roster has $FILE_BYTES bytes, expected $((SIZE_MIB << 20))"
	FILE_SHA=$(sha256sum "$FILE" | cut -d' ' -f1)
}

# ------------------------------------------------------------- PostgreSQL

# url_with SCHEMA FLAVOUR: the database URL with the schema as search_path.
# lib/pq (FLAVOUR rosterd) passes search_path through as a run-time
# parameter; libpq (FLAVOUR psql) rejects unknown URL parameters and needs it
# in "options".
url_with() {
	local sep='?'
	[[ $PG_URL == *\?* ]] && sep='&'
	case $2 in
	rosterd) printf '%s%ssearch_path=%s' "$PG_URL" "$sep" "$1" ;;
	psql) printf '%s%soptions=-csearch_path%%3D%s' "$PG_URL" "$sep" "$1" ;;
	esac
}

# pg ARGS…: psql on PG_URL, quiet, unaligned, stopping at the first error.
pg() { psql -X -q -v ON_ERROR_STOP=1 -At "$PG_URL" "$@"; }

# check_postgres: PG_URL answers, or die saying how to start PostgreSQL.
check_postgres() {
	if ! pg -c 'SELECT 1' >/dev/null 2>"$WORK/pg.err"; then
		cat "$WORK/pg.err" >&2
		die "PostgreSQL is not reachable at $PG_URL.
Start it with:  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
or point BENCH_PG_URL at a server you may create schemas in."
	fi
}

# new_schema NAME: an empty schema, dropped again on exit (drop_schemas).
new_schema() {
	pg -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $1 CASCADE" -c "CREATE SCHEMA $1"
	SCHEMAS+=("$1")
}

# drop_schema NAME: drop the schema and all in it.
drop_schema() {
	pg -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $1 CASCADE"
}

# drop_schemas: on exit, drop every schema new_schema made, errors ignored.
drop_schemas() {
	local s
	for s in "${SCHEMAS[@]}"; do
		drop_schema "$s" 2>/dev/null || true
	done
}

# ------------------------------------------------------------- processes

# stop_pid VAR: SIGTERM the process whose PID the variable VAR holds (if
# any), wait for it and empty VAR.
stop_pid() {
	local pid=${!1}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	printf -v "$1" '%s' ""
}

# stop_sampler: stop the RSS sampler loop (rss_start).
stop_sampler() { stop_pid SAMPLER; }

# stop_daemon: stop rosterd serve (start_daemon): SIGTERM (its 1s shutdown
# grace cuts a queued import short) and wait for the process.
stop_daemon() { stop_pid DAEMON; }

# start_daemon DB ENV…: rosterd serve on free loopback ports with ENV, one
# worker, a 1h job poll interval, no mail; sets DAEMON once it logs
# "rosterd ready" to $WORK/serve-DB.err (ready_addr reads its addresses).
start_daemon() {
	local db=$1 deadline=$((SECONDS + 60))
	shift
	: >"$WORK/serve-$db.err"
	env "$@" ROSTERD_LOG_FORMAT=text ROSTERD_HTTP_ADDR=127.0.0.1:0 ROSTERD_SFTP_ADDR=127.0.0.1:0 ROSTERD_WORKERS=1 ROSTERD_JOB_POLL_INTERVAL=1h \
		ROSTERD_SHUTDOWN_GRACE=1s ROSTERD_MAX_UPLOAD_BYTES=$(((SIZE_MIB + 56) << 20)) ROSTERD_SMTP_URL= \
		"$ROSTERD" serve >"$WORK/serve-$db.out" 2>"$WORK/serve-$db.err" &
	DAEMON=$!
	until is_ready "$WORK/serve-$db.err"; do
		if ! kill -0 "$DAEMON" 2>/dev/null; then
			cat "$WORK/serve-$db.err" >&2
			DAEMON=""
			die "$db: rosterd serve exited before it was ready"
		fi
		((SECONDS < deadline)) || die "$db: rosterd serve not ready within 60s"
		sleep 0.1
	done
}

# ready_line FILE: the daemon's "rosterd ready" line in its log, written as
# text (msg="rosterd ready" … http=ADDR) or as JSON ("msg":"rosterd ready",
# … "http":"ADDR"): log_format auto writes JSON when stderr is not a
# terminal, as here.
ready_line() { grep -m 1 -E 'msg="rosterd ready"|"msg":"rosterd ready"' "$1"; }

# is_ready FILE: whether the daemon logging to FILE said it is ready.
is_ready() { ready_line "$1" >/dev/null; }

# ready_addr DB DOOR: sets READY_ADDR to the address (host:port) of DOOR
# (http or sftp) in the ready line of $WORK/serve-DB.err, text or JSON;
# dies when there is none.
ready_addr() {
	READY_ADDR=$(ready_line "$WORK/serve-$1.err" |
		sed -n -e 's/.*[ ,{]"'"$2"'":"\([^"]*\)".*/\1/p' -e 's/.* '"$2"'=\([^ ]*\).*/\1/p' | head -n 1)
	[[ -n $READY_ADDR ]] || die "$1: no $2 address in the ready line"
}

# ------------------------------------------------------------- measuring

# busy_seconds: CPU time the whole machine has spent busy, all cores.
busy_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu /{printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat
}

# wait_quiet: before a timed run, wait (at most QUIET_WAIT seconds) for a
# second in which the machine is under 15% busy, so that a build or test
# suite running alongside does not land on the clock. What still overlaps
# shows in the report's BUSY_COLUMN (each script names its own).
wait_quiet() {
	local deadline=$((SECONDS + ${QUIET_WAIT:-120})) a b
	while :; do
		a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
		sleep 1
		b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
		awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); busy = y[1] - x[1]; idle = y[2] - x[2]
			exit !(busy <= 0.15 * (busy + idle)) }' && return
		if ((SECONDS >= deadline)); then
			log "the machine stayed busy for ${QUIET_WAIT:-120}s; measuring anyway (see the $BUSY_COLUMN)"
			return
		fi
	done
}

# now: the time in seconds, with nanoseconds.
now() { date +%s.%N; }

# busy_share BUSY0 BUSY1 WALL: how busy the whole machine was during a run,
# in % of all its cores. The measured run's own processes count too; a run
# that cannot use all cores and still shows ~100% had company.
busy_share() {
	awk -v a="$1" -v b="$2" -v w="$3" -v n="$(nproc)" 'BEGIN { printf "%.0f", (w > 0 ? 100 * (b - a) / (w * n) : 0) }'
}

# timed LABEL CMD…: runs CMD (output in $WORK/LABEL.{out,err}); sets T_WALL
# (s, as the script's elapsed prints it) and T_BUSY (% of the machine). A
# failing CMD is a broken measurement. It does not wait_quiet itself.
timed() {
	local label=$1 t0 t1 b0 b1 status=0
	shift
	b0=$(busy_seconds) t0=$(now)
	"$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || status=$?
	t1=$(now) b1=$(busy_seconds)
	if ((status != 0)); then
		cat "$WORK/$label.out" "$WORK/$label.err" >&2
		die "$label: exit status $status"
	fi
	T_WALL=$(elapsed "$t0" "$t1")
	T_BUSY=$(busy_share "$b0" "$b1" "$T_WALL")
}

# rss_kib PID FIELD: a field of /proc/PID/status (VmRSS, VmHWM) in KiB.
rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# rss_start SAMPLES: just before a transfer to the daemon, reset its VmHWM
# to its VmRSS (so VmHWM becomes the transfer's peak), keep that VmRSS in
# RSS_BEFORE (KiB), and sample VmRSS every 50 ms into the file SAMPLES
# (SAMPLER: the sampler loop's PID).
rss_start() {
	echo 5 >"/proc/$DAEMON/clear_refs" # VmHWM := VmRSS
	RSS_BEFORE=$(rss_kib "$DAEMON" VmRSS)
	: >"$1"
	(
		while rss_kib "$DAEMON" VmRSS >>"$1" 2>/dev/null; do sleep 0.05; done
	) &
	SAMPLER=$!
}

# rss_stop SAMPLES: right after the transfer, read VmHWM and stop the
# sampler; sets RSS_BEFORE_MIB, RSS_PEAK_MIB (the highest of the samples and
# VmHWM) and RSS_GROWTH_MIB (peak - before), in MiB with one decimal.
rss_stop() {
	local hwm peak
	hwm=$(rss_kib "$DAEMON" VmHWM)
	stop_sampler
	peak=$(awk -v h="$hwm" 'BEGIN { m = h } $1 > m { m = $1 } END { print m }' "$1")
	RSS_BEFORE_MIB=$(awk -v k="$RSS_BEFORE" 'BEGIN { printf "%.1f", k / 1024 }')
	RSS_PEAK_MIB=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	RSS_GROWTH_MIB=$(awk -v a="$RSS_BEFORE" -v b="$peak" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
}

# ------------------------------------------------------------- reporting

# le A B: A ≤ B, as numbers.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# verdict CMD…: PASS when CMD succeeds, MISS when not.
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }
# mibs SECONDS: SIZE_MIB MiB in SECONDS as whole MiB/s.
mibs() { awk -v m="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }'; }

# run_and_report: the body of upload.sh's and sftp.sh's main: REPEAT rounds
# of run_db DB REP for each database, then pick DB (the figures to report),
# write_results to RESULTS and the same table on stdout.
run_and_report() {
	local db rep
	for ((rep = 1; rep <= REPEAT; rep++)); do
		for db in $DATABASES; do
			run_db "$db" "$rep"
		done
	done
	for db in $DATABASES; do
		pick "$db"
	done

	write_results
	echo
	results_table
	echo
	echo "Written to $RESULTS."
}

# report_head TITLE: the top of a results file: the title, who wrote it when
# from what, and the machine's CPU and (when measured) PostgreSQL lines.
report_head() {
	echo "# $1"
	echo
	echo "Written by \`scripts/bench/$SCRIPT\` on $(date -u '+%Y-%m-%d %H:%M UTC'), rosterd built from $(built_from)."
	echo
	echo "## Machine"
	echo
	echo "- CPU: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
	if has_db postgres; then
		echo "- PostgreSQL: $(pg -c 'SELECT version()')"
		echo "  (shared_buffers $(pg -c 'SHOW shared_buffers'), synchronous_commit $(pg -c 'SHOW synchronous_commit'), max_wal_size $(pg -c 'SHOW max_wal_size'))"
	fi
}
