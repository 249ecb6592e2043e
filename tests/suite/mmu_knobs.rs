//! Every MMU knob changes what the TLB statistics show, in the direction the
//! knob's documentation promises. Synthetic page-access patterns run through
//! `UnifiedMmu::translate` over 4096 mapped pages; one helper, `run`, maps
//! them, replays a pattern of page numbers and returns the statistics.
use crate::mmu_common;

use mmu_common::*;
use tunevm::mem::{
    AccessType, ConcurrentTlbConfig, MmuOptimizationStrategy, MultiLevelTlbConfig, Privilege,
    TlbStats, UnifiedMmu, UnifiedMmuConfig, RAM_BASE,
};

use MmuOptimizationStrategy::{Concurrent, Hybrid, MultiLevel};

const BASE_VA: u64 = 0x4000_0000;
const PAGES: u64 = 4096;

/// Map pages 0..PAGES at BASE_VA, translate a load from each page of
/// `pattern` (page numbers) in order, and return the MMU's statistics.
fn run(config: UnifiedMmuConfig, pattern: impl IntoIterator<Item = u64>) -> TlbStats {
    let mut vm = Vm::new(config);
    let root = vm.new_table();
    for page in 0..PAGES {
        vm.map(root, BASE_VA + page * 4096, RAM_BASE + page * 4096, RW, 0);
    }
    let ctx = ctx(root, 1, Privilege::Supervisor);
    for page in pattern {
        assert!(page < PAGES);
        let va = BASE_VA + page * 4096 + 8;
        assert_eq!(vm.translate(&ctx, va, AccessType::Load), Ok(RAM_BASE + page * 4096 + 8));
    }
    let stats = vm.mmu.stats();
    assert_eq!(stats.lookups, stats.hits + stats.walks);
    stats
}

fn multilevel(l1_entries: usize, l2_entries: usize, l2_ways: usize) -> UnifiedMmuConfig {
    UnifiedMmuConfig {
        strategy: MultiLevel,
        multilevel_tlb_config: MultiLevelTlbConfig { l1_entries, l2_entries, l2_ways },
        enable_prefetch: false,
        ..Default::default()
    }
}

fn concurrent(entries: usize, shards: usize) -> UnifiedMmuConfig {
    UnifiedMmuConfig {
        strategy: Concurrent,
        concurrent_tlb_config: ConcurrentTlbConfig { entries, shards },
        enable_prefetch: false,
        ..Default::default()
    }
}

fn with_prefetch(config: UnifiedMmuConfig, window: usize, distance: usize) -> UnifiedMmuConfig {
    UnifiedMmuConfig {
        enable_prefetch: true,
        prefetch_history_window: window,
        prefetch_distance: distance,
        ..config
    }
}

/// `pages` distinct pages visited in order, `rounds` times.
fn working_set(pages: u64, rounds: usize) -> impl Iterator<Item = u64> {
    (0..rounds).flat_map(move |_| 0..pages)
}

/// A deterministic pseudo-random page stream (an LCG), pages in `0..limit`.
fn noise(count: usize, limit: u64, seed: u64) -> Vec<u64> {
    let mut x = seed;
    (0..count)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % limit
        })
        .collect()
}

fn rate(s: &TlbStats) -> f64 {
    s.hit_rate().unwrap()
}

fn l1_rate(s: &TlbStats) -> f64 {
    s.level("l1").unwrap().hit_rate().unwrap()
}

#[test]
fn bigger_l1_raises_l1_hit_rate() {
    // 24 pages in a loop: LRU keeps none of them in 8 entries, all in 32.
    let rates: Vec<f64> = [4, 8, 16, 32, 64]
        .iter()
        .map(|&l1| l1_rate(&run(multilevel(l1, 512, 4), working_set(24, 50))))
        .collect();
    eprintln!("{rates:?}");
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
    assert!(rates[1] < 0.1 && rates[3] > 0.95, "{rates:?}");
}

