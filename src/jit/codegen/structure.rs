//! Control flow: the region's blocks as structured wasm (`block`/`loop`/
//! `if`, Ramsey's "Beyond Relooper"), each block's budget check, its
//! terminator (branches, jumps), and exits.
//!
//! Invariants: [`Emitter::ctx`] mirrors the wasm labels open around the
//! code being emitted (every push is matched by a pop where the label's
//! `end` is emitted), so [`Emitter::label`] gives the right branch depth;
//! every exit leaves through an exit tail (`Ctl::Tail`, writing back what
//! may have been written on the way, see `writeback.rs`) to the one exit
//! sequence (`Ctl::Exit`) with `exit_pc` and `exit_tag` set; a block is charged its whole instruction
//! count before it runs, and an exit inside it refunds what was not retired;
//! the budget is checked only where [`budget_checks`] says (the entry and
//! loop heads), for the longest path to the next check, so it never goes
//! below zero between two checks.
//! The functions that may emit several blocks take the [`Function`] itself
//! (not a sink over it) so that they can mark, for the code view, where each
//! instruction's code starts ([`Emitter::mark`]): a mark before each
//! instruction and terminator, and a `None` mark before any code that is not
//! theirs (a block's budget check, the structure's `loop`, `block`, `end`).
use wasm_encoder::{BlockType, Function, InstructionSink};

use super::fold::dead_writes;
use super::locals::LocalOps;
use super::writeback::Frame;
use super::Emitter;
use crate::isa::{alu, Inst};
use crate::jit::region::{Block, Cfg, End, Target};

/// Labels open around the code being emitted (innermost last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ctl {
    /// The block whose end is the exit sequence.
    Exit,
    /// The block whose end is exit tail `j` (`Emitter::tails[j]`).
    Tail(usize),
    If,
    /// `loop` whose start is this block.
    LoopHeadedBy(usize),
    /// `loop` around a counted loop's entry checks and its `LoopHeadedBy`
    /// loop, when the block also heads an enclosing loop: back edges from
    /// other blocks come here, so every pass of the outer loop goes
    /// through the checks (`counted.rs`).
    OuterLoopHeadedBy(usize),
    /// `block` whose end is followed by this block's code.
    BlockFollowedBy(usize),
}

/// Where an exit's pc comes from.
#[derive(Clone, Copy)]
pub(super) enum Pc {
    Const(u64),
    /// A temporary local.
    Local(super::locals::Local),
}

