//! The wasm-bindgen API that the playground page (www/) calls, wasm32 only.
//!
//! The page runs a [`WebMachine`] inside a Web Worker, a few milliseconds at
//! a time ([`WebMachine::run_for`]), so that the worker's event loop sees
//! Pause and Stop between calls. What crosses the boundary every few
//! milliseconds (the status after each slice, live reports) are plain
//! JavaScript objects built by `serde-wasm-bindgen`, not JSON text parsed
//! again in JavaScript; the full report and settings stay JSON text (once
//! per run, and what the page downloads). Errors are JavaScript `Error`s
//! whose message is the same one-line reason the CLI prints; a Rust panic
//! reaches the page with its message and location through
//! [`worker_start`]'s panic hook.
//!
//! Invariant: the run's wall clock (`wall_ns` in the report, hence MIPS)
//! advances only inside `run_for` and `step`: time paused in the page is
//! not run time.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::config::{self, VmConfig};
use crate::jit::UnitKey;
use crate::mem::Privilege;
use crate::monitor::{PerformanceMonitor, Report};
use crate::runtime::{Host, Machine, RunLimits, RunOutcome, RunSession};

/// What a worker calls first: installs the panic hook (once per instance)
/// and returns [`build_name`]. The hook is `console_error_panic_hook`'s
/// (the message, `file:line:col` and the JavaScript stack on the console),
/// followed by a call of `globalThis.tunevmOnPanic(text)` when the worker
/// defines it, with `text` = "panicked at FILE:LINE:COL:\nMESSAGE": the
/// worker keeps it and reports it instead of the bare `unreachable` the
/// abort then throws.
#[wasm_bindgen]
pub fn worker_start() -> String {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        console_error_panic_hook::set_once();
        let console_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            console_hook(info);
            forward_panic(&info.to_string());
        }));
    });
    build_name()
}

/// The page's VM worker says it returns to its event loop between
/// `run_for` calls, so compiles on it may be asynchronous
/// (`jit.background_compile`; see `jit::backend::web`). Any other caller
/// (the pool's helpers, tests that run a machine in one call) compiles
/// synchronously.
#[wasm_bindgen]
pub fn worker_yields_between_slices(on: bool) {
    crate::jit::backend::set_async_compiles(on);
}

/// Calls `globalThis.tunevmOnPanic(text)` if it is a function; anything it
/// throws is dropped (the abort follows anyway).
fn forward_panic(text: &str) {
    let global = js_sys::global();
    if let Ok(f) = js_sys::Reflect::get(&global, &JsValue::from_str("tunevmOnPanic")) {
        if let Some(f) = f.dyn_ref::<js_sys::Function>() {
            let _ = f.call1(&global, &JsValue::from_str(text));
        }
    }
}

/// Test only: panics, so that the end-to-end test can check that a Rust
/// panic in the worker reaches the page with its message and location and
/// the page stays usable. The page's controls never call it; its test hook
/// `window.tunevmPage.debugPanic()` asks the worker to.
#[wasm_bindgen]
pub fn debug_panic() {
    panic!("debug_panic: a deliberate panic (test only)");
}

/// The threads build's worker pool, for the page's VM worker: the module and
/// the shared memory a helper worker (`www/pool-worker.js`) instantiates the
/// VM with. `null` in the plain build (no helpers there).
#[wasm_bindgen]
pub fn pool_shared_parts() -> JsValue {
    if !cfg!(target_feature = "atomics") {
        return JsValue::NULL;
    }
    let parts = js_sys::Array::new();
    parts.push(&wasm_bindgen::module());
    parts.push(&wasm_bindgen::memory());
    parts.into()
}

/// A helper worker's last call (`www/pool-worker.js`), after it trapped: the
/// machine's worker, waiting for the run slice's job, then panics with "a
/// pool worker died" (the page reports it and builds a new worker) instead
/// of waiting for ever. Nothing in the plain build.
#[wasm_bindgen]
pub fn pool_helper_died() {
    #[cfg(target_feature = "atomics")]
    crate::runtime::web_workers::helper_died();
}

