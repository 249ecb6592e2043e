//! The code generator: one translation unit ([`Region`]) in, one WebAssembly
//! module out. The same bytes run in both backends.
//!
//! The module imports `env.memory` (the [`MemoryLayout`]'s) and exports
//! `run: (budget: i64) -> i64`. `budget` is how many guest instructions the
//! unit may retire before it must return (the dispatcher's distance to the
//! next timer event or slice end). Before returning, the unit stores every
//! register it changed and the pc to continue at in the state block, and
//! returns `remaining_budget << 1 | interpret`, where `interpret` = 1 says
//! "the instruction at pc is for the interpreter" (a side exit) and 0 says
//! "pc starts a new unit" (a normal exit).
//!
//! Shape (see docs/DESIGN.md "Generated-code shape" for why):
//!
//! - **Baseline** ([`Tier::Baseline`]): one basic block, translated plainly:
//!   every register read and write goes to the state block in memory, no
//!   optimization.
//! - **Optimizing** ([`Tier::Optimizing`]): up to [`region::MAX_BLOCKS`]
//!   blocks of one page; guest registers live in wasm locals (loaded at
//!   entry, stored back at every exit); control flow between blocks is
//!   structured (`block`/`loop`/`if`, Ramsey's "Beyond Relooper"), so loops
//!   stay inside the function and transfers between blocks are direct
//!   branches; registers with values known at translation time are folded
//!   into constants, and writes overwritten before any read or exit are
//!   dropped.
//!
//! Safety: every guest load and store computes `off = addr - RAM_BASE` and
//! leaves through a side exit unless `off + size <= ram_len` (and the access
//! is aligned; stores also unless the page's flag byte is 0), then accesses
//! `layout.ram + off`. No guest value can make generated code touch memory
//! outside RAM and the state block. Division is guarded, so generated code
//! never traps.
use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, InstructionSink, MemArg, MemoryType, Module, TypeSection, ValType,
};

use super::layout::{state, MemoryLayout};
use super::region::{analyse, Block, Cfg, End, Region, Target};
use super::threshold::Tier;
use crate::isa::{alu, Inst, Kind};
use crate::mem::RAM_BASE;

/// Options that shape the generated code.
#[derive(Clone, Copy, Debug)]
pub struct CodegenOptions {
    /// [`Tier::Baseline`] or [`Tier::Optimizing`].
    pub tier: Tier,
    /// `mmu.strict_align`: misaligned loads trap. Without it a misaligned
    /// load inside RAM reads the same bytes inline as the interpreter's
    /// byte-wise path, so only stores (which must check every page they
    /// touch) leave for the interpreter when misaligned.
    pub strict_align: bool,
    /// Loads and stores are untranslated (bare mode or M-mode without
    /// MPRV): addresses are physical. Otherwise every access goes through
    /// the inline TLB in the state block (`state::TLB`) and leaves for the
    /// interpreter on a miss.
    pub data_bare: bool,
}

/// What [`generate`] produced.
#[derive(Clone, Debug)]
pub struct Generated {
    pub wasm: Vec<u8>,
    /// Guest instructions translated.
    pub instructions: u64,
    /// Blocks translated.
    pub blocks: usize,
}

/// Local indices: 0 is the budget parameter, 1..=31 hold x1..x31 in the
/// optimizing tier, then temporaries.
const BUDGET: u32 = 0;
const T0: u32 = 32;
const T1: u32 = 33;
const T2: u32 = 34;
/// The pc and the tag (`refund << 1 | interpret`) of the exit being taken.
const EXIT_PC: u32 = 35;
const EXIT_TAG: u32 = 36;
/// Inline-TLB hits so far in this call (added to `state::TLB_HITS` at exit).
const TLB_HITS: u32 = 37;
/// Address of the inline-TLB entry being used (i32).
const TLB_ENTRY: u32 = 38;
/// Index of the `mulhu` helper function.
const MULHU: u32 = 1;

