#!/usr/bin/env bash
# End-to-end import benchmark against PostgreSQL and SQLite.
#
# For each roster size and database it times three rosterd imports, in a
# fresh schema (PostgreSQL) or file (SQLite) and a fresh organisation, one
# right after the other as a user would run them: nothing analyses the users
# table in between (an upload does not wait for autovacuum):
#   empty    --mode full into an empty organisation (every row created)
#   re-sync  the same file again (every row unchanged, nothing written)
#   1%       a copy with 1% of the rows changed (N/100 updated)
# and, as the yardstick on PostgreSQL, what PostgreSQL alone needs for the
# same three loads into the same users table: psql \copy into a staging table
# and one INSERT … ON CONFLICT … DO UPDATE merge. SQLite has no baseline yet.
#
# It prints a Markdown table, checks the targets of the issue (reported as
# PASS/MISS, never failing the script: this is a measurement), and writes the
# table, the machine and the rosterd phase timings of the largest size to
# scripts/bench/results.md.
#
# Environment:
#   SIZES         roster sizes, default "100000 1000000"
#   DATABASES     which to measure, default "postgres sqlite"
#   SETTLE_ANALYZE=1  run VACUUM (ANALYZE) users before every PostgreSQL run,
#                 as this script did until issue 7 (fresh statistics hid a
#                 quadratic plan); default: CHECKPOINT only
#   BENCH_PG_URL  PostgreSQL URL without search_path,
#                 default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   RESULTS       the report to write, default scripts/bench/results.md
#   REV           build this git revision instead of the working tree (REV=HEAD)
#   QUIET_WAIT    seconds to wait for an idle machine before each run, default 120
#   REPEAT        run every case this many times and keep the fastest, default 1
#                 (on a shared machine, the fastest run is the least disturbed)
set -euo pipefail

cd "$(dirname "$0")/../.."   # the repository root: go build paths are relative to it

SIZES=${SIZES:-100000 1000000}
DATABASES=${DATABASES:-postgres sqlite}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
RESULTS=${RESULTS:-scripts/bench/results.md}
REPEAT=${REPEAT:-1}
BUSY_COLUMN="other CPU column" # where wait_quiet points when it gives up

# Targets of the issue.
TARGET_RATIO=1.5          # rosterd wall time ≤ 1.5 × the baseline's
TARGET_RESYNC_RPS=100000  # identical re-sync ≥ 100k rows/s
TARGET_RSS_MIB=64         # peak RSS ≤ 64 MiB …
TARGET_RSS_ROWS=1000000   # … at 1M rows

CASES=(empty resync changed)
declare -A CASE_NAME=([empty]="empty org" [resync]="identical re-sync" [changed]="1% changed")

WORK=$(mktemp -d -t rosterd-bench.XXXXXX)
SCHEMAS=()   # created by this run, dropped on exit

# Measurements, keyed "SIZE:CASE:REP" while running, then "SIZE:CASE" for
# the fastest repetition (pick_fastest), whose number R_REP/B_REP keep.
declare -A R_WALL R_RSS R_CPU R_PG R_OTHER R_REP B_WALL B_PG B_OTHER B_REP
# The same for rosterd on SQLite.
declare -A S_WALL S_RSS S_CPU S_OTHER S_REP

# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

# ---------------------------------------------------------------- set-up

ensure_tools() {
	# /usr/bin/time (Debian package "time", not the shell keyword) reports the
	# peak RSS; psql runs the baseline.
	if [[ -x /usr/bin/time ]] && { ! has_db postgres || command -v psql >/dev/null; }; then
		return
	fi
	apt_install time postgresql-client
}

cleanup() {
	drop_schemas
	rm -rf "$WORK"
}

