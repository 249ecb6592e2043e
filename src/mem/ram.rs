//! Guest physical RAM: one contiguous little-endian byte region at
//! [`RAM_BASE`]. It is a plain allocation inside the host's address space (on
//! wasm32: inside the VM's linear memory), so later generated code and Web
//! Workers can address the same bytes.
//!
//! Beside the bytes, RAM keeps one flag byte per 4 KiB page (code cached
//! from it; device page) that generated code reads too.
//!
//! Invariant: every accessor checks `offset + size <= len`; no access can reach
//! outside the allocation whatever the guest does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Physical address where RAM starts (the `virt` machine layout).
pub const RAM_BASE: u64 = 0x8000_0000;

/// Page flag: decoded or translated code from this page is cached; a store
/// must invalidate it (and leaves the JIT's inline fast path).
pub const PAGE_CODE: u8 = 1;
/// Page flag: stores to this page are device commands (the HTIF `tohost`
/// page); they always leave the JIT's inline fast path.
pub const PAGE_DEVICE: u8 = 2;
/// Page flag: a GC heap page while the collector marks; the first store
/// records the page in the GC's dirty cards and clears the flag (see
/// `mem::barrier`). Stores leave the JIT's inline fast path while it is set.
pub const PAGE_BARRIER: u8 = 4;

/// Which cache of code drains [`Ram::drain_invalidated`]'s list: every
/// hart has a decode cache and (with the JIT on) compiled units of its own,
/// so each (hart, cache) pair has its own list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeConsumer {
    pub hart: usize,
    pub kind: CodeCache,
}

/// The two caches of code a hart keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCache {
    /// The interpreter's decode cache.
    DecodeCache = 0,
    /// The JIT's translation units.
    Jit = 1,
}

impl CodeConsumer {
    pub fn decode_cache(hart: usize) -> Self {
        CodeConsumer { hart, kind: CodeCache::DecodeCache }
    }
    pub fn jit(hart: usize) -> Self {
        CodeConsumer { hart, kind: CodeCache::Jit }
    }
    fn index(self) -> usize {
        self.hart * 2 + self.kind as usize
    }
}

/// Host memory that guest RAM and its page flags live in, when it is not
/// RAM's own allocation (the native JIT puts both inside the wasm engine's
/// memory so generated code reaches them).
pub struct ExternalRam {
    /// Start of `len` bytes of zeroed, 8-byte aligned memory for RAM.
    pub bytes: *mut u8,
    /// Start of one zeroed byte per 4 KiB page of RAM.
    pub page_flags: *mut u8,
    /// Keeps the memory alive (and pinned: it must never move) while the
    /// `Ram` lives.
    pub owner: Box<dyn std::any::Any + Send>,
}

