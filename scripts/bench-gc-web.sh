#!/usr/bin/env bash
# The GC benchmark in headless Chromium through the real page
# (www/e2e/bench-gc.mjs): the browser counterpart of
# `tunevm bench --only gc` (BENCHMARKS.md). gc-binary-trees-large and
# gc-graph-large, heaps 64 MiB and 256 MiB, stop-the-world / incremental /
# incremental + concurrent (which the page runs as incremental slices: it has
# no marker worker); prints a markdown table with the native table's columns.
# Installs and builds what is missing first, as scripts/bench-page.sh does
# (scripts/e2e-env.sh: npm packages, dist/ via scripts/build-web.sh unless
# SKIP_WEB_BUILD=1, the tunevm binary that serves it).
#
#   scripts/bench-gc-web.sh                       1 round (about 10+ minutes on 2 cores)
#   SKIP_WEB_BUILD=1 scripts/bench-gc-web.sh --repeat 3
#   scripts/bench-gc-web.sh --workloads gc-binary-trees,gc-graph --heaps 16777216
#                                                 a short check on the small workloads
# Options go to the node script: --repeat N, --workloads a,b, --heaps A,B,
# --modes stw,incremental,concurrent, --no-warmup, --json FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/e2e-env.sh

for w in gc-binary-trees-large gc-graph-large; do
  [ -f "$DIST_DIR/workloads/$w.elf" ] || { log "no $DIST_DIR/workloads/$w.elf (run scripts/build-web.sh)" >&2; exit 1; }
done
node www/e2e/bench-gc.mjs "$@"
