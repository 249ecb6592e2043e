//! Decoder: raw instruction bits -> [`Inst`].
//!
//! Two entry points behind [`decode`]: `decode32` for the base 32-bit
//! encodings and `decode16` for RVC, which expands each compressed
//! instruction to the `Inst` of its 32-bit equivalent. Both are plain bit
//! manipulation over the opcode map of the unprivileged spec (chapter
//! "RV32/64G Instruction Set Listings") and the RVC chapter ("RVC Instruction
//! Set Listings"); anything not in those maps for RV64IMAC + Zicsr +
//! Zifencei + the privileged instructions is `Inst::Illegal`.
use super::{AmoOp, Inst, Reg};

/// Decode the instruction whose low bits are in `raw`.
///
/// If `raw & 3 != 3` the instruction is compressed: only the low 16 bits are
/// read and the length is 2; otherwise all 32 bits are read and the length is 4.
/// Illegal and reserved encodings give `Inst::Illegal { raw }` with `raw`
/// truncated to the instruction's length.
#[inline]
pub fn decode(raw: u32) -> (Inst, u8) {
    if raw & 3 == 3 {
        (decode32(raw), 4)
    } else {
        (decode16(raw as u16), 2)
    }
}

// ---------------------------------------------------------------------------
// 32-bit encodings

/// Major opcodes (inst[6:0]) that tunevm implements.
mod opcode {
    pub const LOAD: u32 = 0x03;
    pub const MISC_MEM: u32 = 0x0f;
    pub const OP_IMM: u32 = 0x13;
    pub const AUIPC: u32 = 0x17;
    pub const OP_IMM_32: u32 = 0x1b;
    pub const STORE: u32 = 0x23;
    pub const AMO: u32 = 0x2f;
    pub const OP: u32 = 0x33;
    pub const LUI: u32 = 0x37;
    pub const OP_32: u32 = 0x3b;
    pub const BRANCH: u32 = 0x63;
    pub const JALR: u32 = 0x67;
    pub const JAL: u32 = 0x6f;
    pub const SYSTEM: u32 = 0x73;
    /// custom-0: tunevm's GC extension.
    pub const CUSTOM_0: u32 = 0x0b;
}

#[inline(always)]
fn rd(raw: u32) -> Reg {
    ((raw >> 7) & 31) as Reg
}

#[inline(always)]
fn rs1(raw: u32) -> Reg {
    ((raw >> 15) & 31) as Reg
}

#[inline(always)]
fn rs2(raw: u32) -> Reg {
    ((raw >> 20) & 31) as Reg
}

#[inline(always)]
fn funct3(raw: u32) -> u32 {
    (raw >> 12) & 7
}

#[inline(always)]
fn funct7(raw: u32) -> u32 {
    raw >> 25
}

/// I-type immediate: inst[31:20], sign-extended.
#[inline(always)]
fn imm_i(raw: u32) -> i32 {
    (raw as i32) >> 20
}

/// S-type immediate: inst[31:25] | inst[11:7], sign-extended.
#[inline(always)]
fn imm_s(raw: u32) -> i32 {
    ((raw as i32) >> 25 << 5) | ((raw >> 7) & 0x1f) as i32
}

/// B-type immediate: imm[12|10:5] in inst[31:25], imm[4:1|11] in inst[11:7].
#[inline(always)]
fn imm_b(raw: u32) -> i32 {
    ((raw as i32) >> 31 << 12)
        | (((raw >> 7) & 1) << 11) as i32
        | (((raw >> 25) & 0x3f) << 5) as i32
        | (((raw >> 8) & 0xf) << 1) as i32
}

/// U-type immediate: inst[31:12] << 12.
#[inline(always)]
fn imm_u(raw: u32) -> i32 {
    (raw & 0xffff_f000) as i32
}

/// J-type immediate: imm[20|10:1|11|19:12] in inst[31:12].
#[inline(always)]
fn imm_j(raw: u32) -> i32 {
    ((raw as i32) >> 31 << 20)
        | (raw & 0x000f_f000) as i32
        | (((raw >> 20) & 1) << 11) as i32
        | (((raw >> 21) & 0x3ff) << 1) as i32
}

