//! Guest physical RAM: one contiguous little-endian byte region at
//! [`RAM_BASE`]. It is a plain allocation inside the host's address space (on
//! wasm32: inside the VM's linear memory), so later generated code and Web
//! Workers can address the same bytes.
//!
//! Invariant: every accessor checks `offset + size <= len`; no access can reach
//! outside the allocation whatever the guest does.

/// Physical address where RAM starts (the `virt` machine layout).
pub const RAM_BASE: u64 = 0x8000_0000;

/// Guest RAM. Storage is `u64` words so the base is 8-byte aligned.
pub struct Ram {
    words: Box<[u64]>,
    len: usize,
    /// One bit per 4 KiB page: set while decoded or translated code from the
    /// page is cached. A store into such a page must invalidate that code.
    code_pages: Box<[u64]>,
    /// Bumped whenever a code page is written; caches of decoded code compare it.
    code_epoch: u64,
    /// Pages (RAM offset / 4096) whose code was invalidated since the last
    /// [`Ram::drain_invalidated`].
    invalidated: Vec<u32>,
}

impl Ram {
    /// RAM of `len` bytes (rounded up to a multiple of 4 KiB), zero-filled.
    pub fn new(len: usize) -> Self {
        let len = len.div_ceil(4096) * 4096;
        let pages = len / 4096;
        Ram {
            words: vec![0u64; len / 8].into_boxed_slice(),
            len,
            code_pages: vec![0u64; pages.div_ceil(64)].into_boxed_slice(),
            code_epoch: 0,
            invalidated: Vec::new(),
        }
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
        // SAFETY: `words` is `len` bytes of plain integers; u8 has no alignment.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }

    #[inline(always)]
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and we hold `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, self.len) }
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
    fn note_write(&mut self, off: usize, size: usize) -> bool {
        if size == 0 {
            return false;
        }
        let first = off / 4096;
        let last = (off + size - 1) / 4096;
        let mut hit = false;
        for page in first..=last {
            if self.code_pages[page / 64] & (1 << (page % 64)) != 0 {
                self.invalidate_page(page);
                hit = true;
            }
        }
        hit
    }

    #[cold]
    fn invalidate_page(&mut self, page: usize) {
        self.code_pages[page / 64] &= !(1 << (page % 64));
        self.code_epoch += 1;
        self.invalidated.push(page as u32);
    }

    /// Mark the page holding RAM offset `off` as holding cached code.
    pub fn mark_code_page(&mut self, off: usize) {
        let page = off / 4096;
        self.code_pages[page / 64] |= 1 << (page % 64);
    }

    /// Changes whenever a store hits a page marked with [`Ram::mark_code_page`].
    #[inline(always)]
    pub fn code_epoch(&self) -> u64 {
        self.code_epoch
    }

    /// Pages whose cached code was invalidated since the last call; the page
    /// number `u32::MAX` means "every page" (see [`Ram::invalidate_code`]).
    pub fn drain_invalidated(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.invalidated)
    }

    /// Forget all code-page marks and bump the epoch (fence.i, reset).
    pub fn invalidate_code(&mut self) {
        self.code_pages.iter_mut().for_each(|w| *w = 0);
        self.code_epoch += 1;
        self.invalidated.clear();
        self.invalidated.push(u32::MAX);
    }
}
