#!/usr/bin/env bash
# SFTP benchmark: a ~200 MiB roster put with the OpenSSH `sftp` client
# (batch mode, key login) to the SFTP door of a running `rosterd serve`, on
# SQLite and on PostgreSQL, against the same client putting the same file to
# OpenSSH's own sftp-server: a throwaway sshd this script starts on a
# loopback port, as the current user, with its own host key and config,
# writing into a temporary directory. Both in the same run, one after the
# other, in each of three modes (MODES):
#   default       both sides with their default ciphers: what users get
#                 (the target applies here);
#   aes128-gcm    the client told `-c aes128-gcm@openssh.com` and rosterd
#                 sftp_ciphers aes128-gcm@openssh.com;
#   chacha20      the client told `-c chacha20-poly1305@openssh.com` and
#                 rosterd sftp_ciphers chacha20-poly1305@openssh.com.
# sshd keeps its default ciphers, which offer both; the client's -c makes
# it use the one asked for. The cipher agreed is read from a verbose session
# of each server in each mode and shown in the table.
#
# The put goes to /in/roster.csv.part on rosterd: a temporary name (SPEC
# §5.2), so no sync is started and nothing but the put competes with the
# measurement. A put returns once the client's close is answered; rosterd
# answers the close once the file is stored in the database, so its put
# time includes storing the file.
#
# Measured per database (each server with the same client, key and file):
#   set-up s      connect + key exchange + auth + `ls` of an empty directory
#                 (/in/ of a fresh organisation; an empty temporary directory
#                 on sshd): the wall time of the whole `sftp -b` session,
#                 the best of CONNECT_TRIES (5) sessions in each of REPEAT runs.
#   put s         the wall time of an `sftp -b` session doing the one put,
#                 minus the best set-up time of that server in the same run
#                 (what is left is the transfer and the close).
#   MiB/s         SIZE_MIB / put s. Target, default mode: rosterd ≥ 0.9 × OpenSSH's MiB/s.
#   RSS growth    rosterd's peak VmRSS during the put (sampled every 50 ms
#                 from /proc/PID/status, plus VmHWM reset just before the
#                 put) minus its VmRSS just before the put.
# After each put the file is checked complete: rosterd's by a `get` back in
# a new session (size and sha256 equal to the file's), sshd's on disk.
#
# It prints a Markdown table with PASS/MISS (a measurement: it never fails on
# a MISS, only when a measurement breaks) and writes it to
# scripts/bench/sftp-results.md.
#
# Environment:
#   DATABASES     which to measure, default "sqlite postgres"
#   SIZE_MIB      the file's size in MiB, default 200
#   BENCH_PG_URL  PostgreSQL URL without search_path,
#                 default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   RESULTS       the report to write, default scripts/bench/sftp-results.md
#   REV           build this git revision instead of the working tree (REV=HEAD)
#   QUIET_WAIT    seconds to wait for an idle machine before each timed run, default 120
#   REPEAT        run every measurement this many times and keep the fastest
#                 (RSS: the worst), default 1
#   MODES         which modes to measure, default "default aes128-gcm chacha20"
#   CONNECT_TRIES set-up sessions per server and run, default 5
#
# Needs the OpenSSH client and server (sftp, ssh-keygen, sshd, sftp-server);
# installs openssh-client and openssh-server with apt-get when one is missing.
set -euo pipefail

cd "$(dirname "$0")/../.."   # the repository root: go build paths are relative to it

DATABASES=${DATABASES:-sqlite postgres}
SIZE_MIB=${SIZE_MIB:-200}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
RESULTS=${RESULTS:-scripts/bench/sftp-results.md}
REPEAT=${REPEAT:-1}
CONNECT_TRIES=${CONNECT_TRIES:-5}
MODES=${MODES:-default aes128-gcm chacha20}
BUSY_COLUMN="machine busy column" # where wait_quiet points when it gives up

# Target of the issue: with both sides' default ciphers, rosterd's put
# throughput ≥ 0.9 × OpenSSH's.
TARGET_RATIO=0.9

