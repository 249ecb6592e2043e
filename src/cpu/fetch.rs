//! Instruction fetch: a cache of decoded instructions per physical RAM page,
//! and a one-page fetch window that skips translation while the pc stays on
//! the same virtual page.
//!
//! Invariants:
//! - A page is in the decode cache only while RAM has it marked as a code
//!   page; a store to it clears the mark and bumps RAM's code epoch, and the
//!   next fetch drops the page from the cache (self-modifying code, fence.i).
//! - The fetch window is dropped whenever translation may change (privilege,
//!   satp, mstatus, sfence.vma, traps): it only caches the translation of one
//!   virtual page that was checked for execute permission.
use rustc_hash::FxHashMap;

use crate::isa::Inst;
use crate::mem::Ram;

/// A decoded instruction; `len == 0` marks a slot not decoded yet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoded {
    pub inst: Inst,
    pub len: u8,
}

const EMPTY: Decoded = Decoded { inst: Inst::Illegal { raw: 0 }, len: 0 };
/// Instruction slots per 4 KiB page (one per halfword).
const SLOTS: usize = 2048;

/// The current fetch page: virtual page number, its decode-cache slot and a
/// pointer to that slot's decoded instructions.
///
/// Invariant: `page` points at `DecodeCache::pages[slot]` while `vpn !=
/// u64::MAX`. Page boxes never move and a slot is only reused by
/// `slot_for`, which runs in a refill that replaces the window; any store that
/// invalidates code empties the window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FetchWindow {
    pub vpn: u64,
    pub slot: u32,
    /// RAM offset of the page's first byte.
    pub ram_off: usize,
    pub page: *const Decoded,
}

// SAFETY: `page` points into the `DecodeCache` of the same `Hart` (boxed
// pages, which move with it); the window is only read by that hart, on
// whichever thread runs it.
unsafe impl Send for FetchWindow {}

impl FetchWindow {
    pub fn empty() -> Self {
        FetchWindow { vpn: u64::MAX, slot: 0, ram_off: 0, page: std::ptr::null() }
    }

    /// The decoded slot `index` (0..2048) of the window's page.
    #[inline(always)]
    pub fn get(&self, index: usize) -> Decoded {
        debug_assert!(index < SLOTS && !self.page.is_null());
        // SAFETY: see the struct invariant; index < SLOTS by construction
        // (it is (pc & 0xfff) >> 1).
        unsafe { *self.page.add(index) }
    }
}

/// Decoded instructions of the RAM pages that code was fetched from, at
/// most `max_pages` of them (`memory.decode_cache_pages`).
///
/// Invariant: `owner[slot]` is the RAM page whose instructions `pages[slot]`
/// holds (`by_ram_page` maps it back), or `FREE` for a slot on the free list.
pub(crate) struct DecodeCache {
    pages: Vec<Box<[Decoded; SLOTS]>>,
    /// Per slot: the indices decoded since the page was last emptied, up to
    /// [`MAX_FILLED`] (beyond it the whole page is emptied), so reusing a
    /// page costs what was decoded on it, not 24 KiB of stores (fence.i and
    /// self-modifying code empty pages all the time).
    filled: Vec<Vec<u16>>,
    owner: Vec<u32>,
    by_ram_page: FxHashMap<u32, u32>,
    free: Vec<u32>,
    /// Pages (slots) the cache may allocate.
    max_pages: usize,
    /// Next slot to evict when the cache is full (round robin: cheap, and a
    /// guest cannot make it thrash worse than its working set forces).
    hand: usize,
    /// Pages dropped to make room.
    evictions: u64,
    /// RAM's code epoch when invalidations were last applied.
    epoch: u64,
    /// Buffer for the pages RAM reports invalidated (reused).
    invalidated: Vec<u32>,
}

const FREE: u32 = u32::MAX;
/// Longest `filled` list kept per page.
const MAX_FILLED: usize = 256;

impl DecodeCache {
    /// Default bound: 1024 pages (4 MiB of guest code; about 24 MiB of host
    /// memory at 12 bytes per decoded halfword slot).
    pub const DEFAULT_MAX_PAGES: usize = 1024;

