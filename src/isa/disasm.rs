//! objdump-style disassembler.
//!
//! The text follows GNU objdump (binutils 2.40, `-M priv-spec=1.12`) with its
//! default aliases, so `--trace` output and the page's code view read like an
//! objdump listing: ABI register names, operands separated by `,` without
//! spaces, absolute branch targets in hex without `0x`. A compressed
//! instruction is shown as the instruction it expands to, which is also what
//! objdump prints for it. tests/suite/isa_decode.rs checks every form against
//! objdump's own output and lists the few deliberate differences.
use super::{AmoOp, GcOp, Inst, Reg};
use std::fmt::Write;

/// ABI names of x0..x31 (the one table of them: the page's register view
/// takes it too).
pub const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

const ZERO: Reg = 0;
const RA: Reg = 1;

fn reg(r: Reg) -> &'static str {
    REG_NAMES[r as usize & 31]
}

/// Disassemble `inst` located at `pc`, e.g. `addi a0,a0,1` or `beq a0,a1,80000010`.
pub fn disassemble(inst: &Inst, pc: u64) -> String {
    let mut s = String::with_capacity(32);
    write_inst(&mut s, inst, pc);
    s
}

/// Branch/jump target: the absolute address in hex without `0x`.
fn target(pc: u64, imm: i32) -> u64 {
    pc.wrapping_add(imm as i64 as u64)
}

// `write!` into a String cannot fail; the helpers below ignore the Ok(()).

fn rrr(s: &mut String, m: &str, rd: Reg, rs1: Reg, rs2: Reg) {
    let _ = write!(s, "{m} {},{},{}", reg(rd), reg(rs1), reg(rs2));
}

fn rr(s: &mut String, m: &str, a: Reg, b: Reg) {
    let _ = write!(s, "{m} {},{}", reg(a), reg(b));
}

/// `m rd,rs1,imm` with a decimal immediate.
fn rri(s: &mut String, m: &str, rd: Reg, rs1: Reg, imm: i32) {
    let _ = write!(s, "{m} {},{},{imm}", reg(rd), reg(rs1));
}

/// Shifts by an immediate: objdump prints the amount in hex.
fn shift(s: &mut String, m: &str, rd: Reg, rs1: Reg, shamt: i32) {
    let _ = write!(s, "{m} {},{},0x{:x}", reg(rd), reg(rs1), shamt);
}

/// Loads and stores: `m r,imm(base)`.
fn mem(s: &mut String, m: &str, r: Reg, base: Reg, imm: i32) {
    let _ = write!(s, "{m} {},{imm}({})", reg(r), reg(base));
}

fn branch(s: &mut String, m: &str, rs1: Reg, rs2: Reg, pc: u64, imm: i32) {
    let _ = write!(s, "{m} {},{},{:x}", reg(rs1), reg(rs2), target(pc, imm));
}

fn branch_z(s: &mut String, m: &str, rs: Reg, pc: u64, imm: i32) {
    let _ = write!(s, "{m} {},{:x}", reg(rs), target(pc, imm));
}

/// FENCE predecessor/successor sets, as objdump spells them (an empty set is
/// `unknown`).
fn fence_set(bits: u8) -> &'static str {
    const NAMES: [&str; 16] = [
        "unknown", "w", "r", "rw", "o", "ow", "or", "orw", "i", "iw", "ir", "irw", "io", "iow",
        "ior", "iorw",
    ];
    NAMES[bits as usize & 15]
}

fn aqrl_suffix(aqrl: u8) -> &'static str {
    match aqrl & 3 {
        0 => "",
        1 => ".rl",
        2 => ".aq",
        _ => ".aqrl",
    }
}

fn amo_name(op: AmoOp) -> &'static str {
    match op {
        AmoOp::Swap => "amoswap",
        AmoOp::Add => "amoadd",
        AmoOp::Xor => "amoxor",
        AmoOp::And => "amoand",
        AmoOp::Or => "amoor",
        AmoOp::Min => "amomin",
        AmoOp::Max => "amomax",
        AmoOp::Minu => "amominu",
        AmoOp::Maxu => "amomaxu",
    }
}

fn width(double: bool) -> &'static str {
    if double {
        "d"
    } else {
        "w"
    }
}

