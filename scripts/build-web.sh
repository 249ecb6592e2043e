#!/usr/bin/env bash
# Builds the playground page into dist/ (what `tunevm serve` and any static
# host serve):
#   pkg/      the threads build (shared memory; needs cross-origin isolation)
#   pkg-st/   the plain single-threaded build (the page's fallback)
#   vendor/   uPlot and coi-serviceworker from www/node_modules (npm ci)
#   workloads/ the built-in guest programs, cpubench.wasm and expected output
# plus the page itself from www/. Installs what is missing, idempotently:
# the wasm32 target, rust-src, the pinned wasm-bindgen-cli (scripts/web-env.sh),
# Node.js and npm (Debian packages) and the npm packages (package-lock.json).
#
#   scripts/build-web.sh          release build (what start.sh uses)
#   PROFILE=dev scripts/build-web.sh   faster to build, slower to run
set -euo pipefail
cd "$(dirname "$0")/.."
WEB_ENV_NO_BROWSER=1 source scripts/web-env.sh

PROFILE=${PROFILE:-release}
case "$PROFILE" in
  release) cargo_profile=(--release); out=release ;;
  dev) cargo_profile=(); out=debug ;;
  *) log "unknown PROFILE '$PROFILE' (release, dev)" >&2; exit 2 ;;
esac
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

log "threads build ($PROFILE)"
CARGO_TARGET_DIR="$THREADS_TARGET_DIR" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" \
  cargo rustc --locked --lib --crate-type cdylib "${cargo_profile[@]}" -Z build-std=std,panic_abort \
  --target wasm32-unknown-unknown
wasm-bindgen --target web --remove-name-section --out-dir pkg \
  "$THREADS_TARGET_DIR/wasm32-unknown-unknown/$out/tunevm.wasm"

log "plain build ($PROFILE)"
cargo rustc --locked --lib --crate-type cdylib "${cargo_profile[@]}" --target wasm32-unknown-unknown
wasm-bindgen --target web --remove-name-section --out-dir pkg-st "$TARGET_DIR/wasm32-unknown-unknown/$out/tunevm.wasm"

# npm packages of the page (uPlot, the service-worker shim; playwright-core
# for the end-to-end test).
if ! command -v npm >/dev/null; then
  log "installing nodejs npm"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi
if [ ! -d www/node_modules ] || [ www/package-lock.json -nt www/node_modules ]; then
  log "npm ci (www/)"
  (cd www && npm ci --no-audit --no-fund)
  touch www/node_modules
fi

log "assembling dist/"
rm -rf dist.tmp
mkdir -p dist.tmp/vendor dist.tmp/workloads/expected
(cd www && tar cf - --exclude=./node_modules --exclude=./e2e --exclude='./package*.json' .) \
  | (cd dist.tmp && tar xf -)
cp -r pkg pkg-st dist.tmp/
rm -f dist.tmp/pkg/.gitignore dist.tmp/pkg-st/.gitignore
cp www/node_modules/uplot/dist/uPlot.esm.js www/node_modules/uplot/dist/uPlot.min.css dist.tmp/vendor/
cp www/node_modules/coi-serviceworker/coi-serviceworker.min.js dist.tmp/vendor/
cp workloads/bin/*.elf workloads/bin/cpubench.wasm dist.tmp/workloads/
cp workloads/expected/*.out dist.tmp/workloads/expected/
rm -rf dist
mv dist.tmp dist
log "dist/ ready ($(du -sh dist | cut -f1)); serve it with: tunevm serve dist"
