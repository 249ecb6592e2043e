//! `VmConfig`: every knob of the machine in one place. Read from TOML or JSON,
//! overridden by `--set key=value`, validated once, and exported as a schema
//! (default, range, unit, help in English and Chinese) that the page draws its
//! knob panel from.
//!
//! One table (`knobs.rs`, one [`KnobSpec`] per leaf field) drives all of it:
//! keys, parsing of text values, range and cross-field checks, and the
//! schema. A test checks that the table and the structs name the same fields,
//! and one that each knob's English help is the first paragraph of its
//! field's doc comment.
//!
//! Files: `spec.rs` the table's types; `knobs.rs` the table, one function per
//! section; `schema.rs` lookups, value checks and the page's JSON, by the
//! table; `error.rs` [`ConfigError`], which also wraps the engines' typed
//! validation errors; `text.rs` text parsing and one-line messages;
//! `presets.rs` named sets of values. `knobs.rs` and `schema.rs` both read
//! `spec.rs`, only `schema.rs` reads `knobs.rs`: no cycle.
//!
//! Architecture invariant: strings (CLI, files, URL) are parsed here and only
//! here; the rest of the VM sees typed values that already passed validation.
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod error;
mod knobs;
pub mod presets;
mod schema;
mod spec;
mod text;

pub use error::ConfigError;
pub use presets::{find_preset, presets, Preset, PresetKind};
pub use schema::{find, schema, schema_json, sections, suggest};
pub use spec::{enum_values, KnobKind, KnobSpec, Rule, SectionSpec};
pub use text::{one_line, one_line_bytes, MAX_LINE_CHARS};

pub use crate::jit::code_cache::{CacheConfig, EvictionPolicy};
pub use crate::jit::JitConfig;
pub use crate::mem::{
    ConcurrentTlbConfig, MmuOptimizationStrategy, MultiLevelTlbConfig, UnifiedMmuConfig,
};

/// Guest memory size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Size of guest RAM, mapped at physical address 0x8000_0000. The program, its
    /// stack and its heap must fit in it: the loader refuses segments past its end.
    /// It is host memory too (inside the VM's wasm memory in the browser), so
    /// shrink it to run several machines side by side and grow it for programs with
    /// large data. The memory panel shows it as guest RAM (memory.guest_ram_bytes).
    /// 1 MiB to 1 GiB, in whole 4 KiB pages.
    ///
    /// Default 256 MiB (the tuning guide's).
    pub ram_bytes: u64,
    /// Most guest RAM pages whose decoded instructions the interpreter keeps.
    /// Decoding an instruction once and reusing it is what makes the interpreter
    /// fast, but every cached page costs about 24 KiB of host memory, so the cache
    /// is bounded: when a program runs code on more pages than this, pages are
    /// evicted round robin and decoded again when the program comes back to them.
    /// Lower it to cap host memory (watch memory.decode_cache_bytes in the memory
    /// chart); raise it when memory.decode_cache_evictions climbs while mips drops.
    /// Default 1024 pages (4 MiB of guest code, about 24 MiB of host memory).
    ///
    /// Range [`MemoryConfig::DECODE_CACHE_PAGES`].
    pub decode_cache_pages: u64,
}

impl MemoryConfig {
    /// Range of `decode_cache_pages`.
    pub const DECODE_CACHE_PAGES: std::ops::RangeInclusive<u64> = 1..=262_144;
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig { ram_bytes: 256 * 1024 * 1024, decode_cache_pages: 1024 }
    }
}