fn write_inst(s: &mut String, inst: &Inst, pc: u64) {
    use Inst::*;
    match *inst {
        // ---- RV64I ----
        Lui { rd, imm } => {
            let _ = write!(s, "lui {},0x{:x}", reg(rd), (imm as u32) >> 12);
        }
        Auipc { rd, imm } => {
            let _ = write!(s, "auipc {},0x{:x}", reg(rd), (imm as u32) >> 12);
        }
        Jal { rd: ZERO, imm } => {
            let _ = write!(s, "j {:x}", target(pc, imm));
        }
        Jal { rd: RA, imm } => {
            let _ = write!(s, "jal {:x}", target(pc, imm));
        }
        Jal { rd, imm } => branch_z(s, "jal", rd, pc, imm),
        Jalr { rd: ZERO, rs1: RA, imm: 0 } => s.push_str("ret"),
        Jalr { rd: ZERO, rs1, imm: 0 } => {
            let _ = write!(s, "jr {}", reg(rs1));
        }
        Jalr { rd: ZERO, rs1, imm } => {
            let _ = write!(s, "jr {imm}({})", reg(rs1));
        }
        Jalr { rd: RA, rs1, imm: 0 } => {
            let _ = write!(s, "jalr {}", reg(rs1));
        }
        Jalr { rd: RA, rs1, imm } => {
            let _ = write!(s, "jalr {imm}({})", reg(rs1));
        }
        Jalr { rd, rs1, imm: 0 } => rr(s, "jalr", rd, rs1),
        Jalr { rd, rs1, imm } => mem(s, "jalr", rd, rs1, imm),
        Beq { rs1, rs2: ZERO, imm } => branch_z(s, "beqz", rs1, pc, imm),
        Beq { rs1, rs2, imm } => branch(s, "beq", rs1, rs2, pc, imm),
        Bne { rs1, rs2: ZERO, imm } => branch_z(s, "bnez", rs1, pc, imm),
        Bne { rs1, rs2, imm } => branch(s, "bne", rs1, rs2, pc, imm),
        Blt { rs1, rs2: ZERO, imm } => branch_z(s, "bltz", rs1, pc, imm),
        Blt { rs1: ZERO, rs2, imm } => branch_z(s, "bgtz", rs2, pc, imm),
        Blt { rs1, rs2, imm } => branch(s, "blt", rs1, rs2, pc, imm),
        Bge { rs1: ZERO, rs2, imm } => branch_z(s, "blez", rs2, pc, imm),
        Bge { rs1, rs2: ZERO, imm } => branch_z(s, "bgez", rs1, pc, imm),
        Bge { rs1, rs2, imm } => branch(s, "bge", rs1, rs2, pc, imm),
        Bltu { rs1, rs2, imm } => branch(s, "bltu", rs1, rs2, pc, imm),
        Bgeu { rs1, rs2, imm } => branch(s, "bgeu", rs1, rs2, pc, imm),
        Lb { rd, rs1, imm } => mem(s, "lb", rd, rs1, imm),
        Lh { rd, rs1, imm } => mem(s, "lh", rd, rs1, imm),
        Lw { rd, rs1, imm } => mem(s, "lw", rd, rs1, imm),
        Ld { rd, rs1, imm } => mem(s, "ld", rd, rs1, imm),
        Lbu { rd, rs1, imm } => mem(s, "lbu", rd, rs1, imm),
        Lhu { rd, rs1, imm } => mem(s, "lhu", rd, rs1, imm),
        Lwu { rd, rs1, imm } => mem(s, "lwu", rd, rs1, imm),
        Sb { rs1, rs2, imm } => mem(s, "sb", rs2, rs1, imm),
        Sh { rs1, rs2, imm } => mem(s, "sh", rs2, rs1, imm),
        Sw { rs1, rs2, imm } => mem(s, "sw", rs2, rs1, imm),
        Sd { rs1, rs2, imm } => mem(s, "sd", rs2, rs1, imm),
        // objdump writes register-immediate ALU ops with the register-register
        // mnemonic (`add a0,a0,1`), except where a pseudo-instruction fits.
        Addi { rd: ZERO, rs1: ZERO, imm: 0 } => s.push_str("nop"),
        Addi { rd, rs1: ZERO, imm } => {
            let _ = write!(s, "li {},{imm}", reg(rd));
        }
        Addi { rd, rs1, imm: 0 } => rr(s, "mv", rd, rs1),
        Addi { rd, rs1, imm } => rri(s, "add", rd, rs1, imm),
        Slti { rd, rs1, imm } => rri(s, "slti", rd, rs1, imm),
        Sltiu { rd, rs1, imm: 1 } => rr(s, "seqz", rd, rs1),
        Sltiu { rd, rs1, imm } => rri(s, "sltiu", rd, rs1, imm),
        Xori { rd, rs1, imm: -1 } => rr(s, "not", rd, rs1),
        Xori { rd, rs1, imm } => rri(s, "xor", rd, rs1, imm),
        Ori { rd, rs1, imm } => rri(s, "or", rd, rs1, imm),
        Andi { rd, rs1, imm } => rri(s, "and", rd, rs1, imm),
        Slli { rd, rs1, imm } => shift(s, "sll", rd, rs1, imm),
        Srli { rd, rs1, imm } => shift(s, "srl", rd, rs1, imm),
        Srai { rd, rs1, imm } => shift(s, "sra", rd, rs1, imm),
        // `add rd,zero,rs2` is what C.MV expands to; show it as objdump shows
        // C.MV (a 32-bit `add rd,zero,rs2` is rare and would be `add`).
        Add { rd, rs1: ZERO, rs2 } if rd != ZERO && rs2 != ZERO => rr(s, "mv", rd, rs2),
        Add { rd, rs1, rs2 } => rrr(s, "add", rd, rs1, rs2),
        Sub { rd, rs1: ZERO, rs2 } => rr(s, "neg", rd, rs2),
        Sub { rd, rs1, rs2 } => rrr(s, "sub", rd, rs1, rs2),
        Sll { rd, rs1, rs2 } => rrr(s, "sll", rd, rs1, rs2),
        Slt { rd, rs1, rs2: ZERO } => rr(s, "sltz", rd, rs1),
        Slt { rd, rs1: ZERO, rs2 } => rr(s, "sgtz", rd, rs2),
        Slt { rd, rs1, rs2 } => rrr(s, "slt", rd, rs1, rs2),
        Sltu { rd, rs1: ZERO, rs2 } => rr(s, "snez", rd, rs2),
        Sltu { rd, rs1, rs2 } => rrr(s, "sltu", rd, rs1, rs2),
        Xor { rd, rs1, rs2 } => rrr(s, "xor", rd, rs1, rs2),
        Srl { rd, rs1, rs2 } => rrr(s, "srl", rd, rs1, rs2),
        Sra { rd, rs1, rs2 } => rrr(s, "sra", rd, rs1, rs2),
        Or { rd, rs1, rs2 } => rrr(s, "or", rd, rs1, rs2),
        And { rd, rs1, rs2 } => rrr(s, "and", rd, rs1, rs2),
        Addiw { rd, rs1, imm: 0 } => rr(s, "sext.w", rd, rs1),
        Addiw { rd, rs1, imm } => rri(s, "addw", rd, rs1, imm),
        Slliw { rd, rs1, imm } => shift(s, "sllw", rd, rs1, imm),
        Srliw { rd, rs1, imm } => shift(s, "srlw", rd, rs1, imm),
        Sraiw { rd, rs1, imm } => shift(s, "sraw", rd, rs1, imm),
        Addw { rd, rs1, rs2 } => rrr(s, "addw", rd, rs1, rs2),
        Subw { rd, rs1: ZERO, rs2 } => rr(s, "negw", rd, rs2),
        Subw { rd, rs1, rs2 } => rrr(s, "subw", rd, rs1, rs2),
        Sllw { rd, rs1, rs2 } => rrr(s, "sllw", rd, rs1, rs2),
        Srlw { rd, rs1, rs2 } => rrr(s, "srlw", rd, rs1, rs2),
        Sraw { rd, rs1, rs2 } => rrr(s, "sraw", rd, rs1, rs2),
        Fence { pred: 0xf, succ: 0xf } => s.push_str("fence"),
        Fence { pred, succ } => {
            let _ = write!(s, "fence {},{}", fence_set(pred), fence_set(succ));
        }
        Ecall => s.push_str("ecall"),
        Ebreak => s.push_str("ebreak"),
        FenceI => s.push_str("fence.i"),
        // ---- privileged ----
        Mret => s.push_str("mret"),
        Sret => s.push_str("sret"),
        Wfi => s.push_str("wfi"),
        Gc { op, rd, rs1, rs2 } => {
            let _ = match op {
                GcOp::Alloc => write!(s, "gc.alloc {},{},{}", reg(rd), reg(rs1), reg(rs2)),
                GcOp::Collect => write!(s, "gc.collect {}", reg(rd)),
                GcOp::RootAdd => write!(s, "gc.root {},{},{}", reg(rd), reg(rs1), reg(rs2)),
                GcOp::RootRemove => write!(s, "gc.unroot {},{}", reg(rd), reg(rs1)),
                GcOp::Stats => write!(s, "gc.stats {},{}", reg(rd), reg(rs1)),
            };
        }
        SfenceVma { rs1: ZERO, rs2: ZERO } => s.push_str("sfence.vma"),
        SfenceVma { rs1, rs2: ZERO } => {
            let _ = write!(s, "sfence.vma {}", reg(rs1));
        }
        SfenceVma { rs1, rs2 } => rr(s, "sfence.vma", rs1, rs2),
        // ---- Zicsr ----
        // `csrrw zero,cycle,zero` is the canonical 32-bit UNIMP.
        Csrrw { rd: ZERO, rs1: ZERO, csr: csr::CYCLE } => s.push_str("unimp"),
        Csrrw { rd: ZERO, rs1, csr } => csr_op(s, "csrw", None, csr, reg(rs1)),
        Csrrw { rd, rs1, csr } => csr_op(s, "csrrw", Some(rd), csr, reg(rs1)),
        Csrrs { rd, rs1: ZERO, csr: csr @ (csr::CYCLE | csr::TIME | csr::INSTRET) } => {
            let name = match csr {
                csr::CYCLE => "rdcycle",
                csr::TIME => "rdtime",
                _ => "rdinstret",
            };
            let _ = write!(s, "{name} {}", reg(rd));
        }
        Csrrs { rd, rs1: ZERO, csr } => {
            let _ = write!(s, "csrr {},", reg(rd));
            write_csr(s, csr);
        }
        Csrrs { rd: ZERO, rs1, csr } => csr_op(s, "csrs", None, csr, reg(rs1)),
        Csrrs { rd, rs1, csr } => csr_op(s, "csrrs", Some(rd), csr, reg(rs1)),
        Csrrc { rd: ZERO, rs1, csr } => csr_op(s, "csrc", None, csr, reg(rs1)),
        Csrrc { rd, rs1, csr } => csr_op(s, "csrrc", Some(rd), csr, reg(rs1)),
        // The immediate forms print like the register forms, with a number.
        Csrrwi { rd, uimm, csr } => csr_imm(s, "csrw", "csrrw", rd, csr, uimm),
        Csrrsi { rd, uimm, csr } => csr_imm(s, "csrs", "csrrs", rd, csr, uimm),
        Csrrci { rd, uimm, csr } => csr_imm(s, "csrc", "csrrc", rd, csr, uimm),
        // ---- M ----
        Mul { rd, rs1, rs2 } => rrr(s, "mul", rd, rs1, rs2),
        Mulh { rd, rs1, rs2 } => rrr(s, "mulh", rd, rs1, rs2),
        Mulhsu { rd, rs1, rs2 } => rrr(s, "mulhsu", rd, rs1, rs2),
        Mulhu { rd, rs1, rs2 } => rrr(s, "mulhu", rd, rs1, rs2),
        Div { rd, rs1, rs2 } => rrr(s, "div", rd, rs1, rs2),
        Divu { rd, rs1, rs2 } => rrr(s, "divu", rd, rs1, rs2),
        Rem { rd, rs1, rs2 } => rrr(s, "rem", rd, rs1, rs2),
        Remu { rd, rs1, rs2 } => rrr(s, "remu", rd, rs1, rs2),
        Mulw { rd, rs1, rs2 } => rrr(s, "mulw", rd, rs1, rs2),
        Divw { rd, rs1, rs2 } => rrr(s, "divw", rd, rs1, rs2),
        Divuw { rd, rs1, rs2 } => rrr(s, "divuw", rd, rs1, rs2),
        Remw { rd, rs1, rs2 } => rrr(s, "remw", rd, rs1, rs2),
        Remuw { rd, rs1, rs2 } => rrr(s, "remuw", rd, rs1, rs2),
        // ---- A ----
        Lr { rd, rs1, double, aqrl } => {
            let _ =
                write!(s, "lr.{}{} {},({})", width(double), aqrl_suffix(aqrl), reg(rd), reg(rs1));
        }
        Sc { rd, rs1, rs2, double, aqrl } => {
            let _ = write!(
                s,
                "sc.{}{} {},{},({})",
                width(double),
                aqrl_suffix(aqrl),
                reg(rd),
                reg(rs2),
                reg(rs1)
            );
        }
        Amo { op, rd, rs1, rs2, double, aqrl } => {
            let _ = write!(
                s,
                "{}.{}{} {},{},({})",
                amo_name(op),
                width(double),
                aqrl_suffix(aqrl),
                reg(rd),
                reg(rs2),
                reg(rs1)
            );
        }
        // objdump: `unimp` for the all-zero halfword, otherwise the raw bits.
        Illegal { raw: 0 } => s.push_str("unimp"),
        Illegal { raw } if raw & 3 != 3 => {
            let _ = write!(s, ".2byte 0x{raw:x}");
        }
        Illegal { raw } => {
            let _ = write!(s, ".4byte 0x{raw:x}");
        }
    }
}

