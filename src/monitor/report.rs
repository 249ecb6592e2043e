//! The report document (docs/DESIGN.md "Report JSON"). Ratios are
//! 0..1 or null when there was nothing to count; times are nanoseconds; series
//! are indexed by guest instructions retired. A report also reads back from
//! its JSON (missing fields take their defaults; the page's live report has
//! no `series`): the advisor reads the page's reports that way.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Sample, TimeSeries};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TierReport {
    pub instructions: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TiersReport {
    pub interpreter: TierReport,
    pub baseline: TierReport,
    pub optimizing: TierReport,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LevelReport {
    pub name: String,
    pub lookups: u64,
    pub hits: u64,
    pub hit_rate: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PrefetchReport {
    pub issued: u64,
    pub used: u64,
    /// used / issued.
    pub accuracy: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TlbReport {
    /// Lookups served by a TLB over all lookups in a paging mode.
    pub hit_rate: Option<f64>,
    pub lookups: u64,
    pub hits: u64,
    pub strategy_chosen: String,
    /// Why that strategy: as configured, or what `hybrid` measured and chose.
    pub strategy_reason: String,
    /// Shard locks of the shared (concurrent) TLB taken, over all harts.
    pub lock_acquisitions: u64,
    /// Of those, the ones that found the shard held by another hart.
    pub lock_contended: u64,
    /// lock_contended / lock_acquisitions.
    pub lock_contention: Option<f64>,
    pub levels: Vec<LevelReport>,
    pub walks: u64,
    pub prefetch: PrefetchReport,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryReport {
    pub guest_ram_bytes: u64,
    /// Bytes of generated (JIT) code held.
    pub code_bytes: u64,
    /// Bytes held by the interpreter's decoded-instruction cache (bounded
    /// by `memory.decode_cache_pages`).
    pub decode_cache_bytes: u64,
    /// Pages the decoded-instruction cache dropped to stay within its bound.
    pub decode_cache_evictions: u64,
    /// Bytes of the JIT's own tables: unit counts (bounded by
    /// `jit.max_tracked_units`), page churn, jump cache.
    pub jit_tables_bytes: u64,
    /// Bytes of other bookkeeping that grows with the guest (RAM's lists of
    /// code pages).
    pub other_bytes: u64,
    /// Host bytes of the GC's tables for the guest heap (block table, mark
    /// and allocation bits, grey stack); the heap's objects themselves live
    /// in guest RAM (`gc.heap_committed_bytes` of it).
    pub heap_bytes: u64,
    /// Everything above: the host memory the VM holds for this machine,
    /// beyond the engine's compiled code and fixed-size structures.
    pub total_bytes: u64,
}

/// Quantiles of a histogram of nanoseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Quantiles {
    pub p50: Option<u64>,
    pub p99: Option<u64>,
    pub max: Option<u64>,
    /// Values recorded, and their sum (e.g. all compile time of the run).
    pub count: u64,
    pub total: u64,
}

/// What [`Report::from_monitor`] puts in the report.
#[derive(Clone, Copy)]
pub(super) enum Parts {
    /// Everything.
    All,
    /// A live report: only the series the function keeps, and no
    /// `jit.threshold_series`.
    Live(fn(&str) -> bool),
}

impl Quantiles {
    pub fn of(h: &super::Histogram) -> Self {
        let [p50, p99] = h.quantiles([0.5, 0.99]);
        Quantiles { p50, p99, max: h.max(), count: h.count(), total: h.total() }
    }
}

/// One bar of a distribution: values in `(previous le_ns, le_ns]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Bucket {
    pub le_ns: u64,
    pub count: u64,
}

/// `jit.*` (docs/DESIGN.md "Report JSON").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JitReport {
    pub enabled: bool,
    pub units_compiled: u64,
    /// Guest instructions those compiles translated, counted once per
    /// compile: code compiled into several units (or compiled again after
    /// an eviction) counts each time.
    pub instructions_compiled: u64,
    /// Units a hart took from the repository of compiled modules instead of
    /// compiling them, because another hart had compiled the same guest code
    /// (native engine with several harts; 0 in the browser and with one hart).
    /// Not counted in `units_compiled` nor in the compile times.
    pub units_shared: u64,
    /// Compiles put off because another hart was compiling a unit with the
    /// same entry at the time (the unit ran interpreted until the module was
    /// in the repository).
    pub shared_waits: u64,
    /// Whole compile per unit (code generation + engine).
    pub compile_ns: Quantiles,
    /// The distribution of `compile_ns` (of the values the histogram keeps),
    /// in buckets from 50 µs to 100 ms plus one for anything longer
    /// (`le_ns` = u64::MAX): the page's compile-time chart. Not read back
    /// (u64::MAX does not survive a JavaScript number).
    #[serde(skip_deserializing)]
    pub compile_ns_histogram: Vec<Bucket>,
    /// Discovery and wasm generation per unit.
    pub codegen_ns: Quantiles,
    /// The engine's compile and instantiation per unit (natively wasmtime's
    /// eager Cranelift compile; in the browser `WebAssembly.Module` +
    /// `Instance`, while V8 compiles lazily at the first call and optimizes
    /// in the background, which this does not include). For a background
    /// compile: natively the compile thread's time; in the browser only the
    /// start of `WebAssembly.compile` on the worker (V8's own threads do the
    /// rest, unseen; `compile_latency_ns` is how long it took to arrive).
    pub engine_ns: Quantiles,
    /// Background compiles (`jit.background_compile`): host time from the
    /// start of a unit's compile to its install, while the unit ran at its
    /// old tier; empty when every compile was synchronous.
    #[serde(default)]
    pub compile_latency_ns: Quantiles,
    /// Compiles that waited for the compile-time budget.
    pub compile_waits: u64,
    /// Units dropped because their guest code changed (stores, fence.i).
    pub invalidations: u64,
    /// Pages whose code kept changing put in quarantine (no compiles for a
    /// while; `jit.invalidation_limit`), and compiles refused for it.
    pub quarantines: u64,
    pub quarantine_refusals: u64,
    /// Units whose execution counts the JIT tracks at the end, and units it
    /// forgot to stay within `jit.max_tracked_units`.
    pub tracked_units: u64,
    pub units_forgotten: u64,
    /// Compiled modules installed again on another Web Worker of the page's
    /// pool because their vCPU moved there (each worker has its own function
    /// table); 0 natively and on one worker.
    pub worker_installs: u64,
    /// The compile threshold at the end of the run, in executions.
    pub threshold: u64,
    /// (guest instructions retired, threshold) at the end of each sample window.
    pub threshold_series: Vec<(u64, f64)>,
    /// Calls into compiled code from the dispatcher.
    pub calls: u64,
    /// Units entered by chaining: an optimizing unit went straight to the
    /// next one (`jit.chaining`) instead of returning to the dispatcher.
    /// Every unit entry is a call or a chained entry.
    #[serde(default)]
    pub chained: u64,
    /// Host nanoseconds from the start of the run (the JIT's creation) to
    /// the first compiled unit installed; null when nothing was compiled.
    #[serde(default)]
    pub first_code_ns: Option<u64>,
    /// Host nanoseconds the guest waited for compiles: code generation, the
    /// engine's compile when it is synchronous (`jit.background_compile`
    /// false, or in the browser), instantiation. With background compiles
    /// `compile_ns` is the compile thread's work, most of it not waited for.
    #[serde(default)]
    pub compile_waited_ns: u64,
    /// Background compiles thrown away because the unit's guest code
    /// changed while it compiled (such code never runs).
    #[serde(default)]
    pub compiles_dropped: u64,
    /// Optimizing units compiled again because their indirect jumps kept
    /// going to targets they did not hold (`jit.miss_recompiles`).
    #[serde(default)]
    pub recompiles: u64,
    /// Inline-TLB entries written (after the interpreter redid a load or
    /// store that missed) and flushes (satp, privilege, mstatus or
    /// sfence.vma changed); its hits are the `inline` level of `tlb.levels`.
    pub inline_tlb_fills: u64,
    pub inline_tlb_flushes: u64,
}

/// `code_cache.*`: a lookup happens at each dispatch of a unit whose count
/// has reached the compile threshold; a hit finds compiled code.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeCacheReport {
    pub hit_rate: Option<f64>,
    pub lookups: u64,
    pub hits: u64,
    pub entries: u64,
    pub bytes: u64,
    pub evictions: u64,
    pub live_instances: u64,
}

