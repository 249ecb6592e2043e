//! Zicsr: the six CSR instructions with their rd = x0 / rs1 = x0 / uimm = 0
//! rules, read-only and non-existent CSRs, the counters (a write to minstret
//! or mcycle replaces that instruction's own increment), and the identity and
//! status registers (misa, mhartid, mstatus.UXL/SXL, mepc alignment).

use crate::common;

use common::asm::*;
use common::*;
use tunevm::runtime::Machine;

fn x(m: &Machine, r: Reg) -> u64 {
    m.vcpus[0].hart.x[r as usize]
}

/// `op` is a CSR instruction on `csr` with rd = a0 and rs1 = a1 (or uimm).
/// Each case sets the CSR to `init` (csrw from a3), runs `op` with a1 =
/// `src`, then reads the CSR into a4; checks a0 (old value) and a4.
#[test]
fn csr_read_modify_write_forms() {
    let mut fails = Vec::new();
    let cases: &[(u32, u64, u64, u64, u64)] = &[
        // (instruction, init, a1, want a0, want csr)
        (csrrw(A0, MSCRATCH, A1), 0x1111, 0x8000_0000_0000_2222, 0x1111, 0x8000_0000_0000_2222),
        (csrrs(A0, MSCRATCH, A1), 0xf0f0, 0x0ff0, 0xf0f0, 0xfff0),
        (csrrc(A0, MSCRATCH, A1), 0xf0f0, 0x0ff0, 0xf0f0, 0xf000),
        (csrrs(A0, MSCRATCH, A1), u64::MAX, 0, u64::MAX, u64::MAX),
        (csrrc(A0, MSCRATCH, A1), u64::MAX, u64::MAX, u64::MAX, 0),
        (csrrwi(A0, MSCRATCH, 31), u64::MAX, 0, u64::MAX, 31), // uimm zero-extended
        (csrrwi(A0, MSCRATCH, 0), 0x55, 0, 0x55, 0),
        (csrrsi(A0, MSCRATCH, 0x15), 0x100, 0, 0x100, 0x115),
        (csrrsi(A0, MSCRATCH, 0), 0x100, 0, 0x100, 0x100),
        (csrrci(A0, MSCRATCH, 0x1f), u64::MAX, 0, u64::MAX, !0x1f),
        (csrrci(A0, MSCRATCH, 0), 0x3f, 0, 0x3f, 0x3f),
        // rs1 = x0: csrrs/csrrc read without writing; csrrw writes zero.
        (csrrs(A0, MSCRATCH, ZERO), 0x77, 0, 0x77, 0x77),
        (csrrc(A0, MSCRATCH, ZERO), 0x77, 0, 0x77, 0x77),
        (csrrw(A0, MSCRATCH, ZERO), 0x77, 0, 0x77, 0),
        // The S-level scratch register from M-mode.
        (csrrw(A0, SSCRATCH, A1), 0x1234, 0x5678, 0x1234, 0x5678),
        (csrrs(A0, SSCRATCH, A1), 0x1200, 0x0034, 0x1200, 0x1234),
    ];
    for &(inst, init, src, want_a0, want_csr) in cases {
        let csr = (inst >> 20) as u16;
        let p = Program::of(&[csrw(csr, A3), inst, csrr(A4, csr)]);
        let m = run(&p, [(A0, POISON), (A1, src), (A3, init), (A4, POISON)]);
        let got = (x(&m, A0), x(&m, A4));
        if got != (want_a0, want_csr) {
            fails.push(format!(
                "{} init={init:#x} a1={src:#x}: (old, new) = ({:#x}, {:#x}), want ({want_a0:#x}, {want_csr:#x})",
                dis(inst),
                got.0,
                got.1
            ));
        }
    }
    report(fails);
}

/// rd = x0: the write happens and x0 stays zero.
#[test]
fn csr_write_with_rd_x0() {
    let m = run(&Program::of(&[csrrw(ZERO, MSCRATCH, A1), csrr(A0, MSCRATCH)]), [(A1, 0xabc)]);
    assert_eq!((m.vcpus[0].hart.x[0], x(&m, A0), m.vcpus[0].hart.csr.mscratch), (0, 0xabc, 0xabc));
}

/// rd == rs1: the CSR gets the register's old value, the register the CSR's.
#[test]
fn csr_swap_with_rd_equal_rs1() {
    let m = run(
        &Program::of(&[csrw(MSCRATCH, A3), csrrw(A1, MSCRATCH, A1), csrr(A4, MSCRATCH)]),
        [(A1, 0x42), (A3, 0x99)],
    );
    assert_eq!((x(&m, A1), x(&m, A4)), (0x99, 0x42));
}

