//! The wasm-bindgen API that the playground page (www/) calls, wasm32 only.
//!
//! The page runs a [`WebMachine`] inside a Web Worker, a few milliseconds at
//! a time ([`WebMachine::run_for`]), so that the worker's event loop sees
//! Pause and Stop between calls. Everything crosses the boundary as JSON
//! text or bytes; errors are JavaScript `Error`s whose message is the same
//! one-line reason the CLI prints.
//!
//! Invariant: the run's wall clock (`wall_ns` in the report, hence MIPS)
//! advances only inside `run_for` and `step`: time paused in the page is
//! not run time.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::config::{self, VmConfig};
use crate::jit::UnitKey;
use crate::mem::Privilege;
use crate::monitor::PerformanceMonitor;
use crate::runtime::{Host, Machine, RunLimits, RunOutcome, RunSession};

/// The knob schema the page draws its panel from (see
/// [`config::schema_json`]).
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
    fn should_yield(&mut self) -> bool {
        self.now_ns() >= self.deadline_ns
    }
}

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

    /// Run for about `budget_ms` of host time (a run slice past it at most)
    /// or until the run ends; returns the status JSON.
    pub fn run_for(&mut self, budget_ms: f64) -> String {
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
        self.status()
    }

    /// Execute one instruction, or with `block` instructions up to and
    /// including the next one that leaves straight-line order (a taken
    /// jump or branch, a trap); returns the status JSON.
    pub fn step(&mut self, block: bool) -> String {
        if self.session.outcome.is_some() {
            return self.status();
        }
        self.host.begin_call(u64::MAX / 4);
        for _ in 0..if block { MAX_BLOCK_STEPS } else { 1 } {
            let pc = self.machine.hart.pc;
            let stop = self.machine.run_slice(1);
            if let crate::cpu::StopReason::ExitRequested = stop {
                match self.machine.bus.devices.exit_request() {
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
            let next = self.machine.hart.pc;
            if next != pc + 2 && next != pc + 4 {
                break;
            }
        }
        let out = self.machine.bus.devices.uart.take_output();
        self.host.console_out(&out);
        let elapsed = self.host.now_ns();
        self.monitor.record(self.machine.sample(elapsed));
        self.host.end_call();
        self.status()
    }

    /// End the run as stopped (the page's Stop); returns the status JSON.
    pub fn stop(&mut self) -> String {
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

    /// The report so far without its series (cheap enough to call every
    /// 100 ms).
    pub fn live(&mut self) -> String {
        let mut report = self.report_value();
        if let Some(obj) = report.as_object_mut() {
            obj.remove("series");
        }
        report.to_string()
    }

    /// The full report (docs/DESIGN.md "Report JSON"), series included.
    pub fn report(&mut self) -> String {
        self.report_value().to_string()
    }

    /// The `n` hottest compiled units as JSON; `code_view(index)` shows one.
    pub fn hot_units(&mut self, n: usize) -> String {
        let Some(jit) = self.machine.jit.as_ref() else {
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
    /// at `index` by the last `hot_units`, as JSON (`null` if it is gone).
    pub fn code_view(&self, index: usize) -> String {
        let view = self
            .listed
            .get(index)
            .zip(self.machine.jit.as_ref())
            .and_then(|(key, jit)| jit.code_view(*key, self.machine.bus.ram()));
        match view {
            Some(v) => json!({
                "vpc": format!("{:#x}", v.key.vpc),
                "tier": v.tier.name(),
                "guest": v.guest,
                "wat": v.wat,
            })
            .to_string(),
            None => "null".into(),
        }
    }

    /// The hart's pc, registers and privilege as JSON.
    pub fn regs(&self) -> String {
        let h = &self.machine.hart;
        let privilege = match h.privilege {
            Privilege::Machine => "M",
            Privilege::Supervisor => "S",
            Privilege::User => "U",
        };
        let x: Vec<String> = h.x.iter().map(|v| format!("{v:#x}")).collect();
        json!({ "pc": format!("{:#x}", h.pc), "x": x, "privilege": privilege }).to_string()
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

    /// The status JSON: `state` ("running", "exit", or the stop reason),
    /// `exit_code`, `detail` (for asleep and trap_loop: where the guest is
    /// stuck, see [`Machine::stuck_detail`]), `instructions` (retired) and `pc`.
    fn status(&self) -> String {
        let (state, exit_code) = match self.session.outcome {
            None => ("running", None),
            Some(RunOutcome::Exited(code)) => ("exit", Some(code)),
            Some(o) => (o.name(), None),
        };
        let detail = self.session.outcome.and_then(|o| self.machine.stuck_detail(o));
        json!({
            "state": state,
            "exit_code": exit_code,
            "detail": detail,
            "instructions": self.machine.retired_total(),
            "pc": format!("{:#x}", self.machine.hart.pc),
        })
        .to_string()
    }

    fn report_value(&mut self) -> Value {
        // Keep the latest counters in the report even between samples.
        let now = self.host.banked_ns;
        self.monitor.record(self.machine.sample(now));
        let outcome = self.session.outcome.unwrap_or(RunOutcome::Stopped);
        let mut report = self.machine.report(&self.monitor, outcome);
        if self.session.outcome.is_none() {
            report.stop_reason = "running".into();
        }
        serde_json::to_value(&report).expect("report serializes")
    }
}
