//! `UnifiedCodeCache`: the bounded cache of compiled translation units, with
//! the tuning guide's `CacheConfig` and `EvictionPolicy`.
//!
//! The guide's snippet (guide: "代码缓存配置"); the second argument of `new`
//! is [`CacheOptions`], the settings the guide leaves unexplained:
//!
//! ```
//! use tunevm::jit::code_cache::{UnifiedCodeCache, CacheConfig, EvictionPolicy};
//!
//! let cache_config = CacheConfig {
//!     max_entries: 10000,
//!     max_memory_bytes: 128 * 1024 * 1024, // 128MB
//!     eviction_policy: EvictionPolicy::LRU_LFU,
//!     cleanup_interval_secs: 60,
//!     hotness_decay_factor: 0.95,
//!     warmup_size: 100,
//! };
//!
//! let cache = UnifiedCodeCache::new(cache_config, Default::default());
//! # let mut cache: UnifiedCodeCache<u64, &str> = cache;
//! # let removed = cache.insert(0x8000_0000, "unit", 2048, None, 0).unwrap();
//! # assert!(removed.is_empty());
//! # assert_eq!(cache.lookup(0x8000_0000, 0), Some(&"unit"));
//! # assert_eq!(cache.stats().hit_rate, Some(1.0));
//! ```
//!
//! # What is cached
//!
//! An entry is one *translation unit*: a key `K` (the unit's physical start pc
//! plus whatever its translation depends on) and a payload `V` (the compiled
//! code; later a table slot or a module handle). The cache never looks inside
//! either. Each entry also carries:
//!
//! - `code_bytes`: the size of its generated code, summed against
//!   [`CacheConfig::max_memory_bytes`];
//! - an optional [`GroupId`]: the module the unit was compiled into. A module
//!   may batch several units (docs/DESIGN.md "Compile units"); its instance and
//!   table slot can be released only when its *last* unit leaves the cache.
//!
//! # Nothing is dropped silently
//!
//! Every call that takes units out ([`insert`](UnifiedCodeCache::insert) when
//! it evicts or replaces, [`invalidate`](UnifiedCodeCache::invalidate),
//! [`invalidate_where`](UnifiedCodeCache::invalidate_where),
//! [`clear`](UnifiedCodeCache::clear)) returns a [`Removed`]: the payloads,
//! and the groups whose last unit just went. Each emptying of a group is
//! reported exactly once.
//!
//! # Time is an input
//!
//! The cache has no clock of its own and never reads one (`Instant::now()`
//! panics on wasm32, and the VM may run cleanup on guest time). Calls that
//! may need to run a cleanup take `now_ns`: nanoseconds on whatever monotonic
//! clock the caller chose ([`CacheOptions::start_ns`] is its reading when the
//! cache is built). Recency is not time: it is counted in cache operations
//! (see [`EvictionPolicy`]).
//!
//! # Cost per operation (n = entries held)
//!
//! | operation | cost |
//! | --- | --- |
//! | `lookup` | one hash lookup; on a hit, one re-rank in an ordered map: O(log n) |
//! | `insert` | O(log n), plus O(log n) per unit evicted |
//! | `invalidate` | O(log n) |
//! | `invalidate_where`, `clear` | O(n) scan of the keys, plus O(log n) per unit removed |
//! | cleanup (at most once per `cleanup_interval_secs`) | O(n) for LRU; O(n log n) for LFU and LRU_LFU, which re-rank every unit |
//!
//! Architecture invariant: the cache knows nothing of wasm, engines or guest
//! memory; payloads are opaque and every release is the caller's job.
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use thiserror::Error;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
const NS_PER_SEC: u64 = 1_000_000_000;

