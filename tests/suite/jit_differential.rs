//! Differential tests of the JIT: the same guest code run by the interpreter
//! alone, with everything forced through the baseline tier, and with
//! everything forced through the optimizing tier (docs/DESIGN.md "Forcing
//! every unit through the JIT") must end in the same architectural state, with the same console
//! output, the same exit and the same instruction count.
//!
//! Random programs (proptest) mix ALU, M, loads and stores (aligned,
//! misaligned, in RAM, outside RAM: faults are skipped by a handler),
//! illegal instructions, branches and counted loops; some run with timer
//! interrupts arriving in the middle of loops, so compiled code must stop at
//! exactly the instruction where the interpreter takes the interrupt.
//!
//! `fuzz.rs` runs the same generator with hostile register values, many more
//! cases under `--features fuzz`.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use crate::common;

use common::asm::*;
use common::{Program, CLINT_MTIMECMP, DATA, FINISHER, RAM_BASE};
use proptest::prelude::*;
use tunevm::config::VmConfig;
use tunevm::cpu::csr::{MCAUSE, MEPC, MIE, MSCRATCH, MSTATUS, MTVEC};
use tunevm::jit::region::{discover, discover_avoiding, DiscoverOptions, End as RegionEnd, Target};
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{CaptureHost, Machine, RunLimits, RunOutcome};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Interpreter,
    Baseline,
    Optimizing,
}

pub(crate) fn config(mode: Mode) -> VmConfig {
    let mut c = VmConfig::default();
    c.memory.ram_bytes = 2 << 20;
    match mode {
        Mode::Interpreter => c.jit.enabled = false,
        Mode::Baseline | Mode::Optimizing => {
            c.jit.min_threshold = 0;
            c.jit.max_threshold = 0;
            c.jit.background_compile = false;
            c.jit.enable_compile_time_budget = false;
            c.jit.tier_up_threshold = if mode == Mode::Optimizing { 0 } else { 1_000_000 };
        }
    }
    c
}

/// Everything a run can be compared on.
#[derive(Debug, PartialEq, Eq)]
struct End {
    outcome: RunOutcome,
    x: [u64; 32],
    pc: u64,
    retired: u64,
    console: Vec<u8>,
    /// FNV-1a of the data area.
    data_hash: u64,
    /// Instructions retired by compiled code (not compared).
    compiled: u64,
}

fn finish(m: &mut Machine, limits: RunLimits) -> End {
    let mut monitor = PerformanceMonitor::default();
    let mut host = CaptureHost::default();
    let outcome = m.run(limits, &mut monitor, &mut host);
    let off = (DATA - RAM_BASE) as usize;
    let data = &m.bus.ram().as_bytes()[off..off + 4096];
    let data_hash = data
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let compiled = m.vcpus[0].jit.as_ref().map_or(0, |j| j.compiled_retired());
    End {
        outcome,
        x: m.vcpus[0].hart.x,
        pc: m.vcpus[0].hart.pc,
        retired: m.vcpus[0].hart.retired(),
        console: host.output,
        data_hash,
        compiled,
    }
}

fn run_image(image: &[u8], mode: Mode, regs: &[(u8, u64)], max_insns: u64) -> End {
    run_image_with(image, config(mode), regs, max_insns)
}

fn run_image_with(image: &[u8], config: VmConfig, regs: &[(u8, u64)], max_insns: u64) -> End {
    let mut m = Machine::from_image(config, image);
    for &(r, v) in regs {
        m.vcpus[0].hart.x[r as usize] = v;
    }
    finish(&mut m, RunLimits { max_insns: Some(max_insns), timeout_ns: None })
}

fn compare(image: &[u8], regs: &[(u8, u64)], max_insns: u64) {
    compare_with(image, regs, max_insns, true)
}

fn compare_with(image: &[u8], regs: &[(u8, u64)], max_insns: u64, must_compile: bool) {
    let want = run_image(image, Mode::Interpreter, regs, max_insns);
    for mode in [Mode::Baseline, Mode::Optimizing] {
        let got = run_image(image, mode, regs, max_insns);
        assert!(!must_compile || got.compiled > 0, "{mode:?}: no instruction ran in compiled code");
        assert_eq!(
            End { compiled: 0, ..got },
            End { compiled: 0, ..want_clone(&want) },
            "{mode:?} differs from the interpreter"
        );
    }
}

fn want_clone(e: &End) -> End {
    End {
        outcome: e.outcome,
        x: e.x,
        pc: e.pc,
        retired: e.retired,
        console: e.console.clone(),
        data_hash: e.data_hash,
        compiled: e.compiled,
    }
}

// ------------------------------------------------------------ random code

/// Registers random instructions may write: x1..x19 and x22..x27. x20 holds
/// the data area's address, x21 loop counters, x28/x29 count exceptions and
/// interrupts, x30/x31 belong to the handler and the exit sequence.
pub(crate) fn dest() -> impl Strategy<Value = u8> {
    prop_oneof![1u8..20, 22u8..28]
}

pub(crate) fn src() -> impl Strategy<Value = u8> {
    0u8..32
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Word(u32),
    /// Skip the next `n` operations when the branch is taken.
    SkipIf(u32, u8, u8, u8),
    /// Repeat the body `count` times.
    Loop(u8, Vec<Op>),
    /// Call the body as a function (`jal x21` there, `jalr x0, 0(x21)`
    /// back): in one optimizing unit the return goes back through a
    /// return-address guard (`jit.return_guards`); otherwise it ends the
    /// unit, and the code after the call is another unit's entry, which
    /// compiled code reaches by chaining.
    Call(Vec<Op>),
    /// A pointer walk over n steps of 8 bytes around straight-line words,
    /// some of them loads and stores off the pointer `x21`: the shape of a
    /// counted loop (`jit.counted_loops`), whose first iterations compiled
    /// code runs unchecked when every access of them stays inside RAM.
    /// The [`Walk`] says how it steps and ends.
    Walk(u8, Walk, Vec<u32>),
}

/// How an [`Op::Walk`] steps `x21` and tests for its end. Down: from the
/// data area (`x20`) + 8 * n towards `x20`; up: from `x20` towards `x27` =
/// `x20` + 8 * n (the body's words never write `x27`, nor `x22`); `Count`:
/// `x21` stays at `x20` and `x27` counts from -n up to 0 by `addiw`. Inclusive
/// tests run one iteration more (at `x20` going down, at `x27` going up).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Walk {
    /// `bne x21, x20`
    DownUnequal,
    /// `bltu x20, x21` / `blt x20, x21`
    DownAbove(bool),
    /// `bgeu x21, x20` / `bge x21, x20`
    DownAtOrAbove(bool),
    /// `bltu x21, x27` / `blt x21, x27`
    UpBelow(bool),
    /// `bgeu x27, x21` / `bge x27, x21`
    UpAtOrBelow(bool),
    /// `addiw x27, x27, 1; blt x27, x0`
    Count,
    /// `x21` counts from 0 to `x27` = n by `addiw` (`bne` / `bltu`), and
    /// the body's accesses are off `x22` = `x20 + (zext32(x21) << 3)`,
    /// computed at the top of each iteration (an array indexed by an
    /// unsigned counter).
    Indexed(bool),
    /// `bltu x21, x27` / `blt x21, x27` with x27 reloaded from the level's
    /// slot (`ld x27, slot(x20)`) in each iteration, as gcc reloads a
    /// spilled bound (a body's stores off x21 may hit the slot).
    Reload(bool),
}

fn alu() -> impl Strategy<Value = u32> {
    let rr: Vec<fn(u8, u8, u8) -> u32> = vec![
        add, sub, sll, slt, sltu, xor, srl, sra, or, and, addw, subw, sllw, srlw, sraw, mul, mulh,
        mulhsu, mulhu, div, divu, rem, remu, mulw, divw, divuw, remw, remuw,
    ];
    let ri: Vec<fn(u8, u8, i32) -> u32> = vec![addi, slti, sltiu, xori, ori, andi, addiw];
    let sh: Vec<fn(u8, u8, u32) -> u32> = vec![slli, srli, srai];
    let shw: Vec<fn(u8, u8, u32) -> u32> = vec![slliw, srliw, sraiw];
    prop_oneof![
        (proptest::sample::select(rr), dest(), src(), src()).prop_map(|(f, d, a, b)| f(d, a, b)),
        (proptest::sample::select(ri), dest(), src(), -2048i32..2048)
            .prop_map(|(f, d, a, i)| f(d, a, i)),
        (proptest::sample::select(sh), dest(), src(), 0u32..64).prop_map(|(f, d, a, i)| f(d, a, i)),
        (proptest::sample::select(shw), dest(), src(), 0u32..32)
            .prop_map(|(f, d, a, i)| f(d, a, i)),
        (dest(), any::<u32>()).prop_map(|(d, i)| lui(d, i & 0xf_ffff)),
        (dest(), any::<u32>()).prop_map(|(d, i)| auipc(d, i & 0xf_ffff)),
    ]
}

fn memory() -> impl Strategy<Value = u32> {
    let loads: Vec<fn(u8, i32, u8) -> u32> = vec![lb, lh, lw, ld, lbu, lhu, lwu];
    let stores: Vec<fn(u8, i32, u8) -> u32> = vec![sb, sh, sw, sd];
    prop_oneof![
        // Mostly in the data area (x20), sometimes misaligned.
        4 => (proptest::sample::select(loads.clone()), dest(), 0i32..1960)
            .prop_map(|(f, d, o)| f(d, o, 20)),
        4 => (proptest::sample::select(stores.clone()), src(), 0i32..1960)
            .prop_map(|(f, v, o)| f(v, o, 20)),
        // Anywhere a random register points: usually outside RAM (a fault).
        1 => (proptest::sample::select(loads), dest(), src(), -2048i32..2048)
            .prop_map(|(f, d, b, o)| f(d, o, b)),
        1 => (proptest::sample::select(stores), src(), src(), -2048i32..2048)
            .prop_map(|(f, v, b, o)| f(v, o, b)),
        // AMOs (swap, add, xor, and, or, min, max, minu, maxu; .w and .d) on
        // the data area's first doubleword, or wherever a register points.
        2 => (proptest::sample::select(AMO_FUNCT5.to_vec()), any::<bool>(), dest(), src())
            .prop_map(|(f, d, rd, v)| amo(f, d, false, false, rd, v, 20)),
        1 => (proptest::sample::select(AMO_FUNCT5.to_vec()), any::<bool>(), dest(), src(), src())
            .prop_map(|(f, d, rd, v, b)| amo(f, d, false, false, rd, v, b)),
    ]
}

const AMO_FUNCT5: [u32; 9] = [0x01, 0x00, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c];

/// A word of a [`Op::Walk`]'s body: ALU and memory words as anywhere, and
/// loads and stores off the walking pointer `x21`, which stay below the
/// data area's loop-count slots (offsets below 1 700, at most 24 steps).
fn walk_word() -> impl Strategy<Value = u32> {
    let loads: Vec<fn(u8, i32, u8) -> u32> = vec![lb, lh, lw, ld, lbu, lhu, lwu];
    let stores: Vec<fn(u8, i32, u8) -> u32> = vec![sb, sh, sw, sd];
    prop_oneof![
        3 => alu(),
        2 => memory(),
        2 => (proptest::sample::select(loads), dest(), 0i32..1700).prop_map(|(f, d, o)| f(d, o, 21)),
        2 => (proptest::sample::select(stores), src(), 0i32..1700).prop_map(|(f, v, o)| f(v, o, 21)),
    ]
}

fn walk() -> impl Strategy<Value = Walk> {
    prop_oneof![
        2 => Just(Walk::DownUnequal),
        1 => any::<bool>().prop_map(Walk::DownAbove),
        1 => any::<bool>().prop_map(Walk::DownAtOrAbove),
        1 => any::<bool>().prop_map(Walk::UpBelow),
        1 => any::<bool>().prop_map(Walk::UpAtOrBelow),
        1 => Just(Walk::Count),
        2 => any::<bool>().prop_map(Walk::Indexed),
        1 => any::<bool>().prop_map(Walk::Reload),
    ]
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let leaf = prop_oneof![
        1 => (1u8..25, walk(), prop::collection::vec(walk_word(), 1..10))
            .prop_map(|(n, w, b)| Op::Walk(n, w, b)),
        8 => alu().prop_map(Op::Word),
        4 => memory().prop_map(Op::Word),
        1 => Just(Op::Word(0)), // illegal
        1 => Just(Op::Word(fence(0xf, 0xf))),
        2 => (0u32..6, src(), src(), 1u8..4).prop_map(|(k, a, b, n)| Op::SkipIf(k, a, b, n)),
    ];
    leaf.prop_recursive(2, 48, 12, |inner| {
        prop_oneof![
            4 => inner.clone(),
            1 => (1u8..20, prop::collection::vec(inner.clone(), 1..12)).prop_map(|(n, b)| Op::Loop(n, b)),
            1 => prop::collection::vec(inner, 1..8).prop_map(Op::Call),
        ]
    })
}

