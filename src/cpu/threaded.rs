//! Threaded dispatch for the interpreter: a handler per kind of instruction
//! (`Inst::tag`), each of which executes its instruction and then calls the
//! next instruction's handler itself, so the host's branch predictor sees a
//! separate indirect jump after every kind of instruction instead of the one
//! jump of a `match` in a loop (the interpreter's largest cost before:
//! BENCHMARKS.md, "Threaded dispatch").
//!
//! A chain of handlers runs at most [`CHAIN`] instructions and stops at
//! everything the loop in `Hart::run` handles: an event (`clock >=
//! next_event`, so polling is exactly as before), a fetch off the window's
//! page, a slot not decoded yet, a trap. With the call in tail position
//! an optimizing build turns it into a jump; where it does not (debug builds,
//! wasm32 without tail calls) the chain's length bounds the stack it uses.
//! Used natively when the JIT is off and nothing is traced (not in the wasm
//! build, where it measured 2.2x slower than the loop); the JIT's dispatcher
//! steps one instruction at a time (it watches block ends, jump sites and
//! translations).
use super::interp::Abort;
use super::Hart;
use crate::isa::Inst;
use crate::mem::{Bus, UnifiedMmu};

/// How a chain of handlers ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    /// Back to the loop: it polls, refills the fetch window or decodes.
    Continue,
    /// The last instruction ended a block (a jump, branch or system
    /// instruction): where a block-bounded chain stops.
    BlockEnd,
    /// An instruction trapped; the pc is the handler's.
    Trapped,
    /// WFI with nothing able to wake the hart.
    Asleep,
    /// WFI on a hart of several: park.
    Parked,
}

/// The instruction kinds that change nothing but registers, the pc and RAM
/// (RV64I's computational, branch, jump, load and store instructions, and
/// M's): a chain goes on after them. Every other kind (CSRs, fences, system
/// instructions, atomics, the GC's) may change `next_event`, translation or
/// the clock, so the chain returns to the loop after it.
const fn plain(tag: u8) -> bool {
    let sraw = Inst::Sraw { rd: 0, rs1: 0, rs2: 0 }.tag();
    let mul = Inst::Mul { rd: 0, rs1: 0, rs2: 0 }.tag();
    let remuw = Inst::Remuw { rd: 0, rs1: 0, rs2: 0 }.tag();
    tag <= sraw || (tag >= mul && tag <= remuw)
}

/// Stores: one to a device sets `next_event` to 0 (`Hart::after_store`).
const fn is_store(tag: u8) -> bool {
    tag >= Inst::Sb { rs1: 0, rs2: 0, imm: 0 }.tag()
        && tag <= Inst::Sd { rs1: 0, rs2: 0, imm: 0 }.tag()
}

/// The chain length for a chain that starts at guest time `clock`: up to
/// [`CHAIN`] instructions after the first, and none at or past
/// `next_event` (where the loop polls).
#[inline(always)]
pub(super) fn chain_length(clock: u64, next_event: u64) -> u32 {
    next_event.saturating_sub(clock).saturating_sub(1).min(CHAIN as u64) as u32
}

/// A handler: executes `inst` (`len` bytes) at the pc, then runs up to
/// `left` more instructions.
pub(super) type Handler = fn(&mut Hart, &mut UnifiedMmu, &Bus, Inst, u8, u32) -> Flow;

/// Instructions a chain runs at most before it returns to the loop.
pub(super) const CHAIN: u32 = 64;

fn handler<const TAG: u8, const BLOCK: bool>(
    h: &mut Hart,
    mmu: &mut UnifiedMmu,
    bus: &Bus,
    inst: Inst,
    len: u8,
    left: u32,
) -> Flow {
    // Only `HANDLERS[inst.tag()]` calls this; the test also tells the
    // compiler which arm of `execute`'s match is live.
    if inst.tag() != TAG {
        wrong_handler(TAG, inst);
    }
    match h.execute(inst, len as u64, mmu, bus) {
        Ok(()) => {
            h.x[0] = 0;
            h.clock += 1;
        }
        Err(Abort::Asleep) => return Flow::Asleep,
        Err(Abort::Park) => return Flow::Parked,
        Err(abort) => {
            h.abort(mmu, bus, abort);
            return Flow::Trapped;
        }
    }
    if BLOCK && inst.ends_block() {
        return Flow::BlockEnd;
    }
    // `left` already stops the chain where the clock reaches `next_event`
    // as the chain began; what can move `next_event` ends the chain here.
    if !plain(TAG) || (is_store(TAG) && h.clock >= h.next_event) {
        return if inst.ends_block() { Flow::BlockEnd } else { Flow::Continue };
    }
    if left == 0 || h.pc >> 12 != h.fetch.vpn {
        return Flow::Continue;
    }
    let d = h.fetch.get(((h.pc & 0xfff) >> 1) as usize);
    if d.len == 0 {
        return Flow::Continue;
    }
    let next = if BLOCK { &BLOCK_HANDLERS } else { &HANDLERS };
    next[d.inst.tag() as usize % TABLE](h, mmu, bus, d.inst, d.len, left - 1)
}

#[cold]
#[inline(never)]
fn wrong_handler(tag: u8, inst: Inst) -> ! {
    unreachable!("threaded dispatch: handler {tag} called for {inst:?}")
}

macro_rules! handlers {
    ($block:literal; $($tag:literal)*) => {
        [$(handler::<$tag, $block> as Handler),*]
    };
}

/// Handler table size (a power of two, so an index masked by it needs no
/// bounds check); every `Inst::tag` indexes it.
pub(super) const TABLE: usize = 128;
const _: () = assert!(Inst::KINDS <= TABLE, "grow the handler table");

/// The handlers, by `Inst::tag` (entries past `Inst::KINDS` are never called).
pub(super) static HANDLERS: [Handler; TABLE] = handlers!(false; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127);

/// Handlers whose chain also stops after an instruction that ends a block,
/// for the JIT's dispatcher, which looks for compiled code there
/// (`Hart::step_block`).
pub(super) static BLOCK_HANDLERS: [Handler; TABLE] = handlers!(true; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127);
