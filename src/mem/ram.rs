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

/// Physical address where RAM starts (the `virt` machine layout).
pub const RAM_BASE: u64 = 0x8000_0000;

/// Page flag: decoded or translated code from this page is cached; a store
/// must invalidate it (and leaves the JIT's inline fast path).
pub const PAGE_CODE: u8 = 1;
/// Page flag: stores to this page are device commands (the HTIF `tohost`
/// page); they always leave the JIT's inline fast path.
pub const PAGE_DEVICE: u8 = 2;

/// Which cache of code drains [`Ram::drain_invalidated`]'s list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeConsumer {
    /// The interpreter's decode cache.
    DecodeCache = 0,
    /// The JIT's translation units.
    Jit = 1,
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
    Own { _words: Box<[u64]>, _flags: Box<[u8]> },
    External(#[allow(dead_code)] Box<dyn std::any::Any + Send>),
}

/// Guest RAM: `len` bytes at `base`, and one flag byte per page at `flags`
/// ([`PAGE_CODE`], [`PAGE_DEVICE`]).
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
    code_epoch: u64,
    /// Per consumer: pages (RAM offset / 4096) whose code was invalidated
    /// since its last [`Ram::drain_invalidated`]. Bounded: a list longer
    /// than [`MAX_INVALIDATED`] collapses to "every page" (`u32::MAX`), so a
    /// consumer that drains rarely (or never: the JIT's list when the JIT is
    /// off) holds no more than that.
    invalidated: [Vec<u32>; 2],
    /// Pages that may carry [`PAGE_CODE`] (a superset: a page unmarked by a
    /// store stays listed until the next compaction), so that fence.i clears
    /// only those marks instead of every page's flag byte.
    marked: Vec<u32>,
    /// `marked.len()` after the last compaction.
    marked_compacted: usize,
}

/// Longest invalidation list kept per consumer (see `Ram::invalidated`).
const MAX_INVALIDATED: usize = 4096;

// SAFETY: `Ram` owns (through `_backing`, which is Send) the memory its
// pointers address; moving it to another thread moves that ownership.
unsafe impl Send for Ram {}