enum Backing {
    Own { _bytes: super::ZeroedRegion, _flags: Box<[u8]> },
    External(#[allow(dead_code)] Box<dyn std::any::Any + Send>),
}

/// Guest RAM: `len` bytes at `base`, and one flag byte per page at `flags`
/// ([`PAGE_CODE`], [`PAGE_DEVICE`]).
///
/// RAM is shared by every hart, and with `runtime.pool_size` > 1 harts run
/// on several host threads at once, so every accessor takes `&self`:
/// natively the bytes and flags are read and written as relaxed atomics
/// (plain moves on the host, but defined under Rust's memory model when
/// threads race, as guest programs may); on wasm32 plain loads and stores
/// are used (see `cell`), also in the threads build where harts run on
/// several Web Workers. Read-modify-writes (AMOs, SC, A/D bits) are
/// compare-exchanges, atomic between harts (wasm atomics in the threads
/// build).
///
/// Invariant: `base..base+len` and `flags..flags+len/4096` stay valid and
/// never move while the `Ram` lives (`backing` owns them), and nothing but
/// this `Ram` (and generated code, which bounds its accesses the same way)
/// writes them.
pub struct Ram {
    base: *mut u8,
    len: usize,
    flags: *mut u8,
    _backing: Backing,
    /// Bumped whenever a code page is written; caches of decoded code compare it.
    code_epoch: AtomicU64,
    /// Who must hear about written code, and which pages carry marks.
    book: Mutex<CodeBook>,
    /// Where stores to [`PAGE_BARRIER`] pages are recorded (set once, by
    /// the GC, when the machine is built).
    cards: std::sync::OnceLock<std::sync::Arc<super::barrier::DirtyCards>>,
}

/// RAM's bookkeeping of cached code, behind one lock: it changes only when
/// code is cached or a page holding code is written (rare next to loads
/// and stores, which check the page's flag byte without the lock).
struct CodeBook {
    /// Per consumer ([`CodeConsumer::index`]): pages (RAM offset / 4096)
    /// whose code was invalidated since its last [`Ram::drain_invalidated`].
    /// Bounded: a list longer than [`MAX_INVALIDATED`] collapses to "every
    /// page" (`u32::MAX`), so a consumer that drains rarely (or never: the
    /// JIT's list when the JIT is off) holds no more than that.
    invalidated: Vec<Vec<u32>>,
    /// Pages that may carry [`PAGE_CODE`] (a superset: a page unmarked by a
    /// store stays listed until the next compaction), so that fence.i clears
    /// only those marks instead of every page's flag byte.
    marked: Vec<u32>,
    /// `marked.len()` after the last compaction.
    marked_compacted: usize,
}

/// Longest invalidation list kept per consumer (see `CodeBook::invalidated`).
const MAX_INVALIDATED: usize = 4096;

// SAFETY: `Ram` owns (through `_backing`, which is Send) the memory its
// pointers address; moving it to another thread moves that ownership.
unsafe impl Send for Ram {}
// SAFETY: shared access goes through atomics natively and for
// read-modify-writes in the threads build (see the type's documentation),
// and through the `book` lock.
unsafe impl Sync for Ram {}

/// Raw access to one naturally aligned value (1, 2, 4 or 8 bytes) or a
/// byte: relaxed atomics natively, plain loads and stores on wasm32 (wasm's
/// atomic loads and stores are sequentially consistent, an `xchg` per store
/// in V8 on x86-64: far dearer than natively's relaxed moves, and wasm's
/// plain accesses to shared memory are defined, never torn when aligned,
/// like generated code's). Read-modify-writes are atomic natively and in
/// the threads build, whose harts may run on several workers at once.
mod cell {
    #[cfg(not(target_arch = "wasm32"))]
    use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

    /// # Safety
    /// `p` is valid for `size` bytes and aligned to `size`.
    #[inline(always)]
    pub unsafe fn load(p: *const u8, size: u64) -> u64 {
        #[cfg(not(target_arch = "wasm32"))]
        unsafe {
            match size {
                1 => (*(p as *const AtomicU8)).load(Relaxed) as u64,
                2 => (*(p as *const AtomicU16)).load(Relaxed) as u64,
                4 => (*(p as *const AtomicU32)).load(Relaxed) as u64,
                8 => (*(p as *const AtomicU64)).load(Relaxed),
                _ => unreachable!("access size {size}"),
            }
        }
        #[cfg(target_arch = "wasm32")]
        unsafe {
            match size {
                1 => *p as u64,
                2 => (p as *const u16).read() as u64,
                4 => (p as *const u32).read() as u64,
                8 => (p as *const u64).read(),
                _ => unreachable!("access size {size}"),
            }
        }
    }

    /// # Safety
    /// As [`load`].
    #[inline(always)]
    pub unsafe fn store(p: *mut u8, size: u64, val: u64) {
        #[cfg(not(target_arch = "wasm32"))]
        unsafe {
            match size {
                1 => (*(p as *const AtomicU8)).store(val as u8, Relaxed),
                2 => (*(p as *const AtomicU16)).store(val as u16, Relaxed),
                4 => (*(p as *const AtomicU32)).store(val as u32, Relaxed),
                8 => (*(p as *const AtomicU64)).store(val, Relaxed),
                _ => unreachable!("access size {size}"),
            }
        }
        #[cfg(target_arch = "wasm32")]
        unsafe {
            match size {
                1 => *p = val as u8,
                2 => (p as *mut u16).write(val as u16),
                4 => (p as *mut u32).write(val as u32),
                8 => (p as *mut u64).write(val),
                _ => unreachable!("access size {size}"),
            }
        }
    }