/// Translate `region` into a module for `layout`'s memory.
pub fn generate(region: &Region, layout: &MemoryLayout, opts: CodegenOptions) -> Generated {
    let mut region = region.clone();
    let cfg = analyse(&mut region);
    let optimizing = opts.tier == Tier::Optimizing;
    let mut used = 0u32;
    let mut dirty = 0u32;
    for b in &region.blocks {
        for &(_, inst, _) in &b.insts {
            let rd = inst.dest();
            used |= inst.sources();
            if rd != 0 {
                dirty |= 1 << rd;
            }
        }
        match b.end {
            End::Jump { rd, .. } | End::Indirect { rd, .. } if rd != 0 => dirty |= 1 << rd,
            _ => {}
        }
        match b.end {
            End::Indirect { rs1, .. } => used |= 1 << rs1,
            End::Branch { inst, .. } => used |= inst.sources(),
            _ => {}
        }
    }
    used |= dirty;
    used &= !1;
    dirty &= !1;

    let mut f = Function::new([(37, ValType::I64), (1, ValType::I32)]);
    let mut e = Emitter {
        layout: *layout,
        optimizing,
        strict_align: opts.strict_align,
        data_bare: opts.data_bare,
        ctx: Vec::new(),
        known: [None; 32],
        cfg: &cfg,
        blocks: &region.blocks,
    };
    {
        let mut s = f.instructions();
        if optimizing {
            for r in 1..32u32 {
                if used & (1 << r) != 0 {
                    s.i32_const(0).i64_load(e.mem(state::X + 8 * r, 3)).local_set(r);
                }
            }
        }
        // Every exit branches out of this block to the one exit sequence.
        s.block(BlockType::Empty);
        e.ctx.push(Ctl::Exit);
        e.tree(&mut s, 0);
        e.ctx.pop();
        s.end();
        if optimizing {
            for r in 1..32u32 {
                if dirty & (1 << r) != 0 {
                    s.i32_const(0).local_get(r).i64_store(e.mem(state::X + 8 * r, 3));
                }
            }
        }
        s.i32_const(0).local_get(EXIT_PC).i64_store(e.mem(state::PC, 3));
        if !opts.data_bare {
            s.i32_const(0).i32_const(0).i64_load(e.mem(state::TLB_HITS, 3));
            s.local_get(TLB_HITS).i64_add().i64_store(e.mem(state::TLB_HITS, 3));
        }
        s.local_get(BUDGET).i64_const(1).i64_shl().local_get(EXIT_TAG).i64_add();
        s.end();
    }

    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I64], [ValType::I64]);
    types.ty().function([ValType::I64, ValType::I64], [ValType::I64]);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: layout.min_pages,
            maximum: layout.max_pages,
            memory64: false,
            shared: layout.shared,
            page_size_log2: None,
        }),
    );
    module.section(&imports);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    funcs.function(1);
    module.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    code.function(&f);
    code.function(&mulhu_function());
    module.section(&code);
    Generated {
        wasm: module.finish(),
        instructions: region.instructions(),
        blocks: region.blocks.len(),
    }
}