/// The harts and how they are scheduled on the host (the tuning guide's
/// `CoroutinePool`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Number of harts (vCPUs) in the machine, 1 to 64. Every hart starts at the ELF
    /// entry with its own registers, CSRs (mhartid is its index), TLBs, LR/SC
    /// reservation and CLINT timer and software interrupt; they share RAM and the
    /// devices. A program built for one hart parks the others (the usual start-up
    /// code reads mhartid and waits in wfi), so more vCPUs only help a program that
    /// gives them work: the smp-* workloads do. Watch smp.vcpus (instructions, MIPS,
    /// time running and parked per vCPU) and mips.
    ///
    /// Default 1.
    pub vcpus: u64,
    /// Host workers that run the vCPUs: OS threads in the CLI, Web Workers sharing
    /// the guest's memory in the page (at most 16; a page without cross-origin
    /// isolation has no shared memory and runs every vCPU on its one worker). Each vCPU is a task (a Rust future) that runs runtime.quantum_insns
    /// instructions and then, if another task waits for a worker, goes back to a shared run queue, and a vCPU waiting in wfi
    /// frees its worker, so more vCPUs than workers is fine: that is the guide's
    /// coroutine pool. 1 runs every vCPU on the calling thread in a fixed order,
    /// which makes multi-hart runs reproducible; 0 means twice the host's hardware
    /// threads (the guide's num_cpus * 2). Compare smp.workers (busy time per
    /// worker) and mips as you change it.
    ///
    /// Default 0 (twice the hardware threads).
    pub pool_size: u64,
    /// Guest instructions a vCPU runs before it goes back to the run queue (its
    /// time slice) when another vCPU waits for a worker; with none waiting it
    /// runs on. Short quanta let waiting vCPUs in sooner (a spinning vCPU holds
    /// a worker for at most one quantum) at the price of more task switches; long
    /// ones switch less. It also bounds how late a vCPU sees an IPI while it runs.
    /// Watch smp.vcpus task switches and mips.
    ///
    /// Default 100000.
    pub quantum_insns: u64,
    /// What PAUSE (the spin-wait hint: a FENCE with pred = w and succ = 0) does on a
    /// machine of several harts. true: it ends the hart's quantum, as a
    /// hypervisor's pause-loop exiting does: a hart spinning for a lock or a flag
    /// hands its worker to a vCPU that waits for one (with a worker of its own it
    /// yields its host thread), instead of spinning out its quantum while the hart
    /// it waits for cannot run; its guest time moves on to the quantum's end, as if it
    /// had spun (harts napping on the timer wake on time). false: PAUSE is a plain
    /// fence, and a spinning hart runs until its quantum ends. Compare smp.vcpus
    /// (instructions, pauses) and wall_ns on smp-locks with runtime.pool_size 1.
    ///
    /// Default true.
    pub pause_yields: bool,
    /// Where mtime (and the time CSR) gets its time. false: guest time, one tick
    /// per 10 instructions executed, so a run is the same on every host and with
    /// the JIT on or off, and a guest benchmark that times itself with mtime
    /// reports the same score whatever you tune. true: host time (mtime's 10 MHz
    /// from the host clock), so such a benchmark sees the JIT, the cache and
    /// every other knob, but runs are no longer reproducible; a hart waiting in
    /// wfi for its timer spins on the host clock. Compare a guest's own timing
    /// with it off and on.
    ///
    /// Default false.
    pub host_time: bool,
}

impl RuntimeConfig {
    /// Range of `vcpus`.
    pub const VCPUS: std::ops::RangeInclusive<u64> = 1..=crate::mem::devices::MAX_HARTS as u64;
    /// Range of `pool_size` (0: twice the host's hardware threads).
    pub const POOL_SIZE: std::ops::RangeInclusive<u64> = 0..=256;
    /// Range of `quantum_insns`.
    pub const QUANTUM_INSNS: std::ops::RangeInclusive<u64> = 100..=10_000_000;

    /// Workers for a host with `hardware_threads` hardware threads: the
    /// knob, or twice the threads when it is 0.
    pub fn workers(&self, hardware_threads: usize) -> usize {
        match self.pool_size {
            0 => 2 * hardware_threads.max(1),
            n => n as usize,
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            vcpus: 1,
            pool_size: 0,
            quantum_insns: 100_000,
            pause_yields: true,
            host_time: false,
        }
    }
}

/// The whole machine configuration. Section names are the stable key prefixes
/// (`memory.*`, `mmu.*`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmConfig {
    pub memory: MemoryConfig,
    pub mmu: UnifiedMmuConfig,
    pub jit: JitConfig,
    pub code_cache: CacheConfig,
    pub gc: crate::gc::UnifiedGcConfig,
    pub runtime: RuntimeConfig,
}

/// Split a `--set` argument `key=value` at the first `=`, trimming both sides.
pub fn parse_assignment(text: &str) -> Result<(&str, &str), ConfigError> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim(), value.trim())),
        _ => Err(ConfigError::BadAssignment { text: text.to_string() }),
    }
}

