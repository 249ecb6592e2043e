//! A tiny RV64IMAC + Zicsr + Zifencei + privileged assembler for tests.
//!
//! Each function returns the encoding of one instruction: `u32` for the
//! 32-bit forms, `u16` for the compressed (RVC) forms, whose names start with
//! `c_`. Operands come in the order the assembler text has them, so
//! `lw(A0, 8, SP)` is `lw a0,8(sp)`, `sw(A1, -4, S0)` is `sw a1,-4(s0)`,
//! `amoadd_w(A0, A1, A2)` is `amoadd.w a0,a1,(a2)` and
//! `csrrw(A0, MSCRATCH, A1)` is `csrrw a0,mscratch,a1`.
//!
//! Encoders are written from the unprivileged spec's opcode maps ("RV32/64G
//! Instruction Set Listings", "RVC Instruction Set Listings"), not from the
//! VM's decoder; tests/suite/cpu_asm.rs checks them against GNU as and against
//! `tunevm::isa::decode`. Out-of-range operands panic: a test that asks for
//! an unencodable instruction is a broken test. Reserved encodings that
//! tests need on purpose are written as raw hex where they are used.

/// An integer register number.
pub type Reg = u8;

pub const ZERO: Reg = 0;
pub const RA: Reg = 1;
pub const SP: Reg = 2;
pub const GP: Reg = 3;
pub const TP: Reg = 4;
pub const T0: Reg = 5;
pub const T1: Reg = 6;
pub const T2: Reg = 7;
pub const S0: Reg = 8;
pub const S1: Reg = 9;
pub const A0: Reg = 10;
pub const A1: Reg = 11;
pub const A2: Reg = 12;
pub const A3: Reg = 13;
pub const A4: Reg = 14;
pub const A5: Reg = 15;
pub const A6: Reg = 16;
pub const A7: Reg = 17;
pub const S2: Reg = 18;
pub const S3: Reg = 19;
pub const S4: Reg = 20;
pub const S5: Reg = 21;
pub const S6: Reg = 22;
pub const S7: Reg = 23;
pub const S8: Reg = 24;
pub const S9: Reg = 25;
pub const S10: Reg = 26;
pub const S11: Reg = 27;
pub const T3: Reg = 28;
pub const T4: Reg = 29;
pub const T5: Reg = 30;
pub const T6: Reg = 31;

// CSR addresses used by the tests: the VM's own constants.
#[allow(unused_imports)] // each test file uses a different subset
pub use tunevm::cpu::csr::{
    CYCLE, INSTRET, MARCHID, MCAUSE, MCOUNTEREN, MCYCLE, MEDELEG, MEPC, MHARTID, MIDELEG, MIE,
    MIMPID, MINSTRET, MIP, MISA, MSCRATCH, MSTATUS, MTVAL, MTVEC, MVENDORID, SATP, SCAUSE, SEPC,
    SIE, SIP, SSCRATCH, SSTATUS, STVAL, STVEC, TIME,
};

fn reg(r: Reg) -> u32 {
    assert!(r < 32, "register x{r} does not exist");
    r as u32
}

fn check_signed(imm: i64, bits: u32, what: &str) {
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    assert!((lo..=hi).contains(&imm), "{what}: {imm} does not fit in {bits} signed bits");
}

// ---------------------------------------------------------------------------
// 32-bit formats

