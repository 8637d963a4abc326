#!/usr/bin/env bash
# Builds every project and runs every test project against a real PostgreSQL (a private throw-away cluster the
# tests start themselves, or the server in ORLEANSPGSTORE_TEST_CONNECTION).
#
# Projects that need the Orleans 10.2.2 packages are skipped -- loudly -- when those packages cannot be restored
# on this machine (the package feed here lacks them); any other failure fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."

bash build/ensure-postgres.sh || exit 1

mapfile -t projects < <(find src tests samples -name '*.csproj' 2>/dev/null | sort)
skipped=()
buildable=()
log=$(mktemp -d)

# True when the project, or a project it references (transitively), uses a Microsoft.Orleans.* package.
needs_orleans() {
  local project=$1 dir ref
  grep -q 'PackageReference Include="Microsoft\.Orleans\.' "$project" && return 0
  dir=$(dirname "$project")
  while read -r ref; do
    [ -n "$ref" ] && needs_orleans "$(realpath -m "$dir/$ref")" && return 0
  done < <(grep -oE 'ProjectReference Include="[^"]+"' "$project" | sed -E 's/.*Include="([^"]+)"/\1/' | tr '\\' '/')
  return 1
}

for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  if dotnet restore "$project" >"$log/$name.restore" 2>&1; then
    buildable+=("$project")
  elif needs_orleans "$project" && grep -qE "error NU110[0-9]: .*Microsoft\.Orleans\." "$log/$name.restore"; then
    # The Orleans packages are not in the package feed. Their absence also drags in errors about packages only
    # they depend on, so those do not count; projects that do not use Orleans are never skipped.
    missing=$(grep -oE "Unable to find package Microsoft\.Orleans(\.[A-Za-z]+)+" "$log/$name.restore" \
      | sed 's/Unable to find package //' | sort -u | paste -sd, - | sed 's/,/, /g')
    code=$(grep -oE "error NU110[0-9]" "$log/$name.restore" | head -1 | sed 's/error //')
    skipped+=("$name: $code, missing $missing")
  else
    echo "!! restore of $project failed:"; cat "$log/$name.restore"; exit 1
  fi
done

banner() {
  if [ ${#skipped[@]} -gt 0 ]; then
    echo
    echo "################################################################################"
    echo "##  SKIPPED ${#skipped[@]} PROJECT(S): the Orleans 10.2.2 packages cannot be restored here."
    for s in "${skipped[@]}"; do echo "##    - $s"; done
    echo "##  To build and test them, add a NuGet source holding Microsoft.Orleans.* 10.2.2"
    echo "##  (see README.md, 'Orleans packages')."
    echo "################################################################################"
    echo
  fi
}
banner

for project in "${buildable[@]}"; do
  if ! dotnet build "$project" --no-restore -c Release -v quiet -nologo >"$log/build.out" 2>&1; then
    echo "!! build of $project failed:"; cat "$log/build.out"; exit 1
  fi
done

passed=0; failed=0; status=0
for project in "${buildable[@]}"; do
  case "$project" in *.Tests.csproj) ;; *) continue ;; esac
  echo "== dotnet test $project"
  dotnet test "$project" --no-build -c Release 2>&1 | tee "$log/test.out"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  while read -r f p; do passed=$((passed + p)); failed=$((failed + f)); done < <(
    sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+).*/\1 \2/p' "$log/test.out")
done

banner
rm -rf "$log"
echo "$passed passed, $failed failed"
exit $status