# settle SCHEMA: the same starting point for every timed run. CHECKPOINT so a
# run does not pay for flushing the previous one's dirty pages. No VACUUM
# ANALYZE: a user uploads a changed file moments after the last one, before
# autovacuum has looked at the users it wrote, and the import must be fast
# with the statistics as they are (with fresh ones, a plan that was
# quadratic on stale ones looked fine here). SETTLE_ANALYZE=1 brings it back.
settle() {
	local analyze=()
	[[ ${SETTLE_ANALYZE:-} == 1 ]] && analyze=(-c 'VACUUM (ANALYZE) users')
	psql -X -q -v ON_ERROR_STOP=1 "$(url_with "$1" psql)" "${analyze[@]}" -c 'CHECKPOINT'
}

# ------------------------------------------------------------- measuring

# pg_seconds: CPU time of the local PostgreSQL: its live processes, plus what
# the postmaster has reaped (cutime/cstime), which covers the backends of
# connections that ended during a run. 0 when PostgreSQL is not local.
pg_seconds() {
	local pm p
	pm=$(pgrep -o -x postgres) || { echo 0; return; }
	for p in $(pgrep -x postgres); do
		cat "/proc/$p/stat" 2>/dev/null || true # it may have just ended
	done | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" '
		{ t += $14 + $15; if ($1 == pm) t += $16 + $17 }
		END { printf "%.2f", t / hz }'
}

# measure LABEL CMD…: runs CMD under /usr/bin/time -v, its output in
# $WORK/LABEL.{out,err}, and sets M_WALL (s), M_RSS (MiB), M_CPU (the
# command's user+sys s), M_PG (PostgreSQL's CPU s meanwhile) and M_OTHER (CPU
# s anything else on the machine took meanwhile: noise when it is not ~0).
measure() {
	local label=$1
	shift
	local busy0 busy1 pg0 pg1 status=0
	wait_quiet
	pg0=$(pg_seconds) busy0=$(busy_seconds) # the probes themselves outside the window
	/usr/bin/time -v -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || status=$?
	busy1=$(busy_seconds) pg1=$(pg_seconds)
	if ((status != 0)); then
		cat "$WORK/$label.out" "$WORK/$label.err" >&2
		die "$label: exit status $status"
	fi
	read -r M_WALL M_RSS M_CPU < <(awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/Maximum resident set size/ { rss = $2 / 1024 }
		/User time|System time/ { cpu += $2 }
		END { printf "%.2f %.1f %.2f\n", w, rss, cpu }' "$WORK/$label.time")
	read -r M_PG M_OTHER < <(awk -v b0="$busy0" -v b1="$busy1" -v p0="$pg0" -v p1="$pg1" -v c="$M_CPU" 'BEGIN {
		pg = p1 - p0; o = b1 - b0 - pg - c
		printf "%.2f %.2f\n", pg, (o < 0 ? 0 : o) }')
	log "$label: ${M_WALL}s, peak RSS ${M_RSS} MiB, CPU: own ${M_CPU}s, PostgreSQL ${M_PG}s, other ${M_OTHER}s"
}

# expect_counts LABEL ROWS CREATED UPDATED UNCHANGED: the rosterd summary
# must say exactly this, with nothing failed, archived or restored.
expect_counts() {
	local label=$1 want got
	want="rows=$2 created=$3 updated=$4 unchanged=$5 archived=0 restored=0 failed=0"
	got=$(awk '$1 ~ /^(rows|created|updated|unchanged|archived|restored|failed)$/ { printf "%s%s=%s", sep, $1, $2; sep = " " }' \
		"$WORK/$label.out")
	if [[ $got != "$want" ]]; then
		cat "$WORK/$label.out" >&2
		die "$label: summary says \"$got\", expected \"$want\""
	fi
}

# ------------------------------------------------------------- the runs

# bench_rosterd SIZE REP FILE CHANGED_FILE: the three imports in a fresh
# schema and organisation, one after the other (each case starts from the last).
bench_rosterd() {
	local n=$1 rep=$2 file=$3 changed=$4 schema="bench_rosterd_$1_$2"
	new_schema "$schema"
	export ROSTERD_DATABASE_URL
	ROSTERD_DATABASE_URL=$(url_with "$schema" rosterd)
	"$ROSTERD" org create bench --name Bench >/dev/null # also applies the migrations

	local c f label
	for c in "${CASES[@]}"; do
		f=$file
		[[ $c == changed ]] && f=$changed
		label="rosterd-$n-$c-$rep"
		settle "$schema"
		measure "$label" "$ROSTERD" import --org bench --mode full --log-level debug "$f"
		case $c in
		empty) expect_counts "$label" "$n" "$n" 0 0 ;;
		resync) expect_counts "$label" "$n" 0 0 "$n" ;;
		changed) expect_counts "$label" "$n" 0 $((n / 100)) $((n - n / 100)) ;;
		esac
		R_WALL[$n:$c:$rep]=$M_WALL R_RSS[$n:$c:$rep]=$M_RSS R_CPU[$n:$c:$rep]=$M_CPU R_PG[$n:$c:$rep]=$M_PG R_OTHER[$n:$c:$rep]=$M_OTHER
	done
	drop_schema "$schema" # a million users and their file take a gigabyte
}