WORK=$(mktemp -d -t rosterd-sftpbench.XXXXXX)
SCHEMAS=()      # created by this run, dropped on exit
DAEMON=""       # the PID of the running rosterd serve, stopped on exit
SAMPLER=""      # the PID of the RSS sampler loop, stopped on exit
SSHD=""         # the PID of the throwaway sshd, stopped on exit
PRIVSEP_MADE="" # /run/sshd when this run made it (sshd run as root needs it)

# Results per database and mode, keyed "DB.MODE:REP" while running, then
# "DB.MODE" (pick). R_* rosterd, O_* OpenSSH's sftp-server.
declare -A R_PUT R_SETUP R_BUSY R_GROWTH R_BEFORE R_PEAK O_PUT O_SETUP O_BUSY
# The negotiated cipher, from one verbose session of each server: keyed
# "DB.MODE" for rosterd, "MODE" for sshd.
declare -A CIPHER_R CIPHER_O
MODE=default    # the mode being measured
CLIENT_OPTS=()  # the sftp client's options of that mode
ROSTERD_MODE=() # rosterd's environment of that mode

# set_mode MODE: the client's options and rosterd's setting for MODE.
set_mode() {
	MODE=$1
	case $MODE in
	default) CLIENT_OPTS=() ROSTERD_MODE=() ;;
	aes128-gcm) CLIENT_OPTS=(-c aes128-gcm@openssh.com) ROSTERD_MODE=(ROSTERD_SFTP_CIPHERS=aes128-gcm@openssh.com) ;;
	chacha20) CLIENT_OPTS=(-c chacha20-poly1305@openssh.com) ROSTERD_MODE=(ROSTERD_SFTP_CIPHERS=chacha20-poly1305@openssh.com) ;;
	*) die "MODES: unknown mode $MODE (default, aes128-gcm or chacha20)" ;;
	esac
}

# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

# ---------------------------------------------------------------- set-up

# sftp_server_path: OpenSSH's sftp-server binary (Debian: /usr/lib/openssh).
sftp_server_path() {
	local p
	for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server /usr/lib/ssh/sftp-server; do
		[[ -x $p ]] && { echo "$p"; return; }
	done
	return 1
}

sshd_path() {
	local p
	for p in /usr/sbin/sshd /usr/local/sbin/sshd; do
		[[ -x $p ]] && { echo "$p"; return; }
	done
	return 1
}

