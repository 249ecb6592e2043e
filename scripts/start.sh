#!/usr/bin/env bash
# Starts tunevm. Until the playground page exists this builds the native CLI,
# runs the default workload (the CPU benchmark) and prints its report.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "start.sh: cargo not found; install Rust (rustup) first" >&2; exit 1; }
cargo build --release --locked
workload=${1:-workloads/bin/cpubench.elf}
exec ./target/release/tunevm run --print-report "$workload"
