#!/usr/bin/env bash
# Brings what the test suite needs when it is missing, on a Debian or Ubuntu
# machine: PostgreSQL installed and started with its `test` database (trust
# auth on 127.0.0.1:5432), Chromium (the back-office browser test), the
# OpenSSH sftp client (the SFTP door's tests), LibreOffice Calc (the test
# that opens the CSV downloads in a spreadsheet) and gpg (the PGP tests
# encrypt rosters as an HR system does). `make test` and `.ci/run`
# both call it. Where it cannot install (not root, no apt-get), it says what
# to run and fails.
set -euo pipefail

# A test database elsewhere: nothing to install or start for PostgreSQL.
PG_URL="${ROSTERD_TEST_POSTGRES_URL:-}"

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v sftp >/dev/null || missing+=(openssh-client)
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
command -v gpg >/dev/null || missing+=(gnupg)
if [ -z "$PG_URL" ] && { ! command -v pg_isready >/dev/null || ! ls /etc/postgresql >/dev/null 2>&1; }; then
  missing+=(postgresql)
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null && sudo -n true 2>/dev/null && sudo="sudo -n"
fi
can_install() { command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; }

if [ ${#missing[@]} -gt 0 ]; then
  if ! can_install; then
    echo "test-deps: missing ${missing[*]}, and this script cannot install them (it needs root or password-less sudo, and apt-get). Run:" >&2
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
    echo "then run make test again (or set ROSTERD_TEST_POSTGRES_URL to a PostgreSQL test database)." >&2
    exit 1
  fi
  echo "== test-deps: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

if [ -z "$PG_URL" ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    if ! can_install; then
      echo "test-deps: PostgreSQL is not answering on 127.0.0.1:5432. Start it as root:" >&2
      echo "  sudo pg_ctlcluster --skip-systemctl-redirect \"\$(ls /etc/postgresql | head -n1)\" main start" >&2
      exit 1
    fi
    echo "== test-deps: starting PostgreSQL"
    $sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q
  # A fresh Debian cluster asks for a password on 127.0.0.1 (scram-sha-256):
  # the tests connect as postgres without one, so trust loopback there.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
      echo "test-deps: PostgreSQL on 127.0.0.1:5432 refuses postgres without a password. As root, add" >&2
      echo "  host all all 127.0.0.1/32 trust" >&2
      echo "at the top of its pg_hba.conf (sudo -u postgres psql -Atc 'show hba_file') and reload it." >&2
      exit 1
    fi
    echo "== test-deps: trusting 127.0.0.1 in pg_hba.conf"
    hba=$($sudo su postgres -c "psql -Atc 'show hba_file'")
    $sudo sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    $sudo su postgres -c "psql -Atc 'select pg_reload_conf()'" >/dev/null
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    echo "== test-deps: creating the test database"
    if [ "$(id -u)" -eq 0 ]; then
      su postgres -c "createdb test" || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test'
    elif [ -n "$sudo" ]; then
      $sudo su postgres -c "createdb test"
    elif ! psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null 2>&1; then
      echo "test-deps: no database test on 127.0.0.1:5432 reachable as postgres without a password. Run:" >&2
      echo "  sudo -u postgres createdb test   # and trust auth for 127.0.0.1 in pg_hba.conf" >&2
      exit 1
    fi
  fi
  psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null
fi
