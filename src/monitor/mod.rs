//! `PerformanceMonitor` (the tuning guide's `vm_monitor`): counters,
//! histograms and time series, and the JSON report.
//!
//! Architecture invariant: `monitor` exports plain data; it never reaches into
//! the machine. The machine pushes [`Sample`]s in; `generate_report` turns the
//! latest sample and the series into a [`Report`].

mod histogram;
mod report;
mod series;

pub use histogram::Histogram;
pub use report::{
    Bucket, CodeCacheReport, GcReport, GcTriggers, JitReport, LevelReport, PrefetchReport,
    Quantiles, Report, RetuneMark, SmpReport, TierReport, TiersReport, TlbReport, VcpuReport,
    WorkerReport,
};
pub use series::TimeSeries;

use std::collections::BTreeMap;

use report::Parts;

use crate::mem::TlbStats;

/// How the monitor samples.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorConfig {
    /// Guest instructions between two points of every time series.
    pub sample_interval_insns: u64,
    /// Points kept per series; past it the series halves its resolution.
    pub max_points: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig { sample_interval_insns: 1_000_000, max_points: 1024 }
    }
}

/// A snapshot of the machine's cumulative counters, pushed by the machine.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Guest instructions retired so far.
    pub instructions: u64,
    /// Host wall time since the run started.
    pub wall_ns: u64,
    /// Traps taken so far, by cause name.
    pub traps: Vec<(&'static str, u64)>,
    pub tlb: TlbStats,
    pub tlb_strategy: &'static str,
    pub guest_ram_bytes: u64,
    /// Host bytes held by decoded-instruction caches.
    pub decode_cache_bytes: u64,
    /// Pages the decoded-instruction cache dropped to make room.
    pub decode_cache_evictions: u64,
    /// Host bytes of the VM's other bookkeeping that grows with what the
    /// guest does (RAM's code-page lists).
    pub other_bytes: u64,
    /// The JIT's figures (all zero when it is off), summed over the harts.
    pub jit: JitSample,
    /// Per vCPU and per worker, for a machine with several harts.
    pub smp: Option<SmpSample>,
    /// The GC heap's figures.
    pub gc: crate::gc::GcSample,
}

/// The scheduling figures of a multi-hart machine in a [`Sample`].
#[derive(Clone, Debug, Default)]
pub struct SmpSample {
    /// Workers the vCPUs ran on (the resolved `runtime.pool_size`).
    pub pool_size: u64,
    pub vcpus: Vec<VcpuSample>,
    pub workers: Vec<crate::runtime::WorkerStats>,
    /// Ready vCPUs waiting for a worker at this sample.
    pub run_queue: u64,
}

/// One vCPU's figures in an [`SmpSample`].
#[derive(Clone, Debug, Default)]
pub struct VcpuSample {
    pub instructions: u64,
    pub running_ns: u64,
    pub parked_ns: u64,
    pub quanta: u64,
    pub switches: u64,
    pub parks: u64,
    pub pauses: u64,
    pub ipis_sent: u64,
    pub ipis_received: u64,
    /// Parked in wfi at this sample.
    pub parked: bool,
}

/// The JIT's cumulative figures in a [`Sample`].
#[derive(Clone, Debug, Default)]
pub struct JitSample {
    pub enabled: bool,
    /// The backend (`native-wasmtime`, `browser-…`), or `interpreter`.
    pub engine: &'static str,
    /// Guest instructions retired by baseline and by optimizing code.
    pub retired_baseline: u64,
    pub retired_optimizing: u64,
    pub units_compiled: u64,
    /// Guest instructions the compiles translated, once per compile.
    pub instructions_compiled: u64,
    /// Units whose module another hart had compiled (instantiated from the
    /// repository, not compiled), and compiles put off while another hart
    /// compiled the same unit.
    pub units_shared: u64,
    pub shared_waits: u64,
    pub compile_ns: Histogram,
    pub codegen_ns: Histogram,
    pub engine_ns: Histogram,
    /// Background compiles: start to install, per unit.
    pub compile_latency_ns: Histogram,
    pub compile_waits: u64,
    pub invalidated: u64,
    pub threshold: u64,
    pub threshold_series: Vec<(u64, f64)>,
    pub cache_lookups: u64,
    pub cache_hits: u64,
    pub cache_entries: u64,
    pub cache_bytes: u64,
    pub cache_evictions: u64,
    pub live_instances: u64,
    /// Calls into compiled code.
    pub calls: u64,
    /// Units entered by chaining (from another unit, not the dispatcher).
    pub chained: u64,
    /// Host ns from the JIT's start to its first installed unit.
    pub first_code_ns: Option<u64>,
    /// Host ns the guest waited for compiles; background compiles dropped.
    pub compile_waited_ns: u64,
    pub compiles_dropped: u64,
    /// Optimizing units compiled again for the indirect targets they missed.
    pub recompiles: u64,
    /// Inline-TLB hits in generated code, entries filled, flushes.
    pub inline_tlb_hits: u64,
    pub inline_tlb_fills: u64,
    pub inline_tlb_flushes: u64,
    /// Pages put in quarantine for code that kept changing, and compiles
    /// refused because of it.
    pub quarantines: u64,
    pub quarantine_refusals: u64,
    /// Units whose counts the JIT tracks, and those it forgot to stay
    /// within `jit.max_tracked_units`.
    pub tracked_units: u64,
    pub units_forgotten: u64,
    /// Installs of a module on another worker than the one that compiled
    /// it (the page's worker pool; always 0 natively).
    pub worker_installs: u64,
    /// Host bytes of the JIT's own tables (unit counts, page churn, jump cache).
    pub table_bytes: u64,
}

