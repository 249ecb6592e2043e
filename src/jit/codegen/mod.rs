//! The code generator: one translation unit ([`Region`]) in, one WebAssembly
//! module out. The same bytes run in both backends.
//!
//! The module imports `env.memory` (the [`MemoryLayout`]'s) and exports
//! `run: (budget: i64, state: i32) -> i64`. `budget` is how many guest
//! instructions the unit may retire before it must return (the dispatcher's
//! distance to the next timer event or slice end); `state` is the address of
//! the calling hart's state block. The address is a parameter, not a
//! constant, so the module does not depend on which hart runs it: harts
//! share compiled modules (natively, `backend::native`'s repository), and
//! the bytes are a function of [`generate`]'s inputs alone, the region, the
//! options and the layout's RAM, page flags and memory type
//! (`MemoryLayout::state` is not read). Before returning, the unit stores every
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
//! - **Optimizing** ([`Tier::Optimizing`]): up to
//!   [`region::MAX_BLOCKS`](crate::jit::region::MAX_BLOCKS) blocks of one page; guest registers live in wasm locals (loaded at
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
//!
//! Files (each states what it owns and its invariants):
//!
//! - `mod.rs`: the entry point and the function's frame: which registers
//!   are loaded at entry and stored at exit, the one exit sequence.
//! - `locals.rs`: the function's wasm locals, numbered and declared by one
//!   allocator.
//! - `module.rs`: the module around the function (types, the memory
//!   import, the export, the `mulhu` helper).
//! - `structure.rs`: blocks as structured control flow, budget checks,
//!   branches, exits.
//! - `emit.rs`: per-instruction translation (ALU, M).
//! - `memory.rs`: loads, stores and AMOs, their RAM checks and the inline
//!   TLB.
//! - `counted.rs`: counted loops, whose iterations but the last run in a
//!   copy with no checks after one check of them all at the loop's entry.
//! - `fold.rs`: register access, known register values, constant folding,
//!   dead writes.
//!
//! For the code view, [`generate_marked`] also records where each guest
//! instruction's translation starts in the function body ([`Mark`]); plain
//! [`generate`] records nothing, and both produce the same bytes.
use wasm_encoder::{BlockType, Function, MemArg};

use super::layout::{state, MemoryLayout};
use super::region::{analyse, Block, Cfg, Region};
use super::threshold::Tier;

mod calls;
mod counted;
mod emit;
mod fold;
mod locals;
mod memory;
mod module;
mod structure;
mod writeback;

use locals::{LocalOps, Locals};
use structure::Ctl;
use writeback::{Frame, Survey};

/// A bit of `exit_tag` (above any refund) that keeps an exit from
/// chaining: set on the exit taken when the budget cannot pay for the next
/// block, which would otherwise chain into a unit (maybe the same one) that
/// finds the budget as short, without end. Masked off in the result.
const NO_CHAIN: u64 = 1 << 62;

/// Options that shape the generated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Several harts share RAM: AMOs are wasm atomic read-modify-writes
    /// (the memory is shared). With one hart a plain load and store.
    pub atomic: bool,
    /// `jit.inline_tlb_entries`: the inline TLB's entries in use (a power of
    /// two, at most `layout::TLB_ENTRIES`); translated accesses index it
    /// with the page number masked by `entries - 1`.
    pub inline_tlb_entries: u32,
    /// `jit.access_groups`: loads and stores off one unchanged base
    /// register in a block share one check ([`memory::AccessGroup`]).
    pub access_groups: bool,
    /// `jit.counted_loops`: a one-block loop counted by an induction
    /// variable runs all but its last iteration in a copy with no checks,
    /// after one check of them all at its entry ([`counted::CountedLoop`]).
    pub counted_loops: bool,
    /// `jit.chaining`: a normal exit looks its pc up in the state block's
    /// chain table and tail-calls the unit it finds there
    /// (`return_call_indirect` through `env.table`) instead of returning
    /// to the dispatcher. Only optimizing units chain (see `jit/chain.rs`).
    pub chain: bool,
    /// `jit.miss_recompiles` > 0, optimizing tier: an indirect jump other
    /// than a return that misses every guard writes (unit entry, its pc,
    /// target) into the state block's ring (`StateBlock::misses`), so the
    /// JIT learns the targets compiled code goes to and can compile the
    /// unit again with them.
    pub record_misses: bool,
    /// `jit.nested_calls` (with chaining, optimizing tier): some unit of
    /// this hart may run as a nested call, so a chained exit first checks
    /// that its pc is not the return address a nested call waits for
    /// (`state::RET_EXPECT`). Without nested calls that address is always
    /// 0 and the check is left out.
    pub nested_calls: bool,
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

