//! The arithmetic of pure instructions ([`Kind::Alu`](super::Kind::Alu)) and
//! of branch conditions, as plain functions of register values. The
//! interpreter executes them and the code generator folds constants with
//! them, so both agree by construction.

use super::Inst;

/// Sign-extend the low 32 bits (the `*W` instructions' result rule).
#[inline(always)]
pub fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

/// The value a pure ALU instruction writes to `rd`, given its `pc`, the value
/// `a` of `rs1` and `b` of `rs2` (instructions with an immediate ignore `b`,
/// LUI and AUIPC both). `None` if `inst` is not of kind `Alu`.
///
/// Division follows the M extension: by zero gives all ones (quotient) or the
/// dividend (remainder); overflow gives the dividend (quotient) or 0.
#[inline(always)]
pub fn eval(inst: &Inst, pc: u64, a: u64, b: u64) -> Option<u64> {
    use Inst::*;
    let imm = |i: i32| i as i64 as u64;
    Some(match *inst {
        Lui { imm: i, .. } => imm(i),
        Auipc { imm: i, .. } => pc.wrapping_add(imm(i)),
        Addi { imm: i, .. } => a.wrapping_add(imm(i)),
        Slti { imm: i, .. } => ((a as i64) < i as i64) as u64,
        Sltiu { imm: i, .. } => (a < imm(i)) as u64,
        Xori { imm: i, .. } => a ^ imm(i),
        Ori { imm: i, .. } => a | imm(i),
        Andi { imm: i, .. } => a & imm(i),
        Slli { imm: i, .. } => a << (i & 63),
        Srli { imm: i, .. } => a >> (i & 63),
        Srai { imm: i, .. } => ((a as i64) >> (i & 63)) as u64,
        Add { .. } => a.wrapping_add(b),
        Sub { .. } => a.wrapping_sub(b),
        Sll { .. } => a << (b & 63),
        Slt { .. } => ((a as i64) < (b as i64)) as u64,
        Sltu { .. } => (a < b) as u64,
        Xor { .. } => a ^ b,
        Srl { .. } => a >> (b & 63),
        Sra { .. } => ((a as i64) >> (b & 63)) as u64,
        Or { .. } => a | b,
        And { .. } => a & b,
        Addiw { imm: i, .. } => sext32(a.wrapping_add(imm(i))),
        Slliw { imm: i, .. } => sext32(((a as u32) << (i & 31)) as u64),
        Srliw { imm: i, .. } => sext32(((a as u32) >> (i & 31)) as u64),
        Sraiw { imm: i, .. } => ((a as i32) >> (i & 31)) as i64 as u64,
        Addw { .. } => sext32(a.wrapping_add(b)),
        Subw { .. } => sext32(a.wrapping_sub(b)),
        Sllw { .. } => sext32(((a as u32) << (b & 31)) as u64),
        Srlw { .. } => sext32(((a as u32) >> (b & 31)) as u64),
        Sraw { .. } => ((a as i32) >> (b & 31)) as i64 as u64,
        Mul { .. } => a.wrapping_mul(b),
        Mulh { .. } => ((a as i64 as i128 * b as i64 as i128) >> 64) as u64,
        Mulhsu { .. } => ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64,
        Mulhu { .. } => ((a as u128 * b as u128) >> 64) as u64,
        Div { .. } => {
            let (a, b) = (a as i64, b as i64);
            if b == 0 {
                u64::MAX
            } else {
                a.wrapping_div(b) as u64
            }
        }
        Divu { .. } => a.checked_div(b).unwrap_or(u64::MAX),
        Rem { .. } => {
            let (a, b) = (a as i64, b as i64);
            if b == 0 {
                a as u64
            } else {
                a.wrapping_rem(b) as u64
            }
        }
        Remu { .. } => {
            if b == 0 {
                a
            } else {
                a % b
            }
        }
        Mulw { .. } => sext32(a.wrapping_mul(b)),
        Divw { .. } => {
            let (a, b) = (a as i32, b as i32);
            if b == 0 {
                u64::MAX
            } else {
                a.wrapping_div(b) as i64 as u64
            }
        }
        Divuw { .. } => (a as u32).checked_div(b as u32).map_or(u64::MAX, |q| sext32(q as u64)),
        Remw { .. } => {
            let (a, b) = (a as i32, b as i32);
            if b == 0 {
                a as i64 as u64
            } else {
                a.wrapping_rem(b) as i64 as u64
            }
        }
        Remuw { .. } => {
            let (a, b) = (a as u32, b as u32);
            sext32(if b == 0 { a } else { a % b } as u64)
        }
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
        Blt { .. } => (a as i64) < (b as i64),
        Bge { .. } => (a as i64) >= (b as i64),
        Bltu { .. } => a < b,
        Bgeu { .. } => a >= b,
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
