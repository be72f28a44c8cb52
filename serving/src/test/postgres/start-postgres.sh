#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the serving store's integration tests and prints the
# settings for them, so CI can do:
#
#   eval "$(serving/src/test/postgres/start-postgres.sh)"
#   mvn -B -pl serving verify
#
# Runs as root on Debian 12. Installs the `postgresql` Debian package if no server binaries are
# present, creates a cluster under a temp directory (not the package's 5432 "main" cluster),
# starts it on 127.0.0.1:$KB_PG_PORT as the postgres OS user, and creates role kb (password kb)
# and database kb. Idempotent: when the cluster is already running it only prints the settings.
# The cluster runs without fsync (faster tests; its data is thrown away), so it is no place for
# data that must survive a crash.
# Only the three `export` lines go to stdout; progress goes to stderr.
# Stop it with stop-postgres.sh (same KB_PG_PORT / KB_PG_DIR).
#
# Environment: KB_PG_PORT (default 55432), KB_PG_DIR (default ${TMPDIR:-/tmp}/kb-postgres-$port).
set -euo pipefail

port="${KB_PG_PORT:-55432}"
dir="${KB_PG_DIR:-${TMPDIR:-/tmp}/kb-postgres-${port}}"
data="${dir}/data"

log() { echo "start-postgres: $*" >&2; }

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (it installs packages and runs the server as the postgres user)"
  exit 1
fi

find_bin() {
  # Debian installs one directory per major version; take the newest.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bin="$(find_bin)"
if [[ -z "${bin}" || ! -x "${bin}/initdb" ]]; then
  log "installing postgresql from Debian packages"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  bin="$(find_bin)"
fi
if [[ -z "${bin}" || ! -x "${bin}/initdb" ]]; then
  log "no initdb under /usr/lib/postgresql/*/bin after installing postgresql"
  exit 1
fi

as_postgres() { runuser -u postgres -- "$@"; }

if ! as_postgres "${bin}/pg_ctl" status -D "${data}" >/dev/null 2>&1; then
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    log "port ${port} is in use by another process; set KB_PG_PORT to a free port"
    exit 1
  fi
  mkdir -p "${dir}"
  chown postgres:postgres "${dir}"
  chmod 700 "${dir}"
  if [[ ! -f "${data}/PG_VERSION" ]]; then
    log "initialising a cluster in ${data}"
    # Local socket: trust (for this setup only); TCP: password (scram-sha-256), as in production.
    as_postgres "${bin}/initdb" -D "${data}" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >&2
  fi
  log "starting the server on 127.0.0.1:${port}"
  as_postgres "${bin}/pg_ctl" start -w -t 60 -D "${data}" -l "${dir}/server.log" \
    -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2
fi

psql_admin() { as_postgres "${bin}/psql" -h "${dir}" -p "${port}" -U postgres -v ON_ERROR_STOP=1 -qtAX "$@"; }

if [[ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'kb'")" != "1" ]]; then
  log "creating role kb"
  psql_admin -d postgres -c "CREATE ROLE kb LOGIN PASSWORD 'kb'"
fi
if [[ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'kb'")" != "1" ]]; then
  log "creating database kb"
  psql_admin -d postgres -c "CREATE DATABASE kb OWNER kb ENCODING 'UTF8'"
fi

echo "export KB_TEST_PG_URL='jdbc:postgresql://127.0.0.1:${port}/kb'"
echo "export KB_TEST_PG_USER='kb'"
echo "export KB_TEST_PG_PASSWORD='kb'"