/// Everything [`generate`] reads: equal keys give byte-identical modules,
/// whichever hart asks (the state block's address is a call parameter).
/// Natively the backend's repository of compiled modules is keyed by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleKey {
    /// The unit as discovered from guest RAM: every instruction (decoded,
    /// with its pc and length) and every block end, so two keys are equal
    /// only if the guest code they cover is. Shared with the cached unit
    /// (`CachedCode::region`).
    pub region: std::sync::Arc<Region>,
    pub opts: CodegenOptions,
    /// The layout with `state` zeroed (generated code does not read it).
    pub layout: MemoryLayout,
}

impl ModuleKey {
    pub fn new(region: Region, layout: &MemoryLayout, opts: CodegenOptions) -> ModuleKey {
        ModuleKey { region: region.into(), opts, layout: MemoryLayout { state: 0, ..*layout } }
    }
}

/// A point of `run`'s function body where a stretch of code starts: the
/// translation of one guest instruction, or code of none. Marks come in
/// the order of the body, so a stretch ends where the next mark is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// `Some((block, pc))`: the translation of the instruction at `pc` in
    /// block `block` of the region (a block's jump or branch included)
    /// starts here. `None`: code that belongs to no one instruction starts
    /// here (a block's budget check, `block`/`loop`/`end` of the structure,
    /// the exit sequence).
    pub inst: Option<(usize, u64)>,
    /// Byte offset in the function body, as `Function::byte_len` counts it
    /// (from the locals' declarations; the size prefix not included).
    pub offset: usize,
}

/// Translate `region` into a module for `layout`'s memory.
pub fn generate(region: &Region, layout: &MemoryLayout, opts: CodegenOptions) -> Generated {
    generate_inner(region, layout, opts, false).0
}

/// [`generate`], also recording a [`Mark`] where each guest instruction's
/// translation starts (for the code view). The bytes are the same as
/// `generate`'s. An instruction that generates nothing of its own (a dead
/// write dropped, an ALU instruction writing x0, a `j` whose target block's
/// code follows it) has a mark at the same
/// offset as the next one; an instruction of a block that is never reached
/// has none.
pub fn generate_marked(
    region: &Region,
    layout: &MemoryLayout,
    opts: CodegenOptions,
) -> (Generated, Vec<Mark>) {
    let (g, marks) = generate_inner(region, layout, opts, true);
    (g, marks.unwrap_or_default())
}

/// For each mark of an instruction, the body bytes of its translation (up to
/// the next mark; empty if it generated nothing). An instruction marked
/// twice keeps its first stretch.
pub fn instruction_spans(marks: &[Mark]) -> Vec<((usize, u64), std::ops::Range<usize>)> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        let Some(inst) = m.inst else { continue };
        if !seen.insert(inst) {
            continue;
        }
        let end = marks.get(i + 1).map_or(m.offset, |n| n.offset);
        out.push((inst, m.offset..end));
    }
    out
}

fn generate_inner(
    region: &Region,
    layout: &MemoryLayout,
    opts: CodegenOptions,
    marked: bool,
) -> (Generated, Option<Vec<Mark>>) {
    let mut region = region.clone();
    let cfg = analyse(&mut region);
    let flow = writeback::Flow::of(&region.blocks, &cfg);
    // The optimizing tier translates twice: the first pass (a survey, its
    // code thrown away) finds what each exit must write back and which
    // registers' entry values are read; the second emits the real frame
    // (see `writeback.rs`). The baseline tier keeps registers in the state
    // block and needs no frame.
    let frame = if opts.tier == Tier::Optimizing {
        let (_, _, survey) = translate(&region, &cfg, &flow, layout, opts, &Frame::none(), false);
        Frame::from_survey(&survey)
    } else {
        Frame::baseline()
    };
    let (f, marks, survey) = translate(&region, &cfg, &flow, layout, opts, &frame, marked);
    let wasm = module::assemble(layout, &f, survey.uses_mulhu);
    (Generated { wasm, instructions: region.instructions(), blocks: region.blocks.len() }, marks)
}