/// Test only: the first helper to take the next pool job panics (the
/// end-to-end test of a pool worker that dies; the page's test hook
/// `window.tunevmPage.debugPanicPool()` asks for it).
#[wasm_bindgen]
pub fn debug_panic_pool() {
    #[cfg(target_feature = "atomics")]
    crate::runtime::web_workers::panic_next_job();
}

/// Helper workers running now (threads build; 0 in the plain build).
#[wasm_bindgen]
pub fn pool_helpers() -> usize {
    #[cfg(target_feature = "atomics")]
    return crate::runtime::web_workers::helpers();
    #[cfg(not(target_feature = "atomics"))]
    0
}

/// A helper worker's whole life (threads build): wait for the pool's jobs
/// and poll vCPU tasks (see `runtime::pool::web_workers`). Never returns
/// while the helper lives; throws in the plain build, which has no pool.
#[wasm_bindgen]
pub fn pool_helper_run() -> Result<(), JsError> {
    #[cfg(target_feature = "atomics")]
    crate::runtime::web_workers::helper_loop();
    #[cfg(not(target_feature = "atomics"))]
    Err(JsError::new("the plain build has no worker pool"))
}

/// The GC's marker worker's whole life (threads build): mark for each
/// machine's collector that asks (see `gc::marker_worker`). Never returns
/// while the worker lives; throws in the plain build, which has no shared
/// memory.
#[wasm_bindgen]
pub fn gc_marker_run() -> Result<(), JsError> {
    #[cfg(target_feature = "atomics")]
    crate::gc::marker_worker::worker_loop();
    #[cfg(not(target_feature = "atomics"))]
    Err(JsError::new("the plain build has no shared memory for a marker worker"))
}

/// The marker worker's last call after it trapped: later collectors mark
/// in slices on the vCPU's worker instead of waiting for it.
#[wasm_bindgen]
pub fn gc_marker_died() {
    #[cfg(target_feature = "atomics")]
    crate::gc::marker_worker::worker_died();
}

/// Test only: the marker worker traps when it takes its next collector,
/// or with `holding_lock` in its next marking step, while it holds the
/// collector's lock (the end-to-end tests of a dying marker; the page's
/// test hook `window.tunevmPage.debugPanicMarker(holdingLock)` asks).
#[wasm_bindgen]
pub fn debug_panic_marker(holding_lock: bool) {
    #[cfg(target_feature = "atomics")]
    if holding_lock {
        crate::gc::marker_worker::panic_holding_lock();
    } else {
        crate::gc::marker_worker::panic_next_job();
    }
    #[cfg(not(target_feature = "atomics"))]
    let _ = holding_lock;
}

/// Marker workers running now (0 or 1; 0 in the plain build).
#[wasm_bindgen]
pub fn gc_markers() -> usize {
    #[cfg(target_feature = "atomics")]
    return crate::gc::marker_worker::workers();
    #[cfg(not(target_feature = "atomics"))]
    0
}

/// ABI names of x0..x31 (`zero`, `ra`, `sp`, ...) for the page's register
/// view: the disassembler's table ([`crate::isa::REG_NAMES`]).
#[wasm_bindgen]
pub fn abi_names() -> Vec<String> {
    crate::isa::REG_NAMES.iter().map(|n| n.to_string()).collect()
}

/// One target of the tuning guide's checklist (the page's `#checklist`).
#[derive(Serialize)]
pub struct GuideTarget {
    /// The row's name (`li[data-target=NAME]`).
    pub name: &'static str,
    /// Where the figure is in the report (dotted path); `None` for figures
    /// the page measures itself (native speed) or that do not exist yet.
    pub figure: Option<&'static str>,
    /// `"<"`: passes below `limit`; `">"`: passes above it.
    pub op: &'static str,
    pub limit: f64,
    /// `"ns"` (shown in ms) or `"ratio"` (shown in %).
    pub unit: &'static str,
    /// The compile row only: the share of the run spent compiling
    /// (`jit.compile_ns.total / wall_ns`) from which the row fails whatever
    /// the per-unit figure says: the advisor's critical share for the
    /// browser ([`crate::advisor::COMPILE_SHARE`]). Many small units pass
    /// p99 while compiling most of the run (a thrashing code cache).
    pub share_limit: Option<f64>,
}

