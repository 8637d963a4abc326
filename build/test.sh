#!/usr/bin/env bash
# Builds and runs every test project against a real PostgreSQL (the server in ORLEANSPGSTORE_TEST_CONNECTION, a
# Docker container with ORLEANSPGSTORE_TEST_DOCKER=1, or else a private throw-away cluster the tests start).
#
# Order: the engine's tests, then the plugin's, then any other test project; then the sample, benchmarks and tools
# are built; then the package smoke test (build/package-smoke.sh) packs src/ and runs the README's Quickstart and
# grain test against the packages. A project that fails to restore or build is reported and fails the run, but never hides the results of
# the projects before it. Every `dotnet test` is bounded: a test that hangs fails the run with its name.
# A skipped test fails the run too. The last line is always "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

hang_timeout=${ORLEANSPGSTORE_TEST_HANG_TIMEOUT:-10m}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

bash build/ensure-postgres.sh || { echo "0 passed, 0 failed (PostgreSQL's server programs are missing)"; exit 1; }

if [ -n "${ORLEANSPGSTORE_TEST_CONNECTION:-}" ]; then
  echo "== Test server: the server in ORLEANSPGSTORE_TEST_CONNECTION"
elif [ "${ORLEANSPGSTORE_TEST_DOCKER:-}" = 1 ]; then
  echo "== Test server: a Docker container per test process (ORLEANSPGSTORE_TEST_DOCKER=1)"
else
  echo "== Test server: a private throw-away PostgreSQL cluster per test process"
fi

mapfile -t all_projects < <(find src tests samples -name '*.csproj' -not -path '*/obj/*' -not -path '*/bin/*' | sort)
test_projects=(tests/OrleansPgStore.Store.Tests/OrleansPgStore.Store.Tests.csproj tests/OrleansPgStore.Tests/OrleansPgStore.Tests.csproj)
for project in "${all_projects[@]}"; do
  case "$project" in
    */OrleansPgStore.Store.Tests.csproj|*/OrleansPgStore.Tests.csproj) ;;
    *.Tests.csproj) test_projects+=("$project") ;;
  esac
done

passed=0; failed=0; skipped=0; problems=()

# Restores and builds one project; on failure prints why (a package that does not restore is named) and returns 1.
build() {
  local project=$1 name
  name=$(basename "$project" .csproj)
  if ! dotnet restore "$project" >"$log/$name.restore" 2>&1; then
    echo "!! restore of $project failed:"
    grep -E "error NU[0-9]+" "$log/$name.restore" | sed -E 's/^[^:]*: //; s/ \[.*$//' | sort -u | sed 's/^/   /'
    problems+=("restore of $name failed")
    return 1
  fi
  if ! dotnet build "$project" --no-restore -c Release -v quiet -nologo >"$log/$name.build" 2>&1; then
    echo "!! build of $project failed:"
    grep -E "(error|warning) [A-Z]+[0-9]+" "$log/$name.build" | sed -E 's/ \[[^]]*\]$//' | sort -u | sed 's/^/   /'
    problems+=("build of $name failed")
    return 1
  fi
}

for project in "${test_projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "== $name: build"
  build "$project" || continue
  echo "== $name: test (hang timeout $hang_timeout)"
  dotnet test "$project" --no-build -c Release --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none \
    2>&1 | tee "$log/$name.test"
  test_status=${PIPESTATUS[0]}
  summary=$(sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+), Skipped:[[:space:]]*([0-9]+).*/\1 \2 \3/p' "$log/$name.test" | tail -1)
  if [ -z "$summary" ]; then
    # No summary: the run crashed or was aborted by the hang timeout (its output above names the test).
    echo "!! $name ended without a test summary (exit code $test_status)"
    problems+=("$name ended without a summary (crash or hang)")
    failed=$((failed + 1))
    continue
  fi
  read -r f p s <<<"$summary"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$s" = 0 ] || problems+=("$name skipped $s test(s)")
  [ "$test_status" = 0 ] || [ "$f" != 0 ] || problems+=("$name: dotnet test exited with $test_status")
done

# The sample, benchmarks and tools (libraries built above for the tests only take an up-to-date check).
for project in "${all_projects[@]}"; do
  case "$project" in *.Tests.csproj) continue ;; esac
  echo "== $(basename "$project" .csproj): build"
  build "$project"
done

# The packages as a user gets them: packed, installed and consumed by the README's Quickstart and grain test.
bash build/package-smoke.sh 2>&1 | tee "$log/package-smoke"
summary=$(sed -nE 's/^package smoke: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log/package-smoke" | tail -1)
if [ -n "$summary" ]; then
  read -r p f <<<"$summary"
  passed=$((passed + p)); failed=$((failed + f))
else
  problems+=("the package smoke test ended without a summary")
fi

echo
if [ ${#problems[@]} -gt 0 ]; then
  echo "Problems:"
  printf '  - %s\n' "${problems[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ ${#problems[@]} = 0 ]
