//! The arithmetic of pure instructions ([`Kind::Alu`](super::Kind::Alu)) and
//! of branch conditions, as plain functions of register values. The
//! interpreter executes them (calling the per-operation functions from its
//! one match) and the code generator folds constants with them ([`eval`]),
//! so both agree by construction.

use super::Inst;

/// Sign-extend the low 32 bits (the `*W` instructions' result rule).
#[inline(always)]
pub fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

// One function per operation, shared by several instructions (the
// register and the immediate form; the 64- and 32-bit form where they
// differ only in the final sign extension). The interpreter calls them
// from its own match (one dispatch per instruction); `eval` maps every
// pure instruction to them for the code generator's folding.

#[inline(always)]
pub fn add(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}
#[inline(always)]
pub fn sub(a: u64, b: u64) -> u64 {
    a.wrapping_sub(b)
}
/// Less than, signed (SLT, BLT, BGE).
#[inline(always)]
pub fn lt(a: u64, b: u64) -> bool {
    (a as i64) < (b as i64)
}
/// Less than, unsigned (SLTU, BLTU, BGEU).
#[inline(always)]
pub fn ltu(a: u64, b: u64) -> bool {
    a < b
}
#[inline(always)]
pub fn slt(a: u64, b: u64) -> u64 {
    lt(a, b) as u64
}
#[inline(always)]
pub fn sltu(a: u64, b: u64) -> u64 {
    ltu(a, b) as u64
}
/// Shifts use the low 6 bits of the amount (RV64).
#[inline(always)]
pub fn sll(a: u64, b: u64) -> u64 {
    a << (b & 63)
}
#[inline(always)]
pub fn srl(a: u64, b: u64) -> u64 {
    a >> (b & 63)
}
#[inline(always)]
pub fn sra(a: u64, b: u64) -> u64 {
    ((a as i64) >> (b & 63)) as u64
}
#[inline(always)]
pub fn addw(a: u64, b: u64) -> u64 {
    sext32(a.wrapping_add(b))
}
#[inline(always)]
pub fn subw(a: u64, b: u64) -> u64 {
    sext32(a.wrapping_sub(b))
}
/// 32-bit shifts use the low 5 bits of the amount.
#[inline(always)]
pub fn sllw(a: u64, b: u64) -> u64 {
    sext32(((a as u32) << (b & 31)) as u64)
}
#[inline(always)]
pub fn srlw(a: u64, b: u64) -> u64 {
    sext32(((a as u32) >> (b & 31)) as u64)
}
#[inline(always)]
pub fn sraw(a: u64, b: u64) -> u64 {
    ((a as i32) >> (b & 31)) as i64 as u64
}
#[inline(always)]
pub fn mul(a: u64, b: u64) -> u64 {
    a.wrapping_mul(b)
}
#[inline(always)]
pub fn mulh(a: u64, b: u64) -> u64 {
    ((a as i64 as i128 * b as i64 as i128) >> 64) as u64
}
#[inline(always)]
pub fn mulhsu(a: u64, b: u64) -> u64 {
    ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64
}
#[inline(always)]
pub fn mulhu(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) >> 64) as u64
}
/// Division by zero gives all ones; overflow gives the dividend.
#[inline(always)]
pub fn div(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as u64
    }
}
#[inline(always)]
pub fn divu(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(u64::MAX)
}
/// Remainder by zero gives the dividend; overflow gives 0.
#[inline(always)]
pub fn rem(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        a as u64
    } else {
        a.wrapping_rem(b) as u64
    }
}
#[inline(always)]
pub fn remu(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        a % b
    }
}
#[inline(always)]
pub fn mulw(a: u64, b: u64) -> u64 {
    sext32(a.wrapping_mul(b))
}
#[inline(always)]
pub fn divw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as i64 as u64
    }
}
#[inline(always)]
pub fn divuw(a: u64, b: u64) -> u64 {
    (a as u32).checked_div(b as u32).map_or(u64::MAX, |q| sext32(q as u64))
}
#[inline(always)]
pub fn remw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        a as i64 as u64
    } else {
        a.wrapping_rem(b) as i64 as u64
    }
}
#[inline(always)]
pub fn remuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(if b == 0 { a } else { a % b } as u64)
}