/// The whole report. Run metadata (`version`, `engine`, `config`,
/// `exit_code`, `stop_reason`) is filled in by whoever ran the machine.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    pub version: String,
    pub engine: String,
    pub config: serde_json::Value,
    pub exit_code: Option<i64>,
    /// How the run ended: `exit`, `max_insns`, `timeout`, `asleep`, `trap_loop`, `stopped`.
    pub stop_reason: String,
    pub instructions: u64,
    pub wall_ns: u64,
    /// Guest instructions per host microsecond over the whole run.
    pub mips: Option<f64>,
    pub tiers: TiersReport,
    pub jit: JitReport,
    pub code_cache: CodeCacheReport,
    /// Host time per million guest instructions, over the sampling intervals
    /// of the run: how steady the speed was (compile pauses, TLB-heavy phases).
    pub host_ns_per_million_insns: Quantiles,
    pub traps: BTreeMap<String, u64>,
    pub tlb: TlbReport,
    pub memory: MemoryReport,
    pub counters: BTreeMap<String, u64>,
    pub series: BTreeMap<String, Vec<(u64, f64)>>,
    /// The GC heap served to the guest (`gc.used` false when the program
    /// never used it).
    pub gc: GcReport,
    /// The vCPUs and the workers that ran them; absent for one hart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smp: Option<SmpReport>,
    /// Knobs changed while the guest ran (`Machine::retune`), oldest first.
    #[serde(default)]
    pub retunes: Vec<RetuneMark>,
}