#[test]
fn bigger_l2_raises_overall_hit_rate() {
    // 200 pages do not fit a 64- or 128-entry L2; they fit 512 entries.
    let rates: Vec<f64> = [64, 128, 256, 512]
        .iter()
        .map(|&l2| rate(&run(multilevel(16, l2, 4), working_set(200, 30))))
        .collect();
    eprintln!("{rates:?}");
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
    assert!(rates[0] < 0.2 && rates[3] > 0.95, "{rates:?}");
}

#[test]
fn more_l2_ways_remove_conflict_misses() {
    // 8 pages 64 VPNs apart all index one L2 set whatever the way count
    // (64 entries: 64, 32, ..., 8 sets). The 4-entry L1 cannot hold them.
    let pattern = || (0..40).flat_map(|_| (0..8).map(|k| k * 64));
    let rates: Vec<f64> =
        [1, 2, 4, 8].iter().map(|&ways| rate(&run(multilevel(4, 64, ways), pattern()))).collect();
    eprintln!("{rates:?}");
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
    assert!(rates[0] < 0.1 && rates[3] > 0.95, "{rates:?}");
}

#[test]
fn bigger_concurrent_tlb_raises_hit_rate() {
    let rates: Vec<f64> = [64, 128, 256, 512]
        .iter()
        .map(|&entries| rate(&run(concurrent(entries, 8), working_set(200, 30))))
        .collect();
    eprintln!("{rates:?}");
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
    assert!(rates[0] < 0.3 && rates[3] > 0.95, "{rates:?}");
}

#[test]
fn more_shards_lower_hit_rate_near_capacity() {
    // 56 pages in 64 entries: one fully associative shard holds them all;
    // 16 shards of 4 entries do not, because the hash spreads 56 pages
    // unevenly and an overfull shard thrashes.
    let rates: Vec<(usize, f64)> = [1, 4, 16, 64]
        .iter()
        .map(|&shards| (shards, rate(&run(concurrent(64, shards), working_set(56, 30)))))
        .collect();
    eprintln!("{rates:?}");
    assert!(rates[0].1 > 0.95, "{rates:?}");
    assert!(rates[0].1 > rates[2].1 && rates[2].1 > rates[3].1, "{rates:?}");
    let shared = run(concurrent(64, 4), working_set(8, 2));
    assert_eq!(shared.levels.len(), 1);
    assert_eq!(shared.levels[0].name, "shared");
}

#[test]
fn prefetch_raises_hit_rate_on_a_strided_scan() {
    // Every third page, once: without prefetch every access misses.
    let scan = || (0..1300).map(|k| k * 3);
    for base in [multilevel(16, 512, 4), concurrent(512, 8)] {
        let off = run(base.clone(), scan());
        let on = run(with_prefetch(base.clone(), 100, 4), scan());
        assert_eq!(off.hits, 0, "{:?}", base.strategy);
        assert!(rate(&on) > 0.95, "{:?}: {on:?}", base.strategy);
        assert!(on.prefetch_used > 1200 && on.prefetch_used <= on.prefetch_issued, "{on:?}");
        if base.strategy == MultiLevel {
            assert_eq!(on.level("l2").unwrap().hits, on.prefetch_used, "prefetches land in L2");
        }
    }
}

