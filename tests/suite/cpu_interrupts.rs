//! Timer and software interrupts through the CLINT: taken when enabled
//! (mie bit + mstatus.MIE in M-mode, always in lower modes) with the right
//! mcause and mepc, held while disabled, WFI waking on the timer, vectored
//! mtvec, priority, and a delegated supervisor software interrupt.

use crate::common;

use common::asm::*;
use common::*;
use tunevm::cpu::CYCLES_PER_MTIME_TICK;
use tunevm::mem::Privilege::{Machine as M, Supervisor as S, User as U};
use tunevm::runtime::Machine;

const INTERRUPT: u64 = 1 << 63;
const MSI: u64 = 1 << 3;
const MTI: u64 = 1 << 7;
const MSTATUS_MIE: u32 = 1 << 3;

fn x(m: &Machine, r: Reg) -> u64 {
    m.vcpus[0].hart.x[r as usize]
}

/// Arm the timer so that it is already due: mtimecmp = 0 (through a1).
fn timer_due_now(p: &mut Program) {
    p.li(A1, CLINT_MTIMECMP as i64).i(sd(ZERO, 0, A1));
}

/// Arm the timer `ticks` mtime ticks from now (a1, a2 clobbered).
fn timer_in(p: &mut Program, ticks: i32) {
    p.li(A1, CLINT_MTIME as i64).i(ld(A2, 0, A1)).i(addi(A2, A2, ticks));
    p.li(A1, CLINT_MTIMECMP as i64).i(sd(A2, 0, A1));
}

/// `csrs mie, bits` through t0.
fn enable(p: &mut Program, bits: u64) {
    p.li(T0, bits as i64).i(csrs(MIE, T0));
}

/// A due timer is taken right after the instruction that sets mstatus.MIE:
/// mcause = interrupt | 7, mepc = the next instruction (not executed),
/// mtval = 0, MPIE = 1, MIE = 0, MPP = M.
#[test]
fn timer_interrupt_taken_when_enabled() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    enable(&mut p, MTI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!((c.mcause, c.mepc, c.mtval), (INTERRUPT | 7, at, 0), "{}", describe(&m));
    assert_eq!(x(&m, A0), 0, "the interrupted instruction ran");
    assert_eq!(c.mstatus & (1 << 7 | 1 << 3 | 3 << 11), 1 << 7 | 3 << 11);
}

/// The timer fires in the middle of a loop: mepc is a loop instruction, the
/// loop ran some iterations, and mtime has reached mtimecmp.
#[test]
fn timer_interrupt_in_a_loop() {
    let mut p = Program::new();
    enable(&mut p, MTI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    timer_in(&mut p, 20);
    p.label("loop").i(addi(A0, A0, 1)).j("loop");
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!(c.mcause, INTERRUPT | 7, "{}", describe(&m));
    let lp = p.addr("loop");
    assert!(c.mepc == lp || c.mepc == lp + 4, "mepc {:#x} outside the loop", c.mepc);
    // 20 ticks at one instruction per cycle, two instructions per iteration
    // (less the few that armed the timer).
    let iterations = 20 * CYCLES_PER_MTIME_TICK / 2;
    let ran = x(&m, A0);
    assert!(
        (iterations * 8 / 10..=iterations).contains(&ran),
        "loop ran {ran} times, ~{iterations}"
    );
    assert!(m.vcpus[0].hart.mtime() >= x(&m, A2), "taken before mtime reached mtimecmp");
}

/// With mstatus.MIE = 0 in M-mode a pending, enabled timer is not taken
/// (mip.MTIP reads 1) — until the hart drops to a lower privilege, where M
/// interrupts are always enabled.
#[test]
fn pending_interrupt_waits_for_mstatus_mie_in_machine_mode() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    enable(&mut p, MTI);
    p.i(addi(A0, A0, 1)).i(addi(A0, A0, 1)).i(csrr(A3, MIP));
    let m = run(&p, [(A0, 0)]);
    assert_eq!(x(&m, A0), 2);
    assert_ne!(x(&m, A3) & MTI, 0, "mip.MTIP must read 1");

    for mode in [S, U] {
        let mut p = Program::new();
        timer_due_now(&mut p);
        enable(&mut p, MTI);
        p.enter(mode);
        let at = p.here();
        p.i(addi(A0, A0, 1));
        let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
        let c = &m.vcpus[0].hart.csr;
        assert_eq!((c.mcause, c.mepc), (INTERRUPT | 7, at), "{mode:?}: {}", describe(&m));
        assert_eq!(((c.mstatus >> 11) & 3, m.vcpus[0].hart.privilege), (mode as u64, M));
        assert_eq!(x(&m, A0), 0);
    }
}

