//! Translation units: which guest instructions one compile covers, and the
//! shape of their control flow.
//!
//! A unit starts at an entry pc. When instruction fetch is translated (Sv39)
//! it never leaves the 4 KiB page it starts on, so it depends on one page's
//! translation and one page's contents. When fetch is untranslated (M-mode,
//! or satp bare) virtual and physical addresses are the same and a unit may
//! take code from up to [`DiscoverOptions::max_pages`] pages
//! (`jit.unit_pages`); the pages beyond the entry's are listed in
//! [`Region::extra_pages`], and a store into any of them invalidates the unit
//! as a store into its entry page does. The baseline tier takes one basic
//! block; the optimizing tier follows direct branches and jumps into those
//! pages and takes up to [`MAX_BLOCKS`] blocks, loops included, and calls
//! with their continuations: a return is guarded with those continuations
//! ([`Block::guards`]), and an indirect jump with the targets the
//! interpreter saw it take most (`jit.jump_targets`). A call that leaves the unit (to another page, or
//! through a register) may keep its continuation too ([`Block::call`]):
//! generated code calls the callee's unit as a wasm function and goes on
//! there when it returns to that address.
//!
//! Only instructions whose whole effect is registers and RAM are compiled.
//! Anything else (CSRs, system instructions, atomics, and loads and stores
//! when data accesses are translated by the MMU) ends the block with
//! [`End::Interpret`]: generated code leaves there and the interpreter
//! executes that instruction.
//!
//! [`Cfg`] gives the code generator what structured control flow needs:
//! reverse postorder, dominators, loop headers and merge nodes. Back edges to
//! a block that does not dominate their source (irreducible flow) become
//! exits, so the graph it describes is always reducible.
use crate::isa::{decode, Inst, Kind};
use crate::mem::Ram;

/// At most this many blocks per optimizing unit.
pub const MAX_BLOCKS: usize = 64;
/// At most this many instructions per block.
pub const MAX_BLOCK_INSNS: usize = 64;
/// At most this many instructions per unit.
pub const MAX_UNIT_INSNS: usize = 1024;
/// At most this many guarded targets per indirect jump (`Block::guards`).
pub const MAX_GUARDS: usize = 16;
/// At most this many pages per unit (`jit.unit_pages`).
pub const MAX_UNIT_PAGES: usize = 16;

/// Where control goes at the end of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Another block of the unit (its index).
    Block(usize),
    /// Out of the unit, to this guest pc (the dispatcher continues there).
    Exit(u64),
}

/// How a block ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// Fall into `Target` without an instruction (the next block starts here,
    /// or the block reached its size limit or the page's end).
    Goto(Target),
    /// JAL at `pc`: write `pc + len` to `rd`, go to `target`.
    Jump { pc: u64, len: u8, rd: u8, target: Target },
    /// A conditional branch at `pc` (`inst` is one of BEQ..BGEU).
    Branch { pc: u64, inst: Inst, taken: Target, not_taken: Target },
    /// JALR at `pc`: the target is computed, so the unit ends.
    Indirect { pc: u64, len: u8, rd: u8, rs1: u8, imm: i32 },
    /// The instruction at `pc` must be executed by the interpreter.
    Interpret(u64),
}

/// One straight-line run of compiled instructions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    pub pc: u64,
    /// (pc, instruction, length in bytes); loads, stores, ALU and M
    /// instructions only.
    pub insts: Vec<(u64, Inst, u8)>,
    pub end: End,
    /// For a block that ends in an indirect jump (optimizing tier): targets
    /// known to be likely, each a block of the unit, as (pc, block).
    /// Generated code compares the computed target with each in order and
    /// goes to the block on a match (a guard); any other target leaves the
    /// unit as before. They are
    /// - for a `jalr` that is not a return, the targets the interpreter
    ///   saw it jump to most (`jump_profile.rs`, `jit.jump_targets`): the
    ///   cases of a jump table, the functions a pointer called;
    /// - for `jalr x0, 0(rs)` (a return through `ra`, `t0` or any register
    ///   a call linked through), the return addresses of the calls inside
    ///   the unit whose continuation is a block of the unit
    ///   (return-address guards, `jit.return_guards`), so a call and its
    ///   return stay inside the unit;
    /// - for a return through `ra` or `t0` in a unit whose entry follows a
    ///   call, also the unit's entry (`jit.return_guards`): a unit that
    ///   starts at the continuation of a recursive call (code after `call f`
    ///   inside `f`) returns to its own entry once per level as the
    ///   recursion unwinds, and goes round inside itself instead of leaving
    ///   and chaining back in. (The instruction before the entry lies in the
    ///   entry's page, so the unit still depends on that page alone.)
    pub guards: Vec<(u64, usize)>,
    /// For a block that ends in a call leaving the unit (`jal` with a link
    /// register to code outside it, or `jalr` with one; optimizing tier,
    /// `jit.nested_calls`): the return address and the block of the unit
    /// that starts there. Generated code calls the callee's compiled unit
    /// (if the chain table has one) as a nested wasm call and, when the
    /// guest comes back to exactly that address, goes on at the block; any
    /// other outcome leaves the unit.
    pub call: Option<(u64, usize)>,
}