/// Which unit goes when the cache is full.
///
/// Two clocks order units. The *access sequence* advances at every insert and
/// every lookup hit; "least recently used" means the smallest sequence number
/// at the last use (insert or hit). The *admission count* advances at every
/// insert: it measures eviction pressure, "how many units have been compiled
/// since".
///
/// *Hotness* is a unit's decayed hit count: 0 at insert, +1 at every lookup
/// hit, multiplied by [`CacheConfig::hotness_decay_factor`] at every cleanup
/// (so old popularity fades). A replaced unit (same key inserted again, e.g. a
/// tier-up) keeps its hotness.
///
/// Under LFU and LRU_LFU a unit admitted within the last
/// [`CacheConfig::warmup_size`] admissions is *warming up*: it is evicted only
/// when no warmed-up unit is left (then least recently used first). LRU
/// ignores warm-up.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum EvictionPolicy {
    /// Evict the least recently used unit. Cheap and quick to follow a phase
    /// change, but a burst of one-off units (a scan longer than the free room
    /// between two uses of the hot code) pushes the hot code out.
    #[serde(rename = "lru")]
    LRU,
    /// Evict the unit with the lowest hotness; ties go to the least recently
    /// used. Keeps the hot core through any scan, but after a phase change
    /// the old hot units stay until decay has worn their hotness below the
    /// newcomers' — and newcomers evicted before their first hit stay at 0,
    /// so the new working set may never get in.
    #[serde(rename = "lfu")]
    LFU,
    /// Recency plus a credit for hotness. A warmed-up unit's score is
    ///
    /// ```text
    /// score = last_use + credit * log2(1 + hotness)
    /// ```
    ///
    /// where `last_use` is the admission count at the unit's last use and
    /// `credit = max_entries * CacheOptions::lru_lfu_credit_percent / 100`
    /// admissions (5000 with the defaults). The lowest score goes first; ties
    /// go to the least recently used. In words: each doubling of a unit's
    /// hotness lets it outlive an unused unit by `credit` admissions. So a
    /// one-off scan cannot push out a hot unit unless the scan admits more
    /// than `credit * log2(1 + hotness)` units while the hot unit is unused,
    /// and after a phase change the old hot units go after at most that many
    /// admissions (decay shortens it further). With a credit of 0 it is LRU;
    /// with a huge credit it approaches LFU.
    #[default]
    #[serde(rename = "lru_lfu")]
    LRU_LFU,
}

/// The tuning guide's code cache configuration (config section `code_cache`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Most compiled translation units the code cache holds at once. Inserting into
    /// a full cache first evicts a unit chosen by code_cache.eviction_policy. Too
    /// small for the program's hot code and the same units are evicted and
    /// recompiled over and over: code_cache.evictions and jit.units_compiled climb
    /// and code_cache.hit_rate falls. Larger costs host memory: the cache's
    /// bookkeeping and the wasm modules behind its units (code_cache.entries,
    /// code_cache.live_instances). Shrink it to watch eviction at work.
    ///
    /// Default 10000 units, range 1..=1_000_000. Above the range the cache's own
    /// bookkeeping (a hash map and an ordered map entry per unit, a few hundred
    /// bytes) and the modules behind the units outgrow what a browser tab holds
    /// comfortably.
    pub max_entries: usize,
    /// Most bytes of generated code the cache holds at once: the sizes of the
    /// generated wasm modules, summed (the engine's own machine code for them comes
    /// on top and is not counted). An insert evicts units by
    /// code_cache.eviction_policy until the new one fits; a unit larger than the
    /// whole limit is not cached and stays interpreted. Shrink it to bound memory
    /// in the browser or to provoke evictions; raise it when code_cache.bytes sits
    /// at the limit and code_cache.evictions keeps growing. 64 KiB to 4 GiB.
    ///
    /// The bytes counted are the `code_bytes` the JIT reports for each unit (the
    /// wasm it built). Default 128 MiB, range 64 KiB..=4 GiB: below 64 KiB a single
    /// optimized region may not fit; above 4 GiB is more than a wasm32 VM can
    /// address, and engines keep their compiled machine code on top of it.
    pub max_memory_bytes: u64,
    /// Which unit goes when a limit is reached. lru: the least recently used (last
    /// insert or hit); cheap and quick to follow a phase change, but a burst of
    /// one-off units longer than the free room pushes the hot code out. lfu: the
    /// lowest hotness (hits, decayed by code_cache.hotness_decay_factor), ties to
    /// the least recently used; keeps the hot core through any scan, but after a
    /// phase change the old hot units stay until decay wears them down, and
    /// newcomers evicted before their first hit may never get in. lru_lfu: recency
    /// plus a credit for hotness, score = last use + credit x log2(1 + hotness),
    /// lowest first, where last use is counted in admissions and credit is half of
    /// max_entries admissions: each doubling of hotness lets a unit outlive an
    /// unused one by credit admissions. Under lfu and lru_lfu, units still warming
    /// up (code_cache.warmup_size) are evicted last. Compare code_cache.hit_rate,
    /// code_cache.evictions and recompiles (jit.units_compiled).
    ///
    /// Default `lru_lfu`. See [`EvictionPolicy`] for the exact rules.
    pub eviction_policy: EvictionPolicy,
    /// Guest seconds between cleanups. A cleanup multiplies every unit's hotness by
    /// code_cache.hotness_decay_factor; it never removes units. The clock is guest
    /// time: one guest second is 100 million guest cycles (the nominal 100 MHz
    /// clock), so runs are reproducible and the CLI and the page agree; a short
    /// program may never reach the first cleanup. Shorter: lfu and lru_lfu forget
    /// old popularity sooner and follow phase changes faster, but also forget hot
    /// code that is merely paused. No effect under lru. Watch code_cache.hit_rate
    /// and code_cache.evictions. 1 to 86 400 (a day).
    ///
    /// The clock is the one the caller passes as `now_ns` (the JIT passes guest
    /// time). Default 60 s, range 1..=86_400: 0 would decay at every call; beyond a
    /// day decay never happens in practice (set `hotness_decay_factor` to 1 to turn
    /// it off).
    pub cleanup_interval_secs: u64,
    /// Factor applied to every unit's hotness at each cleanup (every
    /// code_cache.cleanup_interval_secs of guest time). 1 never forgets: lfu then
    /// keeps units that were hot long ago. 0 forgets everything at each cleanup:
    /// right after one, lfu and lru_lfu rank by recency alone. Lower it for
    /// programs that move through phases; raise it for programs with one steady hot
    /// core. No effect under lru. Watch code_cache.hit_rate and
    /// code_cache.evictions. 0 to 1.
    ///
    /// Default 0.95, range 0.0..=1.0, no unit. Above 1 hotness would grow without
    /// any use and below 0 it would flip sign: the ranking would no longer mean
    /// "used often lately".
    pub hotness_decay_factor: f64,
    /// Warm-up window, in admissions. Under lfu and lru_lfu a unit is warming up
    /// until warmup_size more units have been admitted after it, and warming units
    /// are evicted only when no warmed-up unit is left (least recently used first):
    /// a new unit has had no time to earn hits, and without the window lfu would
    /// always evict the newest. So while fewer than warmup_size units have been
    /// admitted, lfu and lru_lfu behave like lru. 0 gives no protection; near or
    /// above code_cache.max_entries most of a full cache is warming and the proven
    /// units go first. Ignored by lru. Watch code_cache.hit_rate and
    /// code_cache.evictions.
    ///
    /// Default 100 units, range 0..=1_000_000.
    pub warmup_size: usize,
}

