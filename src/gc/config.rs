//! `UnifiedGcConfig`: the tuning guide's GC knobs, with its defaults.
use serde::{Deserialize, Serialize};

/// How the collector sizes, paces and checks its work (`gc.*` keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnifiedGcConfig {
    /// Most bytes of guest RAM the GC heap may use. The heap starts at the first
    /// page after the program's image and is clamped to the RAM left there
    /// (gc.heap_limit_bytes reports what it got). A smaller heap collects more
    /// often; one too small for the program's live data makes gc.alloc return 0
    /// (the gc-exhaust workload then reports it and exits with code 3). 64 KiB to
    /// 1 GiB, in whole 4 KiB pages.
    ///
    /// Default 256 MiB (the tuning guide's).
    pub heap_size_limit: u64,
    /// Longest host time one incremental marking slice may take before the
    /// guest runs again, in microseconds. Marking runs in slices at allocation
    /// safepoints; each pause is about this long at most, plus one step. The
    /// remark that ends a cycle keeps to it too: past it, the rest goes back
    /// to marking and a later remark tries again (gc.remark_cuts, at most 8
    /// per cycle). Lower it for shorter pauses (more of them); too low and
    /// marking falls behind allocation (gc.marking_fell_behind), which forces
    /// the rest of the cycle into one long pause. Watch gc.pause_ns.
    ///
    /// Default 1000 (1 ms).
    pub mark_quota_us: u64,
    /// Longest host time one lazy sweeping slice may take, in microseconds.
    /// Freed objects are swept in slices at allocation safepoints (and by the
    /// allocator itself as it needs blocks). Watch gc.pause_ns.
    ///
    /// Default 500 (0.5 ms).
    pub sweep_quota_us: u64,
    /// Let the collector tune its own quotas: a slice that pauses longer than
    /// the 1 ms pause target shrinks the quota in proportion, and a cycle in
    /// which marking fell behind allocation (the heap came close to full before
    /// marking ended) raises the quota, or runs slices more often once the quota
    /// is at the target. gc.quota_series shows the quotas it chose.
    ///
    /// Default true.
    pub adaptive_quota: bool,
    /// Mark on a background marker while the guest runs: a thread natively, a
    /// second Web Worker in the page's threads build (the plain build has no
    /// shared memory and marks incrementally, see gc.concurrent). Only the start of a cycle (roots) and a short
    /// stop-the-world remark (registers, root ranges and the pages the write
    /// barrier saw dirtied) pause the guest. Needs gc.incremental.
    ///
    /// Default true.
    pub concurrent_marking: bool,
    /// Shards of the write barrier's dirty-page lists. The first store into a
    /// heap page while marking runs takes the slow path and records the page in
    /// shard page mod shards, each behind its own lock, so vCPUs on different
    /// workers rarely wait for one another. gc.barrier_hits shows the hits per
    /// shard, gc.barrier_contended the waits. 1 to 64.
    ///
    /// Default 8.
    pub write_barrier_shards: u64,
    /// Heap use, as a share of the current heap size, at which a collection
    /// cycle starts. Lower it when the heap grows too large (memory use too
    /// high); raise it for fewer cycles. Must be above target_occupancy.
    ///
    /// Default 0.8 (80 %).
    pub trigger_threshold: f64,
    /// Occupancy the heap is sized for after a cycle: the next cycle's heap
    /// size is the live data divided by this (at least 4 MiB, at most
    /// heap_size_limit), so the next cycle starts when use reaches
    /// trigger_threshold of that size.
    ///
    /// Default 0.7 (70 %).
    pub target_occupancy: f64,
    /// Objects per incremental step: after this many allocations the collector
    /// runs one marking or sweeping slice, and inside a slice it reads the clock
    /// every this many objects marked. 1 to 100000.
    ///
    /// Default 100.
    pub incremental_step: u64,
    /// Collect incrementally (slices between allocations). false: every cycle
    /// marks and sweeps everything in one stop-the-world pause, the baseline the
    /// other modes are measured against.
    ///
    /// Default true.
    pub incremental: bool,
    /// Debug: after marking, check with an independent stop-the-world trace
    /// that every reachable object is marked (gc.verify_failures counts
    /// misses), and fill freed objects with 0xdb bytes so that a use after free
    /// changes a program's checksum. Slow; for tests and for the curious.
    ///
    /// Default false.
    pub verify: bool,
}

impl Default for UnifiedGcConfig {
    fn default() -> Self {
        UnifiedGcConfig {
            heap_size_limit: 256 << 20,
            mark_quota_us: 1000,
            sweep_quota_us: 500,
            adaptive_quota: true,
            concurrent_marking: true,
            write_barrier_shards: 8,
            trigger_threshold: 0.8,
            target_occupancy: 0.7,
            incremental_step: 100,
            incremental: true,
            verify: false,
        }
    }
}

/// Why a GC configuration is refused (one line each).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GcConfigError {
    #[error(
        "gc.target_occupancy ({target}) must be below gc.trigger_threshold ({trigger}): \
         a cycle would start as soon as the last one ended"
    )]
    TargetAboveTrigger { target: f64, trigger: f64 },
    #[error(
        "gc.concurrent_marking needs gc.incremental: a stop-the-world collector marks \
         everything in one pause (set gc.concurrent_marking=false too)"
    )]
    ConcurrentNeedsIncremental,
}

impl UnifiedGcConfig {
    pub const HEAP_SIZE_LIMIT: std::ops::RangeInclusive<u64> = (64 << 10)..=(1 << 30);
    pub const QUOTA_US: std::ops::RangeInclusive<u64> = 10..=1_000_000;
    pub const SHARDS: std::ops::RangeInclusive<u64> = 1..=64;
    pub const TRIGGER: std::ops::RangeInclusive<f64> = 0.1..=0.99;
    pub const TARGET: std::ops::RangeInclusive<f64> = 0.05..=0.95;
    pub const STEP: std::ops::RangeInclusive<u64> = 1..=100_000;

    /// Checks between fields (ranges are the knob table's).
    pub fn validate(&self) -> Result<(), GcConfigError> {
        if self.target_occupancy >= self.trigger_threshold {
            return Err(GcConfigError::TargetAboveTrigger {
                target: self.target_occupancy,
                trigger: self.trigger_threshold,
            });
        }
        if self.concurrent_marking && !self.incremental {
            return Err(GcConfigError::ConcurrentNeedsIncremental);
        }
        Ok(())
    }
}