    /// Set (`or`) or clear (`and`) bits of the byte at `p`, atomically
    /// between threads natively; returns the byte before.
    ///
    /// # Safety
    /// `p` is valid for one byte.
    #[inline(always)]
    pub unsafe fn update_byte(p: *mut u8, or: u8, and: u8) -> u8 {
        #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
        unsafe {
            let a = &*(p as *const std::sync::atomic::AtomicU8);
            if or != 0 {
                a.fetch_or(or, std::sync::atomic::Ordering::SeqCst)
            } else {
                a.fetch_and(and, std::sync::atomic::Ordering::SeqCst)
            }
        }
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        unsafe {
            let old = *p;
            *p = if or != 0 { old | or } else { old & and };
            old
        }
    }

    /// [`update_byte`] for the eight bytes at `p` at once.
    ///
    /// # Safety
    /// `p` is valid for eight bytes and 8-aligned.
    #[inline(always)]
    pub unsafe fn update_word(p: *mut u8, or: u64, and: u64) {
        #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
        unsafe {
            let a = &*(p as *const std::sync::atomic::AtomicU64);
            if or != 0 {
                a.fetch_or(or, std::sync::atomic::Ordering::SeqCst);
            } else {
                a.fetch_and(and, std::sync::atomic::Ordering::SeqCst);
            }
        }
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        unsafe {
            let w = p as *mut u64;
            *w = if or != 0 { *w | or } else { *w & and };
        }
    }

