//! The native CLI: run a guest program with a configuration, print or save the
//! report, and benchmark.
//!
//! Exit statuses (DESIGN.md "CLI exit statuses"): the guest's exit code (codes
//! that truncate to 0 become 1); 124 for a runaway guest stopped by
//! `--max-insns` or `--timeout`; 3 for a guest that can make no progress
//! (asleep with nothing able to wake it, or trapping on every instruction); 2
//! with a one-line reason for bad input, config or usage.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
