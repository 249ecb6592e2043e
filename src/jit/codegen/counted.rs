//! Counted loops: a one-block loop whose exit test compares an induction
//! variable with a loop-invariant register runs all but its last
//! iterations in a copy with no checks at all.
//!
//! A block qualifies ([`CountedLoop::of`]) when it branches back to itself
//! while `iv` compares so with `bound` ([`Test`]): unequal (`bne` taken to
//! itself, `beq` not taken), or on the near side of it in the direction
//! `iv` moves (`blt`, `bltu`, `bge`, `bgeu`, taken or not taken, either
//! operand order: `i < n` counting up, `p > start` counting down, and the
//! inclusive forms); `iv` is written in the block only by one `addi iv, iv,
//! step` or `addiw iv, iv, step`, `bound` is not written in it (or only
//! reloaded from memory the loop does not store to, [`CountedLoop::reload`]), every
//! instruction is ALU code or a plain load or store, and every access's
//! base register is either not written in the block or such an induction
//! variable. Then how many of the coming iterations surely go round is
//! known at the loop's entry, and so is every byte each access will touch.
//!
//! At each entry from outside the loop (code before its `loop`, which back
//! edges do not reach), generated code computes m, the number of
//! iterations after which the test surely holds (for `!=`: one less than
//! the distance to `bound` in steps, when it is a whole number of steps;
//! for an ordered test: the whole steps that stay on the near side), and
//! checks, once, for those m iterations: the byte range each access
//! reaches over them lies inside RAM, no page a store range touches holds
//! translated code, the budget pays for them, and every induction variable
//! bumped by `addiw` stays a sign-extended 32-bit value (so `addiw` adds as
//! `addi` does). If every check passes it charges the budget for the m
//! iterations and runs them in a copy of the block with no bounds, flag or
//! budget check, its back edge a compare of `iv` with its value after m
//! iterations. Then (or when a check failed) the loop itself runs as
//! before, every check in place: it does the remaining iterations and
//! takes the exit. The copy has no exit of its own, so what the exits write
//! back and the budget's exactness are unchanged.
//!
//! Invariants: the copy runs only iterations the guest's loop runs, each of
//! them followed by the test holding (so the guest would have gone round),
//! with the budget already charged for them; every access in it is inside
//! RAM by the range checks (the ranges are exact, not estimates: step and
//! offsets are constants, m is capped so that no range wraps or spans more
//! than a quarter of RAM); a store in it never reaches a page of translated
//! code (flags checked for every page of the range; only this hart's own
//! compiles set flags between its instructions, and none happens inside
//! the copy).
use wasm_encoder::{BlockType, Function};

use super::locals::LocalOps;
use super::memory::plain_access;
use super::structure::Ctl;
use super::Emitter;
use crate::isa::{Inst, Kind};
use crate::jit::region::{Block, Cfg, End, Target};
use crate::mem::RAM_BASE;

/// Fewest unchecked iterations worth the checks at the loop's entry.
const MIN_ITERATIONS: u64 = 4;

/// Most unchecked iterations per entry (the budget limits them anyway).
const MAX_ITERATIONS: u64 = 1 << 20;

/// Widest byte range of one iteration's accesses off one base.
const MAX_RANGE: i64 = 8192;

/// The bytes one group of accesses reaches in one iteration: those off one
/// base register, at one position relative to its increment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Range {
    /// The register the accesses are off, or (with `index`) the invariant
    /// part of their computed base.
    pub base: u8,
    /// `Some((iv, shift))`: the base is `base + (iv << shift)` (see
    /// [`Derived`]), computed before the access in each iteration.
    pub index: Option<(u8, u8)>,
    /// The base's step per iteration in bytes (0: the base is not written).
    pub step: i64,
    /// Lowest and one past the highest byte, relative to the base's value
    /// at the loop's entry, in the first iteration.
    pub lo: i64,
    pub hi: i64,
    pub stores: bool,
}

/// How the loop's test compares `iv` (after its step) with `bound` when
/// the loop goes round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Test {
    /// `iv != bound`.
    Unequal,
    /// `iv` lies before `bound` in the direction it steps (`iv < bound`
    /// counting up, `iv > bound` counting down), or at it too when
    /// `inclusive`; compared as signed or unsigned numbers.
    Before { signed: bool, inclusive: bool },
}

/// What the entry checks of an induction variable's first and last value
/// over the unchecked iterations (it moves monotonically between them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// A sign-extended 32-bit value: stepped by `addiw`, which then adds
    /// as `addi` does.
    Sext32,
    /// In [0, 2^31): zero-extended as an index (`slli t, iv, 32; srli t,
    /// t, 32 - k`), which then is `iv << k`.
    Below2p31,
}

/// A register that holds, at some point of an iteration, `base + (iv <<
/// shift)` for an invariant `base` and an induction variable `iv` (its
/// value before or after its step), with `iv` zero-extended from 32 bits
/// first when `zext`: an array indexed by a counter, `a[i]`, when the
/// compiler did not turn it into a pointer (gcc does not for unsigned
/// 32-bit indices, whose wrap-around it must keep). Steps towards it:
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Derived {
    /// `iv << 32` (`slli t, iv, 32`)
    High { iv: u8, after: bool },
    /// `zext32(iv) << shift` (then `srli t, t, 32 - shift`) or `iv <<
    /// shift` (`slli t, iv, shift`)
    Scaled { iv: u8, shift: u8, zext: bool, after: bool },
    /// `base + ...` (`add t, base, scaled`, either order; a scaled value
    /// of shift 0 is `iv` itself)
    Indexed { base: u8, iv: u8, shift: u8, zext: bool, after: bool },
}