/// One change of live knobs during a run: when (the run's host time, the
/// same clock as `wall_ns`, and guest instructions executed) and what.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetuneMark {
    pub wall_ns: u64,
    pub instructions: u64,
    /// Knob key -> its new value as text (`"8"`, `"lfu"`, `"true"`).
    pub changes: BTreeMap<String, String>,
}

/// The report's `smp` section (runtime.vcpus > 1).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SmpReport {
    /// Workers the vCPUs ran on (runtime.pool_size as resolved on this host).
    pub pool_size: u64,
    pub vcpus: Vec<VcpuReport>,
    pub workers: Vec<WorkerReport>,
    /// Ready vCPUs waiting for a worker at the last sample.
    pub run_queue: u64,
}

/// One vCPU in [`SmpReport`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VcpuReport {
    /// Its mhartid.
    pub hart: u64,
    pub instructions: u64,
    /// Instructions per microsecond of its own running time.
    pub mips: Option<f64>,
    /// Host time it ran and it spent parked in wfi.
    pub running_ns: u64,
    pub parked_ns: u64,
    /// Quanta it ran; times it left its worker (quantum ends and parks);
    /// times it parked in wfi.
    pub quanta: u64,
    pub task_switches: u64,
    pub parks: u64,
    /// PAUSE hints (spin-wait loops) that ended its quantum early.
    pub pauses: u64,
    /// Software interrupts it raised on other harts, and received.
    pub ipis_sent: u64,
    pub ipis_received: u64,
}

/// One worker in [`SmpReport`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub worker: u64,
    /// Host time it spent polling vCPU tasks.
    pub busy_ns: u64,
    /// busy_ns over the run's wall time.
    pub utilisation: Option<f64>,
    /// Tasks polled, and polls of another task than its previous one.
    pub polls: u64,
    pub task_switches: u64,
}