impl Block {
    /// Guest instructions retired by running the whole block (the
    /// terminating jump or branch included; an `Interpret` end is not run).
    pub fn retired(&self) -> u64 {
        let end = match self.end {
            End::Jump { .. } | End::Branch { .. } | End::Indirect { .. } => 1,
            End::Goto(_) | End::Interpret(_) => 0,
        };
        self.insts.len() as u64 + end
    }

    /// Successor blocks inside the unit: [`Block::jump_successors`] and a
    /// nested call's continuation.
    pub fn successors(&self) -> Vec<usize> {
        let mut s = self.jump_successors();
        s.extend(self.call.map(|(_, b)| b));
        s
    }

    /// Successor blocks the block's own end goes to with the unit's locals
    /// as they are (its targets and guarded targets), without a nested
    /// call's continuation, which is entered after a call that wrote back
    /// and reloaded registers.
    pub fn jump_successors(&self) -> Vec<usize> {
        let targets = match self.end {
            End::Goto(t) | End::Jump { target: t, .. } => vec![t],
            End::Branch { taken, not_taken, .. } => vec![taken, not_taken],
            End::Indirect { .. } | End::Interpret(_) => vec![],
        };
        targets
            .into_iter()
            .filter_map(|t| match t {
                Target::Block(b) => Some(b),
                Target::Exit(_) => None,
            })
            .chain(self.guards.iter().map(|&(_, b)| b))
            .collect()
    }

    /// Whether the instruction at `pc` belongs to the block (one of its
    /// instructions, or the jump, branch or instruction it ends with).
    fn covers(&self, pc: u64) -> bool {
        let end_pc = match self.end {
            End::Jump { pc, .. } | End::Branch { pc, .. } | End::Indirect { pc, .. } => Some(pc),
            End::Interpret(pc) => Some(pc),
            End::Goto(_) => None,
        };
        end_pc == Some(pc) || self.insts.iter().any(|i| i.0 == pc)
    }

    /// Cut the block before the instruction at `pc` (which it covers), so
    /// that it falls through to the block discovery makes there. Returns
    /// the instructions removed (as the unit's size counts them).
    fn truncate_at(&mut self, pc: u64) -> usize {
        let keep = self.insts.iter().position(|i| i.0 == pc).unwrap_or(self.insts.len());
        let removed = self.insts.len() - keep
            + matches!(self.end, End::Jump { .. } | End::Branch { .. } | End::Indirect { .. })
                as usize;
        self.insts.truncate(keep);
        self.end = End::Goto(Target::Exit(pc | PENDING));
        self.guards.clear();
        self.call = None;
        removed
    }

    fn retarget(&mut self, from: usize, to: Target) {
        let fix = |t: &mut Target| {
            if *t == Target::Block(from) {
                *t = to;
            }
        };
        match &mut self.end {
            End::Goto(t) | End::Jump { target: t, .. } => fix(t),
            End::Branch { taken, not_taken, .. } => {
                fix(taken);
                fix(not_taken);
            }
            End::Indirect { .. } | End::Interpret(_) => {}
        }
        // A guarded return that may not go to `from` any more leaves the
        // unit through the computed target, like any other.
        self.guards.retain(|&(_, b)| b != from);
        if self.call.is_some_and(|(_, b)| b == from) {
            self.call = None;
        }
    }
}

/// The guest code of one translation unit. Block 0 is the entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    /// Guest virtual pc of the entry.
    pub entry: u64,
    pub blocks: Vec<Block>,
    /// RAM page numbers (RAM offset / 4096) of the pages the unit took code
    /// from besides its entry's, sorted; empty unless fetch was
    /// untranslated and `max_pages` > 1.
    pub extra_pages: Vec<u32>,
}

impl Region {
    /// Guest instructions in the unit (counting each block's terminator).
    pub fn instructions(&self) -> u64 {
        self.blocks.iter().map(Block::retired).sum()
    }

    /// The code view's guest listing: block by block, the entry block
    /// first and the others in address order, each under a header line
    /// (`; block N at PC`, marked `entry` or `loop head` when a block at
    /// the same or a higher address jumps back to it), and after each block
    /// where it goes (another block, or out of the unit to a pc).
    /// `disasm(pc, inst)` gives one instruction's text.
    pub fn annotated_listing(
        &self,
        ram: &Ram,
        entry_ram_off: usize,
        disasm: impl Fn(u64, &Inst) -> String,
    ) -> Vec<String> {
        self.keyed_listing(ram, entry_ram_off, disasm).into_iter().map(|(l, _)| l).collect()
    }

