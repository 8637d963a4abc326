#!/usr/bin/env python3
# Folder cycles: which concept folders of the engine and the plugin name another folder's namespace (using or qualified
# name, comments ignored). Prints every cycle; exits 1 when there is one.
import os, re, sys
found = False
for root, ns in [("src/OrleansPgStore.Store", "OrleansPgStore.Store"), ("src/OrleansPgStore", "OrleansPgStore")]:
    folders = {d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d not in ("bin", "obj")}
    edges = {f: set() for f in folders}
    for f in folders:
        for d, _, files in os.walk(os.path.join(root, f)):
            for name in (n for n in files if n.endswith(".cs")):
                text = re.sub(r"//.*", "", open(os.path.join(d, name)).read())
                edges[f] |= {m for m in re.findall(re.escape(ns) + r"\.(\w+)", text) if m in folders and m != f}
    reach = {f: set(edges[f]) for f in folders}
    for _ in folders:
        for f in folders:
            reach[f] |= {c for b in reach[f] for c in reach[b]}
    cycles = sorted({tuple(sorted({f} | {g for g in reach[f] if f in reach[g]})) for f in folders if f in reach[f]})
    print(f"{root}: {len(cycles)} cycle(s)" + "".join(f"\n  {' <-> '.join(c)}" for c in cycles))
    found |= bool(cycles)
sys.exit(1 if found else 0)
