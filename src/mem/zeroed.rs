//! Large zero-filled memory (guest RAM) that costs nothing until the guest
//! touches it.
//!
//! Natively the global allocator's `calloc` maps fresh pages for a block
//! this large, and the OS zero-fills each page at its first touch. On wasm32
//! the allocator (dlmalloc) clears the block with `memset` even when it
//! comes fresh from `memory.grow`, which the wasm spec already zero-fills:
//! that write touches every page, and the browser commits each one. For the
//! default 256 MiB of guest RAM it cost the page's worker 160-200 ms before
//! the first instruction ran (BENCHMARKS.md "Guest RAM without a memset").
//! So on wasm32 a [`ZeroedRegion`] takes fresh memory straight from
//! `memory.grow`, and a dropped region goes to a process-wide free list for
//! the next machine, which clears it then (its pages are committed already:
//! a few milliseconds). Linear memory never shrinks, and the allocator
//! never gives it back either, so the list holds nothing a `free` would
//! have returned.

/// `len` bytes of zeroed memory, 8-byte aligned, freed (natively) or kept
/// for reuse (wasm32) on drop. Its address never changes.
pub struct ZeroedRegion {
    ptr: *mut u8,
    len: usize,
    /// Bytes the region owns (wasm32: whole 64 KiB pages, maybe more than
    /// `len` when a larger free region was reused).
    cap: usize,
}

// SAFETY: the region owns its memory; nothing else frees or reuses it while
// the region lives.
unsafe impl Send for ZeroedRegion {}

impl ZeroedRegion {
    /// `len` zeroed bytes (`len` > 0), or why not (out of memory).
    pub fn new(len: usize) -> Result<ZeroedRegion, String> {
        let len = len.max(1);
        imp::take(len).map(|(ptr, cap)| ZeroedRegion { ptr, len, cap })
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for ZeroedRegion {
    fn drop(&mut self) {
        imp::give_back(self.ptr, self.cap);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::alloc::{alloc_zeroed, dealloc, Layout};

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, 8).expect("a RAM size fits a layout")
    }

    pub(super) fn take(len: usize) -> Result<(*mut u8, usize), String> {
        // SAFETY: the layout's size is non-zero.
        let ptr = unsafe { alloc_zeroed(layout(len)) };
        if ptr.is_null() {
            return Err(format!("cannot allocate {len} bytes"));
        }
        Ok((ptr, len))
    }

    pub(super) fn give_back(ptr: *mut u8, cap: usize) {
        // SAFETY: allocated by `take` with this layout.
        unsafe { dealloc(ptr, layout(cap)) }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::sync::Mutex;

    const WASM_PAGE: usize = 65536;

    /// Regions dropped and free for reuse: (address, bytes).
    static FREE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

    pub(super) fn take(len: usize) -> Result<(*mut u8, usize), String> {
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        // The smallest free region that is large enough.
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, &(_, cap))| cap >= len)
            .min_by_key(|(_, &(_, cap))| cap)
            .map(|(i, _)| i);
        if let Some(i) = best {
            let (addr, cap) = free.swap_remove(i);
            let ptr = addr as *mut u8;
            // SAFETY: the region is this process's, unused since its drop.
            unsafe { std::ptr::write_bytes(ptr, 0, len) };
            return Ok((ptr, cap));
        }
        drop(free);
        let pages = len.div_ceil(WASM_PAGE);
        let old = core::arch::wasm32::memory_grow(0, pages);
        if old == usize::MAX {
            return Err(format!("cannot grow the VM's memory by {len} bytes"));
        }
        // Fresh pages from memory.grow are zero (the wasm spec), and no
        // allocator hands them out: this region owns them.
        Ok(((old * WASM_PAGE) as *mut u8, pages * WASM_PAGE))
    }

    pub(super) fn give_back(ptr: *mut u8, cap: usize) {
        FREE.lock().unwrap_or_else(|e| e.into_inner()).push((ptr as usize, cap));
    }
}

#[cfg(test)]
mod tests {
    use super::ZeroedRegion;

    #[test]
    fn a_region_is_zeroed_and_a_reused_one_too() {
        let a = ZeroedRegion::new(1 << 20).expect("1 MiB");
        // SAFETY: inside the region.
        unsafe {
            assert!(std::slice::from_raw_parts(a.as_ptr(), a.len()).iter().all(|&b| b == 0));
            std::ptr::write_bytes(a.as_ptr(), 0xab, a.len());
        }
        drop(a);
        let b = ZeroedRegion::new(1 << 19).expect("512 KiB");
        // SAFETY: inside the region.
        let bytes = unsafe { std::slice::from_raw_parts(b.as_ptr(), b.len()) };
        assert!(bytes.iter().all(|&x| x == 0));
        assert_eq!(b.as_ptr() as usize % 8, 0);
    }
}