fn emit(p: &mut Program, ops: &[Op]) {
    emit_at(p, ops, 0)
}

/// Emit `ops` inside `depth` enclosing loops; each loop level keeps its
/// counter in its own pair of slots at the data area's tail.
fn emit_at(p: &mut Program, ops: &[Op], depth: i32) {
    let mut i = 0;
    while i < ops.len() {
        match &ops[i] {
            Op::Word(0) => {
                p.word(0);
            }
            Op::Word(w) => {
                p.i(*w);
            }
            Op::SkipIf(kind, a, b, n) => {
                let after = p.local();
                let (a, b) = (*a, *b);
                let f: fn(u8, u8, i32) -> u32 = [beq, bne, blt, bge, bltu, bgeu][*kind as usize];
                p.i_to(&after, move |o| f(a, b, o));
                let end = (i + 1 + *n as usize).min(ops.len());
                emit_at(p, &ops[i + 1..end], depth);
                p.label(&after);
                i = end;
                continue;
            }
            Op::Loop(count, body) => {
                // x21 counts; each level saves the enclosing level's count
                // and its own across the body.
                let (saved, own) = (2040 - 16 * depth, 2032 - 16 * depth);
                let top = p.local();
                p.i(sd(21, saved, 20)).i(addi(21, ZERO, *count as i32)).label(&top);
                p.i(sd(21, own, 20));
                emit_at(p, body, depth + 1);
                p.i(ld(21, own, 20)).i(addi(21, 21, -1));
                p.i_to(&top, |o| bne(21, ZERO, o));
                p.i(ld(21, saved, 20));
            }
            Op::Walk(n, walk, body) => {
                // (a reloaded bound's slot lies where the body's accesses
                // off x21 reach)
                let (saved, slot) = (2040 - 16 * depth, 1600 - 8 * depth);
                let top = p.local();
                let span = 8 * *n as i32;
                p.i(sd(21, saved, 20));
                match walk {
                    Walk::DownUnequal | Walk::DownAbove(_) | Walk::DownAtOrAbove(_) => {
                        p.i(addi(21, 20, span));
                    }
                    Walk::UpBelow(_) | Walk::UpAtOrBelow(_) => {
                        p.i(addi(21, 20, 0)).i(addi(27, 20, span));
                    }
                    Walk::Count => {
                        p.i(addi(21, 20, 0)).i(addi(27, ZERO, -(*n as i32)));
                    }
                    Walk::Indexed(_) => {
                        p.i(addi(21, ZERO, 0)).i(addi(27, ZERO, *n as i32));
                    }
                    Walk::Reload(_) => {
                        p.i(addi(21, 20, 0)).i(addi(27, 20, span)).i(sd(27, slot, 20));
                    }
                }
                p.label(&top);
                let indexed = matches!(walk, Walk::Indexed(_));
                if indexed {
                    p.i(slli(22, 21, 32)).i(srli(22, 22, 29)).i(add(22, 20, 22));
                }
                for &w in body {
                    p.i(if indexed { off_x22(keep_x27(w)) } else { keep_x27(w) });
                }
                let signed = |s: bool, a: fn(u8, u8, i32) -> u32, b: fn(u8, u8, i32) -> u32| {
                    if s {
                        a
                    } else {
                        b
                    }
                };
                match *walk {
                    Walk::DownUnequal => {
                        p.i(addi(21, 21, -8)).i_to(&top, |o| bne(21, 20, o));
                    }
                    Walk::DownAbove(s) => {
                        let f = signed(s, blt, bltu);
                        p.i(addi(21, 21, -8)).i_to(&top, move |o| f(20, 21, o));
                    }
                    Walk::DownAtOrAbove(s) => {
                        let f = signed(s, bge, bgeu);
                        p.i(addi(21, 21, -8)).i_to(&top, move |o| f(21, 20, o));
                    }
                    Walk::UpBelow(s) => {
                        let f = signed(s, blt, bltu);
                        p.i(addi(21, 21, 8)).i_to(&top, move |o| f(21, 27, o));
                    }
                    Walk::UpAtOrBelow(s) => {
                        let f = signed(s, bge, bgeu);
                        p.i(addi(21, 21, 8)).i_to(&top, move |o| f(27, 21, o));
                    }
                    Walk::Count => {
                        p.i(addiw(27, 27, 1)).i_to(&top, |o| blt(27, ZERO, o));
                    }
                    Walk::Indexed(unequal) => {
                        let f = if unequal { bne } else { bltu };
                        p.i(addiw(21, 21, 1)).i_to(&top, move |o| f(21, 27, o));
                    }
                    Walk::Reload(s) => {
                        let f = signed(s, blt, bltu);
                        p.i(addi(21, 21, 8)).i(ld(27, slot, 20));
                        p.i_to(&top, move |o| f(21, 27, o));
                    }
                }
                p.i(ld(21, saved, 20));
            }
            Op::Call(body) => {
                // x21 (a loop count, if any) is saved in this level's slot
                // and holds the return address; loops in the body restore it.
                let saved = 2040 - 16 * depth;
                let (func, after) = (p.local(), p.local());
                p.i(sd(21, saved, 20)).i_to(&func, |o| jal(21, o));
                p.i(ld(21, saved, 20)).j(&after);
                p.label(&func);
                emit_at(p, body, depth + 1);
                p.i(jalr(ZERO, 0, 21)).label(&after);
            }
        }
        i += 1;
    }
}

/// `w` with a destination register x27 made x26 (a walk's bound or
/// counter must not change in its body); stores and branches, whose bits
/// 7..12 are an offset, stay as they are.
fn keep_x27(w: u32) -> u32 {
    let opcode = w & 0x7f;
    if opcode != 0x23 && opcode != 0x63 && (w >> 7) & 31 == 27 {
        (w & !(31 << 7)) | (26 << 7)
    } else {
        w
    }
}

/// `w` (a walk's body word, x27 already kept) with loads and stores off
/// `x21` made off `x22`, and a destination `x22` made `x26`.
fn off_x22(w: u32) -> u32 {
    let opcode = w & 0x7f;
    let w = if (opcode == 0x03 || opcode == 0x23) && (w >> 15) & 31 == 21 {
        (w & !(31 << 15)) | (22 << 15)
    } else {
        w
    };
    if opcode != 0x23 && opcode != 0x63 && (w >> 7) & 31 == 22 {
        (w & !(31 << 7)) | (26 << 7)
    } else {
        w
    }
}

/// A random program with a trap handler that skips faulting instructions and
/// (with `timer`) timer interrupts every `period` mtime ticks.
pub(crate) fn program(ops: &[Op], timer: Option<u32>) -> Vec<u8> {
    let mut p = Program::new();
    p.la(30, "handler").i(csrw(MTVEC, 30));
    p.li(20, (DATA - RAM_BASE) as i64).i(slli(20, 20, 0));
    p.li(31, 1).i(slli(31, 31, 31)).i(add(20, 20, 31)); // x20 = DATA
    if let Some(period) = timer {
        p.li(31, CLINT_MTIMECMP as i64).li(30, period as i64).i(sd(30, 0, 31));
        p.li(30, 1 << 7).i(csrs(MIE, 30)).i(csrsi(MSTATUS, 1 << 3));
    }
    emit(&mut p, ops);
    p.i(csrci(MSTATUS, 1 << 3));
    p.li(31, FINISHER as i64).li(30, 0x5555).i(sw(30, 0, 31)).label("spin").j("spin");
    p.align(4).label("handler");
    p.i(csrr(30, MCAUSE));
    p.i_to("interrupt", |o| blt(30, ZERO, o));
    p.i(csrr(30, MEPC)).i(addi(30, 30, 4)).i(csrw(MEPC, 30)).i(addi(28, 28, 1)).i(mret());
    p.label("interrupt").i(addi(29, 29, 1));
    p.li(31, CLINT_MTIMECMP as i64).i(ld(30, 0, 31));
    p.i(addi(30, 30, timer.unwrap_or(100) as i32)).i(sd(30, 0, 31)).i(mret());
    p.image()
}

proptest! {
    #![proptest_config(crate::proptest_config(48))]

    #[test]
    fn random_programs_match(
        ops in prop::collection::vec(op(), 1..60),
        regs in prop::collection::vec((1u8..20, any::<u64>()), 0..12),
    ) {
        compare(&program(&ops, None), &regs, 200_000);
    }

    /// Units of at most 16 instructions: calls leave their unit far more
    /// often, so nested calls (`jit.nested_calls`) and exits between units
    /// get random control flow around them; and units stop where others
    /// start (`jit.stop_at_units`).
    #[test]
    fn random_programs_in_small_units_match(
        ops in prop::collection::vec(op(), 1..60),
        regs in prop::collection::vec((1u8..20, any::<u64>()), 0..12),
    ) {
        let image = program(&ops, None);
        let want = run_image(&image, Mode::Interpreter, &regs, 200_000);
        let mut c = config(Mode::Optimizing);
        c.jit.max_unit_insns = 16;
        c.jit.nested_calls = true;
        c.jit.stop_at_units = true;
        let got = run_image_with(&image, c, &regs, 200_000);
        prop_assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want });
    }

    #[test]
    fn random_programs_with_timer_interrupts_match(
        ops in prop::collection::vec(op(), 1..40),
        period in 1u32..40,
    ) {
        compare(&program(&ops, Some(period)), &[], 200_000);
    }
}

/// A loop long enough that timer interrupts land inside compiled code, many
/// times, at exactly the interpreter's instruction boundaries.
#[test]
fn timer_interrupts_inside_a_compiled_loop() {
    let body = vec![
        Op::Word(addi(5, 5, 1)),
        Op::Word(xor(6, 6, 5)),
        Op::Word(sd(6, 8, 20)),
        Op::Word(ld(7, 8, 20)),
        Op::Word(add(8, 8, 7)),
    ];
    let ops = vec![Op::Loop(200, vec![Op::Loop(100, body)])];
    for period in [1, 3, 17, 100] {
        let image = program(&ops, Some(period));
        compare(&image, &[], 5_000_000);
        let end = run_image(&image, Mode::Optimizing, &[], 5_000_000);
        assert!(end.x[29] > 10, "period {period}: only {} interrupts", end.x[29]);
        assert_eq!(end.outcome, RunOutcome::Exited(0));
    }
}

/// A loop that runs across many slices (`runtime::SLICE_CYCLES`, 262 144
/// instructions): at each slice end the budget is too short for another
/// pass, the unit leaves at its loop head and the interpreter runs from
/// there. Compiled code must not be entered again at each pc or block the
/// interpreter reaches (a call each), and neither the pc a slice ends at nor
/// the blocks on the way back to the loop head may become units (at
/// threshold 0 each would be compiled). Same end as the interpreter; 32
/// slices: at most 4 units and 3 calls per slice (before: 21 units, and
/// about 20 calls per slice).
#[test]
fn slice_ends_inside_a_loop_make_no_units_and_no_call_per_instruction() {
    let mut p = Program::new();
    p.li(S0, 1_000_000).li(A0, 1).li(A1, 0);
    p.label("loop");
    for k in 1..=9 {
        // A branch never taken (nothing is below 0 unsigned) over one
        // instruction: several blocks per pass.
        p.i(xori(A0, A0, k)).i(add(A1, A1, A0)).i(bltu(S0, ZERO, 8)).i(addi(A1, A1, 1));
    }
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    let image = p.image();
    let max = 32 * 262_144;
    compare(&image, &[], max);
    let mut m = Machine::from_image(config(Mode::Optimizing), &image);
    let mut monitor = PerformanceMonitor::default();
    let outcome = m.run(
        RunLimits { max_insns: Some(max), timeout_ns: None },
        &mut monitor,
        &mut CaptureHost::default(),
    );
    assert_eq!(outcome, RunOutcome::MaxInsns);
    let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
    assert!(stats.units_compiled <= 4, "{} units compiled", stats.units_compiled);
    assert!(stats.calls <= 3 * 32, "{} calls into compiled code in 32 slices", stats.calls);
}

