//! The MultiLevel TLB: a small fully associative L1 backed by a larger
//! set-associative L2, both private to one `UnifiedMmu` (one hart), so no locks.
//!
//! L1 is laid out for the hit path of every guest load and store:
//! - `tags[i]` = VPN | ASID << 27 in one `u64`, so a match is one compare. A
//!   global entry is tagged with the ASID current when it was copied into L1
//!   (another address space misses in L1 and refills from L2, where global
//!   entries match any ASID); its G bit is kept in `data` so an ASID-specific
//!   `SFENCE.VMA` still leaves it alone.
//! - `data[i]` = PPN << 12 | level << 8 | PTE bits, so the physical address is
//!   `data & !0xFFF | offset`.
//! - per kind of access (data, fetch) a copy of the tag and data of the slot
//!   it last hit (`mru_*`) is compared first. An interpreter alternates
//!   fetches from its code page with loads and stores to a data page; with
//!   one copy per kind, both streams stay on the one-compare path, with no
//!   bounds check and no stamp update.
//!
//! Replacement: LRU in both levels, by age stamps (a hit that scans writes the
//! slot's stamp; a fill evicts an empty slot, else the smallest stamp — of the
//! whole L1, or of the L2 set). L1's fast-path hits skip the stamp update, so
//! at a fill the two slots behind the `mru_*` copies are first stamped as
//! newest: they were used since their stamps were written. (That makes L1 an
//! approximate LRU when fetches and data accesses interleave; with one kind of
//! access it is exact.)
use super::{Probe, TlbEntry, INVALID_VPN};
use crate::mem::sv39::VPN_MASK;

/// L1 tag of an empty slot (real tags use 43 bits).
const INVALID_TAG: u64 = u64::MAX;
const ASID_SHIFT: u32 = 27;

/// The L1 tag of page `vpn` in address space `asid`.
#[inline(always)]
pub fn l1_tag(vpn: u64, asid: u16) -> u64 {
    vpn | (asid as u64) << ASID_SHIFT
}

/// Which fast-path copy an access uses.
pub const DATA: usize = 0;
pub const FETCH: usize = 1;

/// Fully associative L1 with LRU replacement.
pub struct L1Tlb {
    /// Per kind ([`DATA`], [`FETCH`]): tag, data and slot of the last hit.
    /// `mru_tag[k]` is [`INVALID_TAG`] when the copy is not valid.
    mru_tag: [u64; 2],
    mru_data: [u64; 2],
    mru_slot: [usize; 2],
    tags: Box<[u64]>,
    data: Box<[u64]>,
    /// Time of last use (from `clock`, which starts at 1); 0 = empty slot.
    stamps: Box<[u64]>,
    clock: u64,
}

impl L1Tlb {
    /// `entries` must be at least 1 (checked by `UnifiedMmuConfig::validate`).
    pub fn new(entries: usize) -> Self {
        assert!(entries > 0, "L1 TLB needs at least one entry");
        L1Tlb {
            mru_tag: [INVALID_TAG; 2],
            mru_data: [0; 2],
            mru_slot: [0; 2],
            tags: vec![INVALID_TAG; entries].into_boxed_slice(),
            data: vec![0; entries].into_boxed_slice(),
            stamps: vec![0; entries].into_boxed_slice(),
            clock: 0,
        }
    }

    /// The packed data word of an entry: PPN << 12 | level << 8 | PTE bits.
    #[inline(always)]
    pub fn pack(entry: &TlbEntry) -> u64 {
        entry.ppn << 12 | (entry.level as u64) << 8 | entry.flags as u64
    }

    /// The packed data of the entry tagged `tag`, for an access of `kind`
    /// ([`DATA`] or [`FETCH`]).
    #[inline(always)]
    pub fn lookup(&mut self, tag: u64, kind: usize) -> Option<u64> {
        if self.mru_tag[kind] == tag {
            return Some(self.mru_data[kind]);
        }
        self.lookup_scan(tag, kind)
    }

    #[inline]
    fn lookup_scan(&mut self, tag: u64, kind: usize) -> Option<u64> {
        let i = self.tags.iter().position(|&t| t == tag)?;
        self.clock += 1;
        self.stamps[i] = self.clock;
        self.set_mru(kind, i);
        Some(self.data[i])
    }

    #[inline(always)]
    fn set_mru(&mut self, kind: usize, slot: usize) {
        self.mru_tag[kind] = self.tags[slot];
        self.mru_data[kind] = self.data[slot];
        self.mru_slot[kind] = slot;
    }

    pub fn contains(&self, tag: u64) -> bool {
        self.tags.contains(&tag)
    }