fn decode32(raw: u32) -> Inst {
    let illegal = Inst::Illegal { raw };
    let (rd, rs1, rs2) = (rd(raw), rs1(raw), rs2(raw));
    match raw & 0x7f {
        opcode::LUI => Inst::Lui { rd, imm: imm_u(raw) },
        opcode::AUIPC => Inst::Auipc { rd, imm: imm_u(raw) },
        opcode::JAL => Inst::Jal { rd, imm: imm_j(raw) },
        opcode::JALR if funct3(raw) == 0 => Inst::Jalr { rd, rs1, imm: imm_i(raw) },
        opcode::BRANCH => {
            let imm = imm_b(raw);
            match funct3(raw) {
                0 => Inst::Beq { rs1, rs2, imm },
                1 => Inst::Bne { rs1, rs2, imm },
                4 => Inst::Blt { rs1, rs2, imm },
                5 => Inst::Bge { rs1, rs2, imm },
                6 => Inst::Bltu { rs1, rs2, imm },
                7 => Inst::Bgeu { rs1, rs2, imm },
                _ => illegal,
            }
        }
        opcode::LOAD => {
            let imm = imm_i(raw);
            match funct3(raw) {
                0 => Inst::Lb { rd, rs1, imm },
                1 => Inst::Lh { rd, rs1, imm },
                2 => Inst::Lw { rd, rs1, imm },
                3 => Inst::Ld { rd, rs1, imm },
                4 => Inst::Lbu { rd, rs1, imm },
                5 => Inst::Lhu { rd, rs1, imm },
                6 => Inst::Lwu { rd, rs1, imm },
                _ => illegal,
            }
        }
        opcode::STORE => {
            let imm = imm_s(raw);
            match funct3(raw) {
                0 => Inst::Sb { rs1, rs2, imm },
                1 => Inst::Sh { rs1, rs2, imm },
                2 => Inst::Sw { rs1, rs2, imm },
                3 => Inst::Sd { rs1, rs2, imm },
                _ => illegal,
            }
        }
        opcode::OP_IMM => {
            let imm = imm_i(raw);
            // RV64I shifts: shamt is inst[25:20]; inst[31:26] selects the kind.
            let shamt = ((raw >> 20) & 0x3f) as i32;
            match (funct3(raw), raw >> 26) {
                (0, _) => Inst::Addi { rd, rs1, imm },
                (2, _) => Inst::Slti { rd, rs1, imm },
                (3, _) => Inst::Sltiu { rd, rs1, imm },
                (4, _) => Inst::Xori { rd, rs1, imm },
                (6, _) => Inst::Ori { rd, rs1, imm },
                (7, _) => Inst::Andi { rd, rs1, imm },
                (1, 0x00) => Inst::Slli { rd, rs1, imm: shamt },
                (5, 0x00) => Inst::Srli { rd, rs1, imm: shamt },
                (5, 0x10) => Inst::Srai { rd, rs1, imm: shamt },
                _ => illegal,
            }
        }
        opcode::OP_IMM_32 => {
            // Word shifts: shamt is inst[24:20]; inst[25] set is reserved.
            let shamt = rs2 as i32;
            match (funct3(raw), funct7(raw)) {
                (0, _) => Inst::Addiw { rd, rs1, imm: imm_i(raw) },
                (1, 0x00) => Inst::Slliw { rd, rs1, imm: shamt },
                (5, 0x00) => Inst::Srliw { rd, rs1, imm: shamt },
                (5, 0x20) => Inst::Sraiw { rd, rs1, imm: shamt },
                _ => illegal,
            }
        }
        opcode::OP => match (funct7(raw), funct3(raw)) {
            (0x00, 0) => Inst::Add { rd, rs1, rs2 },
            (0x20, 0) => Inst::Sub { rd, rs1, rs2 },
            (0x00, 1) => Inst::Sll { rd, rs1, rs2 },
            (0x00, 2) => Inst::Slt { rd, rs1, rs2 },
            (0x00, 3) => Inst::Sltu { rd, rs1, rs2 },
            (0x00, 4) => Inst::Xor { rd, rs1, rs2 },
            (0x00, 5) => Inst::Srl { rd, rs1, rs2 },
            (0x20, 5) => Inst::Sra { rd, rs1, rs2 },
            (0x00, 6) => Inst::Or { rd, rs1, rs2 },
            (0x00, 7) => Inst::And { rd, rs1, rs2 },
            (0x01, 0) => Inst::Mul { rd, rs1, rs2 },
            (0x01, 1) => Inst::Mulh { rd, rs1, rs2 },
            (0x01, 2) => Inst::Mulhsu { rd, rs1, rs2 },
            (0x01, 3) => Inst::Mulhu { rd, rs1, rs2 },
            (0x01, 4) => Inst::Div { rd, rs1, rs2 },
            (0x01, 5) => Inst::Divu { rd, rs1, rs2 },
            (0x01, 6) => Inst::Rem { rd, rs1, rs2 },
            (0x01, 7) => Inst::Remu { rd, rs1, rs2 },
            _ => illegal,
        },
        opcode::OP_32 => match (funct7(raw), funct3(raw)) {
            (0x00, 0) => Inst::Addw { rd, rs1, rs2 },
            (0x20, 0) => Inst::Subw { rd, rs1, rs2 },
            (0x00, 1) => Inst::Sllw { rd, rs1, rs2 },
            (0x00, 5) => Inst::Srlw { rd, rs1, rs2 },
            (0x20, 5) => Inst::Sraw { rd, rs1, rs2 },
            (0x01, 0) => Inst::Mulw { rd, rs1, rs2 },
            (0x01, 4) => Inst::Divw { rd, rs1, rs2 },
            (0x01, 5) => Inst::Divuw { rd, rs1, rs2 },
            (0x01, 6) => Inst::Remw { rd, rs1, rs2 },
            (0x01, 7) => Inst::Remuw { rd, rs1, rs2 },
            _ => illegal,
        },
        opcode::MISC_MEM => match funct3(raw) {
            // FENCE: "implementations shall ignore" rd, rs1 and reserved fm
            // values, treating them as a normal fence (unpriv. spec, 2.7).
            0 => Inst::Fence { pred: ((raw >> 24) & 0xf) as u8, succ: ((raw >> 20) & 0xf) as u8 },
            // FENCE.I: imm, rs1 and rd are reserved for finer-grained fences
            // and "base implementations shall ignore these fields" (Zifencei).
            1 => Inst::FenceI,
            _ => illegal,
        },
        opcode::SYSTEM => decode_system(raw, rd, rs1, rs2),
        opcode::AMO => decode_amo(raw, rd, rs1, rs2),
        opcode::CUSTOM_0 => decode_gc(raw, rd, rs1, rs2),
        _ => illegal,
    }
}