/// Every instruction limit stops compiled code at exactly that instruction.
#[test]
fn instruction_limits_are_exact() {
    let ops = vec![Op::Loop(50, vec![Op::Word(addi(5, 5, 3)), Op::Word(mul(6, 5, 5))])];
    let image = program(&ops, None);
    for max in [1, 7, 10, 30, 31, 32, 33, 99, 101, 333] {
        // The first few instructions (set-up with CSRs) run interpreted.
        compare_with(&image, &[], max, max >= 30);
    }
}

/// The zero-extension idiom (`slli t, x, 32` then `srli rd, t, k`), which
/// the code generator emits as one zero-extension and shift: from another
/// register, in place, into a third register after an in-place `slli`
/// (which must keep `x << 32` in `t`), and with shifts below, at and above
/// 32, on values with bit 31 and upper bits set. Same end as the
/// interpreter (every register is compared).
#[test]
fn zero_extension_pairs_match_the_interpreter() {
    let mut ops = Vec::new();
    for k in [0, 2, 30, 31, 32, 33, 40, 63] {
        ops.extend([
            Op::Word(slli(5, 6, 32)),
            Op::Word(srli(7, 5, k)),
            Op::Word(add(8, 8, 7)),
            Op::Word(slli(9, 9, 32)),
            Op::Word(srli(9, 9, k)),
            Op::Word(xor(8, 8, 9)),
            Op::Word(slli(10, 10, 32)),
            Op::Word(srli(11, 10, k)),
            Op::Word(add(8, 8, 11)),
            Op::Word(add(8, 8, 10)),
            Op::Word(addi(6, 6, -1571)),
            Op::Word(addi(9, 6, 77)),
            Op::Word(xori(10, 6, -5)),
        ]);
    }
    let image = program(&[Op::Loop(20, ops)], None);
    let regs =
        [(6, 0xdead_beef_8765_4321u64), (9, 0x1234_5678_9abc_def0), (10, 0xffff_ffff_8000_0001)];
    compare(&image, &regs, 100_000);
}

/// Calls and returns inside one optimizing unit (return-address guards,
/// `region::Block::guards`): a loop calls a leaf from two sites and a
/// non-leaf that calls it too, and jumps through t0 to an address no call
/// returns to, which must leave the unit. Same end as the interpreter, and
/// the loop's calls and returns no longer leave compiled code.
#[test]
fn calls_and_returns_stay_inside_a_unit() {
    let mut p = Program::new();
    p.li(S0, 300).li(A0, 0);
    p.label("loop");
    p.i_to("leaf", |o| jal(RA, o));
    p.i(addi(A0, A0, 3));
    p.i_to("leaf", |o| jal(RA, o));
    p.i(xor(A1, A1, A0));
    p.i_to("outer", |o| jal(RA, o));
    // A "return" through t0 to a pc that is no call's continuation.
    p.la(T0, "skip").i(jalr(ZERO, 0, T0));
    p.i(addi(A0, A0, 1000)); // never runs
    p.label("skip");
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.label("leaf");
    p.i(addi(A0, A0, 7)).i(slli(A2, A0, 1)).i(add(A1, A1, A2));
    p.i(jalr(ZERO, 0, RA));
    p.label("outer");
    p.i(addi(SP, SP, -16)).i(sd(RA, 8, SP));
    p.i_to("leaf", |o| jal(RA, o));
    p.i(ld(RA, 8, SP)).i(addi(SP, SP, 16)).i(addi(A0, A0, 1));
    p.i(jalr(ZERO, 0, RA));
    let image = p.image();
    let regs = [(SP, DATA + 2048)];
    compare(&image, &regs, 1_000_000);

    // The unit at the loop holds the calls, the leaf's and outer's returns
    // guarded with the continuations of the calls that reach them.
    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: true,
        jump_targets: 4,
        max_pages: 1,
        pause_ends_unit: false,
        prioritize_targets: true,
    };
    let region = discover(&ram, 0, p.addr("loop"), opts);
    let returns: Vec<Vec<u64>> = region
        .blocks
        .iter()
        .filter(|b| matches!(b.end, RegionEnd::Indirect { rs1: RA, .. }))
        .map(|b| b.guards.iter().map(|&(pc, _)| pc).collect())
        .collect();
    let (site1, site2, site3) = (p.addr("loop") + 4, p.addr("loop") + 12, p.addr("loop") + 20);
    let in_outer = p.addr("outer") + 12;
    assert_eq!(
        returns,
        [vec![site1, site2, site3, in_outer], vec![site1, site2, site3, in_outer]],
        "the leaf's and outer's returns are guarded with every call's continuation"
    );

    let mut m = Machine::from_image(config(Mode::Optimizing), &image);
    m.vcpus[0].hart.x[SP as usize] = DATA + 2048;
    let end = finish(&mut m, RunLimits { max_insns: Some(1_000_000), timeout_ns: None });
    assert_eq!(end.outcome, RunOutcome::Exited(0));
    let mut m = Machine::from_image(config(Mode::Optimizing), &image);
    m.vcpus[0].hart.x[SP as usize] = DATA + 2048;
    let mut monitor = PerformanceMonitor::default();
    let mut host = CaptureHost::default();
    m.run(RunLimits { max_insns: Some(1_000_000), timeout_ns: None }, &mut monitor, &mut host);
    let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
    // 300 iterations of 4 calls, 4 returns and the jump through t0: 1 501
    // transitions into compiled code without the guards (every return and
    // the jump leave it), 601 with them (the jump, and the unit it enters).
    let transitions = stats.calls + stats.chained;
    assert!(transitions < 900, "calls and returns leave compiled code: {transitions} transitions");
}

/// A return to the unit's own entry stays inside the unit: a recursive
/// function's code after its recursive call (`cont`) returns to `cont`
/// again as the recursion unwinds. The unit discovered at `cont` guards its
/// return with its own entry (block 0) besides the continuations of the
/// calls inside it; without that guard each level of the unwinding would
/// leave compiled code and chain back in. Same end as the interpreter.
#[test]
fn a_return_to_the_units_own_entry_stays_inside_it() {
    let mut p = Program::new();
    p.li(S0, 40).li(A1, 0);
    p.label("loop");
    p.li(A0, 25);
    p.i_to("rec", |o| jal(RA, o));
    p.i(add(A1, A1, A0));
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    // rec(n) = n == 0 ? 0 : n + rec(n - 1), with a frame per level.
    p.label("rec");
    p.i_to("base", |o| beq(A0, ZERO, o));
    p.i(addi(SP, SP, -16)).i(sd(RA, 8, SP)).i(sd(A0, 0, SP));
    p.i(addi(A0, A0, -1));
    p.i_to("rec", |o| jal(RA, o));
    p.label("cont");
    p.i(ld(T1, 0, SP)).i(add(A0, A0, T1));
    p.i(ld(RA, 8, SP)).i(addi(SP, SP, 16));
    p.label("base");
    p.i(jalr(ZERO, 0, RA));
    let image = p.image();
    let regs = [(SP, DATA + 2048)];
    compare(&image, &regs, 1_000_000);

    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: false,
        jump_targets: 4,
        max_pages: 1,
        pause_ends_unit: false,
        prioritize_targets: true,
    };
    let region = discover(&ram, 0, p.addr("cont"), opts);
    let ret = region
        .blocks
        .iter()
        .find(|b| matches!(b.end, RegionEnd::Indirect { rs1: RA, .. }))
        .expect("the unit at cont ends in rec's return");
    assert!(ret.guards.contains(&(p.addr("cont"), 0)), "guards: {:?}", ret.guards);
    let off = discover(&ram, 0, p.addr("cont"), DiscoverOptions { return_guards: false, ..opts });
    assert!(off.blocks.iter().all(|b| b.guards.is_empty()), "no guards without jit.return_guards");
}

/// Units stop where others start (`jit.stop_at_units`, docs/DESIGN.md
/// "Units stop where others start"): a function whose loop is a unit of its
/// own. Discovered from the function's entry while the loop's unit exists,
/// the unit leaves at the loop head instead of holding the loop again; the
/// loop's own unit keeps its back edge to its own entry. Either way the
/// machine ends as the interpreter does, and with the knob fewer guest
/// instructions are compiled.
#[test]
fn units_stop_where_other_units_start() {
    let mut p = Program::new();
    p.li(S1, 300).li(A0, 0);
    p.label("outer");
    p.i_to("f", |o| jal(RA, o));
    p.i(addi(S1, S1, -1));
    p.i_to("outer", |o| bne(S1, ZERO, o));
    p.j_exit();
    p.label("f");
    p.li(S0, 20).i(xor(A1, A1, A0));
    p.label("head");
    p.i(addi(A0, A0, 3)).i(slli(A2, A0, 1)).i(xor(A1, A1, A2)).i(addi(S0, S0, -1));
    p.i_to("head", |o| bne(S0, ZERO, o));
    p.i(add(A1, A1, A0)).i(jalr(ZERO, 0, RA));
    let image = p.image();

    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: false,
        jump_targets: 0,
        max_pages: 1,
        pause_ends_unit: false,
        prioritize_targets: true,
    };
    let head = p.addr("head");
    let from = |entry: u64, stop: bool| {
        discover_avoiding(&ram, 0, entry, opts, |_| false, |_| Vec::new(), |pc| stop && pc == head)
    };
    let has_head = |r: &tunevm::jit::region::Region| r.blocks.iter().any(|b| b.pc == head);
    let (copying, stopping) = (from(p.addr("f"), false), from(p.addr("f"), true));
    assert!(has_head(&copying), "without the knob the function's unit holds the loop");
    assert!(!has_head(&stopping), "with it the loop is left to its own unit: {stopping:#?}");
    assert!(stopping.exits_to(head) && stopping.instructions() < copying.instructions());
    let own = from(head, true);
    assert!(
        own.blocks[0].pc == head && own.blocks.iter().any(|b| b.successors().contains(&0)),
        "the loop's own unit keeps its back edge: {own:?}"
    );
    assert!(!matches!(own.blocks[0].end, RegionEnd::Branch { taken: Target::Exit(_), .. }));

    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    let compiled = |stop: bool| {
        let mut c = config(Mode::Optimizing);
        // The loop's head is hot before the function's entry is.
        c.jit.min_threshold = 30;
        c.jit.max_threshold = 30;
        c.jit.stop_at_units = stop;
        let mut m = Machine::from_image(c, &image);
        let got = finish(&mut m, RunLimits { max_insns: Some(1_000_000), timeout_ns: None });
        assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want_clone(&want) }, "{stop}");
        m.vcpus[0].jit.as_ref().unwrap().stats().instructions_compiled
    };
    let (off, on) = (compiled(false), compiled(true));
    assert!(on < off, "instructions compiled: {on} with the knob, {off} without");
}

/// A switch whose cases do not all fit in the unit keeps its profiled
/// targets: they are decoded right after the jump, before code the
/// breadth-first order queued earlier (here a long block on the branch's
/// other side), which the size cap then leaves out instead.
#[test]
fn profiled_targets_are_decoded_before_code_queued_earlier() {
    let mut p = Program::new();
    p.label("entry");
    p.i_to("switch", |o| beq(A1, ZERO, o));
    for _ in 0..40 {
        p.i(addi(A3, A3, 1));
    }
    p.i_to("entry", |o| jal(ZERO, o));
    p.label("switch");
    p.i(jalr(ZERO, 0, A2));
    for k in 0..4 {
        p.label(&format!("case{k}"));
        p.i(addi(A0, A0, k + 1));
        p.i_to("entry", |o| jal(ZERO, o));
    }
    let image = p.image();
    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let cases: Vec<u64> = (0..4).map(|k| p.addr(&format!("case{k}"))).collect();
    let (switch, entry) = (p.addr("switch"), p.addr("entry"));
    let decoded = |prioritize_targets: bool| {
        let opts = DiscoverOptions {
            multi_block: true,
            max_insns: 24,
            return_guards: true,
            nested_calls: false,
            jump_targets: 16,
            max_pages: 1,
            pause_ends_unit: false,
            prioritize_targets,
        };
        let targets = |pc: u64| if pc == switch { cases.clone() } else { Vec::new() };
        let r = discover_avoiding(&ram, 0, entry, opts, |_| false, targets, |_| false);
        cases.iter().filter(|&&c| r.blocks.iter().any(|b| b.pc == c && !b.insts.is_empty())).count()
    };
    assert_eq!(decoded(true), 4, "every profiled case is code of the unit");
    assert!(decoded(false) < 4, "without the priority the long block takes the room first");
}

