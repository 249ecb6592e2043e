//! Every "problem" preset reproduces its problem and its "fix" preset fixes
//! it, on the preset's own workload, measured by the figure the preset names:
//! the problem run is worse by a clear margin, and the fix meets the tuning
//! guide's target where the guide has one for that figure.
// Native only: runs the wasmtime backend.
#![cfg(not(target_arch = "wasm32"))]
use tunevm::config::{find_preset, presets, PresetKind};
use tunevm::monitor::Report;
use tunevm::runtime::{run_captured, RunLimits, RunOutcome};

fn run_preset(id: &str) -> Report {
    let preset = find_preset(id).unwrap_or_else(|| panic!("no preset {id}"));
    let path = format!("{}/workloads/bin/{}.elf", env!("CARGO_MANIFEST_DIR"), preset.workload);
    let elf = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let run = run_captured(preset.config().expect("valid preset"), &elf, RunLimits::default())
        .expect("loads");
    assert_eq!(run.outcome, RunOutcome::Exited(0), "{id} on {}", preset.workload);
    run.report
}

#[test]
fn every_problem_has_a_fix_and_every_preset_a_built_in_workload() {
    for p in presets() {
        let path = format!("{}/workloads/bin/{}.elf", env!("CARGO_MANIFEST_DIR"), p.workload);
        assert!(std::path::Path::new(&path).is_file(), "{}: no {path}", p.id);
        if p.kind == PresetKind::Problem {
            let fix = p.id.replace("-problem", "-fix");
            assert!(find_preset(&fix).is_some(), "{} has no {fix}", p.id);
        }
    }
}

#[test]
fn compile_time_presets() {
    let problem = run_preset("compile-time-problem");
    let fix = run_preset("compile-time-fix");
    let (p, f) = (&problem.jit.compile_ns, &fix.jit.compile_ns);
    eprintln!(
        "compile total {} ms -> {} ms, units {} -> {}, p50 {:?} -> {:?}, p99 {:?} -> {:?}",
        p.total / 1_000_000,
        f.total / 1_000_000,
        p.count,
        f.count,
        p.p50,
        f.p50,
        p.p99,
        f.p99
    );
    assert!(p.total > 5 * f.total, "compile time: problem {} ns, fix {} ns", p.total, f.total);
    assert!(p.count > 2 * f.count, "units: problem {}, fix {}", p.count, f.count);
    // The median unit, not p99: with ~80 units the fix's p99 is its slowest
    // compile, which one descheduling on a loaded machine can inflate.
    let (pm, fm) = (p.p50.unwrap(), f.p50.unwrap());
    assert!(pm > 3 * fm, "median unit: problem {pm} ns, fix {fm} ns");
    assert!(
        fix.tiers.baseline.instructions + fix.tiers.optimizing.instructions
            > problem.instructions / 2
    );
}

#[test]
fn tlb_presets() {
    let problem = run_preset("tlb-problem");
    let fix = run_preset("tlb-fix");
    let (p, f) = (problem.tlb.hit_rate.unwrap(), fix.tlb.hit_rate.unwrap());
    eprintln!("tlb hit rate {p:.4} -> {f:.4}, walks {} -> {}", problem.tlb.walks, fix.tlb.walks);
    assert!(p < 0.9, "the problem preset's hit rate {p} should miss the 90 % target");
    assert!(f > 0.99, "the fix preset's hit rate {f} should be above 99 %");
    assert!(problem.tlb.walks > 100 * fix.tlb.walks);
}