/// Largest index scale taken (accesses 4 KiB apart per step at most).
const MAX_SHIFT: u8 = 12;

impl Derived {
    /// What `inst` writes to its destination, given what the registers
    /// hold before it.
    fn of(
        inst: &Inst,
        derived: &[Option<Derived>; 32],
        invariant: &impl Fn(u8) -> bool,
        induction: &impl Fn(u8) -> bool,
        after: &impl Fn(u8) -> bool,
    ) -> Option<Derived> {
        let scaled = |r: u8| match derived[r as usize] {
            Some(d @ Derived::Scaled { .. }) => Some(d),
            None if induction(r) => {
                Some(Derived::Scaled { iv: r, shift: 0, zext: false, after: after(r) })
            }
            _ => None,
        };
        match *inst {
            Inst::Slli { rs1, imm: 32, .. } if induction(rs1) => {
                Some(Derived::High { iv: rs1, after: after(rs1) })
            }
            Inst::Slli { rs1, imm, .. } if induction(rs1) && imm <= MAX_SHIFT as i32 => {
                Some(Derived::Scaled { iv: rs1, shift: imm as u8, zext: false, after: after(rs1) })
            }
            Inst::Srli { rs1, imm, .. } if (32 - MAX_SHIFT as i32..=32).contains(&imm) => {
                match derived[rs1 as usize] {
                    Some(Derived::High { iv, after }) => {
                        Some(Derived::Scaled { iv, shift: (32 - imm) as u8, zext: true, after })
                    }
                    _ => None,
                }
            }
            Inst::Add { rs1, rs2, .. } => {
                let (s, base) = match (scaled(rs1), scaled(rs2)) {
                    (Some(s), _) if invariant(rs2) => (s, rs2),
                    (_, Some(s)) if invariant(rs1) => (s, rs1),
                    _ => return None,
                };
                let Derived::Scaled { iv, shift, zext, after } = s else { return None };
                Some(Derived::Indexed { base, iv, shift, zext, after })
            }
            _ => None,
        }
    }
}

/// A loop [`Emitter::counted_loop`] can run unchecked: see the module
/// documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CountedLoop {
    /// The induction variable the exit test reads, and its step.
    pub iv: u8,
    pub step: i64,
    /// The register it is compared with (not written in the loop, or
    /// reloaded as `reload` says; may be x0).
    pub bound: u8,
    /// `Some(load)`: `bound` is written in the loop, last by `load` (an
    /// `ld`, `lw` or `lwu` off a register the loop does not write: gcc
    /// reloads a spilled bound so), and the loop stores nothing. The entry
    /// does the load itself, after checking that it lies inside RAM, to
    /// learn the bound. Taken only with one hart (the code generator's
    /// `atomic` off): then no store happens while the loop runs, so every
    /// iteration loads that same value.
    pub reload: Option<Inst>,
    pub test: Test,
    /// Induction variables (each with its step) whose values over the
    /// unchecked iterations the entry checks ([`Check`]).
    pub checks: Vec<(u8, i64, Check)>,
    pub ranges: Vec<Range>,
    /// Most unchecked iterations: every range then spans at most a quarter
    /// of RAM.
    pub cap: u64,
}

