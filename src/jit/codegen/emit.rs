//! Per-instruction translation: the dispatch over [`Inst`] and the ALU and
//! M-extension instructions (loads, stores and AMOs are in `memory`).
//!
//! Invariants: pure instructions (`Kind::Alu`) are folded when their inputs
//! are known and skipped when they write x0; every result goes through
//! [`Emitter::set`]; 32-bit (`*W`) results are sign-extended to 64 bits;
//! division and remainder are guarded so that no guest operands make wasm
//! trap (RISC-V's results for division by zero and overflow).
use wasm_encoder::{BlockType, InstructionSink, ValType};

use super::module::MULHU;
use super::Emitter;
use crate::isa::{Inst, Kind};

/// The register `inst` copies into its destination unchanged, if it is an
/// ALU instruction with an identity operand (0 added, or'ed or xor'ed,
/// a shift by 0).
fn copy_source(inst: &Inst) -> Option<u8> {
    use Inst::*;
    match *inst {
        Addi { rs1, imm: 0, .. } | Ori { rs1, imm: 0, .. } | Xori { rs1, imm: 0, .. } => Some(rs1),
        // (Not `srli`: after an `slli t, t, 32` left out as half of the
        // zero-extension idiom, `t` does not hold its architectural value.)
        Slli { rs1, imm: 0, .. } | Srai { rs1, imm: 0, .. } => Some(rs1),
        Add { rs1, rs2: 0, .. } | Or { rs1, rs2: 0, .. } | Xor { rs1, rs2: 0, .. } => Some(rs1),
        Sub { rs1, rs2: 0, .. } => Some(rs1),
        Add { rs1: 0, rs2, .. } | Or { rs1: 0, rs2, .. } | Xor { rs1: 0, rs2, .. } => Some(rs2),
        _ => None,
    }
}

