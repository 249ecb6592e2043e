#!/bin/bash
# Native GC benchmark, robust to layout luck: runs each binary from copies at
# paths of six lengths, interleaved, and prints per label the median wall time
# with every run's wall ms and pause p99 µs.
#
# Why: on these machines the same binary's run time once depended on the
# length of the path it was started from (the argument strings allocated at
# start-up move every later heap allocation, and with them which cache lines
# hot data share). See BENCHMARKS.md "Allocation buffers".
#
# usage: scripts/bench-gc-paths.sh ROUNDS ELF LABEL=BINARY... [-- RUN ARGS...]
#   e.g. scripts/bench-gc-paths.sh 1 workloads/bin/gc-binary-trees-large.elf \
#          before=/tmp/tunevm-old after=target/release/tunevm -- --set gc.verify=false
set -euo pipefail
rounds=$1 elf=$2
shift 2
specs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do specs+=("$1"); shift; done
[ $# -gt 0 ] && shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pads=(a dddd ggggggg jjjjjjjjjj mmmmmmmmmmmmm pppppppppppppppp)
for s in "${specs[@]}"; do
  for p in "${pads[@]}"; do mkdir -p "$dir/$p"; cp "${s#*=}" "$dir/$p/tv-${s%%=*}"; done
done
for _ in $(seq "$rounds"); do
  for p in "${pads[@]}"; do
    for s in "${specs[@]}"; do
      label=${s%%=*}
      rm -f "$dir/r.json"
      if ! "$dir/$p/tv-$label" run "$elf" "$@" --report "$dir/r.json" >/dev/null 2>&1; then
        echo "$label: the run failed (from $dir/$p)" >&2
        continue
      fi
      python3 -c "
import json; r = json.load(open('$dir/r.json')); p = r['gc']['pause_ns']
print('$label', round(r['wall_ns'] / 1e6), round((p['p99'] or 0) / 1e3))"
    done
  done
done | python3 -c "
import sys, statistics
runs = {}
for line in sys.stdin:
    label, wall, p99 = line.split()
    runs.setdefault(label, []).append((int(wall), int(p99)))
for label, v in runs.items():
    print(label.ljust(8), 'median', statistics.median(w for w, _ in v), 'ms; walls', [w for w, _ in v], 'p99 us', [p for _, p in v])
"