# bench_sqlite SIZE REP FILE CHANGED_FILE: the three rosterd imports on a
# fresh SQLite file (the embedded default), one after the other.
bench_sqlite() {
	local n=$1 rep=$2 file=$3 changed=$4 db="$WORK/sqlite-$1-$2.db"
	ROSTERD_DATABASE_URL=sqlite:$db "$ROSTERD" org create bench --name Bench >/dev/null

	local c f label
	for c in "${CASES[@]}"; do
		f=$file
		[[ $c == changed ]] && f=$changed
		label="rosterd-sqlite-$n-$c-$rep"
		sync # the previous run's pages on disk, as CHECKPOINT does for PostgreSQL
		measure "$label" env ROSTERD_DATABASE_URL="sqlite:$db" "$ROSTERD" import --org bench --mode full --log-level debug "$f"
		case $c in
		empty) expect_counts "$label" "$n" "$n" 0 0 ;;
		resync) expect_counts "$label" "$n" 0 0 "$n" ;;
		changed) expect_counts "$label" "$n" 0 $((n / 100)) $((n - n / 100)) ;;
		esac
		# Here PostgreSQL's CPU is someone else's work: it counts as other.
		S_WALL[$n:$c:$rep]=$M_WALL S_RSS[$n:$c:$rep]=$M_RSS S_CPU[$n:$c:$rep]=$M_CPU
		S_OTHER[$n:$c:$rep]=$(awk -v a="$M_OTHER" -v b="$M_PG" 'BEGIN { printf "%.2f", a + b }')
	done
	rm -f "$db" "$db-wal" "$db-shm"
}

# The baseline loads the columns genroster writes; stop if they change.
GEN_HEADER="external_id;first_name;last_name;country;preferred_language;authentication_type;business_email;business_mobile_phone;manager;default_site;department_en;department_nl;job_title_en"

