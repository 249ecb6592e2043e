//! Counted loops: a one-block loop whose exit test compares an induction
//! variable with a loop-invariant register runs all but its last iteration
//! in a copy with no checks at all.
//!
//! A block qualifies ([`CountedLoop::of`]) when it branches back to itself
//! while `iv != bound` (a `bne` taken to itself, or a `beq` not taken),
//! `iv` is written in the block only by one `addi iv, iv, step`, `bound` is
//! not written in it, every instruction is ALU code or a plain load or
//! store, and every access's base register is either not written in the
//! block or such an induction variable. Then the iteration count n (the
//! first at which `iv` reaches `bound`) is known at the loop's entry, and
//! so is every byte each access will touch.
//!
//! At each entry from outside the loop (code before its `loop`, which back
//! edges do not reach), generated code computes n and checks, once, for
//! the first m = n - 1 iterations: the byte range each access reaches over
//! them lies inside RAM, no page a store range touches holds translated
//! code, and the budget pays for them. If every check passes it charges the
//! budget for the m iterations and runs them in a copy of the block with no
//! bounds, flag or budget check, its back edge a compare of `iv` with its
//! value after m iterations. Then (or when a check failed) the loop itself
//! runs as before, every check in place: it does the last iteration and
//! takes the exit. The copy has no exit of its own, so what the exits write
//! back and the budget's exactness are unchanged.
//!
//! Invariants: the copy runs only iterations the guest's loop runs (m < n,
//! and `iv != bound` after each), with the budget already charged for them;
//! every access in it is inside RAM by the range checks (the ranges are
//! exact, not estimates: step and offsets are constants, m is capped so
//! that no range wraps or spans more than a quarter of RAM); a store in it
//! never reaches a page of translated code (flags checked for every page
//! of the range; only this hart's own compiles set flags between its
//! instructions, and none happens inside the copy).
use wasm_encoder::{BlockType, Function};

use super::locals::LocalOps;
use super::memory::plain_access;
use super::structure::Ctl;
use super::Emitter;
use crate::isa::{Inst, Kind};
use crate::jit::region::{Block, End, Target};
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
    pub base: u8,
    /// The base's step per iteration (0: the base is not written).
    pub step: i64,
    /// Lowest and one past the highest byte, relative to the base's value
    /// at the loop's entry, in the first iteration.
    pub lo: i64,
    pub hi: i64,
    pub stores: bool,
}

/// A loop [`Emitter::counted_loop`] can run unchecked: see the module
/// documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CountedLoop {
    /// The induction variable the exit test reads, and its step.
    pub iv: u8,
    pub step: i64,
    /// The register it is compared with (not written in the loop; may be x0).
    pub bound: u8,
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
        let continues_while_unequal = match inst {
            Inst::Bne { .. } => taken == own,
            Inst::Beq { .. } => not_taken == own && taken != own,
            _ => false,
        };
        if !continues_while_unequal {
            return None;
        }
        let mut writes = [0u8; 32];
        let mut step = [0i64; 32];
        let mut bumped_at = [usize::MAX; 32];
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
            if let Inst::Addi { rs1, imm, .. } = *inst {
                if rs1 as usize == rd && imm != 0 {
                    step[rd] = imm as i64;
                    bumped_at[rd] = k;
                }
            }
        }
        let invariant = |r: u8| r == 0 || writes[r as usize] == 0;
        let induction =
            |r: u8| r != 0 && writes[r as usize] == 1 && bumped_at[r as usize] != usize::MAX;
        let (Some(a), Some(c)) = inst.operands() else { return None };
        let (iv, bound) = if induction(a) && invariant(c) {
            (a, c)
        } else if induction(c) && invariant(a) {
            (c, a)
        } else {
            return None;
        };
        let mut ranges: Vec<Range> = Vec::new();
        let mut widest = 1u64;
        for (k, (_, inst, _)) in block.insts.iter().enumerate() {
            let Some((base, imm, size, store)) = plain_access(inst) else { continue };
            let (st, adj) = if invariant(base) {
                (0, 0)
            } else if induction(base) {
                let st = step[base as usize];
                (st, if k > bumped_at[base as usize] { st } else { 0 })
            } else {
                return None;
            };
            widest = widest.max(st.unsigned_abs());
            let (lo, hi) = (imm as i64 + adj, imm as i64 + adj + size as i64);
            // Accesses off one base with one step share a range while it
            // stays within MAX_RANGE bytes.
            let near = |r: &&mut Range| {
                r.base == base && r.step == st && r.hi.max(hi) - r.lo.min(lo) <= MAX_RANGE
            };
            match ranges.iter_mut().find(near) {
                Some(r) => {
                    r.lo = r.lo.min(lo);
                    r.hi = r.hi.max(hi);
                    r.stores |= store;
                }
                None => ranges.push(Range { base, step: st, lo, hi, stores: store }),
            }
        }
        let cap = MAX_ITERATIONS.min(ram_len / 4 / widest);
        (cap >= MIN_ITERATIONS).then_some(CountedLoop {
            iv,
            step: step[iv as usize],
            bound,
            ranges,
            cap,
        })
    }
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
        // n = the distance from iv to bound in steps, exactly.
        let abs = lp.step.unsigned_abs();
        if lp.step > 0 {
            self.get(s, lp.bound);
            self.get(s, lp.iv);
        } else {
            self.get(s, lp.iv);
            self.get(s, lp.bound);
        }
        s.i64_sub().tee_local(m);
        if abs.is_power_of_two() {
            s.i64_const(abs as i64 - 1).i64_and();
        } else {
            s.i64_const(abs as i64).i64_rem_u();
        }
        s.i64_const(0).i64_ne().br_if(0);
        s.get_local(m);
        if abs.is_power_of_two() {
            s.i64_const(abs.trailing_zeros() as i64).i64_shr_u();
        } else {
            s.i64_const(abs as i64).i64_div_u();
        }
        // m = n - 1, within [MIN_ITERATIONS, cap]
        s.i64_const(1).i64_sub().tee_local(m);
        s.i64_const(MIN_ITERATIONS as i64).i64_sub();
        s.i64_const((lp.cap - MIN_ITERATIONS) as i64).i64_gt_u().br_if(0);
        s.get_local(l.budget).get_local(m).i64_const(charge).i64_mul().i64_lt_s().br_if(0);
        for r in &lp.ranges {
            let one = r.hi - r.lo;
            // t0 = the range's lowest byte as a RAM offset
            self.get(s, r.base);
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
                Range { base: 14, step: 4, lo: 0, hi: 4, stores: false },
                // the load before x13's increment, the store 64 further on
                Range { base: 13, step: 64, lo: 0, hi: 60, stores: true },
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
        // The branch leaves when taken, or compares with `<`.
        assert!(!counted(&[bump], Bne { rs1: 5, rs2: 0, imm: 8 }, 1, Some(0)));
        assert!(!counted(&[bump], Blt { rs1: 0, rs2: 5, imm: -4 }, 0, None));
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