impl Emitter<'_> {
    /// Ramsey's `doTree`: the code of block `b` and of the blocks it
    /// dominates.
    pub(super) fn tree(&mut self, f: &mut Function, b: usize) {
        self.mark(f, None);
        let merges = self.cfg.merge_children(b);
        if self.cfg.loop_header[b] {
            let counted =
                if self.counted_loops && self.optimizing && self.data_bare && !self.strict_align {
                    let ram_len = self.layout.ram_len as u64;
                    super::counted::CountedLoop::of(&self.blocks[b], b, ram_len)
                        .filter(|lp| lp.reload.is_none() || !self.atomic)
                } else {
                    None
                };
            let shared =
                counted.is_some() && !super::counted::heads_only_itself(self.blocks, self.cfg, b);
            if shared {
                f.instructions().loop_(BlockType::Empty);
                self.ctx.push(Ctl::OuterLoopHeadedBy(b));
            }
            if let Some(lp) = &counted {
                self.counted_loop(f, b, lp);
            }
            f.instructions().loop_(BlockType::Empty);
            self.ctx.push(Ctl::LoopHeadedBy(b));
            self.within(f, b, &merges);
            self.ctx.pop();
            self.mark(f, None);
            f.instructions().end();
            if shared {
                self.ctx.pop();
                f.instructions().end();
            }
        } else {
            self.within(f, b, &merges);
        }
    }

    /// Ramsey's `nodeWithin`: `merges` (latest in reverse postorder first)
    /// each get a `block` whose end leads to their code.
    fn within(&mut self, f: &mut Function, b: usize, merges: &[usize]) {
        match merges.split_first() {
            None => self.block_code(f, b),
            Some((&y, rest)) => {
                f.instructions().block(BlockType::Empty);
                self.ctx.push(Ctl::BlockFollowedBy(y));
                self.within(f, b, rest);
                self.ctx.pop();
                self.mark(f, None);
                f.instructions().end();
                self.tree(f, y);
            }
        }
    }

    pub(super) fn label(&self, want: Ctl) -> u32 {
        let pos = self.ctx.iter().rposition(|&c| c == want).expect("label in scope");
        (self.ctx.len() - 1 - pos) as u32
    }

    /// Control passes from block `from` to `to`. What is known about
    /// registers at the end of `from` holds again afterwards (translating
    /// `to`'s code in between changes it), for the code that follows in
    /// `from`'s terminator.
    pub(super) fn branch(&mut self, f: &mut Function, from: usize, to: Target) {
        let (written, defined, fresh) = (self.written, self.defined, self.fresh);
        self.branch_to(f, from, to);
        (self.written, self.defined, self.fresh) = (written, defined, fresh);
    }

    fn branch_to(&mut self, f: &mut Function, from: usize, to: Target) {
        match to {
            Target::Exit(pc) => self.exit(&mut f.instructions(), Pc::Const(pc), false, 0),
            Target::Block(t) if self.cfg.is_back_edge(from, t) => {
                let outer = Ctl::OuterLoopHeadedBy(t);
                let to = if from != t && self.ctx.contains(&outer) {
                    outer
                } else {
                    Ctl::LoopHeadedBy(t)
                };
                f.instructions().br(self.label(to));
            }
            Target::Block(t) if self.cfg.merge[t] => {
                f.instructions().br(self.label(Ctl::BlockFollowedBy(t)));
            }
            Target::Block(t) => self.tree(f, t),
        }
    }

    /// Leave the unit: branch to the exit sequence (which writes back
    /// registers and stores the pc) with the pc and the budget `refund`
    /// (instructions charged but not retired).
    pub(super) fn exit(&mut self, s: &mut InstructionSink, pc: Pc, interpret: bool, refund: u64) {
        match pc {
            Pc::Const(v) => s.i64_const(v as i64),
            Pc::Local(l) => s.get_local(l),
        };
        s.set_local(self.l.exit_pc);
        s.i64_const((refund << 1 | interpret as u64) as i64).set_local(self.l.exit_tag);
        self.leave(s);
    }

    /// Branch to the exit tail that writes back what may have been
    /// written here (exit_pc and exit_tag set); record the exit for the
    /// survey.
    fn leave(&mut self, s: &mut InstructionSink) {
        self.survey.exits.push((self.written, self.defined, self.fresh));
        let label = if self.tails.is_empty() {
            Ctl::Exit
        } else {
            Ctl::Tail(Frame::tail_for(self.tails, self.written))
        };
        s.br(self.label(label));
    }

    /// The indirect jump at `site`, its target in `t1`, missed every guard:
    /// if the unit records misses, write (entry, site, target) at the
    /// ring's head (`StateBlock::misses`) and advance it. Uses `tlb_entry`
    /// (no access is in flight at a block's end).
    fn record_miss(&self, s: &mut InstructionSink, site: u64) {
        use crate::jit::layout::state;
        let Some(unit) = self.miss_unit else { return };
        let (l, slot) = (self.l, self.l.tlb_entry);
        let head = self.mem(state::MISS_HEAD, 3);
        // slot = state + (head % MISS_RING) * MISS_BYTES
        s.get_local(l.state).i64_load(head).i32_wrap_i64();
        s.i32_const(state::MISS_RING as i32 - 1).i32_and();
        s.i32_const(state::MISS_BYTES as i32).i32_mul();
        s.get_local(l.state).i32_add().set_local(slot);
        s.get_local(slot).i64_const(unit as i64);
        s.i64_store(self.mem(state::MISSES + state::MISS_UNIT, 3));
        s.get_local(slot).i64_const(site as i64);
        s.i64_store(self.mem(state::MISSES + state::MISS_SITE, 3));
        s.get_local(slot).get_local(self.l.t1);
        s.i64_store(self.mem(state::MISSES + state::MISS_TARGET, 3));
        s.get_local(l.state).get_local(l.state).i64_load(head);
        s.i64_const(1).i64_add().i64_store(head);
    }

    /// Pop an i32 condition; if it is non-zero, side-exit to the interpreter
    /// at `pc`.
    pub(super) fn exit_if(&mut self, s: &mut InstructionSink, pc: u64, refund: u64) {
        s.if_(BlockType::Empty);
        self.ctx.push(Ctl::If);
        self.exit(s, Pc::Const(pc), true, refund);
        self.ctx.pop();
        s.end();
    }

    /// Block `b`: its budget check, its instructions, its terminator.
    fn block_code(&mut self, f: &mut Function, b: usize) {
        let block = &self.blocks[b];
        let budget = self.l.budget;
        self.known = [None; 32];
        self.known[0] = Some(0);
        self.written = self.flow.may_in[b];
        self.defined = self.flow.must_in[b];
        self.fresh = self.flow.fresh_in[b];
        let charge = block.retired();
        let need = self.checks[b];
        self.block = b;
        self.mark(f, None);
        let s = &mut f.instructions();
        if need > 0 {
            // Not enough budget for the longest path to the next check:
            // leave before this block.
            s.get_local(budget).i64_const(need as i64).i64_lt_s();
            s.if_(BlockType::Empty);
            self.ctx.push(Ctl::If);
            // A normal exit that never chains: the next unit would find
            // the budget as short.
            s.i64_const(block.pc as i64).set_local(self.l.exit_pc);
            s.i64_const(super::NO_CHAIN as i64).set_local(self.l.exit_tag);
            self.leave(s);
            self.ctx.pop();
            s.end();
        }
        if charge > 0 {
            s.get_local(budget).i64_const(charge as i64).i64_sub().set_local(budget);
        }
        let dead =
            if self.optimizing { dead_writes(block) } else { vec![false; block.insts.len()] };
        self.groups =
            if self.access_groups && self.optimizing && self.data_bare && !self.strict_align {
                super::memory::access_groups(&block.insts)
            } else {
                Vec::new()
            };
        for (k, &(pc, inst, len)) in block.insts.iter().enumerate() {
            self.cur = k;
            self.mark(f, Some((b, pc)));
            if !dead[k] {
                self.inst(&mut f.instructions(), pc, inst, len as u64, charge - k as u64);
            }
        }
        let end_pc = match block.end {
            End::Jump { pc, .. } | End::Branch { pc, .. } | End::Indirect { pc, .. } => Some(pc),
            End::Goto(_) | End::Interpret(_) => None,
        };
        self.mark(f, end_pc.map(|pc| (b, pc)));
        match block.end {
            End::Goto(t) => self.branch(f, b, t),
            End::Interpret(pc) => self.exit(&mut f.instructions(), Pc::Const(pc), true, 0),
            End::Jump { pc, len, rd, target } => {
                self.set_const(&mut f.instructions(), rd, pc.wrapping_add(len as u64));
                match (target, self.blocks[b].call) {
                    (Target::Exit(callee), Some((ret, cont))) => {
                        self.nested_call(f, b, Pc::Const(callee), ret, cont)
                    }
                    _ => self.branch(f, b, target),
                }
            }
            End::Indirect { pc, len, rd, rs1, imm } => {
                let s = &mut f.instructions();
                let t1 = self.l.t1;
                self.get(s, rs1);
                if imm != 0 {
                    s.i64_const(imm as i64).i64_add();
                }
                s.i64_const(-2).i64_and().set_local(t1);
                self.set_const(s, rd, pc.wrapping_add(len as u64));
                // Guards (`Block::guards`): a profiled target, or a
                // return to a call site inside the unit, goes on inside
                // the unit. No guarded block's code falls
                // through (every block ends in a branch or an exit), so t1
                // still holds the target when the next guard reads it.
                for &(ret, t) in &self.blocks[b].guards.clone() {
                    let s = &mut f.instructions();
                    s.get_local(t1).i64_const(ret as i64).i64_eq();
                    s.if_(BlockType::Empty);
                    self.ctx.push(Ctl::If);
                    let marks = self.marks_len();
                    self.branch(f, b, Target::Block(t));
                    if self.marks_len() != marks {
                        self.mark(f, None);
                    }
                    self.ctx.pop();
                    f.instructions().end();
                }
                if !crate::jit::jump_profile::is_return(rd, rs1) {
                    self.record_miss(&mut f.instructions(), pc);
                }
                match self.blocks[b].call {
                    Some((ret, cont)) => self.nested_call(f, b, Pc::Local(t1), ret, cont),
                    None => self.exit(&mut f.instructions(), Pc::Local(t1), false, 0),
                }
            }
            End::Branch { inst, taken, not_taken, .. } => {
                let (Some(a), Some(c)) = inst.operands() else { unreachable!("not a branch") };
                if let (Some(x), Some(y)) = (self.known_value(a), self.known_value(c)) {
                    let go = alu::branch_taken(&inst, x, y) == Some(true);
                    self.branch(f, b, if go { taken } else { not_taken });
                } else {
                    let s = &mut f.instructions();
                    self.get(s, a);
                    self.get(s, c);
                    match inst {
                        Inst::Beq { .. } => s.i64_eq(),
                        Inst::Bne { .. } => s.i64_ne(),
                        Inst::Blt { .. } => s.i64_lt_s(),
                        Inst::Bge { .. } => s.i64_ge_s(),
                        Inst::Bltu { .. } => s.i64_lt_u(),
                        Inst::Bgeu { .. } => s.i64_ge_u(),
                        _ => unreachable!("not a branch: {inst:?}"),
                    };
                    s.if_(BlockType::Empty);
                    self.ctx.push(Ctl::If);
                    // `else` and `end` are the branch's unless a block's
                    // code came in between.
                    let marks = self.marks_len();
                    self.branch(f, b, taken);
                    if self.marks_len() != marks {
                        self.mark(f, None);
                    }
                    f.instructions().else_();
                    let marks = self.marks_len();
                    self.branch(f, b, not_taken);
                    if self.marks_len() != marks {
                        self.mark(f, None);
                    }
                    self.ctx.pop();
                    f.instructions().end();
                }
            }
        }
    }
}