/// The advisor's critical compile share for the browser's engine.
const fn browser_compile_share() -> f64 {
    crate::advisor::COMPILE_SHARE[0].2
}

/// The tuning guide's target figures, in the checklist's order.
pub const GUIDE_TARGETS: &[GuideTarget] = &[
    GuideTarget {
        name: "compile_time",
        figure: Some("jit.compile_ns.p99"),
        op: "<",
        limit: 10e6,
        unit: "ns",
        share_limit: Some(browser_compile_share()),
    },
    GuideTarget {
        name: "tlb_hit_rate",
        figure: Some("tlb.hit_rate"),
        op: ">",
        limit: 0.9,
        unit: "ratio",
        share_limit: None,
    },
    GuideTarget {
        name: "cache_hit_rate",
        figure: Some("code_cache.hit_rate"),
        op: ">",
        limit: 0.85,
        unit: "ratio",
        share_limit: None,
    },
    // cpubench in the VM against the same C compiled straight to wasm
    GuideTarget {
        name: "native_speed",
        figure: None,
        op: ">",
        limit: 0.7,
        unit: "ratio",
        share_limit: None,
    },
    // the guest's GC pauses (gc-* workloads; `na` when the guest does not use the GC)
    GuideTarget {
        name: "gc_pause",
        figure: Some("gc.pause_ns.p99"),
        op: "<",
        limit: 1e6,
        unit: "ns",
        share_limit: None,
    },
];

/// [`GUIDE_TARGETS`] as an array of objects.
#[wasm_bindgen]
pub fn guide_targets() -> JsValue {
    to_js(&GUIDE_TARGETS)
}

/// A JavaScript value of `value` (plain objects, `null` for `None`). A
/// number past 2^53 cannot be a JavaScript number exactly: then the value
/// goes through JSON text, which rounds it as `JSON.parse` always did.
fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    const SER: serde_wasm_bindgen::Serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&SER).unwrap_or_else(|_| {
        let text = serde_json::to_string(value).expect("serializes");
        js_sys::JSON::parse(&text).expect("JSON text parses")
    })
}

/// The tuning advisor's diagnoses ([`crate::advisor::advise`]) of a report
/// given as JSON text (the page passes its live or final report), as an
/// array of objects: `{id, severity, problem, title, figure, causes,
/// evidence, fixes: [{settings: [{key, value}], why}]}`, texts as `{en, zh}`.
/// Histograms are not read back (their last bound, u64::MAX, does not
/// survive a JavaScript number).
#[wasm_bindgen]
pub fn advise(report_json: &str) -> Result<JsValue, JsError> {
    let diagnoses = crate::advisor::advise_json(report_json).map_err(|e| JsError::new(&e))?;
    Ok(to_js(&diagnoses))
}

#[wasm_bindgen]
pub fn knob_schema() -> String {
    config::schema_json().to_string()
}

/// Every preset (see [`config::presets`]) as a JSON array.
#[wasm_bindgen]
pub fn presets() -> String {
    serde_json::to_string(config::presets()).expect("presets serialize")
}

/// "threads" for the shared-memory build, "plain" otherwise.
#[wasm_bindgen]
pub fn build_name() -> String {
    if cfg!(target_feature = "atomics") { "threads" } else { "plain" }.to_string()
}

