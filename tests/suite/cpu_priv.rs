//! Traps and privilege: fence/fence.i, ecall from M/S/U, ebreak and
//! c.ebreak, mret/sret and the mstatus stack, xRET/WFI/satp/sfence.vma from
//! lower privileges and the TVM/TSR/TW traps, illegal instructions (mtval =
//! the instruction bits, 16 of them for compressed encodings), access
//! faults, medeleg, and vectored mtvec for exceptions.

use crate::common;

use common::asm::*;
use common::*;
use tunevm::mem::Privilege::{self, Machine as M, Supervisor as S, User as U};
use tunevm::runtime::Machine;

// mstatus fields (priv spec 3.1.6).
const SIE: u64 = 1 << 1;
const MIE: u64 = 1 << 3;
const SPIE: u64 = 1 << 5;
const MPIE: u64 = 1 << 7;
const SPP: u64 = 1 << 8;
const MPP: u64 = 3 << 11;
const MPRV: u64 = 1 << 17;
const TVM: u64 = 1 << 20;
const TW: u64 = 1 << 21;
const TSR: u64 = 1 << 22;

fn x(m: &Machine, r: Reg) -> u64 {
    m.vcpus[0].hart.x[r as usize]
}

fn mpp(mode: Privilege) -> u64 {
    (mode as u64) << 11
}

/// `csrs mstatus, bits` through t0.
fn set_mstatus(p: &mut Program, bits: u64) {
    p.li(T0, bits as i64).i(csrs(MSTATUS, T0));
}

// ---------------------------------------------------------------------------
// Fences

#[test]
fn fences_continue() {
    let m = run(
        &Program::of(&[
            fence(0b1111, 0b1111),
            addi(A0, A0, 1),
            fence(0b0010, 0b0001),
            addi(A0, A0, 1),
            fence_i(),
            addi(A0, A0, 1),
            0x8330_000f, // fence.tso
            addi(A0, A0, 1),
        ]),
        [(A0, 0)],
    );
    assert_eq!(x(&m, A0), 4);
}

/// Code patched by a store runs after fence.i, even when the old code was
/// executed (and cached) before.
#[test]
fn fence_i_makes_stores_to_code_visible() {
    let mut p = Program::new();
    p.la(A1, "patch");
    p.label("patch").i(addi(A0, A0, 1)); // becomes addi a0,a0,42
    p.i_to("done", |o| bne(A3, ZERO, o));
    p.i(addi(A3, ZERO, 1)).i(sw(A2, 0, A1)).i(fence_i()).j("patch");
    p.label("done");
    let m = run(&p, [(A0, 0), (A2, addi(A0, A0, 42) as u64), (A3, 0)]);
    assert_eq!(x(&m, A0), 43);
}