/// The budget each block checks before it runs (0: no check). Only the
/// entry (block 0), loop heads and nested calls' continuations check: every cycle of a reducible CFG
/// passes through a loop head, so the blocks between two checks form an
/// acyclic graph, and a check asks for the most instructions any path from
/// it retires before it reaches the next check or leaves the unit. The
/// budget then never goes below zero between checks, so guest time stays
/// exact, and the blocks in between carry no exit of their own (an exit
/// inside a hot loop costs the registers it keeps alive).
pub(super) fn budget_checks(blocks: &[Block], cfg: &Cfg) -> Vec<u64> {
    // A nested call's continuation checks too: the callee spent an unknown
    // part of the budget.
    let cont: Vec<usize> = blocks.iter().filter_map(|b| b.call.map(|(_, c)| c)).collect();
    let checks = |b: usize| b == 0 || cfg.loop_header[b] || cont.contains(&b);
    let mut longest = vec![0u64; blocks.len()];
    // Successors through forward edges come later in reverse postorder;
    // back edges lead to loop heads, which check for themselves.
    for &b in cfg.rpo.iter().rev() {
        let after = blocks[b]
            .successors()
            .into_iter()
            .filter(|&s| !checks(s))
            .map(|s| longest[s])
            .max()
            .unwrap_or(0);
        longest[b] = blocks[b].retired() + after;
    }
    (0..blocks.len()).map(|b| if checks(b) { longest[b] } else { 0 }).collect()
}
