//! The jump cache: the dispatcher's fast path from an entry pc to compiled
//! code, direct-mapped, without touching the unit table or the code cache.
//!
//! Hits are batched: a slot counts the dispatches it served (`pending`)
//! until the JIT drains them into the code cache's hit counts and the units'
//! execution counts ([`JumpCache::drain`]), which it does before anything
//! reads or changes those (a compile, an invalidation, each slice end).
//!
//! A slot may also hold a unit that has no code yet and is not due for a
//! compile ([`Hit::Interpret`]): the dispatcher then runs it interpreted
//! without looking the unit up, for at most `left` dispatches (until its
//! count could reach the compile threshold).
//!
//! Invariant (kept by the JIT): every entry with code is in the code cache
//! with this `func`; an entry goes when its unit leaves
//! ([`JumpCache::forget`]), and an interpreted entry goes when its unit
//! gets code.
use super::backend::CompiledFn;
use super::{Tier, UnitKey};

/// Slots of the jump cache (a power of two).
pub const SLOTS: usize = 1024;

/// A slot: a compiled unit the dispatcher reached recently.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: UnitKey,
    /// `None`: the unit runs interpreted ([`Hit::Interpret`]), while
    /// `epoch` is the cache's `interpreted_epoch`.
    func: Option<CompiledFn>,
    epoch: u32,
    tier: Tier,
    /// Dispatches served since the last drain.
    pending: u32,
    /// Dispatches it may still serve before the slow path must look again
    /// (the unit's tier-up, or its first compile, may be due then).
    /// Unbounded for a baseline unit whose
    /// optimizing code is compiling: its install replaces the entry, and a
    /// compile that ends without code drops it (`Jit::forget_pending`).
    left: u32,
}

/// What a slot says about a dispatch.
#[derive(Clone, Copy, Debug)]
pub enum Hit {
    /// Run this code.
    Code(CompiledFn, Tier),
    /// Run the unit interpreted: it has no code and is not due for a compile.
    Interpret,
}

/// See the module documentation.
pub struct JumpCache {
    slots: Box<[Option<Entry>]>,
    /// Slots with `pending > 0`.
    dirty: Vec<u16>,
    /// Interpreted entries made in another epoch serve nothing
    /// ([`JumpCache::end_interpreted`]).
    interpreted_epoch: u32,
}

impl Default for JumpCache {
    fn default() -> Self {
        JumpCache {
            slots: vec![None; SLOTS].into_boxed_slice(),
            dirty: Vec::new(),
            interpreted_epoch: 0,
        }
    }
}

fn slot_of(vpc: u64) -> usize {
    ((vpc >> 1) as usize ^ (vpc >> 11) as usize) & (SLOTS - 1)
}

impl JumpCache {
    /// What to run for `key` if its slot holds it and may serve one more
    /// dispatch; the dispatch is counted as pending.
    #[inline(always)]
    pub fn hit(&mut self, key: UnitKey) -> Option<Hit> {
        let slot = slot_of(key.vpc);
        let e = self.slots[slot].as_mut()?;
        if e.key != key || e.left == 0 || (e.func.is_none() && e.epoch != self.interpreted_epoch) {
            return None;
        }
        e.left -= 1;
        if e.pending == 0 {
            self.dirty.push(slot as u16);
        }
        e.pending += 1;
        Some(match e.func {
            Some(func) => Hit::Code(func, e.tier),
            None => Hit::Interpret,
        })
    }

    /// Hand every slot's pending dispatches to `sink(unit, count)`.
    pub fn drain(&mut self, mut sink: impl FnMut(UnitKey, u64)) {
        for &slot in &self.dirty {
            if let Some(e) = self.slots[slot as usize].as_mut() {
                let n = std::mem::take(&mut e.pending);
                if n > 0 {
                    sink(e.key, n as u64);
                }
            }
        }
        self.dirty.clear();
    }

    /// Hand the pending dispatches of the slot `key` maps to (whichever unit
    /// holds it) to `sink`; the slot may stay listed as dirty.
    pub fn drain_slot_of(&mut self, key: UnitKey, sink: impl FnOnce(UnitKey, u64)) {
        if let Some(e) = self.slots[slot_of(key.vpc)].as_mut() {
            let n = std::mem::take(&mut e.pending);
            if n > 0 {
                sink(e.key, n as u64);
            }
        }
    }