impl CacheConfig {
    pub const MAX_ENTRIES: RangeInclusive<usize> = 1..=1_000_000;
    pub const MAX_MEMORY_BYTES: RangeInclusive<u64> = 64 * KIB..=4 * GIB;
    pub const CLEANUP_INTERVAL_SECS: RangeInclusive<u64> = 1..=86_400;
    pub const HOTNESS_DECAY_FACTOR: RangeInclusive<f64> = 0.0..=1.0;
    pub const WARMUP_SIZE: RangeInclusive<usize> = 0..=1_000_000;

    /// Check every field against its documented range. The error names the
    /// config key (`code_cache.…`), the value and the allowed range.
    pub fn validate(&self) -> Result<(), CacheConfigError> {
        check("code_cache.max_entries", self.max_entries, Self::MAX_ENTRIES)?;
        check("code_cache.max_memory_bytes", self.max_memory_bytes, Self::MAX_MEMORY_BYTES)?;
        check(
            "code_cache.cleanup_interval_secs",
            self.cleanup_interval_secs,
            Self::CLEANUP_INTERVAL_SECS,
        )?;
        check(
            "code_cache.hotness_decay_factor",
            self.hotness_decay_factor,
            Self::HOTNESS_DECAY_FACTOR,
        )?;
        check("code_cache.warmup_size", self.warmup_size, Self::WARMUP_SIZE)?;
        Ok(())
    }
}

/// `Ok` if `value` is in `range` (NaN is in no range).
fn check<T>(key: &'static str, value: T, range: RangeInclusive<T>) -> Result<(), CacheConfigError>
where
    T: PartialOrd + std::fmt::Debug,
{
    if range.contains(&value) {
        Ok(())
    } else {
        Err(CacheConfigError {
            key,
            value: format!("{value:?}"),
            allowed: format!("{:?}..={:?}", range.start(), range.end()),
        })
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 10_000,
            max_memory_bytes: 128 * MIB,
            eviction_policy: EvictionPolicy::LRU_LFU,
            cleanup_interval_secs: 60,
            hotness_decay_factor: 0.95,
            warmup_size: 100,
        }
    }
}

/// A `CacheConfig` field outside its range.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid value {value} for {key}: expected {allowed}")]
pub struct CacheConfigError {
    /// The config key, e.g. `code_cache.max_entries`.
    pub key: &'static str,
    /// The value given, rendered.
    pub value: String,
    /// The allowed range, e.g. `1..=1000000`.
    pub allowed: String,
}