    /// [`Region::annotated_listing`]'s lines, each with the instruction it
    /// shows as `(block, pc)` (`None` for the `;` lines): the code view
    /// links these to [`codegen::Mark`](super::codegen::Mark)s.
    pub fn keyed_listing(
        &self,
        ram: &Ram,
        entry_ram_off: usize,
        disasm: impl Fn(u64, &Inst) -> String,
    ) -> Vec<(String, Option<(usize, u64)>)> {
        let mut order: Vec<usize> = (1..self.blocks.len()).collect();
        order.sort_by_key(|&b| self.blocks[b].pc);
        order.insert(0, 0);
        let back_edge_from = |b: usize| {
            self.blocks
                .iter()
                .enumerate()
                .filter(|(_, a)| a.pc >= self.blocks[b].pc && a.successors().contains(&b))
                .map(|(i, _)| i)
                .min()
        };
        let target = |t: Target| match t {
            Target::Block(b) => format!("block {b}"),
            Target::Exit(pc) => format!("exit to {pc:#x}"),
        };
        let mut out = Vec::new();
        for b in order {
            let block = &self.blocks[b];
            let mut marks = Vec::new();
            if b == 0 {
                marks.push("entry".to_string());
            }
            if let Some(from) = back_edge_from(b) {
                marks.push(format!("loop head (back from block {from})"));
            }
            let marks =
                if marks.is_empty() { String::new() } else { format!(": {}", marks.join(", ")) };
            out.push((format!("; block {b} at {:#x}{marks}", block.pc), None));
            let mut pcs: Vec<u64> = block.insts.iter().map(|i| i.0).collect();
            match block.end {
                End::Jump { pc, .. } | End::Branch { pc, .. } | End::Indirect { pc, .. } => {
                    pcs.push(pc)
                }
                _ => {}
            }
            for pc in pcs {
                if let Some((inst, _)) = self.fetch(ram, entry_ram_off, pc) {
                    out.push((format!("{pc:016x}  {}", disasm(pc, &inst)), Some((b, pc))));
                }
            }
            let next = match block.end {
                End::Jump { target: Target::Exit(pc), .. } if block.call.is_some() => {
                    let (ret, b) = block.call.expect("checked");
                    format!("call {pc:#x}, block {b} if it returns to {ret:#x}")
                }
                End::Goto(t) | End::Jump { target: t, .. } => target(t),
                End::Branch { taken, not_taken, .. } => {
                    format!("taken: {}, else {}", target(taken), target(not_taken))
                }
                End::Indirect { .. } => {
                    let mut to: Vec<String> = block
                        .guards
                        .iter()
                        .map(|&(pc, b)| format!("block {b} if it goes to {pc:#x}"))
                        .collect();
                    let otherwise = match block.call {
                        Some((ret, b)) => {
                            format!("call the computed target, block {b} if it returns to {ret:#x}")
                        }
                        None => "exit to the computed target".to_string(),
                    };
                    if to.is_empty() {
                        otherwise
                    } else {
                        to.push(format!("else {otherwise}"));
                        to.join(", ")
                    }
                }
                End::Interpret(pc) => format!("exit to the interpreter at {pc:#x}"),
            };
            out.push((format!(";   -> {next}"), None));
        }
        out
    }

    /// (pc, instruction, length) of every instruction, terminators included,
    /// in address order: for the code view's disassembly.
    pub fn listing(&self, ram: &Ram, entry_ram_off: usize) -> Vec<(u64, Inst, u8)> {
        let mut pcs: Vec<u64> = Vec::new();
        for b in &self.blocks {
            pcs.extend(b.insts.iter().map(|i| i.0));
            match b.end {
                End::Jump { pc, .. } | End::Branch { pc, .. } | End::Indirect { pc, .. } => {
                    pcs.push(pc)
                }
                _ => {}
            }
        }
        pcs.sort_unstable();
        pcs.dedup();
        pcs.into_iter()
            .filter_map(|pc| {
                let (inst, len) = self.fetch(ram, entry_ram_off, pc)?;
                Some((pc, inst, len))
            })
            .collect()
    }
}

impl Region {
    /// Whether some block of the unit leaves it for `pc` by a direct jump,
    /// a branch or falling through (not by an indirect jump).
    pub fn exits_to(&self, pc: u64) -> bool {
        let to = |t: Target| t == Target::Exit(pc);
        self.blocks.iter().any(|b| match b.end {
            End::Goto(t) | End::Jump { target: t, .. } => to(t),
            End::Branch { taken, not_taken, .. } => to(taken) || to(not_taken),
            End::Indirect { .. } | End::Interpret(_) => false,
        })
    }

