//! What every instruction is and touches: its [`Kind`], the register it
//! writes and the registers it reads. The one list the interpreter, the
//! dispatcher, region discovery and the code generator consult, so a new
//! instruction is classified here once.

use super::{GcOp, Inst, Reg};

/// What an instruction does, as far as anything outside `isa` needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Pure integer arithmetic (RV64I register/immediate ops, LUI, AUIPC and
    /// the M extension): writes `rd` from its sources and the pc, nothing
    /// else, and cannot trap. [`super::alu::eval`] computes it.
    Alu,
    /// A conditional branch: reads two registers, writes none.
    Branch,
    /// JAL or JALR: writes the link register, changes the pc.
    Jump,
    /// A load from memory into `rd`.
    Load,
    /// A store of `rs2` to memory.
    Store,
    /// LR, SC or an AMO: a read-modify-write of aligned RAM.
    Atomic,
    /// A Zicsr instruction.
    Csr,
    /// FENCE: orders memory; nothing to do on one hart.
    Fence,
    /// ECALL, EBREAK, MRET, SRET, WFI, FENCE.I, SFENCE.VMA: changes privilege,
    /// the pc, translation or the code itself.
    System,
    /// An illegal or reserved encoding.
    Illegal,
}

/// A set of integer registers, bit `r` for `x[r]`.
pub type RegSet = u32;

impl Inst {
    /// PAUSE (Zihintpause): a FENCE with pred = W and succ = 0, the hint a
    /// spin-wait loop gives. As a fence it orders nothing that matters;
    /// on one of several harts it ends the hart's slice (`StopReason::Paused`).
    pub fn is_pause(&self) -> bool {
        matches!(self, Inst::Fence { pred: 0b0001, succ: 0 })
    }

    /// This instruction's kind.
    pub fn kind(&self) -> Kind {
        use Inst::*;
        match self {
            Lui { .. }
            | Auipc { .. }
            | Addi { .. }
            | Slti { .. }
            | Sltiu { .. }
            | Xori { .. }
            | Ori { .. }
            | Andi { .. }
            | Slli { .. }
            | Srli { .. }
            | Srai { .. }
            | Add { .. }
            | Sub { .. }
            | Sll { .. }
            | Slt { .. }
            | Sltu { .. }
            | Xor { .. }
            | Srl { .. }
            | Sra { .. }
            | Or { .. }
            | And { .. }
            | Addiw { .. }
            | Slliw { .. }
            | Srliw { .. }
            | Sraiw { .. }
            | Addw { .. }
            | Subw { .. }
            | Sllw { .. }
            | Srlw { .. }
            | Sraw { .. }
            | Mul { .. }
            | Mulh { .. }
            | Mulhsu { .. }
            | Mulhu { .. }
            | Div { .. }
            | Divu { .. }
            | Rem { .. }
            | Remu { .. }
            | Mulw { .. }
            | Divw { .. }
            | Divuw { .. }
            | Remw { .. }
            | Remuw { .. } => Kind::Alu,
            Beq { .. } | Bne { .. } | Blt { .. } | Bge { .. } | Bltu { .. } | Bgeu { .. } => {
                Kind::Branch
            }
            Jal { .. } | Jalr { .. } => Kind::Jump,
            Lb { .. }
            | Lh { .. }
            | Lw { .. }
            | Ld { .. }
            | Lbu { .. }
            | Lhu { .. }
            | Lwu { .. } => Kind::Load,
            Sb { .. } | Sh { .. } | Sw { .. } | Sd { .. } => Kind::Store,
            Lr { .. } | Sc { .. } | Amo { .. } => Kind::Atomic,
            Csrrw { .. }
            | Csrrs { .. }
            | Csrrc { .. }
            | Csrrwi { .. }
            | Csrrsi { .. }
            | Csrrci { .. } => Kind::Csr,
            Fence { .. } => Kind::Fence,
            Ecall | Ebreak | Mret | Sret | Wfi | FenceI | SfenceVma { .. } => Kind::System,
            // The collector may read and write any heap memory: the
            // interpreter runs it, like the other system instructions.
            Gc { .. } => Kind::System,
            Illegal { .. } => Kind::Illegal,
        }
    }

    /// Does this instruction end a basic block: may the next instruction
    /// executed be other than the one after it, or run under a different
    /// privilege, translation or code? (Branches, jumps and system
    /// instructions; traps end blocks too, but are not a property of the
    /// instruction.)
    #[inline(always)]
    pub fn ends_block(&self) -> bool {
        matches!(self.kind(), Kind::Branch | Kind::Jump | Kind::System)
    }