/// Check one setting as the knob panel takes it (`value` is text, as
/// typed), in the context of the other current settings (`settings_json`,
/// as for [`effective_config`]; none = the defaults): rules that relate two
/// knobs (`jit.min_threshold` <= `jit.max_threshold`) are checked against
/// the values the machine would really get.
#[wasm_bindgen]
pub fn check_setting(key: &str, value: &str, settings_json: Option<String>) -> Result<(), JsError> {
    let mut settings = parse_settings(settings_json.as_deref().unwrap_or("{}"))?;
    settings.insert(key.to_string(), Value::String(value.to_string()));
    let mut config = VmConfig::default();
    // The key itself first, so that its own error (unknown key, bad value)
    // is the one reported.
    config.set(key, value).map_err(|e| JsError::new(&e.to_string()))?;
    for (k, v) in &settings {
        config.set(k, &text_of(v)).map_err(|e| JsError::new(&e.to_string()))?;
    }
    config.validate().map_err(|e| JsError::new(&e.to_string()))
}

fn parse_settings(settings_json: &str) -> Result<BTreeMap<String, Value>, JsError> {
    serde_json::from_str(settings_json)
        .map_err(|e| JsError::new(&format!("settings are not a JSON object of key: value: {e}")))
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Refuse an ELF file of `len` bytes that is over the loader's size cap
/// ([`crate::loader::MAX_ELF_BYTES`]) before the page reads it, with the
/// reason [`WebMachine::new`] would give for the bytes.
#[wasm_bindgen]
pub fn check_elf_size(len: f64) -> Result<(), JsError> {
    // `as` saturates: a size past u64 (or infinite) is over the cap too.
    crate::loader::check_size(len as u64).map_err(|e| JsError::new(&e.to_string()))
}

/// The full config (nested JSON, as in the report's `config`) made from
/// `settings_json` (`{"key": "value text", ...}`) over the guide's defaults.
#[wasm_bindgen]
pub fn effective_config(settings_json: &str) -> Result<String, JsError> {
    Ok(config_from_settings(settings_json)?.to_json().to_string())
}

fn config_from_settings(settings_json: &str) -> Result<VmConfig, JsError> {
    let settings = parse_settings(settings_json)?;
    let mut config = VmConfig::default();
    for (key, value) in &settings {
        config.set(key, &text_of(value)).map_err(|e| JsError::new(&e.to_string()))?;
    }
    config.validate().map_err(|e| JsError::new(&e.to_string()))?;
    Ok(config)
}

/// Time, console and yielding for a run inside the worker.
struct WebHost {
    /// Run time before the current `run_for`/`step` call.
    banked_ns: u64,
    /// Host time when the current call began.
    call_start_ns: u64,
    /// Yield once run time reaches this.
    deadline_ns: u64,
    output: Vec<u8>,
    input: Vec<u8>,
}

impl WebHost {
    fn begin_call(&mut self, budget_ns: u64) {
        self.call_start_ns = crate::jit::clock::now_ns();
        self.deadline_ns = self.banked_ns + budget_ns;
    }

    fn end_call(&mut self) {
        self.banked_ns = self.now_ns();
        self.call_start_ns = crate::jit::clock::now_ns();
    }
}

impl Host for WebHost {
    fn now_ns(&mut self) -> u64 {
        self.banked_ns + crate::jit::clock::now_ns().saturating_sub(self.call_start_ns)
    }
    fn console_out(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
    fn console_in(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.input)
    }
    /// At the end of the budget; or earlier, once a call has run for
    /// [`COMPILE_YIELD_NS`], while an asynchronous compile has not settled:
    /// its module arrives only when the worker is back in its event loop.
    fn should_yield(&mut self) -> bool {
        self.now_ns() >= self.deadline_ns
            || (crate::jit::clock::now_ns().saturating_sub(self.call_start_ns) >= COMPILE_YIELD_NS
                && crate::jit::backend::async_compile_waiting())
    }
}

/// How long a `run_for` call runs at least before it returns early for an
/// asynchronous compile that has not settled (see `WebHost::should_yield`).
const COMPILE_YIELD_NS: u64 = 200_000;

/// One machine with a program loaded, run piecewise by the page's worker.
#[wasm_bindgen]
pub struct WebMachine {
    machine: Machine,
    monitor: PerformanceMonitor,
    session: RunSession,
    host: WebHost,
    /// The units `hot_units` listed last, for `code_view(index)`.
    listed: Vec<UnitKey>,
}

/// Most instructions `step(true)` runs looking for the end of a block.
const MAX_BLOCK_STEPS: u32 = 4096;

#[wasm_bindgen]
impl WebMachine {
    /// A machine built from `settings_json` (see [`effective_config`]) with
    /// `elf` loaded. Errors: a bad setting, or an ELF tunevm cannot run (the
    /// loader's one-line reason: over the size cap, not an ELF, wrong
    /// machine, Linux program, segment outside RAM, odd entry, ...).
    #[wasm_bindgen(constructor)]
    pub fn new(settings_json: &str, elf: &[u8]) -> Result<WebMachine, JsError> {
        let config = config_from_settings(settings_json)?;
        let machine = Machine::new(config, elf).map_err(|e| JsError::new(&e.to_string()))?;
        let mut host = WebHost {
            banked_ns: 0,
            call_start_ns: crate::jit::clock::now_ns(),
            deadline_ns: 0,
            output: Vec::new(),
            input: Vec::new(),
        };
        let mut monitor = PerformanceMonitor::default();
        monitor.start_collection();
        let session = machine.begin_run(&mut host);
        Ok(WebMachine { machine, monitor, session, host, listed: Vec::new() })
    }

    /// Helper workers this machine's vCPUs want (threads build, several
    /// vCPUs): the page's VM worker starts that many before it runs the
    /// machine; 1 means none (see `Machine::pool_workers_wanted`).
    pub fn pool_workers_wanted(&self) -> usize {
        self.machine.pool_workers_wanted()
    }

    /// Whether the page's VM worker should start the GC's marker worker
    /// before running this machine: the threads build, with
    /// `gc.concurrent_marking` and `gc.incremental` on (whether the guest
    /// uses the GC heap is known only when it does; the worker stays for
    /// later machines either way).
    pub fn marker_worker_wanted(&self) -> bool {
        let gc = &self.machine.config().gc;
        cfg!(target_feature = "atomics") && gc.concurrent_marking && gc.incremental
    }

    /// Run for about `budget_ms` of host time (a run slice past it at most)
    /// or until the run ends; returns the status (see `status`).
    pub fn run_for(&mut self, budget_ms: f64) -> JsValue {
        self.run_slice(budget_ms);
        to_js(&self.status_value())
    }

    /// Benchmark only (`www/e2e/bench-run.mjs --wire json`): `run_for` with
    /// the status as JSON text, the way it crossed before serde-wasm-bindgen.
    pub fn run_for_json(&mut self, budget_ms: f64) -> String {
        self.run_slice(budget_ms);
        serde_json::to_string(&self.status_value()).expect("status serializes")
    }

    /// The status: `state` ("running", "exit", or the stop reason),
    /// `exit_code`, `detail` (for asleep and trap_loop: where the guest is
    /// stuck, see [`Machine::stuck_detail`]), `instructions` (retired) and
    /// `pc` (hex text).
    pub fn status(&self) -> JsValue {
        to_js(&self.status_value())
    }

    /// Benchmark only: `status` as JSON text.
    pub fn status_json(&self) -> String {
        serde_json::to_string(&self.status_value()).expect("status serializes")
    }

    /// Execute one instruction, or with `block` instructions up to and
    /// including the next one that leaves straight-line order (a taken
    /// jump or branch, a trap); returns the status.
    pub fn step(&mut self, block: bool) -> JsValue {
        if self.session.outcome.is_some() {
            return self.status();
        }
        self.host.begin_call(u64::MAX / 4);
        for _ in 0..if block { MAX_BLOCK_STEPS } else { 1 } {
            let pc = self.machine.vcpus[0].hart.pc;
            let stop = self.machine.run_slice(1);
            if let crate::cpu::StopReason::ExitRequested = stop {
                match self.machine.bus.exit_request() {
                    Some(crate::mem::devices::ExitRequest::Exit(code)) => {
                        self.end(RunOutcome::Exited(code));
                    }
                    // The guest reset the machine: Step shows it starting
                    // over, as a run would.
                    _ => {
                        self.machine.guest_reset();
                        self.monitor.set_counter("resets", self.machine.resets());
                    }
                }
                break;
            }
            if let crate::cpu::StopReason::Asleep = stop {
                self.end(RunOutcome::Asleep);
                break;
            }
            let next = self.machine.vcpus[0].hart.pc;
            if next != pc + 2 && next != pc + 4 {
                break;
            }
        }
        let out = self.machine.bus.devices().uart.take_output();
        self.host.console_out(&out);
        let elapsed = self.host.now_ns();
        self.monitor.record(self.machine.sample(elapsed));
        self.host.end_call();
        self.status()
    }

    /// End the run as stopped (the page's Stop); returns the status.
    pub fn stop(&mut self) -> JsValue {
        self.end(RunOutcome::Stopped);
        self.status()
    }

    /// Guest console output since the last call.
    pub fn console_take(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.host.output).into_owned();
        self.host.output.clear();
        text
    }

    /// Bytes typed for the guest's UART.
    pub fn console_push(&mut self, text: &str) {
        self.host.input.extend_from_slice(text.as_bytes());
    }

    /// The report so far without its series, as an object. The page takes
    /// [`WebMachine::live_json`] instead (measured cheaper for this many
    /// fields); this stays for the boundary benchmark.
    pub fn live(&mut self) -> JsValue {
        let report = self.live_report();
        to_js(&LiveReport::of(&report))
    }

    /// The report so far without its series, except with several harts the
    /// `smp` section and series, and the `gc` section with, once the guest
    /// used the GC heap, the `gc.*` series (all bounded, cheap enough to
    /// call every 40 ms), and `jit.threshold_series` empty (it grows with
    /// the run; the page's charts take `jit.threshold`), as JSON text:
    /// what the page's worker uses (one
    /// `JSON.parse` beats serde-wasm-bindgen's per-field calls for ~150
    /// fields).
    pub fn live_json(&mut self) -> String {
        let report = self.live_report();
        serde_json::to_string(&LiveReport::of(&report)).expect("report serializes")
    }

    /// Change knobs while the guest runs (the worker calls it between two
    /// slices): `settings_json` is the whole settings form the constructor
    /// takes. Only knobs marked live in the schema may differ from the
    /// machine's (see `Machine::retune`); otherwise nothing changes and the
    /// error names the others. Returns the mark as JSON text,
    /// `{"wall_ns", "instructions", "changes": {key: value text}}`, which the
    /// report's `retunes` also lists (not when nothing changed).
    pub fn retune(&mut self, settings_json: &str) -> Result<String, JsError> {
        let config = config_from_settings(settings_json)?;
        let changes = self.machine.retune(config).map_err(|e| JsError::new(&e.to_string()))?;
        let (wall_ns, instructions) = (self.host.banked_ns, self.machine.retired_total());
        let mark = self.monitor.mark_retune(wall_ns, instructions, &changes).cloned();
        let mark = mark.unwrap_or(crate::monitor::RetuneMark {
            wall_ns,
            instructions,
            changes: BTreeMap::new(),
        });
        Ok(serde_json::to_string(&mark).expect("mark serializes"))
    }

    /// The full report (docs/DESIGN.md "Report JSON"), series included, as
    /// JSON text (what the page downloads).
    pub fn report(&mut self) -> String {
        serde_json::to_string(&self.current_report()).expect("report serializes")
    }

    /// The `n` hottest compiled units as JSON; `code_view(index)` shows one.
    pub fn hot_units(&mut self, n: usize) -> String {
        let Some(jit) = self.machine.vcpus[0].jit.as_ref() else {
            self.listed.clear();
            return "[]".into();
        };
        let hot = jit.hottest_units(n);
        self.listed = hot.iter().map(|(k, _)| *k).collect();
        let list: Vec<Value> = hot
            .iter()
            .enumerate()
            .map(|(i, (key, count))| {
                json!({
                    "index": i,
                    "vpc": format!("{:#x}", key.vpc),
                    "ppc": format!("{:#x}", key.ppc),
                    "tier": jit.unit_tier(*key).map_or("evicted", |t| t.name()),
                    "executions": count,
                })
            })
            .collect();
        Value::Array(list).to_string()
    }

    /// Guest disassembly beside the generated wasm text for the unit listed
    /// at `index` by the last `hot_units`, as JSON (`null` if it is gone):
    /// `{vpc, tier, guest: [line], wat, links: [{guest_line, wat_lines:
    /// [first, last] | null}]}` (see `jit::Link`).
    pub fn code_view(&self, index: usize) -> String {
        let view = self
            .listed
            .get(index)
            .zip(self.machine.vcpus[0].jit.as_ref())
            .and_then(|(key, jit)| jit.code_view(*key, self.machine.bus.ram()));
        match view {
            Some(v) => json!({
                "vpc": format!("{:#x}", v.key.vpc),
                "tier": v.tier.name(),
                "guest": v.guest,
                "wat": v.wat,
                "links": v.links,
            })
            .to_string(),
            None => "null".into(),
        }
    }

    /// The hart's pc, registers (hex text) and privilege, as an object.
    pub fn regs(&self) -> JsValue {
        let h = &self.machine.vcpus[0].hart;
        let privilege = match h.privilege {
            Privilege::Machine => "M",
            Privilege::Supervisor => "S",
            Privilege::User => "U",
        };
        let x: Vec<String> = h.x.iter().map(|v| format!("{v:#x}")).collect();
        to_js(&json!({ "pc": format!("{:#x}", h.pc), "x": x, "privilege": privilege }))
    }

    /// Power-on state with the program reloaded; the monitor starts over.
    pub fn reset(&mut self) {
        self.machine.reset();
        self.monitor.start_collection();
        self.host.banked_ns = 0;
        self.host.output.clear();
        self.host.input.clear();
        self.host.begin_call(0);
        self.session = self.machine.begin_run(&mut self.host);
        self.host.end_call();
        self.listed.clear();
    }
}

