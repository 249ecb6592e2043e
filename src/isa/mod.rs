//! RV64IMAC + Zicsr + Zifencei instruction set: one decoded [`Inst`] type,
//! the decoder for 16- and 32-bit encodings, an objdump-style disassembler,
//! and every fact about an instruction that the rest of the VM uses: its
//! [`Kind`], the registers it reads and writes (`facts.rs`) and the
//! arithmetic of pure instructions and branch conditions ([`alu`]).
//!
//! Architecture invariant: `isa` knows nothing about harts, memory or the JIT.
//! Everything downstream (interpreter, disassembler, JIT translator) consumes the
//! same decoded `Inst`, so an instruction is decoded once.

pub mod alu;
mod decode;
mod disasm;
mod facts;

pub use decode::decode;
pub use disasm::{disassemble, REG_NAMES};
pub use facts::{Kind, RegSet};

/// An integer register number, 0..=31 (x0 is hard-wired to zero).
pub type Reg = u8;

/// Atomic memory operations of the A extension (besides LR/SC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AmoOp {
    Swap,
    Add,
    Xor,
    And,
    Or,
    Min,
    Max,
    Minu,
    Maxu,
}

/// The operations of tunevm's GC extension, in the custom-0 opcode space
/// (0x0b, R-type): `funct3` picks the operation, `funct7` is 0 except for
/// `gc.root`'s unregister form (1). Other encodings are illegal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GcOp {
    /// `gc.alloc rd, rs1 (size), rs2 (flags)`: funct3 0.
    Alloc,
    /// `gc.collect rd`: funct3 1, rs1 = rs2 = x0.
    Collect,
    /// `gc.root rd, rs1 (base), rs2 (length)`: funct3 2, funct7 0.
    RootAdd,
    /// `gc.unroot rd, rs1 (base)`: funct3 2, funct7 1, rs2 = x0.
    RootRemove,
    /// `gc.stats rd, rs1 (which)`: funct3 3, rs2 = x0.
    Stats,
}

/// One decoded instruction. Compressed (16-bit) instructions decode to the
/// 32-bit instruction they expand to; the length is returned beside it by
/// [`decode`].
///
/// Field conventions: `rd`, `rs1`, `rs2` are register numbers; `imm` is the
/// sign-extended immediate exactly as the instruction uses it (for `Lui` and
/// `Auipc` it is already shifted left by 12; for shifts it is the shift amount;
/// for branches and jumps it is the byte offset from the instruction's pc).
/// `aqrl` holds the aq (bit 1) and rl (bit 0) bits of A-extension instructions.
///
/// `repr(u8)`: the variant's tag is the first byte, numbered in declaration
/// order ([`Inst::tag`]); the interpreter's threaded dispatch indexes its
/// handler table with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Inst {
    // ---- RV64I ----
    Lui {
        rd: Reg,
        imm: i32,
    },
    Auipc {
        rd: Reg,
        imm: i32,
    },
    Jal {
        rd: Reg,
        imm: i32,
    },
    Jalr {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Beq {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Bne {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Blt {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Bge {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Bltu {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Bgeu {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Lb {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Lh {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Lw {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Ld {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Lbu {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Lhu {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Lwu {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Sb {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Sh {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Sw {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Sd {
        rs1: Reg,
        rs2: Reg,
        imm: i32,
    },
    Addi {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Slti {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Sltiu {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Xori {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Ori {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Andi {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Slli {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Srli {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Srai {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Add {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sub {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sll {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Slt {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sltu {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Xor {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Srl {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sra {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Or {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    And {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Addiw {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Slliw {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Srliw {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Sraiw {
        rd: Reg,
        rs1: Reg,
        imm: i32,
    },
    Addw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Subw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sllw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Srlw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Sraw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    /// FENCE (any pred/succ/fm, including FENCE.TSO and PAUSE: see
    /// [`Inst::is_pause`]).
    Fence {
        pred: u8,
        succ: u8,
    },
    Ecall,
    Ebreak,
    // ---- Zifencei ----
    FenceI,
    // ---- privileged ----
    Mret,
    Sret,
    Wfi,
    SfenceVma {
        rs1: Reg,
        rs2: Reg,
    },
    // ---- tunevm's GC extension (custom-0) ----
    /// A `gc.*` instruction (see [`GcOp`] and `crate::gc`).
    Gc {
        op: GcOp,
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    // ---- Zicsr ----
    Csrrw {
        rd: Reg,
        rs1: Reg,
        csr: u16,
    },
    Csrrs {
        rd: Reg,
        rs1: Reg,
        csr: u16,
    },
    Csrrc {
        rd: Reg,
        rs1: Reg,
        csr: u16,
    },
    Csrrwi {
        rd: Reg,
        uimm: u8,
        csr: u16,
    },
    Csrrsi {
        rd: Reg,
        uimm: u8,
        csr: u16,
    },
    Csrrci {
        rd: Reg,
        uimm: u8,
        csr: u16,
    },
    // ---- M ----
    Mul {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Mulh {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Mulhsu {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Mulhu {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Div {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Divu {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Rem {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Remu {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Mulw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Divw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Divuw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Remw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    Remuw {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
    },
    // ---- A ----
    /// LR.W (`double == false`) or LR.D.
    Lr {
        rd: Reg,
        rs1: Reg,
        double: bool,
        aqrl: u8,
    },
    /// SC.W (`double == false`) or SC.D.
    Sc {
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
        double: bool,
        aqrl: u8,
    },
    /// AMO*.W (`double == false`) or AMO*.D.
    Amo {
        op: AmoOp,
        rd: Reg,
        rs1: Reg,
        rs2: Reg,
        double: bool,
        aqrl: u8,
    },
    /// An illegal or reserved encoding. `raw` is the instruction bits as fetched
    /// (16 bits for a compressed encoding), which the trap reports in mtval/stval.
    Illegal {
        raw: u32,
    },
}

impl Inst {
    /// Kinds of instruction: every [`Inst::tag`] is below this.
    pub const KINDS: usize = Inst::Illegal { raw: 0 }.tag() as usize + 1;

    /// The variant's number, in declaration order (0 for `Lui`).
    #[inline(always)]
    pub const fn tag(&self) -> u8 {
        // SAFETY: a `repr(u8)` enum starts with its `u8` tag (the Rust
        // reference, "Primitive representation of enums with fields").
        unsafe { *(self as *const Inst as *const u8) }
    }
}
