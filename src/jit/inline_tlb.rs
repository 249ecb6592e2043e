//! The inline TLB: the translations generated code may use without leaving
//! for the interpreter, kept in the state block ([`StateBlock::tlb`]).
//!
//! Safety argument (why a stale or hostile entry cannot break out of guest
//! RAM): generated code adds an entry's addend to the virtual address and
//! then bounds-checks the sum against RAM's length before the access, like
//! every other compiled access; an entry can at worst send an access to the
//! wrong place *inside* RAM. Entries are right, too: each is filled from a
//! translation the MMU just made (with its permission checks and A/D
//! updates) under the hart's current translation epoch, and the whole table
//! is emptied when that epoch moves (satp, privilege, mstatus, sfence.vma).
//! A read tag is set by a load or a store, a write tag only by a store that
//! the MMU allowed (so the page is writable and already dirty).
use super::layout::{StateBlock, TlbEntry};
use crate::mem::{Ram, RecentTranslation};

/// The JIT's side of the inline TLB: which translation epoch the entries in
/// the state block belong to, and counts.
#[derive(Debug)]
pub struct InlineTlb {
    /// Entries in use (`jit.inline_tlb_entries`): the first ones of
    /// [`StateBlock::tlb`].
    entries: usize,
    /// The hart translation epoch of the entries (None before the first
    /// flush). Invariant: every valid entry was filled from a translation
    /// made under this epoch.
    epoch: Option<u64>,
    /// Entries written after interpreted loads and stores.
    pub fills: u64,
    /// Times the table was emptied (the hart's translation changed).
    pub flushes: u64,
    /// Slots filled since the last flush (a slot may be listed twice), or
    /// `None` once more than [`FILLED_LIST_MAX`] were: a flush empties the
    /// listed slots only, or the whole table.
    filled: Option<Vec<u16>>,
}

/// Longest list of filled slots kept; past it a flush empties every slot
/// in use.
const FILLED_LIST_MAX: usize = 512;

impl Default for InlineTlb {
    fn default() -> Self {
        InlineTlb::new(256)
    }
}

impl InlineTlb {
    /// An inline TLB of `entries` (a power of two, at most
    /// `layout::TLB_ENTRIES`); empty until the first [`InlineTlb::sync`].
    pub fn new(entries: usize) -> Self {
        assert!(entries.is_power_of_two() && entries <= super::layout::TLB_ENTRIES);
        InlineTlb { entries, epoch: None, fills: 0, flushes: 0, filled: None }
    }

    /// Empty the table unless its entries belong to the hart's current
    /// translation `epoch`. Call before running compiled code.
    #[inline(always)]
    pub fn sync(&mut self, block: &mut StateBlock, epoch: u64) {
        if self.epoch == Some(epoch) {
            return;
        }
        match (self.epoch.replace(epoch), self.filled.as_mut()) {
            (Some(_), Some(filled)) => {
                for &slot in filled.iter() {
                    block.tlb[slot as usize] = TlbEntry::EMPTY;
                }
                filled.clear();
            }
            _ => {
                block.tlb[..self.entries].fill(TlbEntry::EMPTY);
                self.filled = Some(Vec::with_capacity(FILLED_LIST_MAX));
            }
        }
        self.flushes += 1;
    }

    /// Learn a translation the interpreter made, if it is of the current
    /// `epoch` and lands in RAM. A load makes the entry's read tag valid, a
    /// store both tags (a writable page is readable).
    pub fn fill(&mut self, block: &mut StateBlock, t: RecentTranslation, epoch: u64, ram: &Ram) {
        self.sync(block, epoch);
        if t.epoch != epoch {
            return;
        }
        let Some(page_off) = ram.offset_of(t.paddr & !0xfff, 4096) else { return };
        let vpn = t.vaddr >> 12;
        let slot = StateBlock::tlb_index(vpn, self.entries);
        if let Some(filled) = self.filled.as_mut() {
            if filled.len() < FILLED_LIST_MAX {
                filled.push(slot as u16);
            } else {
                self.filled = None;
            }
        }
        let e = &mut block.tlb[slot];
        if e.read_tag != vpn && e.write_tag != vpn {
            *e = TlbEntry::EMPTY;
        }
        e.addend = (page_off as u64).wrapping_sub(vpn << 12);
        e.read_tag = vpn;
        if t.store {
            e.write_tag = vpn;
        }
        self.fills += 1;
    }
}
