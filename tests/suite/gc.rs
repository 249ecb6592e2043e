//! The GC heap from the guest's side: the gc-* workloads (each checks its
//! own result, so a collector that frees a live object fails the run) under
//! the interpreter and the JIT, with the verifier on; the write barrier
//! broken on purpose; exhaustion reported cleanly; and every `gc.*` knob
//! moving the report's figures.
#![cfg(not(target_arch = "wasm32"))]
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tunevm::config::VmConfig;
use tunevm::monitor::{PerformanceMonitor, Report};
use tunevm::runtime::{run_captured, CaptureHost, Machine, RunLimits, RunOutcome};

const WORKLOADS: [&str; 4] = ["gc-binary-trees", "gc-graph", "gc-lru", "gc-exhaust"];

fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn elf(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/workloads/bin/{name}.elf", root())).unwrap()
}

fn expected(name: &str) -> (String, i64) {
    let out = std::fs::read_to_string(format!("{}/workloads/expected/{name}.out", root())).unwrap();
    let code = std::fs::read_to_string(format!("{}/workloads/expected/{name}.code", root()))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (out, code)
}

fn config(sets: &[(&str, &str)]) -> VmConfig {
    let mut config = VmConfig::default();
    for (k, v) in sets {
        config.set(k, v).unwrap();
    }
    config.validate().unwrap();
    config
}

struct Run {
    outcome: RunOutcome,
    report: Report,
    console: String,
}

/// Run workload `name` under `sets`; runs with the same arguments are made
/// once and shared between tests.
fn run(name: &str, sets: &[(&str, &str)]) -> Arc<Run> {
    type Runs = Mutex<HashMap<String, Arc<OnceLock<Arc<Run>>>>>;
    static RUNS: OnceLock<Runs> = OnceLock::new();
    let key = format!("{name} {sets:?}");
    let cell = RUNS.get_or_init(Default::default).lock().unwrap().entry(key).or_default().clone();
    cell.get_or_init(|| {
        let limits = RunLimits { max_insns: Some(2_000_000_000), timeout_ns: None };
        let r = run_captured(config(sets), &elf(name), limits).unwrap();
        Arc::new(Run {
            outcome: r.outcome,
            report: r.report,
            console: String::from_utf8_lossy(&r.console).into_owned(),
        })
    })
    .clone()
}

/// An 8 MiB heap collects many times in every workload (gc-exhaust keeps
/// 48 MiB live, so it needs the default heap).
fn small_heap(name: &str) -> &'static str {
    if name == "gc-exhaust" {
        "268435456"
    } else {
        "8388608"
    }
}

fn check_expected(name: &str, sets: &[(&str, &str)]) -> Arc<Run> {
    let r = run(name, sets);
    let (out, code) = expected(name);
    assert_eq!(r.console, out, "{name} {sets:?}");
    assert_eq!(r.report.exit_code, Some(code), "{name} {sets:?}: {:?}", r.outcome);
    let g = &r.report.gc;
    assert!(g.used, "{name} used the GC");
    assert_eq!(g.verify_failures, 0, "{name} {sets:?}: {}", g.verify_first);
    r
}

#[test]
fn every_gc_workload_is_right_interpreted_and_compiled_with_the_verifier_on() {
    for name in WORKLOADS {
        let heap = small_heap(name);
        let base = [("gc.verify", "true"), ("gc.heap_size_limit", heap)];
        let interp = check_expected(name, &[&base[..], &[("jit.enabled", "false")]].concat());
        let jit = check_expected(
            name,
            &[
                &base[..],
                &[
                    ("jit.min_threshold", "0"),
                    ("jit.max_threshold", "0"),
                    ("jit.background_compile", "false"),
                    ("jit.enable_compile_time_budget", "false"),
                ],
            ]
            .concat(),
        );
        assert!(jit.report.tiers.optimizing.instructions > 0, "{name}: compiled code ran");
        if name != "gc-exhaust" {
            assert!(
                interp.report.gc.collections >= 3,
                "{name}: {:?}",
                interp.report.gc.collections
            );
        }
        // The same program allocates the same objects either way.
        assert_eq!(interp.report.gc.allocations, jit.report.gc.allocations, "{name}");
        assert_eq!(interp.report.instructions, jit.report.instructions, "{name}");
    }
}

#[test]
fn a_heap_too_small_for_the_live_data_is_reported_by_the_guest() {
    let r = run("gc-exhaust", &[("gc.heap_size_limit", "33554432")]);
    assert_eq!(r.report.exit_code, Some(3), "{}", r.console);
    assert!(r.console.contains("out of GC heap"), "{}", r.console);
    assert!(r.report.gc.alloc_failures >= 1);
    assert!(r.report.gc.heap_limit_bytes == 32 << 20);
}