/// The report's `gc` section (docs/DESIGN.md "Report JSON").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GcReport {
    /// The guest used the `gc.*` instructions.
    pub used: bool,
    /// Where the heap starts (physical), the bytes it may use (the limit,
    /// clamped to RAM) and, when clamped, why.
    pub heap_base: u64,
    pub heap_limit_bytes: u64,
    pub heap_note: String,
    /// Bytes of allocated objects now (the guide's heap use).
    pub heap_bytes: u64,
    /// Bytes of RAM the heap has used so far (its high-water mark).
    pub heap_committed_bytes: u64,
    /// The heap size the next cycle's trigger is a share of.
    pub heap_target_bytes: u64,
    /// heap_bytes over heap_target_bytes.
    pub occupancy: Option<f64>,
    pub objects: u64,
    /// `idle`, `marking` or `sweeping`.
    pub phase: String,
    /// Cycles whose marking finished, and cycles started, by trigger.
    pub collections: u64,
    pub cycles_started: u64,
    pub triggers: GcTriggers,
    /// Pauses: every time the guest stopped for collector work.
    pub pause_ns: Quantiles,
    /// The distribution of pauses, 10 µs .. 100 ms plus one bucket for
    /// anything longer (`le_ns` = u64::MAX). Not read back, like the JIT's
    /// histogram (u64::MAX does not survive a JavaScript number).
    #[serde(skip_deserializing)]
    pub pause_ns_histogram: Vec<Bucket>,
    /// (guest instructions, pause ns), at most 2048 points (thinned evenly).
    pub pauses: Vec<(u64, u64)>,
    /// Host time the marker thread spent marking (concurrent marking).
    pub marker_ns: u64,
    pub allocations: u64,
    /// Allocations served from an allocation buffer without the
    /// collector's lock (only while a marker runs).
    pub allocations_unlocked: u64,
    pub allocated_bytes: u64,
    /// gc.alloc calls that returned 0 (heap exhausted or a bad request).
    pub alloc_failures: u64,
    /// Cycles in which an allocation found no room before marking ended.
    pub marking_fell_behind: u64,
    /// Remark pauses that reached the mark quota with marking left and
    /// handed the rest back to marking (at most 8 per cycle).
    pub remark_cuts: u64,
    pub marked_objects: u64,
    pub freed_objects: u64,
    pub freed_bytes: u64,
    /// Objects marked this (or the last) cycle over objects at its start.
    pub mark_progress: Option<f64>,
    /// Write-barrier slow paths per shard, and waits for a shard's lock.
    pub barrier_hits: Vec<u64>,
    pub barrier_contended: u64,
    /// `gc.verify`: reachable objects marking missed, and the first one.
    pub verify_failures: u64,
    pub verify_first: String,
    /// The quotas now (the adaptive controller moves them), the allocations
    /// between slices, and the mark quota over the run.
    pub mark_quota_us: f64,
    pub sweep_quota_us: f64,
    pub slice_every: u64,
    pub quota_series: Vec<(u64, f64)>,
    /// Marking runs on a marker thread, and what the collector does instead
    /// when it does not.
    pub concurrent: bool,
    pub concurrent_reason: String,
}

/// What started the GC cycles.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GcTriggers {
    /// Heap use reached gc.trigger_threshold of the heap size.
    pub threshold: u64,
    /// An allocation found no room.
    pub exhausted: u64,
    /// The guest asked (gc.collect).
    pub explicit: u64,
}

/// Upper bounds of the pause buckets: 10 µs .. 100 ms, 1-2-5 steps.
const PAUSE_BUCKETS_NS: &[u64] = &[
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
];