impl WebMachine {
    fn end(&mut self, outcome: RunOutcome) {
        self.host.begin_call(0);
        self.machine.end_run(&mut self.session, outcome, &mut self.monitor, &mut self.host);
        self.host.end_call();
    }

    fn run_slice(&mut self, budget_ms: f64) {
        if self.session.outcome.is_none() {
            self.host.begin_call((budget_ms.max(0.0) * 1e6) as u64);
            self.machine.continue_run(
                &mut self.session,
                RunLimits::default(),
                &mut self.monitor,
                &mut self.host,
            );
            self.host.end_call();
        }
    }

    fn status_value(&self) -> Status {
        let (state, exit_code) = match self.session.outcome {
            None => ("running", None),
            Some(RunOutcome::Exited(code)) => ("exit", Some(code)),
            Some(o) => (o.name(), None),
        };
        Status {
            state,
            exit_code,
            detail: self.session.outcome.and_then(|o| self.machine.stuck_detail(o)),
            instructions: self.machine.retired_total(),
            pc: format!("{:#x}", self.machine.vcpus[0].hart.pc),
        }
    }

    fn current_report(&mut self) -> Report {
        self.report_now(|monitor, machine, outcome| machine.report(monitor, outcome))
    }

    /// The report so far as the live view needs it: no series but those
    /// [`LiveReport`] may send, which are bounded (the others grow with the
    /// run, and copying them for every live report cost more than sending
    /// it), and no `jit.threshold_series`.
    fn live_report(&mut self) -> Report {
        self.report_now(|monitor, machine, outcome| {
            machine.live_report(monitor, outcome, LiveReport::may_send_series)
        })
    }

