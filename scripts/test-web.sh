#!/usr/bin/env bash
# Browser tests of the wasm32 JIT backend (tests/web_jit.rs) in headless
# Chromium through wasm-bindgen-test, twice: the plain build and the threads
# build (shared memory, std rebuilt with atomics). Installs what is missing,
# idempotently (scripts/web-env.sh): the wasm32 target and rust-src, Chromium
# and its driver (Debian packages), and the wasm-bindgen-cli whose version
# equals the wasm-bindgen crate in Cargo.lock. Exits non-zero if anything
# fails.
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

source scripts/web-env.sh
# The runner's limit is for the whole test binary (default 20 s).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"

for b in "${builds[@]}"; do
  start=$SECONDS
  case "$b" in
    plain)
      log "plain build"
      cargo test --locked --target wasm32-unknown-unknown --test web_jit
      ;;
    threads)
      log "threads build (shared memory)"
      CARGO_TARGET_DIR="$THREADS_TARGET_DIR" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" \
        cargo test --locked -Z build-std=std,panic_abort --target wasm32-unknown-unknown --test web_jit
      ;;
  esac
  log "$b build passed in $((SECONDS - start)) s"
done