/// `mulhu(a, b)`: the high 64 bits of the unsigned 128-bit product, from
/// 32-bit halves.
fn mulhu_function() -> Function {
    // Locals: 0 a, 1 b, 2 a_lo, 3 a_hi, 4 b_lo, 5 b_hi, 6 t, 7 u.
    let mut f = Function::new([(6, ValType::I64)]);
    let mut s = f.instructions();
    let m = 0xffff_ffffi64;
    s.local_get(0).i64_const(m).i64_and().local_set(2);
    s.local_get(0).i64_const(32).i64_shr_u().local_set(3);
    s.local_get(1).i64_const(m).i64_and().local_set(4);
    s.local_get(1).i64_const(32).i64_shr_u().local_set(5);
    // t = a_lo * b_lo; u = a_hi * b_lo + (t >> 32)
    s.local_get(2).local_get(4).i64_mul().local_set(6);
    s.local_get(3).local_get(4).i64_mul().local_get(6).i64_const(32).i64_shr_u().i64_add();
    s.local_set(7);
    // w = a_lo * b_hi + (u & m)   (kept in t)
    s.local_get(2).local_get(5).i64_mul().local_get(7).i64_const(m).i64_and().i64_add();
    s.local_set(6);
    // a_hi * b_hi + (u >> 32) + (w >> 32)
    s.local_get(3).local_get(5).i64_mul();
    s.local_get(7).i64_const(32).i64_shr_u().i64_add();
    s.local_get(6).i64_const(32).i64_shr_u().i64_add();
    s.end();
    f
}

/// Labels open around the code being emitted (innermost last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctl {
    /// The block whose end is the exit sequence.
    Exit,
    If,
    /// `loop` whose start is this block.
    LoopHeadedBy(usize),
    /// `block` whose end is followed by this block's code.
    BlockFollowedBy(usize),
}

/// Where an exit's pc comes from.
#[derive(Clone, Copy)]
enum Pc {
    Const(u64),
    /// A temporary local.
    Local(u32),
}

struct Emitter<'a> {
    layout: MemoryLayout,
    optimizing: bool,
    strict_align: bool,
    data_bare: bool,
    ctx: Vec<Ctl>,
    /// Register values known at translation time, within the current block.
    known: [Option<u64>; 32],
    cfg: &'a Cfg,
    blocks: &'a [Block],
}

