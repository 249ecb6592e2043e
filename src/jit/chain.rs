//! Chaining: compiled units that go straight to each other.
//!
//! An optimizing unit that ends at a pc (a branch or jump out of its region,
//! a return, any normal exit) looks that pc up in the chain table, a
//! direct-mapped array in the hart's state block (`layout::ChainSlot`), and
//! if the slot holds a unit for that pc with the right tag it tail-calls it
//! (`return_call_indirect`) with the budget it has left, instead of
//! returning to the dispatcher. The tag is the function table's own (natively
//! each wasmtime Store has its table, so a unit only chains into units of its
//! Store) or'ed with the hart's mode bits, so a unit compiled for another
//! privilege or addressing mode never matches.
//!
//! This file keeps the Rust side: which unit each slot holds, and the hits
//! generated code counted there.
//!
//! Invariants (kept by `Jit`):
//! - every filled slot's unit is in the code cache with that function: a
//!   unit leaving the cache leaves its slot first ([`ChainTable::forget`]),
//!   so no slot can name a released function-table entry;
//! - only optimizing units are in the table, so a chain of calls retires
//!   instructions at one tier, and a baseline unit still returns to the
//!   dispatcher, which counts it toward its tier-up;
//! - the slots belong to one translation epoch of the hart: when its
//!   translation changes (satp, sfence.vma) the table is emptied, so a
//!   chained pc always maps to the physical code the unit was compiled
//!   from, as the dispatcher's own lookup would find.
use super::layout::{chain_slot_of, ChainSlot, CHAIN_SLOTS};
use super::UnitKey;

/// See the module documentation.
pub struct ChainTable {
    /// The unit each slot holds (mirrors the state block's slots).
    keys: Box<[Option<UnitKey>]>,
    /// Slots filled since the table was last emptied (may repeat).
    filled: Vec<u16>,
    /// The hart's translation epoch the slots belong to.
    epoch: u64,
    /// The state block's `chained` counter when last read.
    last_chained: u64,
}

impl Default for ChainTable {
    fn default() -> Self {
        ChainTable {
            keys: vec![None; CHAIN_SLOTS].into_boxed_slice(),
            filled: Vec::new(),
            epoch: 0,
            last_chained: 0,
        }
    }
}

impl ChainTable {
    /// Put `key`'s code (function `func`, tag `tag`) in its slot; the hits
    /// of the unit it displaces go to `sink`.
    pub fn set(
        &mut self,
        slots: &mut [ChainSlot; CHAIN_SLOTS],
        key: UnitKey,
        tag: u32,
        func: u32,
        sink: impl FnOnce(UnitKey, u64),
    ) {
        let i = chain_slot_of(key.vpc);
        if let Some(old) = self.keys[i] {
            if slots[i].hits > 0 {
                sink(old, slots[i].hits);
            }
        } else {
            self.filled.push(i as u16);
        }
        slots[i] = ChainSlot::new(key.vpc, tag, func);
        self.keys[i] = Some(key);
    }

    /// The unit whose slot holds entry pc `vpc`, if one does.
    pub fn key_of(&self, vpc: u64) -> Option<UnitKey> {
        self.keys[chain_slot_of(vpc)].filter(|k| k.vpc == vpc)
    }

    /// Empty `key`'s slot if it holds `key` (its hits go to `sink`).
    pub fn forget(
        &mut self,
        slots: &mut [ChainSlot; CHAIN_SLOTS],
        key: UnitKey,
        sink: impl FnOnce(UnitKey, u64),
    ) {
        let i = chain_slot_of(key.vpc);
        if self.keys[i] == Some(key) {
            if slots[i].hits > 0 {
                sink(key, slots[i].hits);
            }
            slots[i] = ChainSlot::EMPTY;
            self.keys[i] = None;
        }
    }