/// `m [rd,]csr,operand`.
fn csr_op(s: &mut String, m: &str, rd: Option<Reg>, csr: u16, operand: impl std::fmt::Display) {
    s.push_str(m);
    s.push(' ');
    if let Some(rd) = rd {
        s.push_str(reg(rd));
        s.push(',');
    }
    write_csr(s, csr);
    let _ = write!(s, ",{operand}");
}

/// CSRRWI/CSRRSI/CSRRCI: `short csr,uimm` when rd is zero, else `long rd,csr,uimm`.
fn csr_imm(s: &mut String, short: &str, long: &str, rd: Reg, csr: u16, uimm: u8) {
    if rd == ZERO {
        csr_op(s, short, None, csr, uimm);
    } else {
        csr_op(s, long, Some(rd), csr, uimm);
    }
}

/// Write a CSR's name, or `0x<hex>` for a number without a standard name.
fn write_csr(s: &mut String, csr: u16) {
    match csr_name(csr) {
        Some(CsrName::Fixed(name)) => s.push_str(name),
        Some(CsrName::Indexed(prefix, n, suffix)) => {
            let _ = write!(s, "{prefix}{n}{suffix}");
        }
        None => {
            let _ = write!(s, "0x{csr:x}");
        }
    }
}

/// CSR numbers the disassembler needs by value.
mod csr {
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
}