    /// Whether guest RAM still holds the code this unit was discovered
    /// from, with its entry's page at RAM offset `entry_ram_off & !0xfff`:
    /// every compiled instruction, and every jump, branch and indirect jump
    /// that ends a block, decodes as it did. (What discovery chose to take
    /// or leave out may differ; the translation of what it took is right
    /// wherever this holds. Natively a hart takes another hart's module on
    /// that condition.)
    pub fn matches_ram(&self, ram: &Ram, entry_ram_off: usize) -> bool {
        let target_pc = |t: Target| match t {
            Target::Block(b) => self.blocks.get(b).map(|b| b.pc),
            Target::Exit(pc) => Some(pc),
        };
        self.blocks.iter().all(|b| {
            let insts_match = b
                .insts
                .iter()
                .all(|&(pc, inst, len)| self.fetch(ram, entry_ram_off, pc) == Some((inst, len)));
            let end_matches = match b.end {
                End::Goto(_) | End::Interpret(_) => true,
                End::Jump { pc, len, rd, target } => {
                    match (self.fetch(ram, entry_ram_off, pc), target_pc(target)) {
                        (Some((Inst::Jal { rd: r, imm }, l)), Some(t)) => {
                            r == rd && l == len && pc.wrapping_add(imm as i64 as u64) == t
                        }
                        _ => false,
                    }
                }
                End::Branch { pc, inst, not_taken, .. } => {
                    self.fetch(ram, entry_ram_off, pc).is_some_and(|(i, l)| {
                        i == inst && target_pc(not_taken) == Some(pc.wrapping_add(l as u64))
                    })
                }
                End::Indirect { pc, len, rd, rs1, imm } => {
                    self.fetch(ram, entry_ram_off, pc) == Some((Inst::Jalr { rd, rs1, imm }, len))
                }
            };
            insts_match && end_matches
        })
    }

    /// The instruction at `pc` of this unit, whose entry's page lies at RAM
    /// offset `entry_ram_off & !0xfff` (the unit's pages map linearly: one
    /// page, or untranslated fetch).
    fn fetch(&self, ram: &Ram, entry_ram_off: usize, pc: u64) -> Option<(Inst, u8)> {
        let entry_off = (entry_ram_off & !0xfff) + (self.entry & 0xfff) as usize;
        fetch(ram, ram_offset(entry_off, self.entry, pc)?)
    }
}

/// RAM offset of `pc` in a unit whose entry `entry` lies at RAM offset
/// `entry_ram_off`, where virtual and RAM addresses run in step (inside
/// one page always; across pages when fetch is untranslated). `None` when
/// it falls below RAM.
fn ram_offset(entry_ram_off: usize, entry: u64, pc: u64) -> Option<usize> {
    let off = (entry_ram_off as i64).checked_add(pc.wrapping_sub(entry) as i64)?;
    usize::try_from(off).ok()
}

/// Decode the instruction at RAM offset `off`; `None` when it does not lie
/// wholly inside one page of RAM.
fn fetch(ram: &Ram, off: usize) -> Option<(Inst, u8)> {
    let in_page = off % 4096;
    if in_page + 2 > 4096 || off + 2 > ram.len() {
        return None;
    }
    let lo = ram.read(off, 2) as u32;
    let raw = if lo & 3 == 3 {
        if in_page + 4 > 4096 {
            return None;
        }
        ram.read(off, 4) as u32
    } else {
        lo
    };
    let (inst, len) = decode(raw);
    Some((inst, len))
}

/// Is `inst` compiled inline (rather than ending the block)? Pure
/// arithmetic, loads and stores (translated or not, see `codegen`), FENCE
/// and AMOs; LR/SC, CSRs and system instructions are left to the
/// interpreter, and so is PAUSE when it ends the hart's slice
/// (`opts.pause_ends_unit`).
fn compiled_inline(inst: &Inst, opts: &DiscoverOptions) -> bool {
    match inst.kind() {
        Kind::Alu | Kind::Load | Kind::Store => true,
        Kind::Fence => !(opts.pause_ends_unit && inst.is_pause()),
        Kind::Atomic => matches!(inst, Inst::Amo { .. }),
        _ => false,
    }
}