/// What the guide's `UnifiedCodeCache::new(cache_config, Default::default())`
/// leaves unexplained: the second argument. These are not user knobs (yet);
/// the defaults suit the VM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheOptions {
    /// The cleanup clock's reading when the cache is built, in nanoseconds.
    /// The first cleanup is due at `start_ns + cleanup_interval_secs`.
    /// Default 0: the caller counts time from the cache's creation (guest
    /// time since boot, or wall time since the VM started).
    pub start_ns: u64,
    /// LRU_LFU only: the admissions of extra life one doubling of hotness
    /// buys, in percent of `max_entries` (see [`EvictionPolicy::LRU_LFU`]).
    /// Default 50. 0 turns LRU_LFU into LRU; larger values resist longer
    /// scans and follow phase changes more slowly.
    pub lru_lfu_credit_percent: u32,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions { start_ns: 0, lru_lfu_credit_percent: 50 }
    }
}

/// The module (or any batch) a unit belongs to, chosen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(pub u64);

/// Why a unit left the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RemovalReason {
    /// Pushed out by the eviction policy to make room.
    Evicted,
    /// Removed by `invalidate` or `invalidate_where` (e.g. its code page was written).
    Invalidated,
    /// Its key was inserted again; the new payload took its place.
    Replaced,
    /// Removed by `clear`.
    Cleared,
}

/// One unit that left the cache, with its payload for the caller to release.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovedUnit<K, V> {
    pub key: K,
    pub value: V,
    pub code_bytes: u64,
    pub group: Option<GroupId>,
    pub reason: RemovalReason,
}

/// Units that left the cache in one call, in the order they left, and the
/// groups whose last unit was among them (each emptied group once, in the
/// order they emptied).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "removed units carry payloads (module instances, table slots) the caller must release"]
pub struct Removed<K, V> {
    pub units: Vec<RemovedUnit<K, V>>,
    pub emptied_groups: Vec<GroupId>,
}

impl<K, V> Default for Removed<K, V> {
    fn default() -> Self {
        Removed { units: Vec::new(), emptied_groups: Vec::new() }
    }
}

impl<K: Copy, V> Removed<K, V> {
    /// Nothing left the cache.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty() && self.emptied_groups.is_empty()
    }

    /// The keys of the units that left, in order.
    pub fn keys(&self) -> Vec<K> {
        self.units.iter().map(|u| u.key).collect()
    }
}

/// Why an insert was refused. The cache is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InsertError {
    #[error(
        "a code unit of {code_bytes} bytes cannot fit in code_cache.max_memory_bytes = {max_memory_bytes}"
    )]
    TooLarge { code_bytes: u64, max_memory_bytes: u64 },
}

/// Counters since the cache was built. The report's
/// `code_cache.{hit_rate,entries,bytes,evictions,live_instances}` come from
/// here (`live_instances` is [`CacheStats::live_groups`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// Calls to `lookup`; always `hits + misses`.
    pub lookups: u64,
    /// Lookups that found a unit.
    pub hits: u64,
    /// Lookups that found none (never compiled, evicted or invalidated).
    pub misses: u64,
    /// hits / lookups, `None` before the first lookup.
    pub hit_rate: Option<f64>,
    /// Units inserted (replacements included).
    pub insertions: u64,
    /// Units evicted to respect `max_entries` or `max_memory_bytes`.
    pub evictions: u64,
    /// Units removed by `invalidate`, `invalidate_where` or `clear`.
    pub invalidations: u64,
    /// Decay steps applied (one per elapsed cleanup interval, plus `cleanup_now`).
    pub cleanups: u64,
    /// Units held now.
    pub entries: usize,
    /// Sum of the `code_bytes` of the units held now.
    pub bytes: u64,
    /// Groups with at least one unit held now (the report's `live_instances`).
    pub live_groups: usize,
}

/// A read-only view of one cached unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CachedUnit<'a, K, V> {
    pub key: K,
    pub value: &'a V,
    pub code_bytes: u64,
    pub group: Option<GroupId>,
    /// Decayed hit count (see [`EvictionPolicy`]).
    pub hotness: f64,
    /// Still inside the `warmup_size` window (LFU and LRU_LFU only).
    pub warming: bool,
}

/// Position in the eviction order: the smallest key is the next victim.
/// `seq` (the access sequence at last use) is unique, so keys never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// 0 for ranked units, 1 for warming units (evicted only after all ranked ones).
    warming: bool,
    /// The policy's score (0 for LRU and for warming units).
    score: Score,
    seq: u64,
}