    /// Fill (or refresh) the entry tagged `tag` for an access of `kind`. The
    /// victim is the slot with the smallest stamp; empty slots have stamp 0,
    /// so they go first.
    pub fn insert(&mut self, tag: u64, data: u64, kind: usize) {
        let slot = match self.tags.iter().position(|&t| t == tag) {
            Some(i) => i,
            None => {
                for k in [DATA, FETCH] {
                    if self.mru_tag[k] != INVALID_TAG {
                        self.clock += 1;
                        self.stamps[self.mru_slot[k]] = self.clock;
                    }
                }
                let mut slot = 0;
                let mut oldest = u64::MAX;
                for (i, &stamp) in self.stamps.iter().enumerate() {
                    if stamp < oldest {
                        oldest = stamp;
                        slot = i;
                    }
                }
                slot
            }
        };
        self.clock += 1;
        self.tags[slot] = tag;
        self.data[slot] = data;
        self.stamps[slot] = self.clock;
        for k in [DATA, FETCH] {
            if self.mru_slot[k] == slot {
                self.mru_tag[k] = INVALID_TAG;
            }
        }
        self.set_mru(kind, slot);
    }

    /// Remove the entries that `SFENCE.VMA vpn, asid` covers.
    pub fn flush(&mut self, vpn: Option<u64>, asid: Option<u16>) {
        self.mru_tag = [INVALID_TAG; 2];
        let slots = self.tags.iter_mut().zip(self.data.iter()).zip(self.stamps.iter_mut());
        for ((tag, &data), stamp) in slots {
            if *tag == INVALID_TAG {
                continue;
            }
            let entry = TlbEntry {
                vpn: *tag & VPN_MASK,
                ppn: data >> 12,
                asid: (*tag >> ASID_SHIFT) as u16,
                flags: data as u8,
                level: (data >> 8) as u8 & 3,
                prefetched: false,
            };
            if entry.flushed_by(vpn, asid) {
                *tag = INVALID_TAG;
                *stamp = 0;
            }
        }
    }
}

/// Set-associative L2: `sets` × `ways`, set index = VPN mod `sets` (a mask
/// when `sets` is a power of two), LRU within a set.
pub struct L2Tlb {
    ways: usize,
    sets: usize,
    /// `sets - 1` when `sets` is a power of two.
    set_mask: Option<u64>,
    entries: Box<[TlbEntry]>,
    /// Time of last use (from `clock`, which starts at 1); 0 = empty slot.
    stamps: Box<[u64]>,
    clock: u64,
}

impl L2Tlb {
    /// `entries` total, `ways` per set; `ways` must divide `entries` (checked
    /// by `UnifiedMmuConfig::validate`).
    pub fn new(entries: usize, ways: usize) -> Self {
        assert!(
            ways > 0 && entries >= ways && entries.is_multiple_of(ways),
            "L2 TLB: {ways} ways must divide {entries} entries"
        );
        let sets = entries / ways;
        L2Tlb {
            ways,
            sets,
            set_mask: sets.is_power_of_two().then_some(sets as u64 - 1),
            entries: vec![TlbEntry::EMPTY; entries].into_boxed_slice(),
            stamps: vec![0; entries].into_boxed_slice(),
            clock: 0,
        }
    }

    /// First slot of the set holding `vpn`.
    #[inline(always)]
    fn set_base(&self, vpn: u64) -> usize {
        let set = match self.set_mask {
            Some(mask) => vpn & mask,
            None => vpn % self.sets as u64,
        };
        set as usize * self.ways
    }

    /// Look `vpn` up in address space `asid`; `accept` decides whether a
    /// matching entry may serve the access (it sees the entry before its
    /// prefetch mark is cleared and before LRU is touched).
    #[inline]
    pub fn lookup(&mut self, vpn: u64, asid: u16, accept: impl FnOnce(&TlbEntry) -> bool) -> Probe {
        let base = self.set_base(vpn);
        let ways = base..base + self.ways;
        let Some(i) = ways.clone().find(|&i| self.entries[i].matches(vpn, asid)) else {
            return Probe::Miss;
        };
        let entry = &mut self.entries[i];
        if !accept(entry) {
            return Probe::Refused;
        }
        let first_use_of_prefetch = std::mem::replace(&mut entry.prefetched, false);
        let entry = *entry;
        self.clock += 1;
        self.stamps[i] = self.clock;
        Probe::Hit { entry, first_use_of_prefetch }
    }

    pub fn contains(&self, vpn: u64, asid: u16) -> bool {
        let base = self.set_base(vpn);
        self.entries[base..base + self.ways].iter().any(|e| e.matches(vpn, asid))
    }

    /// Fill `entry`, replacing an entry for the same page and address space
    /// (a refresh after a D-bit walk), else an empty way (stamp 0), else the
    /// LRU way.
    pub fn insert(&mut self, entry: TlbEntry) {
        debug_assert!(entry.vpn != INVALID_VPN);
        let base = self.set_base(entry.vpn);
        let mut slot = base;
        let mut oldest = u64::MAX;
        for i in base..base + self.ways {
            let e = &self.entries[i];
            if e.vpn == entry.vpn && (e.asid == entry.asid || e.is_global() || entry.is_global()) {
                slot = i;
                break;
            }
            if self.stamps[i] < oldest {
                oldest = self.stamps[i];
                slot = i;
            }
        }
        self.clock += 1;
        self.entries[slot] = entry;
        self.stamps[slot] = self.clock;
    }

