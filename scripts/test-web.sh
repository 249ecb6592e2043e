#!/usr/bin/env bash
# Browser tests through wasm-bindgen-test in headless Chromium: the wasm32
# JIT backend (tests/web_jit.rs) and the page's API (tests/web_api.rs), twice:
# the plain build (cargo test with the runner) and the threads build (shared
# memory, std rebuilt with atomics) through `wasm-pack test --headless
# --chrome`. Installs what is missing, idempotently (scripts/web-env.sh): the
# wasm32 target and rust-src, Chromium and its driver (Debian packages), the
# wasm-bindgen-cli whose version equals the wasm-bindgen crate in Cargo.lock,
# and wasm-pack. Exits non-zero if anything fails.
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
      cargo test --locked --target wasm32-unknown-unknown --test web_jit --test web_api
      ;;
    threads)
      log "threads build (shared memory), through wasm-pack"
      # wasm-pack runs `cargo test --target wasm32-unknown-unknown` with the
      # wasm-bindgen and chromedriver found on PATH; build-std comes from
      # the environment since wasm-pack puts its own arguments first.
      CARGO_TARGET_DIR="$THREADS_TARGET_DIR" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" \
        CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
        wasm-pack test --headless --chrome -- --locked --test web_jit --test web_api --test web_pool
      ;;
  esac
  log "$b build passed in $((SECONDS - start)) s"
done
