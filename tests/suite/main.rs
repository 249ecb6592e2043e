//! The native integration tests, linked into one test binary.
//!
//! One binary instead of one per file: every file here would otherwise link
//! its own copy of tunevm and wasmtime (hundreds of megabytes each in a debug
//! build), and the harness can run all tests on all cores at once. Run one
//! file's tests with `cargo test --test suite cpu_a::`. The wasm32 tests
//! (`web_jit`, `web_api`, `web_bench`) stay separate binaries in `tests/`.

mod common;
mod mmu_common;

/// proptest settings for every property test here: `cases`, with failing
/// seeds kept beside the test's source file
/// (`tests/suite/NAME.proptest-regressions`, committed, replayed first).
/// proptest's default would look in a `proptest-regressions` folder instead,
/// which the suite's move into one binary left empty. Native only, like
/// proptest and every property test.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence};
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

mod advisor;
mod bounds;
mod cli;
mod code_cache;
mod config_jit;
mod config_load;
mod config_schema;
mod conformance_regressions;
mod cpu_a;
mod cpu_asm;
mod cpu_csr;
mod cpu_interrupts;
mod cpu_m;
mod cpu_priv;
mod cpu_rv64i;
mod cpu_rvc;
mod fuzz;
mod gc;
mod host_time;
mod isa_decode;
mod jit_code_view;
mod jit_differential;
mod jit_knobs;
mod jit_threshold;
mod live_knobs;
mod loader_elf;
mod mmu_knobs;
mod mmu_sv39;
mod mmu_tlb;
mod paging_knobs;
mod presets;
mod reference_qemu;
mod reports;
mod serve;
mod smp;
mod smp_tlb;
mod smp_workloads;