/// One translation of `region` into `run`'s body with `frame`'s entry loads
/// and exit tails; also what its exits and reads needed (the survey).
fn translate(
    region: &Region,
    cfg: &Cfg,
    flow: &writeback::Flow,
    layout: &MemoryLayout,
    opts: CodegenOptions,
    frame: &Frame,
    marked: bool,
) -> (Function, Option<Vec<Mark>>, Survey) {
    let optimizing = opts.tier == Tier::Optimizing;
    let (locals, declared) = Locals::new(frame.locals);
    let mut f = Function::new(declared);
    let mut e = Emitter {
        layout: *layout,
        optimizing,
        strict_align: opts.strict_align,
        data_bare: opts.data_bare,
        atomic: opts.atomic,
        tlb_mask: opts.inline_tlb_entries as i32 - 1,
        l: locals,
        ctx: Vec::new(),
        known: [None; 32],
        written: 0,
        defined: 0,
        flow,
        tails: &frame.tails,
        survey: Survey::default(),
        fresh: 0,
        reloads: frame.reloads,
        cfg,
        blocks: &region.blocks,
        checks: structure::budget_checks(&region.blocks, cfg),
        marks: marked.then(Vec::new),
        groups: Vec::new(),
        cur: 0,
        block: 0,
        access_groups: opts.access_groups,
        uses_mulhu: false,
        miss_unit: (opts.record_misses && optimizing).then_some(region.entry),
        nested_calls: opts.nested_calls,
        counted_loops: opts.counted_loops,
        unchecked: false,
    };
    let l = locals;
    {
        let mut s = f.instructions();
        for r in 1..32u8 {
            if frame.loads & (1 << r) != 0 {
                s.get_local(l.state).i64_load(e.mem(x_offset(r), 3)).set_local(l.reg(r));
            }
        }
        // Every exit branches out of one of these blocks: the tail after
        // each inner block's `end` writes back its registers, then every
        // tail goes on to the one exit sequence after the outermost `end`.
        s.block(BlockType::Empty);
        for _ in &frame.tails {
            s.block(BlockType::Empty);
        }
    }
    e.ctx.push(Ctl::Exit);
    for j in 0..frame.tails.len() {
        e.ctx.push(Ctl::Tail(j));
    }
    e.tree(&mut f, 0);
    e.mark(&f, None);
    for (j, &regs) in frame.tails.iter().enumerate().rev() {
        e.ctx.pop();
        let mut s = f.instructions();
        s.end();
        for r in 1..32u8 {
            if regs & (1 << r) != 0 {
                s.get_local(l.state).get_local(l.reg(r)).i64_store(e.mem(x_offset(r), 3));
            }
        }
        if j > 0 {
            s.br(e.label(Ctl::Exit));
        }
    }
    e.ctx.pop();
    {
        let mut s = f.instructions();
        s.end();
        s.get_local(l.state).get_local(l.exit_pc).i64_store(e.mem(state::PC, 3));
        if !opts.data_bare {
            s.get_local(l.state).get_local(l.state).i64_load(e.mem(state::TLB_HITS, 3));
            s.get_local(l.tlb_hits).i64_add().i64_store(e.mem(state::TLB_HITS, 3));
        }
        if opts.chain {
            e.chain(&mut s);
        }
        s.get_local(l.budget).i64_const(1).i64_shl();
        s.get_local(l.exit_tag).i64_const(NO_CHAIN as i64 - 1).i64_and().i64_add();
        s.end();
    }
    let marks = e.marks.take();
    e.survey.uses_mulhu = e.uses_mulhu;
    (f, marks, e.survey)
}

/// Offset of `x[r]` in the state block.
fn x_offset(r: u8) -> u32 {
    state::X + std::mem::size_of::<u64>() as u32 * r as u32
}