ensure_tools() {
	local need=()
	{ command -v sftp && command -v ssh-keygen; } >/dev/null || need+=(openssh-client)
	{ sshd_path && sftp_server_path; } >/dev/null || need+=(openssh-server)
	command -v sha256sum >/dev/null || need+=(coreutils)
	has_db postgres && ! command -v psql >/dev/null && need+=(postgresql-client)
	((${#need[@]} == 0)) && return
	apt_install "${need[@]}" # does not start the package's own sshd
	{ sshd_path && sftp_server_path && command -v sftp; } >/dev/null || die "OpenSSH is still missing after installing ${need[*]}"
}

# stop_sshd: SIGTERM the throwaway sshd and wait for it.
stop_sshd() { stop_pid SSHD; }

cleanup() {
	stop_sampler
	stop_daemon
	stop_sshd
	drop_schemas
	[[ -n $PRIVSEP_MADE ]] && rmdir "$PRIVSEP_MADE" 2>/dev/null
	rm -rf "$WORK"
}

# make_client_key: the one key both servers let the client in with.
make_client_key() {
	ssh-keygen -q -t ed25519 -N '' -C rosterd-sftp-bench -f "$WORK/id_ed25519"
	KEY=$WORK/id_ed25519
}

# start_sshd: OpenSSH's sshd on a free loopback port, in the foreground (so
# it is this script's child), with its own host key and config; only key
# login, the current user, sftp-server as the sftp subsystem. Sets SSHD and
# SSHD_PORT once it logs that it listens.
start_sshd() {
	local dir=$WORK/sshd sshd server try port
	sshd=$(sshd_path) server=$(sftp_server_path)
	mkdir -p "$dir" "$WORK/sshd-in" "$WORK/sshd-empty"
	ssh-keygen -q -t ed25519 -N '' -C rosterd-sftp-bench-host -f "$dir/host_ed25519"
	cp "$KEY.pub" "$dir/authorized_keys"
	# sshd run as root separates privileges into a chroot of /run/sshd,
	# which only the package's service makes; as another user it needs none.
	if [[ $(id -u) == 0 && ! -d /run/sshd ]]; then
		mkdir -m 0755 /run/sshd
		PRIVSEP_MADE=/run/sshd
	fi
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		cat >"$dir/sshd_config" <<-EOF
			Port $port
			ListenAddress 127.0.0.1
			HostKey $dir/host_ed25519
			AuthorizedKeysFile $dir/authorized_keys
			PidFile $dir/sshd.pid
			Subsystem sftp $server
			StrictModes no
			UsePAM no
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			AllowUsers $(id -un)
			X11Forwarding no
			PrintMotd no
		EOF
		"$sshd" -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
		SSHD=$!
		local deadline=$((SECONDS + 20))
		while ! grep -q "Server listening on 127.0.0.1 port $port" "$dir/sshd.log"; do
			if ! kill -0 "$SSHD" 2>/dev/null; then
				wait "$SSHD" 2>/dev/null || true
				SSHD=""
				break
			fi
			((SECONDS < deadline)) || { cat "$dir/sshd.log" >&2; die "sshd not listening within 20s"; }
			sleep 0.1
		done
		if [[ -n $SSHD ]]; then
			SSHD_PORT=$port
			log "sshd (OpenSSH $(ssh -V 2>&1 | cut -d, -f1), $server) listening on 127.0.0.1:$port"
			return
		fi
		grep -q 'Cannot bind\|Address already in use' "$dir/sshd.log" || { cat "$dir/sshd.log" >&2; die "sshd exited at start"; }
	done
	cat "$dir/sshd.log" >&2
	die "sshd found no free port in 10 tries"
}

# sftp_batch PORT USER BATCHFILE [EXTRA…]: the OpenSSH client in batch mode,
# key login only, no user or system ssh_config, host keys not remembered.
sftp_batch() {
	local port=$1 user=$2 batch=$3
	shift 3
	sftp -F /dev/null -b "$batch" -P "$port" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "${CLIENT_OPTS[@]}" "$@" "$user@127.0.0.1"
}

# cipher_of PORT USER DIR: the cipher the client and server agreed on.
cipher_of() {
	printf 'ls %s\n' "$3" >"$WORK/batch-cipher"
	sftp_batch "$1" "$2" "$WORK/batch-cipher" -v 2>&1 >/dev/null |
		sed -n 's/.*kex: client->server cipher: \([^ ]*\) MAC: \([^ ]*\).*/\1 (MAC \2)/p' | head -n 1
}

# ------------------------------------------------------------- measuring

# elapsed T0 T1: the seconds between two now()s, 3 decimals (timed's T_WALL too).
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# best_setup LABEL PORT USER DIR: CONNECT_TRIES sessions that only list the
# empty DIR, after one wait for a quiet machine; sets T_SETUP to the best.
best_setup() {
	local label=$1 port=$2 user=$3 dir=$4 i best=""
	printf 'ls %s\n' "$dir" >"$WORK/batch-ls"
	wait_quiet
	for ((i = 1; i <= CONNECT_TRIES; i++)); do
		timed "$label-$i" sftp_batch "$port" "$user" "$WORK/batch-ls"
		grep -q . "$WORK/$label-$i.out" || die "$label: no output from ls $dir"
		# Batch mode echoes the command; anything more is a listing.
		[[ -z $(grep -v '^sftp> ' "$WORK/$label-$i.out" || true) ]] || die "$label: $dir is not empty: $(cat "$WORK/$label-$i.out")"
		if [[ -z $best ]] || ! le "$best" "$T_WALL"; then best=$T_WALL; fi
	done
	T_SETUP=$best
}

# check_file PATH WHAT: PATH holds exactly the benchmark file.
check_file() {
	local size sha
	size=$(stat -c %s "$1")
	((size == FILE_BYTES)) || die "$2: $size bytes, expected $FILE_BYTES"
	sha=$(sha256sum "$1" | cut -d' ' -f1)
	[[ $sha == "$FILE_SHA" ]] || die "$2: sha256 $sha, expected $FILE_SHA"
}

# bench_rosterd DB REP ENV…: a fresh organisation with an SFTP login by the
# bench key, one daemon, the set-up sessions, one timed put, and the file
# fetched back and compared.
bench_rosterd() {
	local db=$1 rep=$2 key=$1.$MODE:$2
	shift 2
	env "$@" "$ROSTERD" org create bench --name Bench >/dev/null
	env "$@" "$ROSTERD" sftp-account add --org bench --user bench --authorized-key "$KEY.pub" >/dev/null </dev/null
	start_daemon "$db" "$@"
	ready_addr "$db" sftp
	SFTP_PORT=${READY_ADDR##*:}
	[[ -n ${CIPHER_R[$db.$MODE]:-} ]] || CIPHER_R[$db.$MODE]=$(cipher_of "$SFTP_PORT" bench /in)

	best_setup "rosterd-setup-$db-$MODE-$rep" "$SFTP_PORT" bench /in
	R_SETUP[$key]=$T_SETUP

	printf 'put %s /in/roster.csv.part\n' "$FILE" >"$WORK/batch-put-rosterd"
	wait_quiet
	rss_start "$WORK/rss-$key" # VmHWM is then the peak of the put
	timed "rosterd-put-$db-$MODE-$rep" sftp_batch "$SFTP_PORT" bench "$WORK/batch-put-rosterd"
	rss_stop "$WORK/rss-$key"
	R_PUT[$key]=$(awk -v w="$T_WALL" -v s="${R_SETUP[$key]}" 'BEGIN { printf "%.2f", w - s }')
	R_BUSY[$key]=$T_BUSY

	# Stored complete: fetched back in a new session, and listed with its size.
	printf 'ls -l /in\nget /in/roster.csv.part %s\n' "$WORK/got.csv" >"$WORK/batch-get"
	sftp_batch "$SFTP_PORT" bench "$WORK/batch-get" >"$WORK/get-$key.out" 2>&1 ||
		{ cat "$WORK/get-$key.out" >&2; die "$db: could not get the file back"; }
	grep -Eq "[[:space:]]$FILE_BYTES[[:space:]].*roster\.csv\.part\$" "$WORK/get-$key.out" ||
		die "$db: ls -l /in does not list roster.csv.part with $FILE_BYTES bytes: $(cat "$WORK/get-$key.out")"
	check_file "$WORK/got.csv" "$db: the file got back from rosterd"
	rm -f "$WORK/got.csv"
	stop_daemon

	R_BEFORE[$key]=$RSS_BEFORE_MIB R_PEAK[$key]=$RSS_PEAK_MIB R_GROWTH[$key]=$RSS_GROWTH_MIB
	log "$db $MODE rosterd (${CIPHER_R[$db.$MODE]}): set-up ${R_SETUP[$key]}s, put ${R_PUT[$key]}s ($(mibs "${R_PUT[$key]}") MiB/s)," \
		"RSS ${R_BEFORE[$key]} → ${R_PEAK[$key]} MiB ($(wc -l <"$WORK/rss-$key") samples)"
}

# bench_openssh DB REP: the same against sshd's sftp-server, into a
# temporary directory; the file is checked on disk and removed.
bench_openssh() {
	local db=$1 rep=$2 key=$1.$MODE:$2 user
	user=$(id -un)
	[[ -n ${CIPHER_O[$MODE]:-} ]] || CIPHER_O[$MODE]=$(cipher_of "$SSHD_PORT" "$user" "$WORK/sshd-empty")
	best_setup "openssh-setup-$db-$MODE-$rep" "$SSHD_PORT" "$user" "$WORK/sshd-empty"
	O_SETUP[$key]=$T_SETUP

	printf 'put %s %s\n' "$FILE" "$WORK/sshd-in/roster.csv.part" >"$WORK/batch-put-openssh"
	wait_quiet
	timed "openssh-put-$db-$MODE-$rep" sftp_batch "$SSHD_PORT" "$user" "$WORK/batch-put-openssh"
	O_PUT[$key]=$(awk -v w="$T_WALL" -v s="${O_SETUP[$key]}" 'BEGIN { printf "%.2f", w - s }')
	O_BUSY[$key]=$T_BUSY
	check_file "$WORK/sshd-in/roster.csv.part" "$db: the file sftp-server wrote"
	rm -f "$WORK/sshd-in/roster.csv.part"
	log "$db $MODE OpenSSH (${CIPHER_O[$MODE]}): set-up ${O_SETUP[$key]}s, put ${O_PUT[$key]}s ($(mibs "${O_PUT[$key]}") MiB/s)"
}

run_db() {
	local db=$1 rep=$2
	case $db in
	sqlite)
		rm -rf "$WORK/data-sqlite"
		bench_rosterd sqlite "$rep" ROSTERD_DATA_DIR="$WORK/data-sqlite" ROSTERD_DATABASE_URL= "${ROSTERD_MODE[@]}"
		rm -rf "$WORK/data-sqlite"
		;;
	postgres)
		local schema="bench_sftp_${MODE//-/_}_$rep"
		new_schema "$schema"
		rm -rf "$WORK/data-postgres"
		bench_rosterd postgres "$rep" ROSTERD_DATA_DIR="$WORK/data-postgres" \
			ROSTERD_DATABASE_URL="$(url_with "$schema" rosterd)" "${ROSTERD_MODE[@]}"
		drop_schema "$schema"
		;;
	esac
	bench_openssh "$db" "$rep"
}

# pick DB.MODE: the fastest put and set-up of each server; the worst RSS growth.
pick() {
	local db=$1 r rp=1 rs=1 op=1 os=1 worst=1
	for ((r = 2; r <= REPEAT; r++)); do
		le "${R_PUT[$db:$rp]}" "${R_PUT[$db:$r]}" || rp=$r
		le "${R_SETUP[$db:$rs]}" "${R_SETUP[$db:$r]}" || rs=$r
		le "${O_PUT[$db:$op]}" "${O_PUT[$db:$r]}" || op=$r
		le "${O_SETUP[$db:$os]}" "${O_SETUP[$db:$r]}" || os=$r
		le "${R_GROWTH[$db:$r]}" "${R_GROWTH[$db:$worst]}" || worst=$r
	done
	R_PUT[$db]=${R_PUT[$db:$rp]} R_BUSY[$db]=${R_BUSY[$db:$rp]} R_SETUP[$db]=${R_SETUP[$db:$rs]}
	O_PUT[$db]=${O_PUT[$db:$op]} O_BUSY[$db]=${O_BUSY[$db:$op]} O_SETUP[$db]=${O_SETUP[$db:$os]}
	R_GROWTH[$db]=${R_GROWTH[$db:$worst]} R_BEFORE[$db]=${R_BEFORE[$db:$worst]} R_PEAK[$db]=${R_PEAK[$db:$worst]}
}

# ------------------------------------------------------------- reporting

ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
# throughput_ratio R O: throughput ratio rosterd / OpenSSH = OpenSSH's put
# time O / rosterd's R.
throughput_ratio() { awk -v r="$1" -v o="$2" 'BEGIN { printf "%.2f", (r > 0 ? o / r : 0) }'; }

results_table() {
	local db mode id r
	echo "| database | mode | cipher rosterd / OpenSSH | rosterd put s | rosterd MiB/s | OpenSSH put s | OpenSSH MiB/s | rosterd/OpenSSH throughput (default: ≥ ${TARGET_RATIO}×) | set-up ms rosterd / OpenSSH | rosterd RSS before → peak MiB | RSS growth MiB | machine busy % put rosterd / OpenSSH |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for db in $DATABASES; do
		for mode in $MODES; do
			id=$db.$mode
			r=$(throughput_ratio "${R_PUT[$id]}" "${O_PUT[$id]}")
			printf '| %s | %s | %s / %s | %s | %s | %s | %s | %s× %s | %s / %s | %s → %s | %s | %s / %s |\n' "$db" "$mode" \
				"${CIPHER_R[$id]:-?}" "${CIPHER_O[$mode]:-?}" \
				"${R_PUT[$id]}" "$(mibs "${R_PUT[$id]}")" "${O_PUT[$id]}" "$(mibs "${O_PUT[$id]}")" \
				"$r" "$(if [[ $mode == default ]]; then verdict le "$TARGET_RATIO" "$r"; fi)" \
				"$(ms "${R_SETUP[$id]}")" "$(ms "${O_SETUP[$id]}")" \
				"${R_BEFORE[$id]}" "${R_PEAK[$id]}" "${R_GROWTH[$id]}" \
				"${R_BUSY[$id]}" "${O_BUSY[$id]}"
		done
	done
}

write_results() {
	{
		report_head "rosterd SFTP benchmark"
		has_db sqlite && echo "- SQLite: embedded in rosterd ($(go list -m -f '{{.Path}} {{.Version}}' modernc.org/sqlite))"
		echo "- $(go version); SFTP in rosterd: $(go list -m -f '{{.Path}} {{.Version}}' github.com/pkg/sftp), $(go list -m -f '{{.Path}} {{.Version}}' golang.org/x/crypto)"
		echo "- Client and reference server: $(ssh -V 2>&1); sftp-server $(sftp_server_path)"
		echo
		echo "## Results"
		echo
		echo "A ${SIZE_MIB} MiB roster ($FILE_BYTES bytes) put with the OpenSSH \`sftp\` client in batch mode" \
			"(key login, ed25519) to the SFTP door of \`rosterd serve\` (as /in/roster.csv.part, a temporary" \
			"name, so no sync starts) and to OpenSSH's own sftp-server behind a throwaway sshd on loopback" \
			"(into a temporary directory), one after the other, in each mode: \`default\` (both sides' default" \
			"ciphers, what users get; the target applies), \`aes128-gcm\` and \`chacha20\` (the client's \`-c\` and" \
			"rosterd's \`sftp_ciphers\` set to that cipher; sshd's defaults offer both). The cipher column says" \
			"what each pair agreed (MAC in brackets). rosterd answers the client's close once the" \
			"file is stored in the database, so its put includes storing it; sftp-server's put ends in the" \
			"page cache. Put s: the \`sftp -b\` session minus that server's best set-up time of the same run." \
			"Set-up: connect, key exchange, key login and \`ls\` of an empty directory, the best of" \
			"$CONNECT_TRIES sessions a run. Each measurement ran $REPEAT time(s); the table shows the fastest" \
			"put and set-up and the worst RSS growth. Every put was checked: rosterd's file fetched back with" \
			"\`get\` (size and sha256), sftp-server's on disk. Machine busy: the CPU of all processes during the" \
			"put, in % of all $(nproc) cores (client, server and database included)."
		echo
		results_table
		echo
		echo "RSS: rosterd's VmRSS just before the put; peak = the highest of 50 ms VmRSS samples and VmHWM" \
			"(reset before the put). The OpenSSH column is measured next to each database's rosterd put; it" \
			"does not depend on the database."
	} >"$RESULTS"
}

# ------------------------------------------------------------------ main

main() {
	trap cleanup EXIT
	trap_errors
	check_positive REPEAT
	check_positive CONNECT_TRIES
	check_positive SIZE_MIB
	check_databases
	ensure_tools
	build
	has_db postgres && check_postgres
	make_client_key
	start_sshd
	make_roster

	local rep db mode
	for ((rep = 1; rep <= REPEAT; rep++)); do
		for mode in $MODES; do
			set_mode "$mode"
			for db in $DATABASES; do
				run_db "$db" "$rep"
			done
		done
	done
	for mode in $MODES; do
		for db in $DATABASES; do
			pick "$db.$mode"
		done
	done
	write_results
	echo
	results_table
	echo
	echo "Written to $RESULTS."
}

main "$@"