/// R-type: funct7 | rs2 | rs1 | funct3 | rd | opcode.
pub fn r_type(opcode: u32, funct3: u32, funct7: u32, rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    (funct7 << 25) | (reg(rs2) << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | opcode
}

/// I-type: imm[11:0] | rs1 | funct3 | rd | opcode.
pub fn i_type(opcode: u32, funct3: u32, rd: Reg, rs1: Reg, imm: i32) -> u32 {
    check_signed(imm as i64, 12, "I-type immediate");
    (((imm as u32) & 0xfff) << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | opcode
}

/// S-type: imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode.
pub fn s_type(opcode: u32, funct3: u32, rs1: Reg, rs2: Reg, imm: i32) -> u32 {
    check_signed(imm as i64, 12, "S-type immediate");
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25)
        | (reg(rs2) << 20)
        | (reg(rs1) << 15)
        | (funct3 << 12)
        | ((imm & 0x1f) << 7)
        | opcode
}

/// B-type: imm[12|10:5] | rs2 | rs1 | funct3 | imm[4:1|11] | opcode.
pub fn b_type(funct3: u32, rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    check_signed(offset as i64, 13, "branch offset");
    assert!(offset % 2 == 0, "branch offset {offset} is odd");
    let o = offset as u32;
    (((o >> 12) & 1) << 31)
        | (((o >> 5) & 0x3f) << 25)
        | (reg(rs2) << 20)
        | (reg(rs1) << 15)
        | (funct3 << 12)
        | (((o >> 1) & 0xf) << 8)
        | (((o >> 11) & 1) << 7)
        | 0x63
}

/// U-type: imm[31:12] | rd | opcode. `imm20` is the 20-bit field.
pub fn u_type(opcode: u32, rd: Reg, imm20: u32) -> u32 {
    assert!(imm20 < 1 << 20, "U-type immediate {imm20:#x} is wider than 20 bits");
    (imm20 << 12) | (reg(rd) << 7) | opcode
}

/// J-type: imm[20|10:1|11|19:12] | rd | opcode.
pub fn j_type(rd: Reg, offset: i32) -> u32 {
    check_signed(offset as i64, 21, "jump offset");
    assert!(offset % 2 == 0, "jump offset {offset} is odd");
    let o = offset as u32;
    (((o >> 20) & 1) << 31)
        | (((o >> 1) & 0x3ff) << 21)
        | (((o >> 11) & 1) << 20)
        | (((o >> 12) & 0xff) << 12)
        | (reg(rd) << 7)
        | 0x6f
}

const OP: u32 = 0x33;
const OP_32: u32 = 0x3b;
const OP_IMM: u32 = 0x13;
const OP_IMM_32: u32 = 0x1b;
const LOAD: u32 = 0x03;
const STORE: u32 = 0x23;
const SYSTEM: u32 = 0x73;
const AMO: u32 = 0x2f;

// ---- RV64I: register-register
pub fn add(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 0, 0x00, rd, rs1, rs2)
}
pub fn sub(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 0, 0x20, rd, rs1, rs2)
}
pub fn sll(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 1, 0x00, rd, rs1, rs2)
}
pub fn slt(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 2, 0x00, rd, rs1, rs2)
}
pub fn sltu(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 3, 0x00, rd, rs1, rs2)
}
pub fn xor(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 4, 0x00, rd, rs1, rs2)
}
pub fn srl(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 5, 0x00, rd, rs1, rs2)
}
pub fn sra(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 5, 0x20, rd, rs1, rs2)
}
pub fn or(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 6, 0x00, rd, rs1, rs2)
}
pub fn and(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 7, 0x00, rd, rs1, rs2)
}
pub fn addw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 0, 0x00, rd, rs1, rs2)
}
pub fn subw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 0, 0x20, rd, rs1, rs2)
}
pub fn sllw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 1, 0x00, rd, rs1, rs2)
}
pub fn srlw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 5, 0x00, rd, rs1, rs2)
}
pub fn sraw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 5, 0x20, rd, rs1, rs2)
}

