#!/usr/bin/env bash
# Stops the throwaway cluster that start-postgres.sh started (same KB_PG_PORT / KB_PG_DIR) and
# deletes its directory. Does nothing if it is not there.
set -euo pipefail

port="${KB_PG_PORT:-55432}"
dir="${KB_PG_DIR:-${TMPDIR:-/tmp}/kb-postgres-${port}}"
data="${dir}/data"

if [[ ! -f "${data}/PG_VERSION" ]]; then
  echo "stop-postgres: no cluster in ${data}" >&2
  exit 0
fi
bin="/usr/lib/postgresql/$(cat "${data}/PG_VERSION")/bin"
if runuser -u postgres -- "${bin}/pg_ctl" status -D "${data}" >/dev/null 2>&1; then
  runuser -u postgres -- "${bin}/pg_ctl" stop -w -m fast -D "${data}" >&2
fi
rm -rf "${dir}"
echo "stop-postgres: stopped and removed ${dir}" >&2
