#!/usr/bin/env bash
# Uses the packages as a new user would: packs every src/ project into a temporary folder, checks each package's
# metadata, installs the admin tool from it, and builds two new projects outside this repository that consume the
# packages by PackageReference only — the README's Quickstart console silo and its grain test — from the code blocks
# README.md marks with "<!-- package-smoke: FILE -->", so README and packages cannot drift apart. The silo and the test
# run against the server in ORLEANSPGSTORE_TEST_CONNECTION, or a private throw-away cluster this script starts.
# Last line: "package smoke: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

work=$(mktemp -d)
chmod 755 "$work"
pg_data=""
version="0.9.0-smoke.$(date -u +%Y%m%d%H%M%S).$$"
passed=0
failed=0

cleanup() {
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_postgres pg_ctl -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  # The packages of this run only, so the package cache never serves a stale build of them to a later run.
  local cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
  rm -rf "$cache"/orleanspgstore*/"$version" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "   ok: $1"; passed=$((passed + 1)); }
fail() { echo "!! package smoke: $1"; failed=$((failed + 1)); }

as_postgres() {
  local program=$1
  shift
  local bin
  bin=$(command -v "$program" || ls /usr/lib/postgresql/*/bin/"$program" 2>/dev/null | sort -V | tail -1)
  # From / : the postgres user may not enter the caller's folder.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$bin" "$@"); else "$bin" "$@"; fi
}

start_private_server() {
  pg_data="$work/pg"
  mkdir -p "$pg_data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pg_data"
  as_postgres initdb -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale -N >/dev/null || return 1
  local port
  for _ in 1 2 3; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_postgres pg_ctl -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -p $port" start >/dev/null; then
      ORLEANSPGSTORE_TEST_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
      return 0
    fi
  done
  return 1
}

# The code block that follows "<!-- package-smoke: NAME -->" in README.md.
readme_block() {
  awk -v name="$1" '
    $0 == "<!-- package-smoke: " name " -->" { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' README.md
}

echo "== Package smoke test (packages $version)"

feed="$work/feed"
for project in src/*/*.csproj; do
  name=$(basename "$project" .csproj)
  if ! dotnet pack "$project" -c Release -o "$feed" -nologo -v quiet -p:VersionSuffix= -p:Version="$version" >"$work/$name.pack" 2>&1; then
    fail "dotnet pack $name failed:"; grep -E "error" "$work/$name.pack" | sort -u | head -5
    continue
  fi
  if grep -qE "warning [A-Z]+[0-9]+" "$work/$name.pack"; then
    fail "dotnet pack $name warned:"; grep -E "warning [A-Z]+[0-9]+" "$work/$name.pack" | sort -u | head -5
    continue
  fi
done

for package in "$feed"/*.nupkg; do
  [ -e "$package" ] || { fail "no package was built"; break; }
  id=$(basename "$package" ".$version.nupkg")
  nuspec=$(unzip -p "$package" '*.nuspec')
  missing=()
  grep -q "<license type=\"expression\">" <<<"$nuspec" || missing+=(license)
  grep -q "<repository type=\"git\" url=\"https://" <<<"$nuspec" || missing+=("repository url")
  grep -q "<readme>README.md</readme>" <<<"$nuspec" || missing+=("readme")
  grep -q "<authors>OrleansPgStore contributors</authors>" <<<"$nuspec" || missing+=(authors)
  grep -q "<tags>" <<<"$nuspec" || missing+=(tags)
  unzip -l "$package" README.md >/dev/null 2>&1 || missing+=("README.md file")
  [ -e "${package%.nupkg}.snupkg" ] || missing+=("symbol package")
  if [ ${#missing[@]} = 0 ]; then pass "$id: metadata, README and symbols"; else fail "$id lacks: ${missing[*]}"; fi
done

# The admin tool installs under its own id and runs.
if dotnet tool install OrleansPgStore.Tool --version "$version" --add-source "$feed" --tool-path "$work/tool" >"$work/tool.log" 2>&1 \
  && "$work/tool/orleanspgstore" --help >"$work/tool-help.log" 2>&1; then
  pass "dotnet tool install OrleansPgStore.Tool; orleanspgstore --help"
else
  fail "the admin tool did not install or run:"; tail -5 "$work/tool.log" "$work/tool-help.log" 2>/dev/null
fi

if [ -z "${ORLEANSPGSTORE_TEST_CONNECTION:-}" ]; then
  start_private_server || { fail "could not start a private PostgreSQL cluster"; echo "package smoke: $passed passed, $((failed + 1)) failed"; exit 1; }
fi
export ORLEANSPGSTORE_TEST_CONNECTION

cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="orleanspgstore-smoke" value="$feed" />
  </packageSources>
</configuration>
EOF

mkdir -p "$work/app" "$work/test"
cat >"$work/app/app.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="OrleansPgStore" Version="$version" />
    <PackageReference Include="Microsoft.Orleans.Server" Version="10.4.2" />
  </ItemGroup>
</Project>
EOF
readme_block app/Program.cs >"$work/app/Program.cs"

cat >"$work/test/test.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <OutputType>Exe</OutputType>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="OrleansPgStore" Version="$version" />
    <PackageReference Include="OrleansPgStore.Testing" Version="$version" />
    <PackageReference Include="Microsoft.Orleans.Server" Version="10.4.2" />
    <PackageReference Include="Microsoft.Orleans.TestingHost" Version="10.4.2" />
    <PackageReference Include="xunit.v3" Version="3.2.1" />
    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
  </ItemGroup>
</Project>
EOF
readme_block test/CounterTests.cs >"$work/test/CounterTests.cs"

for file in app/Program.cs test/CounterTests.cs; do
  [ -s "$work/$file" ] || fail "README.md has no code block marked 'package-smoke: $file'"
done

# The consumers must not see this repository's build settings, central package versions or projects.
if (cd "$work/app" && dotnet build -c Release -nologo -v quiet >"$work/app.build" 2>&1); then
  if (cd "$work/app" && ConnectionStrings__Postgres="$ORLEANSPGSTORE_TEST_CONNECTION" timeout 300 dotnet run -c Release --no-build >"$work/app.out" 2>&1) \
    && grep -q "alice: balance 42, name Alice" "$work/app.out" && grep -q "read model: 42" "$work/app.out"; then
    pass "the Quickstart silo on PostgreSQL alone: membership, reminders, a JournaledGrain, a [PersistentState] grain, a projection"
  else
    fail "the Quickstart silo did not print what README.md says:"; tail -20 "$work/app.out"
  fi
else
  fail "the Quickstart does not build from the packages:"; grep -E "(error|warning) [A-Z]+[0-9]+" "$work/app.build" | sort -u | head -10
fi

if (cd "$work/test" && dotnet build -c Release -nologo -v quiet >"$work/test.build" 2>&1); then
  (cd "$work/test" && timeout 600 dotnet test -c Release --no-build >"$work/test.out" 2>&1)
  summary=$(sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+), Skipped:[[:space:]]*([0-9]+).*/\1 \2 \3/p' "$work/test.out" | tail -1)
  if [ -n "$summary" ]; then
    read -r f p s <<<"$summary"
    passed=$((passed + p)); failed=$((failed + f + s))
    [ "$f" = 0 ] && [ "$s" = 0 ] || tail -30 "$work/test.out"
    echo "   the README's grain test: $p passed, $f failed, $s skipped"
  else
    fail "the README's grain test ended without a summary:"; tail -20 "$work/test.out"
  fi
else
  fail "the README's grain test does not build from the packages:"; grep -E "(error|warning) [A-Z]+[0-9]+" "$work/test.build" | sort -u | head -10
fi

echo "package smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