impl GcReport {
    fn of(g: &crate::gc::GcSample) -> Self {
        GcReport {
            used: g.used,
            heap_base: g.heap_base,
            heap_limit_bytes: g.heap_limit_bytes,
            heap_note: g.heap_note.clone(),
            heap_bytes: g.heap_used_bytes,
            heap_committed_bytes: g.heap_committed_bytes,
            heap_target_bytes: g.heap_target_bytes,
            occupancy: ratio(g.heap_used_bytes, g.heap_target_bytes),
            objects: g.objects,
            phase: g.phase.to_string(),
            collections: g.collections,
            cycles_started: g.cycles_started,
            triggers: GcTriggers {
                threshold: g.triggers_threshold,
                exhausted: g.triggers_exhausted,
                explicit: g.triggers_explicit,
            },
            pause_ns: Quantiles::of(&g.pauses),
            pause_ns_histogram: g
                .pauses
                .buckets(PAUSE_BUCKETS_NS)
                .into_iter()
                .map(|(le_ns, count)| Bucket { le_ns, count })
                .collect(),
            pauses: g.pause_timeline.clone(),
            marker_ns: g.marker_ns,
            allocations: g.allocations,
            allocations_unlocked: g.allocations_unlocked,
            allocated_bytes: g.allocated_bytes,
            alloc_failures: g.alloc_failures,
            marking_fell_behind: g.marking_fell_behind,
            remark_cuts: g.remark_cuts,
            marked_objects: g.marked_objects,
            freed_objects: g.freed_objects,
            freed_bytes: g.freed_bytes,
            mark_progress: ratio(g.cycle_marked, g.cycle_objects).map(|r| r.min(1.0)),
            barrier_hits: g.barrier_hits.clone(),
            barrier_contended: g.barrier_contended,
            verify_failures: g.verify_failures,
            verify_first: g.verify_first.clone(),
            mark_quota_us: g.mark_quota_us,
            sweep_quota_us: g.sweep_quota_us,
            slice_every: g.slice_every,
            quota_series: g.quota_series.clone(),
            concurrent: g.concurrent,
            concurrent_reason: g.concurrent_reason.clone(),
        }
    }
}