/// Every kind of store can patch code: after fence.i the new instruction
/// runs (the old one ran once before, so it was decoded and cached).
#[test]
fn fence_i_after_each_kind_of_store() {
    let new_inst = addi(A0, A0, 42);
    let mut fails = Vec::new();
    // (name, instructions storing a2 = new_inst at a1 = the patched address)
    let cases: Vec<(&str, Vec<u32>)> = vec![
        ("sw", vec![sw(A2, 0, A1)]),
        (
            "sd (with the next word)",
            vec![ld(A4, 0, A1), srli(A4, A4, 32), slli(A4, A4, 32), or(A4, A4, A2), sd(A4, 0, A1)],
        ),
        ("two sh", vec![sh(A2, 0, A1), srli(A4, A2, 16), sh(A4, 2, A1)]),
        (
            "four sb",
            vec![
                sb(A2, 0, A1),
                srli(A4, A2, 8),
                sb(A4, 1, A1),
                srli(A4, A2, 16),
                sb(A4, 2, A1),
                srli(A4, A2, 24),
                sb(A4, 3, A1),
            ],
        ),
        ("amoswap.w", vec![amoswap_w(A4, A2, A1)]),
        ("lr.w/sc.w", vec![lr_w(A4, A1), sc_w(A4, A2, A1)]),
        ("c.sw", vec![]),
    ];
    for (name, store) in cases {
        let mut p = Program::new();
        p.la(A1, "patch");
        p.align(8).label("patch").i(addi(A0, A0, 1)).i(addi(ZERO, ZERO, 0));
        p.i_to("done", |o| bne(A3, ZERO, o)).i(addi(A3, ZERO, 1));
        if name == "c.sw" {
            p.i(addi(S0, A1, 0)).i(addi(S1, A2, 0)).c(c_sw(S1, 0, S0));
        }
        for inst in store {
            p.i(inst);
        }
        p.i(fence_i()).j("patch").label("done");
        let m = run(&p, [(A0, 0), (A2, new_inst as u64), (A3, 0)]);
        if x(&m, A0) != 43 {
            fails.push(format!("{name}: a0 = {}, want 1 + 42", x(&m, A0)));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// ecall, ebreak

/// ecall traps to M with cause 8/9/11 by privilege, mepc = the ecall,
/// mtval = 0, MPP = the old privilege, MPIE = the old MIE, MIE = 0.
#[test]
fn ecall_from_each_privilege() {
    let mut fails = Vec::new();
    for (mode, cause) in [(U, 8), (S, 9), (M, 11)] {
        let mut p = Program::new();
        set_mstatus(&mut p, MPIE);
        if mode != M {
            p.enter(mode);
        } else {
            set_mstatus(&mut p, MIE);
        }
        let at = p.here();
        p.i(ecall());
        let m = run(&p, Setup::new().expect_trap());
        let c = &m.vcpus[0].hart.csr;
        let got = (
            c.mcause,
            c.mepc,
            c.mtval,
            (c.mstatus & MPP) >> 11,
            c.mstatus & MIE,
            m.vcpus[0].hart.privilege,
        );
        let want = (cause, at, 0, mode as u64, 0, M);
        if got != want {
            fails.push(format!("ecall from {mode:?}: {got:x?}, want {want:x?}"));
        }
        // MPIE records MIE at the trap: for M, MIE was set above; for S and U,
        // enter()'s mret copied the MPIE set above into MIE.
        if c.mstatus & MPIE == 0 {
            fails.push(format!("ecall from {mode:?}: MPIE clear, {}", describe(&m)));
        }
    }
    report(fails);
}

#[test]
fn ebreak_and_c_ebreak() {
    let mut fails = Vec::new();
    for (compressed, name) in [(false, "ebreak"), (true, "c.ebreak")] {
        let mut p = Program::new();
        p.c(c_nop());
        if compressed {
            p.c(c_ebreak());
        } else {
            p.i(ebreak());
        }
        let m = run(&p, Setup::new().expect_trap());
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval);
        if got != (3, RAM_BASE + 2, RAM_BASE + 2) {
            fails.push(format!("{name}: (mcause, mepc, mtval) = {got:#x?}, want (3, pc, pc)"));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// mret, sret

/// mret to M: MIE = MPIE, MPIE = 1, MPP = U (the least privileged mode),
/// execution continues at mepc.
#[test]
fn mret_to_machine_pops_the_stack() {
    let mut fails = Vec::new();
    for mpie in [0, MPIE] {
        let mut p = Program::new();
        set_mstatus(&mut p, MPP | mpie);
        p.la(T1, "after").i(csrw(MEPC, T1)).i(mret()).i(addi(A0, ZERO, 1)); // skipped
        p.label("after").i(csrr(A1, MSTATUS));
        let m = run(&p, [(A0, 0)]);
        let ms = x(&m, A1);
        let want_mie = if mpie != 0 { MIE } else { 0 };
        if x(&m, A0) != 0 || ms & MIE != want_mie || ms & MPIE == 0 || ms & MPP != 0 {
            fails.push(format!("mret with MPIE={}: mstatus {ms:#x}, a0 {}", mpie != 0, x(&m, A0)));
        }
        if m.vcpus[0].hart.privilege != M {
            fails.push(format!("mret with MPP=M left privilege {:?}", m.vcpus[0].hart.privilege));
        }
    }
    report(fails);
}

/// mret to S and U changes privilege (seen by the ecall cause), sets MIE from
/// MPIE and clears MPRV.
#[test]
fn mret_to_lower_privilege() {
    let mut fails = Vec::new();
    for (mode, cause) in [(S, 9), (U, 8)] {
        for mpie in [0, MPIE] {
            let mut p = Program::new();
            set_mstatus(&mut p, MPRV | mpie | mpp(mode));
            p.la(T1, "lower").i(csrw(MEPC, T1)).i(mret());
            p.label("lower").i(ecall());
            let m = run(&p, Setup::new().expect_trap());
            let c = &m.vcpus[0].hart.csr;
            // The ecall's trap entry copied MIE (set by mret from MPIE) into MPIE.
            let got =
                (c.mcause, c.mepc, c.mstatus & MPIE, c.mstatus & MPRV, (c.mstatus & MPP) >> 11);
            let want = (cause, p.addr("lower"), mpie, 0, mode as u64);
            if got != want {
                fails.push(format!(
                    "mret to {mode:?} with MPIE={}: {got:#x?}, want {want:#x?}",
                    mpie != 0
                ));
            }
        }
    }
    report(fails);
}

/// sret (from M and from S): SIE = SPIE, SPIE = 1, SPP = U, privilege = old
/// SPP, pc = sepc.
#[test]
fn sret_pops_the_supervisor_stack() {
    let mut fails = Vec::new();
    for from in [M, S] {
        for (spp, to, cause) in [(SPP, S, 9), (0, U, 8)] {
            if from == S && to == S {
                continue;
            }
            let mut p = Program::new();
            if from == S {
                p.enter(S);
            }
            p.li(T0, (spp | SPIE) as i64).i(csrs(SSTATUS, T0)).i(csrci(SSTATUS, 2));
            p.la(T1, "lower").i(csrw(SEPC, T1)).i(sret());
            p.label("lower");
            if to == S {
                p.i(csrr(A1, SSTATUS));
            }
            p.i(ecall());
            let m = run(&p, Setup::new().expect_trap().reg(A1, POISON));
            let c = &m.vcpus[0].hart.csr;
            if (c.mcause, c.mepc) != (cause, p.addr("lower") + if to == S { 4 } else { 0 }) {
                fails.push(format!("sret from {from:?} to {to:?}: {}", describe(&m)));
            }
            if c.mstatus & (SIE | SPIE | SPP) != SIE | SPIE {
                fails.push(format!(
                    "sret from {from:?} to {to:?}: mstatus {:#x}, want SIE=1 SPIE=1 SPP=0",
                    c.mstatus
                ));
            }
            if to == S && x(&m, A1) & (SIE | SPIE | SPP) != SIE | SPIE {
                fails.push(format!("sret to S: sstatus read in S {:#x}", x(&m, A1)));
            }
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Privileged instructions from lower privileges

/// Each case runs `inst` in `mode` with mstatus bits `extra` set first and
/// expects an illegal-instruction trap with mtval = the instruction (or,
/// when `traps` is false, no trap: the ecall after it reports the mode).
#[test]
fn privileged_instructions_from_lower_modes() {
    let mut fails = Vec::new();
    let cases: &[(Privilege, u64, u32, bool)] = &[
        (S, 0, mret(), true),
        (U, 0, mret(), true),
        (U, 0, sret(), true),
        (S, TSR, sret(), true),
        (U, 0, wfi(), true),
        (S, TW, wfi(), true),
        (S, TVM, csrr(A0, SATP), true),
        (S, TVM, csrw(SATP, ZERO), true),
        (S, TVM, sfence_vma(ZERO, ZERO), true),
        (S, TVM, sfence_vma(A1, A2), true),
        (S, 0, csrr(A0, SATP), false),
        (S, 0, csrw(SATP, ZERO), false),
        (S, 0, sfence_vma(ZERO, ZERO), false),
        (S, TW | TSR, csrr(A0, SATP), false),
        (U, 0, sfence_vma(ZERO, ZERO), true),
        (U, 0, csrr(A0, SATP), true),
        (U, 0, csrr(A0, SSTATUS), true),
        (S, 0, csrr(A0, MSTATUS), true),
        (S, 0, csrw(MSCRATCH, A1), true),
        (S, 0, csrr(A0, MHARTID), true),
    ];
    for &(mode, extra, inst, traps) in cases {
        let mut p = Program::new();
        if extra != 0 {
            set_mstatus(&mut p, extra);
        }
        p.enter(mode);
        let at = p.here();
        p.i(inst).i(ecall());
        let m = run(&p, Setup::new().expect_trap().reg(A0, POISON));
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval, (c.mstatus & MPP) >> 11);
        let want = if traps {
            (2, at, inst as u64, mode as u64)
        } else {
            (8 + mode as u64, at + 4, 0, mode as u64)
        };
        if got != want {
            fails.push(format!(
                "{} in {mode:?} with mstatus |= {extra:#x}: (mcause, mepc, mtval, MPP) = {got:#x?}, want {want:#x?}",
                dis(inst)
            ));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Illegal instructions and access faults

/// Illegal and reserved encodings trap with cause 2, mepc = the instruction
/// and mtval = its bits: 16 of them for a compressed encoding even though
/// another instruction follows.
#[test]
fn illegal_instructions_report_their_bits() {
    let mut fails = Vec::new();
    let cases16: &[(u16, &str)] = &[
        (0x0000, "all-zero halfword"),
        (0x0010, "c.addi4spn with nzuimm = 0"),
        (0x2000, "c.fld (no F/D)"),
        (0x8000, "quadrant 0 reserved"),
        (0xa000, "c.fsd (no F/D)"),
        (0x2001, "c.addiw with rd = 0"),
        (0x6101, "c.addi16sp with nzimm = 0"),
        (0x6501, "c.lui with nzimm = 0"),
        (0x9c41, "c.subw/c.addw space, reserved"),
        (0x9c61, "c.subw/c.addw space, reserved"),
        (0x2002, "c.fldsp (no F/D)"),
        (0x4002, "c.lwsp with rd = 0"),
        (0x6002, "c.ldsp with rd = 0"),
        (0x8002, "c.jr with rs1 = 0"),
        (0xa002, "c.fsdsp (no F/D)"),
    ];
    for &(half, what) in cases16 {
        let mut p = Program::new();
        p.c(c_nop()).half(half).i(addi(A0, ZERO, 1)); // a 32-bit instruction follows
        let m = run(&p, Setup::new().expect_trap().reg(A0, POISON));
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval);
        if got != (2, RAM_BASE + 2, half as u64) {
            fails.push(format!("{half:#06x} ({what}): (mcause, mepc, mtval) = {got:#x?}"));
        }
    }
    let cases32: &[(u32, &str)] = &[
        (0xffff_ffff, "all ones"),
        (0x0000_007f, "opcode of a >= 80-bit encoding"),
        (0x0000_003f, "opcode of a 48-bit encoding"),
        (0x0000_2007, "flw (no F)"),
        (0x0000_2027, "fsw (no F)"),
        (0x0000_0053, "OP-FP (no F)"),
        (0x0000_4073, "SYSTEM funct3 = 4"),
        (0x0200_101b, "slliw with shamt[5] set"),
        (0x0200_501b, "srliw with shamt[5] set"),
        (0x0400_0033, "OP with funct7 = 2"),
        (0x0000_1067, "jalr with funct3 = 1"),
        (0x0000_7003, "load funct3 = 7"),
        (0x0000_4023, "store funct3 = 4"),
        (0x0000_2063, "branch funct3 = 2"),
        (0x0000_002f, "AMO funct3 = 0"),
        (0x1020_252f, "lr.w with rs2 != 0"),
        (0x0000_200f, "MISC-MEM funct3 = 2"),
        (0x3020_00f3, "mret with rd != 0"),
        (0x0000_8073, "ecall with rs1 != 0"),
        (0x0000_005b, "custom-2 opcode"),
    ];
    for &(word, what) in cases32 {
        let mut p = Program::new();
        p.c(c_nop()).word(word);
        let m = run(&p, Setup::new().expect_trap());
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval);
        if got != (2, RAM_BASE + 2, word as u64) {
            fails.push(format!("{word:#010x} ({what}): (mcause, mepc, mtval) = {got:#x?}"));
        }
    }
    report(fails);
}

/// A trapping instruction changes nothing but the trap CSRs and the pc.
#[test]
fn illegal_instruction_changes_no_register() {
    let regs: Vec<(Reg, u64)> = (1..30).map(|r| (r as Reg, 0x1111 * r as u64)).collect();
    let m = run(&Program::of(&[0xffff_ffff]), Setup::new().expect_trap().regs(&regs));
    for &(r, v) in &regs {
        assert_eq!(x(&m, r), v, "x{r} changed");
    }
}

/// Fetch, load and store outside RAM and devices: access faults 1, 5 and 7
/// with mtval = the address.
#[test]
fn access_faults() {
    let mut fails = Vec::new();
    let cases: &[(u32, u64, u64, bool)] = &[
        // (instruction, a1, cause, mepc is a1)
        (jalr(ZERO, 0, A1), 0x0, 1, true),
        (jalr(ZERO, 0, A1), 0x4000_0000, 1, true),
        (ld(A0, 0, A1), 0x0, 5, false),
        (lw(A0, 0, A1), 0x4000_0000, 5, false),
        (lb(A0, 0, A1), 0x7fff_ffff, 5, false),
        (sd(A0, 0, A1), 0x8, 7, false),
        (sb(A0, 0, A1), 0x4000_0000, 7, false),
        (amoadd_d(A0, A0, A1), 0x0, 7, false),
    ];
    for &(inst, addr, cause, jump) in cases {
        let m = run(&Program::of(&[inst]), Setup::new().expect_trap().reg(A1, addr));
        let c = &m.vcpus[0].hart.csr;
        let want = (cause, if jump { addr } else { RAM_BASE }, addr);
        if (c.mcause, c.mepc, c.mtval) != want {
            fails.push(format!(
                "{} with a1={addr:#x}: (mcause, mepc, mtval) = {:#x?}, want {want:#x?}",
                dis(inst),
                (c.mcause, c.mepc, c.mtval)
            ));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Delegation

/// medeleg bit 8: an ecall from U traps to S with scause 8, sepc, stval = 0,
/// SPP = U, SPIE = the old SIE, SIE = 0; the M trap CSRs stay untouched.
#[test]
fn medeleg_delegates_user_ecall_to_supervisor() {
    let mut p = Program::new();
    p.li(T0, 1 << 8).i(csrw(MEDELEG, T0)).i(csrw(MCAUSE, ZERO)).i(csrw(MEPC, ZERO));
    p.i(csrsi(SSTATUS, 2)); // SIE
    p.enter(U);
    let at = p.here();
    p.i(ecall());
    let m = run(&p, Setup::new().expect_trap());
    let c = &m.vcpus[0].hart.csr;
    assert_eq!(m.vcpus[0].hart.privilege, S, "{}", describe(&m));
    assert_eq!((c.scause, c.sepc, c.stval), (8, at, 0));
    assert_eq!(c.mstatus & (SPP | SPIE | SIE), SPIE, "mstatus {:#x}", c.mstatus);
    assert_eq!(c.mcause, 0, "the trap went to M: {}", describe(&m));
}

/// Delegation in detail: S-mode ecall to S (SPP = S); traps taken in M are
/// never delegated; ecall from M cannot be delegated at all.
#[test]
fn medeleg_only_affects_lower_privileges() {
    // ecall from S, delegated: SPP = 1.
    let mut p = Program::new();
    p.li(T0, 1 << 9).i(csrw(MEDELEG, T0)).enter(S);
    let at = p.here();
    p.i(ecall());
    let m = run(&p, Setup::new().expect_trap());
    assert_eq!(
        (m.vcpus[0].hart.privilege, m.vcpus[0].hart.csr.scause, m.vcpus[0].hart.csr.sepc),
        (S, 9, at)
    );
    assert_ne!(m.vcpus[0].hart.csr.mstatus & SPP, 0, "SPP must record S");

    // Illegal instruction in M with medeleg bit 2 set: still handled in M.
    let mut p = Program::new();
    p.li(T0, 1 << 2).i(csrw(MEDELEG, T0)).word(0xffff_ffff);
    let m = run(&p, Setup::new().expect_trap());
    assert_eq!(
        (m.vcpus[0].hart.privilege, m.vcpus[0].hart.csr.mcause, m.vcpus[0].hart.csr.scause),
        (M, 2, 0)
    );

    // medeleg bit 11 (ecall from M) is read-only zero.
    let mut p = Program::new();
    p.li(T0, -1).i(csrw(MEDELEG, T0)).i(csrr(A0, MEDELEG)).i(ecall());
    let m = run(&p, Setup::new().expect_trap());
    assert_eq!(x(&m, A0) & (1 << 11), 0, "medeleg bit 11 must be read-only 0");
    assert_eq!((m.vcpus[0].hart.privilege, m.vcpus[0].hart.csr.mcause), (M, 11));
}

// ---------------------------------------------------------------------------
// mtvec

/// In vectored mode exceptions still go to the base.
#[test]
fn vectored_mtvec_does_not_vector_exceptions() {
    let mut fails = Vec::new();
    for (inst, cause) in [(ecall(), 11u64), (ebreak(), 3), (0xffff_ffff, 2)] {
        let mut p = Program::new();
        p.la(T0, "table").i(ori(T0, T0, 1)).i(csrw(MTVEC, T0)).word(inst).j_exit();
        vector_table(&mut p);
        let m = run(&p, [(A0, POISON)]);
        if (x(&m, A0), m.vcpus[0].hart.csr.mcause) != (100, cause) {
            fails.push(format!(
                "{:#010x}: handler a0={} (100 = base, k = base + 4k), mcause {}",
                inst,
                x(&m, A0),
                m.vcpus[0].hart.csr.mcause
            ));
        }
    }
    report(fails);
}

/// The direct-mode trap vector ignores the mode bits of the written value.
#[test]
fn mtvec_mode_bits() {
    let m = run(
        &Program::of(&[csrw(MTVEC, A1), csrr(A0, MTVEC), csrw(MTVEC, A2), csrr(A3, MTVEC)]),
        [(A1, DATA | 1), (A2, DATA)],
    );
    assert_eq!((x(&m, A0), x(&m, A3)), (DATA | 1, DATA));
}

/// TSR, TVM and TW do not restrict M-mode: satp, sfence.vma and sret work.
#[test]
fn trap_bits_do_not_restrict_machine_mode() {
    let mut p = Program::new();
    set_mstatus(&mut p, TSR | TVM | TW);
    p.i(csrr(A0, SATP)).i(csrw(SATP, ZERO)).i(sfence_vma(ZERO, ZERO));
    p.li(T0, (SPP | SPIE) as i64).i(csrs(SSTATUS, T0));
    p.la(T1, "s").i(csrw(SEPC, T1)).i(sret());
    p.label("s").i(ecall());
    let m = run(&p, Setup::new().expect_trap().reg(A0, POISON));
    assert_eq!(
        (m.vcpus[0].hart.csr.mcause, m.vcpus[0].hart.csr.mepc),
        (9, p.addr("s")),
        "{}",
        describe(&m)
    );
    assert_eq!(x(&m, A0), 0);
}

/// Exceptions from U delegated to S carry their stval: the instruction bits
/// for an illegal instruction, the pc for ebreak, the address for an access
/// fault.
#[test]
fn delegated_exceptions_set_stval() {
    let mut fails = Vec::new();
    let cases: &[(u32, u64, u64)] = &[
        // (instruction, scause, stval; u64::MAX = the instruction's pc)
        (0xffff_ffff, 2, 0xffff_ffff),
        (mret(), 2, mret() as u64),
        (ebreak(), 3, u64::MAX),
        (ld(A0, 0, A1), 5, 0x4000_0000),
        (sw(A0, 0, A1), 7, 0x4000_0000),
        (lw(A0, 2, A2), 4, DATA + 2),
        (sw(A0, 6, A2), 6, DATA + 6),
    ];
    for &(inst, cause, tval) in cases {
        let mut p = Program::new();
        p.li(T0, 0xffff).i(csrw(MEDELEG, T0)).enter(U);
        let at = p.here();
        p.word(inst);
        let setup =
            Setup::new().strict_align().expect_trap().regs(&[(A1, 0x4000_0000), (A2, DATA)]);
        let m = run(&p, setup);
        let c = &m.vcpus[0].hart.csr;
        let want_tval = if tval == u64::MAX { at } else { tval };
        let got = (m.vcpus[0].hart.privilege, c.scause, c.sepc, c.stval, c.mcause);
        if got != (S, cause, at, want_tval, 0) {
            fails.push(format!(
                "{}: (privilege, scause, sepc, stval, mcause) = {got:x?}",
                dis(inst)
            ));
        }
    }
    report(fails);
}

/// U -> S (delegated ecall) -> sret back to U -> M (undelegated ebreak).
#[test]
fn user_supervisor_round_trip() {
    let mut p = Program::new();
    p.la(T0, "s_handler").i(csrw(STVEC, T0)).li(T0, 1 << 8).i(csrw(MEDELEG, T0));
    p.enter(U).i(addi(A0, A0, 1)).i(ecall()).i(addi(A0, A0, 1));
    let at = p.here();
    p.i(ebreak());
    p.align(4).label("s_handler");
    p.i(csrr(T1, SEPC)).i(addi(T1, T1, 4)).i(csrw(SEPC, T1)).i(addi(A1, A1, 1)).i(sret());
    let m = run(&p, Setup::new().expect_trap().regs(&[(A0, 0), (A1, 0)]));
    let c = &m.vcpus[0].hart.csr;
    assert_eq!((x(&m, A0), x(&m, A1)), (2, 1), "{}", describe(&m));
    assert_eq!((c.mcause, c.mepc, (c.mstatus & MPP) >> 11), (3, at, 0));
    assert_eq!(c.scause, 8);
}