/// An `f64` ordered by `total_cmp` (scores are finite and non-negative).
#[derive(Clone, Copy, Debug)]
struct Score(f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Clone, Debug)]
struct Entry<V> {
    value: V,
    code_bytes: u64,
    group: Option<GroupId>,
    hotness: f64,
    /// Access sequence at the last insert or hit.
    last_use_seq: u64,
    /// Admission count at the last insert or hit.
    last_use_admission: u64,
    /// This unit's admission number.
    admitted: u64,
    warming: bool,
    /// The unit's current key in `UnifiedCodeCache::order`.
    rank: Rank,
    /// Hit since its rank was last computed: `rank` is its old place in
    /// `order`, and the key is in `UnifiedCodeCache::touched`.
    stale: bool,
}

/// How units are ranked: the policy and LRU_LFU's credit, in admissions.
#[derive(Clone, Copy, Debug)]
struct Ranking {
    policy: EvictionPolicy,
    credit: f64,
}

impl Ranking {
    fn rank<V>(&self, e: &Entry<V>) -> Rank {
        let score = match self.policy {
            _ if e.warming => 0.0,
            EvictionPolicy::LRU => 0.0,
            EvictionPolicy::LFU => e.hotness,
            EvictionPolicy::LRU_LFU => {
                e.last_use_admission as f64 + self.credit * (1.0 + e.hotness).log2()
            }
        };
        Rank { warming: e.warming, score: Score(score), seq: e.last_use_seq }
    }
}

/// The code cache. `K` identifies a translation unit, `V` is its compiled
/// code. See the module documentation for the contract.
#[derive(Debug)]
pub struct UnifiedCodeCache<K, V> {
    config: CacheConfig,
    options: CacheOptions,
    ranking: Ranking,
    entries: FxHashMap<K, Entry<V>>,
    /// Every unit, in eviction order (first = next victim) once
    /// [`UnifiedCodeCache::settle`] has re-ranked the units in `touched`.
    order: BTreeMap<Rank, K>,
    /// Units hit since the last settle (each once; some may have left).
    /// Hits arrive in batches every run slice for every unit that ran, while
    /// the order is needed only to pick victims: re-ranking at every hit was
    /// a tenth of a chaining-heavy run's time (BENCHMARKS.md "Lazy ranks").
    touched: Vec<K>,
    /// (admission number, key) of the last `warmup_size` admissions, oldest
    /// first; records of units that left are skipped when they come out.
    warming: VecDeque<(u64, K)>,
    /// Units held per group; a group is here only while it has units.
    groups: FxHashMap<GroupId, usize>,
    bytes: u64,
    /// Access sequence: +1 per insert and per lookup hit.
    seq: u64,
    /// Admission count: +1 per insert.
    admissions: u64,
    next_cleanup_ns: u64,
    stats: CacheStats,
}

impl<K: Eq + Hash + Copy, V> UnifiedCodeCache<K, V> {
    /// A cache with the guide's `config` and the `options` the guide leaves
    /// unexplained (`Default::default()` suits the VM).
    ///
    /// # Panics
    /// If `config` is out of range: validate user input first with
    /// [`CacheConfig::validate`], or use [`UnifiedCodeCache::try_new`].
    pub fn new(config: CacheConfig, options: CacheOptions) -> Self {
        Self::try_new(config, options).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`UnifiedCodeCache::new`], returning the validation error.
    pub fn try_new(config: CacheConfig, options: CacheOptions) -> Result<Self, CacheConfigError> {
        config.validate()?;
        let credit = config.max_entries as f64 * f64::from(options.lru_lfu_credit_percent) / 100.0;
        Ok(UnifiedCodeCache {
            ranking: Ranking { policy: config.eviction_policy, credit },
            next_cleanup_ns: options.start_ns.saturating_add(interval_ns(&config)),
            config,
            options,
            entries: FxHashMap::default(),
            order: BTreeMap::new(),
            touched: Vec::new(),
            warming: VecDeque::new(),
            groups: FxHashMap::default(),
            bytes: 0,
            seq: 0,
            admissions: 0,
            stats: CacheStats::default(),
        })
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    pub fn options(&self) -> &CacheOptions {
        &self.options
    }

    /// Units held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of generated code held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Find the compiled code for `key`. Counts a hit or a miss; a hit adds 1
    /// to the unit's hotness and makes it the most recently used. Runs a due
    /// cleanup first (see [`UnifiedCodeCache::maybe_cleanup`]).
    pub fn lookup(&mut self, key: K, now_ns: u64) -> Option<&V> {
        self.maybe_cleanup(now_ns);
        if !self.record_hits(key, 1) {
            self.stats.lookups += 1;
            self.stats.misses += 1;
            return None;
        }
        self.entries.get(&key).map(|e| &e.value)
    }

    /// Count `n` hits on `key` at once: hits its owner served from a faster
    /// lookup of its own (the JIT's jump cache). Counts as `n` lookups that
    /// hit, adds `n` to the unit's hotness and makes it the most recently
    /// used unit (once). Returns `false`, counting nothing, if `key` is not
    /// cached. Does not run a cleanup.
    pub fn record_hits(&mut self, key: K, n: u64) -> bool {
        let Some(e) = self.entries.get_mut(&key) else {
            return false;
        };
        self.stats.lookups += n;
        self.stats.hits += n;
        self.seq += 1;
        e.hotness += n as f64;
        e.last_use_seq = self.seq;
        e.last_use_admission = self.admissions;
        if !e.stale {
            e.stale = true;
            self.touched.push(key);
        }
        true
    }

    /// Move every unit hit since the last settle to its rank now, so that
    /// `order` is the eviction order again.
    fn settle(&mut self) {
        for key in std::mem::take(&mut self.touched) {
            let Some(e) = self.entries.get_mut(&key) else { continue };
            if !e.stale {
                continue; // left and came back since
            }
            e.stale = false;
            let rank = self.ranking.rank(e);
            if rank != e.rank {
                self.order.remove(&e.rank);
                self.order.insert(rank, key);
                e.rank = rank;
            }
        }
    }

    /// A unit's payload and bookkeeping, without counting a lookup or
    /// touching its recency.
    pub fn unit(&self, key: K) -> Option<CachedUnit<'_, K, V>> {
        self.entries.get(&key).map(|e| view(key, e))
    }

