#!/usr/bin/env bash
# Upload benchmark: a ~200 MiB roster sent with curl to a running
# `rosterd serve` (POST /api/v1/imports, bearer token), on SQLite and on
# PostgreSQL, against the floor of each database: the same bytes stored by
# the database's own client, in the same run.
#
# Only the upload is timed: from curl's first byte to the 202 Accepted, i.e.
# the file streamed through the multipart reader into the database (1 MiB
# chunks, each in a short transaction of its own) and the import recorded.
# The job the upload queues is held back by the door until the form is
# complete and is not processed before the 202 (one worker, a 1h poll
# interval on SQLite); the daemon is stopped right after the 202, so the
# import itself never competes with a measurement.
#
# Measured per database:
#   upload s      curl's time_total for the whole POST (expect 202, and the
#                 answer's size_bytes and file_sha256 equal to the file's)
#   RSS growth    the daemon's peak VmRSS during the upload (sampled every
#                 50 ms from /proc/PID/status, plus the kernel's own peak,
#                 VmHWM, reset just before the upload) minus its VmRSS just
#                 before the upload. Target ≤ 16 MiB.
#   floor s       PostgreSQL: the faster of two psql loads into a fresh schema:
#                   lo_import  `\lo_import FILE` (a large object, one transaction)
#                   copy       `\copy floor_chunks (seq, data) FROM PROGRAM …`:
#                              the file cut into 1 MiB rows of bytea (as rosterd
#                              stores it), hex-encoded on the fly by
#                              split + basenc (COPY's text format needs hex)
#                 SQLite: `sqlite3` storing the file as one blob with
#                 readfile(), in WAL mode with synchronous=NORMAL (rosterd's
#                 settings), into a fresh file.
#                 Target: upload ≤ 1.5 × floor.
#
# It prints a Markdown table with PASS/MISS per target (a measurement: it
# never fails on a MISS) and writes it to scripts/bench/upload-results.md.
#
# Environment:
#   DATABASES     which to measure, default "sqlite postgres"
#   SIZE_MIB      the upload's size in MiB, default 200
#   BENCH_PG_URL  PostgreSQL URL without search_path,
#                 default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   RESULTS       the report to write, default scripts/bench/upload-results.md
#   REV           build this git revision instead of the working tree (REV=HEAD)
#   QUIET_WAIT    seconds to wait for an idle machine before each timed run, default 120
#   REPEAT        run every measurement this many times and keep the fastest
#                 (RSS: the worst), default 1
set -euo pipefail

cd "$(dirname "$0")/../.."   # the repository root: go build paths are relative to it

DATABASES=${DATABASES:-sqlite postgres}
SIZE_MIB=${SIZE_MIB:-200}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
RESULTS=${RESULTS:-scripts/bench/upload-results.md}
REPEAT=${REPEAT:-1}

# Targets of the issue.
TARGET_RATIO=1.5    # upload ≤ 1.5 × the floor
TARGET_RSS_MIB=16   # daemon RSS growth during the upload ≤ 16 MiB

WORK=$(mktemp -d -t rosterd-upbench.XXXXXX)
SCHEMAS=() # created by this run, dropped on exit
DAEMON=""  # the PID of the running rosterd serve, stopped on exit
SAMPLER="" # the PID of the RSS sampler loop, stopped on exit

# Results per database, keyed "DB:REP" while running, then "DB" (pick).
declare -A U_WALL U_GROWTH U_BEFORE U_PEAK U_BUSY F_WALL F_HOW F_BUSY F_DETAIL

has_db() { [[ " $DATABASES " == *" $1 "* ]]; }

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'upload.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- set-up

