//! The Concurrent TLB: one TLB of `entries` split into `shards` shards, each
//! behind its own `Mutex`, so harts translating different pages rarely wait on
//! each other. A page's shard is chosen by a multiplicative hash of its VPN.
//!
//! Each shard is **fully associative** (any page may use any of its
//! `entries / shards` slots) with **CLOCK** (second-chance) replacement: a hit
//! sets the slot's reference bit; a fill sweeps a hand over the slots, clearing
//! set bits and evicting the first slot whose bit is clear — an approximation
//! of LRU whose fill costs O(1) amortised. A per-shard hash index (VPN, ASID ->
//! slot) makes lookups O(1) whatever the shard size.
//!
//! The knobs trade hit rate against contention: more shards mean less
//! waiting between harts, but each shard is smaller and pages do not spread
//! over shards perfectly evenly, so a working set near `entries` misses more
//! than with one big shard.
use rustc_hash::FxHashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Probe, TlbEntry, INVALID_VPN};

/// Index key: VPN (27 bits) | ASID << 27 | GLOBAL_KEY. Global entries are
/// keyed without an ASID so that one probe finds them from any address space.
const GLOBAL_KEY: u64 = 1 << 43;

#[inline(always)]
fn key(vpn: u64, asid: u16, global: bool) -> u64 {
    if global {
        vpn | GLOBAL_KEY
    } else {
        vpn | (asid as u64) << 27
    }
}

/// Fibonacci hashing constant (2^64 / golden ratio).
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

struct Shard {
    /// Key -> slot. FxHash: the keys are already well spread VPNs, and
    /// SipHash would cost more than the rest of a lookup.
    index: FxHashMap<u64, u32>,
    slots: Vec<TlbEntry>,
    referenced: Vec<bool>,
    /// Slots emptied by `SFENCE.VMA`, reused before the clock runs.
    free: Vec<u32>,
    capacity: usize,
    hand: usize,
}

impl Shard {
    fn new(capacity: usize) -> Self {
        Shard {
            index: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            slots: Vec::with_capacity(capacity),
            referenced: Vec::with_capacity(capacity),
            free: Vec::new(),
            capacity,
            hand: 0,
        }
    }

    fn find(&self, vpn: u64, asid: u16) -> Option<usize> {
        self.index
            .get(&key(vpn, asid, false))
            .or_else(|| self.index.get(&key(vpn, 0, true)))
            .map(|&i| i as usize)
    }

    fn remove_slot(&mut self, i: usize) {
        let e = self.slots[i];
        self.index.remove(&key(e.vpn, e.asid, e.is_global()));
        self.slots[i] = TlbEntry::EMPTY;
        self.referenced[i] = false;
        self.free.push(i as u32);
    }

    /// A slot for a new entry: a free one, a never-used one, or the CLOCK victim.
    fn victim(&mut self) -> usize {
        if let Some(i) = self.free.pop() {
            return i as usize;
        }
        if self.slots.len() < self.capacity {
            self.slots.push(TlbEntry::EMPTY);
            self.referenced.push(false);
            return self.slots.len() - 1;
        }
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.capacity;
            if std::mem::replace(&mut self.referenced[i], false) {
                continue;
            }
            let e = self.slots[i];
            self.index.remove(&key(e.vpn, e.asid, e.is_global()));
            return i;
        }
    }

    fn insert(&mut self, entry: TlbEntry) {
        // Drop an entry for the same page under the other key kind (a page
        // that turned global or non-global), so lookups never see a stale twin.
        let twin = key(entry.vpn, entry.asid, !entry.is_global());
        if let Some(&i) = self.index.get(&twin) {
            self.remove_slot(i as usize);
        }
        let k = key(entry.vpn, entry.asid, entry.is_global());
        let i = match self.index.get(&k) {
            Some(&i) => i as usize,
            None => {
                let i = self.victim();
                self.index.insert(k, i as u32);
                i
            }
        };
        self.slots[i] = entry;
        // A demand fill has just served an access; a prefetched entry earns
        // its reference bit on its first hit (so unused prefetches go first).
        self.referenced[i] = !entry.prefetched;
    }
}

/// A sharded TLB that several harts can share (`Send + Sync`; hold it in an `Arc`).
pub struct ConcurrentTlb {
    shards: Box<[Mutex<Shard>]>,
}

impl ConcurrentTlb {
    /// `entries` in total over `shards` shards; `shards` must divide `entries`
    /// (checked by `UnifiedMmuConfig::validate`).
    pub fn new(entries: usize, shards: usize) -> Self {
        assert!(
            shards > 0 && entries >= shards && entries.is_multiple_of(shards),
            "Concurrent TLB: {shards} shards must divide {entries} entries"
        );
        let per_shard = entries / shards;
        ConcurrentTlb { shards: (0..shards).map(|_| Mutex::new(Shard::new(per_shard))).collect() }
    }