impl Emitter<'_> {
    fn mem(&self, offset: u32, align: u32) -> MemArg {
        MemArg { offset: (self.layout.state + offset) as u64, align, memory_index: 0 }
    }

    fn ram(&self, align: u32) -> MemArg {
        MemArg { offset: self.layout.ram as u64, align, memory_index: 0 }
    }

    // ------------------------------------------------------------ structure

    /// Ramsey's `doTree`: the code of block `b` and of the blocks it
    /// dominates.
    fn tree(&mut self, s: &mut InstructionSink, b: usize) {
        let merges = self.cfg.merge_children(b);
        if self.cfg.loop_header[b] {
            s.loop_(BlockType::Empty);
            self.ctx.push(Ctl::LoopHeadedBy(b));
            self.within(s, b, &merges);
            self.ctx.pop();
            s.end();
        } else {
            self.within(s, b, &merges);
        }
    }

    /// Ramsey's `nodeWithin`: `merges` (latest in reverse postorder first)
    /// each get a `block` whose end leads to their code.
    fn within(&mut self, s: &mut InstructionSink, b: usize, merges: &[usize]) {
        match merges.split_first() {
            None => self.block_code(s, b),
            Some((&y, rest)) => {
                s.block(BlockType::Empty);
                self.ctx.push(Ctl::BlockFollowedBy(y));
                self.within(s, b, rest);
                self.ctx.pop();
                s.end();
                self.tree(s, y);
            }
        }
    }

    fn label(&self, want: Ctl) -> u32 {
        let pos = self.ctx.iter().rposition(|&c| c == want).expect("label in scope");
        (self.ctx.len() - 1 - pos) as u32
    }

    /// Control passes from block `from` to `to`.
    fn branch(&mut self, s: &mut InstructionSink, from: usize, to: Target) {
        match to {
            Target::Exit(pc) => self.exit(s, Pc::Const(pc), false, 0),
            Target::Block(t) if self.cfg.is_back_edge(from, t) => {
                s.br(self.label(Ctl::LoopHeadedBy(t)));
            }
            Target::Block(t) if self.cfg.merge[t] => {
                s.br(self.label(Ctl::BlockFollowedBy(t)));
            }
            Target::Block(t) => self.tree(s, t),
        }
    }

    /// Leave the unit: branch to the exit sequence (which writes back
    /// registers and stores the pc) with the pc and the budget `refund`
    /// (instructions charged but not retired).
    fn exit(&mut self, s: &mut InstructionSink, pc: Pc, interpret: bool, refund: u64) {
        match pc {
            Pc::Const(v) => s.i64_const(v as i64),
            Pc::Local(l) => s.local_get(l),
        };
        s.local_set(EXIT_PC);
        s.i64_const((refund << 1 | interpret as u64) as i64).local_set(EXIT_TAG);
        s.br(self.label(Ctl::Exit));
    }

    // ---------------------------------------------------------------- block

    fn block_code(&mut self, s: &mut InstructionSink, b: usize) {
        let block = &self.blocks[b];
        self.known = [None; 32];
        self.known[0] = Some(0);
        let charge = block.retired();
        if charge > 0 {
            // Not enough budget for the whole block: leave before it.
            s.local_get(BUDGET).i64_const(charge as i64).i64_lt_s();
            s.if_(BlockType::Empty);
            self.ctx.push(Ctl::If);
            self.exit(s, Pc::Const(block.pc), false, 0);
            self.ctx.pop();
            s.end();
            s.local_get(BUDGET).i64_const(charge as i64).i64_sub().local_set(BUDGET);
        }
        let dead =
            if self.optimizing { dead_writes(block) } else { vec![false; block.insts.len()] };
        for (k, &(pc, inst, len)) in block.insts.iter().enumerate() {
            if !dead[k] {
                self.inst(s, pc, inst, len as u64, charge - k as u64);
            }
        }
        match block.end {
            End::Goto(t) => self.branch(s, b, t),
            End::Interpret(pc) => self.exit(s, Pc::Const(pc), true, 0),
            End::Jump { pc, len, rd, target } => {
                self.set_const(s, rd, pc.wrapping_add(len as u64));
                self.branch(s, b, target);
            }
            End::Indirect { pc, len, rd, rs1, imm } => {
                self.get(s, rs1);
                s.i64_const(imm as i64).i64_add().i64_const(-2).i64_and().local_set(T1);
                self.set_const(s, rd, pc.wrapping_add(len as u64));
                self.exit(s, Pc::Local(T1), false, 0);
            }
            End::Branch { inst, taken, not_taken, .. } => {
                let (Some(a), Some(c)) = inst.operands() else { unreachable!("not a branch") };
                if let (Some(x), Some(y)) = (self.known_value(a), self.known_value(c)) {
                    let go = alu::branch_taken(&inst, x, y) == Some(true);
                    self.branch(s, b, if go { taken } else { not_taken });
                } else {
                    self.get(s, a);
                    self.get(s, c);
                    match inst {
                        Inst::Beq { .. } => s.i64_eq(),
                        Inst::Bne { .. } => s.i64_ne(),
                        Inst::Blt { .. } => s.i64_lt_s(),
                        Inst::Bge { .. } => s.i64_ge_s(),
                        Inst::Bltu { .. } => s.i64_lt_u(),
                        Inst::Bgeu { .. } => s.i64_ge_u(),
                        _ => unreachable!("not a branch: {inst:?}"),
                    };
                    s.if_(BlockType::Empty);
                    self.ctx.push(Ctl::If);
                    self.branch(s, b, taken);
                    s.else_();
                    self.branch(s, b, not_taken);
                    self.ctx.pop();
                    s.end();
                }
            }
        }
    }

    // ------------------------------------------------------------ registers

    fn known_value(&self, r: u8) -> Option<u64> {
        if r == 0 {
            Some(0)
        } else if self.optimizing {
            self.known[r as usize]
        } else {
            None
        }
    }

    /// Push x[r].
    fn get(&self, s: &mut InstructionSink, r: u8) {
        if let Some(v) = self.known_value(r) {
            s.i64_const(v as i64);
        } else if self.optimizing {
            s.local_get(r as u32);
        } else {
            s.i32_const(0).i64_load(self.mem(state::X + 8 * r as u32, 3));
        }
    }

    /// Pop a value into x[r] (dropped for x0); its value is unknown.
    fn set(&mut self, s: &mut InstructionSink, r: u8) {
        self.known[r as usize] = None;
        if r == 0 {
            s.drop();
        } else if self.optimizing {
            s.local_set(r as u32);
        } else {
            s.local_set(T2);
            s.i32_const(0).local_get(T2).i64_store(self.mem(state::X + 8 * r as u32, 3));
        }
    }

    fn set_const(&mut self, s: &mut InstructionSink, r: u8, v: u64) {
        if r == 0 {
            return;
        }
        s.i64_const(v as i64);
        self.set(s, r);
        if self.optimizing {
            self.known[r as usize] = Some(v);
        }
    }

    // --------------------------------------------------------- instructions

    /// One compiled instruction; `refund` is what a side exit before it
    /// gives back to the budget.
    fn inst(&mut self, s: &mut InstructionSink, pc: u64, inst: Inst, len: u64, refund: u64) {
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
            Slli { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm & 63, |s| {
                s.i64_shl();
            }),
            Srli { rd, rs1, imm } => self.op_imm(s, rd, rs1, imm & 63, |s| {
                s.i64_shr_u();
            }),
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
                self.set(s, rd);
            }
            Mulh { rd, rs1, rs2 } | Mulhsu { rd, rs1, rs2 } => {
                // mulhu(a, b) - (a < 0 ? b : 0) [- (b < 0 ? a : 0) for mulh]
                self.get(s, rs1);
                self.get(s, rs2);
                s.call(MULHU);
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

    fn get32(&self, s: &mut InstructionSink, r: u8) {
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

    /// The result of a pure instruction whose inputs are all known.
    fn fold(&self, inst: &Inst, pc: u64) -> Option<u64> {
        if !self.optimizing {
            return None;
        }
        let (rs1, rs2) = inst.operands();
        let value = |r: Option<u8>| r.map_or(Some(0), |r| self.known_value(r));
        alu::eval(inst, pc, value(rs1)?, value(rs2)?)
    }

    // --------------------------------------------------------------- memory

    /// Leave the address operand (RAM offset, i32) of a `size`-byte access
    /// at x[rs1] + imm on the stack, after side exits for anything the
    /// inline path must not do.
    #[allow(clippy::too_many_arguments)]
    fn address(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        imm: i32,
        size: u64,
        store: bool,
        pc: u64,
        refund: u64,
    ) {
        if !self.data_bare {
            return self.paged_address(s, rs1, imm, size, store, pc, refund);
        }
        let limit = self.layout.ram_len as u64 - size;
        if let Some(base) = self.known_value(rs1) {
            let off = base.wrapping_add(imm as i64 as u64).wrapping_sub(RAM_BASE);
            if off <= limit && (off % size == 0 || (!store && !self.strict_align)) {
                if store {
                    s.i32_const((off >> 12) as i32);
                    s.i32_load8_u(MemArg {
                        offset: self.layout.page_flags as u64,
                        align: 0,
                        memory_index: 0,
                    });
                    self.exit_if(s, pc, refund);
                }
                s.i32_const(off as i32);
                return;
            }
        }
        self.get(s, rs1);
        s.i64_const((imm as i64).wrapping_sub(RAM_BASE as i64)).i64_add().local_tee(T0);
        s.i64_const(limit as i64).i64_gt_u();
        self.exit_if(s, pc, refund);
        if size > 1 && (store || self.strict_align) {
            s.local_get(T0).i32_wrap_i64().i32_const(size as i32 - 1).i32_and();
            self.exit_if(s, pc, refund);
        }
        if store {
            s.local_get(T0).i64_const(12).i64_shr_u().i32_wrap_i64();
            s.i32_load8_u(MemArg {
                offset: self.layout.page_flags as u64,
                align: 0,
                memory_index: 0,
            });
            self.exit_if(s, pc, refund);
        }
        s.local_get(T0).i32_wrap_i64();
    }

    /// [`Emitter::address`] for translated accesses: the inline TLB's fast
    /// path. Side exits unless the access stays in its page (or is aligned,
    /// where it must be), the entry's read or write tag equals the page
    /// number, and `va + addend` passes the same RAM bounds (and, for
    /// stores, page-flag) checks as untranslated accesses: whatever the
    /// entries hold, generated code stays inside RAM.
    #[allow(clippy::too_many_arguments)]
    fn paged_address(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        imm: i32,
        size: u64,
        store: bool,
        pc: u64,
        refund: u64,
    ) {
        let limit = self.layout.ram_len as u64 - size;
        self.get(s, rs1);
        s.i64_const(imm as i64).i64_add().local_set(T0);
        if size > 1 {
            s.local_get(T0).i32_wrap_i64();
            if store || self.strict_align {
                s.i32_const(size as i32 - 1).i32_and();
            } else {
                s.i32_const(0xfff).i32_and().i32_const(4096 - size as i32).i32_gt_u();
            }
            self.exit_if(s, pc, refund);
        }
        s.local_get(T0).i64_const(12).i64_shr_u().local_tee(T1).i32_wrap_i64();
        s.i32_const(state::TLB_ENTRIES as i32 - 1).i32_and();
        s.i32_const(state::TLB_ENTRY_BYTES.trailing_zeros() as i32).i32_shl().local_tee(TLB_ENTRY);
        s.i64_load(
            self.mem(
                state::TLB + if store { state::TLB_WRITE_TAG } else { state::TLB_READ_TAG },
                3,
            ),
        );
        s.local_get(T1).i64_ne();
        self.exit_if(s, pc, refund);
        s.local_get(TLB_HITS).i64_const(1).i64_add().local_set(TLB_HITS);
        s.local_get(T0).local_get(TLB_ENTRY).i64_load(self.mem(state::TLB + state::TLB_ADDEND, 3));
        s.i64_add().local_tee(T0);
        s.i64_const(limit as i64).i64_gt_u();
        self.exit_if(s, pc, refund);
        if store {
            s.local_get(T0).i64_const(12).i64_shr_u().i32_wrap_i64();
            s.i32_load8_u(MemArg {
                offset: self.layout.page_flags as u64,
                align: 0,
                memory_index: 0,
            });
            self.exit_if(s, pc, refund);
        }
        s.local_get(T0).i32_wrap_i64();
    }

    /// Pop an i32 condition; if it is non-zero, side-exit to the interpreter
    /// at `pc`.
    fn exit_if(&mut self, s: &mut InstructionSink, pc: u64, refund: u64) {
        s.if_(BlockType::Empty);
        self.ctx.push(Ctl::If);
        self.exit(s, Pc::Const(pc), true, refund);
        self.ctx.pop();
        s.end();
    }

    #[allow(clippy::too_many_arguments)]
    fn load(
        &mut self,
        s: &mut InstructionSink,
        rd: u8,
        rs1: u8,
        imm: i32,
        size: u64,
        signed: bool,
        pc: u64,
        refund: u64,
    ) {
        self.address(s, rs1, imm, size, false, pc, refund);
        let m = self.ram(0);
        match (size, signed) {
            (1, true) => s.i64_load8_s(m),
            (1, false) => s.i64_load8_u(m),
            (2, true) => s.i64_load16_s(m),
            (2, false) => s.i64_load16_u(m),
            (4, true) => s.i64_load32_s(m),
            (4, false) => s.i64_load32_u(m),
            _ => s.i64_load(m),
        };
        self.set(s, rd);
    }

    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        s: &mut InstructionSink,
        rs1: u8,
        rs2: u8,
        imm: i32,
        size: u64,
        pc: u64,
        refund: u64,
    ) {
        self.address(s, rs1, imm, size, true, pc, refund);
        self.get(s, rs2);
        let m = self.ram(0);
        match size {
            1 => s.i64_store8(m),
            2 => s.i64_store16(m),
            4 => s.i64_store32(m),
            _ => s.i64_store(m),
        };
    }
}