/// Options of [`discover`].
#[derive(Clone, Copy, Debug)]
pub struct DiscoverOptions {
    /// Follow branches into more blocks (optimizing tier) or stop after the
    /// first block (baseline).
    pub multi_block: bool,
    /// At most this many instructions (at most [`MAX_UNIT_INSNS`]).
    pub max_insns: usize,
    /// Take calls' continuations and guard returns with them
    /// ([`Block::guards`]; `jit.return_guards`).
    pub return_guards: bool,
    /// Keep the continuation of a call that leaves the unit
    /// ([`Block::call`]; `jit.nested_calls`).
    pub nested_calls: bool,
    /// Keep up to this many profiled targets of an indirect jump that is
    /// not a return inside the unit, behind guards ([`Block::guards`];
    /// `jit.jump_targets`; 0: none).
    pub jump_targets: usize,
    /// Decode those targets right after their jump, before blocks queued
    /// earlier (`jit.prioritize_targets`).
    pub prioritize_targets: bool,
    /// Take code from at most this many 4 KiB pages, the entry's included
    /// (1 to [`MAX_UNIT_PAGES`]; `jit.unit_pages`). More than 1 only when
    /// instruction fetch is untranslated: the caller promises that virtual
    /// and RAM addresses run in step beyond the entry's page.
    pub max_pages: usize,
    /// End a block before PAUSE and leave it to the interpreter, where it
    /// ends the hart's slice (`runtime.pause_yields` on a machine of
    /// several harts); otherwise PAUSE is a fence compiled inline.
    pub pause_ends_unit: bool,
}

/// Find the unit that starts at virtual pc `entry`, whose page lies at RAM
/// offset `page_off`. Never reads outside RAM, nor outside that page when
/// `opts.max_pages` is 1.
pub fn discover(ram: &Ram, page_off: usize, entry: u64, opts: DiscoverOptions) -> Region {
    discover_avoiding(ram, page_off, entry, opts, |_| false, |_| Vec::new(), |_| false)
}