// ---- RV64I: register-immediate
pub fn addi(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 0, rd, rs1, imm)
}
pub fn slti(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 2, rd, rs1, imm)
}
pub fn sltiu(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 3, rd, rs1, imm)
}
pub fn xori(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 4, rd, rs1, imm)
}
pub fn ori(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 6, rd, rs1, imm)
}
pub fn andi(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM, 7, rd, rs1, imm)
}
/// RV64 shift by immediate: shamt is 6 bits (inst[25:20]), funct6 above it.
fn shift64(funct3: u32, funct6: u32, rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    assert!(shamt < 64, "shamt {shamt} out of range");
    (funct6 << 26) | (shamt << 20) | (reg(rs1) << 15) | (funct3 << 12) | (reg(rd) << 7) | OP_IMM
}
pub fn slli(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift64(1, 0x00, rd, rs1, shamt)
}
pub fn srli(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift64(5, 0x00, rd, rs1, shamt)
}
pub fn srai(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift64(5, 0x10, rd, rs1, shamt)
}
pub fn addiw(rd: Reg, rs1: Reg, imm: i32) -> u32 {
    i_type(OP_IMM_32, 0, rd, rs1, imm)
}
/// Word shift by immediate: shamt is 5 bits, funct7 above it.
fn shift32(funct3: u32, funct7: u32, rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    assert!(shamt < 32, "word shamt {shamt} out of range");
    r_type(OP_IMM_32, funct3, funct7, rd, rs1, shamt as Reg)
}
pub fn slliw(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift32(1, 0x00, rd, rs1, shamt)
}
pub fn srliw(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift32(5, 0x00, rd, rs1, shamt)
}
pub fn sraiw(rd: Reg, rs1: Reg, shamt: u32) -> u32 {
    shift32(5, 0x20, rd, rs1, shamt)
}

// ---- RV64I: upper immediates, jumps, branches
/// `lui rd, imm20`: rd = sext(imm20 << 12).
pub fn lui(rd: Reg, imm20: u32) -> u32 {
    u_type(0x37, rd, imm20)
}
/// `auipc rd, imm20`: rd = pc + sext(imm20 << 12).
pub fn auipc(rd: Reg, imm20: u32) -> u32 {
    u_type(0x17, rd, imm20)
}
pub fn jal(rd: Reg, offset: i32) -> u32 {
    j_type(rd, offset)
}
/// `jalr rd, imm(rs1)`.
pub fn jalr(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(0x67, 0, rd, rs1, imm)
}
pub fn beq(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(0, rs1, rs2, offset)
}
pub fn bne(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(1, rs1, rs2, offset)
}
pub fn blt(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(4, rs1, rs2, offset)
}
pub fn bge(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(5, rs1, rs2, offset)
}
pub fn bltu(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(6, rs1, rs2, offset)
}
pub fn bgeu(rs1: Reg, rs2: Reg, offset: i32) -> u32 {
    b_type(7, rs1, rs2, offset)
}

// ---- RV64I: loads and stores (`lw rd, imm(rs1)`, `sw rs2, imm(rs1)`)
pub fn lb(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 0, rd, rs1, imm)
}
pub fn lh(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 1, rd, rs1, imm)
}
pub fn lw(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 2, rd, rs1, imm)
}
pub fn ld(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 3, rd, rs1, imm)
}
pub fn lbu(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 4, rd, rs1, imm)
}
pub fn lhu(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 5, rd, rs1, imm)
}
pub fn lwu(rd: Reg, imm: i32, rs1: Reg) -> u32 {
    i_type(LOAD, 6, rd, rs1, imm)
}
pub fn sb(rs2: Reg, imm: i32, rs1: Reg) -> u32 {
    s_type(STORE, 0, rs1, rs2, imm)
}
pub fn sh(rs2: Reg, imm: i32, rs1: Reg) -> u32 {
    s_type(STORE, 1, rs1, rs2, imm)
}
pub fn sw(rs2: Reg, imm: i32, rs1: Reg) -> u32 {
    s_type(STORE, 2, rs1, rs2, imm)
}
pub fn sd(rs2: Reg, imm: i32, rs1: Reg) -> u32 {
    s_type(STORE, 3, rs1, rs2, imm)
}

// ---- fences and system
/// `fence pred, succ` (4-bit sets: i=8, o=4, r=2, w=1).
pub fn fence(pred: u32, succ: u32) -> u32 {
    assert!(pred < 16 && succ < 16);
    (pred << 24) | (succ << 20) | 0x0f
}
pub fn fence_i() -> u32 {
    0x0000_100f
}
pub fn ecall() -> u32 {
    0x0000_0073
}
pub fn ebreak() -> u32 {
    0x0010_0073
}
pub fn sret() -> u32 {
    0x1020_0073
}
pub fn mret() -> u32 {
    0x3020_0073
}
pub fn wfi() -> u32 {
    0x1050_0073
}
pub fn sfence_vma(rs1: Reg, rs2: Reg) -> u32 {
    r_type(SYSTEM, 0, 0x09, 0, rs1, rs2)
}