/// The exception to `jit.stop_at_units` (`Region::exits_to`): a unit does
/// not stop at another unit's entry when that unit leaves to its own
/// entry, since the two would split one loop and chain twice on every
/// pass. A loop of 31 instructions with units of at most 16: its head's
/// unit ends 16 instructions in, at `mid`; the unit compiled later at `mid`
/// reaches the back edge with room for one more instruction and, because
/// the head's unit leaves to `mid`, takes the head's first instruction
/// instead of stopping there. The machine still ends as the interpreter's.
#[test]
fn a_unit_does_not_stop_at_a_unit_that_leaves_to_it() {
    let mut p = Program::new();
    p.li(S1, 40).li(A0, 0);
    p.j("head");
    p.label("head");
    for k in 0..29 {
        p.i(addi(A0, A0, k + 1));
    }
    p.i(addi(S1, S1, -1));
    p.i_to("head", |o| bne(S1, ZERO, o));
    p.j_exit();
    let image = p.image();
    let (head, mid) = (p.addr("head"), p.addr("head") + 16 * 4);

    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    let mut c = config(Mode::Optimizing);
    // The head's unit is compiled before the one at `mid` is.
    c.jit.min_threshold = 3;
    c.jit.max_threshold = 3;
    c.jit.max_unit_insns = 16;
    c.jit.stop_at_units = true;
    let mut m = Machine::from_image(c, &image);
    let got = finish(&mut m, RunLimits { max_insns: Some(1_000_000), timeout_ns: None });
    assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want_clone(&want) });

    let jit = m.vcpus[0].jit.as_ref().unwrap();
    let listing = |pc: u64| -> Vec<String> {
        let (key, _) = jit
            .hottest_units(64)
            .into_iter()
            .find(|(k, _)| k.vpc == pc)
            .unwrap_or_else(|| panic!("no unit at {pc:#x}"));
        jit.code_view(key, m.bus.ram()).expect("cached").guest
    };
    let holds = |lines: &[String], pc: u64| lines.iter().any(|l| l.contains(&format!("{pc:016x}")));
    let at_head = listing(head);
    assert!(!holds(&at_head, mid), "the head's unit ends before mid: {at_head:#?}");
    let at_mid = listing(mid);
    assert!(holds(&at_mid, head), "the unit at mid goes on into the head: {at_mid:#?}");
}

/// PAUSE ends a block, leaving it to the interpreter, only where it ends
/// the hart's slice (`DiscoverOptions::pause_ends_unit`, set for
/// `runtime.pause_yields` on several harts); otherwise the spin loop stays
/// one compiled loop with the pause inline as a fence.
#[test]
fn pause_ends_a_unit_only_where_it_ends_the_slice() {
    let mut p = Program::new();
    p.label("spin");
    p.i(ld(T1, 0, T0));
    p.i_to("out", |o| bne(T1, ZERO, o));
    p.i(fence(0b0001, 0));
    p.j("spin");
    p.label("out");
    p.j_exit();
    let image = p.image();
    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = |pause_ends_unit| DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: false,
        jump_targets: 0,
        max_pages: 1,
        pause_ends_unit,
        prioritize_targets: true,
    };
    let pause = p.addr("spin") + 8;
    let ends = discover(&ram, 0, p.addr("spin"), opts(true));
    let inline = discover(&ram, 0, p.addr("spin"), opts(false));
    let has_pause = |r: &tunevm::jit::region::Region| {
        r.blocks.iter().any(|b| b.insts.iter().any(|&(pc, _, _)| pc == pause))
    };
    assert!(!has_pause(&ends), "{ends:#?}");
    assert!(ends.blocks.iter().any(|b| b.end == RegionEnd::Interpret(pause)), "{ends:#?}");
    assert!(has_pause(&inline), "{inline:#?}");
    assert!(inline.blocks.iter().any(|b| b.successors().contains(&0)), "a loop: {inline:#?}");
}

/// A unit holds each instruction once: a block that runs into another
/// block's start falls through to it, and a branch into the middle of a
/// block decoded earlier splits that block. A loop nest as gcc emits a
/// matrix product (the inner loop's head is the unit's entry, the middle
/// and outer loops fall into it) used to hold the inner loop's body three
/// times. Runs equal to the interpreter's.
#[test]
fn a_unit_holds_each_instruction_once() {
    let mut p = Program::new();
    p.li(S2, 6).li(A0, 0);
    p.label("outer");
    p.li(S1, 5);
    p.label("middle");
    p.li(S0, 7).i(addi(A2, ZERO, 0));
    p.label("inner");
    p.i(addi(A0, A0, 3)).i(mulw(A2, A0, A0)).i(xor(A1, A1, A2)).i(addi(S0, S0, -1));
    p.i_to("inner", |o| bne(S0, ZERO, o));
    p.i(add(A3, A3, A1)).i(addi(S1, S1, -1));
    p.i_to("middle", |o| bne(S1, ZERO, o));
    p.i(addi(S2, S2, -1));
    p.i_to("outer", |o| bne(S2, ZERO, o));
    p.j_exit();
    let image = p.image();
    compare(&image, &[], 1_000_000);

    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: false,
        jump_targets: 0,
        max_pages: 1,
        pause_ends_unit: false,
        prioritize_targets: true,
    };
    for entry in [p.addr("inner"), p.addr("middle"), p.addr("outer")] {
        let region = discover(&ram, 0, entry, opts);
        let mut pcs: Vec<u64> = Vec::new();
        for b in &region.blocks {
            pcs.extend(b.insts.iter().map(|i| i.0));
            match b.end {
                RegionEnd::Branch { pc, .. }
                | RegionEnd::Jump { pc, .. }
                | RegionEnd::Indirect { pc, .. } => pcs.push(pc),
                _ => {}
            }
        }
        let all = pcs.len();
        pcs.sort_unstable();
        pcs.dedup();
        assert_eq!(pcs.len(), all, "from {entry:#x}, an instruction in two blocks: {region:#?}");
        assert!(region.blocks.iter().any(|b| b.pc == p.addr("inner")), "from {entry:#x}");
    }
}

/// A hart takes another hart's module only if the guest code it
/// translates is still in RAM (`Region::matches_ram`): a changed
/// instruction inside the unit, or a changed branch, refuses it; a change
/// outside the unit does not.
#[test]
fn a_unit_matches_ram_only_while_its_code_is_there() {
    let mut p = Program::new();
    p.li(S0, 10);
    p.label("head");
    p.i(addi(A0, A0, 1)).i(addi(S0, S0, -1));
    p.i_to("head", |o| bne(S0, ZERO, o));
    p.i(jalr(ZERO, 0, RA));
    p.label("elsewhere").i(addi(A1, A1, 1));
    let image = p.image();
    let ram = tunevm::mem::Ram::new(4096);
    ram.write_bytes(0, &image);
    let opts = DiscoverOptions {
        multi_block: true,
        max_insns: 1024,
        return_guards: true,
        nested_calls: false,
        jump_targets: 0,
        max_pages: 1,
        pause_ends_unit: false,
        prioritize_targets: true,
    };
    let head = p.addr("head");
    let off = |pc: u64| (pc - RAM_BASE) as usize;
    let region = discover(&ram, 0, head, opts);
    assert!(region.matches_ram(&ram, off(head)));
    let patch = |pc: u64, word: u32| ram.write_bytes(off(pc), &word.to_le_bytes());
    patch(head, addi(A0, A0, 2));
    assert!(!region.matches_ram(&ram, off(head)), "a changed instruction");
    patch(head, addi(A0, A0, 1));
    assert!(region.matches_ram(&ram, off(head)));
    patch(head + 8, bne(S0, ZERO, -4));
    assert!(!region.matches_ram(&ram, off(head)), "a branch to another target");
    patch(head + 8, bne(S0, ZERO, -8));
    patch(p.addr("elsewhere"), addi(A1, A1, 7));
    assert!(region.matches_ram(&ram, off(head)), "a change outside the unit");
}

/// Units across pages (`jit.unit_pages`, docs/DESIGN.md "Units across
/// pages"): a loop on one page calls a function on the next. The unit at
/// the loop takes the function too (its page is an extra page of the unit),
/// so the call and its return stay inside compiled code. Half-way, the loop
/// stores a new instruction into the function (no fence.i: this VM sees a
/// store into code at once, as the interpreter does): the unit that reached
/// into that page must be thrown away, or it would go on adding 1 where the
/// interpreter adds 5. Same end as the interpreter.
#[test]
fn a_store_into_another_page_of_a_unit_invalidates_it() {
    let mut p = Program::new();
    p.li(S0, 400).li(S1, 200).li(A0, 0).li(A1, 0);
    // Jumps through a register: each leaves the unit, so the loop is a unit
    // of its own, entered at "loop" before and after the patch.
    p.la(T3, "loop").i(jalr(ZERO, 0, T3));
    p.label("loop");
    p.i_to("f", |o| jal(RA, o));
    p.i(addi(S0, S0, -1));
    p.i_to("skip", |o| bne(S0, S1, o));
    p.la(T3, "patch").i(jalr(ZERO, 0, T3));
    p.label("skip");
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.label("patch");
    p.li(T1, addi(A0, A0, 5) as i64).la(T2, "f").i(sw(T1, 0, T2));
    p.la(T3, "loop").i(jalr(ZERO, 0, T3));
    p.align(4096);
    p.label("f");
    p.i(addi(A0, A0, 1)).i(xor(A1, A1, A0)).i(slli(A1, A1, 1));
    p.i(jalr(ZERO, 0, RA));
    let image = p.image();
    assert_eq!(p.addr("f") & 0xfff, 0, "f starts the second page");
    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    for pages in [1, 4] {
        let mut c = config(Mode::Optimizing);
        c.jit.unit_pages = pages;
        let got = run_image_with(&image, c, &[], 1_000_000);
        assert!(got.compiled > 0);
        assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want_clone(&want) }, "{pages}");
    }

    // The unit at the loop holds f, whose page it lists, with one page per
    // unit it does not; with several, the calls and returns stay inside.
    let ram = tunevm::mem::Ram::new(8192);
    ram.write_bytes(0, &image);
    let discover_with = |max_pages| {
        let opts = DiscoverOptions {
            multi_block: true,
            max_insns: 1024,
            return_guards: true,
            nested_calls: true,
            jump_targets: 4,
            max_pages,
            pause_ends_unit: false,
            prioritize_targets: true,
        };
        discover(&ram, 0, p.addr("loop"), opts)
    };
    let (one, two) = (discover_with(1), discover_with(2));
    assert!(one.extra_pages.is_empty() && !one.blocks.iter().any(|b| b.pc == p.addr("f")));
    assert_eq!(two.extra_pages, vec![1]);
    assert!(two.blocks.iter().any(|b| b.pc == p.addr("f")));
    let transitions = |pages: u64, nested_calls: bool| {
        let mut c = config(Mode::Optimizing);
        c.jit.unit_pages = pages;
        c.jit.nested_calls = nested_calls;
        let mut m = Machine::from_image(c, &image);
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(1_000_000), timeout_ns: None };
        assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
        let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
        stats.calls + stats.chained
    };
    // 400 calls and returns: each leaves the unit with one page per unit
    // (about 800 entries). With four, none does until the store; after it
    // the unit avoids f's page (its code changed lately), so the last 200
    // calls and returns leave it again (about 400).
    // (Nested calls off: they too keep the returns inside the calling unit.)
    let (one, four) = (transitions(1, false), transitions(4, false));
    assert!(one >= 800 && four <= one / 2 + 10, "entries into compiled code: {one} vs {four}");
    // With one page per unit and nested calls (`jit.nested_calls`), each
    // call enters f's unit as a nested call and its return comes back
    // into the loop's unit: one entry per call, not two.
    let nested = transitions(1, true);
    assert!(nested >= 400 && nested <= one / 2 + 10, "nested calls: {nested} vs {one}");
}