    fn report_now(
        &mut self,
        make: impl FnOnce(&PerformanceMonitor, &Machine, RunOutcome) -> Report,
    ) -> Report {
        // Keep the latest counters in the report even between samples.
        let now = self.host.banked_ns;
        self.monitor.record(self.machine.sample(now));
        let outcome = self.session.outcome.unwrap_or(RunOutcome::Stopped);
        let mut report = make(&self.monitor, &self.machine, outcome);
        if self.session.outcome.is_none() {
            report.stop_reason = "running".into();
        }
        report
    }
}

/// The status after a slice, a step or a stop (see `WebMachine::status`).
#[derive(Serialize)]
struct Status {
    state: &'static str,
    exit_code: Option<u64>,
    detail: Option<String>,
    instructions: u64,
    pc: String,
}

/// The report without its series: what `live` sends. `M` is the memory
/// figures' type (the monitor does not export its name).
#[derive(Serialize)]
struct LiveReport<'a, M: Serialize> {
    version: &'a str,
    engine: &'a str,
    config: &'a Value,
    exit_code: Option<i64>,
    stop_reason: &'a str,
    instructions: u64,
    wall_ns: u64,
    mips: Option<f64>,
    tiers: &'a crate::monitor::TiersReport,
    jit: &'a crate::monitor::JitReport,
    code_cache: &'a crate::monitor::CodeCacheReport,
    host_ns_per_million_insns: &'a crate::monitor::Quantiles,
    traps: &'a BTreeMap<String, u64>,
    tlb: &'a crate::monitor::TlbReport,
    memory: &'a M,
    counters: &'a BTreeMap<String, u64>,
    /// Several harts: the vCPUs and workers, and the series `smp.*` (at
    /// most `max_points` points each, so cheap to resend).
    #[serde(skip_serializing_if = "Option::is_none")]
    smp: Option<&'a crate::monitor::SmpReport>,
    /// The GC heap: always (`used` false when the guest never used it),
    /// with its pause timeline (at most 2048 points) and quota series.
    gc: &'a crate::monitor::GcReport,
    /// `smp.*` with several harts, `gc.*` when the guest used the GC.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    series: BTreeMap<&'a str, &'a Vec<(u64, f64)>>,
    /// Knobs changed while the guest ran (the charts mark them).
    retunes: &'a [crate::monitor::RetuneMark],
}

impl<'a> LiveReport<'a, ()> {
    /// The series a live report may carry (see [`LiveReport::of`] for
    /// when it does).
    fn may_send_series(name: &str) -> bool {
        name.starts_with("smp.") || name.starts_with("gc.")
    }

    fn of(r: &'a Report) -> LiveReport<'a, impl Serialize + 'a> {
        LiveReport {
            version: &r.version,
            engine: &r.engine,
            config: &r.config,
            exit_code: r.exit_code,
            stop_reason: &r.stop_reason,
            instructions: r.instructions,
            wall_ns: r.wall_ns,
            mips: r.mips,
            tiers: &r.tiers,
            jit: &r.jit,
            code_cache: &r.code_cache,
            host_ns_per_million_insns: &r.host_ns_per_million_insns,
            traps: &r.traps,
            tlb: &r.tlb,
            memory: &r.memory,
            counters: &r.counters,
            smp: r.smp.as_ref(),
            gc: &r.gc,
            series: r
                .series
                .iter()
                .filter(|(k, _)| {
                    (r.smp.is_some() && k.starts_with("smp."))
                        || (r.gc.used && k.starts_with("gc."))
                })
                .filter(|(k, _)| Self::may_send_series(k))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            retunes: &r.retunes,
        }
    }
}