    /// The register this instruction writes, or 0 (x0) if none.
    pub fn dest(&self) -> Reg {
        use Inst::*;
        match *self {
            Lui { rd, .. } | Auipc { rd, .. } | Jal { rd, .. } | Jalr { rd, .. } => rd,
            Lb { rd, .. }
            | Lh { rd, .. }
            | Lw { rd, .. }
            | Ld { rd, .. }
            | Lbu { rd, .. }
            | Lhu { rd, .. }
            | Lwu { rd, .. } => rd,
            Addi { rd, .. }
            | Slti { rd, .. }
            | Sltiu { rd, .. }
            | Xori { rd, .. }
            | Ori { rd, .. }
            | Andi { rd, .. }
            | Slli { rd, .. }
            | Srli { rd, .. }
            | Srai { rd, .. }
            | Addiw { rd, .. }
            | Slliw { rd, .. }
            | Srliw { rd, .. }
            | Sraiw { rd, .. } => rd,
            Add { rd, .. }
            | Sub { rd, .. }
            | Sll { rd, .. }
            | Slt { rd, .. }
            | Sltu { rd, .. }
            | Xor { rd, .. }
            | Srl { rd, .. }
            | Sra { rd, .. }
            | Or { rd, .. }
            | And { rd, .. }
            | Addw { rd, .. }
            | Subw { rd, .. }
            | Sllw { rd, .. }
            | Srlw { rd, .. }
            | Sraw { rd, .. } => rd,
            Mul { rd, .. }
            | Mulh { rd, .. }
            | Mulhsu { rd, .. }
            | Mulhu { rd, .. }
            | Div { rd, .. }
            | Divu { rd, .. }
            | Rem { rd, .. }
            | Remu { rd, .. }
            | Mulw { rd, .. }
            | Divw { rd, .. }
            | Divuw { rd, .. }
            | Remw { rd, .. }
            | Remuw { rd, .. } => rd,
            Lr { rd, .. } | Sc { rd, .. } | Amo { rd, .. } => rd,
            Csrrw { rd, .. }
            | Csrrs { rd, .. }
            | Csrrc { rd, .. }
            | Csrrwi { rd, .. }
            | Csrrsi { rd, .. }
            | Csrrci { rd, .. } => rd,
            Beq { .. } | Bne { .. } | Blt { .. } | Bge { .. } | Bltu { .. } | Bgeu { .. } => 0,
            Sb { .. } | Sh { .. } | Sw { .. } | Sd { .. } => 0,
            Fence { .. } | Ecall | Ebreak | FenceI | Mret | Sret | Wfi | SfenceVma { .. } => 0,
            Gc { rd, .. } => rd,
            Illegal { .. } => 0,
        }
    }

    /// The registers this instruction reads: `(rs1, rs2)`, each `None` when
    /// the instruction has no such operand (x0 is named like any other).
    pub fn operands(&self) -> (Option<Reg>, Option<Reg>) {
        use Inst::*;
        match *self {
            Lui { .. } | Auipc { .. } | Jal { .. } => (None, None),
            Jalr { rs1, .. } => (Some(rs1), None),
            Beq { rs1, rs2, .. }
            | Bne { rs1, rs2, .. }
            | Blt { rs1, rs2, .. }
            | Bge { rs1, rs2, .. }
            | Bltu { rs1, rs2, .. }
            | Bgeu { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Lb { rs1, .. }
            | Lh { rs1, .. }
            | Lw { rs1, .. }
            | Ld { rs1, .. }
            | Lbu { rs1, .. }
            | Lhu { rs1, .. }
            | Lwu { rs1, .. } => (Some(rs1), None),
            Sb { rs1, rs2, .. }
            | Sh { rs1, rs2, .. }
            | Sw { rs1, rs2, .. }
            | Sd { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Addi { rs1, .. }
            | Slti { rs1, .. }
            | Sltiu { rs1, .. }
            | Xori { rs1, .. }
            | Ori { rs1, .. }
            | Andi { rs1, .. }
            | Slli { rs1, .. }
            | Srli { rs1, .. }
            | Srai { rs1, .. }
            | Addiw { rs1, .. }
            | Slliw { rs1, .. }
            | Srliw { rs1, .. }
            | Sraiw { rs1, .. } => (Some(rs1), None),
            Add { rs1, rs2, .. }
            | Sub { rs1, rs2, .. }
            | Sll { rs1, rs2, .. }
            | Slt { rs1, rs2, .. }
            | Sltu { rs1, rs2, .. }
            | Xor { rs1, rs2, .. }
            | Srl { rs1, rs2, .. }
            | Sra { rs1, rs2, .. }
            | Or { rs1, rs2, .. }
            | And { rs1, rs2, .. }
            | Addw { rs1, rs2, .. }
            | Subw { rs1, rs2, .. }
            | Sllw { rs1, rs2, .. }
            | Srlw { rs1, rs2, .. }
            | Sraw { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Mul { rs1, rs2, .. }
            | Mulh { rs1, rs2, .. }
            | Mulhsu { rs1, rs2, .. }
            | Mulhu { rs1, rs2, .. }
            | Div { rs1, rs2, .. }
            | Divu { rs1, rs2, .. }
            | Rem { rs1, rs2, .. }
            | Remu { rs1, rs2, .. }
            | Mulw { rs1, rs2, .. }
            | Divw { rs1, rs2, .. }
            | Divuw { rs1, rs2, .. }
            | Remw { rs1, rs2, .. }
            | Remuw { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Lr { rs1, .. } => (Some(rs1), None),
            Sc { rs1, rs2, .. } | Amo { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Csrrw { rs1, .. } | Csrrs { rs1, .. } | Csrrc { rs1, .. } => (Some(rs1), None),
            Csrrwi { .. } | Csrrsi { .. } | Csrrci { .. } => (None, None),
            SfenceVma { rs1, rs2 } => (Some(rs1), Some(rs2)),
            Gc { op: GcOp::Collect, .. } => (None, None),
            Gc { op: GcOp::RootRemove | GcOp::Stats, rs1, .. } => (Some(rs1), None),
            Gc { rs1, rs2, .. } => (Some(rs1), Some(rs2)),
            Fence { .. } | Ecall | Ebreak | FenceI | Mret | Sret | Wfi => (None, None),
            Illegal { .. } => (None, None),
        }
    }

    /// The registers this instruction reads, as a set.
    pub fn sources(&self) -> RegSet {
        let (a, b) = self.operands();
        a.map_or(0, |r| 1 << r) | b.map_or(0, |r| 1 << r)
    }
}