    /// Every unit held, in eviction order (the next victim first).
    pub fn iter(&mut self) -> impl Iterator<Item = CachedUnit<'_, K, V>> + '_ {
        self.settle();
        self.order.values().map(|k| view(*k, &self.entries[k]))
    }

    /// Every unit held, in no particular order.
    pub fn units(&self) -> impl Iterator<Item = CachedUnit<'_, K, V>> + '_ {
        self.entries.iter().map(|(k, e)| view(*k, e))
    }

    /// The unit the policy would evict next, if any.
    pub fn next_victim(&mut self) -> Option<K> {
        self.settle();
        self.order.first_key_value().map(|(_, k)| *k)
    }

    /// Store the compiled unit `key` (`code_bytes` of generated code, in
    /// module `group` if any) as the most recently used unit with hotness 0.
    ///
    /// If `key` is already cached, the old unit is replaced (returned with
    /// [`RemovalReason::Replaced`]) and its hotness carries over. Then units
    /// are evicted per the policy until both `max_entries` and
    /// `max_memory_bytes` hold with the new unit in. The new unit's group
    /// counts as live during all of this, so it is never reported emptied.
    /// Runs a due cleanup first.
    ///
    /// Refused, with the cache unchanged, if `code_bytes` alone exceeds
    /// `max_memory_bytes`.
    pub fn insert(
        &mut self,
        key: K,
        value: V,
        code_bytes: u64,
        group: Option<GroupId>,
        now_ns: u64,
    ) -> Result<Removed<K, V>, InsertError> {
        let max_bytes = self.config.max_memory_bytes;
        if code_bytes > max_bytes {
            return Err(InsertError::TooLarge { code_bytes, max_memory_bytes: max_bytes });
        }
        self.maybe_cleanup(now_ns);
        if let Some(g) = group {
            *self.groups.entry(g).or_insert(0) += 1;
        }
        let mut out = Removed::default();
        let mut hotness = 0.0;
        if let Some(old) = self.entries.get(&key) {
            hotness = old.hotness;
            self.remove(key, RemovalReason::Replaced, &mut out);
        }
        while self.entries.len() >= self.config.max_entries || self.bytes + code_bytes > max_bytes {
            let victim = self.next_victim().expect("limits hold for an empty cache");
            self.remove(victim, RemovalReason::Evicted, &mut out);
        }

        self.admissions += 1;
        self.seq += 1;
        let warming = self.ranking.policy != EvictionPolicy::LRU && self.config.warmup_size > 0;
        let mut e = Entry {
            value,
            code_bytes,
            group,
            hotness,
            last_use_seq: self.seq,
            last_use_admission: self.admissions,
            admitted: self.admissions,
            warming,
            rank: Rank { warming, score: Score(0.0), seq: 0 },
            stale: false,
        };
        e.rank = self.ranking.rank(&e);
        self.order.insert(e.rank, key);
        self.entries.insert(key, e);
        self.bytes += code_bytes;
        self.stats.insertions += 1;
        if warming {
            self.warming.push_back((self.admissions, key));
        }
        self.graduate();
        Ok(out)
    }