// ---- Zicsr (`csrrw rd, csr, rs1`, `csrrwi rd, csr, uimm`)
fn csr_type(funct3: u32, rd: Reg, csr: u16, rs1_or_uimm: u32) -> u32 {
    assert!(csr < 1 << 12);
    assert!(rs1_or_uimm < 32, "CSR rs1/uimm {rs1_or_uimm} out of range");
    ((csr as u32) << 20) | (rs1_or_uimm << 15) | (funct3 << 12) | (reg(rd) << 7) | SYSTEM
}
pub fn csrrw(rd: Reg, csr: u16, rs1: Reg) -> u32 {
    csr_type(1, rd, csr, reg(rs1))
}
pub fn csrrs(rd: Reg, csr: u16, rs1: Reg) -> u32 {
    csr_type(2, rd, csr, reg(rs1))
}
pub fn csrrc(rd: Reg, csr: u16, rs1: Reg) -> u32 {
    csr_type(3, rd, csr, reg(rs1))
}
pub fn csrrwi(rd: Reg, csr: u16, uimm: u32) -> u32 {
    csr_type(5, rd, csr, uimm)
}
pub fn csrrsi(rd: Reg, csr: u16, uimm: u32) -> u32 {
    csr_type(6, rd, csr, uimm)
}
pub fn csrrci(rd: Reg, csr: u16, uimm: u32) -> u32 {
    csr_type(7, rd, csr, uimm)
}
/// `csrr rd, csr` = `csrrs rd, csr, zero`.
pub fn csrr(rd: Reg, csr: u16) -> u32 {
    csrrs(rd, csr, ZERO)
}
/// `csrw csr, rs1` = `csrrw zero, csr, rs1`.
pub fn csrw(csr: u16, rs1: Reg) -> u32 {
    csrrw(ZERO, csr, rs1)
}
/// `csrs csr, rs1` = `csrrs zero, csr, rs1`.
pub fn csrs(csr: u16, rs1: Reg) -> u32 {
    csrrs(ZERO, csr, rs1)
}
/// `csrc csr, rs1` = `csrrc zero, csr, rs1`.
pub fn csrc(csr: u16, rs1: Reg) -> u32 {
    csrrc(ZERO, csr, rs1)
}

/// `csrsi csr, uimm` = `csrrsi zero, csr, uimm`.
pub fn csrsi(csr: u16, uimm: u32) -> u32 {
    csrrsi(ZERO, csr, uimm)
}
/// `csrci csr, uimm` = `csrrci zero, csr, uimm`.
pub fn csrci(csr: u16, uimm: u32) -> u32 {
    csrrci(ZERO, csr, uimm)
}

// ---- M
pub fn mul(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 0, 1, rd, rs1, rs2)
}
pub fn mulh(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 1, 1, rd, rs1, rs2)
}
pub fn mulhsu(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 2, 1, rd, rs1, rs2)
}
pub fn mulhu(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 3, 1, rd, rs1, rs2)
}
pub fn div(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 4, 1, rd, rs1, rs2)
}
pub fn divu(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 5, 1, rd, rs1, rs2)
}
pub fn rem(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 6, 1, rd, rs1, rs2)
}
pub fn remu(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP, 7, 1, rd, rs1, rs2)
}
pub fn mulw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 0, 1, rd, rs1, rs2)
}
pub fn divw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 4, 1, rd, rs1, rs2)
}
pub fn divuw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 5, 1, rd, rs1, rs2)
}
pub fn remw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 6, 1, rd, rs1, rs2)
}
pub fn remuw(rd: Reg, rs1: Reg, rs2: Reg) -> u32 {
    r_type(OP_32, 7, 1, rd, rs1, rs2)
}