impl Emitter<'_> {
    /// AMO*.W / AMO*.D: the checks of an aligned store (an AMO needs write
    /// permission and alignment; anything else leaves for the interpreter,
    /// which raises the exception), then load, combine, store; rd gets the
    /// old value (sign-extended for .W). One hart per guest memory for now,
    /// so a plain load and store are atomic enough.
    #[allow(clippy::too_many_arguments)]
    fn amo(
        &mut self,
        s: &mut InstructionSink,
        op: crate::isa::AmoOp,
        rd: u8,
        rs1: u8,
        rs2: u8,
        double: bool,
        pc: u64,
        refund: u64,
    ) {
        use crate::isa::AmoOp::*;
        let size = if double { 8 } else { 4 };
        // `address` leaves the RAM offset; TLB_ENTRY is free again after it.
        self.address(s, rs1, 0, size, true, pc, refund);
        s.local_set(TLB_ENTRY);
        let m = self.ram(0);
        s.local_get(TLB_ENTRY);
        if double {
            s.i64_load(m);
        } else {
            s.i64_load32_s(m);
        }
        s.local_set(T1);
        self.get(s, rs2);
        if !double {
            s.i64_extend32_s();
        }
        s.local_set(T2);
        s.local_get(TLB_ENTRY);
        let pick = |s: &mut InstructionSink, cmp: fn(&mut InstructionSink)| {
            // select(old, src, cmp(old, src))
            s.local_get(T1).local_get(T2).local_get(T1).local_get(T2);
            cmp(s);
            s.select();
        };
        match op {
            Swap => {
                s.local_get(T2);
            }
            Add => {
                s.local_get(T1).local_get(T2).i64_add();
            }
            Xor => {
                s.local_get(T1).local_get(T2).i64_xor();
            }
            And => {
                s.local_get(T1).local_get(T2).i64_and();
            }
            Or => {
                s.local_get(T1).local_get(T2).i64_or();
            }
            Min => pick(s, |s| {
                s.i64_lt_s();
            }),
            Max => pick(s, |s| {
                s.i64_gt_s();
            }),
            // Sign-extended 32-bit values compare as unsigned 64-bit values
            // the way their low halves compare as u32.
            Minu => pick(s, |s| {
                s.i64_lt_u();
            }),
            Maxu => pick(s, |s| {
                s.i64_gt_u();
            }),
        }
        if double {
            s.i64_store(m);
        } else {
            s.i64_store32(m);
        }
        if rd != 0 {
            s.local_get(T1);
            self.set(s, rd);
        }
    }
}

/// Which instructions of `block` write a register that is written again
/// before any read and before any point where the unit may exit (so the
/// first write can be dropped). Only pure instructions qualify.
fn dead_writes(block: &Block) -> Vec<bool> {
    let mut dead = vec![false; block.insts.len()];
    let mut live = u32::MAX; // everything is live where the block ends
    for (k, (_, inst, _)) in block.insts.iter().enumerate().rev() {
        let (rd, srcs, pure) = (inst.dest(), inst.sources(), inst.kind() == Kind::Alu);
        if pure && rd != 0 && live & (1 << rd) == 0 {
            dead[k] = true;
            continue;
        }
        if rd != 0 {
            live &= !(1 << rd);
        }
        live |= srcs;
        if !pure {
            // A load or store may leave the unit before it runs: every
            // register must hold its value there.
            live = u32::MAX;
        }
    }
    dead
}
