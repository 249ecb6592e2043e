//! `UnifiedMmu`: owns guest RAM and translates virtual addresses (Sv39) through
//! the TLB organisation chosen by [`MmuOptimizationStrategy`], with an optional
//! stride prefetcher.
//!
//! A translation in a paging mode is one *lookup*. It is served by a TLB (a
//! *hit*) or by a demand page-table *walk* — so `lookups == hits + walks`.
//!
//! - MultiLevel: L1 (fully associative, LRU) -> L2 (set-associative, LRU) ->
//!   walk; an L2 hit refills L1, a walk fills both. See `tlb::multilevel`.
//! - Concurrent: one sharded TLB (per-shard lock, fully associative shards,
//!   CLOCK) -> walk, shared by every hart of the machine (each hart's MMU is
//!   a [`UnifiedMmu::sibling`] of hart 0's). See `tlb::concurrent`.
//! - Hybrid: MultiLevel for one hart; for several, a shared Concurrent TLB
//!   whose lock contention is measured over the first [`HYBRID_WINDOW`] lock
//!   acquisitions of the run; above [`HYBRID_MAX_CONTENDED`] every hart
//!   switches to a private MultiLevel TLB. See [`HybridChoice`].
//! - Prefetcher: trained on misses, inserts into L2 / the shared TLB, never
//!   faults, never sets A or D. See `prefetch`.
//!
//! Every hit re-checks permissions against the current privilege, SUM and MXR
//! (priv spec 4.3.2 step 5), and a store that hits an entry whose D bit is
//! clear walks again so the walk sets D (step 7). A hit that fails either check
//! is a miss: the walk decides the fault from the page tables in memory.
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::prefetch::{StridePrefetcher, MIN_HISTORY_WINDOW};
use super::sv39::{self, is_canonical, satp_asid, satp_root, vpn_of, PAGE_SHIFT, PTE_A, PTE_D};
use super::tlb::concurrent::{ConcurrentTlb, LockCounts};
use super::tlb::multilevel::{self, l1_tag, L1Tlb, L2Tlb};
use super::tlb::{Probe, TlbEntry};
use super::{AccessType, FaultKind, MemFault, Privilege, Ram, TranslationContext};

/// How TLBs are organised (the tuning guide's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MmuOptimizationStrategy {
    /// A small L1 backed by a larger set-associative L2, private to one hart.
    MultiLevel,
    /// One sharded TLB that several harts can share (a lock per shard).
    Concurrent,
    /// MultiLevel for one hart. For several: a shared Concurrent TLB while
    /// lock contention is measured, then either kept or replaced by private
    /// MultiLevel TLBs; the report says which and why.
    #[default]
    Hybrid,
}

/// Sizes of the MultiLevel TLB.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiLevelTlbConfig {
    /// Entries of the multi_level strategy's first-level TLB. L1 is fully
    /// associative and searched on every translation: more entries keep more of the
    /// working set one step from a hit, but each lookup compares them all. Raise it
    /// when the L1 line of the TLB hit-rate-per-level chart is low while L2 still
    /// catches most misses; lower it to watch L1 misses grow. Not used by the
    /// concurrent strategy.
    ///
    /// LRU. Default 16, range 1..=256. Every L1 lookup that misses the most
    /// recently used entry scans all of them, so a big L1 makes hits slower.
    pub l1_entries: usize,
    /// Total entries of the second-level TLB behind L1 (multi_level strategy). L2
    /// catches L1 misses before they cost a page-table walk, and covers entries x 4
    /// KiB of memory. Raise it when the working set is larger than that and the
    /// page-table walk count (tlb.walks) stays high; watch the L2 line of the TLB
    /// hit-rate-per-level chart. Must be l2_ways times a power of two, so that L2
    /// has a power-of-two number of sets.
    ///
    /// Default 512, range 1..=65536; a multiple of `l2_ways`.
    pub l2_entries: usize,
    /// Associativity of the L2 TLB: how many entries each set holds. A page can
    /// only live in its own set, so with few ways pages that fall into the same set
    /// evict each other (conflict misses) even while L2 has room; more ways mean
    /// fewer conflicts but more entries compared per lookup. Try 1 and 16 on a
    /// program that strides through memory and compare the L2 hits in the TLB
    /// hit-rate-per-level chart.
    ///
    /// Default 4, range 1..=256 (the knob offers 1..=16), must divide `l2_entries`.
    /// Sets = l2_entries / l2_ways, indexed by VPN mod sets, so the pages that
    /// conflict are those whose VPNs are a multiple of the set count apart.
    pub l2_ways: usize,
}

impl MultiLevelTlbConfig {
    pub const L1_ENTRIES: RangeInclusive<usize> = 1..=256;
    pub const L2_ENTRIES: RangeInclusive<usize> = 1..=65536;
    pub const L2_WAYS: RangeInclusive<usize> = 1..=256;
}

impl Default for MultiLevelTlbConfig {
    fn default() -> Self {
        MultiLevelTlbConfig { l1_entries: 16, l2_entries: 512, l2_ways: 4 }
    }
}

