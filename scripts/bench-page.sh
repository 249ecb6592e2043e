#!/usr/bin/env bash
# Load benchmark of the playground page (BENCHMARKS.md): bytes transferred
# before the page is ready to run (wasm + JS + CSS, target < 2 MiB) and the time
# from navigation until it is ready (target < 1 s), over cold loads in headless
# Chromium (www/e2e/bench-load.mjs). Installs and builds what is missing first
# (scripts/e2e-env.sh).
#
#   scripts/bench-page.sh                     5 loads
#   RUNS=10 SKIP_WEB_BUILD=1 scripts/bench-page.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/e2e-env.sh

node www/e2e/bench-load.mjs --runs "${RUNS:-5}"