# merge_sql FILE ORG_ID: the baseline's load, one transaction. It writes what
# rosterd writes for these columns (canonical case, E.164-ish phones, the
# localised fields as JSON, an id_key and a row hash), and like rosterd writes
# no row whose data is unchanged, so a re-sync is compared with a re-sync.
merge_sql() {
	local data="first_name, last_name, country, preferred_language, authentication_type, business_email,
		business_mobile_phone, manager, default_site, department, job_title"
	local set="" c
	for c in ${data//,/ } id_key row_hash updated_at; do
		set+="${set:+, }$c = excluded.$c"
	done
	cat <<-SQL
		BEGIN;
		CREATE TEMP TABLE staging (external_id text, first_name text, last_name text, country text,
			preferred_language text, authentication_type text, business_email text, business_mobile_phone text,
			manager text, default_site text, department_en text, department_nl text, job_title_en text) ON COMMIT DROP;
		\\copy staging FROM '$1' (FORMAT csv, DELIMITER ';', HEADER true)
		INSERT INTO users (org_id, external_id, id_key, $data, status, row_hash, created_at, updated_at)
		SELECT $2, external_id, id_key, $data, 'active',
			md5(concat_ws(chr(31), $data)), now(), now()
		FROM (SELECT s.external_id,
				CASE WHEN s.external_id ~ '^[0-9]+\$' THEN coalesce(nullif(ltrim(s.external_id, '0'), ''), '0')
					ELSE s.external_id END AS id_key,
				s.first_name, s.last_name, upper(s.country) AS country, s.preferred_language,
				coalesce(s.authentication_type, 'username_password') AS authentication_type,
				lower(s.business_email) AS business_email,
				regexp_replace(s.business_mobile_phone, '[^+0-9]', '', 'g') AS business_mobile_phone,
				coalesce(s.manager, '') AS manager, s.default_site,
				jsonb_build_object('en', s.department_en, 'nl', s.department_nl)::text AS department,
				jsonb_build_object('en', s.job_title_en)::text AS job_title
			FROM staging s) v
		ON CONFLICT (org_id, external_id) DO UPDATE SET $set
		WHERE users.row_hash IS DISTINCT FROM excluded.row_hash;
		COMMIT;
	SQL
}

# bench_baseline SIZE REP FILE CHANGED_FILE: the same three loads by
# PostgreSQL alone. rosterd's own migrations make the schema, so the users
# table has the very same columns, foreign key, unique (org_id, external_id)
# and indexes.
bench_baseline() {
	local n=$1 rep=$2 file=$3 changed=$4 schema="bench_base_$1_$2" url org
	new_schema "$schema"
	url=$(url_with "$schema" psql)
	ROSTERD_DATABASE_URL=$(url_with "$schema" rosterd) "$ROSTERD" org create bench --name Bench >/dev/null
	org=$(psql -X -At "$url" -c "SELECT id FROM organisations WHERE slug = 'bench'")

	local c f label want
	for c in "${CASES[@]}"; do
		f=$file want=$n
		case $c in
		resync) want=0 ;;
		changed) f=$changed want=$((n / 100)) ;;
		esac
		label="baseline-$n-$c-$rep"
		merge_sql "$f" "$org" >"$WORK/$label.sql"
		settle "$schema"
		measure "$label" psql -X -v ON_ERROR_STOP=1 "$url" -f "$WORK/$label.sql"
		# The command tag says how many rows the merge wrote.
		grep -qx "INSERT 0 $want" "$WORK/$label.out" ||
			die "$label: the merge wrote $(grep '^INSERT' "$WORK/$label.out"), expected $want rows"
		B_WALL[$n:$c:$rep]=$M_WALL B_PG[$n:$c:$rep]=$M_PG B_OTHER[$n:$c:$rep]=$M_OTHER
	done
	drop_schema "$schema"
}

# pick_fastest SIZE: for each case, keep rosterd's and the baseline's fastest
# repetition under the key "SIZE:CASE".
pick_fastest() {
	local n=$1 c r best
	if has_db sqlite; then
		for c in "${CASES[@]}"; do
			best=1
			for ((r = 2; r <= REPEAT; r++)); do
				le "${S_WALL[$n:$c:$best]}" "${S_WALL[$n:$c:$r]}" || best=$r
			done
			S_REP[$n:$c]=$best S_WALL[$n:$c]=${S_WALL[$n:$c:$best]} S_RSS[$n:$c]=${S_RSS[$n:$c:$best]}
			S_CPU[$n:$c]=${S_CPU[$n:$c:$best]} S_OTHER[$n:$c]=${S_OTHER[$n:$c:$best]}
		done
	fi
	has_db postgres || return 0
	for c in "${CASES[@]}"; do
		best=1
		for ((r = 2; r <= REPEAT; r++)); do
			le "${R_WALL[$n:$c:$best]}" "${R_WALL[$n:$c:$r]}" || best=$r
		done
		R_REP[$n:$c]=$best R_WALL[$n:$c]=${R_WALL[$n:$c:$best]} R_RSS[$n:$c]=${R_RSS[$n:$c:$best]}
		R_CPU[$n:$c]=${R_CPU[$n:$c:$best]} R_PG[$n:$c]=${R_PG[$n:$c:$best]} R_OTHER[$n:$c]=${R_OTHER[$n:$c:$best]}
		best=1
		for ((r = 2; r <= REPEAT; r++)); do
			le "${B_WALL[$n:$c:$best]}" "${B_WALL[$n:$c:$r]}" || best=$r
		done
		B_REP[$n:$c]=$best B_WALL[$n:$c]=${B_WALL[$n:$c:$best]} B_PG[$n:$c]=${B_PG[$n:$c:$best]}
		B_OTHER[$n:$c]=${B_OTHER[$n:$c:$best]}
	done
}

