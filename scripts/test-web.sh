#!/usr/bin/env bash
# Browser tests of the wasm32 JIT backend (tests/web_jit.rs) in headless
# Chromium through wasm-bindgen-test, twice: the plain build and the threads
# build (shared memory, std rebuilt with atomics). Installs what is missing,
# idempotently: the wasm32 target and rust-src, Chromium and its driver
# (Debian packages), and the wasm-bindgen-cli whose version equals the
# wasm-bindgen crate in Cargo.lock. Exits non-zero if anything fails.
#
#   scripts/test-web.sh            both builds
#   scripts/test-web.sh plain      the plain build only
#   scripts/test-web.sh threads    the threads build only
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then builds=(plain threads); else builds=("$@"); fi
for b in "${builds[@]}"; do
  case "$b" in plain | threads) ;; *) echo "test-web.sh: unknown build '$b' (plain, threads)" >&2; exit 2 ;; esac
done

log() { echo "test-web.sh: $*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

command -v cargo >/dev/null || { echo "test-web.sh: cargo not found; install Rust (rustup) first" >&2; exit 1; }

# Rust: the wasm32 target, and std's source for the threads build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if ! rustup component list --installed | grep -q '^rust-src'; then
  log "adding component rust-src"
  rustup component add rust-src
fi

# Chromium and chromedriver.
CHROMEDRIVER_BIN=$(command -v chromedriver || true)
if ! command -v chromium >/dev/null || [ -z "$CHROMEDRIVER_BIN" ]; then
  log "installing chromium chromium-driver"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
  CHROMEDRIVER_BIN=$(command -v chromedriver)
fi

# wasm-bindgen-cli (wasm-bindgen-test-runner) of exactly the crate's version.
WB_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$WB_VERSION" ] || { echo "test-web.sh: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$WB_VERSION" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  log "installing wasm-bindgen-cli $WB_VERSION (found: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --force
fi

export CHROMEDRIVER="$CHROMEDRIVER_BIN"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# The runner's limit is for the whole test binary (default 20 s).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"

# The threads build: RUSTFLAGS replaces .cargo/config.toml's rustflags, so
# --growable-table is repeated. __heap_base and __data_end are exported for
# wasm-bindgen on newer toolchains.
THREADS_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
-C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 \
-C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
-C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
-C link-arg=--export=__tls_base -C link-arg=--export=__heap_base \
-C link-arg=--export=__data_end -C link-arg=--growable-table"

for b in "${builds[@]}"; do
  start=$SECONDS
  case "$b" in
    plain)
      log "plain build"
      cargo test --locked --target wasm32-unknown-unknown --test web_jit
      ;;
    threads)
      log "threads build (shared memory)"
      # A target directory of its own: RUSTC_BOOTSTRAP would otherwise make
      # proc-macro2 (and everything above it) rebuild at every switch
      # between this build and any other.
      CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/wasm-threads" \
        RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" \
        cargo test --locked -Z build-std=std,panic_abort --target wasm32-unknown-unknown --test web_jit
      ;;
  esac
  log "$b build passed in $((SECONDS - start)) s"
done
