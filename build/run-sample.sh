#!/usr/bin/env bash
# Runs the sample silo (samples/OrleansPgStore.Sample). It uses the PostgreSQL server named in
# silo-config/appsettings.json (Postgres:ConnectionString), in the environment (Postgres__ConnectionString) or on the
# command line (build/run-sample.sh --Postgres:ConnectionString="Host=...;Username=...;Password=..."); when none is
# set it starts a private throw-away server, which needs PostgreSQL's server programs: this script installs them
# when they are missing and it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! bash build/ensure-postgres.sh; then
  echo "(continuing: the sample still runs against a server named in its configuration)" >&2
fi

echo "== Building the sample (the first build restores packages and takes about a minute)"
dotnet build samples/OrleansPgStore.Sample -c Release -nologo -v minimal -clp:NoSummary
echo "== Running the sample"
exec dotnet run --project samples/OrleansPgStore.Sample -c Release --no-build -- "$@"