/// Sizes of the Concurrent (sharded) TLB.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcurrentTlbConfig {
    /// Total entries of the concurrent strategy's shared TLB, summed over its
    /// shards (each shard holds entries / shards). It stands in for both L1 and L2
    /// for every hart. Raise it when the shared level's hit rate in the TLB chart
    /// is low and page-table walks are many. Must be a multiple of shards.
    ///
    /// Default 512, range 1..=65536; a multiple of `shards`.
    pub entries: usize,
    /// How many independently locked parts the concurrent TLB is split into; a page
    /// always goes to the same shard. More shards let more harts translate at the
    /// same time without waiting for one lock, but each shard is smaller, so busy
    /// pages that land in one shard evict each other. With several vCPUs, compare
    /// per-vCPU utilisation and the shared level's hit rate as you change it.
    ///
    /// Default 8, range 1..=256 (the knob offers 1..=64), must divide `entries`.
    /// Each shard is fully associative with `entries / shards` entries; pages are
    /// spread over shards by a hash of the VPN, so uneven spreading makes a working
    /// set near `entries` miss more.
    pub shards: usize,
}

impl ConcurrentTlbConfig {
    pub const ENTRIES: RangeInclusive<usize> = 1..=65536;
    pub const SHARDS: RangeInclusive<usize> = 1..=256;
}

impl Default for ConcurrentTlbConfig {
    fn default() -> Self {
        ConcurrentTlbConfig { entries: 512, shards: 8 }
    }
}

/// The tuning guide's MMU configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnifiedMmuConfig {
    /// How the TLBs are organised. multi_level: a small L1 in front of a larger
    /// set-associative L2, private to one hart; the fastest lookups for a single
    /// vCPU. concurrent: one sharded TLB shared by all harts, one lock per shard:
    /// a page one hart walked serves the others (fewer walks), but every lookup
    /// takes a lock (slower hits). hybrid: multi_level for one vCPU; with several
    /// it starts shared, measures how often a shard lock was held by another hart
    /// over the first 65536 locks, and above 5 % gives each hart a private
    /// multi_level TLB. Switch it and compare the TLB hit rate, tlb.walks and the
    /// per-level hits in the TLB chart; the report names the strategy actually
    /// used and why (tlb.strategy_chosen, tlb.strategy_reason) and the lock
    /// figures (tlb.lock_acquisitions, tlb.lock_contended). With the JIT on, compiled loads and
    /// stores first try the JIT's own inline TLB (level `inline` in the chart, 256
    /// entries); the MMU's levels then see only its misses, so their sizes matter
    /// most for working sets beyond 256 pages or with jit.enabled off.
    ///
    /// Default Hybrid.
    pub strategy: MmuOptimizationStrategy,
    pub multilevel_tlb_config: MultiLevelTlbConfig,
    pub concurrent_tlb_config: ConcurrentTlbConfig,
    /// Watch TLB misses for a constant stride (a loop walking an array page by
    /// page, say) and fill the translations of the next pages before they are used.
    /// Turn it off to measure what it buys: compare the TLB hit rate and the walk
    /// count, and prefetches issued against prefetches used (tlb.prefetch) to see
    /// whether the extra walks pay off.
    ///
    /// Default true. Prefetched translations go into the L2 (or the shared TLB),
    /// never L1.
    pub enable_prefetch: bool,
    /// How many recent TLB-miss pages the stride detector remembers. A short window
    /// locks on to a new access pattern quickly; a long one still finds a stride
    /// when one loop's misses are mixed with misses from elsewhere, at more work
    /// per miss. Watch prefetches used against issued (tlb.prefetch) as you change
    /// it.
    ///
    /// Default 100, range 3..=4096 (the rule needs two equal deltas). A stride
    /// fires when it is more than half of the window's deltas: a small window can
    /// be fooled by two accidental equal deltas; a large one is slow to notice a
    /// stride after a phase of irregular misses.
    pub prefetch_history_window: usize,
    /// How many pages ahead along the detected stride the prefetcher fills. Too
    /// short and the program catches up with it, so the misses remain; too long and
    /// prefetched entries push out useful ones or are replaced before use. Tune it
    /// against the TLB hit rate and the share of prefetches used (tlb.prefetch).
    ///
    /// Default 4, range 1..=64. Further ahead hides more misses when misses come in
    /// bursts, and wastes more walks and TLB space past the end of each strided
    /// run.
    pub prefetch_distance: usize,
    /// What a misaligned load or store does. false: tunevm carries it out, as many
    /// RISC-V cores do. true: it raises a misaligned-access exception that the
    /// guest must handle. Turn it on to find the misaligned accesses in a program:
    /// each one shows up in the trap counts (traps).
    ///
    /// Default false.
    pub strict_align: bool,
}

impl UnifiedMmuConfig {
    pub const PREFETCH_HISTORY_WINDOW: RangeInclusive<usize> = MIN_HISTORY_WINDOW..=4096;
    pub const PREFETCH_DISTANCE: RangeInclusive<usize> = 1..=64;