impl JitSample {
    /// Add another hart's JIT figures: counts and histograms add up; the
    /// threshold (and its series) stay this one's (hart 0's).
    pub fn merge(&mut self, o: &JitSample) {
        self.enabled |= o.enabled;
        self.retired_baseline += o.retired_baseline;
        self.retired_optimizing += o.retired_optimizing;
        self.units_compiled += o.units_compiled;
        self.instructions_compiled += o.instructions_compiled;
        self.units_shared += o.units_shared;
        self.shared_waits += o.shared_waits;
        self.compile_ns.merge(&o.compile_ns);
        self.codegen_ns.merge(&o.codegen_ns);
        self.engine_ns.merge(&o.engine_ns);
        self.compile_latency_ns.merge(&o.compile_latency_ns);
        self.compile_waits += o.compile_waits;
        self.invalidated += o.invalidated;
        self.cache_lookups += o.cache_lookups;
        self.cache_hits += o.cache_hits;
        self.cache_entries += o.cache_entries;
        self.cache_bytes += o.cache_bytes;
        self.cache_evictions += o.cache_evictions;
        self.live_instances += o.live_instances;
        self.calls += o.calls;
        self.chained += o.chained;
        self.compile_waited_ns += o.compile_waited_ns;
        self.compiles_dropped += o.compiles_dropped;
        self.recompiles += o.recompiles;
        self.first_code_ns = match (self.first_code_ns, o.first_code_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.inline_tlb_hits += o.inline_tlb_hits;
        self.inline_tlb_fills += o.inline_tlb_fills;
        self.inline_tlb_flushes += o.inline_tlb_flushes;
        self.quarantines += o.quarantines;
        self.quarantine_refusals += o.quarantine_refusals;
        self.tracked_units += o.tracked_units;
        self.units_forgotten += o.units_forgotten;
        self.worker_installs += o.worker_installs;
        self.table_bytes += o.table_bytes;
    }
}

/// Collects samples and derives the figures the tuning guide asks for.
pub struct PerformanceMonitor {
    config: MonitorConfig,
    collecting: bool,
    latest: Sample,
    previous: Option<Sample>,
    next_sample_at: u64,
    /// Named series, indexed by guest instructions retired.
    series: BTreeMap<&'static str, TimeSeries>,
    /// Named counters set by the embedder (run metadata such as resets).
    counters: BTreeMap<&'static str, u64>,
    /// Host time per sampled interval, in ns per million instructions
    /// (reported as `host_ns_per_million_insns`).
    interval_ns: Histogram,
    /// Knobs changed during the run (the report's `retunes`).
    retunes: Vec<RetuneMark>,
}

impl Default for PerformanceMonitor {
    fn default() -> Self {
        Self::new(MonitorConfig::default())
    }
}

impl PerformanceMonitor {
    pub fn new(config: MonitorConfig) -> Self {
        PerformanceMonitor {
            config,
            collecting: false,
            latest: Sample::default(),
            previous: None,
            next_sample_at: 0,
            series: BTreeMap::new(),
            counters: BTreeMap::new(),
            interval_ns: Histogram::new(),
            retunes: Vec::new(),
        }
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Start (or restart) collecting: clears all series and counters.
    pub fn start_collection(&mut self) {
        *self = Self::new(self.config.clone());
        self.collecting = true;
    }

    /// True when `instructions` has reached the next sampling point.
    pub fn wants_sample(&self, instructions: u64) -> bool {
        self.collecting && instructions >= self.next_sample_at
    }

    /// Record a snapshot. Series get a point when the sampling interval has
    /// passed; the latest snapshot always replaces the previous one.
    pub fn record(&mut self, sample: Sample) {
        if !self.collecting {
            return;
        }
        if sample.instructions >= self.next_sample_at {
            self.add_points(&sample);
            self.next_sample_at = sample.instructions + self.config.sample_interval_insns;
            self.previous = Some(sample.clone());
        }
        self.latest = sample;
    }

    fn add_points(&mut self, s: &Sample) {
        let max = self.config.max_points;
        let x = s.instructions;
        if let Some(p) = &self.previous {
            let d_insns = s.instructions.saturating_sub(p.instructions);
            let d_ns = s.wall_ns.saturating_sub(p.wall_ns);
            if d_insns > 0 && d_ns > 0 {
                let mips = d_insns as f64 * 1e3 / d_ns as f64;
                self.series.entry("mips").or_insert_with(|| TimeSeries::new(max)).push(x, mips);
                self.interval_ns.record(d_ns * 1_000_000 / d_insns);
            }
            let d_cache = s.jit.cache_lookups.saturating_sub(p.jit.cache_lookups);
            if d_cache > 0 {
                let rate =
                    s.jit.cache_hits.saturating_sub(p.jit.cache_hits) as f64 / d_cache as f64;
                self.series
                    .entry("code_cache_hit_rate")
                    .or_insert_with(|| TimeSeries::new(max))
                    .push(x, rate);
            }
            if let (Some(now), Some(before)) = (&s.smp, &p.smp) {
                self.series
                    .entry("smp.run_queue")
                    .or_insert_with(|| TimeSeries::new(max))
                    .push(x, now.run_queue as f64);
                let running: u64 = now.vcpus.iter().map(|v| v.running_ns).sum::<u64>()
                    - before.vcpus.iter().map(|v| v.running_ns).sum::<u64>();
                if d_ns > 0 {
                    // vCPUs running at once, on average over the interval.
                    // The vCPUs' figures come from snapshots up to a
                    // coordinator tick old, so an interval can see more
                    // running time than it lasted: capped at the workers.
                    let busy = (running as f64 / d_ns as f64).min(now.pool_size.max(1) as f64);
                    self.series
                        .entry("smp.busy_vcpus")
                        .or_insert_with(|| TimeSeries::new(max))
                        .push(x, busy);
                }
            }
            if s.gc.used {
                self.series
                    .entry("gc.heap_bytes")
                    .or_insert_with(|| TimeSeries::new(max))
                    .push(x, s.gc.heap_used_bytes as f64);
                let d_alloc = s.gc.allocated_bytes.saturating_sub(p.gc.allocated_bytes);
                if d_ns > 0 {
                    // MB of objects allocated per second of host time.
                    self.series
                        .entry("gc.alloc_rate")
                        .or_insert_with(|| TimeSeries::new(max))
                        .push(x, d_alloc as f64 * 1e3 / d_ns as f64);
                }
                let progress = if s.gc.phase == "marking" && s.gc.cycle_objects > 0 {
                    (s.gc.cycle_marked as f64 / s.gc.cycle_objects as f64).min(1.0)
                } else if s.gc.phase == "idle" {
                    0.0
                } else {
                    1.0
                };
                self.series
                    .entry("gc.mark_progress")
                    .or_insert_with(|| TimeSeries::new(max))
                    .push(x, progress);
            }
            let d_lookups = s.tlb.lookups.saturating_sub(p.tlb.lookups);
            if d_lookups > 0 {
                let rate = s.tlb.hits.saturating_sub(p.tlb.hits) as f64 / d_lookups as f64;
                self.series
                    .entry("tlb_hit_rate")
                    .or_insert_with(|| TimeSeries::new(max))
                    .push(x, rate);
            }
        }
    }

    /// Set an embedder-defined counter.
    pub fn set_counter(&mut self, name: &'static str, value: u64) {
        self.counters.insert(name, value);
    }

    pub fn series(&self, name: &str) -> Option<&TimeSeries> {
        self.series.get(name)
    }

    /// The report for everything collected so far. Run metadata (version,
    /// engine, config, exit code) is filled in by the caller.
    pub fn generate_report(&self) -> Report {
        Report::from_monitor(
            &self.latest,
            &self.series,
            &self.counters,
            &self.interval_ns,
            &self.retunes,
            Parts::All,
        )
    }

    /// The report as [`generate_report`](Self::generate_report) makes it,
    /// but with only the series whose names `keep_series` keeps and an
    /// empty `jit.threshold_series`: what a live report sends, without
    /// copying the series it leaves out (they grow with the run).
    pub fn generate_live_report(&self, keep_series: fn(&str) -> bool) -> Report {
        Report::from_monitor(
            &self.latest,
            &self.series,
            &self.counters,
            &self.interval_ns,
            &self.retunes,
            Parts::Live(keep_series),
        )
    }

    /// Record that knobs changed while the guest ran (see
    /// `Machine::retune`): at `wall_ns` of run time, after `instructions`
    /// guest instructions. Nothing is recorded for no change.
    pub fn mark_retune(
        &mut self,
        wall_ns: u64,
        instructions: u64,
        changes: &[(&'static crate::config::KnobSpec, serde_json::Value)],
    ) -> Option<&RetuneMark> {
        if changes.is_empty() {
            return None;
        }
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let changes = changes.iter().map(|(k, v)| (k.key.to_string(), text(v))).collect();
        self.retunes.push(RetuneMark { wall_ns, instructions, changes });
        self.retunes.last()
    }
}
