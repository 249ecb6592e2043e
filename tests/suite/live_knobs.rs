//! Live knobs (`Machine::retune`): each knob marked live changes while the
//! guest runs, and its figure moves after the change, measured against a
//! control run of the same machine with the same settings and no change.
//!
//! Runs pin what makes figures depend on the host (synchronous compiles, a
//! fixed threshold, no compile budget) unless the knob under test is about
//! exactly that; then the settings are extreme enough that the direction does
//! not depend on the host's speed.
// Native only: runs the wasmtime backend (the page's side is in www/e2e).
#![cfg(not(target_arch = "wasm32"))]
use std::collections::HashSet;

use tunevm::config::{schema, ConfigError, VmConfig};
use tunevm::monitor::{PerformanceMonitor, Report};
use tunevm::runtime::{CaptureHost, Machine, PlannedRetune, RunLimits, RunOutcome};

const M: u64 = 1_000_000;

fn elf(name: &str) -> Vec<u8> {
    let path = format!("{}/workloads/bin/{name}.elf", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reproducible JIT decisions (see the module doc), and no return guards:
/// with them cpubench's hot code seldom leaves its units, too few
/// dispatches for the cache and the threshold controller to act on in
/// these short runs (see `jit_knobs`'s `FIXED`); units of up to 1024
/// instructions that copy code other units start with, as when the figures
/// were measured.
const PINNED: [(&str, &str); 7] = [
    ("jit.background_compile", "false"),
    ("jit.enable_compile_time_budget", "false"),
    ("jit.min_threshold", "50"),
    ("jit.max_threshold", "50"),
    ("jit.return_guards", "false"),
    ("jit.max_unit_insns", "1024"),
    ("jit.stop_at_units", "false"),
];

fn config(sets: &[(&str, &str)]) -> VmConfig {
    let mut c = VmConfig::default();
    for (k, v) in sets {
        c.set(k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    c.validate().unwrap();
    c
}

/// The reports at the change and at the end of one machine's run of
/// `workload`: `at` instructions under `base`, then `change` applied with
/// `Machine::retune`, then `more` instructions (or to the guest's exit).
struct Split {
    at_mark: Report,
    end: Report,
}

impl Split {
    fn run(
        workload: &str,
        base: &[(&str, &str)],
        at: u64,
        more: u64,
        change: &[(&str, &str)],
    ) -> Split {
        let mut machine = Machine::new(config(base), &elf(workload)).unwrap();
        let mut monitor = PerformanceMonitor::default();
        monitor.start_collection();
        let mut host = CaptureHost::default();
        let limits = |n| RunLimits { max_insns: Some(n), timeout_ns: None };
        let first = machine.run(limits(at), &mut monitor, &mut host);
        assert_eq!(first, RunOutcome::MaxInsns, "{workload} ended before the change");
        let at_mark = machine.report(&monitor, first);
        let all: Vec<_> = base.iter().chain(change).copied().collect();
        let changed = machine.retune(config(&all)).unwrap();
        assert_eq!(changed.len(), change.len(), "every change is a change: {change:?}");
        let second = machine.run(limits(more), &mut monitor, &mut host);
        Split { at_mark, end: machine.report(&monitor, second) }
    }

    /// `figure`'s growth after the change.
    fn after(&self, figure: impl Fn(&Report) -> u64) -> u64 {
        figure(&self.end) - figure(&self.at_mark)
    }
}

/// The same split, once with `change` and once without (the control).
fn pair(
    workload: &str,
    base: &[(&str, &str)],
    at: u64,
    more: u64,
    change: &[(&str, &str)],
) -> (Split, Split) {
    (Split::run(workload, base, at, more, &[]), Split::run(workload, base, at, more, change))
}

fn tlb_level(r: &Report, name: &str) -> (u64, u64) {
    r.tlb.levels.iter().find(|l| l.name == name).map_or((0, 0), |l| (l.lookups, l.hits))
}

#[test]
fn only_live_knobs_change_while_the_guest_runs_and_a_refusal_changes_nothing() {
    let live: HashSet<&str> = schema().iter().filter(|k| k.live).map(|k| k.key).collect();
    for key in
        ["code_cache.max_entries", "mmu.strategy", "jit.tier_up_threshold", "gc.trigger_threshold"]
    {
        assert!(live.contains(key), "{key} is live");
    }
    for key in [
        "memory.ram_bytes",
        "jit.enabled",
        "runtime.vcpus",
        "gc.heap_size_limit",
        "mmu.strict_align",
    ] {
        assert!(!live.contains(key), "{key} is not live");
    }
    let mut machine = Machine::new(config(&PINNED), &elf("cpubench")).unwrap();
    let before = machine.config().clone();
    let mut wanted = before.clone();
    wanted.set("code_cache.max_entries", "8").unwrap();
    wanted.set("memory.ram_bytes", "128MiB").unwrap();
    let err = machine.retune(wanted).unwrap_err();
    assert!(matches!(err, ConfigError::NotLive { .. }), "{err}");
    assert!(
        err.to_string().starts_with("memory.ram_bytes cannot change while the guest runs"),
        "{err}"
    );
    assert_eq!(machine.config(), &before, "a refused retune changes nothing");
    assert_eq!(machine.jit().unwrap().cache().config().max_entries, before.code_cache.max_entries);
    // No difference: nothing to do, nothing marked.
    assert!(machine.retune(before.clone()).unwrap().is_empty());
}

#[test]
fn shrinking_the_code_cache_evicts_at_once_and_keeps_evicting() {
    let (control, live) =
        pair("cpubench", &PINNED, 4 * M, 4 * M, &[("code_cache.max_entries", "8")]);
    assert_eq!(control.after(|r| r.code_cache.evictions), 0, "the default cache holds cpubench");
    assert!(live.at_mark.code_cache.entries > 8, "{}", live.at_mark.code_cache.entries);
    assert!(live.end.code_cache.entries <= 8);
    assert!(
        live.after(|r| r.code_cache.evictions) > 20,
        "{}",
        live.after(|r| r.code_cache.evictions)
    );
    assert!(live.after(|r| r.jit.units_compiled) > control.after(|r| r.jit.units_compiled));
    assert_eq!(live.end.config["code_cache"]["max_entries"], 8, "the report shows the new value");

    let (_, bytes) =
        pair("cpubench", &PINNED, 4 * M, 2 * M, &[("code_cache.max_memory_bytes", "64KiB")]);
    assert!(bytes.end.code_cache.bytes <= 64 << 10);
    assert!(bytes.after(|r| r.code_cache.evictions) > 0);
}

#[test]
fn a_new_eviction_policy_picks_other_victims() {
    // A cache too small for cpubench's hot code, no warm-up (which would
    // rank 16 units by recency alone): the victims matter.
    let base: Vec<_> = PINNED
        .iter()
        .copied()
        .chain([("code_cache.max_entries", "16"), ("code_cache.warmup_size", "0")])
        .collect();
    let lru = [("code_cache.eviction_policy", "lru")];
    let (control, live) = pair("cpubench", &base, 3 * M, 4 * M, &lru);
    assert!(control.after(|r| r.code_cache.evictions) > 0);
    assert_ne!(
        live.after(|r| r.jit.units_compiled),
        control.after(|r| r.jit.units_compiled),
        "LRU keeps other units than LRU_LFU"
    );
    // The warm-up window, the decay and its interval: see
    // code_cache::reconfigure_reranks_evicts_and_reschedules (cpubench's
    // guest time is too short for a cleanup).
}

#[test]
fn tier_up_threshold_and_thresholds_act_from_the_change_on() {
    // No optimizing tier until the change; then every unit tiers up.
    let base: Vec<_> =
        PINNED.iter().copied().chain([("jit.tier_up_threshold", "1000000000000")]).collect();
    let (control, live) =
        pair("cpubench", &base, 3 * M, 3 * M, &[("jit.tier_up_threshold", "100")]);
    let optimized = |r: &Report| r.tiers.optimizing.instructions;
    assert!(control.after(optimized) < 1000, "{}", control.after(optimized));
    assert!(live.after(optimized) > M, "baseline units in the jump cache tier up too");

    // A threshold no unit reaches: after the change only units compiled
    // before it are compiled again (baseline units tiering up at 200).
    let never = [("jit.min_threshold", "1000000"), ("jit.max_threshold", "1000000")];
    let (control, live) = pair("cpubench", &PINNED, M / 10, 3 * M, &never);
    let compiled = |r: &Report| r.jit.units_compiled;
    assert!(
        live.after(compiled) * 5 < control.after(compiled),
        "{} {}",
        live.after(compiled),
        control.after(compiled)
    );
    assert_eq!(live.end.jit.threshold, 1_000_000);
}

#[test]
fn the_adaptive_controller_takes_new_weights_and_window() {
    // Adaptive threshold between 10 and 5000, windows of 200 executions.
    let base = [
        ("jit.background_compile", "false"),
        ("jit.enable_compile_time_budget", "false"),
        ("jit.min_threshold", "10"),
        ("jit.max_threshold", "5000"),
        ("jit.sample_window", "200"),
        ("jit.return_guards", "false"),
    ];
    let only_cost = [("jit.compile_time_weight", "1"), ("jit.exec_benefit_weight", "0")];
    let only_benefit = [("jit.compile_time_weight", "0"), ("jit.exec_benefit_weight", "1")];
    let series_after = |s: &Split| -> Vec<f64> {
        let x = s.at_mark.instructions;
        s.end.jit.threshold_series.iter().filter(|&&(at, _)| at > x).map(|&(_, t)| t).collect()
    };
    let cost = Split::run("cpubench", &base, 2 * M, 3 * M, &only_cost);
    let benefit = Split::run("cpubench", &base, 2 * M, 3 * M, &only_benefit);
    let (c, b) = (series_after(&cost), series_after(&benefit));
    assert!(c.len() > 2 && b.len() > 2, "windows closed after the change: {} {}", c.len(), b.len());
    assert!(c.windows(2).all(|w| w[1] >= w[0]), "compile cost alone only raises it: {c:?}");
    assert!(b.windows(2).all(|w| w[1] <= w[0]), "benefit alone only lowers it: {b:?}");
    assert!(c.last() > b.last(), "{c:?} vs {b:?}");

    // A window 100x longer closes far fewer windows after the change.
    let (control, live) = pair("cpubench", &base, 2 * M, 3 * M, &[("jit.sample_window", "20000")]);
    assert!(series_after(&live).len() * 10 < series_after(&control).len());
}

#[test]
fn a_compile_budget_switched_on_holds_compiles_back() {
    let on = [("jit.enable_compile_time_budget", "true"), ("jit.compile_time_budget_ns", "1")];
    let (control, live) = pair("cpubench", &PINNED, 2 * M, 3 * M, &on);
    assert_eq!(control.after(|r| r.jit.compile_waits), 0);
    assert!(live.after(|r| r.jit.compile_waits) > 0);
    assert!(live.after(|r| r.jit.units_compiled) < control.after(|r| r.jit.units_compiled));
}

#[test]
fn unit_table_and_invalidation_limits_act_from_the_change_on() {
    let (control, live) =
        pair("cpubench", &PINNED, 2 * M, 3 * M, &[("jit.max_tracked_units", "256")]);
    assert_eq!(control.after(|r| r.jit.units_forgotten), 0);
    assert!(live.end.jit.tracked_units <= 256 || live.after(|r| r.jit.units_forgotten) > 0);

    // smc rewrites its code: without a limit nothing is quarantined.
    let base: Vec<_> = PINNED.iter().copied().chain([("jit.invalidation_limit", "0")]).collect();
    let (control, live) = pair("smc", &base, M / 2, 2 * M, &[("jit.invalidation_limit", "1")]);
    assert_eq!(control.end.jit.quarantines, 0);
    assert!(live.after(|r| r.jit.quarantines) > 0);
}

#[test]
fn tlb_sizes_strategy_and_prefetch_change_with_a_flush() {
    // paging touches more pages than a small TLB holds; interpreted, so
    // every access goes through the MMU's TLBs.
    let base = [("jit.enabled", "false"), ("mmu.enable_prefetch", "false")];
    let l1_rate_after = |s: &Split| {
        let (l0, h0) = tlb_level(&s.at_mark, "l1");
        let (l1, h1) = tlb_level(&s.end, "l1");
        (h1 - h0) as f64 / (l1 - l0) as f64
    };
    let (control, live) =
        pair("paging", &base, 2 * M, 2 * M, &[("mmu.multilevel_tlb_config.l1_entries", "1")]);
    assert!(
        l1_rate_after(&live) < l1_rate_after(&control) - 0.05,
        "{} {}",
        l1_rate_after(&live),
        l1_rate_after(&control)
    );
    assert!(live.end.tlb.lookups > live.at_mark.tlb.lookups, "counts go on across the change");

    let small_l2 = [
        ("mmu.multilevel_tlb_config.l2_entries", "16"),
        ("mmu.multilevel_tlb_config.l2_ways", "1"),
    ];
    let (control, live) = pair("paging", &base, 2 * M, 2 * M, &small_l2);
    assert!(live.after(|r| r.tlb.walks) > 10 * control.after(|r| r.tlb.walks).max(1));

    let (_, live) = pair("paging", &base, 2 * M, 2 * M, &[("mmu.strategy", "concurrent")]);
    assert_eq!(tlb_level(&live.at_mark, "shared").0, 0);
    assert!(tlb_level(&live.end, "shared").0 > 0, "lookups go to the shared TLB after the change");
    assert_eq!(live.end.tlb.strategy_chosen, "concurrent");

    let base_c = [
        ("jit.enabled", "false"),
        ("mmu.enable_prefetch", "false"),
        ("mmu.strategy", "concurrent"),
    ];
    let (control, live) =
        pair("paging", &base_c, 2 * M, 2 * M, &[("mmu.concurrent_tlb_config.entries", "16")]);
    assert!(live.after(|r| r.tlb.walks) > 10 * control.after(|r| r.tlb.walks).max(1));
    let (control, live) =
        pair("paging", &base_c, 2 * M, 2 * M, &[("mmu.concurrent_tlb_config.shards", "64")]);
    assert_ne!(live.after(|r| r.tlb.walks), control.after(|r| r.tlb.walks));

    let stride = [("jit.enabled", "false"), ("mmu.enable_prefetch", "false")];
    let (control, live) =
        pair("paging-stride", &stride, 2 * M, 2 * M, &[("mmu.enable_prefetch", "true")]);
    assert_eq!(control.end.tlb.prefetch.issued, 0);
    assert!(live.after(|r| r.tlb.prefetch.issued) > 0);
    let on = [("jit.enabled", "false")];
    let (control, live) =
        pair("paging-stride", &on, 2 * M, 2 * M, &[("mmu.prefetch_distance", "8")]);
    assert!(live.after(|r| r.tlb.prefetch.issued) > control.after(|r| r.tlb.prefetch.issued));
    let (control, live) =
        pair("paging-stride", &on, 2 * M, 2 * M, &[("mmu.prefetch_history_window", "64")]);
    assert_ne!(live.after(|r| r.tlb.prefetch.issued), control.after(|r| r.tlb.prefetch.issued));
}

#[test]
fn gc_pacing_changes_while_the_guest_allocates() {
    // Stop-the-world collections (no marker thread, no incremental slices,
    // whose quotas are host time): counts depend only on the guest's
    // allocations. With incremental marking a loaded host (the whole suite
    // on two cores) changed them: 8 collections against a control's 6.
    let base = [
        ("gc.concurrent_marking", "false"),
        ("gc.incremental", "false"),
        ("gc.heap_size_limit", "16MiB"),
    ];
    // A trigger at 75 % instead of 80 % (the target stays at 70 %).
    let earlier = [("gc.trigger_threshold", "0.75")];
    let (control, live) = pair("gc-lru", &base, 20 * M, 40 * M, &earlier);
    let collections = |r: &Report| r.gc.collections;
    let (c, l) = (control.after(collections), live.after(collections));
    assert!(c > 2 && l > c, "collections after the change: {l}, control {c}");
    // A lower target occupancy sizes the heap larger after each cycle.
    let lower = [("gc.target_occupancy", "0.3")];
    let (control, live) = pair("gc-lru", &base, 20 * M, 40 * M, &lower);
    let (c, l) = (control.after(collections), live.after(collections));
    assert!(l < c, "collections after the change: {l}, control {c}");

    let mut machine = Machine::new(config(&base), &elf("gc-lru")).unwrap();
    let mut wanted = machine.config().clone();
    for (k, v) in [
        ("gc.mark_quota_us", "50"),
        ("gc.sweep_quota_us", "70"),
        ("gc.adaptive_quota", "false"),
        ("gc.incremental_step", "7"),
    ] {
        wanted.set(k, v).unwrap();
    }
    machine.retune(wanted.clone()).unwrap();
    let gc = machine.bus.gc().unwrap().config();
    assert_eq!(
        (gc.mark_quota_us, gc.sweep_quota_us, gc.adaptive_quota, gc.incremental_step),
        (50, 70, false, 7)
    );
}

#[test]
fn a_planned_run_applies_each_change_once_and_marks_it() {
    let mut machine = Machine::new(config(&PINNED), &elf("cpubench")).unwrap();
    let mut later = machine.config().clone();
    later.set("code_cache.max_entries", "8").unwrap();
    let plan = vec![PlannedRetune { at_instructions: 3 * M, config: later }];
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let limits = RunLimits { max_insns: Some(5 * M), timeout_ns: None };
    let outcome =
        machine.run_with_retunes(limits, &mut monitor, &mut CaptureHost::default(), plan).unwrap();
    assert_eq!(outcome, RunOutcome::MaxInsns);
    let report = machine.report(&monitor, outcome);
    assert_eq!(report.retunes.len(), 1);
    let mark = &report.retunes[0];
    assert!(
        mark.instructions >= 3 * M && mark.instructions < 3 * M + (1 << 18) + 100,
        "{}",
        mark.instructions
    );
    assert!(mark.wall_ns > 0 && mark.wall_ns <= report.wall_ns);
    assert_eq!(mark.changes.get("code_cache.max_entries").map(String::as_str), Some("8"));
    assert!(report.code_cache.entries <= 8);

    // A plan with a knob that is not live runs nothing.
    let mut bad = machine.config().clone();
    bad.set("runtime.vcpus", "2").unwrap();
    let plan = vec![PlannedRetune { at_instructions: 0, config: bad }];
    let err = machine.run_with_retunes(limits, &mut monitor, &mut CaptureHost::default(), plan);
    assert!(matches!(err, Err(ConfigError::NotLive { .. })));
}