/// Read-only CSRs (address bits 11:10 = 3): forms that do not write work;
/// every form that writes, even an unchanged value, traps as illegal with
/// mtval = the instruction and leaves rd alone.
#[test]
fn read_only_csrs_trap_only_on_writes() {
    let mut fails = Vec::new();
    let cases: &[(u32, bool)] = &[
        (csrrs(A0, MVENDORID, ZERO), false),
        (csrrc(A0, MARCHID, ZERO), false),
        (csrrsi(A0, MIMPID, 0), false),
        (csrrci(A0, MHARTID, 0), false),
        (csrrs(A0, CYCLE, ZERO), false),
        (csrrs(A0, INSTRET, ZERO), false),
        (csrrs(A0, TIME, ZERO), false),
        (csrrw(ZERO, MVENDORID, A1), true),
        (csrrw(A0, CYCLE, A1), true),
        (csrrw(A0, TIME, A1), true),
        (csrrw(A0, INSTRET, A1), true),
        (csrrwi(A0, MHARTID, 0), true),
        (csrrs(A0, CYCLE, A2), true), // a2 = 0: rs1 != x0 still means a write
        (csrrc(A0, MIMPID, A2), true),
        (csrrsi(A0, MARCHID, 1), true),
        (csrrci(A0, MVENDORID, 1), true),
    ];
    for &(inst, traps) in cases {
        let mut p = Program::new();
        p.c(c_nop()).i(inst);
        let setup = Setup::new().regs(&[(A0, POISON), (A1, 5), (A2, 0)]);
        let m = run(&p, if traps { setup.expect_trap() } else { setup });
        let c = &m.vcpus[0].hart.csr;
        if traps && (c.mcause, c.mepc, c.mtval, x(&m, A0)) != (2, RAM_BASE + 2, inst as u64, POISON)
        {
            fails.push(format!("{}: {}", dis(inst), describe(&m)));
        }
        if !traps && x(&m, A0) == POISON {
            fails.push(format!("{}: did not write rd", dis(inst)));
        }
    }
    report(fails);
}