impl CountedLoop {
    /// Block `b` as a counted loop, if it is one (module documentation).
    pub(super) fn of(block: &Block, b: usize, ram_len: u64) -> Option<CountedLoop> {
        let End::Branch { inst, taken, not_taken, .. } = block.end else { return None };
        let own = Target::Block(b);
        let round_when_taken = taken == own;
        let round_when_not_taken = not_taken == own && taken != own;
        if !round_when_taken && !round_when_not_taken {
            return None;
        }
        let (a, c) = match inst.operands() {
            (Some(a), Some(c)) => (a, c),
            _ => return None,
        };
        // (signed, whether the branch tests `<` rather than `>=`)
        let ordered = match inst {
            Inst::Bne { .. } if round_when_taken => None,
            Inst::Beq { .. } if round_when_not_taken => None,
            Inst::Blt { .. } => Some((true, true)),
            Inst::Bltu { .. } => Some((false, true)),
            Inst::Bge { .. } => Some((true, false)),
            Inst::Bgeu { .. } => Some((false, false)),
            _ => return None,
        };
        let mut writes = [0u8; 32];
        let mut step = [0i64; 32];
        let mut bumped_at = [usize::MAX; 32];
        let mut narrow = [false; 32];
        for (k, (_, inst, _)) in block.insts.iter().enumerate() {
            match inst.kind() {
                Kind::Alu => {}
                Kind::Load | Kind::Store if plain_access(inst).is_some() => {}
                _ => return None,
            }
            let rd = inst.dest() as usize;
            if rd == 0 {
                continue;
            }
            writes[rd] = writes[rd].saturating_add(1);
            match *inst {
                Inst::Addi { rs1, imm, .. } | Inst::Addiw { rs1, imm, .. }
                    if rs1 as usize == rd && imm != 0 =>
                {
                    step[rd] = imm as i64;
                    bumped_at[rd] = k;
                    narrow[rd] = matches!(inst, Inst::Addiw { .. });
                }
                _ => {}
            }
        }
        let invariant = |r: u8| r == 0 || writes[r as usize] == 0;
        let induction =
            |r: u8| r != 0 && writes[r as usize] == 1 && bumped_at[r as usize] != usize::MAX;
        // A bound the loop reloads (see `CountedLoop::reload`).
        let stores = block.insts.iter().any(|(_, i, _)| plain_access(i).is_some_and(|a| a.3));
        let reloaded = |r: u8| -> Option<Inst> {
            if r == 0 || stores {
                return None;
            }
            let &(_, last, _) = block.insts.iter().rev().find(|(_, i, _)| i.dest() == r)?;
            let (base, ..) = plain_access(&last)?;
            let width = matches!(last, Inst::Ld { .. } | Inst::Lw { .. } | Inst::Lwu { .. });
            (width && invariant(base)).then_some(last)
        };
        let (iv, bound, swapped, reload) = if induction(a) && invariant(c) {
            (a, c, false, None)
        } else if induction(c) && invariant(a) {
            (c, a, true, None)
        } else if let Some(load) = reloaded(c).filter(|_| induction(a)) {
            (a, c, false, Some(load))
        } else if let Some(load) = reloaded(a).filter(|_| induction(c)) {
            (c, a, true, Some(load))
        } else {
            return None;
        };
        let iv_step = step[iv as usize];
        let test = match ordered {
            None => Test::Unequal,
            Some((signed, less)) => {
                // Goes round while `a < c` (less, taken; or `>=` not taken)
                // or `a >= c`; seen from iv, counting up or down.
                let below = less == round_when_taken;
                // iv < bound, iv <= bound (up); iv >= bound, iv > bound (down)
                let (up, inclusive) = match (below, swapped) {
                    (true, false) => (true, false),
                    (true, true) => (false, false),
                    (false, false) => (false, true),
                    (false, true) => (true, true),
                };
                if up != (iv_step > 0) {
                    return None;
                }
                Test::Before { signed, inclusive }
            }
        };
        // What each register written in the block holds at this point of
        // an iteration, when it is an induction variable's function that an
        // access may use as its base (see [`Derived`]).
        let mut derived: [Option<Derived>; 32] = [None; 32];
        let mut ranges: Vec<Range> = Vec::new();
        let mut widest = 1u64;
        let mut checks: Vec<(u8, i64, Check)> = Vec::new();
        let mut check = |r: u8, c: Check| {
            if !checks.contains(&(r, step[r as usize], c)) {
                checks.push((r, step[r as usize], c));
            }
        };
        for (k, (_, inst, _)) in block.insts.iter().enumerate() {
            let after = |iv: u8| k > bumped_at[iv as usize];
            if let Some((base, imm, size, store)) = plain_access(inst) {
                // (base register, index, byte stride, first iteration's offset)
                let (base, index, st, adj) = if invariant(base) {
                    (base, None, 0, 0)
                } else if induction(base) {
                    let st = step[base as usize];
                    (base, None, st, if after(base) { st } else { 0 })
                } else if let Some(Derived::Indexed { base, iv, shift, zext, after }) =
                    derived[base as usize]
                {
                    let st = step[iv as usize] << shift;
                    if zext {
                        check(iv, Check::Below2p31);
                    }
                    (base, Some((iv, shift)), st, if after { st } else { 0 })
                } else {
                    return None;
                };
                widest = widest.max(st.unsigned_abs());
                let (lo, hi) = (imm as i64 + adj, imm as i64 + adj + size as i64);
                // Accesses off one base (and index) with one step share a
                // range while it stays within MAX_RANGE bytes.
                let near = |r: &&mut Range| {
                    r.base == base
                        && r.index == index
                        && r.step == st
                        && r.hi.max(hi) - r.lo.min(lo) <= MAX_RANGE
                };
                match ranges.iter_mut().find(near) {
                    Some(r) => {
                        r.lo = r.lo.min(lo);
                        r.hi = r.hi.max(hi);
                        r.stores |= store;
                    }
                    None => ranges.push(Range { base, index, step: st, lo, hi, stores: store }),
                }
            }
            let rd = inst.dest();
            if rd != 0 {
                derived[rd as usize] = Derived::of(inst, &derived, &invariant, &induction, &after);
            }
        }
        let cap = MAX_ITERATIONS.min(ram_len / 4 / widest);
        for r in std::iter::once(iv).chain(ranges.iter().map(|r| r.base)) {
            if narrow[r as usize] && step[r as usize] != 0 {
                check(r, Check::Sext32);
            }
        }
        for r in &ranges {
            if let Some((iv, _)) = r.index {
                if narrow[iv as usize] {
                    check(iv, Check::Sext32);
                }
            }
        }
        (cap >= MIN_ITERATIONS).then_some(CountedLoop {
            iv,
            step: iv_step,
            bound,
            reload,
            test,
            checks,
            ranges,
            cap,
        })
    }
}

