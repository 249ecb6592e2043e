//! The browser JIT backend in headless Chromium (wasm-bindgen-test): real
//! workloads run JIT-forced must end exactly as interpreter-only runs do,
//! compiled code must really run (called through the VM's own function
//! table), and evicted modules must give their table slots back.
//!
//! Run by scripts/test-web.sh, in the plain build and in the threads build
//! (shared memory). Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use tunevm::config::VmConfig;
use tunevm::jit::Tier;
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{Host, Machine, RunLimits, RunOutcome};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const HELLO: &[u8] = include_bytes!("../workloads/bin/hello.elf");
const SMC: &[u8] = include_bytes!("../workloads/bin/smc.elf");
const TRAPS: &[u8] = include_bytes!("../workloads/bin/traps.elf");
const HTIF_HELLO: &[u8] = include_bytes!("../workloads/bin/htif-hello.elf");
const CPUBENCH: &[u8] = include_bytes!("../workloads/bin/cpubench.elf");
const MIXBENCH: &[u8] = include_bytes!("../workloads/bin/mixbench.elf");

/// Console output in memory, time from `performance.now`.
#[derive(Default)]
struct TestHost {
    output: Vec<u8>,
}

impl Host for TestHost {
    fn now_ns(&mut self) -> u64 {
        tunevm::jit::clock::now_ns()
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

/// How a run is configured.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Interpreter,
    /// Everything compiled before its first execution, at this tier.
    Forced(Tier),
}

fn config(mode: Mode, max_entries: Option<usize>) -> VmConfig {
    let mut c = VmConfig::default();
    c.memory.ram_bytes = 16 << 20;
    match mode {
        Mode::Interpreter => c.jit.enabled = false,
        Mode::Forced(tier) => {
            c.jit.enabled = true;
            c.jit.min_threshold = 0;
            c.jit.max_threshold = 0;
            c.jit.enable_compile_time_budget = false;
            c.jit.tier_up_threshold = match tier {
                Tier::Optimizing => 0,
                _ => *tunevm::jit::JitConfig::TIER_UP_THRESHOLD.end(),
            };
        }
    }
    if let Some(n) = max_entries {
        c.code_cache.max_entries = n;
    }
    c.validate().expect("test config is valid");
    c
}

struct Run {
    outcome: RunOutcome,
    console: String,
    x: [u64; 32],
    pc: u64,
    retired: u64,
    machine: Machine,
}

fn run(elf: &[u8], config: VmConfig, max_insns: Option<u64>) -> Run {
    let mut machine = Machine::new(config, elf).expect("workload loads");
    let mut monitor = PerformanceMonitor::default();
    monitor.start_collection();
    let mut host = TestHost::default();
    let limits = RunLimits { max_insns, timeout_ns: None };
    let outcome = machine.run(limits, &mut monitor, &mut host);
    Run {
        outcome,
        console: String::from_utf8_lossy(&host.output).into_owned(),
        x: machine.vcpus[0].hart.x,
        pc: machine.vcpus[0].hart.pc,
        retired: machine.vcpus[0].hart.retired(),
        machine,
    }
}

/// Run `elf` interpreted and JIT-forced at `tier`; both must end alike, and
/// compiled code at `tier` must have retired instructions. Returns the JIT run.
fn same_as_interpreter(name: &str, elf: &[u8], tier: Tier, max_insns: Option<u64>) -> Run {
    let want = run(elf, config(Mode::Interpreter, None), max_insns);
    assert!(want.machine.vcpus[0].jit.is_none());
    let got = run(elf, config(Mode::Forced(tier), None), max_insns);
    let jit = got.machine.vcpus[0].jit.as_ref().unwrap_or_else(|| panic!("{name}: no JIT"));
    let stats = jit.stats();
    assert_eq!(got.console, want.console, "{name} {tier:?}: console output");
    assert_eq!(got.outcome, want.outcome, "{name} {tier:?}: outcome");
    assert_eq!(got.x, want.x, "{name} {tier:?}: registers");
    assert_eq!(got.pc, want.pc, "{name} {tier:?}: pc");
    assert_eq!(got.retired, want.retired, "{name} {tier:?}: instructions retired");
    assert_eq!(jit.last_error(), None, "{name} {tier:?}: compile error");
    assert_eq!(stats.failures, 0, "{name} {tier:?}: failed compiles");
    let idx = if tier == Tier::Baseline { 0 } else { 1 };
    assert!(
        stats.retired[idx] > 0 && stats.calls > 0,
        "{name} {tier:?}: compiled code did not run: {stats:?}"
    );
    if tier == Tier::Baseline {
        assert_eq!(stats.retired[1], 0, "{name}: optimizing tier ran with tier-up off");
    }
    got
}

#[wasm_bindgen_test]
fn backend_links_the_vms_own_memory() {
    let got = run(HELLO, config(Mode::Forced(Tier::Optimizing), None), None);
    let jit = got.machine.vcpus[0].jit.as_ref().expect("the browser backend starts");
    let backend = jit.backend().expect("attached");
    assert_eq!(backend.engine_name(), "browser-v8");
    let layout = backend.layout();
    // The threads build's memory is shared; generated modules must say so.
    assert_eq!(layout.shared, cfg!(target_feature = "atomics"));
    assert_eq!(layout.max_pages.is_some(), layout.shared);
    assert_eq!(layout.ram as usize, got.machine.bus.ram().host_base() as usize);
    assert_eq!(layout.page_flags as usize, got.machine.bus.ram().host_page_flags() as usize);
    assert_eq!(layout.ram % 8, 0);
    assert_eq!(layout.state % 8, 0);
    assert_eq!(got.outcome, RunOutcome::Exited(0));
    assert!(got.console.starts_with("Hello from tunevm!"), "{:?}", got.console);
    // In the threads build the VM's memory really is shared.
    let buffer = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer();
    assert_eq!(buffer.is_instance_of::<js_sys::SharedArrayBuffer>(), layout.shared);
    console_log!("layout {layout:?}, engine {}", backend.engine_name());
    // Compile times come from performance.now, not a stub.
    assert!(jit.stats().units_compiled > 0);
    assert!(jit.stats().engine_ns.max().unwrap_or(0) > 0, "engine time not measured");
}

#[wasm_bindgen_test]
fn hello_baseline() {
    same_as_interpreter("hello", HELLO, Tier::Baseline, None);
}

#[wasm_bindgen_test]
fn hello_optimizing() {
    same_as_interpreter("hello", HELLO, Tier::Optimizing, None);
}

#[wasm_bindgen_test]
fn htif_hello_optimizing() {
    let got = same_as_interpreter("htif-hello", HTIF_HELLO, Tier::Optimizing, None);
    assert_eq!(got.console, "hello via htif\n");
}

#[wasm_bindgen_test]
fn smc_baseline() {
    let got = same_as_interpreter("smc", SMC, Tier::Baseline, None);
    assert_eq!(got.outcome, RunOutcome::Exited(0));
    assert!(
        got.machine.vcpus[0].jit.as_ref().unwrap().stats().invalidated > 0,
        "smc invalidated nothing"
    );
}

#[wasm_bindgen_test]
fn smc_optimizing() {
    let got = same_as_interpreter("smc", SMC, Tier::Optimizing, None);
    assert_eq!(got.outcome, RunOutcome::Exited(0));
    assert!(got.console.contains("0 mismatches"), "{}", got.console);
}

#[wasm_bindgen_test]
fn traps_baseline() {
    same_as_interpreter("traps", TRAPS, Tier::Baseline, None);
}

#[wasm_bindgen_test]
fn traps_optimizing() {
    let got = same_as_interpreter("traps", TRAPS, Tier::Optimizing, None);
    assert_eq!(got.outcome, RunOutcome::Exited(0));
}

/// A cut-down cpubench (its whole run is ~500 M instructions).
#[wasm_bindgen_test]
fn cpubench_prefix_optimizing() {
    let got = same_as_interpreter("cpubench", CPUBENCH, Tier::Optimizing, Some(3_000_000));
    assert_eq!(got.outcome, RunOutcome::MaxInsns);
}

/// Nested calls (`jit.nested_calls`) in the browser's backend: mixbench's
/// first 4 M instructions (calls into other pages and through function
/// pointers) end exactly as interpreted, and with fewer entries into
/// compiled code than without nesting.
#[wasm_bindgen_test]
fn mixbench_prefix_nested_calls() {
    let limit = Some(4_000_000);
    let want = run(MIXBENCH, config(Mode::Interpreter, None), limit);
    let entries = |nested: bool| {
        let mut c = config(Mode::Forced(Tier::Optimizing), None);
        c.jit.nested_calls = nested;
        let got = run(MIXBENCH, c, limit);
        assert_eq!(got.console, want.console, "nested {nested}: console output");
        assert_eq!((got.outcome, got.pc, got.retired), (want.outcome, want.pc, want.retired));
        assert_eq!(got.x, want.x, "nested {nested}: registers");
        let stats = got.machine.vcpus[0].jit.as_ref().expect("JIT").stats();
        assert!(stats.retired[1] > 0, "nested {nested}: compiled code ran");
        stats.calls + stats.chained
    };
    let (on, off) = (entries(true), entries(false));
    assert!(on * 10 < off * 9, "entries into compiled code: {on} nested, {off} not");
}

/// Profiled jump targets (`jit.jump_targets`) in the browser's backend:
/// with thresholds above 0 the interpreter profiles mixbench's jump tables
/// and function-pointer calls before their units compile; its first 4 M
/// instructions end exactly as interpreted, and with fewer entries into
/// compiled code than with no targets kept.
#[wasm_bindgen_test]
fn mixbench_prefix_jump_targets() {
    let limit = Some(4_000_000);
    let want = run(MIXBENCH, config(Mode::Interpreter, None), limit);
    let entries = |targets: u64| {
        let mut c = config(Mode::Forced(Tier::Optimizing), None);
        c.jit.min_threshold = 30;
        c.jit.max_threshold = 30;
        c.jit.tier_up_threshold = 60;
        c.jit.jump_targets = targets;
        let got = run(MIXBENCH, c, limit);
        assert_eq!(got.console, want.console, "{targets} targets: console output");
        assert_eq!((got.outcome, got.pc, got.retired), (want.outcome, want.pc, want.retired));
        assert_eq!(got.x, want.x, "{targets} targets: registers");
        let stats = got.machine.vcpus[0].jit.as_ref().expect("JIT").stats();
        assert!(stats.retired[1] > 0, "{targets} targets: compiled code ran");
        stats.calls + stats.chained
    };
    // Natively the same runs enter compiled code 69 438 and 92 836 times
    // (106 200 and 112 285 with units of 1 page); compiles are synchronous
    // here, so the counts do not depend on timing.
    let (on, off) = (entries(8), entries(0));
    assert!(
        on * 100 < off * 97,
        "entries into compiled code: {on} with 8 targets, {off} with none"
    );
}

#[wasm_bindgen_test]
fn cpubench_prefix_baseline() {
    same_as_interpreter("cpubench", CPUBENCH, Tier::Baseline, Some(1_000_000));
}

/// A code cache of 4 units: modules are evicted all the time, their table
/// slots are cleared and reused, and the table stays small.
#[wasm_bindgen_test]
fn eviction_reuses_table_slots() {
    const MAX_ENTRIES: usize = 4;
    let limit = Some(2_000_000);
    let want = run(CPUBENCH, config(Mode::Interpreter, None), limit);
    let config = config(Mode::Forced(Tier::Optimizing), Some(MAX_ENTRIES));
    // A machine of its own reads the table before the run.
    let probe = Machine::new(config.clone(), HELLO).unwrap();
    let table_before = probe.vcpus[0].jit.as_ref().unwrap().backend().unwrap().table_len();
    let free_before = probe.vcpus[0].jit.as_ref().unwrap().backend().unwrap().free_table_slots();
    drop(probe);

    let got = run(CPUBENCH, config, limit);
    assert_eq!(got.console, want.console, "console output with evictions");
    assert_eq!(got.x, want.x, "registers with evictions");
    assert_eq!(got.pc, want.pc, "pc with evictions");
    let jit = got.machine.vcpus[0].jit.as_ref().unwrap();
    let backend = jit.backend().unwrap();
    let stats = jit.stats();
    let cache = jit.cache().stats();
    assert!(cache.evictions > 20, "too few evictions to test anything: {cache:?}");
    assert!(stats.units_compiled > 30, "{stats:?}");
    assert!(stats.retired[1] > 0, "compiled code did not run");
    assert!(backend.live_modules() <= MAX_ENTRIES, "{} live modules", backend.live_modules());
    assert_eq!(backend.live_modules(), cache.live_groups);
    console_log!(
        "eviction: {} compiles, {} evictions, {} live modules, table {} -> {} \
         ({} grown by this machine), {} free slots",
        stats.units_compiled,
        cache.evictions,
        backend.live_modules(),
        table_before,
        backend.table_len(),
        backend.table_grows(),
        backend.free_table_slots()
    );
    // At most one module beyond the cache's limit is alive at once (the new
    // one, installed before the cache evicts for it), so at most that many
    // slots are ever needed; the free list may hold slots of earlier tests.
    let grown = backend.table_len().saturating_sub(table_before) as usize;
    assert!(grown <= MAX_ENTRIES + 1, "function table grew by {grown}");
    assert!(
        backend.table_grows() as usize <= MAX_ENTRIES + 1,
        "{} slots added to the table for {} compiles",
        backend.table_grows(),
        stats.units_compiled
    );
    // Every slot taken (from the free list or the table) went back to the
    // free list when its module was evicted, except the live modules' ones.
    assert_eq!(
        free_before + backend.table_grows() as usize - backend.free_table_slots(),
        backend.live_modules(),
        "evicted modules' slots not freed"
    );

    // Dropping the machine gives its slots back.
    let free_before = backend.free_table_slots();
    let live = backend.live_modules();
    drop(got);
    let probe = Machine::new(self::config(Mode::Forced(Tier::Optimizing), None), HELLO).unwrap();
    let backend = probe.vcpus[0].jit.as_ref().unwrap().backend().unwrap();
    assert_eq!(backend.free_table_slots(), free_before + live, "slots not returned on drop");
}

/// Generated modules declare the shared memory's maximum; any maximum at
/// least the real one links (the backend tries the link-time 1 GiB first,
/// then 4 GiB), a smaller one does not.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen_test]
fn shared_memory_import_maximum() {
    use js_sys::{Object, Reflect, Uint8Array, WebAssembly};
    use wasm_encoder::{EntityType, ImportSection, MemoryType, Module};
    let machine = Machine::new(config(Mode::Forced(Tier::Optimizing), None), HELLO).unwrap();
    let layout = *machine.vcpus[0].jit.as_ref().unwrap().backend().unwrap().layout();
    assert_eq!(layout.max_pages, Some(16384), "the 1 GiB of --max-memory");
    let env = Object::new();
    Reflect::set(&env, &"memory".into(), &wasm_bindgen::memory()).unwrap();
    let imports = Object::new();
    Reflect::set(&imports, &"env".into(), &env).unwrap();
    let links = |max_pages: u64| {
        let mut import = ImportSection::new();
        let memory = MemoryType {
            minimum: 1,
            maximum: Some(max_pages),
            memory64: false,
            shared: true,
            page_size_log2: None,
        };
        import.import("env", "memory", EntityType::Memory(memory));
        let mut module = Module::new();
        module.section(&import);
        let wasm = module.finish();
        let module = WebAssembly::Module::new(&Uint8Array::from(&wasm[..])).unwrap();
        WebAssembly::Instance::new(&module, &imports).is_ok()
    };
    assert!(links(16384));
    assert!(links(65536));
    assert!(!links(16383));
}

#[wasm_bindgen(inline_js = "export function next_task() { \
    return new Promise((resolve) => { const c = new MessageChannel(); \
    c.port1.onmessage = () => resolve(); c.port2.postMessage(0); }); }")]
