# Sourced by scripts/test-web.sh and scripts/bench-web.sh (not run on its
# own): installs what a wasm-bindgen-test run in headless Chromium needs,
# idempotently, and exports the runner's environment.
#
# Installs when missing: the wasm32 target and rust-src (rustup), Chromium
# and its driver (Debian packages; skipped with WEB_ENV_NO_BROWSER=1), and the wasm-bindgen-cli whose version
# equals the wasm-bindgen crate in Cargo.lock. Expects the repository root as
# the working directory. Defines log() (prefixed with the calling script's
# name) and THREADS_RUSTFLAGS; exports CHROMEDRIVER and the cargo runner.

log() { echo "${0##*/}: $*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

command -v cargo >/dev/null || { log "cargo not found; install Rust (rustup) first" >&2; exit 1; }

# Rust: the wasm32 target, and std's source for the threads build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if ! rustup component list --installed | grep -q '^rust-src'; then
  log "adding component rust-src"
  rustup component add rust-src
fi

# Chromium and chromedriver (not for WEB_ENV_NO_BROWSER=1: building the page
# needs no browser).
CHROMEDRIVER_BIN=$(command -v chromedriver || true)
if [ "${WEB_ENV_NO_BROWSER:-0}" != 1 ] && { ! command -v chromium >/dev/null || [ -z "$CHROMEDRIVER_BIN" ]; }; then
  log "installing chromium chromium-driver"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
  CHROMEDRIVER_BIN=$(command -v chromedriver)
fi

# wasm-bindgen-cli (wasm-bindgen-test-runner) of exactly the crate's version.
WB_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WB_VERSION" ] || { log "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$WB_VERSION" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  log "installing wasm-bindgen-cli $WB_VERSION (found: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --force
fi

# wasm-pack (the threads build's browser tests run through it), unless only
# the page is being built.
if [ "${WEB_ENV_NO_BROWSER:-0}" != 1 ] && ! command -v wasm-pack >/dev/null; then
  log "installing wasm-pack"
  cargo install wasm-pack --version 0.15.1 --locked
fi

if [ -n "$CHROMEDRIVER_BIN" ]; then export CHROMEDRIVER="$CHROMEDRIVER_BIN"; fi
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

# The threads build: RUSTFLAGS replaces .cargo/config.toml's rustflags, so
# --growable-table is repeated. __heap_base and __data_end are exported for
# wasm-bindgen on newer toolchains. Build it with RUSTC_BOOTSTRAP=1,
# -Z build-std=std,panic_abort and a target directory of its own
# (THREADS_TARGET_DIR): RUSTC_BOOTSTRAP would otherwise make proc-macro2 (and
# everything above it) rebuild at every switch between this build and any
# other.
THREADS_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
-C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 \
-C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
-C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
-C link-arg=--export=__tls_base -C link-arg=--export=__heap_base \
-C link-arg=--export=__data_end -C link-arg=--growable-table"
THREADS_TARGET_DIR="${CARGO_TARGET_DIR:-target}/wasm-threads"
