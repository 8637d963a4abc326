#!/usr/bin/env bash
# Makes sure PostgreSQL's server programs (initdb, pg_ctl) are installed; installs Debian's package when they
# are missing and we are root. The tests and the sample start their own private cluster with them.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if have_postgres; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "PostgreSQL server programs (initdb) not found. Install them (e.g. 'sudo apt-get install postgresql')," >&2
  echo "or set ORLEANSPGSTORE_TEST_CONNECTION to a PostgreSQL 15+ server's connection string." >&2
  exit 1
fi

echo "== Installing PostgreSQL server programs (apt-get install postgresql)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# Debian's package starts a system cluster; the project never uses it.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] && pg_ctlcluster "$(basename "$(dirname "$cluster")")" main stop 2>/dev/null || true
  done
fi
have_postgres