/// The state of translation, shared by the files of this module: each adds
/// its own `impl Emitter` methods.
struct Emitter<'a> {
    layout: MemoryLayout,
    optimizing: bool,
    strict_align: bool,
    data_bare: bool,
    /// AMOs are wasm atomics (several harts).
    atomic: bool,
    /// The inline TLB's index mask (`inline_tlb_entries - 1`).
    tlb_mask: i32,
    /// The function's locals.
    l: Locals,
    /// Labels open around the code being emitted (innermost last).
    ctx: Vec<Ctl>,
    /// Register values known at translation time, within the current block.
    known: [Option<u64>; 32],
    /// Registers that may have been written on some path to the code being
    /// emitted ([`Emitter::set`] adds, each block starts from the flow's
    /// `may_in`): what an exit here writes back.
    written: u32,
    /// Registers written on every path to here: their locals no longer hold
    /// the entry value, so reading them needs no entry load.
    defined: u32,
    flow: &'a writeback::Flow,
    /// The exit tails' write-back sets (label `Ctl::Tail(j)`); empty in the
    /// survey pass and in the baseline tier, where exits branch to the exit
    /// sequence itself.
    tails: &'a [u32],
    /// What this translation's exits and reads needed.
    survey: Survey,
    /// Registers written on every path since the latest nested call
    /// (`Flow::fresh_in`, then `set`).
    fresh: u32,
    /// Registers reloaded after a nested call (`Frame::reloads`).
    reloads: u32,
    cfg: &'a Cfg,
    blocks: &'a [Block],
    /// The budget each block checks before it runs, 0 for none
    /// ([`structure::budget_checks`]).
    checks: Vec<u64>,
    /// Recorded only for [`generate_marked`].
    marks: Option<Vec<Mark>>,
    /// The current block's access groups, one role per instruction
    /// ([`memory::access_groups`]; empty when accesses are not grouped).
    groups: Vec<memory::AccessGroup>,
    /// Index in its block of the instruction being emitted.
    cur: usize,
    /// The block being emitted (index in `blocks`).
    block: usize,
    /// `CodegenOptions::access_groups`.
    access_groups: bool,
    /// Some instruction called the module's `mulhu` helper.
    uses_mulhu: bool,
    /// The unit's entry pc when its indirect jumps record their misses
    /// (`CodegenOptions::record_misses`).
    miss_unit: Option<u64>,
    /// `CodegenOptions::nested_calls`.
    nested_calls: bool,
    /// `CodegenOptions::counted_loops`.
    counted_loops: bool,
    /// Emitting a counted loop's unchecked copy: accesses make no checks
    /// (the copy's entry checked them all).
    unchecked: bool,
}

