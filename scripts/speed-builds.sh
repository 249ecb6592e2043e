#!/usr/bin/env bash
# Speed of two tunevm binaries side by side (e.g. before and after a JIT
# change): each workload run at the defaults by both, interleaved, REPEAT
# times each (default 3), median host wall time from the report. Prints a
# markdown table; BENCHMARKS.md quotes it.
#
#   scripts/speed-builds.sh OLD_BIN NEW_BIN [WORKLOAD...]
#   (default workloads: cpubench mixbench phases paging paging-random smc
#    selftime gc-binary-trees)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN [WORKLOAD...]" >&2; exit 2; }
old=$1 new=$2; shift 2
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(cpubench mixbench phases paging paging-random smc selftime gc-binary-trees)
repeat=${REPEAT:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "| workload | M instructions | before ms | after ms | speed-up |"
echo "|---|---|---|---|---|"
for w in "${workloads[@]}"; do
  for i in $(seq "$repeat"); do
    "$old" run "workloads/bin/$w.elf" --report "$tmp/old-$i.json" >/dev/null 2>&1 || true
    "$new" run "workloads/bin/$w.elf" --report "$tmp/new-$i.json" >/dev/null 2>&1 || true
  done
  python3 - "$w" "$tmp" "$repeat" <<'PY'
import json, statistics, sys
w, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def med(b):
    rs = [json.load(open(f"{tmp}/{b}-{i}.json")) for i in range(1, n + 1)]
    return statistics.median(r["wall_ns"] for r in rs) / 1e6, rs[0]["instructions"]
(o, insns), (n_, _) = med("old"), med("new")
print(f"| {w} | {insns / 1e6:.1f} | {o:.0f} | {n_:.0f} | {o / n_:.2f}x |")
PY
done