ensure_tools() {
	local need=()
	command -v curl >/dev/null || need+=(curl)
	command -v basenc >/dev/null || need+=(coreutils)
	has_db postgres && ! command -v psql >/dev/null && need+=(postgresql-client)
	has_db sqlite && ! command -v sqlite3 >/dev/null && need+=(sqlite3)
	((${#need[@]} == 0)) && return
	log "installing ${need[*]}"
	local sudo=""
	[[ $(id -u) == 0 ]] || sudo=sudo
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

# build compiles the working tree, or with REV the committed revision REV.
build() {
	local src=.
	if [[ -n ${REV:-} ]]; then
		src=$WORK/src
		mkdir "$src"
		git archive "$REV" | tar -x -C "$src"
	fi
	log "building rosterd and genroster ($(built_from)) into $WORK"
	(cd "$src" && go build -o "$WORK/rosterd" ./cmd/rosterd && go build -o "$WORK/genroster" ./scripts/bench/genroster)
	ROSTERD=$WORK/rosterd
}

built_from() {
	if [[ -n ${REV:-} ]]; then
		echo "commit $(git rev-parse --short "$REV")"
	else
		echo "working tree $(git describe --always --dirty 2>/dev/null || echo '(no git)')"
	fi
}

# url_with SCHEMA FLAVOUR: the database URL with the schema as search_path
# (lib/pq takes it as a parameter, libpq in "options").
url_with() {
	local sep='?'
	[[ $PG_URL == *\?* ]] && sep='&'
	case $2 in
	rosterd) printf '%s%ssearch_path=%s' "$PG_URL" "$sep" "$1" ;;
	psql) printf '%s%soptions=-csearch_path%%3D%s' "$PG_URL" "$sep" "$1" ;;
	esac
}

pg() { psql -X -q -v ON_ERROR_STOP=1 -At "$PG_URL" "$@"; }

check_postgres() {
	if ! pg -c 'SELECT 1' >/dev/null 2>"$WORK/pg.err"; then
		cat "$WORK/pg.err" >&2
		die "PostgreSQL is not reachable at $PG_URL.
Start it with:  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
or point BENCH_PG_URL at a server you may create schemas in."
	fi
}

new_schema() {
	pg -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $1 CASCADE" -c "CREATE SCHEMA $1"
	SCHEMAS+=("$1")
}

drop_schema() {
	pg -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $1 CASCADE"
}

stop_sampler() {
	[[ -n $SAMPLER ]] || return 0
	kill "$SAMPLER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	SAMPLER=""
}

# stop_daemon: SIGTERM (a 1s shutdown grace cuts the queued import short)
# and wait for the process.
stop_daemon() {
	[[ -n $DAEMON ]] || return 0
	kill -TERM "$DAEMON" 2>/dev/null || true
	wait "$DAEMON" 2>/dev/null || true
	DAEMON=""
}

cleanup() {
	local s
	stop_sampler
	stop_daemon
	for s in "${SCHEMAS[@]}"; do
		drop_schema "$s" 2>/dev/null || true
	done
	rm -rf "$WORK"
}

# ------------------------------------------------------------- measuring

busy_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu /{printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat
}

# wait_quiet: before a timed run, wait (at most QUIET_WAIT seconds) for a
# second in which the machine is under 15% busy.
wait_quiet() {
	local deadline=$((SECONDS + ${QUIET_WAIT:-120})) a b
	while :; do
		a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
		sleep 1
		b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
		awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); busy = y[1] - x[1]; idle = y[2] - x[2]
			exit !(busy <= 0.15 * (busy + idle)) }' && return
		if ((SECONDS >= deadline)); then
			log "the machine stayed busy for ${QUIET_WAIT:-120}s; measuring anyway (see the machine busy column)"
			return
		fi
	done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# busy_share BUSY0 BUSY1 WALL: how busy the whole machine was during a run,
# in % of all its cores. The measured run's own processes count too; a run
# that cannot use all cores and still shows ~100% had company.
busy_share() {
	awk -v a="$1" -v b="$2" -v w="$3" -v n="$(nproc)" 'BEGIN { printf "%.0f", (w > 0 ? 100 * (b - a) / (w * n) : 0) }'
}

rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# start_daemon DB ENV…: rosterd serve on a free loopback port with ENV;
# sets DAEMON and ADDR once it logs "rosterd ready".
start_daemon() {
	local db=$1 deadline=$((SECONDS + 60))
	shift
	env "$@" ROSTERD_HTTP_ADDR=127.0.0.1:0 ROSTERD_SFTP_ADDR=127.0.0.1:0 ROSTERD_WORKERS=1 ROSTERD_JOB_POLL_INTERVAL=1h \
		ROSTERD_SHUTDOWN_GRACE=1s ROSTERD_MAX_UPLOAD_BYTES=$(((SIZE_MIB + 56) << 20)) ROSTERD_SMTP_URL= \
		"$ROSTERD" serve >"$WORK/serve-$db.out" 2>"$WORK/serve-$db.err" &
	DAEMON=$!
	until grep -q 'msg="rosterd ready"' "$WORK/serve-$db.err"; do
		if ! kill -0 "$DAEMON" 2>/dev/null; then
			cat "$WORK/serve-$db.err" >&2
			DAEMON=""
			die "$db: rosterd serve exited before it was ready"
		fi
		((SECONDS < deadline)) || die "$db: rosterd serve not ready within 60s"
		sleep 0.1
	done
	ADDR=$(sed -n 's/.*msg="rosterd ready".* http=\([^ ]*\).*/\1/p' "$WORK/serve-$db.err" | head -n 1)
	[[ -n $ADDR ]] || die "$db: no http= address in the ready line"
}

# bench_upload DB REP ENV…: one daemon, one org and token, one timed upload.
bench_upload() {
	local db=$1 rep=$2 token
	shift 2
	env "$@" "$ROSTERD" org create bench --name Bench >/dev/null
	token=$(env "$@" "$ROSTERD" token create --org bench --name bench)
	start_daemon "$db" "$@"

	wait_quiet
	local before busy0 busy1 t0 t1 code secs hwm
	echo 5 >"/proc/$DAEMON/clear_refs" # VmHWM := VmRSS, so VmHWM is the peak of the upload
	before=$(rss_kib "$DAEMON" VmRSS)
	: >"$WORK/rss-$db-$rep"
	(
		while rss_kib "$DAEMON" VmRSS >>"$WORK/rss-$db-$rep" 2>/dev/null; do sleep 0.05; done
	) &
	SAMPLER=$!
	busy0=$(busy_seconds) t0=$(now)
	read -r code secs < <(curl -sS -o "$WORK/upload-$db-$rep.json" -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $token" -F "file=@$FILE;filename=roster.csv;type=text/csv" \
		"http://$ADDR/api/v1/imports")
	t1=$(now) busy1=$(busy_seconds)
	hwm=$(rss_kib "$DAEMON" VmHWM)
	stop_sampler
	stop_daemon

	[[ $code == 202 ]] || { cat "$WORK/upload-$db-$rep.json" >&2; die "$db: upload answered $code, expected 202"; }
	grep -q "\"size_bytes\":$FILE_BYTES[,}]" "$WORK/upload-$db-$rep.json" ||
		die "$db: the 202 does not report size_bytes $FILE_BYTES: $(cat "$WORK/upload-$db-$rep.json")"
	grep -q "\"file_sha256\":\"$FILE_SHA\"" "$WORK/upload-$db-$rep.json" ||
		die "$db: the 202 does not report the file's sha256 $FILE_SHA"

	local peak
	peak=$(awk -v h="$hwm" 'BEGIN { m = h } $1 > m { m = $1 } END { print m }' "$WORK/rss-$db-$rep")
	U_WALL[$db:$rep]=$(awk -v s="$secs" 'BEGIN { printf "%.2f", s }')
	U_BEFORE[$db:$rep]=$(awk -v k="$before" 'BEGIN { printf "%.1f", k / 1024 }')
	U_PEAK[$db:$rep]=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	U_GROWTH[$db:$rep]=$(awk -v a="$before" -v b="$peak" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
	U_BUSY[$db:$rep]=$(busy_share "$busy0" "$busy1" "$(elapsed "$t0" "$t1")")
	log "$db upload: $code in ${secs}s, RSS ${U_BEFORE[$db:$rep]} → ${U_PEAK[$db:$rep]} MiB ($(wc -l <"$WORK/rss-$db-$rep") samples)"
}

# timed LABEL CMD…: runs CMD (output in $WORK/LABEL.{out,err}) after
# wait_quiet; sets T_WALL (s) and T_BUSY (% of the machine).
timed() {
	local label=$1 t0 t1 b0 b1 status=0
	shift
	wait_quiet
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

# floor_postgres REP: the faster of \lo_import and \copy of 1 MiB bytea rows,
# each in a fresh schema, after a CHECKPOINT.
floor_postgres() {
	local rep=$1 schema="bench_upfloor_$1" url
	new_schema "$schema"
	url=$(url_with "$schema" psql)
	psql -X -q -v ON_ERROR_STOP=1 "$url" -c 'CREATE TABLE floor_chunks (seq int PRIMARY KEY, data bytea NOT NULL)'

	# lo_import: libpq reads the file and writes the large object, one transaction.
	psql -X -q "$url" -c 'CHECKPOINT'
	timed "floor-lo-$rep" psql -X -v ON_ERROR_STOP=1 "$url" -c '\lo_import '"'$FILE'"
	local lo=$T_WALL lo_busy=$T_BUSY
	# Large objects belong to the database, not the schema: unlink it here.
	local got oid
	oid=$(sed -n 's/^lo_import \([0-9]*\)$/\1/p' "$WORK/floor-lo-$rep.out")
	[[ -n $oid ]] || die "floor lo_import printed no oid: $(cat "$WORK/floor-lo-$rep.out")"
	got=$(psql -X -At "$url" -c "SELECT sum(length(data)) FROM pg_largeobject WHERE loid = $oid")
	psql -X -q "$url" -c "SELECT lo_unlink($oid)" >/dev/null
	[[ $got == "$FILE_BYTES" ]] || die "floor lo_import stored $got bytes, expected $FILE_BYTES"

	# copy: COPY text wants bytea as \x + hex; a 1 MiB row per line, numbered.
	cat >"$WORK/hexchunk.sh" <<-'SH'
		#!/bin/sh
		# split's filter: stdin is the chunk, $FILE its name (-000042); writes
		# one COPY text line: seq TAB \\x hex (the backslash escaped for COPY).
		n=${FILE##*[!0-9]}
		printf '%d\t%s' "$((1$n - 1000000))" '\\x'
		basenc --base16 -w 0
		echo
	SH
	printf 'exec split -b 1048576 -a 6 -d --filter "sh %s" "$1" -\n' "$WORK/hexchunk.sh" >"$WORK/hexchunks.sh"
	psql -X -q "$url" -c 'CHECKPOINT'
	timed "floor-copy-$rep" psql -X -q -v ON_ERROR_STOP=1 "$url" \
		-c "\\copy floor_chunks (seq, data) FROM PROGRAM 'sh $WORK/hexchunks.sh $FILE'"
	local cp=$T_WALL cp_busy=$T_BUSY
	got=$(psql -X -At "$url" -c 'SELECT sum(length(data)) FROM floor_chunks')
	[[ $got == "$FILE_BYTES" ]] || die "floor copy stored $got bytes, expected $FILE_BYTES"
	drop_schema "$schema"

	F_DETAIL[postgres:$rep]="lo_import ${lo}s, copy ${cp}s"
	log "postgres floor: ${F_DETAIL[postgres:$rep]}"
	if le "$lo" "$cp"; then
		F_WALL[postgres:$rep]=$lo F_HOW[postgres:$rep]=lo_import F_BUSY[postgres:$rep]=$lo_busy
	else
		F_WALL[postgres:$rep]=$cp F_HOW[postgres:$rep]=copy F_BUSY[postgres:$rep]=$cp_busy
	fi
}

# floor_sqlite REP: the sqlite3 shell storing the file as one blob.
floor_sqlite() {
	local rep=$1 db="$WORK/floor-$1.db"
	sqlite3 "$db" 'PRAGMA journal_mode=WAL' 'CREATE TABLE f (data BLOB NOT NULL)' >/dev/null
	sync
	timed "floor-sqlite-$rep" sqlite3 "$db" 'PRAGMA synchronous=NORMAL' \
		"INSERT INTO f (data) VALUES (readfile('$FILE'))"
	local got
	got=$(sqlite3 "$db" 'SELECT length(data) FROM f')
	[[ $got == "$FILE_BYTES" ]] || die "floor sqlite3 stored $got bytes, expected $FILE_BYTES"
	rm -f "$db" "$db-wal" "$db-shm"
	F_WALL[sqlite:$rep]=$T_WALL F_HOW[sqlite:$rep]="readfile()" F_BUSY[sqlite:$rep]=$T_BUSY
	F_DETAIL[sqlite:$rep]="readfile() ${T_WALL}s"
	log "sqlite floor: ${F_DETAIL[sqlite:$rep]}"
}

run_db() {
	local db=$1 rep=$2
	case $db in
	sqlite)
		rm -rf "$WORK/data-sqlite"
		bench_upload sqlite "$rep" ROSTERD_DATA_DIR="$WORK/data-sqlite" ROSTERD_DATABASE_URL=
		rm -rf "$WORK/data-sqlite"
		floor_sqlite "$rep"
		;;
	postgres)
		local schema="bench_upload_$rep"
		new_schema "$schema"
		bench_upload postgres "$rep" ROSTERD_DATA_DIR="$WORK/data-postgres" \
			ROSTERD_DATABASE_URL="$(url_with "$schema" rosterd)"
		drop_schema "$schema"
		floor_postgres "$rep"
		;;
	esac
}

# pick DB: the fastest upload and floor; the worst RSS growth.
pick() {
	local db=$1 r bu=1 bf=1 worst=1
	for ((r = 2; r <= REPEAT; r++)); do
		le "${U_WALL[$db:$bu]}" "${U_WALL[$db:$r]}" || bu=$r
		le "${F_WALL[$db:$bf]}" "${F_WALL[$db:$r]}" || bf=$r
		le "${U_GROWTH[$db:$r]}" "${U_GROWTH[$db:$worst]}" || worst=$r
	done
	U_WALL[$db]=${U_WALL[$db:$bu]} U_BUSY[$db]=${U_BUSY[$db:$bu]}
	U_GROWTH[$db]=${U_GROWTH[$db:$worst]} U_BEFORE[$db]=${U_BEFORE[$db:$worst]} U_PEAK[$db]=${U_PEAK[$db:$worst]}
	F_WALL[$db]=${F_WALL[$db:$bf]} F_HOW[$db]=${F_HOW[$db:$bf]} F_BUSY[$db]=${F_BUSY[$db:$bf]}
	F_DETAIL[$db]=${F_DETAIL[$db:$bf]}
}

# ------------------------------------------------------------- reporting

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }
mibs() { awk -v m="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }'; }

results_table() {
	local db r
	echo "| database | upload s | MiB/s | daemon RSS before → peak MiB | RSS growth MiB (≤ $TARGET_RSS_MIB) | floor s | floor | upload/floor (≤ ${TARGET_RATIO}×) | machine busy % upload / floor |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
	for db in $DATABASES; do
		r=$(ratio "${U_WALL[$db]}" "${F_WALL[$db]}")
		printf '| %s | %s | %s | %s → %s | %s %s | %s | %s | %s× %s | %s / %s |\n' "$db" "${U_WALL[$db]}" \
			"$(mibs "${U_WALL[$db]}")" "${U_BEFORE[$db]}" "${U_PEAK[$db]}" \
			"${U_GROWTH[$db]}" "$(verdict le "${U_GROWTH[$db]}" "$TARGET_RSS_MIB")" \
			"${F_WALL[$db]}" "${F_DETAIL[$db]}" "$r" "$(verdict le "$r" "$TARGET_RATIO")" \
			"${U_BUSY[$db]}" "${F_BUSY[$db]}"
	done
}

write_results() {
	{
		echo "# rosterd upload benchmark"
		echo
		echo "Written by \`scripts/bench/upload.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), rosterd built from $(built_from)."
		echo
		echo "## Machine"
		echo
		echo "- CPU: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)"
		if has_db postgres; then
			echo "- PostgreSQL: $(pg -c 'SELECT version()')"
			echo "  (shared_buffers $(pg -c 'SHOW shared_buffers'), synchronous_commit $(pg -c 'SHOW synchronous_commit'), max_wal_size $(pg -c 'SHOW max_wal_size'))"
		fi
		has_db sqlite && echo "- SQLite: embedded in rosterd ($(go list -m -f '{{.Path}} {{.Version}}' modernc.org/sqlite)); floor: sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
		echo "- $(go version); $(curl --version | head -n 1 | cut -d' ' -f1-2)"
		echo
		echo "## Results"
		echo
		echo "A ${SIZE_MIB} MiB roster ($FILE_BYTES bytes) sent with \`curl -F file=@…\` to" \
			"\`POST /api/v1/imports\` of \`rosterd serve\` (one worker; the daemon is stopped after the 202," \
			"so only the upload is measured), against the floor: the same bytes stored by the database's own" \
			"client in the same run. Each measurement ran $REPEAT time(s); the table shows the fastest upload" \
			"and floor and the worst RSS growth. Machine busy: the CPU of all processes during the run, in %" \
			"of all $(nproc) cores; the machine was shared with other work, so the wall times are noisy."
		echo
		results_table
		echo
		echo "Floors: PostgreSQL, the faster of \`\\lo_import\` (a large object) and \`\\copy … FROM PROGRAM\`" \
			"of 1 MiB bytea rows hex-encoded on the fly (split + basenc), each into a fresh schema after a" \
			"CHECKPOINT. SQLite, the \`sqlite3\` shell inserting \`readfile(FILE)\` as one blob into a fresh" \
			"file (WAL, synchronous=NORMAL as rosterd). RSS: VmRSS just before the upload; peak = the highest" \
			"of 50 ms VmRSS samples and VmHWM (reset before the upload)."
	} >"$RESULTS"
}

# ------------------------------------------------------------------ main

main() {
	trap cleanup EXIT
	# set -e stops silently: say where.
	set -E
	trap 'printf "upload.sh: line %s: a command failed (status %s)\n" "$LINENO" "$?" >&2' ERR
	[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT: \"$REPEAT\" is not a positive number"
	[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MIB: \"$SIZE_MIB\" is not a positive number"
	local db
	for db in $DATABASES; do
		[[ $db == sqlite || $db == postgres ]] || die "DATABASES: \"$db\" is neither sqlite nor postgres"
	done
	ensure_tools
	build
	has_db postgres && check_postgres

	# genroster writes ~125 bytes a row; cut at exactly SIZE_MIB (the last
	# row may be cut: the import is not run, only the upload is timed).
	log "generating a $SIZE_MIB MiB roster"
	FILE=$WORK/roster.csv
	"$WORK/genroster" -n $(((SIZE_MIB << 20) / 100)) >"$FILE"
	truncate -s $((SIZE_MIB << 20)) "$FILE"
	FILE_BYTES=$(stat -c %s "$FILE")
	((FILE_BYTES == SIZE_MIB << 20)) || die "the roster has $FILE_BYTES bytes, expected $((SIZE_MIB << 20))"
	FILE_SHA=$(sha256sum "$FILE" | cut -d' ' -f1)

	local rep
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

main "$@"