    /// Check every field against its documented range. The error names the
    /// config key (`mmu.…`), the value and what is allowed.
    pub fn validate(&self) -> Result<(), MmuConfigError> {
        fn in_range(
            key: &'static str,
            value: usize,
            allowed: RangeInclusive<usize>,
        ) -> Result<(), MmuConfigError> {
            if allowed.contains(&value) {
                Ok(())
            } else {
                Err(MmuConfigError::OutOfRange { key, value, allowed })
            }
        }
        fn divides(
            key: &'static str,
            value: usize,
            total_key: &'static str,
            total: usize,
        ) -> Result<(), MmuConfigError> {
            if total.is_multiple_of(value) {
                Ok(())
            } else {
                Err(MmuConfigError::NotADivisor { key, value, total_key, total })
            }
        }
        let ml = &self.multilevel_tlb_config;
        in_range(
            "mmu.multilevel_tlb_config.l1_entries",
            ml.l1_entries,
            MultiLevelTlbConfig::L1_ENTRIES,
        )?;
        in_range(
            "mmu.multilevel_tlb_config.l2_entries",
            ml.l2_entries,
            MultiLevelTlbConfig::L2_ENTRIES,
        )?;
        in_range("mmu.multilevel_tlb_config.l2_ways", ml.l2_ways, MultiLevelTlbConfig::L2_WAYS)?;
        divides(
            "mmu.multilevel_tlb_config.l2_ways",
            ml.l2_ways,
            "mmu.multilevel_tlb_config.l2_entries",
            ml.l2_entries,
        )?;
        let c = &self.concurrent_tlb_config;
        in_range("mmu.concurrent_tlb_config.entries", c.entries, ConcurrentTlbConfig::ENTRIES)?;
        in_range("mmu.concurrent_tlb_config.shards", c.shards, ConcurrentTlbConfig::SHARDS)?;
        divides(
            "mmu.concurrent_tlb_config.shards",
            c.shards,
            "mmu.concurrent_tlb_config.entries",
            c.entries,
        )?;
        in_range(
            "mmu.prefetch_history_window",
            self.prefetch_history_window,
            Self::PREFETCH_HISTORY_WINDOW,
        )?;
        in_range("mmu.prefetch_distance", self.prefetch_distance, Self::PREFETCH_DISTANCE)?;
        Ok(())
    }
}

/// A [`UnifiedMmuConfig`] that [`UnifiedMmuConfig::validate`] refuses: which
/// config key, its value, and what is allowed. Displayed as one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MmuConfigError {
    /// `value` is outside `allowed`.
    #[error("{key} = {value} is out of range: allowed {}..={}", .allowed.start(), .allowed.end())]
    OutOfRange {
        /// The full config key (`mmu.prefetch_distance`).
        key: &'static str,
        value: usize,
        allowed: RangeInclusive<usize>,
    },
    /// `value` does not divide the value of `total_key` (ways of the L2,
    /// shards of the concurrent TLB).
    #[error("{key} = {value} must divide {total_key} = {total} (allowed: a divisor of {total})")]
    NotADivisor { key: &'static str, value: usize, total_key: &'static str, total: usize },
}

impl Default for UnifiedMmuConfig {
    fn default() -> Self {
        UnifiedMmuConfig {
            strategy: MmuOptimizationStrategy::Hybrid,
            multilevel_tlb_config: MultiLevelTlbConfig::default(),
            concurrent_tlb_config: ConcurrentTlbConfig::default(),
            enable_prefetch: true,
            prefetch_history_window: 100,
            prefetch_distance: 4,
            strict_align: false,
        }
    }
}

/// Counters of one TLB level.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TlbLevelStats {
    /// "l1", "l2" or "shared".
    pub name: String,
    pub lookups: u64,
    pub hits: u64,
}

impl TlbLevelStats {
    /// hits / lookups, `None` when there was no lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        ratio(self.hits, self.lookups)
    }
}

/// Counters of the whole MMU since it was built (or last reset).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TlbStats {
    /// Translations performed in a paging mode (bare-mode accesses are not lookups).
    pub lookups: u64,
    /// Lookups served by some TLB level without a walk.
    pub hits: u64,
    pub levels: Vec<TlbLevelStats>,
    /// Page-table walks done for misses (prefetch walks are not counted here).
    /// Every lookup is a hit or a walk: `lookups == hits + walks`.
    pub walks: u64,
    pub prefetch_issued: u64,
    /// Prefetched entries that served at least one lookup.
    pub prefetch_used: u64,
    /// Why this strategy: configured, or what Hybrid measured and decided.
    pub strategy_reason: String,
    /// Shard locks of the shared (Concurrent) TLB taken.
    pub lock_acquisitions: u64,
    /// Of those, how many found the shard held by another hart and waited.
    pub lock_contended: u64,
}

impl TlbStats {
    /// Add another hart's figures (levels matched by name).
    pub fn merge(&mut self, o: &TlbStats) {
        self.lookups += o.lookups;
        self.hits += o.hits;
        self.walks += o.walks;
        self.prefetch_issued += o.prefetch_issued;
        self.prefetch_used += o.prefetch_used;
        self.lock_acquisitions += o.lock_acquisitions;
        self.lock_contended += o.lock_contended;
        if self.strategy_reason.is_empty() {
            self.strategy_reason.clone_from(&o.strategy_reason);
        }
        for l in &o.levels {
            match self.levels.iter_mut().find(|m| m.name == l.name) {
                Some(m) => {
                    m.lookups += l.lookups;
                    m.hits += l.hits;
                }
                None => self.levels.push(l.clone()),
            }
        }
    }