    /// The shard of page `vpn`: top bits of a Fibonacci hash, reduced to
    /// `0..shards` by a multiply (no division).
    #[inline(always)]
    fn shard(&self, vpn: u64) -> MutexGuard<'_, Shard> {
        let h = vpn.wrapping_mul(FIB) >> 32;
        let i = ((h * self.shards.len() as u64) >> 32) as usize;
        // A panic while holding a shard cannot leave it inconsistent in a way
        // that matters more than losing entries; keep going.
        self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Look `vpn` up in address space `asid`; `accept` decides whether a
    /// matching entry may serve the access. A first hit on a prefetched entry
    /// is reported once, whichever hart makes it.
    pub fn lookup(&self, vpn: u64, asid: u16, accept: impl FnOnce(&TlbEntry) -> bool) -> Probe {
        let mut shard = self.shard(vpn);
        let Some(i) = shard.find(vpn, asid) else {
            return Probe::Miss;
        };
        if !accept(&shard.slots[i]) {
            return Probe::Refused;
        }
        shard.referenced[i] = true;
        let first_use_of_prefetch = std::mem::replace(&mut shard.slots[i].prefetched, false);
        Probe::Hit { entry: shard.slots[i], first_use_of_prefetch }
    }

    pub fn contains(&self, vpn: u64, asid: u16) -> bool {
        self.shard(vpn).find(vpn, asid).is_some()
    }

    pub fn insert(&self, entry: TlbEntry) {
        debug_assert!(entry.vpn != INVALID_VPN);
        self.shard(entry.vpn).insert(entry);
    }

    /// Remove the entries that `SFENCE.VMA vpn, asid` covers (every shard: a
    /// superpage's pieces hash to different shards).
    pub fn flush(&self, vpn: Option<u64>, asid: Option<u16>) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for i in 0..shard.slots.len() {
                if shard.slots[i].flushed_by(vpn, asid) {
                    shard.remove_slot(i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::sv39::{PTE_A, PTE_G, PTE_R, PTE_V};

    fn entry(vpn: u64, asid: u16, global: bool) -> TlbEntry {
        let g = if global { PTE_G } else { 0 };
        TlbEntry {
            vpn,
            ppn: vpn + 100,
            asid,
            flags: PTE_V | PTE_R | PTE_A | g,
            level: 0,
            prefetched: false,
        }
    }

    #[test]
    fn shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ConcurrentTlb>();
        let tlb = std::sync::Arc::new(ConcurrentTlb::new(64, 4));
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let tlb = tlb.clone();
                std::thread::spawn(move || {
                    for vpn in t * 8..t * 8 + 8 {
                        tlb.insert(entry(vpn, 0, false));
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        // 32 pages in 64 entries: unless the hash piles more than 16 into
        // one shard, all are present.
        assert!((0..32).filter(|&v| tlb.contains(v, 0)).count() >= 28);
    }

    #[test]
    fn clock_gives_a_second_chance() {
        let tlb = ConcurrentTlb::new(2, 1);
        // Prefetched entries start without a reference bit.
        tlb.insert(TlbEntry { prefetched: true, ..entry(1, 0, false) });
        tlb.insert(TlbEntry { prefetched: true, ..entry(2, 0, false) });
        // Page 1 is used: the sweep clears its bit and passes on to page 2.
        assert!(matches!(
            tlb.lookup(1, 0, |_| true),
            Probe::Hit { first_use_of_prefetch: true, .. }
        ));
        tlb.insert(entry(3, 0, false));
        assert!(tlb.contains(1, 0) && tlb.contains(3, 0) && !tlb.contains(2, 0));
        // Now both bits are clear or set as: page 1 clear, page 3 set.
        tlb.insert(entry(4, 0, false));
        assert!(!tlb.contains(1, 0) && tlb.contains(3, 0) && tlb.contains(4, 0));
    }

    #[test]
    fn asid_and_global_keys() {
        let tlb = ConcurrentTlb::new(8, 1);
        tlb.insert(entry(5, 1, false));
        tlb.insert(entry(6, 1, true));
        assert!(tlb.contains(5, 1) && !tlb.contains(5, 2));
        assert!(tlb.contains(6, 2));
        tlb.flush(None, Some(1));
        assert!(!tlb.contains(5, 1) && tlb.contains(6, 1));
        tlb.flush(Some(6), None);
        assert!(!tlb.contains(6, 1));
        // Freed slots are reused.
        for vpn in 10..18 {
            tlb.insert(entry(vpn, 0, false));
        }
        assert!((10..18).all(|v| tlb.contains(v, 0)));
    }
}