    /// Hand every slot's hits to `sink(unit, hits)` and zero them.
    pub fn drain(
        &mut self,
        slots: &mut [ChainSlot; CHAIN_SLOTS],
        mut sink: impl FnMut(UnitKey, u64),
    ) {
        self.filled.retain(|&i| self.keys[i as usize].is_some());
        self.filled.sort_unstable();
        self.filled.dedup();
        for &i in &self.filled {
            let i = i as usize;
            let hits = std::mem::take(&mut slots[i].hits);
            if let (Some(key), true) = (self.keys[i], hits > 0) {
                sink(key, hits);
            }
        }
    }

    /// Empty every slot (hits to `sink`).
    pub fn clear(&mut self, slots: &mut [ChainSlot; CHAIN_SLOTS], sink: impl FnMut(UnitKey, u64)) {
        self.drain(slots, sink);
        for &i in &self.filled {
            slots[i as usize] = ChainSlot::EMPTY;
            self.keys[i as usize] = None;
        }
        self.filled.clear();
    }

    /// Whether the slots belong to translation `epoch`; if not, they must
    /// be emptied ([`ChainTable::clear`]) and the table takes `epoch`.
    pub fn stale(&mut self, epoch: u64) -> bool {
        if self.epoch == epoch {
            return false;
        }
        self.epoch = epoch;
        true
    }

    /// Chained entries since the last call, from the state block's
    /// running count `chained`.
    pub fn take_chained(&mut self, chained: u64) -> u64 {
        let n = chained.wrapping_sub(self.last_chained);
        self.last_chained = chained;
        n
    }

    /// Units in the table.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.iter().filter(|k| k.is_some()).count()
    }

    /// Host bytes held.
    pub fn bytes(&self) -> u64 {
        (self.keys.len() * std::mem::size_of::<Option<UnitKey>>() + self.filled.capacity() * 2)
            as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(vpc: u64) -> UnitKey {
        UnitKey { vpc, ppc: vpc, mode: 3 }
    }

    fn slots() -> Box<[ChainSlot; CHAIN_SLOTS]> {
        vec![ChainSlot::EMPTY; CHAIN_SLOTS].into_boxed_slice().try_into().unwrap()
    }

    /// A displaced unit's hits are not lost; a forgotten unit's slot
    /// matches nothing; clearing empties every slot.
    #[test]
    fn hits_follow_their_units() {
        let mut t = ChainTable::default();
        let mut s = slots();
        let a = key(0x8000_0000);
        // Another pc with the same slot.
        let b = (1..)
            .map(|k| key(a.vpc + 2 * k))
            .find(|b| chain_slot_of(b.vpc) == chain_slot_of(a.vpc))
            .unwrap();
        assert_eq!(chain_slot_of(a.vpc), chain_slot_of(b.vpc));
        let i = chain_slot_of(a.vpc);
        t.set(&mut s, a, 0x8000_0003, 7, |_, _| panic!("nothing displaced"));
        s[i].hits = 5;
        let mut got = Vec::new();
        t.set(&mut s, b, 0x8000_0003, 8, |k, n| got.push((k, n)));
        assert_eq!(got, vec![(a, 5)]);
        assert_eq!((s[i].vpc, s[i].func, s[i].hits), (b.vpc, 8, 0));
        t.forget(&mut s, a, |_, _| panic!("a is not there"));
        s[i].hits = 2;
        t.forget(&mut s, b, |k, n| got.push((k, n)));
        assert_eq!(got, vec![(a, 5), (b, 2)]);
        assert_eq!(s[i], ChainSlot::EMPTY);
        t.set(&mut s, a, 0x8000_0003, 7, |_, _| {});
        t.set(&mut s, key(0x8000_1000), 0x8000_0003, 9, |_, _| {});
        assert_eq!(t.len(), 2);
        t.clear(&mut s, |_, _| {});
        assert_eq!(t.len(), 0);
        assert!(s.iter().all(|x| *x == ChainSlot::EMPTY));
    }
}