    /// hits / lookups (the report's `tlb.hit_rate`), `None` when there was no lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        ratio(self.hits, self.lookups)
    }

    /// The level called `name` ("l1", "l2", "shared").
    pub fn level(&self, name: &str) -> Option<&TlbLevelStats> {
        self.levels.iter().find(|l| l.name == name)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The TLBs of the chosen strategy.
enum Tlbs {
    MultiLevel { l1: L1Tlb, l2: L2Tlb },
    Concurrent(Arc<ConcurrentTlb>),
}

/// Raw counters; [`UnifiedMmu::stats`] turns them into [`TlbStats`]. The L1
/// hit path bumps one counter only.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    /// Hits and misses of L1 (MultiLevel).
    first_hits: u64,
    first_misses: u64,
    l2_hits: u64,
    /// Hits and misses of the shared TLB (Concurrent; a Hybrid hart may have
    /// used both organisations in one run).
    shared_hits: u64,
    shared_misses: u64,
    locks: LockCounts,
    walks: u64,
    prefetch_issued: u64,
    prefetch_used: u64,
}

/// Lock acquisitions over all harts after which Hybrid decides.
pub const HYBRID_WINDOW: u64 = 1 << 16;
/// Share of contended lock acquisitions above which Hybrid gives each hart
/// a private TLB.
pub const HYBRID_MAX_CONTENDED: f64 = 0.05;
/// A hart adds its lock counts to the machine-wide figures this often.
const HYBRID_PUBLISH_EVERY: u64 = 1024;

const MEASURING: u8 = 0;
const KEEP_SHARED: u8 = 1;
const GO_PRIVATE: u8 = 2;

/// Hybrid's decision for a machine of several harts, shared by their MMUs.
/// It starts `MEASURING` with one shared Concurrent TLB; once the harts
/// have taken [`HYBRID_WINDOW`] shard locks in all, the first hart to see it
/// decides (once per run): keep sharing, or (more than
/// [`HYBRID_MAX_CONTENDED`] of the locks waited) `GO_PRIVATE`, after which
/// each hart replaces the shared TLB by an empty private MultiLevel one at
/// its next translation. Emptier TLBs are always correct, so harts may
/// switch at different moments.
pub struct HybridChoice {
    harts: usize,
    state: AtomicU8,
    acquisitions: AtomicU64,
    contended: AtomicU64,
    /// (acquisitions, contended) when the decision was made.
    decided_at: Mutex<Option<(u64, u64)>>,
}

impl HybridChoice {
    /// Add a hart's lock counts since its last call; decide when the
    /// window is full.
    fn publish(&self, delta: LockCounts) {
        let acq =
            self.acquisitions.fetch_add(delta.acquisitions, Ordering::Relaxed) + delta.acquisitions;
        let cont = self.contended.fetch_add(delta.contended, Ordering::Relaxed) + delta.contended;
        if acq < HYBRID_WINDOW || self.state.load(Ordering::Relaxed) != MEASURING {
            return;
        }
        let mut decided = self.decided_at.lock().unwrap_or_else(|e| e.into_inner());
        if decided.is_none() {
            *decided = Some((acq, cont));
            let private = cont as f64 > HYBRID_MAX_CONTENDED * acq as f64;
            self.state.store(if private { GO_PRIVATE } else { KEEP_SHARED }, Ordering::Release);
        }
    }

    fn reason(&self) -> String {
        let n = self.harts;
        let pct =
            |acq: u64, cont: u64| if acq == 0 { 0.0 } else { 100.0 * cont as f64 / acq as f64 };
        let limit = 100.0 * HYBRID_MAX_CONTENDED;
        match *self.decided_at.lock().unwrap_or_else(|e| e.into_inner()) {
            None => {
                let acq = self.acquisitions.load(Ordering::Relaxed);
                let cont = self.contended.load(Ordering::Relaxed);
                format!(
                    "hybrid: {n} vCPUs share one TLB; still measuring lock contention \
                     ({acq} of {HYBRID_WINDOW} shard locks taken so far, {:.1} % waited)",
                    pct(acq, cont)
                )
            }
            Some((acq, cont)) if self.state.load(Ordering::Acquire) == GO_PRIVATE => format!(
                "hybrid: {n} vCPUs; {:.1} % of the first {acq} shard locks of the shared TLB \
                 waited for another hart (over {limit} %), so each hart switched to a private \
                 multi-level TLB",
                pct(acq, cont)
            ),
            Some((acq, cont)) => format!(
                "hybrid: {n} vCPUs share one TLB: {:.1} % of the first {acq} shard locks \
                 waited for another hart (at most {limit} %), so sharing stays",
                pct(acq, cont)
            ),
        }
    }
}

/// Address translation for one hart: TLBs (private, or a handle on the
/// machine's shared Concurrent TLB), prefetcher and counters. It owns no
/// memory: page tables are read from (and A/D bits written to) the `Ram`
/// each call is given, so one RAM can serve several MMUs.
pub struct UnifiedMmu {
    /// Size of the RAM this MMU translates into (every `translate` is given
    /// that RAM).
    ram_bytes: usize,
    config: UnifiedMmuConfig,
    /// Harts translating through this MMU and its siblings.
    harts: usize,
    chosen: MmuOptimizationStrategy,
    tlbs: Tlbs,
    /// Hybrid with several harts: the shared decision.
    hybrid: Option<Arc<HybridChoice>>,
    /// Lock counts already added to `hybrid`.
    published: LockCounts,
    prefetcher: Option<StridePrefetcher>,
    counters: Counters,
}