// ---- A (`amoadd.w rd, rs2, (rs1)`, `lr.w rd, (rs1)`, `sc.w rd, rs2, (rs1)`)
/// Any A-extension instruction: funct5 | aq | rl | rs2 | rs1 | funct3 | rd | 0x2f.
pub fn amo(funct5: u32, double: bool, aq: bool, rl: bool, rd: Reg, rs2: Reg, rs1: Reg) -> u32 {
    let funct7 = (funct5 << 2) | ((aq as u32) << 1) | rl as u32;
    r_type(AMO, if double { 3 } else { 2 }, funct7, rd, rs1, rs2)
}
pub fn lr_w(rd: Reg, rs1: Reg) -> u32 {
    amo(0x02, false, false, false, rd, ZERO, rs1)
}
pub fn lr_d(rd: Reg, rs1: Reg) -> u32 {
    amo(0x02, true, false, false, rd, ZERO, rs1)
}
pub fn sc_w(rd: Reg, rs2: Reg, rs1: Reg) -> u32 {
    amo(0x03, false, false, false, rd, rs2, rs1)
}
pub fn sc_d(rd: Reg, rs2: Reg, rs1: Reg) -> u32 {
    amo(0x03, true, false, false, rd, rs2, rs1)
}
macro_rules! amo_ops {
    ($($w:ident $d:ident $funct5:expr;)*) => {$(
        pub fn $w(rd: Reg, rs2: Reg, rs1: Reg) -> u32 {
            amo($funct5, false, false, false, rd, rs2, rs1)
        }
        pub fn $d(rd: Reg, rs2: Reg, rs1: Reg) -> u32 {
            amo($funct5, true, false, false, rd, rs2, rs1)
        }
    )*};
}
amo_ops! {
    amoswap_w amoswap_d 0x01;
    amoadd_w amoadd_d 0x00;
    amoxor_w amoxor_d 0x04;
    amoand_w amoand_d 0x0c;
    amoor_w amoor_d 0x08;
    amomin_w amomin_d 0x10;
    amomax_w amomax_d 0x14;
    amominu_w amominu_d 0x18;
    amomaxu_w amomaxu_d 0x1c;
}

// ---------------------------------------------------------------------------
// RVC (RV64C). Register operands written rd'/rs1'/rs2' must be x8..x15.

fn creg(r: Reg) -> u16 {
    assert!((8..16).contains(&r), "x{r} is not a compressed register (x8..x15)");
    (r - 8) as u16
}

fn full_reg(r: Reg) -> u16 {
    reg(r) as u16
}

/// Bit `i` of `x`, placed at bit `to`.
fn bit(x: u32, i: u32, to: u32) -> u16 {
    (((x >> i) & 1) << to) as u16
}

/// Place bits of `x` at positions: `map[k] = (source bit, destination bit)`.
fn scatter(x: u32, map: &[(u32, u32)]) -> u16 {
    map.iter().map(|&(from, to)| bit(x, from, to)).fold(0, |a, b| a | b)
}

fn check_unsigned(x: u32, max: u32, align: u32, what: &str) {
    assert!(x <= max && x.is_multiple_of(align), "{what}: {x} not in 0..={max} step {align}");
}

/// `c.addi4spn rd', sp, nzuimm` (nzuimm in 4..=1020, multiple of 4).
pub fn c_addi4spn(rd: Reg, nzuimm: u32) -> u16 {
    check_unsigned(nzuimm, 1020, 4, "c.addi4spn nzuimm");
    assert!(nzuimm != 0, "c.addi4spn nzuimm = 0 is reserved");
    // nzuimm[5:4|9:6|2|3] in c[12:5].
    let f = scatter(nzuimm, &[(5, 12), (4, 11), (9, 10), (8, 9), (7, 8), (6, 7), (2, 6), (3, 5)]);
    f | (creg(rd) << 2)
}

/// CL/CS word: uimm[5:3] in c[12:10], uimm[2|6] in c[6:5].
fn cl_w(funct3: u16, r_low: Reg, uimm: u32, rs1: Reg) -> u16 {
    check_unsigned(uimm, 124, 4, "c.lw/c.sw offset");
    let f = scatter(uimm, &[(5, 12), (4, 11), (3, 10), (2, 6), (6, 5)]);
    (funct3 << 13) | f | (creg(rs1) << 7) | (creg(r_low) << 2)
}

