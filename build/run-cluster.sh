#!/usr/bin/env bash
# Runs the sample as a cluster on PostgreSQL alone: N silo processes (default 3) of samples/OrleansPgStore.Sample, each
# wired with UseOrleansPgStore (membership, reminders, journal, state, projection in one database) on loopback ports of
# its own, and a client that finds them through the membership table. It runs a workload, kills one silo with SIGKILL,
# shows the survivors take over, prints what happened and stops everything. Server: as build/run-sample.sh (a private
# throw-away PostgreSQL unless one is configured); further arguments go to the sample, e.g.
#   build/run-cluster.sh 3 --Postgres:ConnectionString="Host=...;Username=...;Password=..."
set -euo pipefail
cd "$(dirname "$0")/.."

silos=3
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  silos=$1
  shift
fi

if ! bash build/ensure-postgres.sh; then
  echo "(continuing: the sample still runs against a server named in its configuration)" >&2
fi

echo "== Building the sample (the first build restores packages and takes about a minute)"
dotnet build samples/OrleansPgStore.Sample -c Release -nologo -v minimal -clp:NoSummary
echo "== Running the sample as a cluster of $silos silo processes"
exec dotnet run --project samples/OrleansPgStore.Sample -c Release --no-build -- --cluster-silos="$silos" "$@"