    /// Put `key`'s code in its slot, to serve at most `left` dispatches
    /// (none: the slot is emptied).
    pub fn set(&mut self, key: UnitKey, func: CompiledFn, tier: Tier, left: u64) {
        let slot = slot_of(key.vpc);
        debug_assert!(self.slots[slot].is_none_or(|e| e.pending == 0), "drained first");
        self.slots[slot] = (left > 0).then_some(Entry {
            key,
            func: Some(func),
            epoch: 0,
            tier,
            pending: 0,
            left: left.min(u32::MAX as u64) as u32,
        });
    }

    /// Let `key`'s slot send its next `left` dispatches (none: the slot is
    /// emptied) to the interpreter without the slow path.
    pub fn set_interpreted(&mut self, key: UnitKey, left: u64) {
        let slot = slot_of(key.vpc);
        debug_assert!(self.slots[slot].is_none_or(|e| e.pending == 0), "drained first");
        self.slots[slot] = (left > 0).then_some(Entry {
            key,
            func: None,
            epoch: self.interpreted_epoch,
            tier: Tier::Interpreter,
            pending: 0,
            left: left.min(u32::MAX as u64) as u32,
        });
    }

    /// Let no interpreted entry serve another dispatch (their pending
    /// dispatches are still drained): what made the slow path refuse a
    /// compile has changed (a place in the compile queue came free).
    pub fn end_interpreted(&mut self) {
        self.interpreted_epoch = self.interpreted_epoch.wrapping_add(1);
    }

    /// Drop `key`'s entry, if it has one (after a drain).
    pub fn forget(&mut self, key: UnitKey) {
        let slot = slot_of(key.vpc);
        if self.slots[slot].is_some_and(|e| e.key == key) {
            debug_assert_eq!(self.slots[slot].map(|e| e.pending), Some(0), "drained first");
            self.slots[slot] = None;
        }
    }

    /// Empty every slot (after a drain): the next dispatch of each unit
    /// takes the slow path, which sees settings changed since.
    pub fn clear(&mut self) {
        debug_assert!(self.dirty.is_empty(), "drained first");
        self.slots.fill(None);
    }

    /// Host bytes held.
    pub fn bytes(&self) -> u64 {
        (self.slots.len() * std::mem::size_of::<Option<Entry>>() + self.dirty.capacity() * 2) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: UnitKey = UnitKey { vpc: 0x8000_1000, ppc: 0x8000_1000, mode: 3 };

    fn drained(cache: &mut JumpCache) -> Vec<(UnitKey, u64)> {
        let mut seen = Vec::new();
        cache.drain(|k, n| seen.push((k, n)));
        seen
    }

    #[test]
    fn an_interpreted_entry_serves_its_dispatches_and_counts_them() {
        let mut cache = JumpCache::default();
        cache.set_interpreted(KEY, 3);
        for _ in 0..3 {
            assert!(matches!(cache.hit(KEY), Some(Hit::Interpret)));
        }
        assert!(cache.hit(KEY).is_none(), "the slow path sees the 4th dispatch");
        assert_eq!(drained(&mut cache), vec![(KEY, 3)]);
        let other = UnitKey { mode: 0, ..KEY };
        assert!(cache.hit(other).is_none(), "another mode's unit is another unit");
    }

    #[test]
    fn a_new_interpreted_epoch_ends_every_interpreted_entry() {
        let mut cache = JumpCache::default();
        cache.set_interpreted(KEY, 10);
        assert!(matches!(cache.hit(KEY), Some(Hit::Interpret)));
        cache.end_interpreted();
        assert!(cache.hit(KEY).is_none(), "a place in the compile queue came free");
        assert_eq!(drained(&mut cache), vec![(KEY, 1)], "what it served is still counted");
        cache.set_interpreted(KEY, 0);
        assert!(cache.hit(KEY).is_none(), "0 dispatches: no entry");
    }
}
