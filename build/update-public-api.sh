#!/usr/bin/env bash
# Records the current public API of every packable project (src/*) in its PublicAPI.Unshipped.txt: symbols the
# analyzer reports as undeclared (RS0016) are added, declared symbols that no longer exist (RS0017) are removed.
# Run it after a deliberate public change and review the diff of the .txt files; the build fails on any change it
# does not record.
set -euo pipefail
cd "$(dirname "$0")/.."

for project in src/*/*.csproj; do
  dir=$(dirname "$project")
  for _ in 1 2 3; do
    out=$(mktemp)
    dotnet build "$project" --no-incremental -c Release -nologo -v quiet -p:TreatWarningsAsErrors=false >"$out" 2>&1 || true
    python3 - "$dir" "$out" <<'PY'
import re, sys
folder, output = sys.argv[1], open(sys.argv[2]).read()
mine = lambda line: f"/{folder}/" in line or line.find(folder + "/") >= 0
added = {m.group(1) for line in output.splitlines() if mine(line)
         for m in [re.search(r"RS0016: Symbol '(.+?)' is not part of the declared public API", line)] if m}
removed = {m.group(1) for line in output.splitlines() if mine(line)
           for m in [re.search(r"RS0017: Symbol '(.+?)' is part of the declared API", line)] if m}
path = f"{folder}/PublicAPI.Unshipped.txt"
lines = [l for l in open(path).read().splitlines() if l and not l.startswith("#")]
lines = sorted((set(lines) | added) - removed, key=str.lower)
open(path, "w").write("#nullable enable\n" + "".join(l + "\n" for l in lines))
print(f"{path}: +{len(added)} -{len(removed)}")
PY
    if ! grep -qE "RS001[67]" "$out"; then rm -f "$out"; break; fi
    rm -f "$out"
  done
done