    pub fn new() -> Self {
        DecodeCache {
            pages: Vec::new(),
            filled: Vec::new(),
            owner: Vec::new(),
            by_ram_page: FxHashMap::default(),
            free: Vec::new(),
            max_pages: Self::DEFAULT_MAX_PAGES,
            hand: 0,
            evictions: 0,
            epoch: 0,
            invalidated: Vec::new(),
        }
    }

    /// Bound the cache to `max_pages` pages (at least 1). Call before the
    /// first fetch.
    pub fn set_max_pages(&mut self, max_pages: usize) {
        self.max_pages = max_pages.max(1);
    }

    /// Pages dropped to make room for others.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Drop pages whose code RAM invalidated since the last call.
    pub fn apply_invalidations(&mut self, ram: &Ram, hart: usize) {
        if ram.code_epoch() == self.epoch {
            return;
        }
        self.epoch = ram.code_epoch();
        let mut pages = std::mem::take(&mut self.invalidated);
        ram.drain_invalidated(crate::mem::CodeConsumer::decode_cache(hart), &mut pages);
        for &page in &pages {
            if page == u32::MAX {
                for (_, slot) in self.by_ram_page.drain() {
                    self.owner[slot as usize] = FREE;
                    self.free.push(slot);
                }
            } else if let Some(slot) = self.by_ram_page.remove(&page) {
                self.owner[slot as usize] = FREE;
                self.free.push(slot);
            }
        }
        self.invalidated = pages;
    }

    /// The slot for RAM page `page`, created empty if needed. Marks the page
    /// as code in RAM.
    pub fn slot_for(&mut self, ram: &Ram, page: u32) -> u32 {
        if let Some(&slot) = self.by_ram_page.get(&page) {
            return slot;
        }
        ram.mark_code_page(page as usize * 4096);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.empty_slot(slot as usize);
                slot
            }
            None if self.pages.len() < self.max_pages => {
                self.pages.push(Box::new([EMPTY; SLOTS]));
                self.filled.push(Vec::new());
                self.owner.push(FREE);
                (self.pages.len() - 1) as u32
            }
            None => {
                // Full: evict the page under the hand. Its RAM mark stays;
                // a later store there only bumps the epoch.
                let slot = self.hand % self.pages.len();
                self.hand = slot + 1;
                self.by_ram_page.remove(&self.owner[slot]);
                self.evictions += 1;
                self.empty_slot(slot);
                slot as u32
            }
        };
        self.owner[slot as usize] = page;
        self.by_ram_page.insert(page, slot);
        slot
    }

    /// Forget every decoded instruction of page slot `slot`.
    fn empty_slot(&mut self, slot: usize) {
        let filled = &mut self.filled[slot];
        if filled.len() >= MAX_FILLED {
            self.pages[slot].fill(EMPTY);
        } else {
            for &i in filled.iter() {
                self.pages[slot][i as usize] = EMPTY;
            }
        }
        filled.clear();
    }

    /// Host bytes held: the decoded pages and the maps that find them.
    pub fn bytes(&self) -> u64 {
        let pages = self.pages.len() * std::mem::size_of::<[Decoded; SLOTS]>();
        let filled: usize = self.filled.iter().map(|f| f.capacity() * 2).sum();
        let maps = filled
            + self.by_ram_page.capacity() * 12
            + (self.owner.capacity() + self.free.capacity()) * 4
            + self.pages.capacity() * std::mem::size_of::<usize>();
        (pages + maps) as u64
    }

    pub fn page_ptr(&self, slot: u32) -> *const Decoded {
        self.pages[slot as usize].as_ptr()
    }

    pub fn set(&mut self, slot: u32, index: usize, d: Decoded) {
        let page = &mut self.pages[slot as usize];
        let filled = &mut self.filled[slot as usize];
        if page[index].len == 0 && filled.len() < MAX_FILLED {
            filled.push(index as u16);
        }
        page[index] = d;
    }
}
