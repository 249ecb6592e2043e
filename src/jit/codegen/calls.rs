//! Nested calls (`jit.nested_calls`): a call that leaves the unit runs the
//! callee's compiled unit as a wasm call and, when the guest comes back to
//! the call's return address, goes on inside this unit.
//!
//! The sequence at the end of a block with [`Block::call`]
//! (`region::Block::call`), after the link register is set:
//!
//! 1. Unless `state::CALL_DEPTH` has reached [`MAX_CALL_DEPTH`], look the
//!    callee's pc up in the chain table as a chained exit would; on a miss,
//!    leave through the ordinary exit (which may still chain).
//! 2. Write back what may have been written (the callee reads registers from
//!    the state block), note the return address in `state::RET_EXPECT`
//!    (saving the outer one), and `call_indirect` the callee with the budget
//!    left. Any unit that ends at that return address returns from its
//!    `run` instead of chaining, so control comes back here.
//! 3. Restore `RET_EXPECT` and the depth, take the budget the callee left.
//!    If the guest is at the return address and nothing is for the
//!    interpreter, reload the unit's registers from the state block and go
//!    on at the continuation block (a budget check point). Otherwise leave
//!    the unit at the state block's pc without writing anything back: the
//!    state block is the truth after the callee.
//!
//! Invariants: registers are written back before the callee runs and
//! reloaded after, so no value crosses the call in a local; the nesting is
//! at most `MAX_CALL_DEPTH` deep whatever the guest does (recursion deeper
//! than that chains, which needs no engine stack); `CALL_DEPTH` and
//! `RET_EXPECT` are back to their values at the unit's entry whenever the
//! unit returns (0 and 0 for the dispatcher), since generated code never
//! traps; a callee found by the lookup is as valid as a chained one (same
//! slot, tag and mode checks).
use wasm_encoder::{BlockType, Function};

use super::locals::LocalOps;
use super::structure::{Ctl, Pc};
use super::{x_offset, Emitter, NO_CHAIN};
use crate::jit::layout::{state, MAX_CALL_DEPTH};
use crate::jit::region::Target;

impl Emitter<'_> {
    /// Block `b` ends in a call to `target` whose continuation is block
    /// `cont` at `ret` (the link register already holds `ret`).
    pub(super) fn nested_call(
        &mut self,
        f: &mut Function,
        b: usize,
        target: Pc,
        ret: u64,
        cont: usize,
    ) {
        let l = self.l;
        let (written, defined) = (self.written, self.defined);
        let s = &mut f.instructions();
        s.block(BlockType::Empty);
        self.ctx.push(Ctl::If);
        s.get_local(l.state).i32_load(self.mem(state::CALL_DEPTH, 2));
        s.i32_const(MAX_CALL_DEPTH as i32).i32_ge_u().br_if(0);
        self.chain_lookup(s, target);
        self.survey.stale_uses |= self.written & !self.fresh;
        for r in 1..32u8 {
            if self.written & (1 << r) != 0 {
                s.get_local(l.state).get_local(l.reg(r)).i64_store(self.mem(x_offset(r), 3));
            }
        }
        let (depth, expect) = (self.mem(state::CALL_DEPTH, 2), self.mem(state::RET_EXPECT, 3));
        s.get_local(l.state).i64_load(expect).set_local(l.t0);
        s.get_local(l.state).i64_const(ret as i64).i64_store(expect);
        s.get_local(l.state).get_local(l.state).i32_load(depth).i32_const(1).i32_add();
        s.i32_store(depth);
        s.get_local(l.budget).get_local(l.state);
        s.get_local(l.tlb_entry).i32_load(self.mem(state::CHAIN + state::CHAIN_FUNC, 2));
        s.call_indirect(0, 0).set_local(l.t2);
        s.get_local(l.state).get_local(l.state).i32_load(depth).i32_const(1).i32_sub();
        s.i32_store(depth);
        s.get_local(l.state).get_local(l.t0).i64_store(expect);
        s.get_local(l.t2).i64_const(1).i64_shr_u().set_local(l.budget);
        // Back at the return address, with nothing for the interpreter?
        s.get_local(l.t2).i64_const(1).i64_and().i64_eqz();
        s.get_local(l.state).i64_load(self.mem(state::PC, 3)).i64_const(ret as i64).i64_eq();
        s.i32_and();
        s.if_(BlockType::Empty);
        self.ctx.push(Ctl::If);
        for r in 1..32u8 {
            if self.reloads & (1 << r) != 0 {
                s.get_local(l.state).i64_load(self.mem(x_offset(r), 3)).set_local(l.reg(r));
            }
        }
        // (The flow starts the continuation with nothing written and
        // everything defined along this edge: `writeback::Flow`.)
        let marks = self.marks_len();
        self.branch(f, b, Target::Block(cont));
        if self.marks_len() != marks {
            self.mark(f, None);
        }
        self.ctx.pop();
        let s = &mut f.instructions();
        s.end();
        // The callee left compiled code elsewhere: so does this unit, from
        // the state block as the callee left it, never chaining (the
        // callee already chose not to).
        s.get_local(l.state).i64_load(self.mem(state::PC, 3)).set_local(l.exit_pc);
        s.get_local(l.t2).i64_const(1).i64_and().i64_const(NO_CHAIN as i64).i64_or();
        s.set_local(l.exit_tag);
        s.br(self.label(Ctl::Exit));
        self.ctx.pop();
        s.end();
        // No callee to call: the ordinary exit, which writes back what this
        // block's paths may have written.
        (self.written, self.defined) = (written, defined);
        self.exit(&mut f.instructions(), target, false, 0);
    }
}
