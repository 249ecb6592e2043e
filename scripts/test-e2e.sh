#!/usr/bin/env bash
# End-to-end test of the playground page: drives the built site in headless
# Chromium (www/e2e/page.test.mjs, node's test runner + playwright-core with
# Debian's Chromium). Installs what is missing and builds the site first
# (scripts/e2e-env.sh); exits non-zero if any test fails.
#
#   scripts/test-e2e.sh                       build the site, then test it
#   SKIP_WEB_BUILD=1 scripts/test-e2e.sh      test the site already in dist/
#   TUNEVM_BIN=path DIST_DIR=dir ARTIFACT_DIR=dir scripts/test-e2e.sh
#
# The screenshot goes to ${ARTIFACT_DIR:-target/e2e-artifacts}/playground.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/e2e-env.sh

start=$SECONDS
node --test --test-reporter=spec www/e2e/
log "passed in $((SECONDS - start)) s"