/// CSR numbers that do not exist on this hart (no F, no H, unallocated,
/// custom): every access traps as illegal with mtval = the instruction.
#[test]
fn nonexistent_csrs_trap_illegal() {
    let mut fails = Vec::new();
    for csr in [0x001u16, 0x003, 0x123, 0x600, 0x7c0, 0x800, 0x8ff, 0xbff, 0xcff, 0xfff] {
        for inst in [csrr(A0, csr), csrw(csr, A1), csrrsi(A0, csr, 0), csrrwi(ZERO, csr, 1)] {
            let m = run(&Program::of(&[inst]), Setup::new().expect_trap().regs(&[(A0, POISON)]));
            let c = &m.vcpus[0].hart.csr;
            if (c.mcause, c.mepc, c.mtval, x(&m, A0)) != (2, RAM_BASE, inst as u64, POISON) {
                fails.push(format!("{} ({csr:#x}): {}", dis(inst), describe(&m)));
            }
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Counters

/// Nothing has retired when the first instruction reads minstret; one cycle
/// per instruction in this VM, so mcycle reads the same at the start.
#[test]
fn counters_start_at_zero_and_count() {
    let m = run(
        &Program::of(&[
            csrr(A0, MINSTRET),
            csrr(A1, MINSTRET),
            addi(ZERO, ZERO, 0),
            csrr(A2, INSTRET),
            csrr(A3, MCYCLE),
            csrr(A4, CYCLE),
        ]),
        [],
    );
    assert_eq!((x(&m, A0), x(&m, A1), x(&m, A2)), (0, 1, 3));
    assert_eq!((x(&m, A3), x(&m, A4)), (4, 5));
}

/// A write to minstret (or mcycle) replaces the increment of the writing
/// instruction: the next instruction reads exactly the written value (priv
/// spec 3.3.1 / Zicntr).
#[test]
fn counter_writes_suppress_their_own_increment() {
    let mut fails = Vec::new();
    for (counter, alias) in [(MINSTRET, INSTRET), (MCYCLE, CYCLE)] {
        let m = run(
            &Program::of(&[
                csrr(A5, counter),
                csrrw(A0, counter, A1),
                csrr(A2, counter),
                addi(ZERO, ZERO, 0),
                csrr(A3, alias),
                csrrwi(ZERO, counter, 3),
                csrr(A4, counter),
            ]),
            [(A1, 1000)],
        );
        let got = [x(&m, A5), x(&m, A0), x(&m, A2), x(&m, A3), x(&m, A4)];
        if got != [0, 1, 1000, 1002, 3] {
            fails.push(format!(
                "{counter:#x}: (initial, old, after write, +2, after csrrwi 3) = {got:?}, \
                 want [0, 1, 1000, 1002, 3]"
            ));
        }
    }
    report(fails);
}

/// Trapping instructions do not retire.
#[test]
fn traps_do_not_retire() {
    let mut p = Program::new();
    p.la(T0, "handler").i(csrw(MTVEC, T0)).i(ecall()).i(ecall()).j_exit();
    // The handler skips the ecall and counts.
    p.align(4).label("handler");
    p.i(csrr(T1, MEPC)).i(addi(T1, T1, 4)).i(csrw(MEPC, T1)).i(addi(A1, A1, 1)).i(mret());
    let m = run(&p, [(A1, 0)]);
    assert_eq!(x(&m, A1), 2, "handler ran twice");
    // la (2) + csrw (1) + 2 x handler (5 each) + j (1) + exit stores (4);
    // the two ecalls do not count.
    assert_eq!(m.vcpus[0].hart.retired(), 2 + 1 + 10 + 1 + 4);
}

// ---------------------------------------------------------------------------
// Identity and status

#[test]
fn misa_mhartid_and_ids() {
    let m = run(
        &Program::of(&[
            csrr(A0, MISA),
            csrr(A1, MHARTID),
            csrw(MISA, ZERO), // WARL: ignored, no trap
            csrr(A2, MISA),
            csrr(A3, MVENDORID),
        ]),
        [(A0, POISON), (A1, POISON), (A2, POISON), (A3, POISON)],
    );
    let ext = |c: char| 1u64 << (c as u8 - b'A');
    let want = (2 << 62) | ext('A') | ext('C') | ext('I') | ext('M') | ext('S') | ext('U');
    assert_eq!(x(&m, A0), want, "misa: RV64 with A, C, I, M, S, U and nothing else");
    assert_eq!(x(&m, A2), want, "misa after a write of zero");
    assert_eq!(x(&m, A1), 0, "mhartid");
    assert_ne!(x(&m, A3), POISON, "mvendorid reads");
}

/// mstatus.UXL and SXL read 2 (64-bit) and ignore writes; sstatus shows UXL.
#[test]
fn mstatus_uxl_sxl_are_64_bit() {
    let m = run(
        &Program::of(&[
            csrr(A0, MSTATUS),
            csrw(MSTATUS, ZERO),
            csrr(A1, MSTATUS),
            csrs(MSTATUS, A5), // all ones
            csrr(A2, MSTATUS),
            csrr(A3, SSTATUS),
        ]),
        [(A5, u64::MAX)],
    );
    for r in [A0, A1, A2] {
        let v = x(&m, r);
        assert_eq!(((v >> 32) & 3, (v >> 34) & 3), (2, 2), "UXL/SXL in {v:#x}");
    }
    let s = x(&m, A3);
    assert_eq!((s >> 32) & 3, 2, "sstatus.UXL in {s:#x}");
    assert_eq!((s >> 34) & 3, 0, "sstatus has no SXL field: {s:#x}");
}

/// sstatus is a view of mstatus: S bits written through one show in the
/// other, M-only bits do not show in sstatus.
#[test]
fn sstatus_is_a_view_of_mstatus() {
    let m = run(
        &Program::of(&[
            csrsi(SSTATUS, 2), // SIE
            csrr(A0, MSTATUS),
            csrs(MSTATUS, A1), // MIE | MPIE | SPIE
            csrr(A2, SSTATUS),
        ]),
        [(A1, (1 << 3) | (1 << 7) | (1 << 5))],
    );
    assert_ne!(x(&m, A0) & 2, 0, "SIE set through sstatus shows in mstatus");
    let s = x(&m, A2);
    assert_eq!(s & ((1 << 3) | (1 << 7)), 0, "MIE/MPIE leak into sstatus: {s:#x}");
    assert_eq!(s & ((1 << 5) | 2), (1 << 5) | 2, "SPIE/SIE missing from sstatus: {s:#x}");
}

/// mepc and sepc hold even addresses (IALIGN = 16): bit 0 reads as zero.
#[test]
fn xepc_bit0_is_zero() {
    let m = run(
        &Program::of(&[csrw(MEPC, A1), csrr(A0, MEPC), csrw(SEPC, A1), csrr(A2, SEPC)]),
        [(A1, 0x8000_1235)],
    );
    assert_eq!((x(&m, A0), x(&m, A2)), (0x8000_1234, 0x8000_1234));
}

/// Counter access from S and U follows mcounteren/scounteren.
#[test]
fn counter_enables_gate_lower_privileges() {
    use tunevm::mem::Privilege::{Supervisor, User};
    let mut fails = Vec::new();
    // (mode, mcounteren, scounteren, csr, traps)
    for (mode, mce, sce, csr, traps) in [
        (Supervisor, 0, 0, CYCLE, true),
        (Supervisor, 1, 0, CYCLE, false),
        (Supervisor, 2, 0, TIME, false),
        (Supervisor, 3, 0, INSTRET, true),
        (User, 1, 0, CYCLE, true),
        (User, 0, 1, CYCLE, true),
        (User, 5, 5, CYCLE, false),
        (User, 5, 5, INSTRET, false),
        (User, 5, 5, TIME, true),
    ] {
        let mut p = Program::new();
        p.li(A1, mce).i(csrw(MCOUNTEREN, A1)).li(A1, sce).i(csrw(0x106, A1)); // scounteren
        p.enter(mode).i(csrr(A0, csr)).i(ecall());
        let m = run(&p, Setup::new().expect_trap().reg(A0, POISON));
        let want = if traps { 2 } else { 8 + mode as u64 }; // else the ecall
        if m.vcpus[0].hart.csr.mcause != want {
            fails.push(format!(
                "{mode:?} mcounteren={mce} scounteren={sce} csrr {csr:#x}: mcause {}, want {want}",
                m.vcpus[0].hart.csr.mcause
            ));
        }
    }
    report(fails);
}

/// WARL fields keep legal values: mstatus.MPP never reads 2, mtvec.MODE
/// never reads a reserved mode, satp ignores a write of an unsupported MODE
/// (priv spec 4.1.11) and keeps a supported one, mie holds exactly the six
/// interrupt enables of an M/S/U hart.
#[test]
fn warl_fields_hold_legal_values() {
    let mut p = Program::new();
    p.li(A1, 2 << 11).i(csrs(MSTATUS, A1)).i(csrr(A0, MSTATUS));
    p.li(A1, 0x1000).i(csrw(MTVEC, A1)).li(A1, 0x2002).i(csrw(MTVEC, A1)).i(csrr(A2, MTVEC));
    p.li(A1, 9).i(slli(A1, A1, 60)).i(csrw(SATP, A1)).i(csrr(A3, SATP));
    p.li(A1, 8).i(slli(A1, A1, 60)).i(ori(A1, A1, 0x123)).i(csrw(SATP, A1)).i(csrr(A4, SATP));
    p.i(csrw(SATP, ZERO));
    p.li(A1, -1).i(csrw(MIE, A1)).i(csrr(A5, MIE));
    let m = run(&p, []);
    assert_ne!((x(&m, A0) >> 11) & 3, 2, "mstatus.MPP = 2");
    assert!(x(&m, A2) & 3 < 2, "mtvec.MODE reserved: {:#x}", x(&m, A2));
    assert_eq!(x(&m, A3), 0, "satp took an Sv48 write");
    assert_eq!(x(&m, A4), (8 << 60) | 0x123, "satp refused an Sv39 write");
    assert_eq!(x(&m, A5), 0xaaa, "mie");
}

/// sie and sip show only the delegated interrupts; mip's M-level pending
/// bits cannot be written by software.
#[test]
fn sie_sip_are_restricted_to_delegated_interrupts() {
    let mut p = Program::new();
    p.li(A1, -1).i(csrw(MIE, A1)).i(csrr(A0, SIE));
    p.li(A1, 2).i(csrw(MIDELEG, A1)).i(csrr(A2, SIE)).i(csrs(SIP, A1)).i(csrr(A3, SIP));
    p.i(csrr(A4, MIP)).li(A1, 0x88).i(csrs(MIP, A1)).i(csrr(A5, MIP));
    let m = run(&p, []);
    assert_eq!(x(&m, A0), 0, "sie with nothing delegated");
    assert_eq!(x(&m, A2), 2, "sie with SSI delegated");
    assert_eq!(x(&m, A3), 2, "sip.SSIP written through sip");
    assert_eq!(x(&m, A4) & 2, 2, "mip shows SSIP");
    assert_eq!(x(&m, A5) & 0x88, 0, "MTIP/MSIP are not software-writable");
}