/// [`discover`], taking no code from a page other than the entry's for
/// which `avoid(RAM page number)` holds (the JIT avoids pages whose code
/// changed lately, so their churn does not throw away units that merely
/// reach into them), and with `jump_targets(pc)` the likely targets of the
/// indirect jump at `pc`, most likely first (the JIT's profile; any list
/// is safe, since each is guarded). A branch, jump or call to a pc for
/// which `other_entry(pc)` holds (the entry of another compiled unit, and
/// not yet a block of this one) becomes an exit there instead of a block
/// (`jit.stop_at_units`): each hot instruction is then compiled about once.
pub fn discover_avoiding(
    ram: &Ram,
    page_off: usize,
    entry: u64,
    opts: DiscoverOptions,
    avoid: impl Fn(u32) -> bool,
    jump_targets: impl Fn(u64) -> Vec<u64>,
    other_entry: impl Fn(u64) -> bool,
) -> Region {
    debug_assert!(page_off.is_multiple_of(4096) && page_off + 4096 <= ram.len());
    let entry_off = page_off + (entry & 0xfff) as usize;
    let ram_pages = ram.len() / 4096;
    // The RAM page of `pc`, if it is one the unit may take code from.
    let page_of = |pc: u64| -> Option<u32> {
        let page = ram_offset(entry_off, entry, pc)? / 4096;
        (page < ram_pages).then_some(page as u32)
    };
    let max_pages = opts.max_pages.clamp(1, MAX_UNIT_PAGES);
    let mut pages: Vec<u32> = vec![(page_off / 4096) as u32];
    let mut blocks: Vec<Block> = Vec::new();
    let mut index_of: rustc_hash::FxHashMap<u64, usize> = Default::default();
    // Breadth first: the targets near the entry (a loop's body and back
    // edge) are decoded before a long fall-through path can use up
    // `max_insns` and leave them as empty exit blocks.
    // (A cell: the `want` closure below queues targets while the block
    // loop asks whether a pc is queued.)
    let work = std::cell::RefCell::new(std::collections::VecDeque::from([entry]));
    let mut total = 0usize;
    // Return addresses of the calls followed into the unit.
    let mut continuations: Vec<u64> = Vec::new();
    // Pass 1: decode a block from every leader found; targets inside the
    // unit's pages become leaders while the limits allow.
    loop {
        let next = work.borrow_mut().pop_front();
        let Some(pc) = next else { break };
        if index_of.contains_key(&pc) {
            continue;
        }
        // A new leader inside a block decoded earlier (a branch into the
        // middle of it) splits that block: its head falls through to the
        // new block instead of holding a second copy of the tail.
        if let Some(b) = blocks.iter_mut().find(|b| b.pc < pc && b.covers(pc)) {
            total -= b.truncate_at(pc);
        }
        let me = blocks.len();
        index_of.insert(pc, me);
        let mut block = Block {
            pc,
            insts: Vec::new(),
            end: End::Interpret(pc),
            guards: Vec::new(),
            call: None,
        };
        let mut cur = pc;
        let mut want = |t: u64, blocks_len: usize, total: usize, stop: bool| -> Target {
            // A target that is already a block (or queued to become one)
            // stays inside the unit even when the limits are reached: that
            // costs no more code, and an exit there would leave and re-enter
            // compiled code on every pass of a loop.
            let known = index_of.contains_key(&t) || work.borrow().contains(&t);
            if stop && !known && t != entry && other_entry(t) {
                return Target::Exit(t);
            }
            let page =
                page_of(t).filter(|p| pages.contains(p) || pages.len() < max_pages && !avoid(*p));
            if opts.multi_block
                && page.is_some()
                && t & 1 == 0
                && (known
                    || blocks_len + work.borrow().len() < MAX_BLOCKS
                        && total < opts.max_insns.min(MAX_UNIT_INSNS))
            {
                if let Some(p) = page.filter(|p| !pages.contains(p)) {
                    pages.push(p);
                }
                work.borrow_mut().push_back(t);
                Target::Block(usize::MAX) // resolved in pass 2
            } else {
                Target::Exit(t)
            }
        };
        loop {
            // A known leader ends the block: it falls into that block.
            if cur != pc && (index_of.contains_key(&cur) || work.borrow().contains(&cur)) {
                block.end = End::Goto(Target::Exit(cur | PENDING));
                break;
            }
            // So does another unit's entry (`other_entry`), as a branch there
            // would: the block falls out of the unit into that unit.
            if cur != pc && cur != entry && opts.multi_block && other_entry(cur) {
                block.end = End::Goto(Target::Exit(cur));
                break;
            }
            if block.insts.len() >= MAX_BLOCK_INSNS || total >= opts.max_insns.min(MAX_UNIT_INSNS) {
                block.end = End::Goto(Target::Exit(cur));
                break;
            }
            if cur & !0xfff != pc & !0xfff {
                // A block stays in one page: the next page's code, if the
                // unit may take it, is a block of its own.
                block.end = End::Goto(pend(want(cur, blocks.len(), total, true), cur));
                break;
            }
            let Some((inst, len)) = ram_offset(entry_off, entry, cur).and_then(|o| fetch(ram, o))
            else {
                block.end = End::Interpret(cur);
                break;
            };
            let next = cur.wrapping_add(len as u64);
            use Inst::*;
            match inst {
                Jal { rd, imm } => {
                    let t = cur.wrapping_add(imm as i64 as u64);
                    total += 1;
                    let target = want(t, blocks.len(), total, rd == 0);
                    // A call into the unit: its continuation is where the
                    // callee's return comes back to (see `Block::guards`).
                    if opts.return_guards && rd != 0 && matches!(target, Target::Block(_)) {
                        if let Target::Block(_) = want(next, blocks.len(), total, false) {
                            continuations.push(next);
                        }
                    }
                    if opts.nested_calls && rd != 0 && matches!(target, Target::Exit(_)) {
                        if let Target::Block(_) = want(next, blocks.len(), total, false) {
                            block.call = Some((next, usize::MAX)); // resolved in pass 2
                        }
                    }
                    block.end = End::Jump { pc: cur, len, rd, target: pend(target, t) };
                    break;
                }
                Jalr { rd, rs1, imm } => {
                    total += 1;
                    if opts.multi_block
                        && opts.jump_targets > 0
                        && !crate::jit::jump_profile::is_return(rd, rs1)
                    {
                        let mut inside = false;
                        for t in jump_targets(cur).into_iter().take(opts.jump_targets) {
                            if let Target::Block(_) = want(t, blocks.len(), total, false) {
                                block.guards.push((t, usize::MAX)); // resolved in pass 2
                                inside = true;
                            }
                        }
                        // The profiled targets are decoded next, most
                        // frequent first, ahead of what the breadth-first
                        // order queued before them: they are known to be
                        // hot, and a switch with more cases than the unit
                        // has room for keeps its frequent ones rather than
                        // code that happened to be queued earlier.
                        if opts.prioritize_targets {
                            let mut queue = work.borrow_mut();
                            for &(t, _) in block.guards.iter().rev() {
                                if let Some(at) = queue.iter().position(|&q| q == t) {
                                    queue.remove(at);
                                    queue.push_front(t);
                                }
                            }
                        }
                        // A call through a register into the unit: its
                        // continuation is where the callee's return comes
                        // back to, as for `jal`.
                        if inside && opts.return_guards && rd != 0 {
                            if let Target::Block(_) = want(next, blocks.len(), total, false) {
                                continuations.push(next);
                            }
                        }
                    }
                    if opts.nested_calls && rd != 0 {
                        if let Target::Block(_) = want(next, blocks.len(), total, false) {
                            block.call = Some((next, usize::MAX));
                        }
                    }
                    block.end = End::Indirect { pc: cur, len, rd, rs1, imm };
                    break;
                }
                Beq { imm, .. }
                | Bne { imm, .. }
                | Blt { imm, .. }
                | Bge { imm, .. }
                | Bltu { imm, .. }
                | Bgeu { imm, .. } => {
                    let t = cur.wrapping_add(imm as i64 as u64);
                    total += 1;
                    let taken = pend(want(t, blocks.len(), total, true), t);
                    let not_taken = pend(want(next, blocks.len(), total, true), next);
                    block.end = End::Branch { pc: cur, inst, taken, not_taken };
                    break;
                }
                _ if compiled_inline(&inst, &opts) => {
                    block.insts.push((cur, inst, len));
                    total += 1;
                    cur = next;
                }
                _ => {
                    block.end = End::Interpret(cur);
                    break;
                }
            }
        }
        blocks.push(block);
    }
    // Whether the entry is a call's continuation (the instruction before it,
    // in the same page, is a `jal` or `jalr` with a link register): only then
    // may the unit's own return come back to its entry (recursion).
    let entry_after_call = [4usize, 2].iter().any(|&back| {
        (entry_off % 4096) >= back
            && fetch(ram, entry_off - back).is_some_and(|(inst, len)| {
                len as usize == back
                    && matches!(inst, Inst::Jal { rd, .. } | Inst::Jalr { rd, .. } if rd != 0)
            })
    });
    // Pass 2: resolve pending targets to block indices.
    let fix = |t: &mut Target| {
        if let Target::Exit(pc) = *t {
            if pc & PENDING != 0 {
                let real = pc & !PENDING;
                *t = match index_of.get(&real) {
                    Some(&i) => Target::Block(i),
                    None => Target::Exit(real),
                };
            }
        }
    };
    continuations.sort_unstable();
    continuations.dedup();
    for b in &mut blocks {
        if let Some((ret, _)) = b.call {
            b.call = index_of.get(&ret).map(|&i| (ret, i));
        }
        match &mut b.end {
            End::Goto(t) | End::Jump { target: t, .. } => fix(t),
            End::Branch { taken, not_taken, .. } => {
                fix(taken);
                fix(not_taken);
            }
            End::Indirect { rd, rs1, imm, .. } => {
                // Profiled targets first, then (for `jalr x0, 0(rs)`) the
                // continuations of the unit's calls, then (for a return) the
                // unit's entry.
                let returns: &[u64] = if *rd == 0 && *imm == 0 { &continuations[..] } else { &[] };
                // A return to the unit's own entry: a recursive function's
                // continuation after its recursive call returns to itself
                // as the recursion unwinds (see `Block::guards`).
                let own_entry = (opts.return_guards
                    && entry_after_call
                    && crate::jit::jump_profile::is_return(*rd, *rs1)
                    && *imm == 0)
                    .then_some(entry);
                let profiled = b.guards.iter().map(|&(pc, _)| pc);
                let mut guards: Vec<(u64, usize)> = Vec::new();
                for pc in profiled.chain(returns.iter().copied()).chain(own_entry) {
                    if let Some(&i) = index_of.get(&pc) {
                        if guards.len() < MAX_GUARDS && !guards.iter().any(|g| g.0 == pc) {
                            guards.push((pc, i));
                        }
                    }
                }
                b.guards = guards;
            }
            _ => {}
        }
    }
    let blocks = reachable(blocks);
    // The pages whose contents the unit depends on: those of the blocks
    // kept (a block lies in one page).
    let entry_page = (page_off / 4096) as u32;
    let mut extra_pages: Vec<u32> =
        blocks.iter().filter_map(|b| page_of(b.pc)).filter(|&p| p != entry_page).collect();
    extra_pages.sort_unstable();
    extra_pages.dedup();
    Region { entry, blocks, extra_pages }
}