# ------------------------------------------------------------- reporting

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
rps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

results_table() {
	local n c
	echo "| size | case | rosterd s | rows/s | peak RSS MiB | baseline s | rosterd/baseline |"
	echo "|---:|---|---:|---:|---:|---:|---:|"
	for n in $SIZES; do
		for c in "${CASES[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s× |\n' "$n" "${CASE_NAME[$c]}" "${R_WALL[$n:$c]}" \
				"$(rps "$n" "${R_WALL[$n:$c]}")" "${R_RSS[$n:$c]}" "${B_WALL[$n:$c]}" \
				"$(ratio "${R_WALL[$n:$c]}" "${B_WALL[$n:$c]}")"
		done
	done
}

sqlite_table() {
	local n c
	echo "| size | case | rosterd s | rows/s | peak RSS MiB | rosterd CPU s | other CPU s |"
	echo "|---:|---|---:|---:|---:|---:|---:|"
	for n in $SIZES; do
		for c in "${CASES[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "${CASE_NAME[$c]}" "${S_WALL[$n:$c]}" \
				"$(rps "$n" "${S_WALL[$n:$c]}")" "${S_RSS[$n:$c]}" "${S_CPU[$n:$c]}" "${S_OTHER[$n:$c]}"
		done
	done
}

cpu_table() {
	local n c
	echo "| size | case | rosterd wall s | rosterd CPU s | PostgreSQL CPU s | other CPU s | baseline wall s | PostgreSQL CPU s | other CPU s |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
	for n in $SIZES; do
		for c in "${CASES[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "${CASE_NAME[$c]}" "${R_WALL[$n:$c]}" \
				"${R_CPU[$n:$c]}" "${R_PG[$n:$c]}" "${R_OTHER[$n:$c]}" "${B_WALL[$n:$c]}" "${B_PG[$n:$c]}" "${B_OTHER[$n:$c]}"
		done
	done
}

targets() {
	local n c worst
	echo "| target | size | case | measured | verdict |"
	echo "|---|---:|---|---:|---|"
	for n in $SIZES; do
		for c in "${CASES[@]}"; do
			local r
			r=$(ratio "${R_WALL[$n:$c]}" "${B_WALL[$n:$c]}")
			echo "| full pipeline ≤ ${TARGET_RATIO}× baseline | $n | ${CASE_NAME[$c]} | ${r}× | $(verdict le "$r" "$TARGET_RATIO") |"
		done
	done
	for n in $SIZES; do
		local v
		v=$(rps "$n" "${R_WALL[$n:resync]}")
		echo "| identical re-sync ≥ $TARGET_RESYNC_RPS rows/s | $n | ${CASE_NAME[resync]} | $v rows/s | $(verdict le "$TARGET_RESYNC_RPS" "$v") |"
	done
	local measured=0
	for n in $SIZES; do
		((n >= TARGET_RSS_ROWS)) || continue
		measured=1
		worst=0
		for c in "${CASES[@]}"; do
			for ((r = 1; r <= REPEAT; r++)); do
				le "${R_RSS[$n:$c:$r]}" "$worst" || worst=${R_RSS[$n:$c:$r]}
			done
		done
		echo "| peak RSS ≤ $TARGET_RSS_MIB MiB at 1M rows | $n | worst run | $worst MiB | $(verdict le "$worst" "$TARGET_RSS_MIB") |"
	done
	((measured)) || echo "| peak RSS ≤ $TARGET_RSS_MIB MiB at 1M rows | – | – | not measured: no size ≥ $TARGET_RSS_ROWS in SIZES | – |"
}