    /// Take `config` from now on, keeping the units and their hotness: units
    /// are re-ranked under the new policy and warm-up window, then evicted
    /// in the new order until both limits hold (returned, as
    /// [`RemovalReason::Evicted`]). A new `cleanup_interval_secs` starts its
    /// schedule at `now_ns`. Refused, with the cache unchanged, if `config`
    /// is out of range.
    pub fn reconfigure(
        &mut self,
        config: CacheConfig,
        now_ns: u64,
    ) -> Result<Removed<K, V>, CacheConfigError> {
        config.validate()?;
        if config.cleanup_interval_secs != self.config.cleanup_interval_secs {
            self.next_cleanup_ns = now_ns.saturating_add(interval_ns(&config));
        }
        let credit =
            config.max_entries as f64 * f64::from(self.options.lru_lfu_credit_percent) / 100.0;
        self.ranking = Ranking { policy: config.eviction_policy, credit };
        self.config = config;
        // Warm-up as if the new window and policy had held all along.
        let window = self.config.warmup_size as u64;
        let warms = self.ranking.policy != EvictionPolicy::LRU;
        let mut warming: Vec<(u64, K)> = Vec::new();
        for (key, e) in self.entries.iter_mut() {
            e.warming = warms && e.admitted + window > self.admissions;
            if e.warming {
                warming.push((e.admitted, *key));
            }
        }
        warming.sort_unstable_by_key(|&(admitted, _)| admitted);
        self.warming = warming.into();
        let ranking = self.ranking;
        self.order = self
            .entries
            .iter_mut()
            .map(|(key, e)| {
                e.rank = ranking.rank(e);
                e.stale = false;
                (e.rank, *key)
            })
            .collect();
        self.touched.clear();
        let mut out = Removed::default();
        while self.entries.len() > self.config.max_entries
            || self.bytes > self.config.max_memory_bytes
        {
            let victim = self.next_victim().expect("an over-full cache has units");
            self.remove(victim, RemovalReason::Evicted, &mut out);
        }
        Ok(out)
    }

    /// Remove `key`'s unit if cached (e.g. its guest code was overwritten).
    pub fn invalidate(&mut self, key: K) -> Removed<K, V> {
        let mut out = Removed::default();
        if self.entries.contains_key(&key) {
            self.remove(key, RemovalReason::Invalidated, &mut out);
        }
        out
    }

    /// Remove every unit whose key and value satisfy `pred`, e.g. all units
    /// on one physical page after a store to it. Scans all units: O(n),
    /// meant for rare events (a store to translated code, FENCE.I). Units
    /// leave in eviction order.
    pub fn invalidate_where(&mut self, mut pred: impl FnMut(&K, &V) -> bool) -> Removed<K, V> {
        self.settle();
        let doomed: Vec<K> =
            self.order.values().filter(|k| pred(k, &self.entries[*k].value)).copied().collect();
        let mut out = Removed::default();
        for key in doomed {
            self.remove(key, RemovalReason::Invalidated, &mut out);
        }
        out
    }

    /// Remove every unit (counted as invalidations). Counters and the
    /// cleanup schedule are kept; the warm-up window starts again.
    pub fn clear(&mut self) -> Removed<K, V> {
        self.settle();
        let all: Vec<K> = self.order.values().copied().collect();
        let mut out = Removed::default();
        for key in all {
            self.remove(key, RemovalReason::Cleared, &mut out);
        }
        self.warming.clear();
        out
    }

    /// Run the cleanups that are due at `now_ns`: one decay step (hotness ×
    /// `hotness_decay_factor`) per whole `cleanup_interval_secs` elapsed
    /// since the last one. Returns the number of steps applied (0 if none
    /// was due). A clock that goes backwards is ignored until it passes the
    /// next due time. Called by `lookup` and `insert`; call it yourself when
    /// time passes without either.
    pub fn maybe_cleanup(&mut self, now_ns: u64) -> u64 {
        if now_ns < self.next_cleanup_ns {
            return 0;
        }
        let interval = interval_ns(&self.config);
        let steps = (now_ns - self.next_cleanup_ns) / interval + 1;
        self.next_cleanup_ns = self.next_cleanup_ns.saturating_add(steps.saturating_mul(interval));
        self.decay(self.config.hotness_decay_factor.powf(steps as f64));
        self.stats.cleanups += steps;
        steps
    }