#[test]
fn memory_presets() {
    let problem = run_preset("memory-problem");
    let fix = run_preset("memory-fix");
    let (p, f) = (problem.memory.code_bytes, fix.memory.code_bytes);
    let hit = fix.code_cache.hit_rate.unwrap();
    eprintln!("code bytes {p} -> {f}, fix hit rate {hit:.4}");
    assert!(2 * p > 3 * f, "code bytes: problem {p}, fix {f}");
    assert!(f <= 1 << 20, "the fix caps generated code at 1 MiB, holds {f}");
    assert!(hit > 0.85, "the fix keeps the code cache hit rate above 85 %: {hit}");
    // What the fix's text says does the saving: the threshold (fewer units
    // compiled), not eviction (the cap is a bound this program stays under).
    let (pu, fu) = (problem.jit.units_compiled, fix.jit.units_compiled);
    assert!(2 * fu < pu, "units compiled: problem {pu}, fix {fu}");
    assert_eq!(fix.code_cache.evictions, 0, "the fix's text says it never has to evict");
}

#[test]
fn gc_pause_presets() {
    let problem = run_preset("gc-pause-problem");
    let fix = run_preset("gc-pause-fix");
    let (p, f) = (&problem.gc.pause_ns, &fix.gc.pause_ns);
    eprintln!(
        "gc pauses p50 {:?} -> {:?}, p99 {:?} -> {:?}, n {} -> {}",
        p.p50, f.p50, p.p99, f.p99, p.count, f.count
    );
    // Medians: a loaded test machine can stretch any one pause.
    let (pm, fm) = (p.p50.unwrap(), f.p50.unwrap());
    assert!(pm > 1_000_000, "stop-the-world median pause {pm} ns should miss the 1 ms target");
    assert!(fm < 1_000_000 && 4 * fm < pm, "fix median pause {fm} ns (problem {pm} ns)");
    assert!(problem.gc.collections >= 10 && fix.gc.collections >= 10);
    assert_eq!(problem.gc.pause_ns.count, problem.gc.cycles_started, "one pause per cycle");
}

#[test]
fn gc_memory_presets() {
    let problem = run_preset("gc-memory-problem");
    let fix = run_preset("gc-memory-fix");
    let (p, f) = (problem.gc.heap_committed_bytes, fix.gc.heap_committed_bytes);
    eprintln!(
        "heap committed {p} -> {f}, collections {} -> {}",
        problem.gc.collections, fix.gc.collections
    );
    assert_eq!(problem.gc.collections, 0, "the late trigger never fires");
    assert!(p > 2 * f, "heap RAM: problem {p}, fix {f}");
    assert!(fix.gc.collections >= 10, "the concurrent cycles finish ({})", fix.gc.collections);
}

/// The guide's "coroutines rather than threads" on smp-ring (8 vCPUs, a
/// token passed by IPI): a worker per vCPU against 2 workers, by wall time
/// (the preset's figure). Natively the gain is modest (1.15-1.5x measured,
/// BENCHMARKS.md; about 2x in the page, checked by www/e2e/lessons.test.mjs),
/// so each side runs twice, interleaved, its faster run is kept, and the
/// check is only the direction with a small margin. (Counts such as task
/// switches differ only on an idle machine, so they are printed, not checked.)
#[test]
fn smp_threads_presets() {
    let mut best = [u64::MAX; 2];
    let mut switches = [0u64; 2];
    for id in ["smp-threads-problem", "smp-threads-fix", "smp-threads-fix", "smp-threads-problem"] {
        let r = run_preset(id);
        let smp = r.smp.as_ref().expect("several harts");
        let side = usize::from(id.ends_with("-fix"));
        assert_eq!(smp.workers.len(), [8, 2][side], "{id}: workers");
        best[side] = best[side].min(r.wall_ns);
        switches[side] = smp.vcpus.iter().map(|v| v.task_switches).sum();
    }
    eprintln!(
        "smp-ring 8 vCPUs: 8 workers {} ms ({} switches), 2 workers {} ms ({} switches)",
        best[0] / 1_000_000,
        switches[0],
        best[1] / 1_000_000,
        switches[1]
    );
    assert!(
        best[0] * 100 > best[1] * 105,
        "wall time: a worker per vCPU {} ns, 2 workers {} ns",
        best[0],
        best[1]
    );
}