/// The same patch as above, but stored by compiled code: the store lies
/// inside the hot loop's unit (which holds f too, or calls it in another
/// unit), so generated code must see that f's page holds translated code and
/// leave for the interpreter, which invalidates; a compiled store that wrote
/// RAM without that check would leave f adding 1 for ever. Untranslated,
/// and in S-mode under Sv39 (identity gigapages), where stores go through
/// the inline TLB's path.
#[test]
fn a_compiled_store_into_code_invalidates_it() {
    for paged in [false, true] {
        let mut p = Program::new();
        if paged {
            // satp = Sv39 | root; mstatus.MPP = S; mret into the loop.
            p.la(T0, "root").i(srli(T0, T0, 12)).li(T1, 8).i(slli(T1, T1, 60));
            p.i(or(T0, T0, T1)).i(csrw(SATP, T0));
            p.li(T0, 1 << 11).i(csrw(MSTATUS, T0));
            p.la(T0, "start").i(csrw(MEPC, T0)).i(mret());
        }
        p.label("start");
        p.li(S0, 400).li(S1, 200).li(A0, 0).li(A1, 0);
        p.li(T1, addi(A0, A0, 5) as i64).la(T2, "f");
        // A store into f's page before it holds compiled code: under Sv39
        // it leaves a write tag for that page in the inline TLB, so the
        // patch below passes the TLB check and only the page flag stops it.
        p.i(sw(ZERO, 64, T2));
        p.label("loop");
        p.i_to("f", |o| jal(RA, o));
        p.i(addi(S0, S0, -1));
        p.i_to("skip", |o| bne(S0, S1, o));
        // Two stores off one base (one access group in compiled code): the
        // first into the data page before f's, the second into f; only the
        // check of the second page stops the group.
        p.i(sw(ZERO, -4, T2)).i(sw(T1, 0, T2));
        p.label("skip");
        p.i_to("loop", |o| bne(S0, ZERO, o));
        p.j_exit();
        p.align(4096);
        for _ in 0..1024 {
            p.word(0);
        }
        p.label("f");
        p.i(addi(A0, A0, 1)).i(xor(A1, A1, A0)).i(slli(A1, A1, 1));
        p.i(jalr(ZERO, 0, RA));
        p.align(4096);
        // Leaf gigapages V|R|W|X|A|D: 0 -> 0 (the devices), 2 GiB -> 2 GiB.
        p.label("root").word(0xcf).word(0).word(0).word(0);
        p.word((0x8_0000 << 10) | 0xcf).word(0);
        let image = p.image();
        assert_eq!(p.addr("f") & 0xfff, 0, "f starts a page");
        let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
        assert_eq!(want.outcome, RunOutcome::Exited(0), "paged {paged}");
        assert_eq!(want.x[A0 as usize], 200 + 5 * 200);
        for pages in [1, 4] {
            let mut c = config(Mode::Optimizing);
            c.jit.unit_pages = pages;
            let got = run_image_with(&image, c, &[], 1_000_000);
            assert!(got.compiled > 0);
            let want = End { compiled: 0, ..want_clone(&want) };
            assert_eq!(End { compiled: 0, ..got }, want, "paged {paged}, {pages} pages");
        }
    }
}

/// Calls that leave their unit (`jit.nested_calls`): direct calls into
/// other pages nested two deep, a call through a register, recursion across
/// two pages far deeper than `layout::MAX_CALL_DEPTH`, a callee that
/// returns past the instruction after its call, and a callee that faults
/// (the handler skips the load), all with timer interrupts arriving
/// mid-call. Every run must match the interpreter exactly, whole or stopped
/// after any of several instruction counts; with nested calls the loop's
/// unit is entered far less often than without.
#[test]
fn nested_calls_match_the_interpreter() {
    let (with_timer, without) = (nested_calls_program(true, 45), nested_calls_program(false, 45));
    let want = run_image(&with_timer, Mode::Interpreter, &[], 10_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    let (ints, faults) = (want.x[S2 as usize], want.x[S1 as usize]);
    assert!(ints > 20 && faults == 150, "interrupts {ints}, faults {faults}");
    for image in [&with_timer, &without] {
        for limit in [10_000_000, 5_003, 20_011, 77_777] {
            let want = run_image(image, Mode::Interpreter, &[], limit);
            // Each function on a page of its own: with units of 1 page
            // every call leaves its unit; with more, some stay inside.
            for pages in [1, 4] {
                let mut c = config(Mode::Optimizing);
                c.jit.nested_calls = true;
                c.jit.unit_pages = pages;
                let got = run_image_with(image, c, &[], limit);
                assert!(got.compiled > 0);
                assert_eq!(
                    End { compiled: 0, ..got },
                    End { compiled: 0, ..want_clone(&want) },
                    "limit {limit}, {pages} page(s)"
                );
            }
        }
    }
    // Recursion within the nesting limit, no traps: every call but the one
    // to "skip" (whose return misses the return address) comes back inside
    // the caller's unit.
    let shallow = nested_calls_program(false, 10);
    let entries = |nested_calls: bool| {
        let mut c = config(Mode::Optimizing);
        c.jit.nested_calls = nested_calls;
        c.jit.unit_pages = 1;
        let mut m = Machine::from_image(c, &shallow);
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(10_000_000), timeout_ns: None };
        assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
        let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
        stats.calls + stats.chained
    };
    let (on, off) = (entries(true), entries(false));
    assert!(on * 5 < off * 3, "entries into compiled code: {on} nested, {off} not");
}

/// A trap that stays in M-mode (an `ecall` to an M-mode handler and its
/// `mret`) does not change any translation, so it must not move the
/// hart's translation epoch, which empties the chain table: a loop that
/// traps on every pass still chains between its units (units of 1 page,
/// so its call to a function on the next page leaves the loop's unit and
/// comes back by chaining). Same end as the interpreter.
#[test]
fn traps_in_m_mode_keep_the_chain_table() {
    let mut p = Program::new();
    p.la(T5, "handler").i(csrw(MTVEC, T5));
    p.li(S0, 400);
    p.label("loop");
    p.i(addi(A0, A0, 1)).i(ecall()).i(add(A1, A1, A0));
    p.i_to("f", |o| jal(RA, o));
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.align(4).label("handler");
    p.i(csrr(T5, MEPC)).i(addi(T5, T5, 4)).i(csrw(MEPC, T5)).i(addi(S1, S1, 1)).i(mret());
    p.align(4096).label("f");
    p.i(xor(A2, A2, A1)).i(jalr(ZERO, 0, RA));
    let image = p.image();
    let mut c = config(Mode::Optimizing);
    c.jit.unit_pages = 1;
    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    assert_eq!(want.x[S1 as usize], 400);
    let mut m = Machine::from_image(c, &image);
    let mut monitor = PerformanceMonitor::default();
    let mut host = CaptureHost::default();
    let limits = RunLimits { max_insns: Some(1_000_000), timeout_ns: None };
    assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
    assert_eq!(m.vcpus[0].hart.x, want.x);
    // Per pass: the ecall's trap, the handler, the mret back, then the
    // call to f and its return, which chain.
    let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
    assert!(stats.chained >= 400, "{} chained entries in 400 passes", stats.chained);
}

/// Profiled jump targets (`jit.jump_targets`, docs/DESIGN.md "Profiled jump
/// targets"): a loop dispatches through a computed `jr` to one of four cases
/// (a jump table's shape) and calls one of two functions through a
/// register. The interpreter runs the loop first (thresholds above 0), so
/// the optimizing unit keeps the cases and the functions inside itself
/// behind guards. Near the end the jump goes to a fifth case and the call
/// to a third function that the profile never saw: the guards miss and the unit
/// leaves, as before. Same end as the interpreter at every limit, timer
/// interrupts included; far fewer entries into compiled code with the
/// targets than without.
#[test]
fn profiled_jump_targets_match_the_interpreter() {
    let image = jump_table_program(true);
    let profiled = |targets: u64, nested: bool| {
        let mut c = config(Mode::Optimizing);
        c.jit.nested_calls = nested;
        c.jit.min_threshold = 30;
        c.jit.max_threshold = 30;
        c.jit.tier_up_threshold = 60;
        c.jit.jump_targets = targets;
        c
    };
    for limit in [10_000_000, 4_999, 23_456, 61_001] {
        let want = run_image(&image, Mode::Interpreter, &[], limit);
        // With nested calls too: the call through t2 then both goes
        // straight to a guarded callee and calls any other as a unit.
        for nested in [false, true] {
            let got = run_image_with(&image, profiled(4, nested), &[], limit);
            assert!(got.compiled > 0);
            assert_eq!(
                End { compiled: 0, ..got },
                End { compiled: 0, ..want_clone(&want) },
                "limit {limit}, nested calls {nested}"
            );
        }
    }
    let want = run_image(&image, Mode::Interpreter, &[], 10_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    assert!(want.x[S2 as usize] > 10, "timer interrupts: {}", want.x[S2 as usize]);
    let quiet = jump_table_program(false);
    let entries = |targets: u64| {
        let mut m = Machine::from_image(profiled(targets, false), &quiet);
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(10_000_000), timeout_ns: None };
        assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
        let jit = m.vcpus[0].jit.as_ref().unwrap();
        let stats = jit.stats();
        stats.calls + stats.chained
    };
    let (on, off) = (entries(4), entries(0));
    assert!(on * 3 < off, "entries into compiled code: {on} with 4 targets, {off} with none");
}

/// A call through a pointer whose target changes after its unit was
/// compiled (a sort given another comparator): the unit holds the first
/// target only, so every later call leaves it. The unit samples those
/// misses and is compiled again with the new target (`jit.miss_recompiles`):
/// far fewer entries into compiled code than without, and the same end as
/// the interpreter at every limit.
#[test]
fn units_are_compiled_again_for_the_targets_they_miss() {
    let mut p = Program::new();
    p.li(S0, 6000).la(S5, "f0").la(S6, "f1").li(T1, 5000);
    p.label("loop");
    // f0 while s0 > 5000, then f1 (after the unit was compiled with f0).
    p.i(addi(T2, S5, 0));
    p.i_to("call", |o| blt(T1, S0, o));
    p.i(addi(T2, S6, 0));
    p.label("call");
    p.i(jalr(RA, 0, T2));
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.align(16).label("f0");
    p.i(addi(A2, A2, 3)).i(jalr(ZERO, 0, RA));
    p.align(16).label("f1");
    p.i(add(A4, A4, A2)).i(xor(A3, A3, A4)).i(jalr(ZERO, 0, RA));
    let image = p.image();
    let cfg = |recompiles: u64| {
        let mut c = config(Mode::Optimizing);
        c.jit.min_threshold = 30;
        c.jit.max_threshold = 30;
        c.jit.tier_up_threshold = 60;
        c.jit.miss_recompiles = recompiles;
        c
    };
    for limit in [1_000_000, 7_001, 12_345] {
        let want = run_image(&image, Mode::Interpreter, &[], limit);
        let got = run_image_with(&image, cfg(2), &[], limit);
        assert!(got.compiled > 0);
        assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want }, "limit {limit}");
    }
    let run = |recompiles: u64| {
        let mut m = Machine::from_image(cfg(recompiles), &image);
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(1_000_000), timeout_ns: None };
        assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
        let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
        (stats.calls + stats.chained, stats.recompiles)
    };
    let ((on, again), (off, none)) = (run(2), run(0));
    assert!(again >= 1 && none == 0, "recompiles: {again} with the knob, {none} without");
    assert!(on * 4 < off, "entries into compiled code: {on} with recompiles, {off} without");
}

