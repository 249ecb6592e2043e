//! The paging workload (an S-mode kernel under Sv39) run with different MMU
//! knobs: each knob visibly moves the TLB figures in the report.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use tunevm::config::VmConfig;
use tunevm::monitor::Report;
use tunevm::runtime::{run_captured, RunLimits, RunOutcome};
use tunevm::workload::PagingParams;

fn paging_elf(params: Option<PagingParams>) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/bin/paging.elf");
    let mut elf = std::fs::read(path).unwrap();
    if let Some(p) = params {
        p.patch(&mut elf).unwrap();
    }
    elf
}

/// Run the paging workload to its exit under `sets` and return the report.
/// The JIT is off: with it on, compiled loads and stores go through its
/// inline TLB first and the MMU's levels see only what that misses (the
/// inline TLB is tested in jit_differential.rs).
fn run(params: Option<PagingParams>, sets: &[(&str, &str)]) -> Report {
    let mut config = VmConfig::default();
    config.set("jit.enabled", "false").unwrap();
    for (k, v) in sets {
        config.set(k, v).unwrap();
    }
    config.validate().unwrap();
    let limits = RunLimits { max_insns: Some(500_000_000), timeout_ns: None };
    let run = run_captured(config, &paging_elf(params), limits).unwrap();
    let console = String::from_utf8_lossy(&run.console);
    assert_eq!(run.outcome, RunOutcome::Exited(0), "{console}");
    assert!(console.contains("checksum"), "{console}");
    run.report
}

fn hit_rate(r: &Report) -> f64 {
    r.tlb.hit_rate.expect("paging mode performs lookups")
}

fn level_rate(r: &Report, name: &str) -> f64 {
    r.tlb.levels.iter().find(|l| l.name == name).and_then(|l| l.hit_rate).unwrap()
}

fn random(pages: u64) -> Option<PagingParams> {
    Some(PagingParams { pages, stride: 1, random: true, passes: 32, seed: 7, bare: false })
}

fn scan(pages: u64) -> Option<PagingParams> {
    Some(PagingParams { pages, stride: 1, random: false, passes: 8, seed: 7, bare: false })
}

#[test]
fn default_paging_workload_hits_above_90_percent() {
    let r = run(None, &[]);
    assert!(hit_rate(&r) > 0.9, "{:?}", r.tlb);
    assert_eq!(r.tlb.strategy_chosen, "multi_level", "hybrid picks multi_level for one hart");
    assert!(r.tlb.walks > 0);
}

#[test]
fn l2_size_moves_the_hit_rate_of_a_random_working_set() {
    let rate =
        |l2: &str| hit_rate(&run(random(1024), &[("mmu.multilevel_tlb_config.l2_entries", l2)]));
    let (small, default, big) = (rate("128"), rate("512"), rate("2048"));
    assert!(small + 0.1 < default && default + 0.1 < big, "{small} {default} {big}");
}

#[test]
fn l1_size_moves_the_l1_hit_rate() {
    let l1 = |n: &str| {
        let r = run(scan(64), &[("mmu.multilevel_tlb_config.l1_entries", n)]);
        level_rate(&r, "l1")
    };
    let (small, big) = (l1("16"), l1("128"));
    assert!(small + 0.2 < big, "{small} {big}");
}

#[test]
fn prefetch_rescues_a_scan_larger_than_the_tlb() {
    let off = run(scan(2048), &[("mmu.enable_prefetch", "false")]);
    let on = run(scan(2048), &[("mmu.enable_prefetch", "true")]);
    assert!(hit_rate(&off) + 0.2 < hit_rate(&on), "{:?} {:?}", off.tlb, on.tlb);
    assert!(on.tlb.prefetch.used > 1000 && off.tlb.prefetch.issued == 0);
    assert!(on.tlb.walks * 10 < off.tlb.walks);
}

#[test]
fn strategy_changes_the_tlb_organisation() {
    let multi = run(random(1024), &[("mmu.strategy", "multi_level")]);
    let conc = run(random(1024), &[("mmu.strategy", "concurrent")]);
    assert_eq!(multi.tlb.strategy_chosen, "multi_level");
    assert_eq!(conc.tlb.strategy_chosen, "concurrent");
    let names = |r: &Report| r.tlb.levels.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&multi), ["l1", "l2"]);
    assert_eq!(names(&conc), ["shared"]);
    let bigger = run(
        random(1024),
        &[("mmu.strategy", "concurrent"), ("mmu.concurrent_tlb_config.entries", "2048")],
    );
    assert!(hit_rate(&conc) + 0.1 < hit_rate(&bigger));
}

/// `bare`: the same walk without translation reads and writes the same
/// words (same checksum) with no page walk and no data lookup in the TLBs;
/// `PagingParams::read` gives back what `patch` wrote.
#[test]
fn bare_walk_is_the_same_walk_without_translation() {
    let sv39 = random(256).unwrap();
    let bare = PagingParams { bare: true, ..sv39 };
    let mut elf = paging_elf(Some(bare));
    assert_eq!(PagingParams::read(&elf), Some(bare));
    let checksum = |params| {
        let mut config = VmConfig::default();
        config.set("jit.enabled", "false").unwrap();
        let limits = RunLimits { max_insns: Some(100_000_000), timeout_ns: None };
        let run = run_captured(config, &paging_elf(Some(params)), limits).unwrap();
        let console = String::from_utf8_lossy(&run.console).into_owned();
        assert_eq!(run.outcome, RunOutcome::Exited(0), "{console}");
        (console.lines().find(|l| l.starts_with("checksum")).unwrap().to_string(), run.report)
    };
    let (a, with) = checksum(sv39);
    let (b, without) = checksum(bare);
    assert_eq!(a, b);
    assert!(with.tlb.walks > 100, "{:?}", with.tlb);
    assert_eq!(without.tlb.walks, 0);
    assert_eq!(without.tlb.lookups, 0, "bare S-mode accesses are not lookups");
    PagingParams { bare: false, ..bare }.patch(&mut elf).unwrap();
    assert_eq!(PagingParams::read(&elf), Some(sv39));
}