/// custom-0 (opcode 0x0b): the `gc.*` instructions ([`GcOp`]); any other
/// encoding in the space is illegal.
fn decode_gc(raw: u32, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
    use crate::isa::GcOp::*;
    let op = match (funct7(raw), funct3(raw)) {
        (0, 0) => Alloc,
        (0, 1) if rs1 == 0 && rs2 == 0 => Collect,
        (0, 2) => RootAdd,
        (1, 2) if rs2 == 0 => RootRemove,
        (0, 3) if rs2 == 0 => Stats,
        _ => return Inst::Illegal { raw },
    };
    Inst::Gc { op, rd, rs1, rs2 }
}

/// SYSTEM (opcode 0x73): ECALL/EBREAK/xRET/WFI/SFENCE.VMA and Zicsr.
fn decode_system(raw: u32, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
    let csr = (raw >> 20) as u16;
    match funct3(raw) {
        // The funct3=0 instructions are only defined with rd = rs1 = 0 (and
        // for all but SFENCE.VMA, an exact funct12).
        0 => match raw {
            0x0000_0073 => Inst::Ecall,
            0x0010_0073 => Inst::Ebreak,
            0x1020_0073 => Inst::Sret,
            0x3020_0073 => Inst::Mret,
            0x1050_0073 => Inst::Wfi,
            _ if raw & 0xfe00_7fff == 0x1200_0073 => Inst::SfenceVma { rs1, rs2 },
            _ => Inst::Illegal { raw },
        },
        1 => Inst::Csrrw { rd, rs1, csr },
        2 => Inst::Csrrs { rd, rs1, csr },
        3 => Inst::Csrrc { rd, rs1, csr },
        5 => Inst::Csrrwi { rd, uimm: rs1, csr },
        6 => Inst::Csrrsi { rd, uimm: rs1, csr },
        7 => Inst::Csrrci { rd, uimm: rs1, csr },
        _ => Inst::Illegal { raw },
    }
}