/// A CSR's name: fixed, or one of a numbered family (`pmpaddr12`, `mhpmcounter3h`).
enum CsrName {
    Fixed(&'static str),
    Indexed(&'static str, u16, &'static str),
}

/// Standard CSR names (privileged spec 1.12, chapter 2.2 "CSR Listing", plus
/// the unprivileged CSRs of F, V and Zkr, and the debug/trigger, hypervisor,
/// Smstateen, Sstc, Sscofpmf and AIA CSRs), as objdump names them.
fn csr_name(csr: u16) -> Option<CsrName> {
    use CsrName::{Fixed, Indexed};
    let n = csr & 0x1f;
    // Numbered families.
    let family = match csr {
        0x3a0..=0x3af => Some(Indexed("pmpcfg", csr - 0x3a0, "")),
        0x3b0..=0x3ef => Some(Indexed("pmpaddr", csr - 0x3b0, "")),
        0x323..=0x33f => Some(Indexed("mhpmevent", n, "")),
        0x723..=0x73f => Some(Indexed("mhpmevent", n, "h")),
        0xb03..=0xb1f => Some(Indexed("mhpmcounter", n, "")),
        0xb83..=0xb9f => Some(Indexed("mhpmcounter", n, "h")),
        0xc03..=0xc1f => Some(Indexed("hpmcounter", n, "")),
        0xc83..=0xc9f => Some(Indexed("hpmcounter", n, "h")),
        0x10c..=0x10f => Some(Indexed("sstateen", csr - 0x10c, "")),
        0x30c..=0x30f => Some(Indexed("mstateen", csr - 0x30c, "")),
        0x31c..=0x31f => Some(Indexed("mstateen", csr - 0x31c, "h")),
        0x60c..=0x60f => Some(Indexed("hstateen", csr - 0x60c, "")),
        0x61c..=0x61f => Some(Indexed("hstateen", csr - 0x61c, "h")),
        _ => None,
    };
    if family.is_some() {
        return family;
    }
    let name = match csr {
        // Unprivileged: floating point, vector, entropy source.
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x008 => "vstart",
        0x009 => "vxsat",
        0x00a => "vxrm",
        0x00f => "vcsr",
        0x015 => "seed",
        0xc20 => "vl",
        0xc21 => "vtype",
        0xc22 => "vlenb",
        // Unprivileged counters/timers.
        0xc00 => "cycle",
        0xc01 => "time",
        0xc02 => "instret",
        0xc80 => "cycleh",
        0xc81 => "timeh",
        0xc82 => "instreth",
        // Supervisor.
        0x100 => "sstatus",
        0x104 => "sie",
        0x105 => "stvec",
        0x106 => "scounteren",
        0x10a => "senvcfg",
        0x140 => "sscratch",
        0x141 => "sepc",
        0x142 => "scause",
        0x143 => "stval",
        0x144 => "sip",
        0x14d => "stimecmp",
        0x15d => "stimecmph",
        0x180 => "satp",
        0x5a8 => "scontext",
        0xda0 => "scountovf",
        // Supervisor AIA.
        0x114 => "sieh",
        0x150 => "siselect",
        0x151 => "sireg",
        0x154 => "siph",
        0x15c => "stopei",
        0xdb0 => "stopi",
        // Hypervisor and virtual supervisor.
        0x600 => "hstatus",
        0x602 => "hedeleg",
        0x603 => "hideleg",
        0x604 => "hie",
        0x605 => "htimedelta",
        0x606 => "hcounteren",
        0x607 => "hgeie",
        0x608 => "hvien",
        0x609 => "hvictl",
        0x60a => "henvcfg",
        0x613 => "hidelegh",
        0x615 => "htimedeltah",
        0x618 => "hvienh",
        0x61a => "henvcfgh",
        0x643 => "htval",
        0x644 => "hip",
        0x645 => "hvip",
        0x646 => "hviprio1",
        0x647 => "hviprio2",
        0x64a => "htinst",
        0x655 => "hviph",
        0x656 => "hviprio1h",
        0x657 => "hviprio2h",
        0x680 => "hgatp",
        0x6a8 => "hcontext",
        0xe12 => "hgeip",
        0x200 => "vsstatus",
        0x204 => "vsie",
        0x205 => "vstvec",
        0x214 => "vsieh",
        0x240 => "vsscratch",
        0x241 => "vsepc",
        0x242 => "vscause",
        0x243 => "vstval",
        0x244 => "vsip",
        0x24d => "vstimecmp",
        0x250 => "vsiselect",
        0x251 => "vsireg",
        0x254 => "vsiph",
        0x25c => "vstopei",
        0x25d => "vstimecmph",
        0x280 => "vsatp",
        0xeb0 => "vstopi",
        // Machine information.
        0xf11 => "mvendorid",
        0xf12 => "marchid",
        0xf13 => "mimpid",
        0xf14 => "mhartid",
        0xf15 => "mconfigptr",
        // Machine trap setup and handling.
        0x300 => "mstatus",
        0x301 => "misa",
        0x302 => "medeleg",
        0x303 => "mideleg",
        0x304 => "mie",
        0x305 => "mtvec",
        0x306 => "mcounteren",
        0x308 => "mvien",
        0x309 => "mvip",
        0x30a => "menvcfg",
        0x310 => "mstatush",
        0x313 => "midelegh",
        0x314 => "mieh",
        0x318 => "mvienh",
        0x319 => "mviph",
        0x31a => "menvcfgh",
        0x320 => "mcountinhibit",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        0x34a => "mtinst",
        0x34b => "mtval2",
        0x350 => "miselect",
        0x351 => "mireg",
        0x354 => "miph",
        0x35c => "mtopei",
        0xfb0 => "mtopi",
        0x747 => "mseccfg",
        0x757 => "mseccfgh",
        // Machine counters.
        0xb00 => "mcycle",
        0xb02 => "minstret",
        0xb80 => "mcycleh",
        0xb82 => "minstreth",
        // Debug/trace triggers and debug mode.
        0x7a0 => "tselect",
        0x7a1 => "tdata1",
        0x7a2 => "tdata2",
        0x7a3 => "tdata3",
        0x7a4 => "tinfo",
        0x7a5 => "tcontrol",
        0x7a8 => "mcontext",
        0x7aa => "mscontext",
        0x7b0 => "dcsr",
        0x7b1 => "dpc",
        0x7b2 => "dscratch0",
        0x7b3 => "dscratch1",
        _ => return None,
    };
    Some(Fixed(name))
}