impl Emitter<'_> {
    /// One compiled instruction; `refund` is what a side exit before it
    /// gives back to the budget.
    pub(super) fn inst(
        &mut self,
        s: &mut InstructionSink,
        pc: u64,
        inst: Inst,
        len: u64,
        refund: u64,
    ) {
        use Inst::*;
        let rd = inst.dest();
        if inst.kind() == Kind::Alu {
            if let Some(v) = self.fold(&inst, pc) {
                self.set_const(s, rd, v);
                return;
            }
            if rd == 0 {
                return;
            }
        }
        let _ = len;
        // A register copy (`mv`, which is `addi rd, rs, 0`, or `c.mv`, which
        // is `add rd, x0, rs`) is a plain local copy: the optimizing
        // compilers fold the add of 0 anyway, V8's baseline compiler
        // (Liftoff, which runs every unit until V8 optimizes it) does not.
        if let Some(src) = copy_source(&inst) {
            self.get(s, src);
            self.set(s, rd);
            return;
        }
        match inst {
            Lb { rd, rs1, imm } => self.load(s, rd, rs1, imm, 1, true, pc, refund),
            Lh { rd, rs1, imm } => self.load(s, rd, rs1, imm, 2, true, pc, refund),
            Lw { rd, rs1, imm } => self.load(s, rd, rs1, imm, 4, true, pc, refund),
            Ld { rd, rs1, imm } => self.load(s, rd, rs1, imm, 8, true, pc, refund),
            Lbu { rd, rs1, imm } => self.load(s, rd, rs1, imm, 1, false, pc, refund),
            Lhu { rd, rs1, imm } => self.load(s, rd, rs1, imm, 2, false, pc, refund),
            Lwu { rd, rs1, imm } => self.load(s, rd, rs1, imm, 4, false, pc, refund),
            Sb { rs1, rs2, imm } => self.store(s, rs1, rs2, imm, 1, pc, refund),
            Sh { rs1, rs2, imm } => self.store(s, rs1, rs2, imm, 2, pc, refund),
            Sw { rs1, rs2, imm } => self.store(s, rs1, rs2, imm, 4, pc, refund),
            Sd { rs1, rs2, imm } => self.store(s, rs1, rs2, imm, 8, pc, refund),
            Amo { op, rd, rs1, rs2, double, .. } => {
                self.amo(s, op, rd, rs1, rs2, double, pc, refund)
            }
            // With other harts on other threads a fence orders this hart's
            // accesses for them: wasm's one fence (sequentially consistent).
            Fence { .. } if self.atomic => {
                s.atomic_fence();
            }
            Fence { .. } => {}
            Lui { rd, imm } => self.set_const(s, rd, imm as i64 as u64),
            Auipc { rd, imm } => self.set_const(s, rd, pc.wrapping_add(imm as i64 as u64)),
            Addi { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_add();
            }),
            Xori { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_xor();
            }),
            Ori { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_or();
            }),
            Andi { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_and();
            }),
            // `slli t, x, 32` then `srli t, t, k`: the zero-extension
            // idiom (RV64 without Zba), done in one step below.
            Slli { rd, imm: 32, .. } if self.zext_pair_at(self.cur + 1) == Some(rd) => {}
            Slli { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm & 63, |s| {
                s.i64_shl();
            }),
            Srli { rd, rs1, imm } => match self.zext_source(rd, rs1) {
                Some(x) => self.zext_shifted(s, rd, x, imm & 63),
                None => self.op_imm(s, rd, rs1, imm & 63, |s| {
                    s.i64_shr_u();
                }),
            },
            Srai { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm & 63, |s| {
                s.i64_shr_s();
            }),
            Slti { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_lt_s().i64_extend_i32_u();
            }),
            Sltiu { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_lt_u().i64_extend_i32_u();
            }),
            Add { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_add();
            }),
            Sub { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_sub();
            }),
            Sll { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_shl();
            }),
            Srl { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_shr_u();
            }),
            Sra { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_shr_s();
            }),
            Xor { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_xor();
            }),
            Or { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_or();
            }),
            And { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_and();
            }),
            Slt { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_lt_s().i64_extend_i32_u();
            }),
            Sltu { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_lt_u().i64_extend_i32_u();
            }),
            Mul { rd, rs1, rs2 } => self.op(s, rd, rs1, rs2, |s| {
                s.i64_mul();
            }),
            Addiw { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm, |s| {
                s.i64_add().i32_wrap_i64().i64_extend_i32_s();
            }),
            Slliw { rd, rs1, imm } => self.op32_imm(s, rd, rs1, imm & 31, |s| {
                s.i32_shl();
            }),
            Srliw { rd, rs1, imm } => self.op32_imm(s, rd, rs1, imm & 31, |s| {
                s.i32_shr_u();
            }),
            Sraiw { rd, rs1, imm } => self.op32_imm(s, rd, rs1, imm & 31, |s| {
                s.i32_shr_s();
            }),
            Addw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_add();
            }),
            Subw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_sub();
            }),
            Sllw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_shl();
            }),
            Srlw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_shr_u();
            }),
            Sraw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_shr_s();
            }),
            Mulw { rd, rs1, rs2 } => self.op32(s, rd, rs1, rs2, |s| {
                s.i32_mul();
            }),
            Mulhu { rd, rs1, rs2 } => {
                self.get(s, rs1);
                self.get(s, rs2);
                s.call(MULHU);
                self.uses_mulhu = true;
                self.set(s, rd);
            }
            Mulh { rd, rs1, rs2 } | Mulhsu { rd, rs1, rs2 } => {
                // mulhu(a, b) - (a < 0 ? b : 0) [- (b < 0 ? a : 0) for mulh]
                self.get(s, rs1);
                self.get(s, rs2);
                s.call(MULHU);
                self.uses_mulhu = true;
                self.get(s, rs1);
                s.i64_const(63).i64_shr_s();
                self.get(s, rs2);
                s.i64_and().i64_sub();
                if matches!(inst, Mulh { .. }) {
                    self.get(s, rs2);
                    s.i64_const(63).i64_shr_s();
                    self.get(s, rs1);
                    s.i64_and().i64_sub();
                }
                self.set(s, rd);
            }
            Div { rd, rs1, rs2 } => {
                // b == 0 ? -1 : b == -1 ? 0 - a : a / b
                self.get(s, rs2);
                s.i64_eqz().if_(BlockType::Result(ValType::I64)).i64_const(-1).else_();
                self.get(s, rs2);
                s.i64_const(-1).i64_eq().if_(BlockType::Result(ValType::I64)).i64_const(0);
                self.get(s, rs1);
                s.i64_sub().else_();
                self.get(s, rs1);
                self.get(s, rs2);
                s.i64_div_s().end().end();
                self.set(s, rd);
            }
            Divu { rd, rs1, rs2 } => {
                self.get(s, rs2);
                s.i64_eqz().if_(BlockType::Result(ValType::I64)).i64_const(-1).else_();
                self.get(s, rs1);
                self.get(s, rs2);
                s.i64_div_u().end();
                self.set(s, rd);
            }
            Rem { rd, rs1, rs2 } | Remu { rd, rs1, rs2 } => {
                // b == 0 ? a : a % b (i64.rem_s of MIN by -1 is 0, no trap)
                self.get(s, rs2);
                s.i64_eqz().if_(BlockType::Result(ValType::I64));
                self.get(s, rs1);
                s.else_();
                self.get(s, rs1);
                self.get(s, rs2);
                if matches!(inst, Rem { .. }) {
                    s.i64_rem_s();
                } else {
                    s.i64_rem_u();
                }
                s.end();
                self.set(s, rd);
            }
            Divw { rd, rs1, rs2 } => {
                self.get32(s, rs2);
                s.i32_eqz().if_(BlockType::Result(ValType::I32)).i32_const(-1).else_();
                self.get32(s, rs2);
                s.i32_const(-1).i32_eq().if_(BlockType::Result(ValType::I32)).i32_const(0);
                self.get32(s, rs1);
                s.i32_sub().else_();
                self.get32(s, rs1);
                self.get32(s, rs2);
                s.i32_div_s().end().end().i64_extend_i32_s();
                self.set(s, rd);
            }
            Divuw { rd, rs1, rs2 } => {
                self.get32(s, rs2);
                s.i32_eqz().if_(BlockType::Result(ValType::I32)).i32_const(-1).else_();
                self.get32(s, rs1);
                self.get32(s, rs2);
                s.i32_div_u().end().i64_extend_i32_s();
                self.set(s, rd);
            }
            Remw { rd, rs1, rs2 } | Remuw { rd, rs1, rs2 } => {
                self.get32(s, rs2);
                s.i32_eqz().if_(BlockType::Result(ValType::I32));
                self.get32(s, rs1);
                s.else_();
                self.get32(s, rs1);
                self.get32(s, rs2);
                if matches!(inst, Remw { .. }) {
                    s.i32_rem_s();
                } else {
                    s.i32_rem_u();
                }
                s.end().i64_extend_i32_s();
                self.set(s, rd);
            }
            other => unreachable!("not compiled inline: {other:?}"),
        }
    }

    /// If the instruction at index `k` of the current block is `srli t,
    /// t, k` right after `slli t, x, 32` with `x == t` (the in-place
    /// zero-extension idiom), `t`: the `slli` is then left out, since the
    /// `srli` reads `x` from `t` itself and nothing can observe `t` between
    /// two adjacent ALU instructions.
    fn zext_pair_at(&self, k: usize) -> Option<u8> {
        let insts = &self.blocks[self.block].insts;
        match (insts.get(k.wrapping_sub(1)), insts.get(k)) {
            (
                Some(&(_, Inst::Slli { rd: t, rs1: x, imm: 32 }, _)),
                Some(&(_, Inst::Srli { rd, rs1, .. }, _)),
            ) if t == x && rd == t && rs1 == t && t != 0 => Some(t),
            _ => None,
        }
    }

    /// For `srli rd, rs1, k` at the current instruction: the register that
    /// holds `x` when the previous instruction was `slli rs1, x, 32`, so the
    /// pair is `zext32(x)` shifted (`x` untouched by the `slli`, or the
    /// in-place idiom whose `slli` was left out).
    fn zext_source(&self, rd: u8, rs1: u8) -> Option<u8> {
        if self.cur == 0 || rs1 == 0 {
            return None;
        }
        match self.blocks[self.block].insts[self.cur - 1].1 {
            Inst::Slli { rd: t, rs1: x, imm: 32 } if t == rs1 && x != t && x != 0 => Some(x),
            Inst::Slli { .. } if self.zext_pair_at(self.cur) == Some(rd) => Some(rd),
            _ => None,
        }
    }

    /// `x[rd] = (x[x] << 32) >> k` (logical), as `zext32(x[x])` shifted
    /// left by `32 - k` or right by `k - 32`: Cranelift and V8 turn the
    /// zero-extension into a 32-bit move and a small left shift into an
    /// address's scale, where the pair of 64-bit shifts costs two
    /// dependent shifts and copies.
    fn zext_shifted(&mut self, s: &mut InstructionSink, rd: u8, x: u8, k: i32) {
        self.get32(s, x);
        s.i64_extend_i32_u();
        if k < 32 {
            s.i64_const(32 - k as i64).i64_shl();
        } else if k > 32 {
            s.i64_const(k as i64 - 32).i64_shr_u();
        }
        self.set(s, rd);
    }

    fn get32(&mut self, s: &mut InstructionSink, r: u8) {
        self.get(s, r);
        s.i32_wrap_i64();
    }

    fn op(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        a: u8,
        b: u8,
        f: impl Fn(&mut InstructionSink),
    ) {
        self.get(s, a);
        self.get(s, b);
        f(s);
        self.set(s, rd);
    }

    fn op_imm(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        a: u8,
        imm: i32,
        f: impl Fn(&mut InstructionSink),
    ) {
        self.get(s, a);
        s.i64_const(imm as i64);
        f(s);
        self.set(s, rd);
    }

    fn op32(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        a: u8,
        b: u8,
        f: impl Fn(&mut InstructionSink),
    ) {
        self.get32(s, a);
        self.get32(s, b);
        f(s);
        s.i64_extend_i32_s();
        self.set(s, rd);
    }

    fn op32_imm(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        a: u8,
        imm: i32,
        f: impl Fn(&mut InstructionSink),
    ) {
        self.get32(s, a);
        s.i32_const(imm);
        f(s);
        s.i64_extend_i32_s();
        self.set(s, rd);
    }
}
