//! `UnifiedCodeCache`: the guide's config, limits, each policy's eviction
//! order, hit rates of the three policies on workloads that separate them,
//! decay, warm-up, groups, invalidation, statistics, and a property test that
//! replays random operations against a plain model of the documented rules.
//!
//! Most tests go through two helpers: `cache(config)` builds a cache of
//! `u64` keys and payloads, and `replay(config, options, trace)` plays a JIT
//! dispatch trace (look a unit up; compile and insert it on a miss).
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use std::collections::HashMap;

use proptest::prelude::*;
use tunevm::jit::code_cache::{
    CacheConfig, CacheOptions, CacheStats, EvictionPolicy, GroupId, InsertError, RemovalReason,
    Removed, UnifiedCodeCache,
};

use EvictionPolicy::{LFU, LRU, LRU_LFU};

const KIB: u64 = 1024;
const SEC: u64 = 1_000_000_000;

type Cache = UnifiedCodeCache<u64, u64>;

/// A small cache: `max_entries` units, no decay unless a test asks for it.
fn config(policy: EvictionPolicy, max_entries: usize, warmup_size: usize) -> CacheConfig {
    CacheConfig {
        max_entries,
        eviction_policy: policy,
        warmup_size,
        hotness_decay_factor: 1.0,
        ..CacheConfig::default()
    }
}

fn cache(config: CacheConfig) -> Cache {
    UnifiedCodeCache::new(config, CacheOptions::default())
}

/// Insert unit `key` (payload = key, 1 KiB, no group) at time 0; return the
/// keys that left.
fn put(cache: &mut Cache, key: u64) -> Vec<u64> {
    cache.insert(key, key, KIB, None, 0).expect("fits").keys()
}

/// Look `key` up `times` times at time 0.
fn hit(cache: &mut Cache, key: u64, times: usize) {
    for _ in 0..times {
        assert_eq!(cache.lookup(key, 0), Some(&key), "unit {key} should be cached");
    }
}

/// Play a dispatch trace: each unit is looked up, and compiled (inserted,
/// 1 KiB) on a miss. Time advances by `ns_per_access` per access. Returns
/// the statistics and every evicted key in order.
fn replay(
    config: CacheConfig,
    options: CacheOptions,
    trace: &[u64],
    ns_per_access: u64,
) -> (CacheStats, Vec<u64>) {
    let mut cache = UnifiedCodeCache::new(config, options);
    let mut evicted = Vec::new();
    for (i, &unit) in trace.iter().enumerate() {
        let now = i as u64 * ns_per_access;
        if cache.lookup(unit, now).is_none() {
            evicted.extend(cache.insert(unit, unit, KIB, None, now).unwrap().keys());
        }
    }
    cache.check_invariants();
    (cache.stats(), evicted)
}

fn hit_rate(config: CacheConfig, trace: &[u64]) -> f64 {
    replay(config, CacheOptions::default(), trace, 0).0.hit_rate.unwrap()
}

// ---------------------------------------------------------------- config

#[test]
fn guide_snippet_builds_the_defaults() {
    let cache_config = CacheConfig {
        max_entries: 10000,
        max_memory_bytes: 128 * 1024 * 1024, // 128MB
        eviction_policy: EvictionPolicy::LRU_LFU,
        cleanup_interval_secs: 60,
        hotness_decay_factor: 0.95,
        warmup_size: 100,
    };
    assert_eq!(cache_config, CacheConfig::default());
    assert_eq!(EvictionPolicy::default(), LRU_LFU);
    let cache: Cache = UnifiedCodeCache::new(cache_config, Default::default());
    assert_eq!(cache.options(), &CacheOptions { start_ns: 0, lru_lfu_credit_percent: 50 });
    assert!(cache.is_empty());
    assert_eq!(cache.stats().hit_rate, None);
}