impl Emitter<'_> {
    /// Code of `inst` (or of no instruction) starts at the end of `f` so far.
    fn mark(&mut self, f: &Function, inst: Option<(usize, u64)>) {
        if let Some(marks) = &mut self.marks {
            marks.push(Mark { inst, offset: f.byte_len() });
        }
    }

    /// Marks recorded so far (0 when not recording).
    fn marks_len(&self) -> usize {
        self.marks.as_ref().map_or(0, Vec::len)
    }

    /// A state-block field at `offset`, addressed from the `state`
    /// parameter (the caller pushes `local.get state`, or an address already
    /// based on it).
    fn mem(&self, offset: u32, align: u32) -> MemArg {
        MemArg { offset: offset as u64, align, memory_index: 0 }
    }

    /// Guest RAM (addressed by RAM offset).
    fn ram(&self, align: u32) -> MemArg {
        self.ram_at(0, align)
    }

    /// Guest RAM `extra` bytes past the RAM offset on the stack.
    fn ram_at(&self, extra: u32, align: u32) -> MemArg {
        MemArg { offset: self.layout.ram as u64 + extra as u64, align, memory_index: 0 }
    }

    /// The chaining part of the exit sequence (registers and pc already
    /// stored): on a normal exit (`exit_tag` 0) to a pc that is not the
    /// return address a nested call waits for (`state::RET_EXPECT`; that
    /// exit returns to the caller instead), if the chain-table slot of
    /// `exit_pc` holds that pc with this instance's tag and the hart's
    /// mode, count the entry and tail-call its unit with the budget left;
    /// otherwise fall through to the return. The callee checks its own
    /// budget at its entry, so guest time stays exact.
    fn chain(&self, s: &mut wasm_encoder::InstructionSink) {
        let l = self.l;
        s.block(BlockType::Empty);
        s.get_local(l.exit_tag).i64_const(0).i64_ne().br_if(0);
        if self.nested_calls {
            s.get_local(l.exit_pc).get_local(l.state).i64_load(self.mem(state::RET_EXPECT, 3));
            s.i64_eq().br_if(0);
        }
        self.chain_lookup(s, structure::Pc::Local(l.exit_pc));
        s.get_local(l.budget).get_local(l.state);
        s.get_local(l.tlb_entry).i32_load(self.mem(state::CHAIN + state::CHAIN_FUNC, 2));
        s.return_call_indirect(0, 0);
        s.end();
    }

    /// Inside a `block`: leave it (`br 0`) unless the chain-table slot of
    /// `pc` holds a unit for `pc` with this instance's tag and the hart's
    /// mode; on a match count the entry (the slot's hits and the hart's
    /// `chained`) and leave the slot's address in `tlb_entry` (free again
    /// once no access is in flight), its `CHAIN_FUNC` naming the unit's
    /// function-table slot.
    fn chain_lookup(&self, s: &mut wasm_encoder::InstructionSink, pc: structure::Pc) {
        let l = self.l;
        let slot = l.tlb_entry;
        let push_pc = |s: &mut wasm_encoder::InstructionSink| match pc {
            structure::Pc::Const(v) => {
                s.i64_const(v as i64);
            }
            structure::Pc::Local(x) => {
                s.get_local(x);
            }
        };
        // slot = state + chain_slot_of(pc) * CHAIN_SLOT_BYTES
        match pc {
            structure::Pc::Const(v) => {
                let off = super::layout::chain_slot_of(v) as u32 * state::CHAIN_SLOT_BYTES;
                s.get_local(l.state).i32_const(off as i32).i32_add().set_local(slot);
            }
            structure::Pc::Local(x) => {
                s.get_local(x).i64_const(1).i64_shr_u();
                s.get_local(x).i64_const(11).i64_shr_u().i64_xor().i32_wrap_i64();
                s.i32_const(state::CHAIN_SLOTS as i32 - 1).i32_and();
                s.i32_const(state::CHAIN_SLOT_BYTES.trailing_zeros() as i32).i32_shl();
                s.get_local(l.state).i32_add().set_local(slot);
            }
        }
        s.get_local(slot).i64_load(self.mem(state::CHAIN + state::CHAIN_VPC, 3));
        push_pc(s);
        s.i64_ne().br_if(0);
        s.get_local(slot).i32_load(self.mem(state::CHAIN + state::CHAIN_TAG, 2));
        s.global_get(0).get_local(l.state).i32_load(self.mem(state::CHAIN_MODE, 2)).i32_or();
        s.i32_ne().br_if(0);
        let hits = self.mem(state::CHAIN + state::CHAIN_HITS, 3);
        s.get_local(slot).get_local(slot).i64_load(hits).i64_const(1).i64_add().i64_store(hits);
        let chained = self.mem(state::CHAINED, 3);
        s.get_local(l.state).get_local(l.state).i64_load(chained);
        s.i64_const(1).i64_add().i64_store(chained);
    }

    /// RAM's page-flag bytes (addressed by RAM page number).
    fn page_flags(&self) -> MemArg {
        MemArg { offset: self.layout.page_flags as u64, align: 0, memory_index: 0 }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{AmoOp, Inst};
    use crate::jit::region::{End, Target};
    use crate::mem::RAM_BASE;

    /// A loop of ALU, M, load, store and AMO instructions, a JAL into a
    /// second block and a JALR out.
    fn region() -> Region {
        let pc = RAM_BASE;
        let insts = [
            Inst::Addi { rd: 5, rs1: 5, imm: -1 },
            Inst::Mulhu { rd: 6, rs1: 5, rs2: 7 },
            Inst::Divw { rd: 8, rs1: 6, rs2: 5 },
            Inst::Ld { rd: 9, rs1: 10, imm: 8 },
            Inst::Sw { rs1: 10, rs2: 9, imm: 4 },
            Inst::Amo { op: AmoOp::Maxu, rd: 11, rs1: 10, rs2: 9, double: false, aqrl: 0 },
        ];
        let insts: Vec<_> =
            insts.iter().enumerate().map(|(k, &i)| (pc + 4 * k as u64, i, 4)).collect();
        let end0 = pc + 4 * insts.len() as u64;
        Region {
            entry: pc,
            blocks: vec![
                Block {
                    pc,
                    insts,
                    end: End::Branch {
                        pc: end0,
                        inst: Inst::Bne { rs1: 5, rs2: 0, imm: -(end0 as i32 - pc as i32) },
                        taken: Target::Block(0),
                        not_taken: Target::Block(1),
                    },
                    guards: Vec::new(),
                    call: None,
                },
                Block {
                    pc: end0 + 4,
                    insts: vec![],
                    end: End::Indirect { pc: end0 + 4, len: 4, rd: 1, rs1: 1, imm: 0 },
                    guards: Vec::new(),
                    call: None,
                },
            ],
            extra_pages: Vec::new(),
        }
    }

    /// Only the entry and loop heads check the budget, each for the
    /// longest path to the next check: block 0 (the entry, and a loop head)
    /// asks for its 7 instructions and block 1's jalr.
    #[test]
    fn budget_checks_cover_the_longest_path_to_the_next_check() {
        let mut r = region();
        let cfg = analyse(&mut r);
        assert_eq!(structure::budget_checks(&r.blocks, &cfg), vec![8, 0]);
    }

    /// Write-back by exit (`writeback.rs`): a load's side exit before any
    /// write stores nothing, the final exit stores what was written, and a
    /// register written before every exit that stores it is never loaded.
    #[test]
    fn exits_write_back_only_what_may_have_been_written() {
        let pc = RAM_BASE;
        let insts = vec![
            (pc, Inst::Ld { rd: 9, rs1: 10, imm: 8 }, 4),
            (pc + 4, Inst::Addi { rd: 5, rs1: 5, imm: 1 }, 4),
        ];
        let region = Region {
            entry: pc,
            blocks: vec![Block {
                pc,
                insts,
                end: End::Indirect { pc: pc + 8, len: 4, rd: 0, rs1: 1, imm: 0 },
                guards: Vec::new(),
                call: None,
            }],
            extra_pages: Vec::new(),
        };
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
        let opts = CodegenOptions {
            tier: Tier::Optimizing,
            strict_align: false,
            data_bare: true,
            atomic: false,
            chain: false,
            inline_tlb_entries: 256,
            access_groups: true,
            counted_loops: true,
            record_misses: false,
            nested_calls: false,
        };
        let g = generate(&region, &layout, opts);
        let wat = wasmprinter::print_bytes(&g.wasm).expect("valid module");
        let count = |what: &str, r: u32| {
            let needle = format!("{what} offset={}", x_offset(r as u8));
            wat.lines().filter(|l| l.trim() == needle).count()
        };
        // x5 and x10 and x1 are read; x9 is written by the load before the
        // only exit that stores it.
        assert_eq!((count("i64.load", 5), count("i64.load", 10), count("i64.load", 1)), (1, 1, 1));
        assert_eq!(count("i64.load", 9), 0, "{wat}");
        // Two tails: the side exit's (nothing) and the end's (x5, x9).
        assert_eq!((count("i64.store", 5), count("i64.store", 9)), (1, 1), "{wat}");
        assert_eq!(wat.matches("i64.store offset=").count(), 3, "x5, x9 and the pc: {wat}");
    }

    /// The `mulhu` helper is in the module only when an instruction calls
    /// it: natively every function of a module is compiled, and most units
    /// multiply nothing wide.
    #[test]
    fn the_mulhu_helper_comes_only_with_a_wide_multiply() {
        let pc = RAM_BASE;
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
        let opts = CodegenOptions {
            tier: Tier::Optimizing,
            strict_align: false,
            data_bare: true,
            atomic: false,
            chain: true,
            inline_tlb_entries: 256,
            access_groups: true,
            counted_loops: true,
            record_misses: false,
            nested_calls: false,
        };
        let functions = |inst: Inst| {
            let region = Region {
                entry: pc,
                blocks: vec![Block {
                    pc,
                    insts: vec![(pc, inst, 4)],
                    end: End::Indirect { pc: pc + 4, len: 4, rd: 0, rs1: 1, imm: 0 },
                    guards: Vec::new(),
                    call: None,
                }],
                extra_pages: Vec::new(),
            };
            let wasm = generate(&region, &layout, opts).wasm;
            let wat = wasmprinter::print_bytes(&wasm).expect("valid module");
            wat.matches("(func (;").count()
        };
        assert_eq!(functions(Inst::Mul { rd: 5, rs1: 6, rs2: 7 }), 1);
        assert_eq!(functions(Inst::Mulhu { rd: 5, rs1: 6, rs2: 7 }), 2);
        assert_eq!(functions(Inst::Mulh { rd: 5, rs1: 6, rs2: 7 }), 2);
    }

    /// A register copy (`mv`, `c.mv`) is a local copy, with no add of 0
    /// for V8's baseline compiler to emit.
    #[test]
    fn register_copies_are_local_copies() {
        let pc = RAM_BASE;
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
        let opts = CodegenOptions {
            tier: Tier::Optimizing,
            strict_align: false,
            data_bare: true,
            atomic: false,
            chain: false,
            inline_tlb_entries: 256,
            access_groups: true,
            counted_loops: true,
            record_misses: false,
            nested_calls: false,
        };
        let adds = |insts: Vec<Inst>| {
            let n = insts.len() as u64;
            let region = Region {
                entry: pc,
                blocks: vec![Block {
                    pc,
                    insts: insts
                        .into_iter()
                        .enumerate()
                        .map(|(i, x)| (pc + 4 * i as u64, x, 4))
                        .collect(),
                    end: End::Indirect { pc: pc + 4 * n, len: 4, rd: 0, rs1: 1, imm: 0 },
                    guards: Vec::new(),
                    call: None,
                }],
                extra_pages: Vec::new(),
            };
            let wasm = generate(&region, &layout, opts).wasm;
            let wat = wasmprinter::print_bytes(&wasm).expect("valid module");
            wat.lines().filter(|l| l.trim() == "i64.add").count()
        };
        let copies = adds(vec![
            Inst::Addi { rd: 5, rs1: 6, imm: 0 },
            Inst::Add { rd: 7, rs1: 0, rs2: 6 },
            Inst::Or { rd: 8, rs1: 6, rs2: 0 },
        ]);
        let sums = adds(vec![
            Inst::Addi { rd: 5, rs1: 6, imm: 1 },
            Inst::Add { rd: 7, rs1: 9, rs2: 6 },
            Inst::Or { rd: 8, rs1: 6, rs2: 0 },
        ]);
        assert_eq!(sums - copies, 2, "{copies} adds with copies, {sums} with sums");
    }

    /// `access_groups`: the load and the store off x10 in `region()` share
    /// one bounds check (the AMO after them keeps its own).
    #[test]
    fn access_groups_share_one_bounds_check() {
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
        let checks = |access_groups| {
            let opts = CodegenOptions {
                tier: Tier::Optimizing,
                strict_align: false,
                data_bare: true,
                atomic: false,
                chain: false,
                inline_tlb_entries: 256,
                access_groups,
                counted_loops: true,
                record_misses: false,
                nested_calls: false,
            };
            let wasm = generate(&region(), &layout, opts).wasm;
            let wat = wasmprinter::print_bytes(&wasm).expect("valid module");
            wat.lines().filter(|l| l.trim() == "i64.gt_u").count()
        };
        assert_eq!((checks(false), checks(true)), (4, 3));
    }

    /// Every tier and access mode produces a valid module.
    #[test]
    fn generated_modules_validate() {
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
        for tier in [Tier::Baseline, Tier::Optimizing] {
            for (strict_align, data_bare) in [(false, true), (true, true), (false, false)] {
                let chain = tier == Tier::Optimizing;
                let opts = CodegenOptions {
                    tier,
                    strict_align,
                    data_bare,
                    atomic: false,
                    chain,
                    inline_tlb_entries: 256,
                    access_groups: true,
                    counted_loops: true,
                    record_misses: false,
                    nested_calls: false,
                };
                let g = generate(&region(), &layout, opts);
                assert_eq!((g.instructions, g.blocks), (8, 2));
                if let Err(e) = wasmparser::validate(&g.wasm) {
                    panic!("{opts:?}: {e}");
                }
                // Marking changes nothing in the bytes; every instruction
                // and terminator is marked once, in the body's order.
                let (marked, marks) = generate_marked(&region(), &layout, opts);
                assert_eq!(marked.wasm, g.wasm, "{opts:?}");
                assert!(marks.windows(2).all(|w| w[0].offset <= w[1].offset), "{marks:?}");
                assert_eq!(instruction_spans(&marks).len(), 8, "{opts:?}: {marks:?}");
            }
        }
    }
}
