#!/usr/bin/env bash
# Load benchmark of the playground page (BENCHMARKS.md): bytes transferred
# before the page is ready to run (wasm + JS + CSS, target < 2 MiB) and the time
# from navigation until it is ready (target < 1 s), over cold loads in headless
# Chromium (www/e2e/bench-load.mjs). Installs and builds what is missing first
# (scripts/e2e-env.sh). With --run: the speed of a whole run in the page
# instead (www/e2e/bench-run.mjs: cpubench at the defaults, MIPS, time spent
# running against time in the page, and the checklist's native comparison).
#
#   scripts/bench-page.sh                     5 loads
#   RUNS=10 SKIP_WEB_BUILD=1 scripts/bench-page.sh
#   RUNS=5 scripts/bench-page.sh --run        5 cpubench runs in the page
#   RUNS=5 scripts/bench-page.sh --run --wire both   ... of each way status and
#                                             live reports cross from Rust (BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/e2e-env.sh

if [ "${1:-}" = --run ]; then
  node www/e2e/bench-run.mjs --runs "${RUNS:-3}" "${@:2}"
else
  node www/e2e/bench-load.mjs --runs "${RUNS:-5}"
fi