/// A jump table of 16 cases taken in turn (an interpreter's opcode
/// dispatch, a call through a table of 16 functions): the profile keeps
/// all 16 targets of the site (`jump_profile::TARGETS_PER_SITE`) and the
/// unit all 16 guards (`region::MAX_GUARDS`), so the loop stays inside its
/// unit; with 8 places the targets wear each other down and most jumps
/// leave the unit. Same end as the interpreter either way.
#[test]
fn a_sixteen_way_jump_table_stays_inside_its_unit() {
    let mut p = Program::new();
    p.li(S0, 4000).la(S4, "cases");
    p.label("loop");
    p.i(andi(A5, S0, 15)).i(slli(A5, A5, 4)).i(add(A5, A5, S4)).i(jalr(ZERO, 0, A5));
    p.label("back");
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.align(16).label("cases");
    for k in 0..16i32 {
        p.i(addi(A0, A0, k + 1)).i(xor(A1, A1, A0));
        p.i_to("back", |o| jal(ZERO, o)).i(addi(A0, A0, 1000)); // never runs
    }
    let image = p.image();
    let want = run_image(&image, Mode::Interpreter, &[], 10_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    let run = |targets: u64| {
        let mut c = config(Mode::Optimizing);
        c.jit.min_threshold = 200;
        c.jit.max_threshold = 200;
        c.jit.tier_up_threshold = 400;
        c.jit.jump_targets = targets;
        let mut m = Machine::from_image(c.clone(), &image);
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(10_000_000), timeout_ns: None };
        assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
        let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
        let got = run_image_with(&image, c, &[], 10_000_000);
        assert!(got.compiled > 0);
        assert_eq!(
            End { compiled: 0, ..got },
            End { compiled: 0, ..want_clone(&want) },
            "{targets} targets"
        );
        stats.calls + stats.chained
    };
    let (all, half) = (run(16), run(8));
    assert!(all * 4 < half, "entries into compiled code: {all} with 16 targets, {half} with 8");
}

/// The program of `profiled_jump_targets_match_the_interpreter`, with or
/// without timer interrupts.
fn jump_table_program(timer: bool) -> Vec<u8> {
    let mut p = Program::new();
    p.la(T5, "handler").i(csrw(MTVEC, T5));
    if timer {
        p.li(T6, CLINT_MTIMECMP as i64).li(T5, 301).i(sd(T5, 0, T6));
        p.li(T5, 1 << 7).i(csrs(MIE, T5)).i(csrsi(MSTATUS, 1 << 3));
    }
    p.li(S0, 2000);
    p.la(S4, "cases").la(S5, "f0").la(S6, "f1").la(S7, "f2");
    p.label("loop");
    // case = s0 & 3 while s0 > 100, then 4 (never seen by the profile).
    p.i(andi(A5, S0, 3)).li(T1, 100);
    p.i_to("low", |o| blt(T1, S0, o));
    p.li(A5, 4);
    p.label("low");
    p.i(slli(A5, A5, 4)).i(add(A5, A5, S4)).i(jalr(ZERO, 0, A5));
    p.label("back");
    // Call f0 or f1 by s0's bit 2, or f2 once s0 <= 100.
    p.i(andi(T2, S0, 4)).i(slli(T2, T2, 1)).i(add(T2, T2, S5)); // f0 + 8 * bit
    p.i_to("call", |o| blt(T1, S0, o));
    p.i(addi(T2, S7, 0));
    p.label("call");
    p.i(jalr(RA, 0, T2));
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.i(csrci(MSTATUS, 1 << 3));
    p.j_exit();
    // Five cases of 16 bytes each.
    p.align(16).label("cases");
    for k in 0..5i32 {
        p.i(addi(A0, A0, k + 1)).i(xor(A1, A1, A0));
        p.i_to("back", |o| jal(ZERO, o)).i(addi(A0, A0, 1000)); // never runs
    }
    // f0 and f1 8 bytes apart, f2 elsewhere.
    p.align(16).label("f0");
    p.i(addi(A2, A2, 3)).i(jalr(ZERO, 0, RA));
    p.label("f1");
    // A CSR read leaves compiled code inside the callee: that exit must
    // write back the return address the call set.
    p.i(mul(A3, A0, A1)).i(csrr(T3, MSCRATCH)).i(jalr(ZERO, 0, RA));
    p.label("f2");
    p.i(add(A4, A4, A0)).i(jalr(ZERO, 0, RA));
    p.align(4).label("handler");
    p.i(addi(S2, S2, 1));
    p.li(T6, CLINT_MTIMECMP as i64).i(ld(T5, 0, T6));
    p.i(addi(T5, T5, 301)).i(sd(T5, 0, T6)).i(mret());
    p.image()
}

/// The program of `nested_calls_match_the_interpreter`, with or without
/// timer interrupts and the faulting callee (a trap empties the chain
/// table, so compiled code then finds no callee until the dispatcher has
/// entered it again).
fn nested_calls_program(traps: bool, depth: i64) -> Vec<u8> {
    let mut p = Program::new();
    p.la(T5, "handler").i(csrw(MTVEC, T5));
    p.li(SP, (DATA - RAM_BASE + 4000) as i64).i(slli(SP, SP, 0));
    p.li(T6, 1).i(slli(T6, T6, 31)).i(add(SP, SP, T6)); // sp = DATA + 4000
    if traps {
        p.li(T6, CLINT_MTIMECMP as i64).li(T5, 97).i(sd(T5, 0, T6));
        p.li(T5, 1 << 7).i(csrs(MIE, T5)).i(csrsi(MSTATUS, 1 << 3));
    }
    p.li(S0, 150);
    // Enter the loop through a register, so that its head is a unit's
    // entry (block 0) that the loop's back edge also reaches.
    p.la(T3, "loop").i(jalr(ZERO, 0, T3));
    p.label("loop");
    p.i_to("f", |o| jal(RA, o));
    p.i(addi(A0, A0, 1)).i(add(A1, A1, A4)); // a4: what f and h left
                                             // t1: written here, changed by g, then only written back (at the next
                                             // pass's call to f) without being read in between.
    p.i(addi(T1, T1, 1));
    p.la(T0, "g").i(jalr(RA, 0, T0));
    p.i(xor(A1, A1, A0));
    p.li(A2, depth).i_to("rec", |o| jal(RA, o));
    p.i_to("skip", |o| jal(RA, o));
    p.i(addi(A0, A0, 100)); // skipped: "skip" returns past it
    if traps {
        p.i_to("fault", |o| jal(RA, o));
    }
    p.i(addi(S0, S0, -1));
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.i(csrci(MSTATUS, 1 << 3));
    p.j_exit();
    p.align(4).label("handler");
    p.i(csrr(T5, MCAUSE));
    p.i_to("interrupt", |o| blt(T5, ZERO, o));
    p.i(csrr(T5, MEPC)).i(addi(T5, T5, 4)).i(csrw(MEPC, T5)).i(addi(S1, S1, 1)).i(mret());
    p.label("interrupt").i(addi(S2, S2, 1));
    p.li(T6, CLINT_MTIMECMP as i64).i(ld(T5, 0, T6));
    p.i(addi(T5, T5, 97)).i(sd(T5, 0, T6)).i(mret());
    // f (its own page) calls h (another) and adds what h left.
    p.align(4096).label("f");
    p.i(addi(SP, SP, -16)).i(sd(RA, 8, SP)).i(addi(A3, A3, 3));
    p.i_to("h", |o| jal(RA, o));
    p.i(ld(RA, 8, SP)).i(addi(SP, SP, 16)).i(add(A4, A4, A3)).i(jalr(ZERO, 0, RA));
    p.align(4096).label("h");
    p.i(slli(A5, A3, 1)).i(add(A4, A4, A5)).i(jalr(ZERO, 0, RA));
    p.align(4096).label("g");
    p.i(mul(A6, A0, A0)).i(add(A7, A7, A6)).i(addi(T1, T1, 7)).i(jalr(ZERO, 0, RA));
    // rec and rec2 call each other across a page until a2 runs out.
    p.align(4096).label("rec");
    p.i_to("rec_done", |o| beq(A2, ZERO, o));
    p.i(addi(SP, SP, -16)).i(sd(RA, 8, SP)).i(addi(A2, A2, -1));
    p.i_to("rec2", |o| jal(RA, o));
    p.i(ld(RA, 8, SP)).i(addi(SP, SP, 16)).i(addi(S3, S3, 1));
    p.label("rec_done").i(jalr(ZERO, 0, RA));
    p.align(4096).label("rec2");
    p.i(addi(SP, SP, -16)).i(sd(RA, 8, SP));
    p.i_to("rec", |o| jal(RA, o));
    p.i(ld(RA, 8, SP)).i(addi(SP, SP, 16)).i(add(S4, S4, S3)).i(jalr(ZERO, 0, RA));
    p.align(4096).label("skip");
    p.i(addi(RA, RA, 4)).i(jalr(ZERO, 0, RA));
    p.align(4096).label("fault");
    p.i(ld(T3, 0, ZERO)).i(addi(T4, T4, 1)).i(jalr(ZERO, 0, RA));
    p.image()
}

// ------------------------------------------------------------- workloads

fn workload(name: &str) -> Vec<u8> {
    let path = format!("{}/workloads/bin/{name}.elf", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run_elf(elf: &[u8], mode: Mode, max_insns: u64) -> End {
    let mut c = config(mode);
    c.memory.ram_bytes = 256 << 20;
    let mut m = Machine::new(c, elf).expect("workload loads");
    finish(&mut m, RunLimits { max_insns: Some(max_insns), timeout_ns: None })
}

fn compare_workload(name: &str, max_insns: u64) {
    let elf = workload(name);
    let want = run_elf(&elf, Mode::Interpreter, max_insns);
    for mode in [Mode::Baseline, Mode::Optimizing] {
        let got = run_elf(&elf, mode, max_insns);
        assert!(got.compiled > 0, "{name} {mode:?}: nothing ran compiled");
        assert_eq!(got.outcome, want.outcome, "{name} {mode:?}");
        assert_eq!(
            String::from_utf8_lossy(&got.console),
            String::from_utf8_lossy(&want.console),
            "{name} {mode:?}"
        );
        assert_eq!(
            (got.x, got.pc, got.retired),
            (want.x, want.pc, want.retired),
            "{name} {mode:?}"
        );
    }
}

#[test]
fn workload_hello() {
    compare_workload("hello", 10_000_000);
}

#[test]
fn workload_smc_self_modifying_code() {
    compare_workload("smc", 50_000_000);
}

/// Background compiles (every unit compiled at once, on the compile
/// thread, while the guest goes on): smc keeps patching code that is being
/// compiled, and code compiled from bytes that changed meanwhile must never
/// run (its job goes stale). The run must end exactly as the interpreter's.
#[test]
fn background_compiles_never_install_stale_code() {
    let elf = workload("smc");
    let want = run_elf(&elf, Mode::Interpreter, 50_000_000);
    let mut dropped = 0;
    for _ in 0..3 {
        let mut c = config(Mode::Optimizing);
        c.memory.ram_bytes = 256 << 20;
        c.jit.background_compile = true;
        c.jit.invalidation_limit = 0;
        let mut m = Machine::new(c, &elf).expect("workload loads");
        let mut monitor = PerformanceMonitor::default();
        let mut host = CaptureHost::default();
        let limits = RunLimits { max_insns: Some(50_000_000), timeout_ns: None };
        let outcome = m.run(limits, &mut monitor, &mut host);
        assert_eq!((outcome, &host.output), (want.outcome, &want.console));
        assert_eq!(m.vcpus[0].hart.retired(), want.retired);
        dropped += m.vcpus[0].jit.as_ref().unwrap().stats().compiles_dropped;
    }
    eprintln!("background compiles dropped as stale: {dropped}");
}

#[test]
fn workload_traps_and_timer() {
    compare_workload("traps", 50_000_000);
}

#[test]
fn workload_htif() {
    compare_workload("htif-hello", 10_000_000);
    compare_workload("htif-fail", 10_000_000);
}

#[test]
fn workload_paging() {
    compare_workload("paging", 30_000_000);
}

#[test]
fn workload_paging_random_and_strided() {
    compare_workload("paging-random", 20_000_000);
    compare_workload("paging-stride", 20_000_000);
}

/// Under Sv39, compiled loads and stores translate through the inline TLB:
/// with default settings most of the paging workload's accesses hit it, and
/// the output is the interpreter's.
#[test]
fn paged_accesses_use_the_inline_tlb() {
    let elf = workload("paging");
    let run = |jit: &str| {
        let mut c = VmConfig::default();
        c.set("jit.enabled", jit).unwrap();
        let limits = RunLimits { max_insns: None, timeout_ns: None };
        tunevm::runtime::run_captured(c, &elf, limits).unwrap()
    };
    let (on, off) = (run("true"), run("false"));
    assert_eq!(on.outcome, RunOutcome::Exited(0));
    assert_eq!(String::from_utf8_lossy(&on.console), String::from_utf8_lossy(&off.console));
    let inline = on.report.tlb.levels.iter().find(|l| l.name == "inline").expect("inline level");
    assert!(inline.hits * 2 > inline.lookups, "{:?}", on.report.tlb);
    assert!(on.report.jit.inline_tlb_fills > 0 && on.report.jit.inline_tlb_flushes > 0);
    assert!(off.report.tlb.levels.iter().all(|l| l.name != "inline"));
    // The whole TLB still meets the guide's target.
    assert!(on.report.tlb.hit_rate.unwrap() > 0.9, "{:?}", on.report.tlb);
}

#[test]
fn workload_cpubench_first_40m_instructions() {
    compare_workload("cpubench", 40_000_000);
}

#[test]
fn workload_spin_stops_at_the_limit() {
    compare_workload("spin", 3_000_000);
}

// ------------------------------------------------------- hostile programs

/// Loads and stores off one base register in a compiled loop form one access
/// group, checked once: a base that walks up to RAM's end must leave at the
/// group's first access as soon as its last one would pass the end, so the
/// interpreter runs the first (still inside RAM) and faults at the last,
/// exactly as without the JIT. A check that covered only the first access
/// would write past RAM.
#[test]
fn an_access_group_at_the_end_of_ram_faults_at_its_last_access() {
    let ram_len = 2i64 << 20;
    let mut p = Program::new();
    p.la(T1, "handler").i(csrw(MTVEC, T1));
    p.li(T0, 1).i(slli(T0, T0, 31)).li(T1, ram_len - 1600).i(add(T0, T0, T1));
    p.li(A0, 0x1234).li(S1, 0);
    p.label("loop");
    p.i(sd(A0, 0, T0)).i(ld(A1, 8, T0)).i(sw(A0, 24, T0));
    p.i(addi(T0, T0, 8)).i(addi(S1, S1, 1));
    p.j("loop");
    p.align(4).label("handler");
    p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
    let image = p.image();
    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    // The fault: the store at 24 past a base 24 bytes short of the end,
    // at the first byte past RAM (the load before it still fitted).
    assert_eq!(want.x[S2 as usize], RAM_BASE + ram_len as u64);
    assert_eq!(want.x[S3 as usize], 7, "store access fault");
    for mode in [Mode::Baseline, Mode::Optimizing] {
        let got = run_image(&image, mode, &[], 1_000_000);
        assert!(got.compiled > 0);
        assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want_clone(&want) });
    }
}

