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
BUSY_COLUMN="machine busy column" # where wait_quiet points when it gives up

# Targets of the issue.
TARGET_RATIO=1.5    # upload ≤ 1.5 × the floor
TARGET_RSS_MIB=16   # daemon RSS growth during the upload ≤ 16 MiB

WORK=$(mktemp -d -t rosterd-upbench.XXXXXX)
SCHEMAS=() # created by this run, dropped on exit
DAEMON=""  # the PID of the running rosterd serve, stopped on exit
SAMPLER="" # the PID of the RSS sampler loop, stopped on exit

# Results per database, keyed "DB:REP" while running, then "DB" (pick).
declare -A U_WALL U_GROWTH U_BEFORE U_PEAK U_BUSY F_WALL F_HOW F_BUSY F_DETAIL

# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

# ---------------------------------------------------------------- set-up

ensure_tools() {
	local need=()
	command -v curl >/dev/null || need+=(curl)
	command -v basenc >/dev/null || need+=(coreutils)
	has_db postgres && ! command -v psql >/dev/null && need+=(postgresql-client)
	has_db sqlite && ! command -v sqlite3 >/dev/null && need+=(sqlite3)
	((${#need[@]} == 0)) && return
	apt_install "${need[@]}"
}

cleanup() {
	stop_sampler
	stop_daemon
	drop_schemas
	rm -rf "$WORK"
}

# ------------------------------------------------------------- measuring

# elapsed T0 T1: the seconds between two now()s, 2 decimals (timed's T_WALL too).
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# bench_upload DB REP ENV…: one daemon, one org and token, one timed upload.
bench_upload() {
	local db=$1 rep=$2 token
	shift 2
	env "$@" "$ROSTERD" org create bench --name Bench >/dev/null
	token=$(env "$@" "$ROSTERD" token create --org bench --name bench)
	start_daemon "$db" "$@"
	ready_addr "$db" http
	ADDR=$READY_ADDR

	wait_quiet
	local busy0 busy1 t0 t1 code secs
	rss_start "$WORK/rss-$db-$rep" # VmHWM is then the peak of the upload
	busy0=$(busy_seconds) t0=$(now)
	read -r code secs < <(curl -sS -o "$WORK/upload-$db-$rep.json" -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $token" -F "file=@$FILE;filename=roster.csv;type=text/csv" \
		"http://$ADDR/api/v1/imports")
	t1=$(now) busy1=$(busy_seconds)
	rss_stop "$WORK/rss-$db-$rep"
	stop_daemon

	[[ $code == 202 ]] || { cat "$WORK/upload-$db-$rep.json" >&2; die "$db: upload answered $code, expected 202"; }
	grep -q "\"size_bytes\":$FILE_BYTES[,}]" "$WORK/upload-$db-$rep.json" ||
		die "$db: the 202 does not report size_bytes $FILE_BYTES: $(cat "$WORK/upload-$db-$rep.json")"
	grep -q "\"file_sha256\":\"$FILE_SHA\"" "$WORK/upload-$db-$rep.json" ||
		die "$db: the 202 does not report the file's sha256 $FILE_SHA"

	U_WALL[$db:$rep]=$(awk -v s="$secs" 'BEGIN { printf "%.2f", s }')
	U_BEFORE[$db:$rep]=$RSS_BEFORE_MIB U_PEAK[$db:$rep]=$RSS_PEAK_MIB U_GROWTH[$db:$rep]=$RSS_GROWTH_MIB
	U_BUSY[$db:$rep]=$(busy_share "$busy0" "$busy1" "$(elapsed "$t0" "$t1")")
	log "$db upload: $code in ${secs}s, RSS ${U_BEFORE[$db:$rep]} → ${U_PEAK[$db:$rep]} MiB ($(wc -l <"$WORK/rss-$db-$rep") samples)"
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
	wait_quiet
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
	wait_quiet
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
	wait_quiet
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
		report_head "rosterd upload benchmark"
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
	trap_errors
	check_positive REPEAT
	check_positive SIZE_MIB
	check_databases
	ensure_tools
	build
	has_db postgres && check_postgres
	make_roster

	run_and_report
}

main "$@"