/// Mutate a large graph with the barrier broken: marking misses objects
/// stored into already scanned ones, which the verifier reports (and which
/// the program's own checksum then usually catches too).
#[test]
fn a_broken_write_barrier_is_caught() {
    let go = |broken: bool| {
        let cfg = config(&[
            ("gc.verify", "true"),
            ("gc.heap_size_limit", "8388608"),
            ("gc.concurrent_marking", "false"),
            ("gc.mark_quota_us", "10"),
            ("gc.adaptive_quota", "false"),
            ("gc.incremental_step", "1"),
            ("jit.enabled", "false"),
        ]);
        let mut machine = Machine::new(cfg, &elf("gc-graph")).unwrap();
        if broken {
            machine.bus.gc().unwrap().disable_barrier_for_tests();
        }
        let mut monitor = PerformanceMonitor::default();
        monitor.start_collection();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(2_000_000_000), timeout_ns: None };
        let outcome = machine.run(limits, &mut monitor, &mut host);
        (machine.report(&monitor, outcome), String::from_utf8_lossy(&host.output).into_owned())
    };
    let (ok, _) = go(false);
    assert_eq!(ok.gc.verify_failures, 0, "{}", ok.gc.verify_first);
    assert!(ok.gc.barrier_hits.iter().sum::<u64>() > 0, "the barrier saw stores");
    let (bad, console) = go(true);
    assert!(bad.gc.verify_failures > 0, "the verifier catches lost objects: {console}");
}

fn gc(name: &str, sets: &[(&str, &str)]) -> tunevm::monitor::GcReport {
    let r = run(name, &[&[("jit.enabled", "false")][..], sets].concat());
    assert!(matches!(r.outcome, RunOutcome::Exited(_)), "{name} {sets:?}: {:?}", r.outcome);
    r.report.gc.clone()
}

const SMALL: (&str, &str) = ("gc.heap_size_limit", "8388608");

#[test]
fn heap_size_limit_sets_how_often_the_heap_is_collected() {
    let small = gc("gc-binary-trees", &[SMALL]);
    let large = gc("gc-binary-trees", &[("gc.heap_size_limit", "67108864")]);
    assert_eq!((small.heap_limit_bytes, large.heap_limit_bytes), (8 << 20, 64 << 20));
    assert!(
        small.collections > large.collections,
        "{} vs {}",
        small.collections,
        large.collections
    );
}

#[test]
fn quotas_and_the_step_set_how_marking_and_sweeping_are_sliced() {
    let fixed = [SMALL, ("gc.adaptive_quota", "false"), ("gc.concurrent_marking", "false")];
    let per_cycle =
        |g: &tunevm::monitor::GcReport| g.pause_ns.count as f64 / g.cycles_started as f64;
    let with = |k, v| gc("gc-binary-trees", &[&fixed[..], &[(k, v)]].concat());
    let (short, long) = (with("gc.mark_quota_us", "10"), with("gc.mark_quota_us", "100000"));
    assert!(per_cycle(&short) > per_cycle(&long), "{} vs {}", per_cycle(&short), per_cycle(&long));
    let (short, long) = (with("gc.sweep_quota_us", "10"), with("gc.sweep_quota_us", "100000"));
    assert!(per_cycle(&short) > per_cycle(&long), "{} vs {}", per_cycle(&short), per_cycle(&long));
    // With slices cut short by a small quota, the step sets how often one runs.
    let step = |v| {
        gc(
            "gc-graph",
            &[&fixed[..], &[("gc.mark_quota_us", "20"), ("gc.incremental_step", v)]].concat(),
        )
    };
    let (fine, coarse) = (step("10"), step("5000"));
    assert!(
        per_cycle(&fine) > 2.0 * per_cycle(&coarse),
        "{} vs {}",
        per_cycle(&fine),
        per_cycle(&coarse)
    );
    let stw = gc(
        "gc-binary-trees",
        &[SMALL, ("gc.incremental", "false"), ("gc.concurrent_marking", "false")],
    );
    assert_eq!(stw.pause_ns.count, stw.cycles_started, "one pause per cycle");
}

#[test]
fn the_adaptive_controller_moves_the_quota_only_when_on() {
    let base = [
        SMALL,
        ("gc.concurrent_marking", "false"),
        ("gc.mark_quota_us", "10"),
        ("gc.incremental_step", "2000"),
    ];
    let on = gc("gc-graph", &base);
    let off = gc("gc-graph", &[&base[..], &[("gc.adaptive_quota", "false")]].concat());
    assert_eq!((off.mark_quota_us, off.slice_every), (10.0, 2000));
    assert!(off.quota_series.is_empty());
    assert!(
        on.mark_quota_us > 10.0 || on.slice_every < 2000,
        "marking fell behind {} times; quota {} µs, a slice every {} allocations",
        on.marking_fell_behind,
        on.mark_quota_us,
        on.slice_every
    );
}