impl VmConfig {
    /// Read a TOML document (`[mmu]` / `strategy = "hybrid"`, or dotted keys);
    /// missing keys keep their defaults. The result is validated.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_syntax(text, &e))?;
        Self::from_json_value(&toml_to_json(toml::Value::Table(table)))
    }

    /// Read a JSON document (`{"mmu": {"strategy": "hybrid"}}`, or dotted
    /// keys `{"mmu.strategy": "hybrid"}`); missing keys keep their defaults.
    /// The result is validated.
    /// A key given twice in one object is refused, named by its dotted path.
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::Syntax { format: "JSON", message: e.to_string() })?;
        check_json_duplicates(text)?;
        Self::from_json_value(&value)
    }

    /// Build a configuration from a JSON tree (what the page sends): every
    /// key must be a knob, every value of the knob's kind; the result is
    /// validated.
    pub fn from_json_value(value: &Value) -> Result<Self, ConfigError> {
        if !value.is_object() {
            return Err(ConfigError::NotATable { value: schema::render(value) });
        }
        let mut leaves = Vec::new();
        collect_leaves(String::new(), value, &mut leaves);
        // `{"jit.min_threshold": 1, "jit": {"min_threshold": 2}}`: one knob twice.
        let mut seen = HashSet::new();
        if let Some((key, _)) = leaves.iter().find(|(key, _)| !seen.insert(key.as_str())) {
            return Err(ConfigError::DuplicateKey { key: key.clone(), at: String::new() });
        }
        let mut tree = VmConfig::default().to_json();
        for (key, value) in leaves {
            let knob = schema::lookup(&key)?;
            knob.check_value(value)?;
            store(&mut tree, knob, value.clone());
        }
        let config = Self::from_checked_tree(tree);
        config.validate()?;
        Ok(config)
    }

    /// Read a `.toml` or `.json` file (by extension). Errors are prefixed
    /// with the file's path.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let parse: fn(&str) -> Result<Self, ConfigError> = match ext.as_deref() {
            Some("toml") => Self::from_toml_str,
            Some("json") => Self::from_json_str,
            _ => return Err(ConfigError::UnsupportedFormat { path: shown }),
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Io { path: shown.clone(), message: e.to_string() })?;
        parse(&text).map_err(|e| ConfigError::InFile { path: shown, source: Box::new(e) })
    }

    /// Set one knob from text (`--set key=value`). The value is parsed by the
    /// knob's kind and must be in its range; rules between knobs (L2 entries
    /// a multiple of its ways, ...) are checked by [`VmConfig::validate`],
    /// which the caller runs once after the last `set`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let knob = schema::lookup(key.trim())?;
        let value = knob.parse_text(value)?;
        let mut tree = self.to_json();
        store(&mut tree, knob, value);
        *self = Self::from_checked_tree(tree);
        Ok(())
    }

    /// Apply `key=value` assignments in order, then validate the result.
    pub fn apply_assignments<S: AsRef<str>>(
        &mut self,
        assignments: impl IntoIterator<Item = S>,
    ) -> Result<(), ConfigError> {
        for assignment in assignments {
            let (key, value) = parse_assignment(assignment.as_ref())?;
            self.set(key, value)?;
        }
        self.validate()
    }

    /// The current value of one knob.
    pub fn get(&self, key: &str) -> Result<Value, ConfigError> {
        let knob = schema::lookup(key.trim())?;
        Ok(self.to_json().pointer(&knob.pointer()).cloned().unwrap_or(Value::Null))
    }

    /// Check every knob's range, then every rule between knobs, then each
    /// engine's own `validate` (its typed error becomes [`ConfigError::Mmu`],
    /// [`ConfigError::Jit`] or [`ConfigError::CodeCache`]). The first problem
    /// found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let tree = self.to_json();
        let value_of =
            |knob: &KnobSpec| tree.pointer(&knob.pointer()).cloned().unwrap_or(Value::Null);
        for knob in schema() {
            knob.check_value(&value_of(knob))?;
        }
        for knob in schema() {
            knob.check_rules(&value_of(knob), &tree)?;
        }
        // The engines' own checks, as a safety net: the schema above should
        // already refuse everything they refuse.
        self.mmu.validate()?;
        self.jit.validate()?;
        self.code_cache.validate()?;
        self.gc.validate()?;
        Ok(())
    }

    /// The configuration as nested JSON (`{"memory": {...}, "mmu": {...}}`):
    /// the report's `config` field; [`VmConfig::from_json_value`] reads it back.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("VmConfig serializes to JSON")
    }

    /// The effective configuration for reports; the same as [`VmConfig::to_json`].
    pub fn effective(&self) -> Value {
        self.to_json()
    }

    /// Every knob's value keyed by its dotted key
    /// (`{"memory.ram_bytes": 268435456, "mmu.strategy": "hybrid", ...}`).
    /// Keys come out sorted (serde_json's map); [`schema`] has the page order.
    pub fn to_flat_json(&self) -> Value {
        let tree = self.to_json();
        let map = schema()
            .iter()
            .map(|k| (k.key.to_string(), tree.pointer(&k.pointer()).cloned().unwrap_or_default()))
            .collect();
        Value::Object(map)
    }

    /// The knobs whose value differs in `other`, in the schema's order,
    /// each with its value in `other`.
    pub fn changes_to(&self, other: &VmConfig) -> Vec<(&'static KnobSpec, Value)> {
        let (old, new) = (self.to_json(), other.to_json());
        schema()
            .iter()
            .filter_map(|k| {
                let after = new.pointer(&k.pointer())?;
                (old.pointer(&k.pointer()) != Some(after)).then(|| (k, after.clone()))
            })
            .collect()
    }

    /// The configuration as a TOML document that [`VmConfig::from_toml_str`]
    /// reads back.
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).expect("VmConfig serializes to TOML")
    }

    /// Deserialize a tree whose every leaf already passed `check_value`.
    fn from_checked_tree(tree: Value) -> Self {
        serde_json::from_value(tree)
            .unwrap_or_else(|e| panic!("config/knobs.rs disagrees with the config structs: {e}"))
    }
}

