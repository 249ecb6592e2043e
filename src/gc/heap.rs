//! The heap's blocks: 4 KiB blocks of guest RAM, each holding objects of one
//! size class (or one piece of a large object), with allocation and mark
//! bits kept on the host side (the guest never sees a header). Free blocks
//! are reused before the heap bumps into blocks it never used.
//!
//! Invariants: `blocks.len()` is the number of blocks ever used (the bump
//! pointer); a block's `alloc` bits are set only for slots below its
//! class's object count; `used_bytes` is the sum of allocated slots' sizes
//! (whole blocks for large objects).

/// Block size: one RAM page, so the write barrier's page is a block.
pub const BLOCK: u64 = 4096;

/// Object sizes of the small classes (multiples of 16); larger objects take
/// whole blocks.
pub const CLASSES: [u32; 18] =
    [16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 680, 1024, 1360, 2048];

/// Bits per block (objects of the smallest class in a block).
const SLOTS: usize = (BLOCK / 16) as usize;
pub const WORDS: usize = SLOTS / 64;

/// What a block holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Free,
    /// Objects of `CLASSES[class]` bytes; `atomic`: never scanned for pointers.
    Small {
        class: u8,
        atomic: bool,
    },
    /// The first block of a large object of `blocks` blocks.
    Large {
        blocks: u32,
        atomic: bool,
    },
    /// A later block of the large object starting at block `head`.
    Tail {
        head: u32,
    },
}

#[derive(Clone, Debug)]
pub struct Block {
    pub kind: Kind,
    pub alloc: [u64; WORDS],
    pub mark: [u64; WORDS],
    /// Marked in a finished cycle but not swept yet.
    pub unswept: bool,
}

impl Block {
    fn free() -> Self {
        Block { kind: Kind::Free, alloc: [0; WORDS], mark: [0; WORDS], unswept: false }
    }
}

/// An object found by [`Heap::find`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obj {
    pub addr: u64,
    pub size: u64,
    pub block: u32,
    pub slot: u32,
    pub atomic: bool,
}

pub fn get(bits: &[u64; WORDS], i: usize) -> bool {
    bits[i / 64] >> (i % 64) & 1 != 0
}

