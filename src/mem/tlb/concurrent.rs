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
//! Shared by several harts, one TLB can hold translations of different page
//! tables under the same ASID (harts that give ASID 0 to different address
//! spaces, say), so every slot also remembers the root table (`satp.PPN`) it
//! was filled under, and a non-global entry serves only lookups under that
//! root. Global entries serve every root, as the privileged spec defines
//! them (mappings that exist in every address space: the kernel's, shared by
//! all page tables), so they are not walked again per process.
//!
//! Every lock taken is counted in the caller's [`LockCounts`], and so is
//! every time the lock was already held (`try_lock` failed first): the
//! figures `Hybrid` uses to decide whether sharing pays.
//!
//! The knobs trade hit rate against contention: more shards mean less
//! waiting between harts, but each shard is smaller and pages do not spread
//! over shards perfectly evenly, so a working set near `entries` misses more
//! than with one big shard.
use rustc_hash::FxHashMap;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

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
    /// Root table (`satp.PPN`) each slot was filled under.
    roots: Vec<u64>,
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
            roots: Vec::with_capacity(capacity),
            referenced: Vec::with_capacity(capacity),
            free: Vec::new(),
            capacity,
            hand: 0,
        }
    }

    fn find(&self, vpn: u64, asid: u16, root: u64) -> Option<usize> {
        let mine = |&i: &u32| (self.roots[i as usize] == root).then_some(i as usize);
        self.index
            .get(&key(vpn, asid, false))
            .and_then(mine)
            .or_else(|| self.index.get(&key(vpn, 0, true)).map(|&i| i as usize))
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
            self.roots.push(0);
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

    fn insert(&mut self, entry: TlbEntry, root: u64) {
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
        self.roots[i] = root;
        // A demand fill has just served an access; a prefetched entry earns
        // its reference bit on its first hit (so unused prefetches go first).
        self.referenced[i] = !entry.prefetched;
    }
}

