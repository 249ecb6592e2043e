//! TLB organisations used by `UnifiedMmu`.
//!
//! - [`multilevel`]: a private L1 (fully associative, LRU, with a fast-path
//!   copy per access kind) backed by a set-associative L2 (LRU per set) —
//!   `MmuOptimizationStrategy::MultiLevel`.
//! - [`concurrent`]: one TLB split into independently locked shards, each
//!   fully associative with CLOCK replacement — `MmuOptimizationStrategy::Concurrent`.
//!
//! What every organisation caches is a [`TlbEntry`]: the translation of one
//! **4 KiB page**. A superpage (2 MiB, 1 GiB) is cached as the 4 KiB pieces
//! that were touched, each remembering the superpage's level so that an
//! `SFENCE.VMA` of any address inside the superpage removes all of its pieces.
//! This keeps lookups a single exact-VPN compare, at the price of more entries
//! for code that roams a large superpage.
//!
//! Architecture invariant: a TLB never decides a fault. It returns an entry;
//! `mmu` checks the entry's permissions on every hit (so a changed privilege,
//! SUM or MXR is honoured) and walks on a miss.
pub mod concurrent;
pub mod multilevel;

use super::sv39::PTE_G;

/// VPN value of an empty slot (real Sv39 VPNs have 27 bits).
pub const INVALID_VPN: u64 = u64::MAX;

/// One cached translation of a 4 KiB page.
///
/// Tag: `vpn` + `asid`, where a global entry (`flags & G`) matches every ASID.
/// Data: `ppn` and the PTE bits. 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    /// 27-bit Sv39 virtual page number, or [`INVALID_VPN`].
    pub vpn: u64,
    /// Physical page number of this 4 KiB page.
    pub ppn: u64,
    /// satp.ASID at fill time (ignored for matching when G is set).
    pub asid: u16,
    /// Leaf PTE bits 7:0: V R W X U G A D (G is the effective global bit).
    pub flags: u8,
    /// Size of the mapping the piece belongs to: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
    pub level: u8,
    /// Inserted by the prefetcher and not used yet (cleared on its first hit).
    pub prefetched: bool,
}

impl TlbEntry {
    pub const EMPTY: TlbEntry =
        TlbEntry { vpn: INVALID_VPN, ppn: 0, asid: 0, flags: 0, level: 0, prefetched: false };

    /// Does this entry translate page `vpn` in address space `asid`?
    #[inline(always)]
    pub fn matches(&self, vpn: u64, asid: u16) -> bool {
        self.vpn == vpn && (self.asid == asid || self.flags & PTE_G != 0)
    }

    #[inline(always)]
    pub fn is_global(&self) -> bool {
        self.flags & PTE_G != 0
    }

    /// Should `SFENCE.VMA vaddr, asid` remove this entry? Priv spec 4.2.1:
    /// - no address: every page; with an address: the leaf page *containing*
    ///   it, so every 4 KiB piece of a superpage (compared at the entry's level);
    /// - no ASID: every address space, global entries included; with an ASID:
    ///   only non-global entries of that ASID ("...except for entries
    ///   containing global mappings").
    pub fn flushed_by(&self, vpn: Option<u64>, asid: Option<u16>) -> bool {
        if self.vpn == INVALID_VPN {
            return false;
        }
        let page_ok = match vpn {
            None => true,
            Some(v) => {
                let shift = 9 * self.level as u32;
                (self.vpn >> shift) == (v >> shift)
            }
        };
        let asid_ok = match asid {
            None => true,
            Some(a) => !self.is_global() && self.asid == a,
        };
        page_ok && asid_ok
    }
}

/// Result of probing one TLB level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A matching entry that the caller accepted (permissions passed).
    Hit {
        entry: TlbEntry,
        /// The entry came from the prefetcher and this is its first use.
        first_use_of_prefetch: bool,
    },
    /// A matching entry the caller refused (permission or missing D bit):
    /// counts as a miss, the caller walks.
    Refused,
    Miss,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::sv39::{PTE_A, PTE_R, PTE_V};

    fn entry(vpn: u64, asid: u16, global: bool, level: u8) -> TlbEntry {
        let g = if global { PTE_G } else { 0 };
        TlbEntry { vpn, ppn: 1, asid, flags: PTE_V | PTE_R | PTE_A | g, level, prefetched: false }
    }

    #[test]
    fn sfence_combinations() {
        let local = entry(0x123, 7, false, 0);
        let global = entry(0x123, 7, true, 0);
        // rs1 = x0, rs2 = x0: everything.
        assert!(local.flushed_by(None, None) && global.flushed_by(None, None));
        // rs1 = x0, rs2 = asid: that ASID's non-global entries.
        assert!(local.flushed_by(None, Some(7)));
        assert!(!local.flushed_by(None, Some(8)));
        assert!(!global.flushed_by(None, Some(7)));
        // rs1 = va, rs2 = x0: that page, global included.
        assert!(local.flushed_by(Some(0x123), None) && global.flushed_by(Some(0x123), None));
        assert!(!local.flushed_by(Some(0x124), None));
        // rs1 = va, rs2 = asid.
        assert!(local.flushed_by(Some(0x123), Some(7)));
        assert!(!global.flushed_by(Some(0x123), Some(7)));
    }

    #[test]
    fn sfence_of_superpage_hits_every_piece() {
        let piece = entry(0x200 + 5, 1, false, 1); // a piece of the 2 MiB page at VPN 0x200
        assert!(piece.flushed_by(Some(0x200 + 0x1FF), None));
        assert!(!piece.flushed_by(Some(0x400), None));
        assert!(!TlbEntry::EMPTY.flushed_by(None, None));
    }
}