pub fn set(bits: &mut [u64; WORDS], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// Objects of class `class` in one block.
pub fn slots(class: u8) -> usize {
    (BLOCK / CLASSES[class as usize] as u64) as usize
}

/// The class for `size` bytes, or None for a large object.
pub fn class_of(size: u64) -> Option<u8> {
    let size = size.max(1);
    CLASSES.iter().position(|&c| c as u64 >= size).map(|c| c as u8)
}

pub struct Heap {
    /// Physical address of block 0.
    pub base: u64,
    /// Blocks the heap may use.
    pub limit: usize,
    pub blocks: Vec<Block>,
    /// Free blocks below the bump pointer.
    free: Vec<u32>,
    /// Per (class, atomic): blocks with free slots, and the one in use.
    pub partial: Vec<Vec<u32>>,
    pub current: Vec<Option<u32>>,
    pub used_bytes: u64,
    pub objects: u64,
}

fn list_index(class: u8, atomic: bool) -> usize {
    class as usize * 2 + atomic as usize
}

impl Heap {
    pub fn new(base: u64, limit: usize) -> Self {
        Heap {
            base,
            limit,
            blocks: Vec::new(),
            free: Vec::new(),
            partial: vec![Vec::new(); CLASSES.len() * 2],
            current: vec![None; CLASSES.len() * 2],
            used_bytes: 0,
            objects: 0,
        }
    }

    pub fn block_addr(&self, b: u32) -> u64 {
        self.base + b as u64 * BLOCK
    }

    /// Bytes of RAM the heap has used so far (its high-water mark).
    pub fn committed_bytes(&self) -> u64 {
        self.blocks.len() as u64 * BLOCK
    }

    pub fn size_bytes(&self) -> u64 {
        self.limit as u64 * BLOCK
    }

    /// A block for new use: a free one, else a never-used one.
    fn take_block(&mut self) -> Option<u32> {
        if let Some(b) = self.free.pop() {
            return Some(b);
        }
        if self.blocks.len() < self.limit {
            self.blocks.push(Block::free());
            return Some(self.blocks.len() as u32 - 1);
        }
        None
    }

    /// Make block `b` free and reusable.
    pub fn release(&mut self, b: u32) {
        self.blocks[b as usize] = Block::free();
        self.free.push(b);
    }

    /// Put a swept small block where the allocator will find its free slots.
    pub fn file_partial(&mut self, b: u32) {
        if let Kind::Small { class, atomic } = self.blocks[b as usize].kind {
            self.partial[list_index(class, atomic)].push(b);
        }
    }

    /// Forget every partial list and current block (before a sweep: every
    /// block will be filed again once swept).
    pub fn forget_lists(&mut self) {
        self.partial.iter_mut().for_each(Vec::clear);
        self.current.iter_mut().for_each(|c| *c = None);
    }

    /// Allocate a slot of `class`: returns (block, slot) or None when no
    /// block is left. `take_new` says whether a fresh block was taken (the
    /// caller arms its barrier while marking runs).
    pub fn alloc_small(&mut self, class: u8, atomic: bool) -> Option<(u32, usize, bool)> {
        let li = list_index(class, atomic);
        let n = slots(class);
        let mut fresh = false;
        loop {
            if let Some(b) = self.current[li] {
                let blk = &mut self.blocks[b as usize];
                for w in 0..n.div_ceil(64) {
                    let free = !blk.alloc[w];
                    if free != 0 {
                        let slot = w * 64 + free.trailing_zeros() as usize;
                        if slot < n {
                            set(&mut blk.alloc, slot);
                            self.used_bytes += CLASSES[class as usize] as u64;
                            self.objects += 1;
                            return Some((b, slot, fresh));
                        }
                    }
                }
                self.current[li] = None;
            }
            if let Some(b) = self.partial[li].pop() {
                self.current[li] = Some(b);
                continue;
            }
            let b = self.take_block()?;
            let blk = &mut self.blocks[b as usize];
            blk.kind = Kind::Small { class, atomic };
            self.current[li] = Some(b);
            fresh = true;
        }
    }

    /// Reserve up to `max` more free slots of small block `b` (of class
    /// `class`), all in one word of its slot bitmap: returns the word and
    /// the slots' bits, counted as allocated from now on. None when the
    /// block is full.
    pub fn reserve(&mut self, b: u32, class: u8, max: u32) -> Option<(usize, u64)> {
        let n = slots(class);
        let blk = &mut self.blocks[b as usize];
        for w in 0..n.div_ceil(64) {
            let valid = if (w + 1) * 64 <= n { u64::MAX } else { (1u64 << (n % 64)) - 1 };
            let mut free = !blk.alloc[w] & valid;
            if free == 0 {
                continue;
            }
            let mut mask = 0u64;
            for _ in 0..max {
                if free == 0 {
                    break;
                }
                let bit = free & free.wrapping_neg();
                mask |= bit;
                free &= !bit;
            }
            blk.alloc[w] |= mask;
            let k = mask.count_ones() as u64;
            self.used_bytes += k * CLASSES[class as usize] as u64;
            self.objects += k;
            return Some((w, mask));
        }
        None
    }

    /// The object size of small block `b` (0 for any other block).
    pub fn object_size(&self, b: u32) -> u64 {
        match self.blocks[b as usize].kind {
            Kind::Small { class, .. } => CLASSES[class as usize] as u64,
            _ => 0,
        }
    }

    /// Give back reserved slots `mask` of word `word` of block `b` that were
    /// never handed out (their mark bits go too).
    pub fn unreserve(&mut self, b: u32, class: u8, word: usize, mask: u64) {
        let blk = &mut self.blocks[b as usize];
        debug_assert_eq!(blk.alloc[word] & mask, mask, "only reserved slots come back");
        blk.alloc[word] &= !mask;
        blk.mark[word] &= !mask;
        let k = mask.count_ones() as u64;
        self.used_bytes -= k * CLASSES[class as usize] as u64;
        self.objects -= k;
    }

    /// Allocate `n` contiguous blocks for a large object: returns its first
    /// block, or None.
    pub fn alloc_large(&mut self, n: usize, atomic: bool) -> Option<u32> {
        let start = self.find_run(n)?;
        for i in 0..n {
            let b = start + i;
            if b >= self.blocks.len() {
                self.blocks.push(Block::free());
            } else {
                self.free.retain(|&f| f as usize != b);
            }
            self.blocks[b].kind = if i == 0 {
                Kind::Large { blocks: n as u32, atomic }
            } else {
                Kind::Tail { head: start as u32 }
            };
        }
        set(&mut self.blocks[start].alloc, 0);
        self.used_bytes += n as u64 * BLOCK;
        self.objects += 1;
        Some(start as u32)
    }

    /// First block of `n` free blocks in a row (free ones below the bump
    /// pointer, continuing past it when there is room).
    fn find_run(&self, n: usize) -> Option<usize> {
        let mut run = 0;
        for (i, b) in self.blocks.iter().enumerate() {
            if b.kind == Kind::Free && !b.unswept {
                run += 1;
                if run == n {
                    return Some(i + 1 - n);
                }
            } else {
                run = 0;
            }
        }
        let start = self.blocks.len() - run;
        (start + n <= self.limit).then_some(start)
    }

    /// The allocated object containing physical address `addr`, if any
    /// (interior pointers count, as in the Boehm collector's default).
    #[inline]
    pub fn find(&self, addr: u64) -> Option<Obj> {
        let off = addr.wrapping_sub(self.base);
        let b = (off / BLOCK) as usize;
        if b >= self.blocks.len() {
            return None;
        }
        let blk = &self.blocks[b];
        match blk.kind {
            Kind::Free => None,
            Kind::Small { class, atomic } => {
                let size = CLASSES[class as usize] as u64;
                let slot = ((off % BLOCK) / size) as usize;
                (slot < slots(class) && get(&blk.alloc, slot)).then(|| Obj {
                    addr: self.block_addr(b as u32) + slot as u64 * size,
                    size,
                    block: b as u32,
                    slot: slot as u32,
                    atomic,
                })
            }
            Kind::Large { blocks, atomic } => get(&blk.alloc, 0).then(|| Obj {
                addr: self.block_addr(b as u32),
                size: blocks as u64 * BLOCK,
                block: b as u32,
                slot: 0,
                atomic,
            }),
            Kind::Tail { head } => self.find(self.block_addr(head)),
        }
    }

    /// Host bytes of the heap's tables.
    pub fn table_bytes(&self) -> u64 {
        (self.blocks.capacity() * std::mem::size_of::<Block>()
            + (self.free.capacity() + self.partial.iter().map(Vec::capacity).sum::<usize>()) * 4)
            as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_sizes_and_slots_fit_the_bitmap() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(17), Some(1));
        assert_eq!(class_of(2048), Some(17));
        assert_eq!(class_of(2049), None);
        assert!(slots(0) <= SLOTS);
    }

    #[test]
    fn find_accepts_interior_pointers_of_allocated_objects_only() {
        let mut h = Heap::new(0x9000_0000, 16);
        let (b, s, fresh) = h.alloc_small(1, false).unwrap(); // 32-byte objects
        assert!(fresh);
        let addr = h.block_addr(b) + s as u64 * 32;
        assert_eq!(h.find(addr + 31).map(|o| o.addr), Some(addr));
        assert_eq!(h.find(addr + 32), None, "the next slot is not allocated");
        let big = h.alloc_large(3, false).unwrap();
        let a = h.block_addr(big);
        assert_eq!(h.find(a + 2 * BLOCK + 8).map(|o| (o.addr, o.size)), Some((a, 3 * BLOCK)));
        assert_eq!(h.used_bytes, 32 + 3 * BLOCK);
    }

    #[test]
    fn a_reserved_run_counts_as_used_until_it_is_given_back() {
        let mut h = Heap::new(0x9000_0000, 4);
        let (b, s, _) = h.alloc_small(0, false).unwrap(); // 16-byte objects
        let (word, mask) = h.reserve(b, 0, 32).unwrap();
        assert_eq!(mask.count_ones(), 32);
        assert_eq!(h.blocks[b as usize].alloc[word] & mask, mask, "allocated in the bitmap");
        assert_eq!(mask & (1 << s), 0, "not the slot already taken");
        assert_eq!((h.objects, h.used_bytes), (33, 33 * 16));
        // The next allocation skips the reserved slots.
        let (_, next, _) = h.alloc_small(0, false).unwrap();
        assert!(next >= 33, "slot {next} was reserved");
        h.unreserve(b, 0, word, mask);
        assert_eq!((h.objects, h.used_bytes), (2, 2 * 16));
        assert_eq!(h.blocks[b as usize].alloc[word] & mask, 0);
        // A block with no free slot has nothing to reserve.
        let mut full = Heap::new(0x9000_0000, 1);
        let (fb, _, _) = full.alloc_small(17, true).unwrap(); // 2 slots of 2048
        assert_eq!(full.reserve(fb, 17, 1).map(|(_, m)| m.count_ones()), Some(1));
        assert_eq!(full.reserve(fb, 17, 1), None);
    }

    #[test]
    fn large_objects_reuse_runs_of_free_blocks() {
        let mut h = Heap::new(0x9000_0000, 4);
        let a = h.alloc_large(2, true).unwrap();
        assert!(h.alloc_large(3, true).is_none(), "only 2 blocks left");
        h.release(a);
        h.release(a + 1);
        assert_eq!(h.alloc_large(4, true), Some(0));
    }
}