const SATP_MODE_SV39: u64 = 8;
const PAGE_OFFSET_MASK: u64 = (1 << PAGE_SHIFT) - 1;

/// May a cached entry with PTE bits `flags` serve this access without a walk?
/// Permissions (priv spec 4.3.2 step 5) and, for a store, D already set (step
/// 7: otherwise the walk must set it).
#[inline(always)]
fn usable(flags: u8, access: AccessType, ctx: &TranslationContext) -> bool {
    sv39::permits(flags, access, ctx) && (access != AccessType::Store || flags & PTE_D != 0)
}

/// Which of L1's fast-path copies an access uses.
#[inline(always)]
fn l1_kind(access: AccessType) -> usize {
    if access == AccessType::Fetch {
        multilevel::FETCH
    } else {
        multilevel::DATA
    }
}

fn private_tlbs(config: &UnifiedMmuConfig) -> Tlbs {
    let ml = &config.multilevel_tlb_config;
    Tlbs::MultiLevel { l1: L1Tlb::new(ml.l1_entries), l2: L2Tlb::new(ml.l2_entries, ml.l2_ways) }
}

impl UnifiedMmu {
    /// An MMU over a RAM of `ram_bytes` (the tuning guide's
    /// `UnifiedMmu::new(256 MiB, false, mmu_config)`); `shared_by_harts`
    /// says whether several harts will translate through this MMU and its
    /// [`sibling`](Self::sibling)s (Hybrid shares one TLB then). The same as
    /// [`for_harts`](Self::for_harts) with 1 or 2 harts.
    ///
    /// Panics if `config` fails [`UnifiedMmuConfig::validate`]: user input is
    /// validated by the `config` module before a machine is built, so an
    /// invalid config here is a host bug.
    pub fn new(ram_bytes: usize, shared_by_harts: bool, config: UnifiedMmuConfig) -> Self {
        Self::for_harts(ram_bytes, if shared_by_harts { 2 } else { 1 }, config)
    }

