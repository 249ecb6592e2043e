#!/usr/bin/env bash
# The JIT's speed in headless Chromium (tests/web_bench.rs, the browser
# counterpart of `tunevm bench`'s JIT section): cpubench.elf under the
# interpreter, the baseline tier only and full tiering, and the same C
# compiled by clang to wasm32, in one page, for the plain build and the
# threads build (shared memory, std rebuilt with atomics), both in release.
# Prints one markdown table per build. Installs what is missing, as
# scripts/test-web.sh does (scripts/web-env.sh).
#
#   scripts/bench-web.sh            both builds
#   scripts/bench-web.sh plain      the plain build only
#   scripts/bench-web.sh threads    the threads build only
#   REPEAT=5 scripts/bench-web.sh   runs per configuration (median; default 3)
#   ONLY=mixbench scripts/bench-web.sh plain      one of the two tables
#   DEFAULTS_ONLY=1 ...             mixbench: its first run and the defaults' row
#   SET=jit.tier_up_threshold=50 ...              one knob under every row's own
#                                   settings (an A/B across two runs of this script)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then builds=(plain threads); else builds=("$@"); fi
for b in "${builds[@]}"; do
  case "$b" in plain | threads) ;; *) echo "bench-web.sh: unknown build '$b' (plain, threads)" >&2; exit 2 ;; esac
done

source scripts/web-env.sh
# The runner's limit is for the whole test binary: one cpubench run takes
# seconds to tens of seconds per configuration.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-3600}"
# Read by tests/web_bench.rs at compile time.
export TUNEVM_WEB_BENCH_REPEAT="${REPEAT:-3}"
export TUNEVM_WEB_BENCH_SET="${SET:-}" TUNEVM_WEB_BENCH_DEFAULTS_ONLY="${DEFAULTS_ONLY:-0}"
filter=()
if [ -n "${ONLY:-}" ]; then filter=("${ONLY}"); fi

# The benchmark is compiled only with the web-bench feature; after `--`,
# --nocapture makes the runner print the test's console output (the table)
# although it passed.
bench_args=(test --release --locked --target wasm32-unknown-unknown --features web-bench
  --test web_bench)

tables=()
for b in "${builds[@]}"; do
  start=$SECONDS
  out=$(mktemp)
  case "$b" in
    plain)
      log "plain build (release)"
      cargo "${bench_args[@]}" -- --nocapture "${filter[@]}" | tee "$out"
      ;;
    threads)
      log "threads build (release, shared memory)"
      CARGO_TARGET_DIR="$THREADS_TARGET_DIR" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$THREADS_RUSTFLAGS" \
        cargo "${bench_args[@]}" -Z build-std=std,panic_abort -- --nocapture "${filter[@]}" | tee "$out"
      ;;
  esac
  # The table: from its heading to the ratios line.
  tables+=("$(sed -n '/^## JIT: cpubench.elf in headless Chromium/,/^ratios, same run/p' "$out")")
  rm -f "$out"
  log "$b build done in $((SECONDS - start)) s"
done

echo
for t in "${tables[@]}"; do
  printf '%s\n\n' "$t"
done