/// `blocks` without those no path from block 0 reaches (a call's
/// continuation whose callee never returns inside the unit), renumbered.
fn reachable(blocks: Vec<Block>) -> Vec<Block> {
    let mut seen = vec![false; blocks.len()];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(b) = stack.pop() {
        for s in blocks[b].successors() {
            if !seen[s] {
                seen[s] = true;
                stack.push(s);
            }
        }
    }
    if seen.iter().all(|&x| x) {
        return blocks;
    }
    let mut new_index = vec![usize::MAX; blocks.len()];
    let mut n = 0;
    for (i, &keep) in seen.iter().enumerate() {
        if keep {
            new_index[i] = n;
            n += 1;
        }
    }
    let renumber = |t: &mut Target| {
        if let Target::Block(b) = t {
            *b = new_index[*b];
        }
    };
    blocks
        .into_iter()
        .zip(seen)
        .filter(|(_, keep)| *keep)
        .map(|(mut b, _)| {
            match &mut b.end {
                End::Goto(t) | End::Jump { target: t, .. } => renumber(t),
                End::Branch { taken, not_taken, .. } => {
                    renumber(taken);
                    renumber(not_taken);
                }
                End::Indirect { .. } | End::Interpret(_) => {}
            }
            for (_, r) in &mut b.guards {
                *r = new_index[*r];
            }
            if let Some((_, r)) = &mut b.call {
                *r = new_index[*r];
            }
            b
        })
        .collect()
}

