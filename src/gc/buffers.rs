//! Allocation buffers: while a marker (thread or worker) shares the
//! collector's lock with the mutator, every `gc.alloc` that takes the lock
//! may wait for a marker step. So an allocation that takes the lock also
//! reserves a run of free slots of its size class (up to
//! [`RUN_BYTES`] worth, from one word of one block's slot bitmap), and the
//! next allocations of that class are handed out from the run without the
//! lock: one lock per run instead of one per object. (The same idea as the
//! thread-local allocation buffers of HotSpot or Go's per-P `mcache`.)
//!
//! Invariants:
//! - A reserved slot is allocated in the heap's bitmap from the moment it is
//!   reserved (so no one else takes it, and heap use counts it), and it is
//!   marked in every cycle that starts while it is reserved (a cycle start
//!   marks [`AllocBuffers::reservations`]; reservations made while marking
//!   are marked when made): a slot handed out later is thus never swept
//!   under the object it becomes, which is born black as every allocation
//!   during marking is.
//! - A reserved slot is zeroed when it is reserved, so a rescan of its page
//!   before it is handed out finds nothing in it.
//! - Only the mutator touches the buffers (one thread: `gc.*` instructions
//!   run on the worker of the machine's harts), under their own lock, taken
//!   before the collector's.
//! - Buffers are used only while a marker runs (`UnifiedGC::buffered`);
//!   when it stops (the page's marker worker died), the runs go back to
//!   the heap.
//! - Counts of allocations handed out without the lock are `pending` until
//!   the next time the lock is taken, when the collector adds them to its
//!   figures and its safepoint pacing.

use super::heap::{class_of, CLASSES};
use super::FLAG_NO_POINTERS;
#[cfg(test)]
use crate::mem::RAM_BASE;

/// The most bytes one run reserves: small enough that a class's unused
/// run costs little heap, large enough that binary-tree nodes (16 bytes)
/// take the lock once per 32 allocations.
pub const RUN_BYTES: u32 = 512;

/// Free-to-hand-out slots: bits of word `word` of block `block`'s bitmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub block: u32,
    pub word: usize,
    pub mask: u64,
}

pub struct AllocBuffers {
    /// Physical address of the heap's block 0.
    pub base: u64,
    /// Per (class, atomic), as the heap's lists are indexed.
    runs: Vec<Option<Run>>,
    /// Allocations and bytes handed out since the collector last counted.
    pub pending_allocs: u64,
    pub pending_bytes: u64,
}

/// The list index of a small class, as `heap` numbers them.
pub fn list_index(class: u8, atomic: bool) -> usize {
    class as usize * 2 + atomic as usize
}

/// Slots of `class` one run reserves at most.
pub fn run_slots(class: u8) -> u32 {
    (RUN_BYTES / CLASSES[class as usize]).clamp(1, 64)
}

impl AllocBuffers {
    pub fn new() -> Self {
        AllocBuffers {
            base: 0,
            runs: vec![None; CLASSES.len() * 2],
            pending_allocs: 0,
            pending_bytes: 0,
        }
    }

    /// Hand out an object of `size` bytes with `flags` from a run (zeroed
    /// when the run was reserved), or None (a large object,
    /// bad flags, or no run left: the caller takes the lock).
    pub fn take(&mut self, size: u64, flags: u64) -> Option<u64> {
        if flags & !FLAG_NO_POINTERS != 0 {
            return None;
        }
        let class = class_of(size)?;
        let run = self.runs[list_index(class, flags & FLAG_NO_POINTERS != 0)].as_mut()?;
        let slot = run.word * 64 + run.mask.trailing_zeros() as usize;
        run.mask &= run.mask - 1;
        let (block, empty) = (run.block, run.mask == 0);
        if empty {
            self.runs[list_index(class, flags & FLAG_NO_POINTERS != 0)] = None;
        }
        let sz = CLASSES[class as usize] as u64;
        let addr = self.base + block as u64 * super::BLOCK + slot as u64 * sz;
        self.pending_allocs += 1;
        self.pending_bytes += sz;
        Some(addr)
    }

    /// Keep `run` for allocations of `class`/`atomic` (the list had none).
    pub fn put(&mut self, class: u8, atomic: bool, run: Run) {
        let li = list_index(class, atomic);
        debug_assert!(self.runs[li].is_none());
        if run.mask != 0 {
            self.runs[li] = Some(run);
        }
    }

    pub fn has_run(&self, class: u8, atomic: bool) -> bool {
        self.runs[list_index(class, atomic)].is_some()
    }

    /// Every slot reserved and not handed out yet.
    pub fn reservations(&self) -> impl Iterator<Item = Run> + '_ {
        self.runs.iter().flatten().copied()
    }

    /// Objects and bytes reserved and not handed out.
    pub fn outstanding(&self) -> (u64, u64) {
        self.runs.iter().enumerate().fold((0, 0), |(n, b), (li, r)| match r {
            Some(r) => {
                let k = r.mask.count_ones() as u64;
                (n + k, b + k * CLASSES[li / 2] as u64)
            }
            None => (n, b),
        })
    }

    /// Take every run back out of the buffers: (class, run) pairs.
    pub fn drain(&mut self) -> Vec<(u8, Run)> {
        self.runs
            .iter_mut()
            .enumerate()
            .filter_map(|(li, r)| r.take().map(|r| ((li / 2) as u8, r)))
            .collect()
    }

    /// The pending counts, reset.
    pub fn take_pending(&mut self) -> (u64, u64) {
        let p = (self.pending_allocs, self.pending_bytes);
        self.pending_allocs = 0;
        self.pending_bytes = 0;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_hands_out_its_slots_lowest_first_then_is_gone() {
        let mut b = AllocBuffers::new();
        b.base = RAM_BASE + 0x1000;
        assert_eq!(b.take(16, 0), None, "no run");
        b.put(0, false, Run { block: 2, word: 1, mask: 0b1010 });
        assert_eq!(b.outstanding(), (2, 32));
        assert_eq!(b.take(16, FLAG_NO_POINTERS), None, "the atomic list has no run");
        assert_eq!(b.take(16, 4), None, "bad flags go to the collector");
        let slot_addr = |slot: u64| RAM_BASE + 0x1000 + 2 * 4096 + slot * 16;
        assert_eq!(b.take(9, 0), Some(slot_addr(65)));
        assert_eq!(b.take(16, 0), Some(slot_addr(67)));
        assert_eq!(b.take(16, 0), None);
        assert_eq!(b.take_pending(), (2, 32));
        assert_eq!(run_slots(0), 32);
        assert_eq!(run_slots(17), 1);
    }
}