    /// Remove the entries that `SFENCE.VMA vpn, asid` covers. Scans every set:
    /// a superpage's 4 KiB pieces live in different sets.
    pub fn flush(&mut self, vpn: Option<u64>, asid: Option<u16>) {
        for (e, stamp) in self.entries.iter_mut().zip(self.stamps.iter_mut()) {
            if e.flushed_by(vpn, asid) {
                *e = TlbEntry::EMPTY;
                *stamp = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::sv39::{PTE_A, PTE_G, PTE_R, PTE_V};

    fn entry(vpn: u64, asid: u16) -> TlbEntry {
        TlbEntry {
            vpn,
            ppn: vpn + 100,
            asid,
            flags: PTE_V | PTE_R | PTE_A,
            level: 0,
            prefetched: false,
        }
    }

    #[test]
    fn l1_evicts_least_recently_used() {
        let mut l1 = L1Tlb::new(2);
        l1.insert(l1_tag(1, 0), 11, DATA);
        l1.insert(l1_tag(2, 0), 22, DATA);
        assert_eq!(l1.lookup(l1_tag(1, 0), DATA), Some(11)); // 2 is now LRU
        l1.insert(l1_tag(3, 0), 33, DATA);
        assert_eq!(l1.lookup(l1_tag(2, 0), DATA), None);
        assert_eq!(l1.lookup(l1_tag(1, 0), DATA), Some(11));
        assert_eq!(l1.lookup(l1_tag(3, 0), DATA), Some(33));
        assert_eq!(l1.lookup(l1_tag(3, 1), DATA), None, "ASID is part of the tag");
    }

    #[test]
    fn l1_fast_path_copies_stay_coherent() {
        let mut l1 = L1Tlb::new(3);
        l1.insert(l1_tag(1, 0), 11, FETCH); // code page
        l1.insert(l1_tag(2, 0), 22, DATA);
        // Interleaved fast-path hits on both: neither may be the victim.
        for _ in 0..3 {
            assert_eq!(l1.lookup(l1_tag(1, 0), FETCH), Some(11));
            assert_eq!(l1.lookup(l1_tag(2, 0), DATA), Some(22));
        }
        l1.insert(l1_tag(3, 0), 33, DATA);
        // Page 2 is now the LRU data page; the code page was stamped at the
        // fill, as it was in use all along.
        l1.insert(l1_tag(4, 0), 44, DATA);
        assert_eq!(l1.lookup(l1_tag(2, 0), DATA), None);
        assert_eq!(l1.lookup(l1_tag(1, 0), FETCH), Some(11));
        assert_eq!(l1.lookup(l1_tag(3, 0), DATA), Some(33));
        // Refreshing a slot updates the copy; a flush drops the copies.
        l1.insert(l1_tag(1, 0), 111, DATA);
        assert_eq!(l1.lookup(l1_tag(1, 0), FETCH), Some(111));
        l1.flush(Some(1), None);
        assert_eq!(l1.lookup(l1_tag(1, 0), FETCH), None);
        assert_eq!(l1.lookup(l1_tag(1, 0), DATA), None);
    }

    #[test]
    fn l2_sets_and_lru() {
        // 2 sets x 2 ways: even VPNs share set 0.
        let mut l2 = L2Tlb::new(4, 2);
        for vpn in [0, 2, 4] {
            l2.insert(entry(vpn, 0));
        }
        assert!(!l2.contains(0, 0), "LRU way of set 0 evicted");
        assert!(l2.contains(2, 0) && l2.contains(4, 0));
        l2.insert(entry(1, 0));
        assert!(l2.contains(2, 0), "set 1 does not disturb set 0");
        // A global entry matches every ASID.
        l2.insert(TlbEntry { flags: PTE_V | PTE_R | PTE_A | PTE_G, ..entry(3, 5) });
        assert!(l2.contains(3, 9));
    }

    #[test]
    fn l2_non_power_of_two_sets() {
        let mut l2 = L2Tlb::new(6, 2); // 3 sets
        for vpn in 0..6 {
            l2.insert(entry(vpn, 0));
        }
        assert!((0..6).all(|vpn| l2.contains(vpn, 0)));
    }

    #[test]
    fn l2_refused_entry_keeps_prefetch_mark() {
        let mut l2 = L2Tlb::new(4, 4);
        l2.insert(TlbEntry { prefetched: true, ..entry(7, 0) });
        assert_eq!(l2.lookup(7, 0, |_| false), Probe::Refused);
        let Probe::Hit { first_use_of_prefetch, .. } = l2.lookup(7, 0, |_| true) else {
            panic!("expected a hit")
        };
        assert!(first_use_of_prefetch);
        let Probe::Hit { first_use_of_prefetch, .. } = l2.lookup(7, 0, |_| true) else {
            panic!("expected a hit")
        };
        assert!(!first_use_of_prefetch, "counted once");
    }
}