/// Marks, in an `Exit` pc, a target that pass 2 resolves to a block: bit 0,
/// which the even pcs that become leaders never have.
const PENDING: u64 = 1;

fn pend(t: Target, pc: u64) -> Target {
    match t {
        Target::Block(_) => Target::Exit(pc | PENDING),
        exit => exit,
    }
}

/// Control-flow facts for structuring a region's blocks.
#[derive(Clone, Debug)]
pub struct Cfg {
    /// Blocks in reverse postorder (entry first).
    pub rpo: Vec<usize>,
    /// Position of each block in `rpo`.
    pub rpo_index: Vec<usize>,
    /// Immediate dominator of each block (the entry's is itself).
    pub idom: Vec<usize>,
    /// Blocks that are the target of a back edge.
    pub loop_header: Vec<bool>,
    /// Blocks with two or more forward in-edges.
    pub merge: Vec<bool>,
}

impl Cfg {
    /// Is `from -> to` a back edge (to a block no later in reverse postorder)?
    pub fn is_back_edge(&self, from: usize, to: usize) -> bool {
        self.rpo_index[to] <= self.rpo_index[from]
    }

    /// Dominator-tree children of `b` that are merge nodes, latest in reverse
    /// postorder first.
    pub fn merge_children(&self, b: usize) -> Vec<usize> {
        let mut kids: Vec<usize> = (0..self.idom.len())
            .filter(|&c| c != b && self.idom[c] == b && self.merge[c])
            .collect();
        kids.sort_by_key(|&c| std::cmp::Reverse(self.rpo_index[c]));
        kids
    }
}

/// Analyse `region` for structuring, turning irreducible back edges into
/// exits first (so the result is reducible).
pub fn analyse(region: &mut Region) -> Cfg {
    loop {
        let cfg = analyse_once(region);
        // A back edge whose target does not dominate its source is irreducible.
        let mut bad = None;
        'find: for (from, b) in region.blocks.iter().enumerate() {
            for to in b.successors() {
                if cfg.is_back_edge(from, to) && !dominates(&cfg, to, from) {
                    bad = Some((from, to));
                    break 'find;
                }
            }
        }
        match bad {
            None => return cfg,
            Some((from, to)) => {
                let pc = region.blocks[to].pc;
                region.blocks[from].retarget(to, Target::Exit(pc));
            }
        }
    }
}

fn dominates(cfg: &Cfg, a: usize, mut b: usize) -> bool {
    loop {
        if a == b {
            return true;
        }
        let up = cfg.idom[b];
        if up == b {
            return false;
        }
        b = up;
    }
}

fn analyse_once(region: &Region) -> Cfg {
    let n = region.blocks.len();
    let succs: Vec<Vec<usize>> = region.blocks.iter().map(Block::successors).collect();
    // Postorder by an explicit-stack DFS from the entry.
    let mut post = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    let mut stack = vec![(0usize, 0usize)];
    seen[0] = true;
    while let Some((b, i)) = stack.pop() {
        if i < succs[b].len() {
            stack.push((b, i + 1));
            let s = succs[b][i];
            if !seen[s] {
                seen[s] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
        }
    }
    let rpo: Vec<usize> = post.into_iter().rev().collect();
    let mut rpo_index = vec![usize::MAX; n];
    for (i, &b) in rpo.iter().enumerate() {
        rpo_index[b] = i;
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, ss) in succs.iter().enumerate() {
        if rpo_index[b] == usize::MAX {
            continue;
        }
        for &s in ss {
            preds[s].push(b);
        }
    }
    // Immediate dominators (Cooper, Harvey and Kennedy's iteration).
    let mut idom = vec![usize::MAX; n];
    idom[0] = 0;
    let intersect = |idom: &Vec<usize>, mut a: usize, mut b: usize| {
        while a != b {
            while rpo_index[a] > rpo_index[b] {
                a = idom[a];
            }
            while rpo_index[b] > rpo_index[a] {
                b = idom[b];
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in rpo.iter().skip(1) {
            let mut new = usize::MAX;
            for &p in &preds[b] {
                if idom[p] == usize::MAX {
                    continue;
                }
                new = if new == usize::MAX { p } else { intersect(&idom, p, new) };
            }
            if new != idom[b] {
                idom[b] = new;
                changed = true;
            }
        }
    }
    let mut loop_header = vec![false; n];
    let mut forward_in = vec![0usize; n];
    for (b, ss) in succs.iter().enumerate() {
        if rpo_index[b] == usize::MAX {
            continue;
        }
        for &s in ss {
            if rpo_index[s] <= rpo_index[b] {
                loop_header[s] = true;
            } else {
                forward_in[s] += 1;
            }
        }
    }
    let merge = forward_in.iter().map(|&k| k >= 2).collect();
    Cfg { rpo, rpo_index, idom, loop_header, merge }
}
