#!/usr/bin/env bash
# Starts the tunevm playground: builds what it needs (installing what is
# missing, idempotently: the wasm32 target, rust-src, the pinned
# wasm-bindgen-cli, Node.js/npm and the page's npm packages), builds the
# page into dist/ (scripts/build-web.sh: the threads wasm build in pkg/, the
# single-threaded fallback in pkg-st/), then serves it on 127.0.0.1 with the
# COOP/COEP headers that make it cross-origin isolated, and prints the URL.
#
#   scripts/start.sh              serve on port 8080 (PORT=N to change)
#   scripts/start.sh --cli [ELF]  no page: run ELF (default cpubench) in the
#                                 native CLI and print its report
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "start.sh: cargo not found; install Rust (rustup) first" >&2; exit 1; }
cargo build --release --locked --bin tunevm
if [ "${1:-}" = --cli ]; then
  exec ./target/release/tunevm run --print-report "${2:-workloads/bin/cpubench.elf}"
fi
scripts/build-web.sh
exec ./target/release/tunevm serve dist --port "${PORT:-8080}"