    /// Replace the 4- or 8-byte value at `p` with `new` if it is `expected`
    /// (atomically between threads); returns the value found.
    ///
    /// # Safety
    /// As [`load`].
    #[inline(always)]
    pub unsafe fn compare_exchange(p: *mut u8, size: u64, expected: u64, new: u64) -> u64 {
        #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
        unsafe {
            use std::sync::atomic::Ordering::SeqCst;
            match size {
                4 => match (*(p as *const std::sync::atomic::AtomicU32)).compare_exchange(
                    expected as u32,
                    new as u32,
                    SeqCst,
                    SeqCst,
                ) {
                    Ok(v) | Err(v) => v as u64,
                },
                8 => match (*(p as *const std::sync::atomic::AtomicU64))
                    .compare_exchange(expected, new, SeqCst, SeqCst)
                {
                    Ok(v) | Err(v) => v,
                },
                _ => unreachable!("atomic size {size}"),
            }
        }
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        unsafe {
            let found = load(p, size);
            if found == expected {
                store(p, size, new);
            }
            found
        }
    }
}

/// A read-only view of RAM's bytes for a thread that cannot borrow the
/// `Ram` (the GC's marker thread): word loads, bounds-checked like every
/// accessor.
///
/// Invariant: valid only while the `Ram` it came from lives; its holder
/// must be stopped before that `Ram` is dropped (the GC, which owns the
/// marker thread, is dropped first: see `Bus`).
#[derive(Clone, Copy)]
pub struct RamView {
    base: *const u8,
    len: usize,
    flags: *mut u8,
}

// SAFETY: a view only loads, through relaxed atomics natively (see `Ram`);
// the type's invariant keeps the memory alive.
unsafe impl Send for RamView {}
// SAFETY: as above.
unsafe impl Sync for RamView {}

impl RamView {
    /// The aligned 8-byte word at RAM offset `off`, or None outside RAM.
    #[inline(always)]
    pub fn word(&self, off: u64) -> Option<u64> {
        if off.is_multiple_of(8) && off.checked_add(8)? <= self.len as u64 {
            // SAFETY: inside RAM (checked) and aligned; the invariant keeps it alive.
            Some(unsafe { cell::load(self.base.add(off as usize), 8) })
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Set [`PAGE_BARRIER`] on RAM page `page` (the GC re-arming a page it
    /// is about to rescan). Out-of-RAM pages are ignored.
    pub fn arm_barrier(&self, page: usize) {
        if page < self.len / 4096 {
            // SAFETY: inside the flag bytes (checked); the invariant keeps them alive.
            unsafe { cell::update_byte(self.flags.add(page), PAGE_BARRIER, 0) };
        }
    }
}

impl Ram {
    /// A view of RAM's bytes for the GC's marker thread (see [`RamView`]).
    pub fn view(&self) -> RamView {
        RamView { base: self.base, len: self.len, flags: self.flags }
    }

    /// RAM of `len` bytes (rounded up to a multiple of 4 KiB), zero-filled.
    pub fn new(len: usize) -> Self {
        let len = len.div_ceil(4096) * 4096;
        // See `ZeroedRegion`: untouched until the guest uses it, also in
        // the browser.
        let bytes = super::ZeroedRegion::new(len)
            .unwrap_or_else(|e| panic!("guest RAM of {len} bytes: {e}"));
        let mut flags = vec![0u8; len / 4096].into_boxed_slice();
        let (base, flags_ptr) = (bytes.as_ptr(), flags.as_mut_ptr());
        Self::build(base, len, flags_ptr, Backing::Own { _bytes: bytes, _flags: flags })
    }

    fn build(base: *mut u8, len: usize, flags: *mut u8, backing: Backing) -> Self {
        Ram {
            base,
            len,
            flags,
            _backing: backing,
            code_epoch: AtomicU64::new(0),
            book: Mutex::new(CodeBook {
                invalidated: vec![Vec::new(), Vec::new()],
                marked: Vec::new(),
                marked_compacted: 0,
            }),
            cards: std::sync::OnceLock::new(),
        }
    }

    /// RAM of `len` bytes (a multiple of 4 KiB) inside memory someone else
    /// allocated; see [`ExternalRam`] for what it must guarantee.
    ///
    /// # Safety
    /// `ext.bytes` must point at `len` writable bytes and `ext.page_flags` at
    /// `len / 4096` writable bytes, both zeroed, 8-byte aligned (bytes),
    /// kept alive and unmoved by `ext.owner`.
    pub unsafe fn from_external(len: usize, ext: ExternalRam) -> Self {
        assert!(len.is_multiple_of(4096) && (ext.bytes as usize).is_multiple_of(8));
        Self::build(ext.bytes, len, ext.page_flags, Backing::External(ext.owner))
    }

    /// Keep invalidation lists for `harts` harts (each has a decode cache
    /// and compiled code of its own). Harts beyond the count hear nothing.
    pub fn set_harts(&mut self, harts: usize) {
        let book = self.book.get_mut().unwrap_or_else(|e| e.into_inner());
        book.invalidated.resize_with(2 * harts.max(1), Vec::new);
    }

    fn book(&self) -> std::sync::MutexGuard<'_, CodeBook> {
        // A panic while holding the lock leaves consistent lists (every
        // change is a push or a clear), so a poisoned lock is still usable.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Host address of RAM's first byte (physical [`RAM_BASE`]).
    pub fn host_base(&self) -> *mut u8 {
        self.base
    }

    /// Host address of the page-flag bytes.
    pub fn host_page_flags(&self) -> *mut u8 {
        self.flags
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset into RAM of the physical range `paddr..paddr+size`, if it lies
    /// wholly inside RAM.
    #[inline(always)]
    pub fn offset_of(&self, paddr: u64, size: u64) -> Option<usize> {
        let off = paddr.wrapping_sub(RAM_BASE);
        if off < self.len as u64 && size <= self.len as u64 - off {
            Some(off as usize)
        } else {
            None
        }
    }

    /// The whole RAM as bytes. Only while no hart runs (tests, tools):
    /// harts on other threads may be writing it otherwise.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the struct invariant.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }

    /// Read `size` (1, 2, 4 or 8) bytes at `off`, zero-extended. Panics if out of
    /// range: callers check with [`Ram::offset_of`] first.
    #[inline(always)]
    pub fn read(&self, off: usize, size: u64) -> u64 {
        assert!(off + size as usize <= self.len, "RAM read outside RAM");
        if off.is_multiple_of(size as usize) {
            // SAFETY: inside RAM (checked) and aligned (base is 8-aligned).
            unsafe { cell::load(self.base.add(off), size) }
        } else {
            (0..size as usize).fold(0, |v, i| {
                // SAFETY: inside RAM (checked above).
                v | unsafe { cell::load(self.base.add(off + i), 1) } << (8 * i)
            })
        }
    }

    /// Write the low `size` bytes of `val` at `off`, invalidating cached code
    /// on that page if there is any. Returns true if code was invalidated.
    #[inline(always)]
    pub fn write(&self, off: usize, size: u64, val: u64) -> bool {
        assert!(off + size as usize <= self.len, "RAM write outside RAM");
        if off.is_multiple_of(size as usize) {
            // SAFETY: inside RAM (checked) and aligned (base is 8-aligned).
            unsafe { cell::store(self.base.add(off), size, val) }
        } else {
            for i in 0..size as usize {
                // SAFETY: inside RAM (checked above).
                unsafe { cell::store(self.base.add(off + i), 1, val >> (8 * i)) }
            }
        }
        self.note_write(off, size as usize)
    }

    /// Atomically replace the naturally aligned 4- or 8-byte value at `off`
    /// by `update(old)` and return `old` (AMOs: a compare-exchange loop, so
    /// every operation, min and max included, is one atomic step between
    /// harts). Invalidates cached code on the page like [`Ram::write`];
    /// the second value says whether it did.
    #[inline]
    pub fn fetch_update(&self, off: usize, size: u64, update: impl Fn(u64) -> u64) -> (u64, bool) {
        assert!(off + size as usize <= self.len && off.is_multiple_of(size as usize));
        // SAFETY: inside RAM and aligned (checked above).
        let p = unsafe { self.base.add(off) };
        let mut old = unsafe { cell::load(p, size) };
        loop {
            // SAFETY: as above.
            let found = unsafe { cell::compare_exchange(p, size, old, update(old)) };
            if found == old {
                return (old, self.note_write(off, size as usize));
            }
            old = found;
        }
    }

    /// Store `new` at the naturally aligned 4- or 8-byte `off` if it still
    /// holds `expected` (SC after LR), atomically between harts. Returns
    /// (stored, code invalidated).
    #[inline]
    pub fn compare_exchange(&self, off: usize, size: u64, expected: u64, new: u64) -> (bool, bool) {
        assert!(off + size as usize <= self.len && off.is_multiple_of(size as usize));
        // SAFETY: inside RAM and aligned (checked above).
        let found = unsafe { cell::compare_exchange(self.base.add(off), size, expected, new) };
        if found == expected {
            (true, self.note_write(off, size as usize))
        } else {
            (false, false)
        }
    }

    /// Copy `data` into RAM at `off` (used by the loader and by tests).
    pub fn write_bytes(&self, off: usize, data: &[u8]) {
        assert!(off + data.len() <= self.len, "RAM write outside RAM");
        for (i, &b) in data.iter().enumerate() {
            // SAFETY: inside RAM (checked above).
            unsafe { cell::store(self.base.add(off + i), 1, b as u64) }
        }
        self.note_write(off, data.len());
    }

    #[inline(always)]
    fn flag(&self, page: usize) -> u8 {
        debug_assert!(page < self.len / 4096);
        // SAFETY: the struct invariant; callers pass pages inside RAM.
        unsafe { cell::load(self.flags.add(page), 1) as u8 }
    }

    /// Set `bits` in a page's flag byte (atomically between threads, so
    /// that the GC's marker thread and the harts never lose each other's
    /// bits); returns the byte before.
    #[inline(always)]
    fn or_flag(&self, page: usize, bits: u8) -> u8 {
        assert!(page < self.len / 4096);
        // SAFETY: the struct invariant; page checked above.
        unsafe { cell::update_byte(self.flags.add(page), bits, 0) }
    }

    /// Clear `bits` in a page's flag byte, as [`Ram::or_flag`].
    #[inline(always)]
    fn clear_flag(&self, page: usize, bits: u8) -> u8 {
        assert!(page < self.len / 4096);
        // SAFETY: the struct invariant; page checked above.
        unsafe { cell::update_byte(self.flags.add(page), 0, !bits) }
    }

    #[inline(always)]
    fn note_write(&self, off: usize, size: usize) -> bool {
        if size == 0 {
            return false;
        }
        let first = off / 4096;
        let last = (off + size - 1) / 4096;
        let mut hit = false;
        for page in first..=last {
            let flag = self.flag(page);
            if flag & (PAGE_CODE | PAGE_BARRIER) != 0 {
                if flag & PAGE_BARRIER != 0 {
                    self.barrier_hit(page);
                }
                if flag & PAGE_CODE != 0 {
                    self.invalidate_page(page);
                    hit = true;
                }
            }
        }
        hit
    }

    /// The write barrier's slow path: the first store into a flagged page
    /// since the collector armed it.
    #[cold]
    fn barrier_hit(&self, page: usize) {
        if self.clear_flag(page, PAGE_BARRIER) & PAGE_BARRIER == 0 {
            return; // another hart (or the marker) got here first
        }
        if let Some(cards) = self.cards.get() {
            cards.record(page as u32);
        }
    }

    /// Where barrier hits go (the GC's cards). Set once per RAM.
    pub fn set_barrier_cards(&self, cards: std::sync::Arc<super::barrier::DirtyCards>) {
        let _ = self.cards.set(cards);
    }

    /// Set or clear [`PAGE_BARRIER`] on `count` pages from `first` (RAM
    /// offset / 4096). Flag bits change atomically, so this needs no lock;
    /// eight pages' flags at a time where they fill an aligned word (a GC
    /// cycle arms every heap page: 65 536 of them at 256 MiB, 0.22-0.27 ms
    /// natively one byte at a time).
    pub fn set_barrier(&self, first: usize, count: usize, on: bool) {
        let end = first + count;
        assert!(end <= self.len / 4096, "barrier pages outside RAM");
        let one = |page: usize| {
            if on {
                self.or_flag(page, PAGE_BARRIER);
            } else if self.flag(page) & PAGE_BARRIER != 0 {
                self.clear_flag(page, PAGE_BARRIER);
            }
        };
        let mut page = first;
        while page < end && !(self.flags as usize + page).is_multiple_of(8) {
            one(page);
            page += 1;
        }
        let bits = u64::from_ne_bytes([PAGE_BARRIER; 8]);
        while page + 8 <= end {
            // SAFETY: eight flag bytes inside RAM's flags (checked above),
            // 8-aligned (the loop above).
            unsafe {
                if on {
                    cell::update_word(self.flags.add(page), bits, !0);
                } else {
                    cell::update_word(self.flags.add(page), 0, !bits);
                }
            }
            page += 8;
        }
        while page < end {
            one(page);
            page += 1;
        }
    }

    /// Pages from `first` that still carry [`PAGE_BARRIER`] (for tests).
    pub fn barrier_pages(&self, first: usize, count: usize) -> usize {
        (first..first + count).filter(|&p| self.flag(p) & PAGE_BARRIER != 0).count()
    }

    /// Fill `len` bytes at `off` with `byte` on behalf of the VM itself
    /// (the GC zeroing or poisoning objects): invalidates cached code like
    /// a store, but is not a guest store, so the write barrier does not
    /// see it.
    pub fn fill(&self, off: usize, len: usize, byte: u8) {
        assert!(off + len <= self.len, "RAM fill outside RAM");
        let word = u64::from_ne_bytes([byte; 8]);
        let mut i = 0;
        while i < len {
            let at = off + i;
            if at.is_multiple_of(8) && len - i >= 8 {
                // SAFETY: inside RAM (checked above), aligned.
                unsafe { cell::store(self.base.add(at), 8, word) }
                i += 8;
            } else {
                // SAFETY: inside RAM (checked above).
                unsafe { cell::store(self.base.add(at), 1, byte as u64) }
                i += 1;
            }
        }
        if len > 0 {
            for page in off / 4096..=(off + len - 1) / 4096 {
                if self.flag(page) & PAGE_CODE != 0 {
                    self.invalidate_page(page);
                }
            }
        }
    }

    #[cold]
    fn invalidate_page(&self, page: usize) {
        let mut book = self.book();
        self.clear_flag(page, PAGE_CODE);
        self.code_epoch.fetch_add(1, Ordering::SeqCst);
        for list in &mut book.invalidated {
            if list.len() >= MAX_INVALIDATED {
                list.clear();
                list.push(u32::MAX);
            } else if list.last() != Some(&u32::MAX) {
                list.push(page as u32);
            }
        }
    }

    /// Mark the page holding RAM offset `off` as holding cached code.
    ///
    /// Call it *before* reading the code to cache: a store by another hart
    /// that lands after the mark is seen as a code write (and reaches every
    /// consumer's list); one that lands before is in the bytes read.
    pub fn mark_code_page(&self, off: usize) {
        let page = off / 4096;
        if self.flag(page) & PAGE_CODE != 0 {
            return;
        }
        let mut book = self.book();
        self.or_flag(page, PAGE_CODE);
        if book.marked.len() > 2 * book.marked_compacted + 64 {
            let flags = self.flags;
            // SAFETY: the struct invariant; every listed page is < len/4096.
            book.marked.retain(
                |&p| unsafe { cell::load(flags.add(p as usize), 1) } as u8 & PAGE_CODE != 0,
            );
            book.marked_compacted = book.marked.len();
        }
        book.marked.push(page as u32);
    }

    /// Host bytes of RAM's own bookkeeping beyond the guest's bytes and
    /// flags (the lists above).
    pub fn bookkeeping_bytes(&self) -> u64 {
        let book = self.book();
        let lists: usize = book.invalidated.iter().map(Vec::capacity).sum();
        ((lists + book.marked.capacity()) * 4) as u64
    }

    /// Mark the page holding RAM offset `off` as device memory for stores
    /// (see [`PAGE_DEVICE`]). The mark stays.
    pub fn mark_device_page(&self, off: usize) {
        let _book = self.book();
        self.or_flag(off / 4096, PAGE_DEVICE);
    }

    /// Changes whenever a store hits a page marked with [`Ram::mark_code_page`].
    #[inline(always)]
    pub fn code_epoch(&self) -> u64 {
        self.code_epoch.load(Ordering::Acquire)
    }

    /// Pages whose cached code was invalidated since `consumer`'s last call;
    /// the page number `u32::MAX` means "every page" (see
    /// [`Ram::invalidate_code`]).
    ///
    /// The list moves into `into` (cleared first), whose buffer RAM keeps
    /// for the next invalidations: no allocation per call, which matters to
    /// a guest that runs fence.i in a loop.
    pub fn drain_invalidated(&self, consumer: CodeConsumer, into: &mut Vec<u32>) {
        into.clear();
        let mut book = self.book();
        if let Some(list) = book.invalidated.get_mut(consumer.index()) {
            std::mem::swap(list, into);
        }
    }

    /// Forget all code-page marks and bump the epoch (fence.i, reset): every
    /// hart's caches drop all their code at their next look. Costs the
    /// number of pages marked since the last call, not RAM's size: a guest
    /// may run fence.i in a tight loop.
    pub fn invalidate_code(&self) {
        let mut book = self.book();
        if book.marked.is_empty() {
            // No page is marked, so no cache holds code to drop.
            return;
        }
        let marked = std::mem::take(&mut book.marked);
        for &p in &marked {
            self.clear_flag(p as usize, PAGE_CODE);
        }
        book.marked = marked;
        book.marked.clear();
        book.marked_compacted = 0;
        self.code_epoch.fetch_add(1, Ordering::SeqCst);
        for list in &mut book.invalidated {
            list.clear();
            list.push(u32::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arming and disarming touch exactly the pages asked for, at any
    /// alignment and length (the word-wide middle and the byte-wide ends),
    /// and leave the other flag bits alone.
    #[test]
    fn the_barrier_covers_exactly_its_pages_and_keeps_other_flags() {
        let ram = Ram::new(64 * 4096);
        for page in [0, 3, 9, 17, 40, 63] {
            ram.mark_code_page(page * 4096);
        }
        for (first, count) in [(0, 64), (1, 7), (3, 9), (5, 30), (8, 8), (9, 0), (63, 1)] {
            ram.set_barrier(first, count, true);
            for p in 0..64 {
                let want = p >= first && p < first + count;
                assert_eq!(ram.flag(p) & PAGE_BARRIER != 0, want, "on({first}, {count}): page {p}");
            }
            ram.set_barrier(first, count, false);
            assert_eq!(ram.barrier_pages(0, 64), 0, "off({first}, {count})");
            for p in 0..64 {
                let code = [0, 3, 9, 17, 40, 63].contains(&p);
                assert_eq!(ram.flag(p) & PAGE_CODE != 0, code, "({first}, {count}): page {p}");
            }
        }
    }
}