/// CL/CS double: uimm[5:3] in c[12:10], uimm[7:6] in c[6:5].
fn cl_d(funct3: u16, r_low: Reg, uimm: u32, rs1: Reg) -> u16 {
    check_unsigned(uimm, 248, 8, "c.ld/c.sd offset");
    let f = scatter(uimm, &[(5, 12), (4, 11), (3, 10), (7, 6), (6, 5)]);
    (funct3 << 13) | f | (creg(rs1) << 7) | (creg(r_low) << 2)
}

/// `c.lw rd', uimm(rs1')`.
pub fn c_lw(rd: Reg, uimm: u32, rs1: Reg) -> u16 {
    cl_w(0b010, rd, uimm, rs1)
}
/// `c.ld rd', uimm(rs1')`.
pub fn c_ld(rd: Reg, uimm: u32, rs1: Reg) -> u16 {
    cl_d(0b011, rd, uimm, rs1)
}
/// `c.sw rs2', uimm(rs1')`.
pub fn c_sw(rs2: Reg, uimm: u32, rs1: Reg) -> u16 {
    cl_w(0b110, rs2, uimm, rs1)
}
/// `c.sd rs2', uimm(rs1')`.
pub fn c_sd(rs2: Reg, uimm: u32, rs1: Reg) -> u16 {
    cl_d(0b111, rs2, uimm, rs1)
}

/// CI with a 6-bit immediate: imm[5] in c[12], imm[4:0] in c[6:2].
fn ci(funct3: u16, quadrant: u16, rd: Reg, imm6: u32) -> u16 {
    (funct3 << 13)
        | bit(imm6, 5, 12)
        | (full_reg(rd) << 7)
        | (((imm6 & 0x1f) as u16) << 2)
        | quadrant
}

fn simm6(imm: i32, what: &str) -> u32 {
    check_signed(imm as i64, 6, what);
    (imm as u32) & 0x3f
}

pub fn c_nop() -> u16 {
    0x0001
}
/// `c.addi rd, imm` (imm in -32..=31).
pub fn c_addi(rd: Reg, imm: i32) -> u16 {
    ci(0b000, 0b01, rd, simm6(imm, "c.addi imm"))
}
/// `c.addiw rd, imm` (rd != 0).
pub fn c_addiw(rd: Reg, imm: i32) -> u16 {
    assert!(rd != 0, "c.addiw with rd = 0 is reserved");
    ci(0b001, 0b01, rd, simm6(imm, "c.addiw imm"))
}
/// `c.li rd, imm`.
pub fn c_li(rd: Reg, imm: i32) -> u16 {
    ci(0b010, 0b01, rd, simm6(imm, "c.li imm"))
}
/// `c.addi16sp sp, nzimm` (nzimm a nonzero multiple of 16 in -512..=496).
pub fn c_addi16sp(nzimm: i32) -> u16 {
    check_signed(nzimm as i64, 10, "c.addi16sp nzimm");
    assert!(nzimm != 0 && nzimm % 16 == 0, "c.addi16sp nzimm {nzimm}");
    let x = nzimm as u32;
    // nzimm[9] in c[12], nzimm[4|6|8:7|5] in c[6:2].
    let f = scatter(x, &[(9, 12), (4, 6), (6, 5), (8, 4), (7, 3), (5, 2)]);
    (0b011 << 13) | f | (full_reg(SP) << 7) | 0b01
}
/// `c.lui rd, nzimm`: rd = sext(nzimm << 12) with nzimm in -32..=31, nonzero
/// (rd != 0, rd != sp).
pub fn c_lui(rd: Reg, nzimm: i32) -> u16 {
    assert!(rd != 0 && rd != SP, "c.lui rd must not be zero or sp");
    assert!(nzimm != 0, "c.lui nzimm = 0 is reserved");
    ci(0b011, 0b01, rd, simm6(nzimm, "c.lui nzimm"))
}