/// Upper bounds of the compile-time buckets: 50 µs .. 100 ms, 1-2-5 steps.
const COMPILE_BUCKETS_NS: &[u64] = &[
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
];

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl Report {
    pub(super) fn from_monitor(
        s: &Sample,
        series: &BTreeMap<&'static str, TimeSeries>,
        counters: &BTreeMap<&'static str, u64>,
        interval_ns: &super::Histogram,
        retunes: &[RetuneMark],
        parts: Parts,
    ) -> Report {
        let keep_series = |name: &str| match parts {
            Parts::All => true,
            Parts::Live(keep) => keep(name),
        };
        let t = &s.tlb;
        let j = &s.jit;
        let compiled = j.retired_baseline + j.retired_optimizing;
        Report {
            version: env!("CARGO_PKG_VERSION").to_string(),
            engine: if j.enabled { j.engine } else { "interpreter" }.to_string(),
            instructions: s.instructions,
            wall_ns: s.wall_ns,
            mips: ratio(s.instructions * 1000, s.wall_ns),
            tiers: TiersReport {
                interpreter: TierReport { instructions: s.instructions.saturating_sub(compiled) },
                baseline: TierReport { instructions: j.retired_baseline },
                optimizing: TierReport { instructions: j.retired_optimizing },
            },
            jit: JitReport {
                enabled: j.enabled,
                units_compiled: j.units_compiled,
                instructions_compiled: j.instructions_compiled,
                units_shared: j.units_shared,
                shared_waits: j.shared_waits,
                compile_ns: Quantiles::of(&j.compile_ns),
                compile_ns_histogram: j
                    .compile_ns
                    .buckets(COMPILE_BUCKETS_NS)
                    .into_iter()
                    .map(|(le_ns, count)| Bucket { le_ns, count })
                    .collect(),
                codegen_ns: Quantiles::of(&j.codegen_ns),
                engine_ns: Quantiles::of(&j.engine_ns),
                compile_latency_ns: Quantiles::of(&j.compile_latency_ns),
                compile_waits: j.compile_waits,
                calls: j.calls,
                chained: j.chained,
                first_code_ns: j.first_code_ns,
                compile_waited_ns: j.compile_waited_ns,
                compiles_dropped: j.compiles_dropped,
                recompiles: j.recompiles,
                inline_tlb_fills: j.inline_tlb_fills,
                inline_tlb_flushes: j.inline_tlb_flushes,
                invalidations: j.invalidated,
                quarantines: j.quarantines,
                quarantine_refusals: j.quarantine_refusals,
                tracked_units: j.tracked_units,
                units_forgotten: j.units_forgotten,
                worker_installs: j.worker_installs,
                threshold: j.threshold,
                threshold_series: match parts {
                    Parts::All => j.threshold_series.clone(),
                    Parts::Live(_) => Vec::new(),
                },
            },
            code_cache: CodeCacheReport {
                hit_rate: ratio(j.cache_hits, j.cache_lookups),
                lookups: j.cache_lookups,
                hits: j.cache_hits,
                entries: j.cache_entries,
                bytes: j.cache_bytes,
                evictions: j.cache_evictions,
                live_instances: j.live_instances,
            },
            host_ns_per_million_insns: Quantiles::of(interval_ns),
            traps: s.traps.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            tlb: TlbReport {
                hit_rate: ratio(t.hits, t.lookups),
                lookups: t.lookups,
                hits: t.hits,
                strategy_chosen: s.tlb_strategy.to_string(),
                strategy_reason: t.strategy_reason.clone(),
                lock_acquisitions: t.lock_acquisitions,
                lock_contended: t.lock_contended,
                lock_contention: ratio(t.lock_contended, t.lock_acquisitions),
                levels: t
                    .levels
                    .iter()
                    .map(|l| LevelReport {
                        name: l.name.clone(),
                        lookups: l.lookups,
                        hits: l.hits,
                        hit_rate: ratio(l.hits, l.lookups),
                    })
                    .collect(),
                walks: t.walks,
                prefetch: PrefetchReport {
                    issued: t.prefetch_issued,
                    used: t.prefetch_used,
                    accuracy: ratio(t.prefetch_used, t.prefetch_issued),
                },
            },
            memory: MemoryReport {
                guest_ram_bytes: s.guest_ram_bytes,
                code_bytes: j.cache_bytes,
                decode_cache_bytes: s.decode_cache_bytes,
                decode_cache_evictions: s.decode_cache_evictions,
                jit_tables_bytes: j.table_bytes,
                other_bytes: s.other_bytes,
                heap_bytes: s.gc.table_bytes,
                total_bytes: s.guest_ram_bytes
                    + j.cache_bytes
                    + s.decode_cache_bytes
                    + j.table_bytes
                    + s.other_bytes
                    + s.gc.table_bytes,
            },
            counters: counters.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            series: series
                .iter()
                .filter(|(k, _)| keep_series(k))
                .map(|(k, v)| (k.to_string(), v.points().to_vec()))
                .collect(),
            retunes: retunes.to_vec(),
            smp: s.smp.as_ref().map(|m| SmpReport {
                pool_size: m.pool_size,
                vcpus: m
                    .vcpus
                    .iter()
                    .enumerate()
                    .map(|(i, v)| VcpuReport {
                        hart: i as u64,
                        instructions: v.instructions,
                        mips: ratio(v.instructions * 1000, v.running_ns),
                        running_ns: v.running_ns,
                        parked_ns: v.parked_ns,
                        quanta: v.quanta,
                        task_switches: v.switches,
                        parks: v.parks,
                        pauses: v.pauses,
                        ipis_sent: v.ipis_sent,
                        ipis_received: v.ipis_received,
                    })
                    .collect(),
                workers: m
                    .workers
                    .iter()
                    .enumerate()
                    .map(|(i, w)| WorkerReport {
                        worker: i as u64,
                        busy_ns: w.busy_ns,
                        utilisation: (s.wall_ns > 0)
                            .then(|| (w.busy_ns as f64 / s.wall_ns as f64).min(1.0)),
                        polls: w.polls,
                        task_switches: w.task_switches,
                    })
                    .collect(),
                run_queue: m.run_queue,
            }),
            gc: GcReport::of(&s.gc),
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }
}
