//! TLB strategies with several harts (issue 12, deliverable 4): the
//! Concurrent TLB is one TLB shared by every hart, MultiLevel TLBs are
//! private, Hybrid decides from the vCPU count and measured lock
//! contention, and the report says what was used and why. The workload is
//! `smp-paging` (harts in S-mode sliding over a shared set of 4 KiB pages).
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use tunevm::config::VmConfig;
use tunevm::mem::{AccessType, MmuOptimizationStrategy, Privilege, UnifiedMmu, UnifiedMmuConfig};
use tunevm::monitor::Report;
use tunevm::runtime::{run_captured, RunLimits, RunOutcome};

use crate::mmu_common::{ctx, Vm, RAM_BYTES, RW};

fn smp_paging(
    vcpus: u64,
    pool: u64,
    strategy: &str,
    jit: bool,
    prefetch: bool,
) -> (RunOutcome, String, Report) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/bin/smp-paging.elf");
    let elf = std::fs::read(path).expect("workload ELF");
    let mut c = VmConfig::default();
    c.runtime.vcpus = vcpus;
    c.runtime.pool_size = pool;
    c.runtime.quantum_insns = 2000;
    c.jit.enabled = jit;
    c.mmu.strategy = serde_json::from_value(serde_json::json!(strategy)).expect("a strategy");
    c.mmu.enable_prefetch = prefetch;
    let limits = RunLimits { max_insns: Some(2_000_000_000), timeout_ns: Some(120_000_000_000) };
    let r = run_captured(c, &elf, limits).expect("loads");
    (r.outcome, String::from_utf8_lossy(&r.console).into_owned(), r.report)
}

fn expected(vcpus: u64) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("workloads/expected/smp-paging.smp{vcpus}.out"));
    std::fs::read_to_string(path).expect("expected output")
}

/// Every strategy gives the output QEMU gave, on real threads and on one
/// worker, with the JIT's inline TLB in front and without it.
#[test]
fn every_strategy_runs_smp_paging_right() {
    for strategy in ["multi_level", "concurrent", "hybrid"] {
        for (vcpus, pool, jit) in [(2, 2, false), (4, 2, true), (4, 1, false), (1, 1, true)] {
            let (outcome, out, r) = smp_paging(vcpus, pool, strategy, jit, true);
            let shape = format!("{strategy}, {vcpus} vCPUs on {pool} workers, jit {jit}");
            assert_eq!(outcome, RunOutcome::Exited(0), "{shape}:\n{out}");
            assert_eq!(out, expected(vcpus), "{shape}");
            assert!(!r.tlb.strategy_reason.is_empty(), "{shape}");
            assert_eq!(r.tlb.lookups, r.tlb.hits + r.tlb.walks, "{shape}: {:?}", r.tlb);
        }
    }
}

/// With one shared TLB a page walked by one hart serves the others: on
/// four harts that all touch the same pages, the shared TLB walks about a
/// quarter as often as four private ones, and takes a lock per lookup.
/// (One worker and the JIT off: deterministic, every access reaches the
/// MMU. If each hart got a TLB of its own, the walk counts would match.)
#[test]
fn a_shared_tlb_walks_once_for_all_harts() {
    let (_, _, private) = smp_paging(4, 1, "multi_level", false, false);
    let (_, _, shared) = smp_paging(4, 1, "concurrent", false, false);
    let (p, s) = (&private.tlb, &shared.tlb);
    eprintln!(
        "private: walks {} lookups {}; shared: walks {} lookups {} locks {}",
        p.walks, p.lookups, s.walks, s.lookups, s.lock_acquisitions
    );
    assert_eq!(p.strategy_chosen, "multi_level");
    assert_eq!(s.strategy_chosen, "concurrent");
    assert!(s.walks * 3 < p.walks, "shared {} walks, private {}", s.walks, p.walks);
    assert_eq!(p.lock_acquisitions, 0);
    assert!(s.lock_acquisitions >= s.lookups, "{s:?}");
    // One worker: no two harts ever hold a lock at the same time.
    assert_eq!(s.lock_contended, 0);
    assert!(s.levels.iter().any(|l| l.name == "shared"), "{:?}", s.levels);
    assert!(p.levels.iter().all(|l| l.name != "shared"), "{:?}", p.levels);
}

/// Hybrid: one vCPU gets private TLBs without measuring; several share one
/// TLB and, with no contention (one worker), keep it once the window of
/// lock acquisitions is measured. The reason says which.
#[test]
fn hybrid_says_what_it_chose_and_why() {
    let (_, _, one) = smp_paging(1, 1, "hybrid", false, true);
    assert_eq!(one.tlb.strategy_chosen, "multi_level");
    assert!(one.tlb.strategy_reason.contains("one vCPU"), "{}", one.tlb.strategy_reason);

    let (_, _, four) = smp_paging(4, 1, "hybrid", false, true);
    let reason = &four.tlb.strategy_reason;
    assert_eq!(four.tlb.strategy_chosen, "concurrent", "{reason}");
    assert!(reason.contains("4 vCPUs") && reason.contains("sharing stays"), "{reason}");
    assert!(four.tlb.lock_acquisitions >= tunevm::mem::HYBRID_WINDOW, "{:?}", four.tlb);
    assert_eq!(four.tlb.lock_contention, Some(0.0));

    let (_, _, conf) = smp_paging(2, 1, "multi_level", false, true);
    assert!(conf.tlb.strategy_reason.contains("as configured"), "{}", conf.tlb.strategy_reason);
}

/// Harts sharing a TLB may give the same ASID to different page tables: an
/// entry filled under one root must never serve another.
#[test]
fn a_shared_tlb_keeps_page_tables_apart() {
    let config = UnifiedMmuConfig {
        strategy: MmuOptimizationStrategy::Concurrent,
        enable_prefetch: false,
        ..Default::default()
    };
    let mut vm = Vm::new(config.clone());
    vm.mmu = UnifiedMmu::for_harts(RAM_BYTES, 2, config);
    let mut other = vm.mmu.sibling();
    let (root_a, root_b) = (vm.new_table(), vm.new_table());
    let va = 0x4000_0000;
    let (pa_a, pa_b) = (0x8010_0000, 0x8020_0000);
    vm.map(root_a, va, pa_a, RW, 0);
    vm.map(root_b, va, pa_b, RW, 0);
    let (ca, cb) = (ctx(root_a, 0, Privilege::Supervisor), ctx(root_b, 0, Privilege::Supervisor));
    assert_eq!(vm.translate(&ca, va, AccessType::Load), Ok(pa_a));
    assert_eq!(other.translate(&vm.ram, va, AccessType::Load, &cb), Ok(pa_b));
    assert_eq!(vm.translate(&ca, va, AccessType::Load), Ok(pa_a));
    // The sibling really shares: hart 0's fill under root A serves it.
    let walks = other.stats().walks;
    assert_eq!(other.translate(&vm.ram, va, AccessType::Load, &ca), Ok(pa_a));
    assert_eq!(other.stats().walks, walks, "a hit in the shared TLB");
}