/// Stores and loads aimed at every edge of guest RAM and at addresses whose
/// low 32 bits (what a wasm32 address keeps) fall inside RAM or onto the VM's
/// own state: all must fault exactly as in the interpreter, and compiled code
/// must not change a byte outside guest RAM.
#[test]
fn hostile_addresses_fault_and_touch_nothing_outside_ram() {
    let ram_len = 2u64 << 20;
    let targets: Vec<u64> = vec![
        RAM_BASE - 8,
        RAM_BASE - 1,
        RAM_BASE + ram_len - 4, // an 8-byte access straddles the end
        RAM_BASE + ram_len,
        RAM_BASE + ram_len + 0x1000,
        0,
        8,
        1024,                     // where the state block sits natively
        4096,                     // where RAM's page flags sit natively
        0x1_0000_0000 + RAM_BASE, // low 32 bits inside RAM
        0x1_0000_0000 + 4096,     // low 32 bits on the page flags
        0xffff_ffff_8000_0000,    // sign-extended RAM_BASE
        u64::MAX - 3,
        0x0200_4000, // CLINT mtimecmp: a device, legal
    ];
    let mut p = Program::new();
    p.la(30, "handler").i(csrw(MTVEC, 30));
    p.li(5, -1).i(slli(6, 5, 0)); // x6 = all ones: the value stored
    for (i, &t) in targets.iter().enumerate() {
        // x7 = t, built from 16-bit pieces
        p.i(addi(7, ZERO, 0));
        for shift in [48, 32, 16, 0] {
            p.i(slli(7, 7, 16)).li(8, ((t >> shift) & 0xffff) as i64).i(or(7, 7, 8));
        }
        p.i(sd(6, 0, 7)).i(sw(6, 0, 7)).i(sb(6, 0, 7)).i(ld(9, 0, 7)).i(lbu(10, 0, 7));
        p.i(add(11, 11, 9)).i(addi(12, 12, i as i32));
    }
    p.li(31, FINISHER as i64).li(30, 0x5555).i(sw(30, 0, 31)).label("spin").j("spin");
    p.align(4).label("handler");
    p.i(csrr(30, MEPC)).i(addi(30, 30, 4)).i(csrw(MEPC, 30)).i(addi(28, 28, 1)).i(mret());
    let image = p.image();
    compare(&image, &[], 1_000_000);
    let ram_hash = |mode| {
        let mut m = Machine::from_image(config(mode), &image);
        let mut monitor = PerformanceMonitor::default();
        m.run(
            RunLimits { max_insns: Some(1_000_000), timeout_ns: None },
            &mut monitor,
            &mut CaptureHost::default(),
        );
        let faults = m.vcpus[0].hart.x[28];
        let bytes = m.bus.ram().as_bytes();
        let h = bytes
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        (h, faults)
    };
    let (want, faults) = ram_hash(Mode::Interpreter);
    assert!(faults >= 5 * 12, "only {faults} faults");
    assert_eq!(ram_hash(Mode::Baseline), (want, faults));
    assert_eq!(ram_hash(Mode::Optimizing), (want, faults));
}

/// mixbench whole, with nested calls (`jit.nested_calls`) and the JIT's
/// usual thresholds: its calls into other pages and through function
/// pointers, its self-checks and checksums must come out as recorded from
/// QEMU (`workloads/expected/mixbench.out`). A nested call that loses a
/// register the callee changed shows up here as self-check errors.
#[test]
fn workload_mixbench_with_nested_calls() {
    let root = env!("CARGO_MANIFEST_DIR");
    let want = std::fs::read_to_string(format!("{root}/workloads/expected/mixbench.out")).unwrap();
    let mut c = VmConfig::default();
    c.jit.nested_calls = true;
    c.jit.background_compile = false;
    let mut m = Machine::new(c, &workload("mixbench")).expect("mixbench loads");
    let mut monitor = PerformanceMonitor::default();
    let mut host = CaptureHost::default();
    let limits = RunLimits { max_insns: Some(1_000_000_000), timeout_ns: None };
    assert_eq!(m.run(limits, &mut monitor, &mut host), RunOutcome::Exited(0));
    assert_eq!(String::from_utf8_lossy(&host.output), want);
    let stats = m.vcpus[0].jit.as_ref().unwrap().stats();
    assert!(stats.retired[1] > 0 && stats.chained > 0, "{stats:?}");
}

/// A counted loop (`jit.counted_loops`) storing and loading through a
/// pointer that walks up to the end of RAM: when its last access ends at
/// RAM's last byte every iteration fits, and compiled code must end as the
/// interpreter does; when the walk starts 20 steps short of the end the
/// interpreter faults at the store of the 21st iteration, so the entry's
/// one check of all iterations must fail and the loop run checked, to
/// fault at exactly that store. With the option off, the same ends.
#[test]
fn a_counted_loop_at_the_end_of_ram_faults_where_the_interpreter_does() {
    let ram_len = 2i64 << 20;
    // x5 != x6, x5 <u x6, x5 <s x6, x6 >=u x5 (inclusive: the bound is one
    // step lower for the same walk).
    type Test = (fn(i32) -> u32, bool);
    let tests: [Test; 4] = [
        (|o| bne(T0, T1, o), false),
        (|o| bltu(T0, T1, o), false),
        (|o| blt(T0, T1, o), false),
        (|o| bgeu(T1, T0, o), true),
    ];
    for ((test, inclusive), short) in tests.into_iter().flat_map(|t| [(t, 8 * 40), (t, 8 * 20)]) {
        let mut p = Program::new();
        p.la(T1, "handler").i(csrw(MTVEC, T1));
        // x5 walks from `short` bytes below RAM's end to 320 bytes past
        // where it started; x6 is the bound.
        p.li(T0, 1).i(slli(T0, T0, 31)).li(T1, ram_len - short).i(add(T0, T0, T1));
        p.i(addi(T1, T0, 8 * 40 - 8 * inclusive as i32)).li(A0, 0x5a5a).li(A2, 0);
        p.label("loop");
        p.i(sd(A0, 0, T0)).i(ld(A1, 0, T0)).i(add(A2, A2, A1)).i(addi(A0, A0, 3));
        p.i(addi(T0, T0, 8));
        p.i_to("loop", test);
        p.j_exit();
        p.align(4).label("handler");
        p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
        let image = p.image();
        let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
        assert_eq!(want.outcome, RunOutcome::Exited(0));
        let fault = (want.x[S2 as usize], want.x[S3 as usize]);
        if short == 8 * 40 {
            assert_eq!(fault, (0, 0), "no fault");
            assert_eq!(want.x[T0 as usize], RAM_BASE + ram_len as u64);
        } else {
            assert_eq!(fault, (RAM_BASE + ram_len as u64, 7), "store access fault");
        }
        for counted in [true, false] {
            let mut c = config(Mode::Optimizing);
            c.jit.counted_loops = counted;
            let got = run_image_with(&image, c, &[], 1_000_000);
            assert!(got.compiled > 0);
            let want = End { compiled: 0, ..want_clone(&want) };
            assert_eq!(End { compiled: 0, ..got }, want, "short {short}, counted {counted}");
        }
    }
}

/// A counter stepped by `addiw` that crosses 2^31 wraps to a negative
/// number, so `blt x7, x6` with x6 = 2^31 + 16 never leaves; in 64-bit
/// arithmetic the loop would end after 32 steps. The entry must see that
/// the counter leaves the 32-bit range and run the loop checked: its
/// pointer then walks on until its store faults at RAM's end, as in the
/// interpreter. (Without that check the copy, bounded by the 64-bit count,
/// never meets its end value and stores on past its checked range.)
#[test]
fn a_counted_loop_by_addiw_stays_exact_where_the_counter_wraps() {
    let ram_len = 2i64 << 20;
    let mut p = Program::new();
    p.la(T1, "handler").i(csrw(MTVEC, T1));
    p.li(T0, 1).i(slli(T0, T0, 31)).li(T1, ram_len - 8 * 1000).i(add(T0, T0, T1));
    p.li(T2, 0x7fff_fff0).li(T1, 0x4000_0008).i(slli(T1, T1, 1)).li(A0, 7);
    p.label("loop");
    p.i(sd(A0, 0, T0)).i(addi(T0, T0, 8)).i(addiw(T2, T2, 1));
    p.i_to("loop", |o| blt(T2, T1, o));
    p.j_exit();
    p.align(4).label("handler");
    p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
    let image = p.image();
    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    assert_eq!((want.x[S2 as usize], want.x[S3 as usize]), (RAM_BASE + ram_len as u64, 7));
    for counted in [true, false] {
        let mut c = config(Mode::Optimizing);
        c.jit.counted_loops = counted;
        let got = run_image_with(&image, c, &[], 1_000_000);
        assert!(got.compiled > 0);
        let want = End { compiled: 0, ..want_clone(&want) };
        assert_eq!(End { compiled: 0, ..got }, want, "counted {counted}");
    }
}

