//! Register access and what translation knows about register values.
//!
//! [`Emitter::get`] / [`Emitter::set`] are the only way code reads and
//! writes guest registers: wasm locals in the optimizing tier, the state
//! block in the baseline tier. In the optimizing tier values known at
//! translation time (within one block) are tracked in [`Emitter::known`]
//! and pushed as constants; pure instructions whose inputs are all known
//! are folded ([`Emitter::fold`]); writes overwritten before any read or
//! possible exit are dropped ([`dead_writes`]).
//!
//! Invariants: `known[r]`, when set, is the value `x[r]` holds at this point
//! of the block (x0 is always known to be 0); every `set` forgets what was
//! known about its register; a local holds `x[r]` whenever the unit may exit
//! (an exit tail stores it if it may have been written), so only writes
//! that no exit can observe are dropped. `get` and `set` also keep the
//! write-back bookkeeping (`writeback.rs`): what may and must have been
//! written here, and which registers' entry values are read. The baseline tier knows nothing but x0 = 0.
use wasm_encoder::InstructionSink;

use super::locals::LocalOps;
use super::{x_offset, Emitter};
use crate::isa::{alu, Inst, Kind};
use crate::jit::region::Block;

impl Emitter<'_> {
    pub(super) fn known_value(&self, r: u8) -> Option<u64> {
        if r == 0 {
            Some(0)
        } else if self.optimizing {
            self.known[r as usize]
        } else {
            None
        }
    }

    /// Push `x[r]`.
    pub(super) fn get(&mut self, s: &mut InstructionSink, r: u8) {
        if let Some(v) = self.known_value(r) {
            s.i64_const(v as i64);
        } else if self.optimizing {
            if self.defined & (1 << r) == 0 {
                self.survey.entry_reads |= 1 << r;
            }
            if self.fresh & (1 << r) == 0 {
                self.survey.stale_uses |= 1 << r;
            }
            self.survey.reg_locals |= 1 << r;
            s.get_local(self.l.reg(r));
        } else {
            s.get_local(self.l.state).i64_load(self.mem(x_offset(r), 3));
        }
    }

    /// Pop a value into `x[r]` (dropped for x0); its value is unknown.
    pub(super) fn set(&mut self, s: &mut InstructionSink, r: u8) {
        self.known[r as usize] = None;
        if r == 0 {
            s.drop();
        } else if self.optimizing {
            self.written |= 1 << r;
            self.defined |= 1 << r;
            self.fresh |= 1 << r;
            self.survey.reg_locals |= 1 << r;
            s.set_local(self.l.reg(r));
        } else {
            s.set_local(self.l.t2);
            s.get_local(self.l.state).get_local(self.l.t2).i64_store(self.mem(x_offset(r), 3));
        }
    }

    /// `x[r]` = v, a value known from here on (optimizing tier).
    pub(super) fn set_const(&mut self, s: &mut InstructionSink, r: u8, v: u64) {
        if r == 0 {
            return;
        }
        s.i64_const(v as i64);
        self.set(s, r);
        if self.optimizing {
            self.known[r as usize] = Some(v);
        }
    }

    /// The result of a pure instruction whose inputs are all known.
    pub(super) fn fold(&self, inst: &Inst, pc: u64) -> Option<u64> {
        if !self.optimizing {
            return None;
        }
        let (rs1, rs2) = inst.operands();
        let value = |r: Option<u8>| r.map_or(Some(0), |r| self.known_value(r));
        alu::eval(inst, pc, value(rs1)?, value(rs2)?)
    }
}

/// Which instructions of `block` write a register that is written again
/// before any read and before any point where the unit may exit (so the
/// first write can be dropped). Only pure instructions qualify.
pub(super) fn dead_writes(block: &Block) -> Vec<bool> {
    let mut dead = vec![false; block.insts.len()];
    let mut live = u32::MAX; // everything is live where the block ends
    for (k, (_, inst, _)) in block.insts.iter().enumerate().rev() {
        let (rd, srcs, pure) = (inst.dest(), inst.sources(), inst.kind() == Kind::Alu);
        if pure && rd != 0 && live & (1 << rd) == 0 {
            dead[k] = true;
            continue;
        }
        if rd != 0 {
            live &= !(1 << rd);
        }
        live |= srcs;
        if !pure {
            // A load or store may leave the unit before it runs: every
            // register must hold its value there.
            live = u32::MAX;
        }
    }
    dead
}