/// Locks one hart took on a [`ConcurrentTlb`]'s shards (counted by the
/// hart, so counting adds no sharing of its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockCounts {
    pub acquisitions: u64,
    /// Acquisitions that found the shard held by another hart and waited.
    pub contended: u64,
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

    /// The shard of page `vpn`, locked: top bits of a Fibonacci hash,
    /// reduced to `0..shards` by a multiply (no division). Counts the lock
    /// in `locks`, and whether another hart held it.
    #[inline(always)]
    fn shard(&self, vpn: u64, locks: &mut LockCounts) -> MutexGuard<'_, Shard> {
        let h = vpn.wrapping_mul(FIB) >> 32;
        let i = ((h * self.shards.len() as u64) >> 32) as usize;
        locks.acquisitions += 1;
        match self.shards[i].try_lock() {
            Ok(guard) => guard,
            // A panic while holding a shard cannot leave it inconsistent in a
            // way that matters more than losing entries; keep going.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                locks.contended += 1;
                self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
            }
        }
    }

    /// Look `vpn` up in address space `asid` of page table `root`;
    /// `accept` decides whether a matching entry may serve the access. A
    /// first hit on a prefetched entry is reported once, whichever hart
    /// makes it.
    pub fn lookup(
        &self,
        vpn: u64,
        asid: u16,
        root: u64,
        locks: &mut LockCounts,
        accept: impl FnOnce(&TlbEntry) -> bool,
    ) -> Probe {
        let mut shard = self.shard(vpn, locks);
        let Some(i) = shard.find(vpn, asid, root) else {
            return Probe::Miss;
        };
        if !accept(&shard.slots[i]) {
            return Probe::Refused;
        }
        shard.referenced[i] = true;
        let first_use_of_prefetch = std::mem::replace(&mut shard.slots[i].prefetched, false);
        Probe::Hit { entry: shard.slots[i], first_use_of_prefetch }
    }

    pub fn contains(&self, vpn: u64, asid: u16, root: u64, locks: &mut LockCounts) -> bool {
        self.shard(vpn, locks).find(vpn, asid, root).is_some()
    }

    /// Cache `entry`, filled by a walk of page table `root`.
    pub fn insert(&self, entry: TlbEntry, root: u64, locks: &mut LockCounts) {
        debug_assert!(entry.vpn != INVALID_VPN);
        self.shard(entry.vpn, locks).insert(entry, root);
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

    /// The calls under root table 1, lock counts dropped.
    trait RootOne {
        fn ins(&self, e: TlbEntry);
        fn has(&self, vpn: u64, asid: u16) -> bool;
        fn look(&self, vpn: u64, asid: u16, accept: impl FnOnce(&TlbEntry) -> bool) -> Probe;
    }

    impl RootOne for ConcurrentTlb {
        fn ins(&self, e: TlbEntry) {
            self.insert(e, 1, &mut LockCounts::default())
        }
        fn has(&self, vpn: u64, asid: u16) -> bool {
            self.contains(vpn, asid, 1, &mut LockCounts::default())
        }
        fn look(&self, vpn: u64, asid: u16, accept: impl FnOnce(&TlbEntry) -> bool) -> Probe {
            self.lookup(vpn, asid, 1, &mut LockCounts::default(), accept)
        }
    }

    #[test]
    fn entries_serve_only_their_root_table() {
        let tlb = ConcurrentTlb::new(8, 2);
        let mut locks = LockCounts::default();
        tlb.insert(entry(5, 0, false), 7, &mut locks);
        tlb.insert(entry(6, 0, true), 7, &mut locks);
        // Same VPN and ASID under another root: not served; a global is.
        assert!(!tlb.contains(5, 0, 8, &mut locks) && tlb.contains(6, 0, 8, &mut locks));
        assert!(tlb.contains(5, 0, 7, &mut locks) && tlb.contains(6, 3, 7, &mut locks));
        // Another root's fill of the same page replaces it.
        tlb.insert(TlbEntry { ppn: 999, ..entry(5, 0, false) }, 8, &mut locks);
        assert!(matches!(
            tlb.lookup(5, 0, 8, &mut locks, |_| true),
            Probe::Hit { entry: TlbEntry { ppn: 999, .. }, .. }
        ));
        assert!(!tlb.contains(5, 0, 7, &mut locks));
        // One lock per call, none found held.
        assert_eq!(locks, LockCounts { acquisitions: 9, contended: 0 });
    }

    #[test]
    fn a_held_shard_counts_as_contended() {
        let tlb = ConcurrentTlb::new(4, 1);
        let mut locks = LockCounts::default();
        std::thread::scope(|s| {
            let guard = tlb.shards[0].lock().unwrap();
            let waiter = s.spawn(|| {
                let mut mine = LockCounts::default();
                tlb.contains(1, 0, 1, &mut mine);
                mine
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(guard);
            assert_eq!(waiter.join().unwrap(), LockCounts { acquisitions: 1, contended: 1 });
        });
        tlb.contains(1, 0, 1, &mut locks);
        assert_eq!(locks.contended, 0);
    }

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
                        tlb.ins(entry(vpn, 0, false));
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        // 32 pages in 64 entries: unless the hash piles more than 16 into
        // one shard, all are present.
        assert!((0..32).filter(|&v| tlb.has(v, 0)).count() >= 28);
    }

    #[test]
    fn clock_gives_a_second_chance() {
        let tlb = ConcurrentTlb::new(2, 1);
        // Prefetched entries start without a reference bit.
        tlb.ins(TlbEntry { prefetched: true, ..entry(1, 0, false) });
        tlb.ins(TlbEntry { prefetched: true, ..entry(2, 0, false) });
        // Page 1 is used: the sweep clears its bit and passes on to page 2.
        assert!(matches!(tlb.look(1, 0, |_| true), Probe::Hit { first_use_of_prefetch: true, .. }));
        tlb.ins(entry(3, 0, false));
        assert!(tlb.has(1, 0) && tlb.has(3, 0) && !tlb.has(2, 0));
        // Now both bits are clear or set as: page 1 clear, page 3 set.
        tlb.ins(entry(4, 0, false));
        assert!(!tlb.has(1, 0) && tlb.has(3, 0) && tlb.has(4, 0));
    }

    #[test]
    fn asid_and_global_keys() {
        let tlb = ConcurrentTlb::new(8, 1);
        tlb.ins(entry(5, 1, false));
        tlb.ins(entry(6, 1, true));
        assert!(tlb.has(5, 1) && !tlb.has(5, 2));
        assert!(tlb.has(6, 2));
        tlb.flush(None, Some(1));
        assert!(!tlb.has(5, 1) && tlb.has(6, 1));
        tlb.flush(Some(6), None);
        assert!(!tlb.has(6, 1));
        // Freed slots are reused.
        for vpn in 10..18 {
            tlb.ins(entry(vpn, 0, false));
        }
        assert!((10..18).all(|v| tlb.has(v, 0)));
    }
}
