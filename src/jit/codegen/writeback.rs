//! Which registers a unit loads at entry and which each exit writes back.
//!
//! In the optimizing tier guest registers live in wasm locals. A unit loads
//! a register's local from the state block only if some read, or some exit's
//! write-back, can see the value it had at entry; and an exit writes back
//! only the registers that may have been written on some path from the
//! entry to it (the others still hold their value in the state block).
//! An exit inside a hot loop keeps alive, in the engine's register
//! allocator, every local it stores: a side exit placed before most of a
//! unit's writes, or on a path that never meets them, no longer keeps them.
//!
//! How: the code generator translates the unit twice. The first pass (the
//! survey) branches every exit to the exit sequence and records, at each
//! exit, the registers maybe written and surely written there
//! (`Emitter::written` / `Emitter::defined`, kept by `Emitter::set` within a
//! block and started at each block from [`Flow`]), and which registers were
//! read while not surely written. [`Frame::from_survey`] turns that into
//! the distinct write-back sets (merged to at most [`MAX_TAILS`]) and the
//! entry loads; the second pass emits them. Each exit branches to the tail
//! with the smallest set that covers what it must store
//! ([`Frame::tail_for`]).
//!
//! Invariants: a register stored at an exit is either loaded at entry or
//! surely written on every path to that exit, so the tail stores the
//! register's current value; a register maybe written on a path to an exit
//! is stored there, so the state block is exact after every exit. Both
//! passes emit the same exits in the same order with the same sets (the
//! frame changes labels and loads only, not what is written where).
use crate::jit::region::{Block, Cfg, End};

/// Most write-back tails one unit gets: more distinct sets are merged into
/// supersets (storing a register that was not written is correct as long as
/// it was loaded), which bounds the code the tails add.
pub(super) const MAX_TAILS: usize = 8;

/// Every register but x0, as a set.
const ALL: u32 = !1;

/// Registers (bit r for x[r], never x0) maybe and surely written on entry
/// to each block, over every path from the unit's entry.
pub(super) struct Flow {
    pub may_in: Vec<u32>,
    pub must_in: Vec<u32>,
    /// Registers written on every path since the latest nested call (all,
    /// where no path has made one): the others hold, after a call, the
    /// value the unit had before it unless the call site reloads them.
    pub fresh_in: Vec<u32>,
}

