//! The JIT's speed in headless Chromium, the browser counterpart of
//! `tunevm bench`'s JIT section (src/cli/bench.rs): cpubench.elf run by the
//! interpreter, by the baseline tier only and with full tiering, and the same
//! C compiled straight to wasm32 by clang (workloads/bin/cpubench.wasm), all
//! in one page, one run. Prints a markdown table and the ratios through
//! `console_log!` (the test runner copies it to stdout).
//!
//! A benchmark, not a test: it takes a minute or more, so it is compiled
//! only with the `web-bench` feature (wasm32 only); everywhere else this
//! file is empty, and `scripts/test-web.sh` never runs it. Run it with
//! `scripts/bench-web.sh` (release build, plain and threads). Runs per
//! configuration: `TUNEVM_WEB_BENCH_REPEAT` at compile time (default 1; the
//! median is reported).
#![cfg(all(target_arch = "wasm32", feature = "web-bench"))]

use js_sys::{Function, Object, Reflect, Uint8Array, WebAssembly};
use tunevm::config::VmConfig;
use tunevm::monitor::{PerformanceMonitor, Report};
use tunevm::runtime::{Host, Machine, RunLimits, RunOutcome};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CPUBENCH: &[u8] = include_bytes!("../workloads/bin/cpubench.elf");
const CPUBENCH_WASM: &[u8] = include_bytes!("../workloads/bin/cpubench.wasm");
/// Guest instructions of one whole cpubench.elf run.
const INSNS: u64 = 497_758_853;
/// What the guest prints last and what `cpubench_run(600)` returns.
const CHECKSUM: u64 = 0x3b83_ab4b_1a61_130d;
const REPS: i32 = 600;

const MIXBENCH: &[u8] = include_bytes!("../workloads/bin/mixbench.elf");
const MIXBENCH_WASM: &[u8] = include_bytes!("../workloads/bin/mixbench.wasm");
const MIX_INSNS: u64 = 592_705_552;
const MIX_CHECKSUM: u64 = 0x5d4b_6e56_986a_d4e4;
const MIX_REPS: i32 = 450;

/// A workload with a clang wasm32 build of the same C.
struct Bench {
    elf: &'static [u8],
    wasm: &'static [u8],
    export: &'static str,
    reps: i32,
    insns: u64,
    checksum: u64,
}

const CPU: Bench = Bench {
    elf: CPUBENCH,
    wasm: CPUBENCH_WASM,
    export: "cpubench_run",
    reps: REPS,
    insns: INSNS,
    checksum: CHECKSUM,
};
const MIX: Bench = Bench {
    elf: MIXBENCH,
    wasm: MIXBENCH_WASM,
    export: "mixbench_run",
    reps: MIX_REPS,
    insns: MIX_INSNS,
    checksum: MIX_CHECKSUM,
};

fn repeat() -> usize {
    option_env!("TUNEVM_WEB_BENCH_REPEAT").and_then(|s| s.parse().ok()).unwrap_or(1).max(1)
}

/// Console output in memory, time from `performance.now`.
#[derive(Default)]
struct BenchHost {
    output: Vec<u8>,
}