#[test]
fn config_serde_uses_lower_snake_case_and_refuses_unknown_fields() {
    let json = serde_json::to_value(CacheConfig::default()).unwrap();
    assert_eq!(json["eviction_policy"], "lru_lfu");
    for (policy, name) in [(LRU, "lru"), (LFU, "lfu"), (LRU_LFU, "lru_lfu")] {
        assert_eq!(serde_json::to_value(policy).unwrap(), name);
    }
    let partial: CacheConfig =
        serde_json::from_str(r#"{"eviction_policy": "lfu", "warmup_size": 7}"#).unwrap();
    assert_eq!(partial, CacheConfig { eviction_policy: LFU, warmup_size: 7, ..Default::default() });
    let err = serde_json::from_str::<CacheConfig>(r#"{"max_entrys": 5}"#).unwrap_err();
    assert!(err.to_string().contains("max_entrys"), "{err}");
    assert!(serde_json::from_str::<CacheConfig>(r#"{"eviction_policy": "LRU"}"#).is_err());
}

#[test]
fn validate_names_key_value_and_range() {
    type Edit = fn(&mut CacheConfig);
    let cases: &[(Edit, &str)] = &[
        (|c| c.max_entries = 0, "invalid value 0 for code_cache.max_entries: expected 1..=1000000"),
        (
            |c| c.max_memory_bytes = 1000,
            "invalid value 1000 for code_cache.max_memory_bytes: expected 65536..=4294967296",
        ),
        (
            |c| c.cleanup_interval_secs = 0,
            "invalid value 0 for code_cache.cleanup_interval_secs: expected 1..=86400",
        ),
        (
            |c| c.hotness_decay_factor = 1.5,
            "invalid value 1.5 for code_cache.hotness_decay_factor: expected 0.0..=1.0",
        ),
        (
            |c| c.hotness_decay_factor = f64::NAN,
            "invalid value NaN for code_cache.hotness_decay_factor: expected 0.0..=1.0",
        ),
        (
            |c| c.warmup_size = 2_000_000,
            "invalid value 2000000 for code_cache.warmup_size: expected 0..=1000000",
        ),
    ];
    assert_eq!(CacheConfig::default().validate(), Ok(()));
    for (edit, message) in cases {
        let mut c = CacheConfig::default();
        edit(&mut c);
        let err = c.validate().unwrap_err();
        assert_eq!(err.to_string(), *message);
        let refused = UnifiedCodeCache::<u64, u64>::try_new(c, CacheOptions::default());
        assert_eq!(refused.unwrap_err(), err);
    }
    // The range constants are the ones validate uses.
    let edge = CacheConfig {
        max_entries: *CacheConfig::MAX_ENTRIES.end(),
        max_memory_bytes: *CacheConfig::MAX_MEMORY_BYTES.start(),
        cleanup_interval_secs: *CacheConfig::CLEANUP_INTERVAL_SECS.end(),
        hotness_decay_factor: *CacheConfig::HOTNESS_DECAY_FACTOR.start(),
        warmup_size: *CacheConfig::WARMUP_SIZE.end(),
        ..CacheConfig::default()
    };
    assert_eq!(edge.validate(), Ok(()));
}

#[test]
#[should_panic(expected = "code_cache.max_entries")]
fn new_panics_on_an_invalid_config() {
    let _ = cache(CacheConfig { max_entries: 0, ..CacheConfig::default() });
}

// ---------------------------------------------------------------- limits

#[test]
fn limits_hold_after_every_insert() {
    for policy in [LRU, LFU, LRU_LFU] {
        let config = CacheConfig {
            max_entries: 16,
            max_memory_bytes: 64 * KIB,
            eviction_policy: policy,
            warmup_size: 4,
            ..CacheConfig::default()
        };
        let mut cache = cache(config);
        for i in 0..500u64 {
            let bytes = (i * 7919) % (20 * KIB) + 1;
            let _ = cache.insert(i % 40, i, bytes, None, 0).unwrap();
            let _ = cache.lookup((i * 13) % 40, 0);
            let s = cache.stats();
            assert!(s.entries <= 16 && s.bytes <= 64 * KIB, "{policy:?} after insert {i}: {s:?}");
            cache.check_invariants();
        }
        assert!(cache.stats().evictions > 0);
    }
}

#[test]
fn an_entry_too_big_for_the_cache_is_refused_and_nothing_changes() {
    let mut cache = cache(CacheConfig { max_memory_bytes: 64 * KIB, ..CacheConfig::default() });
    let _ = cache.insert(1, 1, 60 * KIB, None, 0).unwrap();
    let err = cache.insert(2, 2, 64 * KIB + 1, None, 0).unwrap_err();
    assert_eq!(err, InsertError::TooLarge { code_bytes: 64 * KIB + 1, max_memory_bytes: 64 * KIB });
    assert!(err.to_string().contains("code_cache.max_memory_bytes"));
    assert_eq!((cache.len(), cache.bytes()), (1, 60 * KIB));
    // Exactly the limit fits, after evicting everything else.
    let removed = cache.insert(2, 2, 64 * KIB, None, 0).unwrap();
    assert_eq!(removed.keys(), [1]);
    assert_eq!(removed.units[0].reason, RemovalReason::Evicted);
    assert_eq!((cache.len(), cache.bytes()), (1, 64 * KIB));
}

#[test]
fn memory_limit_evicts_as_many_units_as_needed() {
    let mut cache = cache(CacheConfig {
        max_memory_bytes: 64 * KIB,
        eviction_policy: LRU,
        ..CacheConfig::default()
    });
    for key in 0..8 {
        let _ = cache.insert(key, key, 8 * KIB, None, 0).unwrap();
    }
    hit(&mut cache, 0, 1);
    let removed = cache.insert(100, 100, 30 * KIB, None, 0).unwrap();
    assert_eq!(removed.keys(), [1, 2, 3, 4], "LRU order, skipping the just-used unit 0");
    assert_eq!(cache.bytes(), 4 * 8 * KIB + 30 * KIB);
}

// ---------------------------------------------------------------- eviction order

#[test]
fn lru_evicts_the_least_recently_used() {
    let mut c = cache(config(LRU, 3, 100));
    put(&mut c, 1);
    put(&mut c, 2);
    put(&mut c, 3);
    hit(&mut c, 1, 5);
    hit(&mut c, 2, 1);
    assert_eq!(put(&mut c, 4), [3]);
    assert_eq!(put(&mut c, 5), [1], "hotness does not matter to LRU");
    hit(&mut c, 2, 1);
    assert_eq!(put(&mut c, 6), [4]);
    assert!(c.iter().all(|u| !u.warming), "LRU has no warm-up");
}

#[test]
fn lfu_evicts_the_least_hot_and_breaks_ties_by_recency() {
    let mut c = cache(config(LFU, 3, 0));
    put(&mut c, 1);
    put(&mut c, 2);
    put(&mut c, 3);
    hit(&mut c, 1, 3);
    hit(&mut c, 2, 1);
    hit(&mut c, 3, 1);
    assert_eq!(put(&mut c, 4), [2], "2 and 3 tie at 1 hit; 2 was used less recently");
    assert_eq!(put(&mut c, 5), [4], "the newest unit goes first: it has no hits yet");
    hit(&mut c, 5, 2);
    assert_eq!(put(&mut c, 6), [3]);
    assert_eq!(c.next_victim(), Some(6));
}

/// LRU_LFU with max_entries 4 and a credit of 50 %: each doubling of hotness
/// is worth 2 admissions. Scores are worked out in the comments.
#[test]
fn lru_lfu_scores_recency_plus_a_credit_per_doubling_of_hotness() {
    let mut c = cache(config(LRU_LFU, 4, 0));
    for key in 1..=4 {
        put(&mut c, key); // admissions 1..=4, score = admission
    }
    hit(&mut c, 1, 3); // last use at admission 4, hotness 3: 4 + 2 * log2(4) = 8
    hit(&mut c, 2, 1); // 4 + 2 * log2(2) = 6
    assert_eq!(put(&mut c, 5), [3]); // scores 8, 6, 3, 4 -> 3; new unit 5 scores 5
    assert_eq!(put(&mut c, 6), [4]); // 8, 6, 4, 5 -> 4; 6 scores 6
    assert_eq!(put(&mut c, 7), [5]); // 8, 6, 5, 6 -> 5
    assert_eq!(put(&mut c, 8), [2]); // 8, 6, 6, 7: 2 and 6 tie, 2 used earlier
    assert_eq!(put(&mut c, 9), [6]); // 8, 6, 7, 8
    assert_eq!(put(&mut c, 10), [7]); // 8, 7, 8, 9
                                      // The hot unit's credit is used up: it ties with unit 8 and was used earlier.
    assert_eq!(put(&mut c, 11), [1]);
}

#[test]
fn lru_lfu_with_zero_credit_is_lru() {
    let trace = mixed_trace(7);
    let options = CacheOptions { lru_lfu_credit_percent: 0, ..CacheOptions::default() };
    let lru = replay(config(LRU, 50, 0), CacheOptions::default(), &trace, 0);
    let zero = replay(config(LRU_LFU, 50, 0), options, &trace, 0);
    assert_eq!(lru, zero);
}

// ---------------------------------------------------------------- hit rates

/// 60 hot units used every round (each round visits them in order), and
/// every 5th round a scan of 150 units that are never used again.
fn scan_trace() -> Vec<u64> {
    let mut trace = Vec::new();
    let mut next_one_off = 1_000_000;
    for round in 0..50 {
        trace.extend(0..60);
        if round % 5 == 4 {
            trace.extend(next_one_off..next_one_off + 150);
            next_one_off += 150;
        }
    }
    trace
}

/// 50 rounds over 60 units, then 50 rounds over 60 other units.
fn phase_trace() -> Vec<u64> {
    let mut trace = Vec::new();
    for phase in 0..2u64 {
        for _ in 0..50 {
            trace.extend(phase * 1000..phase * 1000 + 60);
        }
    }
    trace
}

/// A deterministic mix of both: four phases of 40 hot units, each phase with
/// scans, visiting the hot units in an order shuffled per round.
fn mixed_trace(seed: u64) -> Vec<u64> {
    let mut rng = seed;
    let mut next = || {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        rng >> 33
    };
    let mut trace = Vec::new();
    let mut one_off = 1_000_000;
    for phase in 0..4u64 {
        for round in 0..40 {
            let mut hot: Vec<u64> = (phase * 1000..phase * 1000 + 40).collect();
            for i in (1..hot.len()).rev() {
                hot.swap(i, next() as usize % (i + 1));
            }
            trace.extend(hot);
            if round % 8 == 7 {
                trace.extend(one_off..one_off + 120);
                one_off += 120;
            }
        }
    }
    trace
}

/// Hit rates of LRU, LFU and LRU_LFU on `trace` with 100 entries and a
/// warm-up of 10, printed for `cargo test -- --nocapture`.
fn three_rates(name: &str, trace: &[u64]) -> [f64; 3] {
    let rates = [LRU, LFU, LRU_LFU].map(|p| hit_rate(config(p, 100, 10), trace));
    println!(
        "{name:>14}: LRU {:.1} %  LFU {:.1} %  LRU_LFU {:.1} %",
        rates[0] * 100.0,
        rates[1] * 100.0,
        rates[2] * 100.0
    );
    rates
}

#[test]
fn scan_pollution_hurts_lru_only() {
    let [lru, lfu, lru_lfu] = three_rates("hot core + scan", &scan_trace());
    assert!(lru_lfu > lru + 0.05, "LRU_LFU keeps the hot core through scans");
    assert!(lfu > lru + 0.05);
    assert!(lru_lfu >= lfu - 0.01);
}

#[test]
fn a_phase_change_hurts_lfu_most() {
    let [lru, lfu, lru_lfu] = three_rates("phase change", &phase_trace());
    assert!(lru_lfu > lfu + 0.2, "LRU_LFU lets the old hot units go");
    assert!(lru > lru_lfu, "LRU follows at once; LRU_LFU after the hot units' credit");
    assert!(lru_lfu > 0.85);
}

#[test]
fn scans_and_phase_changes_together_favour_lru_lfu() {
    let [lru, lfu, lru_lfu] = three_rates("mixed", &mixed_trace(1));
    assert!(lru_lfu > lru && lru_lfu > lfu);
}

// ---------------------------------------------------------------- decay

#[test]
fn hotness_decays_once_per_elapsed_interval() {
    let mut c = cache(CacheConfig {
        cleanup_interval_secs: 1,
        hotness_decay_factor: 0.5,
        ..CacheConfig::default()
    });
    let _ = c.insert(1, 1, KIB, None, 0).unwrap();
    for _ in 0..4 {
        c.lookup(1, 0);
    }
    let hotness = |c: &Cache| c.unit(1).unwrap().hotness;
    assert_eq!(hotness(&c), 4.0);
    assert_eq!(c.maybe_cleanup(SEC - 1), 0);
    assert_eq!(hotness(&c), 4.0);
    c.lookup(1, SEC); // the due cleanup runs first: 4 * 0.5 + 1
    assert_eq!(hotness(&c), 3.0);
    assert_eq!(c.maybe_cleanup(3 * SEC + SEC / 2), 2, "due at 2 s and 3 s");
    assert_eq!(hotness(&c), 0.75);
    assert_eq!(c.maybe_cleanup(3 * SEC + SEC / 2), 0);
    assert_eq!(c.maybe_cleanup(SEC), 0, "a clock going backwards is ignored");
    c.cleanup_now();
    assert_eq!(hotness(&c), 0.375);
    assert_eq!(c.maybe_cleanup(4 * SEC), 1, "cleanup_now does not move the schedule");
    assert_eq!(c.stats().cleanups, 5);
}

/// `reconfigure` (the live code_cache knobs): the units stay with their
/// hotness, the new policy and warm-up window rank them from now on, a
/// smaller limit evicts at once in the new order, and a new decay factor
/// and interval act at the next cleanup, scheduled from the change.
#[test]
fn reconfigure_reranks_evicts_and_reschedules() {
    let mut c = cache(config(LRU, 4, 0));
    for key in 1..=4 {
        put(&mut c, key);
    }
    hit(&mut c, 1, 5); // hottest, but the least recent after the hits below
    hit(&mut c, 2, 1);
    hit(&mut c, 3, 1);
    hit(&mut c, 4, 2);
    assert_eq!(c.next_victim(), Some(1), "LRU: 1 was used least recently");
    let out = c.reconfigure(config(LFU, 4, 0), 0).unwrap();
    assert!(out.units.is_empty());
    assert_eq!(c.next_victim(), Some(2), "LFU: 2 and 3 tie at one hit, 2 is older");
    let out = c.reconfigure(config(LFU, 2, 0), 0).unwrap();
    assert_eq!(out.keys(), [2, 3], "shrinking evicts in the new order");
    assert!(out.units.iter().all(|u| u.reason == RemovalReason::Evicted));
    assert_eq!(c.stats().evictions, 2);
    assert_eq!(c.len(), 2);
    // A warm-up window that covers the last admissions protects them.
    assert!(c.reconfigure(config(LFU, 2, 100), 0).unwrap().units.is_empty());
    assert!(c.iter().all(|u| u.warming));
    c.check_invariants();

    // Decay: none at factor 1 and a 60 s interval; after the change to 0.5
    // every second, the first cleanup is one second after the change.
    let mut c = cache(config(LFU, 4, 0));
    put(&mut c, 1);
    hit(&mut c, 1, 4);
    let decaying =
        CacheConfig { hotness_decay_factor: 0.5, cleanup_interval_secs: 1, ..config(LFU, 4, 0) };
    assert!(c.reconfigure(decaying, 10 * SEC).unwrap().units.is_empty());
    assert_eq!(c.maybe_cleanup(10 * SEC + SEC / 2), 0);
    assert_eq!(c.maybe_cleanup(11 * SEC), 1);
    assert_eq!(c.unit(1).unwrap().hotness, 2.0);
    assert!(c.reconfigure(config(LFU, 0, 0), 0).is_err(), "out of range: refused");
    assert_eq!(c.len(), 1, "a refused change changes nothing");
}

#[test]
fn cleanup_schedule_starts_at_start_ns() {
    let config = CacheConfig { cleanup_interval_secs: 10, ..CacheConfig::default() };
    let mut c: Cache =
        UnifiedCodeCache::new(config, CacheOptions { start_ns: 100 * SEC, ..Default::default() });
    assert_eq!(c.maybe_cleanup(109 * SEC), 0);
    assert_eq!(c.maybe_cleanup(110 * SEC), 1);
}

/// LFU: unit 1 had 4 hits long ago, unit 2 has 3 recent ones. With decay
/// the old hits count for less and unit 1 goes; without decay unit 2 goes.
#[test]
fn decay_makes_old_hits_count_less() {
    for (factor, victim) in [(0.5, 1), (1.0, 2)] {
        let mut c = cache(CacheConfig {
            hotness_decay_factor: factor,
            cleanup_interval_secs: 1,
            ..config(LFU, 2, 0)
        });
        put(&mut c, 1);
        hit(&mut c, 1, 4);
        put(&mut c, 2);
        assert_eq!(c.maybe_cleanup(SEC), 1);
        for _ in 0..3 {
            c.lookup(2, SEC);
        }
        let removed = c.insert(3, 3, KIB, None, SEC).unwrap();
        assert_eq!(removed.keys(), [victim], "decay factor {factor}");
    }
}

/// Decay shortens how long LRU_LFU keeps the old hot units after a phase
/// change: time advances 1 s per access, cleanups every second.
#[test]
fn decay_lets_lru_lfu_follow_a_phase_change_sooner() {
    let trace = phase_trace();
    let rate = |factor| {
        let config = CacheConfig {
            hotness_decay_factor: factor,
            cleanup_interval_secs: 1,
            ..config(LRU_LFU, 100, 10)
        };
        replay(config, CacheOptions::default(), &trace, SEC).0.hit_rate.unwrap()
    };
    let (kept, decayed) = (rate(1.0), rate(0.99));
    println!("phase change, LRU_LFU: no decay {kept:.3}, decay 0.99/s {decayed:.3}");
    assert!(decayed > kept + 0.01);
}

// ---------------------------------------------------------------- warm-up

#[test]
fn warming_units_are_evicted_only_after_warmed_up_ones() {
    for (warmup, victim) in [(0, 3), (1, 2), (2, 1)] {
        let mut c = cache(config(LFU, 3, warmup));
        put(&mut c, 1);
        hit(&mut c, 1, 2);
        put(&mut c, 2);
        hit(&mut c, 2, 1);
        put(&mut c, 3);
        assert_eq!(put(&mut c, 4), [victim], "warmup_size {warmup}");
    }
}

#[test]
fn before_warmup_size_admissions_lfu_and_lru_lfu_behave_like_lru() {
    let trace = mixed_trace(3);
    let admissions = trace.len(); // more than enough
    let lru = replay(config(LRU, 30, 0), CacheOptions::default(), &trace, 0);
    for policy in [LFU, LRU_LFU] {
        let warm = replay(config(policy, 30, admissions), CacheOptions::default(), &trace, 0);
        assert_eq!(warm, lru, "{policy:?}");
        let cold = replay(config(policy, 30, 0), CacheOptions::default(), &trace, 0);
        assert_ne!(cold.1, lru.1, "{policy:?} without warm-up");
    }
}

/// The newcomer problem of LFU: on a phase change without warm-up, every
/// new unit is the next victim. A warm-up window as long as the new loop
/// lets the new units earn hits first.
#[test]
fn warmup_size_lets_lfu_admit_a_new_phase() {
    let trace = phase_trace();
    let rates = [0, 10, 64].map(|w| hit_rate(config(LFU, 100, w), &trace));
    println!("phase change, LFU by warmup_size 0/10/64: {rates:.3?}");
    assert!(rates[2] > rates[0] + 0.3);
}

// ---------------------------------------------------------------- groups

fn emptied(removed: &Removed<u64, u64>) -> Vec<u64> {
    removed.emptied_groups.iter().map(|g| g.0).collect()
}

#[test]
fn a_group_is_reported_once_when_its_last_unit_is_evicted() {
    let mut c = cache(config(LRU, 3, 0));
    let g = |n| Some(GroupId(n));
    assert!(c.insert(1, 1, KIB, g(7), 0).unwrap().is_empty());
    assert!(c.insert(2, 2, KIB, g(7), 0).unwrap().is_empty());
    assert!(c.insert(3, 3, KIB, g(8), 0).unwrap().is_empty());
    assert_eq!(c.stats().live_groups, 2);
    let first = c.insert(4, 4, KIB, None, 0).unwrap();
    assert_eq!((first.keys(), emptied(&first)), (vec![1], vec![]));
    let second = c.insert(5, 5, KIB, None, 0).unwrap();
    assert_eq!((second.keys(), emptied(&second)), (vec![2], vec![7]));
    let third = c.insert(6, 6, KIB, None, 0).unwrap();
    assert_eq!((third.keys(), emptied(&third)), (vec![3], vec![8]));
    assert_eq!(c.stats().live_groups, 0);
}

#[test]
fn a_group_is_reported_once_when_its_last_unit_is_invalidated() {
    let mut c = cache(config(LRU_LFU, 10, 0));
    for key in 1..=3 {
        let _ = c.insert(key, key * 10, KIB, Some(GroupId(1)), 0).unwrap();
    }
    let removed = c.invalidate(2);
    assert_eq!(removed.units[0].value, 20, "the payload comes back");
    assert_eq!(removed.units[0].reason, RemovalReason::Invalidated);
    assert!(removed.emptied_groups.is_empty());
    assert!(c.invalidate(2).is_empty(), "already gone");
    assert!(emptied(&c.invalidate(1)).is_empty());
    assert_eq!(emptied(&c.invalidate(3)), [1]);
    assert_eq!(c.stats().invalidations, 3);
    assert_eq!(c.stats().live_groups, 0);
}

#[test]
fn the_new_units_group_is_never_reported_emptied() {
    // Unit 2 joins group 5, whose only unit so far is the next victim.
    let mut c = cache(config(LRU, 1, 0));
    let _ = c.insert(1, 1, KIB, Some(GroupId(5)), 0).unwrap();
    let removed = c.insert(2, 2, KIB, Some(GroupId(5)), 0).unwrap();
    assert_eq!((removed.keys(), emptied(&removed)), (vec![1], vec![]));
    // A replacement (tier-up) in the same group keeps the group too, and
    // keeps the hotness.
    hit(&mut c, 2, 3);
    let removed = c.insert(2, 200, KIB, Some(GroupId(5)), 0).unwrap();
    assert_eq!(removed.units[0].reason, RemovalReason::Replaced);
    assert_eq!(removed.units[0].value, 2);
    assert!(removed.emptied_groups.is_empty());
    assert_eq!(c.unit(2).unwrap().hotness, 3.0);
    // Moving to another group empties the old one.
    let removed = c.insert(2, 201, KIB, Some(GroupId(6)), 0).unwrap();
    assert_eq!(emptied(&removed), [5]);
    assert_eq!(c.stats().live_groups, 1);
    assert_eq!(c.stats().evictions, 1);
}

// ---------------------------------------------------------------- invalidation

#[test]
fn invalidate_where_removes_the_units_of_one_page() {
    let mut c = cache(config(LRU_LFU, 100, 10));
    let page = |key: u64| key >> 12;
    let keys: Vec<u64> = (0..4).flat_map(|p| [0x10, 0x200, 0xff0].map(|o| p << 12 | o)).collect();
    for (i, &key) in keys.iter().enumerate() {
        let _ = c.insert(key, key, KIB, Some(GroupId(i as u64 % 2)), 0).unwrap();
    }
    let removed = c.invalidate_where(|&k, _| page(k) == 2);
    let mut gone = removed.keys();
    gone.sort();
    assert_eq!(gone, [0x2010, 0x2200, 0x2ff0]);
    assert!(removed.units.iter().all(|u| u.reason == RemovalReason::Invalidated));
    assert!(removed.emptied_groups.is_empty());
    assert_eq!(c.len(), 9);
    assert!(c.iter().all(|u| page(u.key) != 2));
    let s = c.stats();
    assert_eq!((s.invalidations, s.evictions, s.bytes), (3, 0, 9 * KIB));
    let all = c.clear();
    assert_eq!(all.units.len(), 9);
    assert!(all.units.iter().all(|u| u.reason == RemovalReason::Cleared));
    assert_eq!(emptied(&all).len(), 2);
    assert_eq!((c.len(), c.bytes(), c.stats().invalidations), (0, 0, 12));
}

// ---------------------------------------------------------------- statistics

#[test]
fn stats_count_lookups_and_hit_rate() {
    let mut c = cache(config(LRU_LFU, 10, 0));
    assert_eq!(c.stats(), CacheStats::default());
    assert_eq!(c.stats().hit_rate, None);
    assert!(c.lookup(1, 0).is_none());
    let _ = c.insert(1, 1, 3 * KIB, Some(GroupId(1)), 0).unwrap();
    hit(&mut c, 1, 3);
    let s = c.stats();
    assert_eq!((s.lookups, s.hits, s.misses), (4, 3, 1));
    assert_eq!(s.hit_rate, Some(0.75));
    assert_eq!((s.insertions, s.entries, s.bytes, s.live_groups), (1, 1, 3 * KIB, 1));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["hit_rate"], 0.75);
}

// ---------------------------------------------------------------- property test

/// One operation of the random sequences.
#[derive(Clone, Debug)]
enum Op {
    Insert { key: u64, kib: u64, group: Option<u64> },
    Lookup(u64),
    Invalidate(u64),
    InvalidatePage(u64),
    Advance(u64),
    CleanupNow,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..12u64, 0..=40u64, proptest::option::of(0..6u64))
            .prop_map(|(key, kib, group)| Op::Insert { key, kib, group }),
        10 => (0..12u64).prop_map(Op::Lookup),
        1 => (0..12u64).prop_map(Op::Invalidate),
        1 => (0..4u64).prop_map(Op::InvalidatePage),
        2 => (0..3 * SEC).prop_map(Op::Advance),
        1 => Just(Op::CleanupNow),
        1 => Just(Op::Clear),
    ]
}

/// The documented rules, written plainly: every victim is found by scanning
/// all units for the smallest (warming, score, last use).
#[derive(Clone, Debug)]
struct ModelUnit {
    value: u64,
    bytes: u64,
    group: Option<u64>,
    hotness: f64,
    last_seq: u64,
    last_admission: u64,
    admitted: u64,
}

struct Model {
    config: CacheConfig,
    credit: f64,
    units: HashMap<u64, ModelUnit>,
    seq: u64,
    admissions: u64,
    next_cleanup: u64,
    lookups: u64,
    hits: u64,
}

impl Model {
    fn warming(&self, u: &ModelUnit) -> bool {
        self.config.eviction_policy != LRU
            && u.admitted + self.config.warmup_size as u64 > self.admissions
    }

    fn victim(&self) -> u64 {
        let key = |u: &ModelUnit| {
            let warming = self.warming(u);
            let score = match self.config.eviction_policy {
                _ if warming => 0.0,
                LRU => 0.0,
                LFU => u.hotness,
                LRU_LFU => u.last_admission as f64 + self.credit * (1.0 + u.hotness).log2(),
            };
            (warming, score, u.last_seq)
        };
        let (k, _) = self
            .units
            .iter()
            .min_by(|(_, a), (_, b)| {
                let (a, b) = (key(a), key(b));
                a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
            })
            .unwrap();
        *k
    }

    fn cleanup(&mut self, now: u64) {
        if now < self.next_cleanup {
            return;
        }
        let interval = self.config.cleanup_interval_secs * SEC;
        let steps = (now - self.next_cleanup) / interval + 1;
        self.next_cleanup += steps * interval;
        self.decay(self.config.hotness_decay_factor.powf(steps as f64));
    }

    fn decay(&mut self, factor: f64) {
        for u in self.units.values_mut() {
            u.hotness *= factor;
        }
    }

    fn bytes(&self) -> u64 {
        self.units.values().map(|u| u.bytes).sum()
    }

    fn live_groups(&self) -> HashMap<u64, usize> {
        let mut live = HashMap::new();
        for g in self.units.values().filter_map(|u| u.group) {
            *live.entry(g).or_insert(0) += 1;
        }
        live
    }
}

/// Check that `removed` holds exactly the units the model takes out for
/// `expected` keys, and that the emptied groups are those the model sees
/// emptied (`new_group` is the group of a unit being inserted).
fn check_removed(
    model: &mut Model,
    removed: &Removed<u64, u64>,
    expected: &[(u64, RemovalReason)],
    new_group: Option<u64>,
) {
    let before = model.live_groups();
    let got: Vec<(u64, RemovalReason)> = removed.units.iter().map(|u| (u.key, u.reason)).collect();
    assert_eq!(got, expected);
    for u in &removed.units {
        let m = model.units.remove(&u.key).expect("removed unit was cached");
        assert_eq!((u.value, u.code_bytes), (m.value, m.bytes));
        assert_eq!(u.group.map(|g| g.0), m.group);
    }
    let after = model.live_groups();
    let mut want: Vec<u64> = before
        .keys()
        .filter(|g| !after.contains_key(g) && Some(**g) != new_group)
        .copied()
        .collect();
    let mut got: Vec<u64> = removed.emptied_groups.iter().map(|g| g.0).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "emptied groups");
}