    /// Hart 0's MMU on a machine of `harts` harts; the others get
    /// [`sibling`](Self::sibling)s of it. Panics as [`new`](Self::new) does.
    pub fn for_harts(ram_bytes: usize, harts: usize, config: UnifiedMmuConfig) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid MMU configuration: {e}");
        }
        let harts = harts.max(1);
        let (chosen, hybrid) = match config.strategy {
            MmuOptimizationStrategy::Hybrid if harts > 1 => (
                MmuOptimizationStrategy::Concurrent,
                Some(Arc::new(HybridChoice {
                    harts,
                    state: AtomicU8::new(MEASURING),
                    acquisitions: AtomicU64::new(0),
                    contended: AtomicU64::new(0),
                    decided_at: Mutex::new(None),
                })),
            ),
            MmuOptimizationStrategy::Hybrid => (MmuOptimizationStrategy::MultiLevel, None),
            s => (s, None),
        };
        let tlbs = match chosen {
            MmuOptimizationStrategy::Concurrent => {
                let c = &config.concurrent_tlb_config;
                Tlbs::Concurrent(Arc::new(ConcurrentTlb::new(c.entries, c.shards)))
            }
            _ => private_tlbs(&config),
        };
        let prefetcher = config.enable_prefetch.then(|| {
            StridePrefetcher::new(config.prefetch_history_window, config.prefetch_distance)
        });
        UnifiedMmu {
            ram_bytes,
            config,
            harts,
            chosen,
            tlbs,
            hybrid,
            published: LockCounts::default(),
            prefetcher,
            counters: Counters::default(),
        }
    }

    /// The MMU of another hart of the same machine: the shared TLB (and
    /// Hybrid's decision) if this one has them, otherwise empty private
    /// TLBs; its own prefetcher and counters.
    pub fn sibling(&self) -> UnifiedMmu {
        let tlbs = match &self.tlbs {
            Tlbs::Concurrent(shared) => Tlbs::Concurrent(shared.clone()),
            Tlbs::MultiLevel { .. } => private_tlbs(&self.config),
        };
        let config = &self.config;
        UnifiedMmu {
            ram_bytes: self.ram_bytes,
            config: config.clone(),
            harts: self.harts,
            chosen: self.chosen,
            tlbs,
            hybrid: self.hybrid.clone(),
            published: LockCounts::default(),
            prefetcher: config.enable_prefetch.then(|| {
                StridePrefetcher::new(config.prefetch_history_window, config.prefetch_distance)
            }),
            counters: Counters::default(),
        }
    }

    /// Why [`strategy_chosen`](Self::strategy_chosen): the configured
    /// strategy, or what Hybrid measured and decided.
    pub fn strategy_reason(&self) -> String {
        let n = self.harts;
        match (&self.hybrid, self.config.strategy) {
            (Some(h), _) => h.reason(),
            (None, MmuOptimizationStrategy::Hybrid) => {
                "hybrid: one vCPU, so a private multi-level TLB (fastest lookups, nothing to share)"
                    .into()
            }
            (None, MmuOptimizationStrategy::MultiLevel) => {
                format!("multi_level as configured: a private L1 and L2 for each of {n} vCPU(s)")
            }
            (None, MmuOptimizationStrategy::Concurrent) => {
                format!("concurrent as configured: one sharded TLB shared by {n} vCPU(s)")
            }
        }
    }

    /// Hybrid with several harts, on the shared TLB's path: pass this
    /// hart's lock counts on now and then, and leave the shared TLB once
    /// the decision says so.
    #[inline]
    fn hybrid_tick(&mut self) {
        let Some(h) = &self.hybrid else { return };
        match h.state.load(Ordering::Acquire) {
            MEASURING => {
                let c = self.counters.locks;
                if c.acquisitions - self.published.acquisitions >= HYBRID_PUBLISH_EVERY {
                    h.publish(LockCounts {
                        acquisitions: c.acquisitions - self.published.acquisitions,
                        contended: c.contended - self.published.contended,
                    });
                    self.published = c;
                }
            }
            GO_PRIVATE => {
                self.tlbs = private_tlbs(&self.config);
                self.chosen = MmuOptimizationStrategy::MultiLevel;
            }
            _ => {}
        }
    }

    pub fn config(&self) -> &UnifiedMmuConfig {
        &self.config
    }

    /// Size of the RAM this MMU translates into.
    pub fn ram_bytes(&self) -> usize {
        self.ram_bytes
    }

    /// The concrete organisation in use (never `Hybrid`): for Hybrid on
    /// several harts, what the machine-wide decision says (Concurrent while
    /// it measures).
    pub fn strategy_chosen(&self) -> MmuOptimizationStrategy {
        match &self.hybrid {
            Some(h) if h.state.load(Ordering::Acquire) == GO_PRIVATE => {
                MmuOptimizationStrategy::MultiLevel
            }
            _ => self.chosen,
        }
    }

    /// True when accesses under `ctx` are untranslated (bare mode or M-mode).
    #[inline(always)]
    pub fn is_bare(ctx: &TranslationContext) -> bool {
        ctx.privilege == Privilege::Machine || (ctx.satp >> 60) != SATP_MODE_SV39
    }

    /// Translate `vaddr` for `access`, returning the physical address.
    /// Page-table entries are read from (and A/D bits written to) RAM; a PTE
    /// outside RAM gives an access fault.
    ///
    /// The MultiLevel L1 hit path is inlined here: a canonical check, one tag
    /// compare against the entry last hit by this kind of access (fetch or
    /// data; else a scan of L1), the permission check, one counter.
    #[inline]
    pub fn translate(
        &mut self,
        ram: &Ram,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        debug_assert_eq!(ram.len(), self.ram_bytes, "an MMU translates into one RAM");
        if Self::is_bare(ctx) {
            return Ok(vaddr);
        }
        match &mut self.tlbs {
            Tlbs::MultiLevel { l1, .. } => {
                if is_canonical(vaddr) {
                    let tag = l1_tag(vpn_of(vaddr), satp_asid(ctx.satp));
                    if let Some(data) = l1.lookup(tag, l1_kind(access)) {
                        if usable(data as u8, access, ctx) {
                            self.counters.first_hits += 1;
                            return Ok(data & !PAGE_OFFSET_MASK | vaddr & PAGE_OFFSET_MASK);
                        }
                    }
                }
                self.multilevel_miss(ram, vaddr, access, ctx)
            }
            Tlbs::Concurrent(_) => self.concurrent_translate(ram, vaddr, access, ctx),
        }
    }

    /// L1 missed (or refused): try L2, then walk.
    #[inline(never)]
    fn multilevel_miss(
        &mut self,
        ram: &Ram,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        self.counters.first_misses += 1;
        if let (true, Tlbs::MultiLevel { l1, l2 }) = (is_canonical(vaddr), &mut self.tlbs) {
            let (vpn, asid) = (vpn_of(vaddr), satp_asid(ctx.satp));
            if let Probe::Hit { entry, first_use_of_prefetch } =
                l2.lookup(vpn, asid, |e| usable(e.flags, access, ctx))
            {
                l1.insert(l1_tag(vpn, asid), L1Tlb::pack(&entry), l1_kind(access));
                self.counters.l2_hits += 1;
                if first_use_of_prefetch {
                    self.counters.prefetch_used += 1;
                    self.prefetch(ram, vaddr, ctx);
                }
                return Ok(entry.ppn << PAGE_SHIFT | vaddr & PAGE_OFFSET_MASK);
            }
        }
        self.walk_and_fill(ram, vaddr, access, ctx)
    }

    /// The shared TLB, then a walk.
    #[inline(never)]
    fn concurrent_translate(
        &mut self,
        ram: &Ram,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        if let (true, Tlbs::Concurrent(tlb)) = (is_canonical(vaddr), &self.tlbs) {
            let probe = tlb.lookup(
                vpn_of(vaddr),
                satp_asid(ctx.satp),
                satp_root(ctx.satp),
                &mut self.counters.locks,
                |e| usable(e.flags, access, ctx),
            );
            self.hybrid_tick();
            if let Probe::Hit { entry, first_use_of_prefetch } = probe {
                self.counters.shared_hits += 1;
                if first_use_of_prefetch {
                    self.counters.prefetch_used += 1;
                    self.prefetch(ram, vaddr, ctx);
                }
                return Ok(entry.ppn << PAGE_SHIFT | vaddr & PAGE_OFFSET_MASK);
            }
        }
        self.counters.shared_misses += 1;
        self.walk_and_fill(ram, vaddr, access, ctx)
    }

    /// Demand walk (priv spec 4.3.2): walk, check permissions (step 5), set
    /// A/D (step 7), fill the TLBs, train the prefetcher.
    fn walk_and_fill(
        &mut self,
        ram: &Ram,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        self.counters.walks += 1;
        let leaf = sv39::walk(ram, ctx.satp, vaddr, access)?;
        if !sv39::permits(leaf.flags, access, ctx) {
            return Err(MemFault::new(FaultKind::PageFault, access, vaddr));
        }
        let leaf = sv39::update_ad(ram, leaf, access);
        let (vpn, asid) = (vpn_of(vaddr), satp_asid(ctx.satp));
        let entry = TlbEntry {
            vpn,
            ppn: leaf.ppn,
            asid,
            flags: leaf.flags,
            level: leaf.level,
            prefetched: false,
        };
        match &mut self.tlbs {
            Tlbs::MultiLevel { l1, l2 } => {
                l2.insert(entry);
                l1.insert(l1_tag(vpn, asid), L1Tlb::pack(&entry), l1_kind(access));
            }
            Tlbs::Concurrent(tlb) => {
                tlb.insert(entry, satp_root(ctx.satp), &mut self.counters.locks)
            }
        }
        self.prefetch(ram, vaddr, ctx);
        Ok(leaf.ppn << PAGE_SHIFT | vaddr & PAGE_OFFSET_MASK)
    }

    /// Feed the prefetcher with the page of `vaddr` (a demand miss or the
    /// first use of a prefetched entry) and insert the translations it asks
    /// for into L2 / the shared TLB. A prefetch walk never faults and never
    /// writes memory: pages whose walk would fault, or whose leaf has A = 0
    /// (setting A is the privilege of a real access), are skipped, and so are
    /// pages already in a TLB.
    fn prefetch(&mut self, ram: &Ram, vaddr: u64, ctx: &TranslationContext) {
        let Some(prefetcher) = &mut self.prefetcher else {
            return;
        };
        let asid = satp_asid(ctx.satp);
        for page in prefetcher.record(vaddr as i64 >> PAGE_SHIFT) {
            let Some(target) = page.checked_mul(1 << PAGE_SHIFT).map(|v| v as u64) else {
                continue;
            };
            if !is_canonical(target) {
                continue;
            }
            let vpn = vpn_of(target);
            let present = match &self.tlbs {
                Tlbs::MultiLevel { l1, l2 } => {
                    l1.contains(l1_tag(vpn, asid)) || l2.contains(vpn, asid)
                }
                Tlbs::Concurrent(tlb) => {
                    tlb.contains(vpn, asid, satp_root(ctx.satp), &mut self.counters.locks)
                }
            };
            if present {
                continue;
            }
            let Ok(leaf) = sv39::walk(ram, ctx.satp, target, AccessType::Load) else {
                continue;
            };
            if leaf.flags & PTE_A == 0 {
                continue;
            }
            let entry = TlbEntry {
                vpn,
                ppn: leaf.ppn,
                asid,
                flags: leaf.flags,
                level: leaf.level,
                prefetched: true,
            };
            match &mut self.tlbs {
                Tlbs::MultiLevel { l2, .. } => l2.insert(entry),
                Tlbs::Concurrent(tlb) => {
                    tlb.insert(entry, satp_root(ctx.satp), &mut self.counters.locks)
                }
            }
            self.counters.prefetch_issued += 1;
        }
    }

    /// Translate without side effects, for debuggers and the page: walks the
    /// tables and checks permissions, but reads no TLB, fills none, sets no
    /// A/D bit and counts nothing.
    pub fn translate_debug(
        &self,
        ram: &Ram,
        vaddr: u64,
        access: AccessType,
        ctx: &TranslationContext,
    ) -> Result<u64, MemFault> {
        if Self::is_bare(ctx) {
            return Ok(vaddr);
        }
        let leaf = sv39::walk(ram, ctx.satp, vaddr, access)?;
        if !sv39::permits(leaf.flags, access, ctx) {
            return Err(MemFault::new(FaultKind::PageFault, access, vaddr));
        }
        Ok(leaf.ppn << PAGE_SHIFT | vaddr & PAGE_OFFSET_MASK)
    }

    /// SFENCE.VMA: `vaddr` None = all addresses, `asid` None = all address spaces.
    /// Priv spec 4.2.1: with an ASID, global entries stay; with an address,
    /// every TLB piece of the (super)page containing it goes.
    pub fn sfence_vma(&mut self, vaddr: Option<u64>, asid: Option<u16>) {
        let vpn = vaddr.map(vpn_of);
        match &mut self.tlbs {
            Tlbs::MultiLevel { l1, l2 } => {
                l1.flush(vpn, asid);
                l2.flush(vpn, asid);
            }
            Tlbs::Concurrent(tlb) => tlb.flush(vpn, asid),
        }
    }

    pub fn stats(&self) -> TlbStats {
        let c = &self.counters;
        let l1_lookups = c.first_hits + c.first_misses;
        let shared_lookups = c.shared_hits + c.shared_misses;
        let level = |name: &str, lookups, hits| TlbLevelStats { name: name.into(), lookups, hits };
        let mut levels = Vec::new();
        if l1_lookups > 0 || matches!(self.tlbs, Tlbs::MultiLevel { .. }) {
            levels.push(level("l1", l1_lookups, c.first_hits));
            levels.push(level("l2", c.first_misses, c.l2_hits));
        }
        if shared_lookups > 0 || matches!(self.tlbs, Tlbs::Concurrent(_)) {
            levels.push(level("shared", shared_lookups, c.shared_hits));
        }
        TlbStats {
            lookups: l1_lookups + shared_lookups,
            hits: c.first_hits + c.l2_hits + c.shared_hits,
            levels,
            walks: c.walks,
            prefetch_issued: c.prefetch_issued,
            prefetch_used: c.prefetch_used,
            strategy_reason: self.strategy_reason(),
            lock_acquisitions: c.locks.acquisitions,
            lock_contended: c.locks.contended,
        }
    }

    /// Go on counting where `old` (the MMU this one replaces, with another
    /// configuration: `Machine::retune`) left off, so the report's figures
    /// run on across the change. Lock counts `old` had not passed to its
    /// Hybrid decision are not passed to this one's.
    pub fn continue_counting_from(&mut self, old: &UnifiedMmu) {
        self.counters = old.counters;
        self.published = old.counters.locks;
    }

    /// Zero every counter (the TLB contents, and Hybrid's decision, stay).
    pub fn reset_stats(&mut self) {
        self.counters = Counters::default();
        self.published = LockCounts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hybrid's decision from the machine-wide figures, and each hart
    /// leaving the shared TLB at its next translation once told to.
    #[test]
    fn hybrid_goes_private_above_the_contention_limit() {
        for (contended, private) in [(HYBRID_WINDOW / 10, true), (HYBRID_WINDOW / 100, false)] {
            let config = UnifiedMmuConfig::default();
            let mut a = UnifiedMmu::for_harts(1 << 20, 3, config);
            let mut b = a.sibling();
            assert_eq!(a.strategy_chosen(), MmuOptimizationStrategy::Concurrent);
            assert!(a.strategy_reason().contains("still measuring"), "{}", a.strategy_reason());
            let h = a.hybrid.clone().expect("hybrid with 3 harts");
            h.publish(LockCounts { acquisitions: HYBRID_WINDOW / 2, contended: contended / 2 });
            assert_eq!(h.state.load(Ordering::Relaxed), MEASURING);
            h.publish(LockCounts { acquisitions: HYBRID_WINDOW / 2, contended: contended / 2 });
            let ram = Ram::new(1 << 20);
            let ctx = TranslationContext {
                satp: SATP_MODE_SV39 << 60 | 0x8000_0000 >> 12,
                privilege: Privilege::Supervisor,
                sum: false,
                mxr: false,
            };
            // The walk faults (empty tables), but the translation path ran.
            let _ = b.translate(&ram, 0x1000, AccessType::Load, &ctx);
            let reason = b.strategy_reason();
            if private {
                assert_eq!(b.strategy_chosen(), MmuOptimizationStrategy::MultiLevel);
                assert!(matches!(b.tlbs, Tlbs::MultiLevel { .. }));
                assert!(reason.contains("10.0 %") && reason.contains("private"), "{reason}");
                // a has not translated since: still on the shared TLB, but
                // already reports the decision.
                assert!(matches!(a.tlbs, Tlbs::Concurrent(_)));
                assert_eq!(a.strategy_chosen(), MmuOptimizationStrategy::MultiLevel);
                let _ = a.translate(&ram, 0x1000, AccessType::Load, &ctx);
                assert!(matches!(a.tlbs, Tlbs::MultiLevel { .. }));
            } else {
                assert_eq!(b.strategy_chosen(), MmuOptimizationStrategy::Concurrent);
                assert!(matches!(b.tlbs, Tlbs::Concurrent(_)));
                assert!(reason.contains("1.0 %") && reason.contains("sharing stays"), "{reason}");
            }
        }
    }

    #[test]
    fn default_config_is_valid() {
        assert_eq!(UnifiedMmuConfig::default().validate(), Ok(()));
    }

    #[test]
    fn validation_names_key_value_and_range() {
        fn error(change: impl FnOnce(&mut UnifiedMmuConfig)) -> String {
            let mut c = UnifiedMmuConfig::default();
            change(&mut c);
            c.validate().unwrap_err().to_string()
        }
        for (e, expected) in [
            (
                error(|c| c.multilevel_tlb_config.l2_ways = 3),
                &["mmu.multilevel_tlb_config.l2_ways = 3", "l2_entries = 512"][..],
            ),
            (
                error(|c| c.multilevel_tlb_config.l1_entries = 0),
                &["mmu.multilevel_tlb_config.l1_entries = 0", "1..=256"],
            ),
            (error(|c| c.concurrent_tlb_config.shards = 3), &["concurrent_tlb_config.shards = 3"]),
            (error(|c| c.concurrent_tlb_config.entries = 0), &["entries = 0", "1..=65536"]),
            (
                error(|c| c.prefetch_history_window = 2),
                &["prefetch_history_window = 2", "3..=4096"],
            ),
            (error(|c| c.prefetch_distance = 0), &["mmu.prefetch_distance = 0", "1..=64"]),
        ] {
            for part in expected {
                assert!(e.contains(part), "{e:?} should contain {part:?}");
            }
        }
    }
}