/// The value a pure ALU instruction writes to `rd`, given its `pc`, the value
/// `a` of `rs1` and `b` of `rs2` (instructions with an immediate ignore `b`,
/// LUI and AUIPC both). `None` if `inst` is not of kind `Alu`.
pub fn eval(inst: &Inst, pc: u64, a: u64, b: u64) -> Option<u64> {
    use Inst::*;
    let imm = |i: i32| i as i64 as u64;
    Some(match *inst {
        Lui { imm: i, .. } => imm(i),
        Auipc { imm: i, .. } => add(pc, imm(i)),
        Addi { imm: i, .. } => add(a, imm(i)),
        Slti { imm: i, .. } => slt(a, imm(i)),
        Sltiu { imm: i, .. } => sltu(a, imm(i)),
        Xori { imm: i, .. } => a ^ imm(i),
        Ori { imm: i, .. } => a | imm(i),
        Andi { imm: i, .. } => a & imm(i),
        Slli { imm: i, .. } => sll(a, imm(i)),
        Srli { imm: i, .. } => srl(a, imm(i)),
        Srai { imm: i, .. } => sra(a, imm(i)),
        Add { .. } => add(a, b),
        Sub { .. } => sub(a, b),
        Sll { .. } => sll(a, b),
        Slt { .. } => slt(a, b),
        Sltu { .. } => sltu(a, b),
        Xor { .. } => a ^ b,
        Srl { .. } => srl(a, b),
        Sra { .. } => sra(a, b),
        Or { .. } => a | b,
        And { .. } => a & b,
        Addiw { imm: i, .. } => addw(a, imm(i)),
        Slliw { imm: i, .. } => sllw(a, imm(i)),
        Srliw { imm: i, .. } => srlw(a, imm(i)),
        Sraiw { imm: i, .. } => sraw(a, imm(i)),
        Addw { .. } => addw(a, b),
        Subw { .. } => subw(a, b),
        Sllw { .. } => sllw(a, b),
        Srlw { .. } => srlw(a, b),
        Sraw { .. } => sraw(a, b),
        Mul { .. } => mul(a, b),
        Mulh { .. } => mulh(a, b),
        Mulhsu { .. } => mulhsu(a, b),
        Mulhu { .. } => mulhu(a, b),
        Div { .. } => div(a, b),
        Divu { .. } => divu(a, b),
        Rem { .. } => rem(a, b),
        Remu { .. } => remu(a, b),
        Mulw { .. } => mulw(a, b),
        Divw { .. } => divw(a, b),
        Divuw { .. } => divuw(a, b),
        Remw { .. } => remw(a, b),
        Remuw { .. } => remuw(a, b),
        _ => return None,
    })
}

/// Whether a branch with operands `a` (rs1) and `b` (rs2) is taken; `None`
/// if `inst` is not a branch.
#[inline(always)]
pub fn branch_taken(inst: &Inst, a: u64, b: u64) -> Option<bool> {
    use Inst::*;
    Some(match inst {
        Beq { .. } => a == b,
        Bne { .. } => a != b,
        Blt { .. } => lt(a, b),
        Bge { .. } => !lt(a, b),
        Bltu { .. } => ltu(a, b),
        Bgeu { .. } => !ltu(a, b),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{decode, Kind};

    /// Every 32-bit encoding that decodes to an ALU instruction has a value,
    /// and nothing else has one.
    #[test]
    fn eval_covers_exactly_the_alu_kind() {
        // A spread of opcodes: OP, OP-IMM, OP-32, OP-IMM-32, LUI, AUIPC, M.
        for raw in [
            0x0000_0033u32,
            0x4000_0033,
            0x0200_0033,
            0x0200_4033,
            0x0200_703b,
            0x0000_0013,
            0x0000_2013,
            0x4000_5013,
            0x0000_001b,
            0x0000_003b,
            0x0000_0037,
            0x0000_0017,
            0x0000_0063,
            0x0000_006f,
            0x0000_0003,
            0x0000_0023,
            0x0000_0073,
            0x1000_202f,
        ] {
            let (inst, _) = decode(raw | (5 << 7) | (6 << 15) | (7 << 20));
            assert_eq!(eval(&inst, 0, 1, 2).is_some(), inst.kind() == Kind::Alu, "{inst:?}");
        }
    }

    #[test]
    fn division_edge_cases_follow_the_m_extension() {
        let div = Inst::Div { rd: 1, rs1: 2, rs2: 3 };
        let rem = Inst::Rem { rd: 1, rs1: 2, rs2: 3 };
        let divw = Inst::Divw { rd: 1, rs1: 2, rs2: 3 };
        assert_eq!(eval(&div, 0, 7, 0), Some(u64::MAX));
        assert_eq!(eval(&rem, 0, 7, 0), Some(7));
        assert_eq!(eval(&div, 0, i64::MIN as u64, u64::MAX), Some(i64::MIN as u64));
        assert_eq!(eval(&rem, 0, i64::MIN as u64, u64::MAX), Some(0));
        assert_eq!(eval(&divw, 0, i32::MIN as u32 as u64, u64::MAX), Some(i32::MIN as i64 as u64));
    }
}