fn run_ops(config: CacheConfig, credit_percent: u32, ops: &[Op]) {
    let options = CacheOptions { start_ns: 0, lru_lfu_credit_percent: credit_percent };
    let mut cache: Cache = UnifiedCodeCache::new(config.clone(), options);
    let mut model = Model {
        credit: config.max_entries as f64 * credit_percent as f64 / 100.0,
        next_cleanup: config.cleanup_interval_secs * SEC,
        config,
        units: HashMap::new(),
        seq: 0,
        admissions: 0,
        lookups: 0,
        hits: 0,
    };
    let mut now = 0;
    let mut next_value = 0;
    for op in ops {
        match *op {
            Op::Insert { key, kib, group } => {
                let bytes = kib * KIB;
                next_value += 1;
                let result = cache.insert(key, next_value, bytes, group.map(GroupId), now);
                if bytes > model.config.max_memory_bytes {
                    assert!(result.is_err());
                    continue;
                }
                let removed = result.unwrap();
                model.cleanup(now);
                let mut expected = Vec::new();
                let hotness = model.units.get(&key).map_or(0.0, |u| u.hotness);
                let mut shadow = model.units.clone();
                if shadow.remove(&key).is_some() {
                    expected.push((key, RemovalReason::Replaced));
                }
                let saved = std::mem::replace(&mut model.units, shadow);
                while model.units.len() >= model.config.max_entries
                    || model.bytes() + bytes > model.config.max_memory_bytes
                {
                    let v = model.victim();
                    model.units.remove(&v);
                    expected.push((v, RemovalReason::Evicted));
                }
                model.units = saved;
                check_removed(&mut model, &removed, &expected, group);
                model.admissions += 1;
                model.seq += 1;
                let unit = ModelUnit {
                    value: next_value,
                    bytes,
                    group,
                    hotness,
                    last_seq: model.seq,
                    last_admission: model.admissions,
                    admitted: model.admissions,
                };
                model.units.insert(key, unit);
            }
            Op::Lookup(key) => {
                let got = cache.lookup(key, now).copied();
                model.cleanup(now);
                model.lookups += 1;
                let (seq, admissions) = (model.seq + 1, model.admissions);
                match model.units.get_mut(&key) {
                    Some(u) => {
                        assert_eq!(got, Some(u.value));
                        u.hotness += 1.0;
                        u.last_seq = seq;
                        u.last_admission = admissions;
                        model.seq = seq;
                        model.hits += 1;
                    }
                    None => assert_eq!(got, None),
                }
            }
            Op::Invalidate(key) => {
                let removed = cache.invalidate(key);
                let expected: Vec<_> = model
                    .units
                    .contains_key(&key)
                    .then_some((key, RemovalReason::Invalidated))
                    .into_iter()
                    .collect();
                check_removed(&mut model, &removed, &expected, None);
            }
            Op::InvalidatePage(page) => {
                let removed = cache.invalidate_where(|k, _| k % 4 == page);
                let mut expected: Vec<_> = removed.keys();
                expected.sort();
                let mut want: Vec<u64> =
                    model.units.keys().filter(|k| *k % 4 == page).copied().collect();
                want.sort();
                assert_eq!(expected, want);
                let expected: Vec<_> =
                    removed.keys().into_iter().map(|k| (k, RemovalReason::Invalidated)).collect();
                check_removed(&mut model, &removed, &expected, None);
            }
            Op::Advance(ns) => {
                now += ns;
                cache.maybe_cleanup(now);
                model.cleanup(now);
            }
            Op::CleanupNow => {
                cache.cleanup_now();
                let factor = model.config.hotness_decay_factor;
                model.decay(factor);
            }
            Op::Clear => {
                let removed = cache.clear();
                let expected: Vec<_> =
                    removed.keys().into_iter().map(|k| (k, RemovalReason::Cleared)).collect();
                assert_eq!(removed.units.len(), model.units.len());
                check_removed(&mut model, &removed, &expected, None);
            }
        }
        cache.check_invariants();
        let s = cache.stats();
        assert!(s.entries <= model.config.max_entries);
        assert!(s.bytes <= model.config.max_memory_bytes);
        assert_eq!(s.entries, model.units.len());
        assert_eq!(s.bytes, model.bytes());
        assert_eq!(s.bytes, cache.iter().map(|u| u.code_bytes).sum::<u64>());
        assert_eq!(s.live_groups, model.live_groups().len());
        assert_eq!((s.lookups, s.hits), (model.lookups, model.hits));
        assert_eq!(s.hits + s.misses, s.lookups);
        for (key, u) in &model.units {
            let c = cache.unit(*key).expect("model unit is cached");
            assert_eq!((*c.value, c.hotness.to_bits()), (u.value, u.hotness.to_bits()));
            assert_eq!(c.warming, model.warming(u));
        }
    }
}

proptest! {
    #![proptest_config(crate::proptest_config(2000))]

    #[test]
    fn random_operations_keep_the_invariants_and_follow_the_rules(
        policy in prop_oneof![Just(LRU), Just(LFU), Just(LRU_LFU)],
        max_entries in 1..=8usize,
        warmup_size in 0..=6usize,
        hotness_decay_factor in prop_oneof![Just(0.0), Just(0.5), Just(0.95), Just(1.0)],
        credit_percent in 0..=300u32,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let config = CacheConfig {
            max_entries,
            max_memory_bytes: 64 * KIB,
            eviction_policy: policy,
            cleanup_interval_secs: 1,
            hotness_decay_factor,
            warmup_size,
        };
        run_ops(config, credit_percent, &ops);
    }
}