#[test]
fn prefetch_distance_sets_how_far_ahead_it_walks() {
    // 60 runs of 8 consecutive pages, each run elsewhere: a longer distance
    // issues more prefetches past the end of each run (wasted walks).
    let runs: Vec<u64> = (0..60u64).flat_map(|r| (0..8).map(move |k| r * 50 + k)).collect();
    let issued: Vec<(usize, u64, u64)> = [1, 4, 16]
        .iter()
        .map(|&d| {
            let s = run(with_prefetch(multilevel(16, 512, 4), 100, d), runs.clone());
            (d, s.prefetch_issued, s.prefetch_used)
        })
        .collect();
    eprintln!("{issued:?}");
    assert!(issued[0].1 < issued[1].1 && issued[1].1 < issued[2].1, "{issued:?}");
    assert!(issued[0].2 > 0, "{issued:?}");

    // A stride interrupted by a noise miss every 5th access. The first
    // stride page after an interruption continues nothing (its delta is from
    // the noise page), so the rule stays quiet for that access: with distance
    // 1 the next stride page is not prefetched and misses; with distance 4 it
    // was prefetched before the interruption.
    let far = noise(300, 1000, 7);
    let interrupted: Vec<u64> = far
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| (0..4).map(move |j| 2000 + 4 * i as u64 + j).chain([n]))
        .collect();
    let hit = |d| rate(&run(with_prefetch(multilevel(16, 512, 4), 100, d), interrupted.clone()));
    eprintln!("interrupted stride: distance 1 {}, distance 4 {}", hit(1), hit(4));
    assert!(hit(4) > hit(1) + 0.1, "distance 1: {}, distance 4: {}", hit(1), hit(4));
}

/// A window too large: after a phase of irregular misses, the stride of a
/// following scan needs more stride misses than the window holds noise
/// before it is a majority again; a small window forgets the noise at once.
#[test]
fn prefetch_window_too_large_is_slow_after_a_phase_change() {
    let mut pattern = noise(300, 2000, 42);
    pattern.extend(2500..2650);
    let small = run(with_prefetch(multilevel(16, 512, 4), 16, 4), pattern.clone());
    let large = run(with_prefetch(multilevel(16, 512, 4), 1000, 4), pattern.clone());
    eprintln!("{small:?}\n{large:?}");
    assert!(small.prefetch_used > 120, "{small:?}");
    assert_eq!(large.prefetch_used, 0, "{large:?}");
    assert!(rate(&small) > rate(&large) + 0.2, "small {small:?}\nlarge {large:?}");
}

/// A window too small: in misses whose deltas come from a few values in
/// random order, two equal deltas in a row fire a 3-page window, which then
/// walks pages nobody uses; a 64-page window sees no majority and stays quiet.
#[test]
fn prefetch_window_too_small_chases_noise() {
    let steps = [37i64, 101, -53, 71];
    let mut page = 2000i64;
    let pattern: Vec<u64> = noise(2000, 4, 9)
        .into_iter()
        .map(|i| {
            page = (page + steps[i as usize]).rem_euclid(PAGES as i64);
            page as u64
        })
        .collect();
    let small = run(with_prefetch(multilevel(16, 512, 4), 3, 4), pattern.clone());
    let large = run(with_prefetch(multilevel(16, 512, 4), 64, 4), pattern.clone());
    eprintln!("{small:?}\n{large:?}");
    assert!(small.prefetch_issued > 500, "{small:?}");
    assert!((small.prefetch_used as f64) < 0.25 * small.prefetch_issued as f64, "{small:?}");
    // (The first misses, before the window fills, may fire it a few times.)
    assert!(large.prefetch_issued * 20 < small.prefetch_issued, "{large:?}");
}

#[test]
fn hybrid_picks_by_sharing() {
    let config = |strategy| UnifiedMmuConfig { strategy, ..Default::default() };
    for (strategy, shared, chosen) in [
        (Hybrid, false, MultiLevel),
        (Hybrid, true, Concurrent),
        (MultiLevel, true, MultiLevel),
        (Concurrent, false, Concurrent),
    ] {
        let mmu = UnifiedMmu::new(1 << 20, shared, config(strategy));
        assert_eq!(mmu.strategy_chosen(), chosen, "{strategy:?} shared={shared}");
    }
    assert_eq!(UnifiedMmuConfig::default().strategy, Hybrid);
}

#[test]
#[should_panic(expected = "mmu.multilevel_tlb_config.l2_ways = 3")]
fn invalid_config_is_refused_when_built() {
    let _ = UnifiedMmu::new(1 << 20, false, multilevel(16, 512, 3));
}