# dur_seconds: a Go duration as logged (850ms, 1.387s, 1m2.5s) in seconds.
dur_seconds() {
	awk -v d="$1" 'BEGIN {
		s = 0
		while (match(d, /^[0-9.]+(h|ms|µs|us|ns|m|s)/)) {
			tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			match(tok, /[a-zµ]+$/); u = substr(tok, RSTART); v = substr(tok, 1, RSTART - 1) + 0
			s += v * (u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : u == "ms" ? 1e-3 : u == "ns" ? 1e-9 : 1e-6)
		}
		printf "%.3f", s }'
}

# phase_took SIZE CASE PHASE: the duration rosterd logged for one phase in
# the fastest repetition.
phase_took() {
	local n=$1 c=$2 p=$3 f="$WORK/rosterd-$1-$2-${R_REP[$1:$2]}.err"
	[[ ${PHASES_DB:-postgres} == sqlite ]] && f="$WORK/rosterd-sqlite-$n-$c-${S_REP[$n:$c]}.err"
	grep 'msg="import phase"' "$f" |
		sed -n "s/.* phase=\"\{0,1\}$p\"\{0,1\} took=\([^ ]*\).*/\1/p" | head -n 1
}

# phases_table SIZE: where the time of each rosterd run went (on SQLite when
# PHASES_DB=sqlite). The top-level
# phases of importer.Run add up to its processing time; the sub-phases break
# down "cross-row checks and plan"; what is left of the wall time is start-up,
# storing the file (Accept) and the commit.
phases_table() {
	local n=$1 c p
	local top=("read and validate" "cross-row checks and plan" "count and errors CSV" "apply")
	local sub=("id checks" "plan" "e-mail, manager and loop checks")
	printf '| phase |'
	for c in "${CASES[@]}"; do printf ' %s |' "${CASE_NAME[$c]}"; done
	printf '\n|---|'
	for c in "${CASES[@]}"; do printf -- '---:|'; done
	echo
	for p in "${top[@]}"; do
		printf '| %s |' "$p"
		for c in "${CASES[@]}"; do printf ' %s |' "$(dur_seconds "$(phase_took "$n" "$c" "$p")")"; done
		echo
		if [[ $p == "cross-row checks and plan" ]]; then
			local s
			for s in "${sub[@]}"; do
				printf '| &nbsp;&nbsp;↳ %s |' "$s"
				for c in "${CASES[@]}"; do printf ' %s |' "$(dur_seconds "$(phase_took "$n" "$c" "$s")")"; done
				echo
			done
		fi
	done
	printf '| outside the phases (start-up, storing the file, commit) |'
	for c in "${CASES[@]}"; do
		local sum=0
		for p in "${top[@]}"; do
			sum=$(awk -v a="$sum" -v b="$(dur_seconds "$(phase_took "$n" "$c" "$p")")" 'BEGIN { print a + b }')
		done
		printf ' %s |' "$(awk -v w="$(wall "$n" "$c")" -v s="$sum" 'BEGIN { printf "%.3f", w - s }')"
	done
	printf '\n| **wall clock** |'
	for c in "${CASES[@]}"; do printf ' **%s** |' "$(wall "$n" "$c")"; done
	echo
}

# wall SIZE CASE: the wall time of the run phases_table describes.
wall() {
	if [[ ${PHASES_DB:-postgres} == sqlite ]]; then echo "${S_WALL[$1:$2]}"; else echo "${R_WALL[$1:$2]}"; fi
}

write_results() {
	{
		report_head "rosterd import benchmark"
		has_db sqlite && echo "- SQLite: embedded in rosterd ($(go list -m -f '{{.Path}} {{.Version}}' modernc.org/sqlite))"
		echo "- $(go version)"
		echo "- memory (\`free -g\`):"
		echo
		echo '```'
		free -g
		echo '```'
		echo
		echo "## Results"
		echo
		echo "Each case ran $REPEAT time(s); the tables show the fastest run (peak RSS: the worst of all runs)." \
			"The three imports of a size run one right after the other: nothing analyses the users table in" \
			"between (SETTLE_ANALYZE=${SETTLE_ANALYZE:-0}). On a machine shared with other work, figures are noisy:" \
			"see the other CPU columns."
		echo
		if has_db postgres; then pg_results; fi
		if has_db sqlite; then sqlite_results; fi
	} >"$RESULTS"
}