    /// One decay step now, whatever the clock says; the schedule of
    /// `maybe_cleanup` does not move.
    pub fn cleanup_now(&mut self) {
        self.decay(self.config.hotness_decay_factor);
        self.stats.cleanups += 1;
    }

    pub fn stats(&self) -> CacheStats {
        let s = &self.stats;
        CacheStats {
            hit_rate: (s.lookups > 0).then(|| s.hits as f64 / s.lookups as f64),
            entries: self.entries.len(),
            bytes: self.bytes,
            live_groups: self.groups.len(),
            ..s.clone()
        }
    }

    /// Check the cache's bookkeeping against its entries; panic on the first
    /// disagreement. For tests and debugging: O(n log n).
    pub fn check_invariants(&mut self) {
        self.settle();
        assert!(self.entries.len() <= self.config.max_entries, "more entries than max_entries");
        assert!(self.bytes <= self.config.max_memory_bytes, "more bytes than max_memory_bytes");
        assert_eq!(self.order.len(), self.entries.len(), "eviction order and entries differ");
        let mut bytes = 0;
        let mut groups: FxHashMap<GroupId, usize> = FxHashMap::default();
        for (key, e) in &self.entries {
            assert!(self.order.get(&e.rank) == Some(key), "a unit is not at its rank");
            assert_eq!(e.rank, self.ranking.rank(e), "a unit's rank is stale");
            let should_warm = self.ranking.policy != EvictionPolicy::LRU
                && e.admitted + self.config.warmup_size as u64 > self.admissions;
            assert_eq!(e.warming, should_warm, "a unit's warm-up state is wrong");
            bytes += e.code_bytes;
            if let Some(g) = e.group {
                *groups.entry(g).or_insert(0) += 1;
            }
        }
        assert_eq!(bytes, self.bytes, "byte count differs from the sum over units");
        assert_eq!(groups, self.groups, "group counts differ from the units' groups");
        let s = &self.stats;
        assert_eq!(s.lookups, s.hits + s.misses, "lookups != hits + misses");
    }

    /// Take `key`'s unit out of every index and record it in `out`.
    fn remove(&mut self, key: K, reason: RemovalReason, out: &mut Removed<K, V>) {
        let e = self.entries.remove(&key).expect("removing a cached unit");
        self.order.remove(&e.rank);
        self.bytes -= e.code_bytes;
        if let Some(g) = e.group {
            let live = self.groups.get_mut(&g).expect("a unit's group is live");
            *live -= 1;
            if *live == 0 {
                self.groups.remove(&g);
                out.emptied_groups.push(g);
            }
        }
        match reason {
            RemovalReason::Evicted => self.stats.evictions += 1,
            RemovalReason::Invalidated | RemovalReason::Cleared => self.stats.invalidations += 1,
            RemovalReason::Replaced => {}
        }
        out.units.push(RemovedUnit {
            key,
            value: e.value,
            code_bytes: e.code_bytes,
            group: e.group,
            reason,
        });
    }

    /// End the warm-up of units admitted `warmup_size` or more admissions ago.
    fn graduate(&mut self) {
        let window = self.config.warmup_size as u64;
        while let Some(&(admitted, key)) = self.warming.front() {
            if admitted + window > self.admissions {
                break;
            }
            self.warming.pop_front();
            let Some(e) = self.entries.get_mut(&key) else { continue };
            if e.admitted != admitted {
                continue; // replaced since: its new record comes later
            }
            e.warming = false;
            let rank = self.ranking.rank(e);
            self.order.remove(&e.rank);
            self.order.insert(rank, key);
            e.rank = rank;
        }
    }

    /// Multiply every hotness by `factor` and re-rank where the score depends on it.
    fn decay(&mut self, factor: f64) {
        for e in self.entries.values_mut() {
            e.hotness *= factor;
        }
        if self.ranking.policy == EvictionPolicy::LRU || factor == 1.0 {
            return;
        }
        let ranking = self.ranking;
        self.order = self
            .entries
            .iter_mut()
            .map(|(key, e)| {
                e.rank = ranking.rank(e);
                e.stale = false;
                (e.rank, *key)
            })
            .collect();
        self.touched.clear();
    }
}

fn interval_ns(config: &CacheConfig) -> u64 {
    config.cleanup_interval_secs.saturating_mul(NS_PER_SEC)
}

fn view<K, V>(key: K, e: &Entry<V>) -> CachedUnit<'_, K, V> {
    CachedUnit {
        key,
        value: &e.value,
        code_bytes: e.code_bytes,
        group: e.group,
        hotness: e.hotness,
        warming: e.warming,
    }
}