impl Host for BenchHost {
    fn now_ns(&mut self) -> u64 {
        tunevm::jit::clock::now_ns()
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

/// `VmConfig::default()` with `sets` applied, as `tunevm bench` builds it.
fn config_with(sets: &[(&str, &str)]) -> VmConfig {
    let mut config = VmConfig::default();
    // scripts/bench-web.sh's SET=key=value: under every row's own settings.
    if let Some(kv) = option_env!("TUNEVM_WEB_BENCH_SET").filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').expect("SET is key=value");
        config.set(k, v).unwrap_or_else(|e| panic!("SET={kv}: {e}"));
    }
    for (k, v) in sets {
        config.set(k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    config.validate().expect("bench config is valid");
    config
}

/// One whole run of `b`'s ELF; it must exit 0 having printed the checksum.
fn measure(b: &Bench, name: &str, config: VmConfig) -> Report {
    let mut machine = Machine::new(config, b.elf).expect("the workload loads");
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let mut host = BenchHost::default();
    let limits = RunLimits { max_insns: Some(20_000_000_000), timeout_ns: None };
    let outcome = machine.run(limits, &mut monitor, &mut host);
    let console = String::from_utf8_lossy(&host.output);
    assert_eq!(outcome, RunOutcome::Exited(0), "{name}: {console}");
    let want = format!("checksum: {:#018x}", b.checksum);
    assert!(console.contains(&want), "{name}: no '{want}' in {console:?}");
    let report = machine.report(&monitor, outcome);
    assert_eq!(report.instructions, b.insns, "{name}: instructions");
    report
}

/// The clang build in this page: compiled and instantiated through
/// `WebAssembly` (no imports), then `cpubench_run(600)` called `1 + repeat`
/// times, each call timed. V8 compiles lazily (Liftoff first, TurboFan for
/// hot functions in the background) and keeps a module's code for any later
/// module of the same bytes, so only the page's first call pays for
/// compiling; the later calls run optimized code, as `time_wasm_export` does
/// natively (Cranelift compiles before the timed call). Returns the first
/// call's nanoseconds and the later calls'.
fn direct_wasm_ns(b: &Bench, repeat: usize) -> (u64, Vec<u64>) {
    let module = WebAssembly::Module::new(&Uint8Array::from(b.wasm)).expect("compiles");
    let instance = WebAssembly::Instance::new(&module, &Object::new()).expect("instantiates");
    let run: Function = Reflect::get(&instance.exports(), &b.export.into())
        .expect("export")
        .dyn_into()
        .expect("the export is a function");
    let call = || {
        let t0 = tunevm::jit::clock::now_ns();
        let result = run.call1(&JsValue::NULL, &b.reps.into()).expect("the export returns");
        let ns = tunevm::jit::clock::now_ns() - t0;
        // An i64 result arrives as a BigInt.
        let checksum = i64::try_from(result.clone())
            .unwrap_or_else(|_| panic!("{} returned {result:?}", b.export))
            as u64;
        assert_eq!(checksum, b.checksum, "{} checksum {checksum:#x}", b.export);
        ns
    };
    let first = call();
    (first, (0..repeat).map(|_| call()).collect())
}

fn median<T: Clone>(mut v: Vec<T>, key: impl Fn(&T) -> u64) -> T {
    v.sort_by_key(|x| key(x));
    v[v.len() / 2].clone()
}

fn us(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| format!("{:.0}", v as f64 / 1e3))
}

fn pct(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.2} %", r * 100.0))
}

/// Whole compile time, then its two parts: discovery and wasm generation
/// (the VM's own code) and the engine's compile and instantiation.
fn compile_split(r: &Report) -> String {
    let ms = |n: u64| n as f64 / 1e6;
    let j = &r.jit;
    format!(
        "{:.0} ({:.0} + {:.0})",
        ms(j.compile_ns.total),
        ms(j.codegen_ns.total),
        ms(j.engine_ns.total)
    )
}

fn millions(n: u64) -> String {
    format!("{:.1}", n as f64 / 1e6)
}

#[wasm_bindgen_test]
fn cpubench_jit_vs_interpreter_vs_direct_wasm() {
    let repeat = repeat();
    let build = if cfg!(target_feature = "atomics") { "threads" } else { "plain" };
    let max_tier_up = tunevm::jit::JitConfig::TIER_UP_THRESHOLD.end().to_string();
    let configs: [(&str, Vec<(&str, &str)>); 4] = [
        ("interpreter", vec![("jit.enabled", "false")]),
        ("baseline only", vec![("jit.tier_up_threshold", max_tier_up.as_str())]),
        ("full tiering, units of at most 1024 instructions", vec![("jit.max_unit_insns", "1024")]),
        ("full tiering (defaults)", vec![]),
    ];
    let mut lines = vec![
        format!(
            "## JIT: cpubench.elf in headless Chromium, {build} build \
             ({repeat} run(s) each, median)"
        ),
        String::new(),
        "| engine | MIPS | wall ms | compiled units | compile p50 / p99 / max (us) \
         | code cache hit rate | M insns interp / baseline / optimizing |"
            .into(),
        "|---|---|---|---|---|---|---|".into(),
    ];
    // The defaults once before any other row: the first run of this
    // program in the page, with nothing of it compiled by V8 yet.
    let first = measure(&CPU, "first run", config_with(&[]));
    let mut mips = Vec::new();
    for (i, (name, sets)) in configs.iter().enumerate() {
        let runs: Vec<Report> =
            (0..repeat).map(|_| measure(&CPU, name, config_with(sets))).collect();
        let r = median(runs, |r| r.wall_ns);
        if i == 0 {
            lines.push(format!(
                "| full tiering (defaults), the page's first run of it | {:.1} | {:.0} | {} \
                 | {} / {} / {} | {} | {} / {} / {} |",
                first.mips.unwrap_or(0.0),
                first.wall_ns as f64 / 1e6,
                first.jit.units_compiled,
                us(first.jit.compile_ns.p50),
                us(first.jit.compile_ns.p99),
                us(first.jit.compile_ns.max),
                pct(first.code_cache.hit_rate),
                millions(first.tiers.interpreter.instructions),
                millions(first.tiers.baseline.instructions),
                millions(first.tiers.optimizing.instructions),
            ));
        }
        lines.push(format!(
            "| {name} | {:.1} | {:.0} | {} | {} / {} / {} | {} | {} / {} / {} |",
            r.mips.unwrap_or(0.0),
            r.wall_ns as f64 / 1e6,
            r.jit.units_compiled,
            us(r.jit.compile_ns.p50),
            us(r.jit.compile_ns.p99),
            us(r.jit.compile_ns.max),
            pct(r.code_cache.hit_rate),
            millions(r.tiers.interpreter.instructions),
            millions(r.tiers.baseline.instructions),
            millions(r.tiers.optimizing.instructions),
        ));
        mips.push(r.mips.unwrap_or(f64::NAN));
    }
    let (first_ns, warm) = direct_wasm_ns(&CPU, repeat);
    let direct_ns = median(warm, |&ns| ns) as f64;
    let direct_mips = INSNS as f64 * 1e3 / direct_ns;
    let first_mips = INSNS as f64 * 1e3 / first_ns as f64;
    lines.push(format!(
        "| clang -O2 to wasm32, same C (V8, same page) | {direct_mips:.1} (guest-equivalent) \
         | {:.0} | - | - / - / - | - | - |",
        direct_ns / 1e6
    ));
    lines.push(format!(
        "| the same, the page's first call (includes V8's lazy compile and tier-up) \
         | {first_mips:.1} (guest-equivalent) | {:.0} | - | - / - / - | - | - |",
        first_ns as f64 / 1e6
    ));
    let (interp, base, full) = (mips[0], mips[1], mips[3]);
    lines.push(String::new());
    lines.push(format!(
        "ratios, same run: baseline / interpreter {:.2}x; full tiering / interpreter {:.2}x \
         (target >= 5x); full tiering / direct wasm {:.1} % (target >= 50 %; {:.1} % of the \
         first call; the page's first run at the defaults {:.1} %); units of at most 1024 \
         instructions / defaults {:.2}x",
        base / interp,
        full / interp,
        100.0 * full / direct_mips,
        100.0 * full / first_mips,
        100.0 * first.mips.unwrap_or(f64::NAN) / direct_mips,
        mips[2] / full,
    ));
    // One call, so that the lines stay together in the runner's output.
    console_log!("{}", lines.join("\n"));
}

/// mixbench (calls, indirect calls, lists, a parser, small matrices): full
/// tiering with and without chaining, nested calls, jump targets, bigger
/// units, against
/// its clang wasm32 build, in
/// one page. The JIT's first run is the fresh page's (nothing compiled
/// yet: each run makes a new machine and JIT); the direct build's first call
/// includes V8's own lazy compile.
#[wasm_bindgen_test]
fn mixbench_jit_vs_direct_wasm() {
    let repeat = repeat();
    let build = if cfg!(target_feature = "atomics") { "threads" } else { "plain" };
    // V8 reuses a module's code for a later module of the same bytes, so a
    // later row may find some of its units compiled by an earlier one (units
    // under the size limits are the same in several rows): the defaults come
    // last, so that bias goes their way; the first row (the defaults, run
    // once before the others) has none of it.
    let configs: [(&str, Vec<(&str, &str)>); 9] = [
        ("full tiering, no chaining", vec![("jit.chaining", "false")]),
        ("full tiering, units of 1 page", vec![("jit.unit_pages", "1")]),
        ("full tiering, units of at most 1024 instructions", vec![("jit.max_unit_insns", "1024")]),
        ("full tiering, nested calls", vec![("jit.nested_calls", "true")]),
        ("full tiering, no jump targets", vec![("jit.jump_targets", "0")]),
        ("full tiering, no access groups", vec![("jit.access_groups", "false")]),
        (
            "full tiering, units copy code other units start with",
            vec![("jit.stop_at_units", "false")],
        ),
        ("full tiering, no counted loops", vec![("jit.counted_loops", "false")]),
        ("full tiering (defaults)", vec![]),
    ];
    let mut lines = vec![
        format!(
            "## JIT: mixbench.elf in headless Chromium, {build} build \
             ({repeat} run(s) each, median)"
        ),
        String::new(),
        "| engine | MIPS | wall ms | compiled units | compile total ms (codegen + engine) | \
         calls / chained per M insns |"
            .into(),
        "|---|---|---|---|---|---|".into(),
    ];
    // The defaults once before any other row: the first run of this
    // program in the page, with nothing of it compiled by V8 yet (the rows
    // below may find modules of the same bytes compiled by earlier runs).
    let first = measure(&MIX, "first run", config_with(&[]));
    let per_m = |r: &Report, n: u64| n as f64 * 1e6 / r.instructions.max(1) as f64;
    lines.push(format!(
        "| full tiering (defaults), the page's first run of it | {:.1} | {:.0} | {} | {} \
         | {:.0} / {:.0} |",
        first.mips.unwrap_or(0.0),
        first.wall_ns as f64 / 1e6,
        first.jit.units_compiled,
        compile_split(&first),
        per_m(&first, first.jit.calls),
        per_m(&first, first.jit.chained),
    ));
    let mut mips = Vec::new();
    for (name, sets) in &configs {
        // scripts/bench-web.sh's DEFAULTS_ONLY=1: the defaults' row only.
        if option_env!("TUNEVM_WEB_BENCH_DEFAULTS_ONLY") == Some("1") && !sets.is_empty() {
            continue;
        }
        let runs: Vec<Report> =
            (0..repeat).map(|_| measure(&MIX, name, config_with(sets))).collect();
        let r = median(runs, |r| r.wall_ns);
        let per_m = |n: u64| per_m(&r, n);
        lines.push(format!(
            "| {name} | {:.1} | {:.0} | {} | {} | {:.0} / {:.0} |",
            r.mips.unwrap_or(0.0),
            r.wall_ns as f64 / 1e6,
            r.jit.units_compiled,
            compile_split(&r),
            per_m(r.jit.calls),
            per_m(r.jit.chained),
        ));
        mips.push(r.mips.unwrap_or(f64::NAN));
    }
    let (first_ns, warm) = direct_wasm_ns(&MIX, repeat);
    let direct_ns = median(warm, |&ns| ns) as f64;
    let direct_mips = MIX_INSNS as f64 * 1e3 / direct_ns;
    let first_mips = MIX_INSNS as f64 * 1e3 / first_ns as f64;
    lines.push(format!(
        "| clang -O2 to wasm32, same C (V8, same page) | {direct_mips:.1} (guest-equivalent) \
         | {:.0} | - | - | - |",
        direct_ns / 1e6
    ));
    lines.push(format!(
        "| the same, the page's first call | {first_mips:.1} (guest-equivalent) | {:.0} | - | - | - |",
        first_ns as f64 / 1e6
    ));
    lines.push(String::new());
    if mips.len() < configs.len() {
        // DEFAULTS_ONLY: no other rows to compare with.
        console_log!("{}", lines.join("\n"));
        return;
    }
    lines.push(format!(
        "ratios, same run: full tiering / direct wasm {:.1} % (target >= 70 % in the page; \
         the page's first run at the defaults {:.1} %); \
         chaining on / off {:.2}x; defaults (units of 4 pages) / units of 1 page {:.2}x; \
         units of at most 1024 / defaults {:.2}x; nested calls on / off {:.2}x; \
         jump targets on / off {:.2}x; access groups on / off {:.2}x; \
         units stopping where others start / defaults {:.2}x; counted loops on / off {:.2}x",
        100.0 * mips[8] / direct_mips,
        100.0 * first.mips.unwrap_or(f64::NAN) / direct_mips,
        mips[8] / mips[0],
        mips[8] / mips[1],
        mips[2] / mips[8],
        mips[3] / mips[8],
        mips[8] / mips[4],
        mips[8] / mips[5],
        mips[6] / mips[8],
        mips[8] / mips[7],
    ));
    console_log!("{}", lines.join("\n"));
}
