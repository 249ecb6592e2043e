#!/usr/bin/env bash
# Runs every test of tunevm. Installs what the tests need on a fresh Debian
# machine (QEMU for the reference check), idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v qemu-system-riscv64 >/dev/null || need_apt+=(qemu-system-misc)
if ((${#need_apt[@]})); then
  echo "test.sh: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi
command -v cargo >/dev/null || { echo "test.sh: cargo not found; install Rust (rustup) first" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# Comparisons of wall time between two settings need the cores to
# themselves: beside the rest of the suite (every test at once on two cores)
# their margins vanished in CI. They run after it, one at a time.
ALONE=(presets::smp_threads_presets presets::gc_pause_presets)
cargo test --locked -- "${ALONE[@]/#/--skip=}"
cargo test --locked --test suite -- --test-threads=1 "${ALONE[@]}"
# The JIT and the page's API through the wasm32 build in headless Chromium,
# plain and threads builds (installs Chromium, chromedriver, wasm-bindgen-cli
# and wasm-pack when missing).
scripts/test-web.sh
# The real page in headless Chromium: builds dist/ and serves it with the
# tunevm binary `cargo test` just built (installs Node.js and the npm
# packages when missing). The screenshot lands in target/e2e-artifacts/.
TUNEVM_BIN="${CARGO_TARGET_DIR:-target}/debug/tunevm" scripts/test-e2e.sh