# pg_results: the PostgreSQL part of the report.
pg_results() {
	local largest=0 n
	for n in $SIZES; do ((n > largest)) && largest=$n; done
	echo "### PostgreSQL"
	echo
	echo "rosterd: \`rosterd import --mode full\`, the whole process timed (start-up, storing the file," \
		"validation, planning, apply, commit). Baseline: \`psql\` \`\\copy\` into a temp staging table and one" \
		"\`INSERT … SELECT … ON CONFLICT (org_id, external_id) DO UPDATE … WHERE row_hash IS DISTINCT FROM …\`" \
		"into the same users table (made by rosterd's migrations: same columns, foreign key and indexes), in one" \
		"transaction. The baseline neither validates nor archives users missing from the file."
	echo "Before every timed run: $([[ ${SETTLE_ANALYZE:-} == 1 ]] && echo '`VACUUM (ANALYZE) users` and ')\`CHECKPOINT\`."
	echo
	results_table
	echo
	echo "#### Targets"
	echo
	targets
	echo
	echo "#### CPU"
	echo
	echo "rosterd CPU: the process's user+sys time. PostgreSQL CPU: the server's processes, backends that" \
		"ended included (psql's own few hundredths are left out of the baseline); it would include another" \
		"client's queries run meanwhile. Other: whatever else kept the machine busy meanwhile; well above 0" \
		"means another workload competed with that run and its wall time is pessimistic." \
		"On $(nproc) cores the CPU columns of a run add up to at most $(nproc)× its wall time."
	echo
	cpu_table
	echo
	echo "#### rosterd phases at $largest rows (seconds, from \`--log-level debug\`)"
	echo
	phases_table "$largest"
	echo
}

# sqlite_results: the SQLite part of the report.
sqlite_results() {
	local largest=0 n
	for n in $SIZES; do ((n > largest)) && largest=$n; done
	echo "### SQLite"
	echo
	echo "rosterd: \`rosterd import --mode full\` on a fresh SQLite file, the whole process timed. No baseline yet."
	echo
	sqlite_table
	echo
	echo "#### rosterd phases at $largest rows (seconds, from \`--log-level debug\`)"
	echo
	PHASES_DB=sqlite phases_table "$largest"
}

# ------------------------------------------------------------------ main

main() {
	trap cleanup EXIT
	ensure_tools
	build
	has_db postgres && check_postgres
	has_db postgres || has_db sqlite || die "DATABASES: \"$DATABASES\" names neither postgres nor sqlite"

	local n file changed rep
	check_positive REPEAT
	for n in $SIZES; do
		[[ $n =~ ^[0-9]+$ ]] && ((n >= 100)) || die "SIZES: \"$n\" is not a number of rows ≥ 100"
		log "size $n: generating rosters"
		file=$WORK/roster-$n.csv changed=$WORK/roster-$n-changed.csv
		"$WORK/genroster" -n "$n" >"$file"
		"$WORK/genroster" -n "$n" -change 1 >"$changed"
		[[ $(head -n 1 "$file") == "$GEN_HEADER" ]] ||
			die "genroster's header changed; update the baseline's staging table and merge in import.sh"
		# Alternate the two sides so a disturbance spreads over both.
		for ((rep = 1; rep <= REPEAT; rep++)); do
			if has_db postgres; then
				bench_rosterd "$n" "$rep" "$file" "$changed"
				bench_baseline "$n" "$rep" "$file" "$changed"
			fi
			has_db sqlite && bench_sqlite "$n" "$rep" "$file" "$changed"
		done
		pick_fastest "$n"
		rm -f "$file" "$changed"
	done

	write_results
	echo
	if has_db postgres; then
		results_table
		echo
		targets
		echo
	fi
	if has_db sqlite; then
		echo "SQLite:"
		sqlite_table
		echo
	fi
	echo "Written to $RESULTS (with CPU split and rosterd phase timings)."
}

main "$@"