/// AMO (opcode 0x2f): LR/SC and AMO*.W/D. funct5 is inst[31:27], aq/rl are
/// inst[26:25].
fn decode_amo(raw: u32, rd: Reg, rs1: Reg, rs2: Reg) -> Inst {
    let double = match funct3(raw) {
        2 => false,
        3 => true,
        _ => return Inst::Illegal { raw },
    };
    let aqrl = ((raw >> 25) & 3) as u8;
    let op = match raw >> 27 {
        0x02 if rs2 == 0 => return Inst::Lr { rd, rs1, double, aqrl },
        0x03 => return Inst::Sc { rd, rs1, rs2, double, aqrl },
        0x01 => AmoOp::Swap,
        0x00 => AmoOp::Add,
        0x04 => AmoOp::Xor,
        0x0c => AmoOp::And,
        0x08 => AmoOp::Or,
        0x10 => AmoOp::Min,
        0x14 => AmoOp::Max,
        0x18 => AmoOp::Minu,
        0x1c => AmoOp::Maxu,
        _ => return Inst::Illegal { raw },
    };
    Inst::Amo { op, rd, rs1, rs2, double, aqrl }
}

// ---------------------------------------------------------------------------
// 16-bit (RVC) encodings

/// Bits `hi..=lo` of `c`, shifted down to bit 0.
#[inline(always)]
fn bits(c: u32, hi: u32, lo: u32) -> u32 {
    (c >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Sign-extend the low `width` bits of `x`.
#[inline(always)]
fn sext(x: u32, width: u32) -> i32 {
    let shift = 32 - width;
    ((x << shift) as i32) >> shift
}

/// A 3-bit compressed register field (rd', rs1', rs2') names x8..x15.
#[inline(always)]
fn creg(c: u32, lo: u32) -> Reg {
    8 + bits(c, lo + 2, lo) as Reg
}

/// The 6-bit immediate of CI-format instructions: imm[5] in c[12],
/// imm[4:0] in c[6:2], not yet sign-extended.
#[inline(always)]
fn ci_imm6(c: u32) -> u32 {
    (bits(c, 12, 12) << 5) | bits(c, 6, 2)
}

/// C.LW/C.SW offset: uimm[5:3] in c[12:10], uimm[2|6] in c[6:5].
#[inline(always)]
fn cl_w_offset(c: u32) -> i32 {
    ((bits(c, 12, 10) << 3) | (bits(c, 6, 6) << 2) | (bits(c, 5, 5) << 6)) as i32
}

/// C.LD/C.SD offset: uimm[5:3] in c[12:10], uimm[7:6] in c[6:5].
#[inline(always)]
fn cl_d_offset(c: u32) -> i32 {
    ((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6)) as i32
}

/// C.J offset: imm[11|4|9:8|10|6|7|3:1|5] in c[12:2].
#[inline(always)]
fn cj_offset(c: u32) -> i32 {
    let x = (bits(c, 12, 12) << 11)
        | (bits(c, 11, 11) << 4)
        | (bits(c, 10, 9) << 8)
        | (bits(c, 8, 8) << 10)
        | (bits(c, 7, 7) << 6)
        | (bits(c, 6, 6) << 7)
        | (bits(c, 5, 3) << 1)
        | (bits(c, 2, 2) << 5);
    sext(x, 12)
}

/// C.BEQZ/C.BNEZ offset: imm[8|4:3] in c[12:10], imm[7:6|2:1|5] in c[6:2].
#[inline(always)]
fn cb_offset(c: u32) -> i32 {
    let x = (bits(c, 12, 12) << 8)
        | (bits(c, 11, 10) << 3)
        | (bits(c, 6, 5) << 6)
        | (bits(c, 4, 3) << 1)
        | (bits(c, 2, 2) << 5);
    sext(x, 9)
}

const SP: Reg = 2;
const RA: Reg = 1;

fn decode16(half: u16) -> Inst {
    let c = half as u32;
    let illegal = Inst::Illegal { raw: c };
    let funct3 = bits(c, 15, 13);
    match (c & 3, funct3) {
        // ---- quadrant 0 ----
        (0, 0) => {
            // C.ADDI4SPN: nzuimm[5:4|9:6|2|3] in c[12:5]; nzuimm = 0 is
            // reserved (this also makes the all-zero halfword illegal).
            let nzuimm = (bits(c, 12, 11) << 4)
                | (bits(c, 10, 7) << 6)
                | (bits(c, 6, 6) << 2)
                | (bits(c, 5, 5) << 3);
            if nzuimm == 0 {
                return illegal;
            }
            Inst::Addi { rd: creg(c, 2), rs1: SP, imm: nzuimm as i32 }
        }
        (0, 2) => Inst::Lw { rd: creg(c, 2), rs1: creg(c, 7), imm: cl_w_offset(c) },
        (0, 3) => Inst::Ld { rd: creg(c, 2), rs1: creg(c, 7), imm: cl_d_offset(c) },
        (0, 6) => Inst::Sw { rs1: creg(c, 7), rs2: creg(c, 2), imm: cl_w_offset(c) },
        (0, 7) => Inst::Sd { rs1: creg(c, 7), rs2: creg(c, 2), imm: cl_d_offset(c) },
        // 001 C.FLD, 101 C.FSD (no FPU), 100 reserved.
        (0, _) => illegal,

        // ---- quadrant 1 ----
        (1, 0) => {
            // C.ADDI; rd = 0 (C.NOP and hints) and imm = 0 are HINTs.
            let rd = bits(c, 11, 7) as Reg;
            Inst::Addi { rd, rs1: rd, imm: sext(ci_imm6(c), 6) }
        }
        (1, 1) => {
            // C.ADDIW (RV64); rd = 0 is reserved.
            let rd = bits(c, 11, 7) as Reg;
            if rd == 0 {
                return illegal;
            }
            Inst::Addiw { rd, rs1: rd, imm: sext(ci_imm6(c), 6) }
        }
        (1, 2) => Inst::Addi {
            // C.LI; rd = 0 is a HINT.
            rd: bits(c, 11, 7) as Reg,
            rs1: 0,
            imm: sext(ci_imm6(c), 6),
        },
        (1, 3) => {
            let rd = bits(c, 11, 7) as Reg;
            if rd == SP {
                // C.ADDI16SP: nzimm[9] in c[12], nzimm[4|6|8:7|5] in c[6:2].
                let x = (bits(c, 12, 12) << 9)
                    | (bits(c, 6, 6) << 4)
                    | (bits(c, 5, 5) << 6)
                    | (bits(c, 4, 3) << 7)
                    | (bits(c, 2, 2) << 5);
                if x == 0 {
                    return illegal;
                }
                Inst::Addi { rd: SP, rs1: SP, imm: sext(x, 10) }
            } else {
                // C.LUI: nzimm[17] in c[12], nzimm[16:12] in c[6:2];
                // nzimm = 0 is reserved, rd = 0 is a HINT.
                let x = ci_imm6(c);
                if x == 0 {
                    return illegal;
                }
                Inst::Lui { rd, imm: sext(x, 6) << 12 }
            }
        }
        (1, 4) => {
            let rd = creg(c, 7);
            match bits(c, 11, 10) {
                // C.SRLI / C.SRAI: shamt[5] in c[12]; shamt = 0 is a HINT.
                0 => Inst::Srli { rd, rs1: rd, imm: ci_imm6(c) as i32 },
                1 => Inst::Srai { rd, rs1: rd, imm: ci_imm6(c) as i32 },
                2 => Inst::Andi { rd, rs1: rd, imm: sext(ci_imm6(c), 6) },
                _ => {
                    let rs2 = creg(c, 2);
                    match (bits(c, 12, 12), bits(c, 6, 5)) {
                        (0, 0) => Inst::Sub { rd, rs1: rd, rs2 },
                        (0, 1) => Inst::Xor { rd, rs1: rd, rs2 },
                        (0, 2) => Inst::Or { rd, rs1: rd, rs2 },
                        (0, 3) => Inst::And { rd, rs1: rd, rs2 },
                        (1, 0) => Inst::Subw { rd, rs1: rd, rs2 },
                        (1, 1) => Inst::Addw { rd, rs1: rd, rs2 },
                        // c[12]=1, c[6:5]=10/11: reserved.
                        _ => illegal,
                    }
                }
            }
        }
        (1, 5) => Inst::Jal { rd: 0, imm: cj_offset(c) },
        (1, 6) => Inst::Beq { rs1: creg(c, 7), rs2: 0, imm: cb_offset(c) },
        (1, 7) => Inst::Bne { rs1: creg(c, 7), rs2: 0, imm: cb_offset(c) },

        // ---- quadrant 2 ----
        (2, 0) => {
            // C.SLLI; rd = 0 and shamt = 0 are HINTs.
            let rd = bits(c, 11, 7) as Reg;
            Inst::Slli { rd, rs1: rd, imm: ci_imm6(c) as i32 }
        }
        (2, 2) => {
            // C.LWSP: uimm[5] in c[12], uimm[4:2|7:6] in c[6:2]; rd = 0 reserved.
            let rd = bits(c, 11, 7) as Reg;
            if rd == 0 {
                return illegal;
            }
            let off = (bits(c, 12, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6);
            Inst::Lw { rd, rs1: SP, imm: off as i32 }
        }
        (2, 3) => {
            // C.LDSP: uimm[5] in c[12], uimm[4:3|8:6] in c[6:2]; rd = 0 reserved.
            let rd = bits(c, 11, 7) as Reg;
            if rd == 0 {
                return illegal;
            }
            let off = (bits(c, 12, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6);
            Inst::Ld { rd, rs1: SP, imm: off as i32 }
        }
        (2, 4) => {
            let r1 = bits(c, 11, 7) as Reg;
            let r2 = bits(c, 6, 2) as Reg;
            match (bits(c, 12, 12), r1, r2) {
                // C.JR with rs1 = 0 is reserved.
                (0, 0, 0) => illegal,
                (0, _, 0) => Inst::Jalr { rd: 0, rs1: r1, imm: 0 },
                // C.MV; rd = 0 is a HINT.
                (0, _, _) => Inst::Add { rd: r1, rs1: 0, rs2: r2 },
                (_, 0, 0) => Inst::Ebreak,
                (_, _, 0) => Inst::Jalr { rd: RA, rs1: r1, imm: 0 },
                // C.ADD; rd = 0 is a HINT.
                _ => Inst::Add { rd: r1, rs1: r1, rs2: r2 },
            }
        }
        (2, 6) => {
            // C.SWSP: uimm[5:2|7:6] in c[12:7].
            let off = (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6);
            Inst::Sw { rs1: SP, rs2: bits(c, 6, 2) as Reg, imm: off as i32 }
        }
        (2, 7) => {
            // C.SDSP: uimm[5:3|8:6] in c[12:7].
            let off = (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6);
            Inst::Sd { rs1: SP, rs2: bits(c, 6, 2) as Reg, imm: off as i32 }
        }
        // 001 C.FLDSP, 101 C.FSDSP: no FPU.
        _ => illegal,
    }
}