/// Flatten a document into (dotted key, value) pairs. Only tables at known
/// groups (`mmu`, `mmu.multilevel_tlb_config`) are descended, so a table given
/// to a knob is that knob's invalid value and an unknown section is reported
/// by its own name; dotted names inside a table are joined as they are.
fn collect_leaves<'v>(prefix: String, value: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    let group = format!("{prefix}.");
    let is_group = prefix.is_empty() || schema().iter().any(|k| k.key.starts_with(&group));
    match value {
        Value::Object(map) if is_group => {
            for (name, child) in map {
                let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                collect_leaves(key, child, out);
            }
        }
        _ => out.push((prefix, value)),
    }
}

/// Refuse a JSON document in which one object has the same key twice
/// (serde_json keeps the last one silently), at any depth, naming the key by
/// its dotted path (`jit.min_threshold`; array elements as `[i]`). `text`
/// is already known to be valid JSON.
fn check_json_duplicates(text: &str) -> Result<(), ConfigError> {
    let found = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_str(text);
    let checked = NoDuplicates { path: "", found: &found }
        .deserialize(&mut reader)
        .and_then(|()| reader.end());
    match (checked, found.into_inner()) {
        (Ok(()), _) => Ok(()),
        (Err(e), Some(key)) => Err(ConfigError::DuplicateKey {
            key,
            at: format!(" at line {}, column {}", e.line(), e.column()),
        }),
        (Err(e), None) => Err(ConfigError::Syntax { format: "JSON", message: e.to_string() }),
    }
}

/// A serde visitor that reads any JSON value and keeps nothing but the
/// first duplicate key it meets (in `found`, as a dotted path).
struct NoDuplicates<'a> {
    path: &'a str,
    found: &'a RefCell<Option<String>>,
}

impl NoDuplicates<'_> {
    fn child(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }
}

impl<'de> DeserializeSeed<'de> for NoDuplicates<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let path = format!("{}[{index}]", self.path);
            let element = NoDuplicates { path: &path, found: self.found };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            let path = self.child(&name);
            if !seen.insert(name) {
                let message = format!("duplicate key \"{path}\"");
                *self.found.borrow_mut() = Some(path);
                return Err(de::Error::custom(message));
            }
            map.next_value_seed(NoDuplicates { path: &path, found: self.found })?;
        }
        Ok(())
    }
}

fn store(tree: &mut Value, knob: &KnobSpec, value: Value) {
    let slot = tree
        .pointer_mut(&knob.pointer())
        .unwrap_or_else(|| panic!("knob {} has no field in VmConfig", knob.key));
    *slot = value;
}

/// A TOML parse error as one line with its position.
fn toml_syntax(text: &str, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().replace('\n', "; ");
    let message = match error.span() {
        Some(span) => {
            let (mut line, mut column) = (1, 1);
            for (_, c) in text.char_indices().take_while(|(i, _)| *i < span.start) {
                (line, column) = if c == '\n' { (line + 1, 1) } else { (line, column + 1) };
            }
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    };
    ConfigError::Syntax { format: "TOML", message }
}

/// TOML values as JSON. Dates have no JSON form and become strings (and are
/// then refused by whichever knob they were given to); so do NaN and infinities.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| Value::String(f.to_string()), Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}
