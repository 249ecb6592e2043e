//! The native CLI: run a guest program with a configuration, print or save the
//! report, and benchmark.
//!
//! Exit statuses (docs/DESIGN.md "CLI exit statuses"): the guest's exit code (codes
//! that truncate to 0 become 1); 124 for a runaway guest stopped by
//! `--max-insns` or `--timeout`; 3 for a guest that can make no progress
//! (asleep with nothing able to wake it, or trapping on every instruction); 2
//! with a one-line reason for bad input, config or usage. Since a guest can
//! exit with any of these codes itself, `tunevm run` says how a run that did
//! not end in a guest exit ended, as its last stderr line:
//! `tunevm: stopped (<stop_reason>): <why>`, with the report's `stop_reason`
//! (`max_insns`, `timeout`, `asleep`, `trap_loop`, `stopped`). Every error
//! line is one printable line (`config::one_line`).

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::main());
}

/// The CLI is native only. Cargo builds the binary for every integration
/// test, so `cargo test --target wasm32-unknown-unknown` (the browser tests)
/// needs it to compile there: an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}