/// CB-format ALU: funct3=100 | imm[5] | funct2 | rd' | imm[4:0] | 01.
fn cb_alu(funct2: u16, rd: Reg, imm6: u32) -> u16 {
    (0b100 << 13)
        | bit(imm6, 5, 12)
        | (funct2 << 10)
        | (creg(rd) << 7)
        | (((imm6 & 0x1f) as u16) << 2)
        | 0b01
}
/// `c.srli rd', shamt` (1..=63).
pub fn c_srli(rd: Reg, shamt: u32) -> u16 {
    assert!((1..64).contains(&shamt), "c.srli shamt {shamt}");
    cb_alu(0b00, rd, shamt)
}
/// `c.srai rd', shamt` (1..=63).
pub fn c_srai(rd: Reg, shamt: u32) -> u16 {
    assert!((1..64).contains(&shamt), "c.srai shamt {shamt}");
    cb_alu(0b01, rd, shamt)
}
/// `c.andi rd', imm` (-32..=31).
pub fn c_andi(rd: Reg, imm: i32) -> u16 {
    cb_alu(0b10, rd, simm6(imm, "c.andi imm"))
}

/// CA: 100 | bit12 | 11 | rd' | funct2 | rs2' | 01.
fn ca(bit12: u16, funct2: u16, rd: Reg, rs2: Reg) -> u16 {
    (0b100 << 13)
        | (bit12 << 12)
        | (0b11 << 10)
        | (creg(rd) << 7)
        | (funct2 << 5)
        | (creg(rs2) << 2)
        | 1
}
pub fn c_sub(rd: Reg, rs2: Reg) -> u16 {
    ca(0, 0b00, rd, rs2)
}
pub fn c_xor(rd: Reg, rs2: Reg) -> u16 {
    ca(0, 0b01, rd, rs2)
}
pub fn c_or(rd: Reg, rs2: Reg) -> u16 {
    ca(0, 0b10, rd, rs2)
}
pub fn c_and(rd: Reg, rs2: Reg) -> u16 {
    ca(0, 0b11, rd, rs2)
}
pub fn c_subw(rd: Reg, rs2: Reg) -> u16 {
    ca(1, 0b00, rd, rs2)
}
pub fn c_addw(rd: Reg, rs2: Reg) -> u16 {
    ca(1, 0b01, rd, rs2)
}

/// `c.j offset` (even, -2048..=2046).
pub fn c_j(offset: i32) -> u16 {
    check_signed(offset as i64, 12, "c.j offset");
    assert!(offset % 2 == 0, "c.j offset {offset} is odd");
    let x = offset as u32;
    // offset[11|4|9:8|10|6|7|3:1|5] in c[12:2].
    let f = scatter(
        x,
        &[
            (11, 12),
            (4, 11),
            (9, 10),
            (8, 9),
            (10, 8),
            (6, 7),
            (7, 6),
            (3, 5),
            (2, 4),
            (1, 3),
            (5, 2),
        ],
    );
    (0b101 << 13) | f | 0b01
}

/// CB branch: offset[8|4:3] in c[12:10], offset[7:6|2:1|5] in c[6:2].
fn cb_branch(funct3: u16, rs1: Reg, offset: i32) -> u16 {
    check_signed(offset as i64, 9, "c.beqz/c.bnez offset");
    assert!(offset % 2 == 0, "c.beqz/c.bnez offset {offset} is odd");
    let x = offset as u32;
    let f = scatter(x, &[(8, 12), (4, 11), (3, 10), (7, 6), (6, 5), (2, 4), (1, 3), (5, 2)]);
    (funct3 << 13) | f | (creg(rs1) << 7) | 0b01
}
/// `c.beqz rs1', offset` (even, -256..=254).
pub fn c_beqz(rs1: Reg, offset: i32) -> u16 {
    cb_branch(0b110, rs1, offset)
}
/// `c.bnez rs1', offset`.
pub fn c_bnez(rs1: Reg, offset: i32) -> u16 {
    cb_branch(0b111, rs1, offset)
}