impl Flow {
    /// Forward data flow over the region's blocks (iterated to a fixed
    /// point in reverse postorder; loops converge in a few rounds).
    pub fn of(blocks: &[Block], cfg: &Cfg) -> Flow {
        let n = blocks.len();
        let writes: Vec<u32> = blocks.iter().map(block_writes).collect();
        // (predecessor, whether the edge is a nested call's return to its
        // continuation). A block with a call may also jump straight to
        // blocks of the unit (guarded targets): those are plain edges.
        let mut preds = vec![Vec::new(); n];
        for (b, block) in blocks.iter().enumerate() {
            for s in block.jump_successors() {
                preds[s].push((b, false));
            }
            if let Some((_, cont)) = block.call {
                preds[cont].push((b, true));
            }
        }
        let mut may_in = vec![0u32; n];
        let mut fresh_in = vec![ALL; n];
        // Unreached blocks keep "everything": they are never translated.
        let mut must_in = vec![ALL; n];
        must_in[0] = 0;
        loop {
            let mut changed = false;
            for &b in &cfg.rpo {
                let mut may = 0;
                let mut must = if b == 0 { 0 } else { ALL };
                let mut fresh = ALL;
                for &(p, returned) in &preds[b] {
                    if returned {
                        // A nested call's continuation is entered after
                        // every register was written back and those
                        // observed later reloaded (`calls.rs`): nothing
                        // written since, everything defined, nothing
                        // fresh.
                        fresh = 0;
                        continue;
                    }
                    may |= may_in[p] | writes[p];
                    must &= must_in[p] | writes[p];
                    fresh &= fresh_in[p] | writes[p];
                }
                if b == 0 {
                    // The entry is also reached from outside, with nothing
                    // written.
                    must = 0;
                }
                if (may, must, fresh) != (may_in[b], must_in[b], fresh_in[b]) {
                    (may_in[b], must_in[b], fresh_in[b]) = (may, must, fresh);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Flow { may_in, must_in, fresh_in }
    }
}

/// Registers a block writes (its instructions' and its jump's link
/// register), x0 excluded.
fn block_writes(block: &Block) -> u32 {
    let mut w = 0u32;
    for &(_, inst, _) in &block.insts {
        w |= 1 << inst.dest();
    }
    if let End::Jump { rd, .. } | End::Indirect { rd, .. } = block.end {
        w |= 1 << rd;
    }
    w & ALL
}

/// What one translation found (the survey pass).
#[derive(Default)]
pub(super) struct Survey {
    /// Per exit, in emission order: (maybe written, surely written, fresh).
    pub exits: Vec<(u32, u32, u32)>,
    /// Registers read while not surely written: their entry value is used.
    pub entry_reads: u32,
    /// Registers read, or written back before a nested call, while not
    /// fresh: a nested call's value of them is used.
    pub stale_uses: u32,
    /// Some instruction calls the module's `mulhu` helper.
    pub uses_mulhu: bool,
    /// Registers whose local some instruction reads or writes.
    pub reg_locals: u32,
}

/// The function's frame: the registers loaded at entry and the exit tails'
/// write-back sets.
pub(super) struct Frame {
    pub loads: u32,
    pub tails: Vec<u32>,
    /// Registers reloaded after every nested call: those some later read,
    /// write-back or exit tail may see before the unit writes them again.
    pub reloads: u32,
    /// Registers that get a local: every one the translation, the entry
    /// loads, the tails or the reloads use (see `Locals::new`).
    pub locals: u32,
}

impl Frame {
    /// No loads and no tails, a local for every register: the survey pass.
    pub fn none() -> Frame {
        Frame { loads: 0, tails: Vec::new(), reloads: ALL, locals: ALL }
    }

    /// The baseline tier's: it keeps registers in the state block, so no
    /// register has a local.
    pub fn baseline() -> Frame {
        Frame { locals: 0, ..Frame::none() }
    }

    pub fn from_survey(survey: &Survey) -> Frame {
        let tails = merge_sets(survey.exits.iter().map(|&(may, ..)| may).collect(), MAX_TAILS);
        let mut loads = survey.entry_reads;
        let mut reloads = survey.stale_uses;
        for &(may, must, fresh) in &survey.exits {
            let stored = tails[Frame::tail_for(&tails, may)];
            loads |= stored & !must;
            reloads |= stored & !fresh;
        }
        let locals =
            (survey.reg_locals | loads | reloads | tails.iter().fold(0, |a, t| a | t)) & ALL;
        Frame { loads: loads & ALL, tails, reloads: reloads & ALL, locals }
    }

    /// The tail an exit that must store `may` branches to: the smallest set
    /// that covers it.
    pub fn tail_for(tails: &[u32], may: u32) -> usize {
        (0..tails.len())
            .filter(|&j| tails[j] & may == may)
            .min_by_key(|&j| tails[j].count_ones())
            .expect("every exit's write-back set is covered by a tail")
    }
}

/// The distinct sets of `sets`, merged while there are more than `max`:
/// each round folds the smallest set into the one it adds fewest registers
/// to. Every input set is covered by some output set.
fn merge_sets(mut sets: Vec<u32>, max: usize) -> Vec<u32> {
    sets.sort_by_key(|s| (s.count_ones(), *s));
    sets.dedup();
    while sets.len() > max {
        let small = sets.remove(0);
        let j = (0..sets.len())
            .min_by_key(|&j| ((sets[j] | small) & !sets[j]).count_ones())
            .expect("more than max >= 1 sets");
        sets[j] |= small;
        sets.sort_by_key(|s| (s.count_ones(), *s));
        sets.dedup();
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_sets_cover_every_input() {
        let input = vec![0b1, 0b11, 0b111, 0b1000, 0b1_0000, 0b11_0000, 0b1000_0001, 0b11];
        for max in 1..8 {
            let out = merge_sets(input.clone(), max);
            assert!(out.len() <= max, "{max}: {out:?}");
            for &s in &input {
                let j = Frame::tail_for(&out, s);
                assert_eq!(out[j] & s, s);
            }
        }
        // Under the limit, the distinct sets themselves.
        assert_eq!(merge_sets(vec![0b11, 0b1, 0b11], 8), vec![0b1, 0b11]);
    }

    /// An exit that must store a register not written on every path to it
    /// needs that register's entry value; a read after a sure write does
    /// not.
    #[test]
    fn loads_cover_what_tails_store_and_reads_see() {
        let survey = Survey {
            exits: vec![(0b0110, 0b0010, ALL), (0b0010, 0b0010, 0b0010)],
            entry_reads: 0b1_0000,
            stale_uses: 0b100_0000,
            uses_mulhu: false,
            reg_locals: 0b1000_0000_0000,
        };
        let frame = Frame::from_survey(&survey);
        assert_eq!(frame.tails, vec![0b0010, 0b0110]);
        // x1 is written before both exits: never loaded. x2 is maybe
        // written before the first: loaded. x4 is read before any write.
        assert_eq!(frame.loads, 0b1_0100);
        // After a nested call: x6 read while stale; x1 is stored by the
        // second exit's tail but fresh there.
        assert_eq!(frame.reloads, 0b100_0000);
        // Locals: what the translation used, loads, tails and reloads.
        assert_eq!(frame.locals, 0b1000_0101_0110);
    }
}