/// Not taken while mie.MTIE is clear, whatever mstatus.MIE says.
#[test]
fn interrupt_not_taken_without_mie_bit() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    p.i(csrsi(MSTATUS, MSTATUS_MIE)).i(addi(A0, A0, 1)).i(addi(A0, A0, 1));
    let m = run(&p, [(A0, 0)]);
    assert_eq!(x(&m, A0), 2);
}

/// msip = 1 raises a machine software interrupt (cause 3); msip = 0 clears
/// mip.MSIP.
#[test]
fn software_interrupt_through_msip() {
    let mut p = Program::new();
    p.li(A1, CLINT_MSIP as i64).i(addi(A2, ZERO, 1)).i(sw(A2, 0, A1)).i(csrr(A3, MIP));
    p.i(sw(ZERO, 0, A1)).i(csrr(A4, MIP)).i(sw(A2, 0, A1));
    enable(&mut p, MSI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    assert_ne!(x(&m, A3) & MSI, 0, "mip.MSIP after msip = 1");
    assert_eq!(x(&m, A4) & MSI, 0, "mip.MSIP after msip = 0");
    let c = &m.vcpus[0].hart.csr;
    assert_eq!((c.mcause, c.mepc), (INTERRUPT | 3, at), "{}", describe(&m));
    assert_eq!(x(&m, A0), 0);
}

/// Both pending: the software interrupt goes first (priv spec 3.1.9:
/// MEI > MSI > MTI > SEI > SSI > STI).
#[test]
fn software_interrupt_has_priority_over_timer() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    p.li(A1, CLINT_MSIP as i64).i(addi(A2, ZERO, 1)).i(sw(A2, 0, A1));
    enable(&mut p, MSI | MTI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    let m = run(&p, Setup::new().expect_trap());
    assert_eq!(m.vcpus[0].hart.csr.mcause, INTERRUPT | 3);
}

/// A store that raises an enabled interrupt is followed by the interrupt at
/// once: the next instruction does not run. The store runs twice (msip = 0,
/// then 1) so that the second time its code is decoded already and the
/// interpreter's threaded dispatch would go on to the next instruction
/// unless it ends its chain when a store changes a device.
#[test]
fn an_interrupt_raised_by_a_store_is_taken_before_the_next_instruction() {
    let mut p = Program::new();
    enable(&mut p, MSI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    p.li(A1, CLINT_MSIP as i64).i(addi(A2, ZERO, 0));
    p.label("again").i(sw(A2, 0, A1));
    let at = p.here();
    for _ in 0..8 {
        p.i(addi(A0, A0, 1));
    }
    p.i(addi(A2, ZERO, 1)).j("again");
    for jit in [false, true] {
        let mut setup = Setup::new().expect_trap().regs(&[(A0, 0)]);
        setup.config.jit.enabled = jit;
        let m = run(&p, setup);
        let c = &m.vcpus[0].hart.csr;
        assert_eq!((c.mcause, c.mepc), (INTERRUPT | 3, at), "jit {jit}: {}", describe(&m));
        assert_eq!(x(&m, A0), 8, "jit {jit}: instructions after the store ran first");
    }
}

/// WFI with the timer armed and mstatus.MIE = 0: returns once the timer is
/// pending, without a trap; mtime has reached mtimecmp.
#[test]
fn wfi_returns_when_the_timer_fires() {
    let mut p = Program::new();
    enable(&mut p, MTI);
    timer_in(&mut p, 1000);
    p.i(wfi()).i(addi(A0, A0, 1)).i(csrr(A3, MIP));
    p.li(A1, CLINT_MTIME as i64).i(ld(A4, 0, A1));
    let m = run(&p, Setup::new().cycles(1_000_000).regs(&[(A0, 0)]));
    assert_eq!(x(&m, A0), 1);
    assert_ne!(x(&m, A3) & MTI, 0, "MTIP after wfi");
    assert!(x(&m, A4) >= x(&m, A2), "mtime {} < mtimecmp {}", x(&m, A4), x(&m, A2));
}

/// WFI with mstatus.MIE = 1: the interrupt is taken after the WFI, mepc =
/// the instruction after it.
#[test]
fn wfi_then_interrupt() {
    let mut p = Program::new();
    enable(&mut p, MTI);
    timer_in(&mut p, 1000);
    p.i(csrsi(MSTATUS, MSTATUS_MIE)).i(wfi());
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().cycles(1_000_000).regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!((c.mcause, c.mepc), (INTERRUPT | 7, at), "{}", describe(&m));
    assert!(m.vcpus[0].hart.mtime() >= x(&m, A2));
    assert_eq!(x(&m, A0), 0);
}

/// WFI in S-mode (TW = 0) waits too; the M timer interrupt is taken in M.
#[test]
fn wfi_in_supervisor_mode() {
    let mut p = Program::new();
    enable(&mut p, MTI);
    timer_in(&mut p, 500);
    p.enter(S).i(wfi());
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().cycles(1_000_000).regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!(
        (c.mcause, c.mepc, (c.mstatus >> 11) & 3),
        (INTERRUPT | 7, at, 1),
        "{}",
        describe(&m)
    );
}

/// Vectored mtvec: interrupt k goes to base + 4k.
#[test]
fn vectored_mtvec_for_interrupts() {
    for (cause, arm) in [(7u64, 0), (3, 1)] {
        let mut p = Program::new();
        p.la(T0, "table").i(ori(T0, T0, 1)).i(csrw(MTVEC, T0));
        if arm == 0 {
            timer_due_now(&mut p);
            enable(&mut p, MTI);
        } else {
            p.li(A1, CLINT_MSIP as i64).i(addi(A2, ZERO, 1)).i(sw(A2, 0, A1));
            enable(&mut p, MSI);
        }
        p.i(csrsi(MSTATUS, MSTATUS_MIE)).i(addi(A0, ZERO, 55)).j_exit();
        vector_table(&mut p);
        let m = run(&p, [(A0, POISON)]);
        assert_eq!(x(&m, A0), cause, "handler reached for cause {cause}: {}", describe(&m));
        assert_eq!(m.vcpus[0].hart.csr.mcause, INTERRUPT | cause);
    }
}

/// A supervisor software interrupt delegated with mideleg and raised by
/// M-mode through mip.SSIP is taken in S when sstatus.SIE and sie.SSIE are
/// set: scause = interrupt | 1, sepc = the interrupted instruction.
#[test]
fn delegated_supervisor_software_interrupt() {
    let mut p = Program::new();
    p.li(T0, 2).i(csrw(MIDELEG, T0)).i(csrs(MIE, T0)).i(csrs(MIP, T0));
    p.enter(S).i(addi(A0, A0, 1)).i(csrsi(SSTATUS, 2));
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!(m.vcpus[0].hart.privilege, S, "{}", describe(&m));
    assert_eq!((c.scause, c.sepc), (INTERRUPT | 1, at));
    assert_eq!(x(&m, A0), 1, "held while sstatus.SIE was 0");
    assert_eq!(c.mcause, 0);
}

/// Moving mtimecmp past mtime clears mip.MTIP.
#[test]
fn mtimecmp_write_clears_pending_timer() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    p.i(csrr(A3, MIP)).i(addi(A2, ZERO, -1)).i(sd(A2, 0, A1)).i(csrr(A4, MIP));
    let m = run(&p, []);
    assert_ne!(x(&m, A3) & MTI, 0, "MTIP with mtimecmp = 0");
    assert_eq!(x(&m, A4) & MTI, 0, "MTIP with mtimecmp = max");
}

/// mtimecmp written as two 32-bit halves (the RV32 way): high word first
/// gives 0x0000_0000_ffff_ffff (not due), then the low word makes it 0.
#[test]
fn mtimecmp_written_in_halves() {
    let mut p = Program::new();
    p.li(A1, CLINT_MTIMECMP as i64).i(sw(ZERO, 4, A1)).i(csrr(A3, MIP)).i(ld(A5, 0, A1));
    p.i(sw(ZERO, 0, A1)).i(csrr(A4, MIP)).i(lw(A6, 0, A1)).i(lw(A7, 4, A1));
    let m = run(&p, []);
    assert_eq!(x(&m, A5), 0xffff_ffff);
    assert_eq!(x(&m, A3) & MTI, 0);
    assert_ne!(x(&m, A4) & MTI, 0);
    assert_eq!((x(&m, A6), x(&m, A7)), (0, 0));
}

/// The time CSR reads mtime; a store to mtime moves both.
#[test]
fn time_csr_follows_clint_mtime() {
    let mut p = Program::new();
    p.li(A1, CLINT_MTIME as i64).i(csrr(A2, TIME)).i(ld(A3, 0, A1));
    p.li(A4, 1_000_000).i(sd(A4, 0, A1)).i(csrr(A5, TIME)).i(ld(A6, 0, A1));
    let m = run(&p, []);
    assert!(x(&m, A3) - x(&m, A2) <= 1, "time {} vs mtime {}", x(&m, A2), x(&m, A3));
    assert!((1_000_000..=1_000_001).contains(&x(&m, A5)), "time after the store: {}", x(&m, A5));
    assert!((1_000_000..=1_000_001).contains(&x(&m, A6)), "mtime after the store: {}", x(&m, A6));
}

/// Only bit 0 of msip matters.
#[test]
fn msip_uses_bit_0_only() {
    let mut p = Program::new();
    p.li(A1, CLINT_MSIP as i64).i(addi(A2, ZERO, 2)).i(sw(A2, 0, A1)).i(csrr(A3, MIP));
    p.i(addi(A2, ZERO, 3)).i(sw(A2, 0, A1)).i(csrr(A4, MIP)).i(lw(A5, 0, A1));
    let m = run(&p, []);
    assert_eq!(x(&m, A3) & MSI, 0);
    assert_ne!(x(&m, A4) & MSI, 0);
    assert_eq!(x(&m, A5), 1);
}

/// An interrupt before a compressed instruction at a 2-mod-4 address:
/// mepc is that address.
#[test]
fn interrupt_before_a_compressed_instruction() {
    let mut p = Program::new();
    timer_due_now(&mut p);
    enable(&mut p, MTI);
    p.align(4).c(c_nop()).i(csrsi(MSTATUS, MSTATUS_MIE));
    let at = p.here();
    p.c(c_addi(A0, 1)).c(c_addi(A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    assert_eq!(at % 4, 2);
    assert_eq!(
        (m.vcpus[0].hart.csr.mcause, m.vcpus[0].hart.csr.mepc, x(&m, A0)),
        (INTERRUPT | 7, at, 0)
    );
}

/// A supervisor interrupt that is not delegated is taken in M (cause 1).
#[test]
fn undelegated_supervisor_interrupt_goes_to_machine() {
    let mut p = Program::new();
    p.li(T0, 2).i(csrs(MIP, T0)).i(csrs(MIE, T0)).i(csrsi(MSTATUS, MSTATUS_MIE));
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    assert_eq!(
        (m.vcpus[0].hart.privilege, m.vcpus[0].hart.csr.mcause, m.vcpus[0].hart.csr.mepc),
        (M, INTERRUPT | 1, at)
    );
}

/// A delegated supervisor interrupt is never taken in M, whatever
/// mstatus.MIE/SIE say; in U it is taken in S (S interrupts are always
/// enabled below S), with SPP = U.
#[test]
fn delegated_interrupt_waits_in_machine_mode_and_fires_in_user_mode() {
    let mut p = Program::new();
    p.li(T0, 2).i(csrw(MIDELEG, T0)).i(csrs(MIP, T0)).i(csrs(MIE, T0));
    p.i(csrsi(MSTATUS, MSTATUS_MIE | 2)); // MIE and SIE
    p.i(addi(A0, A0, 1)).i(addi(A0, A0, 1)).i(csrci(SSTATUS, 2)).enter(U);
    let at = p.here();
    p.i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!(x(&m, A0), 2, "{}", describe(&m));
    assert_eq!((m.vcpus[0].hart.privilege, c.scause, c.sepc, c.mcause), (S, INTERRUPT | 1, at, 0));
    assert_eq!(c.mstatus & (1 << 8), 0, "SPP must be U");
}

/// TW only concerns modes below M: WFI in M with TW = 1 waits normally.
#[test]
fn wfi_in_machine_mode_ignores_tw() {
    let mut p = Program::new();
    p.li(T0, 1 << 21).i(csrs(MSTATUS, T0));
    enable(&mut p, MTI);
    timer_in(&mut p, 300);
    p.i(wfi()).i(addi(A0, A0, 1));
    let m = run(&p, Setup::new().cycles(1_000_000).regs(&[(A0, 0)]));
    assert_eq!(x(&m, A0), 1);
    assert!(m.vcpus[0].hart.mtime() >= x(&m, A2));
}

/// WFI retires as one instruction: instret moves by the instructions
/// executed, mcycle by the time waited.
#[test]
fn wfi_counts_as_one_instruction() {
    let mut p = Program::new();
    enable(&mut p, MTI);
    timer_in(&mut p, 1000);
    p.i(csrr(A3, MINSTRET)).i(csrr(A4, MCYCLE)).i(wfi()).i(csrr(A5, MINSTRET)).i(csrr(A6, MCYCLE));
    let m = run(&p, Setup::new().cycles(1_000_000));
    assert_eq!(x(&m, A5) - x(&m, A3), 3, "csrr, csrr, wfi");
    let waited = x(&m, A6) - x(&m, A4);
    assert!(waited >= 900 * CYCLES_PER_MTIME_TICK, "mcycle moved by {waited}");
}

/// Guest time, not slicing, decides where interrupts land: the same program
/// run in slices of 1, 3, 7 and 100 cycles ends in the same state as in one
/// slice (a timer interrupt in a loop, then a WFI woken by the timer).
#[test]
fn interrupts_land_at_the_same_place_whatever_the_slicing() {
    let mut p = Program::new();
    p.la(T0, "handler").i(csrw(MTVEC, T0));
    enable(&mut p, MTI);
    p.i(csrsi(MSTATUS, MSTATUS_MIE));
    timer_in(&mut p, 23);
    p.label("loop").i(addi(A0, A0, 1)).c(c_addi(A3, 1)).i_to("loop", |o| beq(A4, ZERO, o));
    // Second round: wait for the timer with WFI.
    timer_in(&mut p, 57);
    p.i(csrsi(MSTATUS, MSTATUS_MIE)).i(wfi()).i(addi(A0, A0, 1000)).j_exit();
    p.align(4).label("handler");
    p.i(csrr(A5, MEPC)).i(addi(A4, A4, 1)).i(addi(A1, ZERO, -1)).li(A2, CLINT_MTIMECMP as i64);
    p.i(sd(A1, 0, A2)).i(csrr(A6, MCYCLE)).i(mret());
    let state = |m: &Machine| {
        (
            m.vcpus[0].hart.x,
            m.vcpus[0].hart.retired(),
            m.vcpus[0].hart.clock(),
            m.vcpus[0].hart.csr.mepc,
        )
    };
    let base = run(&p, Setup::new().cycles(1_000_000));
    assert_eq!(x(&base, A4), 2, "two interrupts");
    for n in [1, 3, 7, 100] {
        let m = run(&p, Setup::new().cycles(1_000_000).slice(n));
        assert_eq!(state(&m), state(&base), "slices of {n} cycles");
    }
}