#[test]
fn concurrent_marking_marks_on_a_marker_thread() {
    let on = gc("gc-graph", &[SMALL]);
    let off = gc("gc-graph", &[SMALL, ("gc.concurrent_marking", "false")]);
    assert!(on.concurrent && on.marker_ns > 0, "{}", on.concurrent_reason);
    assert!(!off.concurrent && off.marker_ns == 0);
    // A guest that never uses the GC heap gets no marker thread.
    let unused = gc("hello", &[]);
    assert!(!unused.used && !unused.concurrent, "{}", unused.concurrent_reason);
    assert!(
        unused.concurrent_reason.contains("first gc.* instruction"),
        "{}",
        unused.concurrent_reason
    );
}

#[test]
fn write_barrier_shards_spread_the_dirty_pages() {
    let one = gc("gc-graph", &[SMALL, ("gc.write_barrier_shards", "1")]);
    let eight = gc("gc-graph", &[SMALL]);
    assert_eq!((one.barrier_hits.len(), eight.barrier_hits.len()), (1, 8));
    assert!(eight.barrier_hits.iter().filter(|&&h| h > 0).count() >= 4, "{:?}", eight.barrier_hits);
}

#[test]
fn the_trigger_and_target_size_the_heap() {
    let low = gc(
        "gc-binary-trees",
        &[SMALL, ("gc.trigger_threshold", "0.5"), ("gc.target_occupancy", "0.3")],
    );
    let high = gc("gc-binary-trees", &[SMALL, ("gc.trigger_threshold", "0.95")]);
    assert!(low.collections > high.collections, "{} vs {}", low.collections, high.collections);
    // The graph's live data (a few MiB) sizes the heap past the 4 MiB floor.
    let heap = ("gc.heap_size_limit", "16777216");
    let tight = gc("gc-graph", &[heap, ("gc.target_occupancy", "0.75")]);
    let loose = gc("gc-graph", &[heap, ("gc.target_occupancy", "0.2")]);
    assert!(
        tight.collections > loose.collections,
        "{} vs {}",
        tight.collections,
        loose.collections
    );
}

/// Several harts: on one worker every hart's registers are roots (each
/// publishes them at its quantum end and does not run while another
/// collects), so gc.* works; on several workers it is an illegal
/// instruction (no stop-the-world safepoint across workers yet).
#[test]
fn several_harts_use_the_gc_on_one_worker_only() {
    let sets = |workers| {
        vec![
            ("runtime.vcpus", "2"),
            ("runtime.pool_size", workers),
            ("gc.heap_size_limit", "8388608"),
            ("gc.verify", "true"),
        ]
    };
    let one = run("gc-graph", &sets("1"));
    assert_eq!(one.console, expected("gc-graph").0);
    assert_eq!(one.report.exit_code, Some(0));
    assert!(one.report.gc.collections >= 3 && one.report.gc.verify_failures == 0);
    let two = run("gc-graph", &sets("2"));
    assert_eq!(two.report.exit_code, Some(3), "{}", two.console);
    assert!(two.console.contains("mcause=0x2"), "illegal instruction: {}", two.console);
    assert!(!two.report.gc.used);
}

/// A remark that reaches the mark quota with marking left hands the rest
/// back to marking (slices, or the marker thread) and a later remark ends
/// the cycle; the verifier finds nothing lost, the program's checksum is
/// right, and cycles still end. With a quota the remark never reaches,
/// nothing is cut. (`gc::tests::a_remark_cut_at_its_quota_rearms_what_it_rescanned`
/// checks the cut itself without depending on timing.)
#[test]
fn a_remark_past_the_quota_hands_the_rest_back_to_marking() {
    // Quotas at which remarks are cut in each mode (with the marker thread
    // the remark finds little left, so only a very short quota cuts it).
    for (concurrent, quota) in [("false", "200"), ("true", "10")] {
        let tight = [
            ("gc.verify", "true"),
            SMALL,
            ("gc.concurrent_marking", concurrent),
            ("gc.adaptive_quota", "false"),
            ("jit.enabled", "false"),
        ];
        let cut =
            check_expected("gc-graph", &[&tight[..], &[("gc.mark_quota_us", quota)]].concat());
        let g = &cut.report.gc;
        // With the marker thread on a loaded machine (the whole suite at
        // once) marking may instead fall behind, and a cycle that runs out
        // of room ends in one pause without any remark: only the verifier
        // and the checksum are checked there.
        if concurrent == "false" {
            assert!(g.remark_cuts > 0, "no remark was cut");
        }
        assert!(g.collections >= 3, "concurrent {concurrent}: {} collections", g.collections);
        let roomy =
            check_expected("gc-graph", &[&tight[..], &[("gc.mark_quota_us", "1000000")]].concat());
        assert_eq!(roomy.report.gc.remark_cuts, 0, "concurrent {concurrent}");
    }
}