/// A counted loop that copies a new body over a compiled function `f`:
/// the unchecked iterations must not run while a page they store to holds
/// translated code. The function takes the copy's first 7 words, which end
/// its page; the 8th (the checked last iteration) goes to the next page,
/// which holds none, so only the entry's flag check stops the copy from
/// rewriting `f` behind its compiled code's back (after the copy, `f` adds
/// 5 instead of 1).
#[test]
fn a_counted_loop_never_stores_unchecked_into_translated_code() {
    let mut p = Program::new();
    p.li(S0, 300).li(S1, 150).li(A0, 0).la(T2, "f").la(T3, "patch");
    p.label("loop");
    p.i_to("f", |o| jal(RA, o));
    p.i(addi(S0, S0, -1));
    p.i_to("skip", |o| bne(S0, S1, o));
    p.i(addi(T4, T2, 0)).i(addi(T5, T3, 0)).i(addi(T6, T3, 32));
    p.label("copy");
    p.i(lw(T0, 0, T5)).i(sw(T0, 0, T4)).i(addi(T5, T5, 4)).i(addi(T4, T4, 4));
    p.i_to("copy", |o| bne(T5, T6, o));
    p.label("skip");
    p.i_to("loop", |o| bne(S0, ZERO, o));
    p.j_exit();
    p.label("patch");
    p.i(addi(A0, A0, 5)).i(jalr(ZERO, 0, RA));
    for _ in 0..6 {
        p.i(addi(ZERO, ZERO, 0));
    }
    p.align(4096);
    for _ in 0..(1024 - 7) {
        p.word(0);
    }
    p.label("f");
    p.i(addi(A0, A0, 1)).i(jalr(ZERO, 0, RA));
    for _ in 0..5 {
        p.i(addi(ZERO, ZERO, 0));
    }
    // The next page: data only (the exit's code, which `image` places
    // last, goes on the page after it).
    p.word(0).align(4096);
    let image = p.image();
    assert_eq!((p.addr("f") + 28) & 0xfff, 0, "f's 7 words end its page");
    let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
    assert_eq!(want.outcome, RunOutcome::Exited(0));
    assert_eq!(want.x[A0 as usize], 150 + 5 * 150);
    let got = run_image(&image, Mode::Optimizing, &[], 1_000_000);
    assert!(got.compiled > 0);
    assert_eq!(End { compiled: 0, ..got }, End { compiled: 0, ..want_clone(&want) });
}

/// A counted loop over an array indexed by an unsigned 32-bit counter
/// (`x5 = x28 + (zext32(x7) << 3)` in each iteration, as gcc compiles
/// `a[i]` for a `uint32_t i`): ending exactly at RAM's end it runs as the
/// interpreter does, starting 20 steps short (from index 0 or 100) it
/// faults at the same store;
/// and a counter that starts at -3 indexes 2^32 - 3 elements on, outside
/// RAM, where the interpreter faults at once. The entry must refuse that
/// one: its index is not in [0, 2^31), so `zext32(i) << 3` is not `i << 3`.
/// (Without that check the range checked is `x28 - 24`, inside RAM, and
/// the copy stores 32 GiB on.)
#[test]
fn an_indexed_counted_loop_faults_where_the_interpreter_does() {
    let ram_len = 2i64 << 20;
    for (short, first) in [(8 * 40, 0), (8 * 20, 0), (8 * 20, 100), (8 * 40, -3)] {
        let mut p = Program::new();
        p.la(T1, "handler").i(csrw(MTVEC, T1));
        // x28 + 8 * first is `short` bytes below RAM's end (for first >= 0)
        let below = short + 8 * first.max(0);
        p.li(T3, 1).i(slli(T3, T3, 31)).li(T1, ram_len - below).i(add(T3, T3, T1));
        p.li(T2, first).li(T1, first.max(0) + 40).li(A0, 0x77).li(A2, 0);
        p.label("loop");
        p.i(slli(T0, T2, 32)).i(srli(T0, T0, 29)).i(add(T0, T3, T0));
        p.i(sd(A0, 0, T0)).i(ld(A1, 0, T0)).i(add(A2, A2, A1)).i(addiw(T2, T2, 1));
        p.i_to("loop", |o| bne(T2, T1, o));
        p.j_exit();
        p.align(4).label("handler");
        p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
        let image = p.image();
        let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
        assert_eq!(want.outcome, RunOutcome::Exited(0));
        let fault = (want.x[S2 as usize], want.x[S3 as usize]);
        let end = RAM_BASE + ram_len as u64;
        match (short, first) {
            (320, 0) => assert_eq!(fault, (0, 0), "no fault"),
            (160, _) => assert_eq!(fault, (end, 7), "store access fault at RAM's end"),
            _ => assert_eq!(fault, (end - 320 + ((1u64 << 32) - 3) * 8, 7), "far out"),
        }
        for counted in [true, false] {
            let mut c = config(Mode::Optimizing);
            c.jit.counted_loops = counted;
            let got = run_image_with(&image, c, &[], 1_000_000);
            assert!(got.compiled > 0);
            let want = End { compiled: 0, ..want_clone(&want) };
            assert_eq!(End { compiled: 0, ..got }, want, "short {short}, first {first}");
        }
    }
}

/// A loop that reloads its bound from memory in every iteration (gcc's
/// shape for a spilled bound: cpubench's matrix loop ends `ld t6, 24(sp);
/// bne t6, t3`), after writing the same register with other data. The
/// entry loads the bound itself: the pointer ending exactly at RAM's end
/// runs as the interpreter does; a bound 80 bytes past it faults at the
/// load at RAM's end; a bound slot outside RAM faults at the reload in the
/// first iteration (the entry's own load must not read it); an `lw` bound
/// for a counter (sign-extended) ends at 40 iterations or faults at 41.
/// And it stops at every instruction limit tried where the interpreter
/// does.
#[test]
fn a_counted_loop_reloading_its_bound_matches() {
    let ram_len = 2i64 << 20;
    let end = RAM_BASE + ram_len as u64;
    // r = RAM_BASE + off
    let at = |p: &mut Program, r: u8, off: i64| {
        p.li(r, 1).i(slli(r, r, 31)).li(T1, off).i(add(r, r, T1));
    };
    // (the bound as an offset from RAM_BASE, or the count; the slot inside
    // RAM; an `lw` counter)
    let program = |value: i64, slot_in_ram: bool, counter: bool| {
        let mut p = Program::new();
        p.la(T1, "handler").i(csrw(MTVEC, T1));
        at(&mut p, T3, ram_len - 320);
        if slot_in_ram {
            at(&mut p, S1, (DATA - RAM_BASE) as i64);
            if counter {
                p.li(T2, value);
            } else {
                at(&mut p, T2, value);
            }
            p.i(sd(T2, 24, S1));
        } else {
            // 24(s1) is 16 bytes past RAM's end
            at(&mut p, S1, ram_len - 8);
        }
        p.li(A2, 0).li(T0, 0);
        p.label("loop");
        if counter {
            p.i(ld(A1, 0, T3)).i(add(A2, A2, A1)).i(addi(T3, T3, 8)).i(addiw(T0, T0, 1));
            p.i(lw(T6, 24, S1));
            p.i_to("loop", |o| blt(T0, T6, o));
        } else {
            p.i(ld(T6, 0, T3)).i(add(A2, A2, T6)).i(addi(T3, T3, 8)).i(ld(T6, 24, S1));
            p.i_to("loop", |o| bltu(T3, T6, o));
        }
        p.j_exit();
        p.align(4).label("handler");
        p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
        p.image()
    };
    let cases = [
        (program(ram_len, true, false), (0, 0)),
        (program(ram_len + 80, true, false), (end, 5)),
        (program(ram_len, false, false), (end + 16, 5)),
        (program(40, true, true), (0, 0)),
        (program(41, true, true), (end, 5)),
    ];
    for (n, (image, fault)) in cases.iter().enumerate() {
        let want = run_image(image, Mode::Interpreter, &[], 1_000_000);
        assert_eq!(want.outcome, RunOutcome::Exited(0));
        assert_eq!((want.x[S2 as usize], want.x[S3 as usize]), *fault, "case {n}");
        for counted in [true, false] {
            let mut c = config(Mode::Optimizing);
            c.jit.counted_loops = counted;
            let got = run_image_with(image, c, &[], 1_000_000);
            assert!(got.compiled > 0);
            let want = End { compiled: 0, ..want_clone(&want) };
            assert_eq!(End { compiled: 0, ..got }, want, "case {n}, counted {counted}");
        }
    }
    for max in (20..300).step_by(11) {
        compare_with(&cases[0].0, &[], max, true);
    }
}

/// A loop nest whose outer latch branches straight back to the inner
/// loop's head (so the head is shared; gcc's row loops make this shape
/// when a unit starts at the inner head): 4 rows of 16 doublewords, each
/// row's pass through the counted loop's entry checks. Ending exactly at
/// RAM's end it runs as the interpreter does; 40 bytes short of it, it
/// faults at the same store of the last row; and it stops at every
/// instruction limit tried where the interpreter does.
#[test]
fn a_counted_loop_sharing_its_head_with_an_outer_loop_matches() {
    let ram_len = 2i64 << 20;
    let nest = |short: i64| {
        let mut p = Program::new();
        p.la(T1, "handler").i(csrw(MTVEC, T1));
        p.li(T0, 1).i(slli(T0, T0, 31)).li(T1, ram_len - short).i(add(T0, T0, T1));
        p.i(addi(T1, T0, 128)).li(S1, 4).li(A0, 0x11).li(A2, 0);
        p.label("inner");
        p.i(sd(A0, 0, T0)).i(ld(A1, 0, T0)).i(add(A2, A2, A1)).i(addi(A0, A0, 3));
        p.i(addi(T0, T0, 8));
        p.i_to("inner", |o| bne(T0, T1, o));
        p.i(addi(T1, T1, 128)).i(addi(S1, S1, -1));
        p.i_to("inner", |o| bne(S1, ZERO, o));
        p.j_exit();
        p.align(4).label("handler");
        p.i(csrr(S2, MTVAL)).i(csrr(S3, MCAUSE)).j_exit();
        p.image()
    };
    for short in [512, 512 - 40] {
        let image = nest(short);
        let want = run_image(&image, Mode::Interpreter, &[], 1_000_000);
        assert_eq!(want.outcome, RunOutcome::Exited(0));
        let fault = (want.x[S2 as usize], want.x[S3 as usize]);
        let end = RAM_BASE + ram_len as u64;
        assert_eq!(fault, if short == 512 { (0, 0) } else { (end, 7) });
        for counted in [true, false] {
            let mut c = config(Mode::Optimizing);
            c.jit.counted_loops = counted;
            let got = run_image_with(&image, c, &[], 1_000_000);
            assert!(got.compiled > 0);
            let want = End { compiled: 0, ..want_clone(&want) };
            assert_eq!(End { compiled: 0, ..got }, want, "short {short}, counted {counted}");
        }
    }
    let image = nest(512);
    for max in (20..400).step_by(13) {
        compare_with(&image, &[], max, true);
    }
}

/// Runs stopped at every instruction count inside and around a counted
/// loop's iterations (and timer interrupts arriving inside it) end where
/// the interpreter's do: the entry charges the unchecked iterations to the
/// budget only when all of them fit.
#[test]
fn counted_loops_stop_at_exact_instruction_limits() {
    let body = vec![ld(5, 0, 21), add(6, 6, 5), sd(6, 8, 21), addi(7, 7, 1)];
    let ops = vec![Op::Loop(3, vec![Op::Walk(24, Walk::DownUnequal, body)])];
    let image = program(&ops, None);
    for max in (30..200).step_by(7).chain([400, 401, 402, 403, 600]) {
        compare_with(&image, &[], max, true);
    }
    let timed = program(&ops, Some(37));
    compare_with(&timed, &[], 100_000, true);
}

/// `jit.counted_loops` reaches the code generator: the unit holding a
/// pointer walk (the one with the most loops) has the loop's unchecked copy (and a loop over the pages
/// its store range touches) only with the option on.
#[test]
fn the_counted_loops_knob_adds_an_unchecked_copy() {
    let body = vec![ld(5, 0, 21), add(6, 6, 5), sd(6, 8, 21)];
    let image = program(&[Op::Loop(3, vec![Op::Walk(24, Walk::DownUnequal, body)])], None);
    let loops = |counted: bool| {
        let mut c = config(Mode::Optimizing);
        c.jit.counted_loops = counted;
        let mut m = Machine::from_image(c, &image);
        finish(&mut m, RunLimits { max_insns: Some(100_000), timeout_ns: None });
        let jit = m.vcpus[0].jit.as_ref().expect("JIT on");
        let units = jit.hottest_units(usize::MAX);
        let wats =
            units.iter().map(|&(key, _)| jit.code_view(key, m.bus.ram()).expect("cached").wat);
        // The unit with the most loops: the one holding the walk.
        wats.map(|w| w.lines().filter(|l| l.split_whitespace().any(|w| w == "loop")).count())
            .max()
            .unwrap_or(0)
    };
    // The outer loop and the walk; with the option, the copy and the
    // loop over the store range's page flags too.
    assert_eq!((loops(false), loops(true)), (2, 4));
}