/// Whether every back edge into block `b` comes from `b` itself. When a
/// block also heads an enclosing loop (a unit entered at an inner loop's
/// head, whose outer loop comes back to that head), the code generator
/// wraps the entry checks and the loop in one more `loop` that those other
/// back edges take (`Ctl::OuterLoopHeadedBy`), so that every pass of the
/// outer loop goes through the checks. (Without it the copy ran only at
/// the unit's entry and its locals only added register pressure: an inner
/// loop over 64-element rows ran about 1.2x slower.)
pub(super) fn heads_only_itself(blocks: &[Block], cfg: &Cfg, b: usize) -> bool {
    blocks.iter().enumerate().all(|(p, block)| {
        p == b
            || !(block.jump_successors().contains(&b) || block.call.is_some_and(|(_, c)| c == b))
            || !cfg.is_back_edge(p, b)
    })
}

impl Emitter<'_> {
    /// The unchecked iterations of counted loop `lp` (block `b`), emitted
    /// before the loop's `loop`: see the module documentation.
    pub(super) fn counted_loop(&mut self, f: &mut Function, b: usize, lp: &CountedLoop) {
        let blocks = self.blocks;
        let block = &blocks[b];
        let (l, charge) = (self.l, block.retired() as i64);
        let (m, t0, t1, t2) = (l.loop_count, l.t0, l.t1, l.t2);
        let ram_len = self.layout.ram_len as i64;
        self.known = [None; 32];
        self.known[0] = Some(0);
        self.written = self.flow.may_in[b];
        self.defined = self.flow.must_in[b];
        self.fresh = self.flow.fresh_in[b];
        self.block = b;
        self.groups = Vec::new();
        self.mark(f, None);
        let s = &mut f.instructions();
        // Any failed check leaves this block (label 0 here).
        s.block(BlockType::Empty);
        self.ctx.push(Ctl::If);
        // A reloaded bound: t2 = what the loop's load reads (leave unless
        // it lies inside RAM).
        let reloaded = lp.reload.map(|load| {
            let (base, imm, size, _) = plain_access(&load).expect("a load");
            self.get(s, base);
            s.i64_const(imm as i64 - RAM_BASE as i64).i64_add().tee_local(t2);
            s.i64_const(ram_len - size as i64).i64_gt_u().br_if(0);
            s.get_local(t2).i32_wrap_i64();
            match load {
                Inst::Ld { .. } => s.i64_load(self.ram(0)),
                Inst::Lw { .. } => s.i64_load32_s(self.ram(0)),
                _ => s.i64_load32_u(self.ram(0)),
            };
            s.set_local(t2);
            t2
        });
        let abs = lp.step.unsigned_abs();
        let up = lp.step > 0;
        // d = the distance from iv to bound in the direction iv steps.
        if up {
            self.get_bound(s, lp, reloaded);
            self.get(s, lp.iv);
        } else {
            self.get(s, lp.iv);
            self.get_bound(s, lp, reloaded);
        }
        s.i64_sub().set_local(m);
        match lp.test {
            Test::Unequal => {
                // n = d / |step| iterations exactly, or the loop does not
                // end at bound (leave); m = n - 1 = (d - 1) / |step| (d = 0
                // wraps to the largest number, which the cap check refuses).
                s.get_local(m);
                if abs.is_power_of_two() {
                    s.i64_const(abs as i64 - 1).i64_and();
                } else {
                    s.i64_const(abs as i64).i64_rem_u();
                }
                s.i64_const(0).i64_ne().br_if(0);
                s.get_local(m).i64_const(1).i64_sub().set_local(m);
            }
            Test::Before { signed, inclusive } => {
                // Leave unless iv starts before bound (or at it, inclusive);
                // then iterations 1..=m stay there: m = (d - 1) / |step|
                // (exclusive) or d / |step| (inclusive), with d exact as an
                // unsigned number.
                if up {
                    self.get(s, lp.iv);
                    self.get_bound(s, lp, reloaded);
                } else {
                    self.get_bound(s, lp, reloaded);
                    self.get(s, lp.iv);
                }
                match (signed, inclusive) {
                    (true, false) => s.i64_ge_s(),
                    (false, false) => s.i64_ge_u(),
                    (true, true) => s.i64_gt_s(),
                    (false, true) => s.i64_gt_u(),
                };
                s.br_if(0);
                if !inclusive {
                    s.get_local(m).i64_const(1).i64_sub().set_local(m);
                }
            }
        }
        s.get_local(m);
        if abs.is_power_of_two() {
            s.i64_const(abs.trailing_zeros() as i64).i64_shr_u();
        } else {
            s.i64_const(abs as i64).i64_div_u();
        }
        s.set_local(m);
        // m within [MIN_ITERATIONS, cap]
        s.get_local(m).i64_const(MIN_ITERATIONS as i64).i64_sub();
        s.i64_const((lp.cap - MIN_ITERATIONS) as i64).i64_gt_u().br_if(0);
        // Each checked induction variable's first value and its value after
        // m steps (it moves monotonically between them; m * |step| < 2^31).
        for &(r, st, check) in &lp.checks {
            for last in [false, true] {
                self.get(s, r);
                if last {
                    s.get_local(m).i64_const(st).i64_mul().i64_add();
                }
                match check {
                    // leave unless sext32(x) == x
                    Check::Sext32 => {
                        s.tee_local(t0).i32_wrap_i64().i64_extend_i32_s();
                        s.get_local(t0).i64_ne().br_if(0);
                    }
                    // leave unless x < 2^31, unsigned
                    Check::Below2p31 => {
                        s.i64_const(1 << 31).i64_ge_u().br_if(0);
                    }
                }
            }
        }
        s.get_local(l.budget).get_local(m).i64_const(charge).i64_mul().i64_lt_s().br_if(0);
        for r in &lp.ranges {
            let one = r.hi - r.lo;
            // t0 = the range's lowest byte as a RAM offset
            self.get(s, r.base);
            if let Some((iv, shift)) = r.index {
                self.get(s, iv);
                s.i64_const(shift as i64).i64_shl().i64_add();
            }
            s.i64_const(r.lo.wrapping_sub(RAM_BASE as i64)).i64_add();
            if r.step < 0 {
                s.get_local(m).i64_const(1).i64_sub().i64_const(r.step).i64_mul().i64_add();
            }
            s.tee_local(t0);
            // span = one + (m - 1) * |step|: leave unless t0 + span <= ram_len
            s.i64_const(ram_len - one);
            if r.step != 0 {
                s.get_local(m).i64_const(1).i64_sub();
                s.i64_const(r.step.abs()).i64_mul().i64_sub();
            }
            s.i64_gt_u().br_if(0);
            if r.stores {
                // Every page from t0's through the last byte's: flag 0.
                s.get_local(t0).i64_const(12).i64_shr_u().set_local(t1);
                s.get_local(t0).i64_const(one - 1).i64_add();
                if r.step != 0 {
                    s.get_local(m).i64_const(1).i64_sub();
                    s.i64_const(r.step.abs()).i64_mul().i64_add();
                }
                s.i64_const(12).i64_shr_u().set_local(t2);
                s.loop_(BlockType::Empty);
                s.get_local(t1).i32_wrap_i64().i32_load8_u(self.page_flags()).br_if(1);
                s.get_local(t1).i64_const(1).i64_add().tee_local(t1);
                s.get_local(t2).i64_le_u().br_if(0);
                s.end();
            }
        }
        // Charge the m iterations; m becomes iv's value after them.
        s.get_local(l.budget).get_local(m).i64_const(charge).i64_mul().i64_sub();
        s.set_local(l.budget);
        self.get(s, lp.iv);
        s.get_local(m).i64_const(lp.step).i64_mul().i64_add().set_local(m);
        s.loop_(BlockType::Empty);
        self.ctx.push(Ctl::If);
        let dead = super::fold::dead_writes(block);
        self.unchecked = true;
        for (k, &(pc, inst, len)) in block.insts.iter().enumerate() {
            self.cur = k;
            if !dead[k] {
                self.inst(&mut f.instructions(), pc, inst, len as u64, 0);
            }
        }
        self.unchecked = false;
        let s = &mut f.instructions();
        self.get(s, lp.iv);
        s.get_local(m).i64_ne().br_if(0);
        self.ctx.pop();
        s.end();
        self.ctx.pop();
        s.end();
    }

    /// Push the loop's bound: its register, or the local the entry loaded
    /// a reloaded bound into.
    fn get_bound(
        &mut self,
        s: &mut wasm_encoder::InstructionSink,
        lp: &CountedLoop,
        reloaded: Option<super::locals::Local>,
    ) {
        match reloaded {
            Some(t) => {
                s.get_local(t);
            }
            None => self.get(s, lp.bound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Inst::*;

    const RAM: u64 = 256 << 20;

    fn block(insts: &[Inst], end: Inst, taken: usize, not_taken: Option<usize>) -> Block {
        let pc = RAM_BASE;
        let insts: Vec<(u64, Inst, u8)> =
            insts.iter().enumerate().map(|(i, &x)| (pc + 4 * i as u64, x, 4)).collect();
        let end_pc = pc + 4 * insts.len() as u64;
        Block {
            pc,
            insts,
            end: End::Branch {
                pc: end_pc,
                inst: end,
                taken: Target::Block(taken),
                not_taken: not_taken.map_or(Target::Exit(end_pc + 4), Target::Block),
            },
            guards: Vec::new(),
            call: None,
        }
    }

    /// The matrix kernel's inner loop: two pointers, one compared with an
    /// end pointer.
    #[test]
    fn a_pointer_loop_is_counted_with_a_range_per_pointer() {
        let b = block(
            &[
                Lw { rd: 11, rs1: 14, imm: 0 },
                Lw { rd: 15, rs1: 13, imm: 0 },
                Addi { rd: 14, rs1: 14, imm: 4 },
                Addi { rd: 13, rs1: 13, imm: 64 },
                Mulw { rd: 15, rs1: 15, rs2: 11 },
                Addw { rd: 12, rs1: 12, rs2: 15 },
                Sw { rs1: 13, rs2: 12, imm: -8 },
            ],
            Bne { rs1: 14, rs2: 16, imm: -28 },
            0,
            None,
        );
        let lp = CountedLoop::of(&b, 0, RAM).expect("counted");
        assert_eq!((lp.iv, lp.step, lp.bound), (14, 4, 16));
        assert_eq!(
            lp.ranges,
            vec![
                Range { base: 14, index: None, step: 4, lo: 0, hi: 4, stores: false },
                // the load before x13's increment, the store 64 further on
                Range { base: 13, index: None, step: 64, lo: 0, hi: 60, stores: true },
            ]
        );
        assert_eq!(lp.cap, (RAM / 4 / 64).min(MAX_ITERATIONS));
    }

    #[test]
    fn loops_that_cannot_be_counted_are_left_alone() {
        let counted = |insts: &[Inst], end: Inst, taken: usize, not_taken: Option<usize>| {
            CountedLoop::of(&block(insts, end, taken, not_taken), 0, RAM).is_some()
        };
        let bump = Addi { rd: 5, rs1: 5, imm: -1 };
        // A count down to zero: counted (`beq` not taken to itself too).
        assert!(counted(&[bump], Bne { rs1: 5, rs2: 0, imm: -4 }, 0, None));
        assert!(counted(&[bump], Beq { rs1: 5, rs2: 0, imm: 8 }, 1, Some(0)));
        // The branch leaves when taken.
        assert!(!counted(&[bump], Bne { rs1: 5, rs2: 0, imm: 8 }, 1, Some(0)));
        // An ordered test must face the way the counter steps.
        assert!(counted(&[bump], Blt { rs1: 0, rs2: 5, imm: -4 }, 0, None));
        assert!(!counted(&[bump], Blt { rs1: 5, rs2: 0, imm: -4 }, 0, None));
        assert!(!counted(&[bump], Bge { rs1: 0, rs2: 5, imm: -4 }, 0, None));
        // The bound changes in the loop, or the counter changes twice.
        let bound_moves = [bump, Addi { rd: 6, rs1: 6, imm: 1 }];
        assert!(!counted(&bound_moves, Bne { rs1: 5, rs2: 6, imm: -8 }, 0, None));
        assert!(!counted(&[bump, bump], Bne { rs1: 5, rs2: 0, imm: -8 }, 0, None));
        // A base register loaded in the loop (pointer chasing).
        let chase = [bump, Ld { rd: 7, rs1: 7, imm: 0 }];
        assert!(!counted(&chase, Bne { rs1: 5, rs2: 0, imm: -8 }, 0, None));
        // An AMO.
        let amo = [
            bump,
            Amo { op: crate::isa::AmoOp::Add, rd: 8, rs1: 9, rs2: 8, double: true, aqrl: 0 },
        ];
        assert!(!counted(&amo, Bne { rs1: 5, rs2: 0, imm: -8 }, 0, None));
    }

    /// cpubench's matrix loop: gcc reloads the spilled bound (`ld t6,
    /// 24(sp)`) in every iteration, after using t6 for a product's factor.
    /// Counted with that load as the bound's reload; not when the loop also
    /// stores (it might write the bound's slot), when the reload's base
    /// changes in the loop, or when a later instruction overwrites it.
    #[test]
    fn a_bound_reloaded_from_memory_is_counted_with_its_load() {
        let reload = Ld { rd: 31, rs1: 2, imm: 24 };
        let body = |extra: &[Inst]| {
            let mut v = vec![
                Ld { rd: 31, rs1: 28, imm: 0 },
                Ld { rd: 5, rs1: 20, imm: 0 },
                Addi { rd: 28, rs1: 28, imm: 192 },
                Addi { rd: 20, rs1: 20, imm: 8 },
                Mul { rd: 5, rs1: 5, rs2: 31 },
                reload,
                Add { rd: 29, rs1: 29, rs2: 5 },
            ];
            v.extend_from_slice(extra);
            v
        };
        let of = |insts: &[Inst]| {
            let end = Bne { rs1: 31, rs2: 28, imm: -4 * insts.len() as i32 };
            CountedLoop::of(&block(insts, end, 0, None), 0, RAM)
        };
        let lp = of(&body(&[])).expect("counted");
        assert_eq!((lp.iv, lp.bound, lp.reload), (28, 31, Some(reload)));
        assert_eq!(lp.ranges.len(), 3, "the rows, the column, the bound's slot: {:?}", lp.ranges);
        assert!(of(&body(&[Sd { rs1: 10, rs2: 29, imm: 0 }])).is_none());
        assert!(of(&body(&[Addi { rd: 2, rs1: 2, imm: 16 }])).is_none());
        assert!(of(&body(&[Addi { rd: 31, rs1: 31, imm: 1 }])).is_none());
        // A load of another width is not taken.
        let mut half = body(&[]);
        half[5] = Lh { rd: 31, rs1: 2, imm: 24 };
        assert!(of(&half).is_none());
    }

    /// Every ordered branch, taken or not taken to itself, either operand
    /// order: which way the counter must step, and the test it stands for.
    #[test]
    fn ordered_exits_are_counted_toward_their_bound() {
        let test = |end: Inst, taken: usize, not_taken: Option<usize>, step: i32| {
            let b = block(&[Addi { rd: 5, rs1: 5, imm: step }], end, taken, not_taken);
            CountedLoop::of(&b, 0, RAM).map(|lp| (lp.iv, lp.bound, lp.test))
        };
        let before = |signed, inclusive| Some((5, 6, Test::Before { signed, inclusive }));
        // taken to itself: `x5 < x6`, `x6 < x5`, `x5 >= x6`, `x6 >= x5`
        assert_eq!(test(Blt { rs1: 5, rs2: 6, imm: -4 }, 0, None, 1), before(true, false));
        assert_eq!(test(Bltu { rs1: 6, rs2: 5, imm: -4 }, 0, None, -2), before(false, false));
        assert_eq!(test(Bge { rs1: 5, rs2: 6, imm: -4 }, 0, None, -1), before(true, true));
        assert_eq!(test(Bgeu { rs1: 6, rs2: 5, imm: -4 }, 0, None, 4), before(false, true));
        // not taken to itself: `bge x5, x6` leaves when x5 >= x6
        assert_eq!(test(Bge { rs1: 5, rs2: 6, imm: 8 }, 1, Some(0), 1), before(true, false));
        assert_eq!(test(Bltu { rs1: 5, rs2: 6, imm: 8 }, 1, Some(0), -1), before(false, true));
        // the wrong way round for the step
        assert_eq!(test(Blt { rs1: 5, rs2: 6, imm: -4 }, 0, None, -1), None);
        assert_eq!(test(Bgeu { rs1: 6, rs2: 5, imm: -4 }, 0, None, -4), None);
        assert_eq!(test(Bne { rs1: 5, rs2: 6, imm: -4 }, 0, None, 3), Some((5, 6, Test::Unequal)));
        // `addiw` steps are noted, for the entry's 32-bit checks
        let b = block(
            &[Addiw { rd: 5, rs1: 5, imm: 1 }, Lw { rd: 7, rs1: 8, imm: 0 }],
            Blt { rs1: 5, rs2: 0, imm: -8 },
            0,
            None,
        );
        let lp = CountedLoop::of(&b, 0, RAM).expect("counted");
        assert_eq!(
            (lp.checks, lp.test),
            (vec![(5, 1, Check::Sext32)], Test::Before { signed: true, inclusive: false })
        );
    }

    /// CoreMark-style `A[i * N + j] += v` with unsigned 32-bit indices, as
    /// gcc -O2 compiles it: the address is `a1 + (zext32(a4) << 1)`,
    /// recomputed in each iteration from a counter stepped by `addiw`.
    #[test]
    fn an_indexed_access_is_counted_with_the_index_checked() {
        let b = block(
            &[
                Slli { rd: 13, rs1: 14, imm: 32 },
                Srli { rd: 15, rs1: 13, imm: 31 },
                Add { rd: 15, rs1: 11, rs2: 15 },
                Lhu { rd: 13, rs1: 15, imm: 0 },
                Addiw { rd: 14, rs1: 14, imm: 1 },
                Addw { rd: 13, rs1: 13, rs2: 16 },
                Sh { rs1: 15, rs2: 13, imm: 0 },
            ],
            Bne { rs1: 12, rs2: 14, imm: -24 },
            0,
            None,
        );
        let lp = CountedLoop::of(&b, 0, RAM).expect("counted");
        assert_eq!((lp.iv, lp.step, lp.bound, lp.test), (14, 1, 12, Test::Unequal));
        assert_eq!(
            lp.ranges,
            vec![Range { base: 11, index: Some((14, 1)), step: 2, lo: 0, hi: 2, stores: true }]
        );
        assert_eq!(lp.checks, vec![(14, 1, Check::Below2p31), (14, 1, Check::Sext32)]);
        // The same index taken after the step: the range starts a step on.
        let mut late = b.clone();
        late.insts.swap(0, 4);
        late.insts.swap(1, 4);
        late.insts.swap(2, 4);
        late.insts.swap(3, 4);
        let lp = CountedLoop::of(&late, 0, RAM).expect("counted");
        assert_eq!((lp.ranges[0].lo, lp.ranges[0].hi), (2, 4));
        // Not an index: shifted too far, a variant base, or a base
        // computed from last iteration's value (read before it is set).
        let with = |insts: &[Inst]| {
            CountedLoop::of(&block(insts, Bne { rs1: 12, rs2: 14, imm: -8 }, 0, None), 0, RAM)
        };
        let bump = Addiw { rd: 14, rs1: 14, imm: 1 };
        let load = Lw { rd: 10, rs1: 15, imm: 0 };
        assert!(with(&[
            Slli { rd: 15, rs1: 14, imm: 2 },
            Add { rd: 15, rs1: 15, rs2: 11 },
            load,
            bump
        ])
        .is_some());
        assert!(with(&[
            Slli { rd: 15, rs1: 14, imm: 13 },
            Add { rd: 15, rs1: 15, rs2: 11 },
            load,
            bump
        ])
        .is_none());
        assert!(with(&[
            Slli { rd: 15, rs1: 14, imm: 2 },
            Add { rd: 15, rs1: 15, rs2: 10 },
            load,
            bump
        ])
        .is_none());
        assert!(with(&[
            load,
            Slli { rd: 15, rs1: 14, imm: 2 },
            Add { rd: 15, rs1: 15, rs2: 11 },
            bump
        ])
        .is_none());
    }

    /// A unit entered at an inner loop's head whose outer loop comes back
    /// to that same head: the head is shared, and the code generator wraps
    /// the entry checks and the loop in one more `loop` for the outer back
    /// edge, so the inner loop gets its copy on every pass.
    #[test]
    fn a_head_shared_with_an_outer_loop_gets_an_outer_loop() {
        use crate::jit::codegen::{generate, CodegenOptions};
        use crate::jit::layout::MemoryLayout;
        use crate::jit::region::{analyse, Region};
        use crate::jit::threshold::Tier;
        let inner = block(
            &[Lw { rd: 11, rs1: 14, imm: 0 }, Addi { rd: 14, rs1: 14, imm: 4 }],
            Bne { rs1: 14, rs2: 16, imm: -8 },
            0,
            Some(1),
        );
        let pc = inner.pc + 12;
        let latch = Block {
            pc,
            insts: vec![(pc, Addi { rd: 16, rs1: 16, imm: 64 }, 4)],
            end: End::Goto(Target::Block(0)),
            guards: Vec::new(),
            call: None,
        };
        let region =
            Region { entry: RAM_BASE, blocks: vec![inner, latch], extra_pages: Vec::new() };
        let cfg = analyse(&mut region.clone());
        assert!(CountedLoop::of(&region.blocks[0], 0, RAM).is_some());
        assert!(!heads_only_itself(&region.blocks, &cfg, 0));
        let layout = MemoryLayout {
            state: 1024,
            ram: 65536,
            ram_len: 1 << 20,
            page_flags: 8192,
            shared: false,
            min_pages: 18,
            max_pages: None,
            typed_table: false,
        };
        let wat = |counted_loops| {
            let opts = CodegenOptions {
                tier: Tier::Optimizing,
                strict_align: false,
                data_bare: true,
                atomic: false,
                chain: false,
                inline_tlb_entries: 256,
                access_groups: true,
                counted_loops,
                record_misses: false,
                nested_calls: false,
            };
            wasmprinter::print_bytes(generate(&region, &layout, opts).wasm).expect("valid")
        };
        let loops = |w: &str| w.lines().filter(|l| l.trim().starts_with("loop")).count();
        // off: the one loop both back edges take; on: the outer loop, the
        // copy and the loop (the load needs no page-flag loop)
        assert_eq!((loops(&wat(false)), loops(&wat(true))), (1, 3));
        // Without the outer back edge it heads only itself.
        let mut alone = region.clone();
        alone.blocks[1].end = End::Indirect { pc, len: 4, rd: 0, rs1: 1, imm: 0 };
        let cfg = analyse(&mut alone);
        assert!(heads_only_itself(&alone.blocks, &cfg, 0));
    }

    /// With the option, the loop's code comes twice (the unchecked copy
    /// first, with no bounds check), and the store's range gets a loop over
    /// its pages' flags; without it, once.
    #[test]
    fn the_unchecked_copy_comes_before_the_loop() {
        use crate::jit::codegen::{generate, CodegenOptions};
        use crate::jit::layout::MemoryLayout;
        use crate::jit::region::Region;
        use crate::jit::threshold::Tier;
        let mut b = block(
            &[
                Lw { rd: 11, rs1: 14, imm: 0 },
                Addi { rd: 14, rs1: 14, imm: 4 },
                Sw { rs1: 13, rs2: 11, imm: 0 },
            ],
            Bne { rs1: 14, rs2: 16, imm: -12 },
            0,
            Some(1),
        );
        let exit = Block {
            pc: b.pc + 16,
            insts: vec![],
            end: End::Indirect { pc: b.pc + 16, len: 4, rd: 0, rs1: 1, imm: 0 },
            guards: Vec::new(),
            call: None,
        };
        b.pc = RAM_BASE;
        let region = Region { entry: RAM_BASE, blocks: vec![b, exit], extra_pages: Vec::new() };
        let layout = MemoryLayout {
            state: 1024,
            ram: 65536,
            ram_len: 1 << 20,
            page_flags: 8192,
            shared: false,
            min_pages: 18,
            max_pages: None,
            typed_table: false,
        };
        let wat = |counted_loops| {
            let opts = CodegenOptions {
                tier: Tier::Optimizing,
                strict_align: false,
                data_bare: true,
                atomic: false,
                chain: false,
                inline_tlb_entries: 256,
                access_groups: true,
                counted_loops,
                record_misses: false,
                nested_calls: false,
            };
            wasmprinter::print_bytes(generate(&region, &layout, opts).wasm).expect("valid")
        };
        let count = |w: &str, what: &str| w.lines().filter(|l| l.trim().starts_with(what)).count();
        let (off, on) = (wat(false), wat(true));
        assert_eq!((count(&off, "loop"), count(&on, "loop")), (1, 3), "{on}");
        assert_eq!((count(&off, "i64.load32_s"), count(&on, "i64.load32_s")), (1, 2));
        assert_eq!((count(&off, "i64.store32"), count(&on, "i64.store32")), (1, 2));
        // The copy's accesses come first and have no check between them
        // and the loop's start: the first load follows the copy's `loop`.
        let copy = on.find("loop").expect("a loop");
        let first_load = on.find("i64.load32_s").expect("a load");
        assert!(copy < first_load);
        assert!(!on[copy..first_load].contains("i64.gt_u"), "{on}");
    }
}