impl Ram {
    /// RAM of `len` bytes (rounded up to a multiple of 4 KiB), zero-filled.
    pub fn new(len: usize) -> Self {
        let len = len.div_ceil(4096) * 4096;
        let mut words = vec![0u64; len / 8].into_boxed_slice();
        let mut flags = vec![0u8; len / 4096].into_boxed_slice();
        Ram {
            base: words.as_mut_ptr() as *mut u8,
            len,
            flags: flags.as_mut_ptr(),
            _backing: Backing::Own { _words: words, _flags: flags },
            code_epoch: 0,
            invalidated: [Vec::new(), Vec::new()],
            marked: Vec::new(),
            marked_compacted: 0,
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
        Ram {
            base: ext.bytes,
            len,
            flags: ext.page_flags,
            _backing: Backing::External(ext.owner),
            code_epoch: 0,
            invalidated: [Vec::new(), Vec::new()],
            marked: Vec::new(),
            marked_compacted: 0,
        }
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

    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        // SAFETY: the struct invariant.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }

    #[inline(always)]
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and we hold `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.len) }
    }

    /// The whole RAM as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
    }

    /// Read `size` (1, 2, 4 or 8) bytes at `off`, zero-extended. Panics if out of
    /// range: callers check with [`Ram::offset_of`] first.
    #[inline(always)]
    pub fn read(&self, off: usize, size: u64) -> u64 {
        let b = &self.bytes()[off..off + size as usize];
        match size {
            1 => b[0] as u64,
            2 => u16::from_le_bytes([b[0], b[1]]) as u64,
            4 => u32::from_le_bytes(b.try_into().unwrap()) as u64,
            8 => u64::from_le_bytes(b.try_into().unwrap()),
            _ => unreachable!("access size {size}"),
        }
    }

    /// Write the low `size` bytes of `val` at `off`, invalidating cached code
    /// on that page if there is any. Returns true if code was invalidated.
    #[inline(always)]
    pub fn write(&mut self, off: usize, size: u64, val: u64) -> bool {
        let b = &mut self.bytes_mut()[off..off + size as usize];
        match size {
            1 => b[0] = val as u8,
            2 => b.copy_from_slice(&(val as u16).to_le_bytes()),
            4 => b.copy_from_slice(&(val as u32).to_le_bytes()),
            8 => b.copy_from_slice(&val.to_le_bytes()),
            _ => unreachable!("access size {size}"),
        }
        self.note_write(off, size as usize)
    }

    /// Copy `data` into RAM at `off` (used by the loader and by tests).
    pub fn write_bytes(&mut self, off: usize, data: &[u8]) {
        self.bytes_mut()[off..off + data.len()].copy_from_slice(data);
        self.note_write(off, data.len());
    }

    #[inline(always)]
    fn page_flags(&self) -> &[u8] {
        // SAFETY: the struct invariant.
        unsafe { std::slice::from_raw_parts(self.flags, self.len / 4096) }
    }

    #[inline(always)]
    fn page_flags_mut(&mut self) -> &mut [u8] {
        // SAFETY: the struct invariant, and we hold `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.flags, self.len / 4096) }
    }

    #[inline(always)]
    fn note_write(&mut self, off: usize, size: usize) -> bool {
        if size == 0 {
            return false;
        }
        let first = off / 4096;
        let last = (off + size - 1) / 4096;
        let mut hit = false;
        for page in first..=last {
            if self.page_flags()[page] & PAGE_CODE != 0 {
                self.invalidate_page(page);
                hit = true;
            }
        }
        hit
    }

    #[cold]
    fn invalidate_page(&mut self, page: usize) {
        self.page_flags_mut()[page] &= !PAGE_CODE;
        self.code_epoch += 1;
        for list in &mut self.invalidated {
            if list.len() >= MAX_INVALIDATED {
                list.clear();
                list.push(u32::MAX);
            } else if list.last() != Some(&u32::MAX) {
                list.push(page as u32);
            }
        }
    }

    /// Mark the page holding RAM offset `off` as holding cached code.
    pub fn mark_code_page(&mut self, off: usize) {
        let page = off / 4096;
        if self.page_flags()[page] & PAGE_CODE != 0 {
            return;
        }
        self.page_flags_mut()[page] |= PAGE_CODE;
        if self.marked.len() > 2 * self.marked_compacted + 64 {
            let flags = self.flags;
            // SAFETY: the struct invariant; every listed page is < len/4096.
            self.marked.retain(|&p| unsafe { *flags.add(p as usize) } & PAGE_CODE != 0);
            self.marked_compacted = self.marked.len();
        }
        self.marked.push(page as u32);
    }

    /// Host bytes of RAM's own bookkeeping beyond the guest's bytes and
    /// flags (the lists above).
    pub fn bookkeeping_bytes(&self) -> u64 {
        let lists: usize = self.invalidated.iter().map(Vec::capacity).sum();
        ((lists + self.marked.capacity()) * 4) as u64
    }

    /// Mark the page holding RAM offset `off` as device memory for stores
    /// (see [`PAGE_DEVICE`]). The mark stays.
    pub fn mark_device_page(&mut self, off: usize) {
        self.page_flags_mut()[off / 4096] |= PAGE_DEVICE;
    }

    /// Changes whenever a store hits a page marked with [`Ram::mark_code_page`].
    #[inline(always)]
    pub fn code_epoch(&self) -> u64 {
        self.code_epoch
    }

    /// Pages whose cached code was invalidated since `consumer`'s last call;
    /// the page number `u32::MAX` means "every page" (see
    /// [`Ram::invalidate_code`]).
    ///
    /// The list moves into `into` (cleared first), whose buffer RAM keeps
    /// for the next invalidations: no allocation per call, which matters to
    /// a guest that runs fence.i in a loop.
    pub fn drain_invalidated(&mut self, consumer: CodeConsumer, into: &mut Vec<u32>) {
        into.clear();
        std::mem::swap(&mut self.invalidated[consumer as usize], into);
    }

    /// Forget all code-page marks and bump the epoch (fence.i, reset).
    /// Costs the number of pages marked since the last call, not RAM's size:
    /// a guest may run fence.i in a tight loop.
    pub fn invalidate_code(&mut self) {
        if self.marked.is_empty() {
            // No page is marked, so no cache holds code to drop.
            return;
        }
        let marked = std::mem::take(&mut self.marked);
        for &p in &marked {
            self.page_flags_mut()[p as usize] &= !PAGE_CODE;
        }
        self.marked = marked;
        self.marked.clear();
        self.marked_compacted = 0;
        self.code_epoch += 1;
        for list in &mut self.invalidated {
            list.clear();
            list.push(u32::MAX);
        }
    }
}