extern "C" {
    /// A promise that settles in the next task of this thread's event loop
    /// (what the page's worker awaits between two run slices).
    fn next_task() -> js_sys::Promise;
}

/// A host that hands control back after every run slice.
#[derive(Default)]
struct SlicedHost {
    output: Vec<u8>,
}

impl Host for SlicedHost {
    fn now_ns(&mut self) -> u64 {
        tunevm::jit::clock::now_ns()
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
    fn should_yield(&mut self) -> bool {
        true
    }
}

/// Run `elf` slice by slice, back in the event loop between two slices as
/// the page's worker is; returns the outcome, the console and the machine.
async fn run_sliced(
    elf: &[u8],
    config: VmConfig,
    max_insns: Option<u64>,
) -> (RunOutcome, String, Machine) {
    let mut machine = Machine::new(config, elf).expect("workload loads");
    let mut monitor = PerformanceMonitor::default();
    let mut host = SlicedHost::default();
    let mut session = machine.begin_run(&mut host);
    let outcome = loop {
        let limits = RunLimits { max_insns, timeout_ns: None };
        if let Some(outcome) = machine.continue_run(&mut session, limits, &mut monitor, &mut host) {
            break outcome;
        }
        wasm_bindgen_futures::JsFuture::from(next_task()).await.expect("resolves");
    };
    (outcome, String::from_utf8_lossy(&host.output).into_owned(), machine)
}

/// Asynchronous compiles (`jit.background_compile` on a worker that yields
/// between slices): `WebAssembly.compile` settles between slices and the
/// unit runs at its old tier meanwhile. smc keeps patching code whose
/// compiles may be under way; code compiled from bytes that changed
/// meanwhile must never run (its job goes stale), so the run ends exactly
/// as the interpreter's. On a worker that did not say it yields the same
/// knob compiles synchronously (its promises would never settle).
#[wasm_bindgen_test]
async fn async_compiles_settle_between_slices_and_never_install_stale_code() {
    let mut c = config(Mode::Forced(Tier::Optimizing), None);
    c.jit.background_compile = true;
    c.jit.invalidation_limit = 0;
    let sliced = |elf: &'static [u8], max_insns: Option<u64>, on: bool| {
        let c = c.clone();
        async move {
            tunevm::jit::backend::set_async_compiles(on);
            let got = run_sliced(elf, c, max_insns).await;
            tunevm::jit::backend::set_async_compiles(false);
            got
        }
    };
    for (name, elf, max_insns) in [("smc", SMC, None), ("cpubench", CPUBENCH, Some(3_000_000))] {
        let want = run(elf, config(Mode::Interpreter, None), max_insns);
        let (outcome, console, machine) = sliced(elf, max_insns, true).await;
        assert_eq!((outcome, &console), (want.outcome, &want.console), "{name}");
        assert_eq!(machine.vcpus[0].hart.retired(), want.retired, "{name}");
        assert_eq!(machine.vcpus[0].hart.x, want.x, "{name}");
        let jit = machine.vcpus[0].jit.as_ref().unwrap();
        let stats = jit.stats();
        assert_eq!(stats.failures, 0, "{name}: {:?}", jit.last_error());
        let settled = stats.compile_latency_ns.count();
        console_log!(
            "{name} async: {settled} compiles settled (p50 {:?} ns), {} dropped as stale, {} \
             synchronous, {} instructions at the optimizing tier",
            stats.compile_latency_ns.quantile(0.5),
            stats.compiles_dropped,
            stats.units_compiled - settled,
            stats.retired[1],
        );
        if name == "smc" {
            // It patches code faster than compiles settle: most (at times
            // all) of its compiles go stale.
            assert!(stats.compiles_dropped > 0, "smc: no compile went stale: {stats:?}");
        } else {
            assert!(settled > 0, "{name}: no asynchronous compile installed: {stats:?}");
            assert!(stats.retired[1] > 0, "{name}: compiled code never ran: {stats:?}");
        }

        let (outcome, console, machine) = sliced(elf, max_insns, false).await;
        assert_eq!((outcome, &console), (want.outcome, &want.console), "{name}");
        let stats = machine.vcpus[0].jit.as_ref().unwrap().stats();
        assert_eq!(
            stats.compile_latency_ns.count(),
            0,
            "{name}: compiled asynchronously on a worker that never said it yields"
        );
        assert!(stats.units_compiled > 0);
    }
}
