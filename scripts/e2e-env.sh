# Sourced by scripts/test-e2e.sh and scripts/bench-page.sh (not run on its
# own): gets everything the page's browser tests need, idempotently, from the
# repository root.
#
#   - scripts/web-env.sh: Chromium (Debian), the wasm32 target, rust-src and
#     the pinned wasm-bindgen-cli (which scripts/build-web.sh needs too);
#   - node and npm (Debian) when node is missing;
#   - the npm packages of www/ (`npm ci`) when www/node_modules is missing or
#     older than www/package-lock.json;
#   - the site in dist/ (scripts/build-web.sh), unless SKIP_WEB_BUILD=1;
#   - the tunevm binary that serves it: TUNEVM_BIN if set, else
#     ${CARGO_TARGET_DIR:-target}/debug/tunevm, built (or brought up to date)
#     with cargo.
# Exports TUNEVM_BIN and DIST_DIR for www/e2e/harness.mjs.

source scripts/web-env.sh

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs npm"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
[ -f www/package-lock.json ] || { log "www/package-lock.json is missing" >&2; exit 1; }
# npm ci rewrites node_modules/.package-lock.json, so it marks the last install.
if [ ! -f www/node_modules/.package-lock.json ] || [ www/package-lock.json -nt www/node_modules/.package-lock.json ]; then
  log "npm ci in www/"
  (cd www && npm ci --no-audit --no-fund)
fi

if [ "${SKIP_WEB_BUILD:-0}" != 1 ]; then
  log "building the site (scripts/build-web.sh; SKIP_WEB_BUILD=1 skips this)"
  scripts/build-web.sh
fi
export DIST_DIR="${DIST_DIR:-dist}"
[ -f "$DIST_DIR/index.html" ] || { log "no built site in $DIST_DIR (run scripts/build-web.sh)" >&2; exit 1; }

if [ -z "${TUNEVM_BIN:-}" ]; then
  TUNEVM_BIN="${CARGO_TARGET_DIR:-target}/debug/tunevm"
  # A no-op when it is up to date; a stale binary might lack `serve`.
  log "cargo build --locked --bin tunevm"
  cargo build --locked --bin tunevm
fi
[ -x "$TUNEVM_BIN" ] || { log "no tunevm binary at $TUNEVM_BIN" >&2; exit 1; }
export TUNEVM_BIN