/// `c.slli rd, shamt` (rd != 0, 1..=63).
pub fn c_slli(rd: Reg, shamt: u32) -> u16 {
    assert!((1..64).contains(&shamt), "c.slli shamt {shamt}");
    ci(0b000, 0b10, rd, shamt)
}
/// `c.lwsp rd, uimm(sp)` (rd != 0; uimm multiple of 4 up to 252).
pub fn c_lwsp(rd: Reg, uimm: u32) -> u16 {
    assert!(rd != 0, "c.lwsp with rd = 0 is reserved");
    check_unsigned(uimm, 252, 4, "c.lwsp offset");
    // uimm[5] in c[12], uimm[4:2|7:6] in c[6:2].
    let f = scatter(uimm, &[(5, 12), (4, 6), (3, 5), (2, 4), (7, 3), (6, 2)]);
    (0b010 << 13) | f | (full_reg(rd) << 7) | 0b10
}
/// `c.ldsp rd, uimm(sp)` (rd != 0; uimm multiple of 8 up to 504).
pub fn c_ldsp(rd: Reg, uimm: u32) -> u16 {
    assert!(rd != 0, "c.ldsp with rd = 0 is reserved");
    check_unsigned(uimm, 504, 8, "c.ldsp offset");
    // uimm[5] in c[12], uimm[4:3|8:6] in c[6:2].
    let f = scatter(uimm, &[(5, 12), (4, 6), (3, 5), (8, 4), (7, 3), (6, 2)]);
    (0b011 << 13) | f | (full_reg(rd) << 7) | 0b10
}
/// CR: funct4 | rd/rs1 | rs2 | 10.
fn cr(bit12: u16, r1: Reg, r2: Reg) -> u16 {
    (0b100 << 13) | (bit12 << 12) | (full_reg(r1) << 7) | (full_reg(r2) << 2) | 0b10
}
/// `c.jr rs1` (rs1 != 0).
pub fn c_jr(rs1: Reg) -> u16 {
    assert!(rs1 != 0, "c.jr with rs1 = 0 is reserved");
    cr(0, rs1, 0)
}
/// `c.mv rd, rs2` (rs2 != 0).
pub fn c_mv(rd: Reg, rs2: Reg) -> u16 {
    assert!(rs2 != 0, "c.mv with rs2 = 0 is c.jr");
    cr(0, rd, rs2)
}
pub fn c_ebreak() -> u16 {
    cr(1, 0, 0)
}
/// `c.jalr rs1` (rs1 != 0).
pub fn c_jalr(rs1: Reg) -> u16 {
    assert!(rs1 != 0, "c.jalr with rs1 = 0 is c.ebreak");
    cr(1, rs1, 0)
}
/// `c.add rd, rs2` (rs2 != 0).
pub fn c_add(rd: Reg, rs2: Reg) -> u16 {
    assert!(rs2 != 0, "c.add with rs2 = 0 is c.jalr");
    cr(1, rd, rs2)
}
/// `c.swsp rs2, uimm(sp)` (uimm multiple of 4 up to 252).
pub fn c_swsp(rs2: Reg, uimm: u32) -> u16 {
    check_unsigned(uimm, 252, 4, "c.swsp offset");
    // uimm[5:2|7:6] in c[12:7].
    let f = scatter(uimm, &[(5, 12), (4, 11), (3, 10), (2, 9), (7, 8), (6, 7)]);
    (0b110 << 13) | f | (full_reg(rs2) << 2) | 0b10
}
/// `c.sdsp rs2, uimm(sp)` (uimm multiple of 8 up to 504).
pub fn c_sdsp(rs2: Reg, uimm: u32) -> u16 {
    check_unsigned(uimm, 504, 8, "c.sdsp offset");
    // uimm[5:3|8:6] in c[12:7].
    let f = scatter(uimm, &[(5, 12), (4, 11), (3, 10), (8, 9), (7, 8), (6, 7)]);
    (0b111 << 13) | f | (full_reg(rs2) << 2) | 0b10
}
