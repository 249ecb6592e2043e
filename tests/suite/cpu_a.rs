//! A extension: LR/SC reservations (success, failure without a reservation,
//! to another address, a second SC), every AMO in .w and .d (.w sign-extends
//! the loaded value into rd and touches only its word; minu/maxu.w compare
//! unsigned 32-bit values), and misaligned LR/SC/AMO, which trap whatever
//! strict_align says (cause 4 for LR, 6 for SC and AMOs).

use crate::common;

use common::asm::*;
use common::*;

const MIN: u64 = 0x8000_0000_0000_0000;
const MAX: u64 = 0x7fff_ffff_ffff_ffff;
const ALL: u64 = u64::MAX;

const fn neg(x: i64) -> u64 {
    x as u64
}

/// Fill for the word after a .w target: must survive every .w access.
const SENTINEL: u64 = 0x5a5a_5a5a_0000_0000;

fn x(m: &tunevm::runtime::Machine, r: Reg) -> u64 {
    m.vcpus[0].hart.x[r as usize]
}

// ---------------------------------------------------------------------------
// LR/SC

#[test]
fn lr_sc_d_succeeds() {
    let m = run(
        &Program::of(&[lr_d(A0, A1), sc_d(A2, A3, A1)]),
        Setup::new().mem64(DATA, 0x1111_2222_3333_4444).regs(&[(A1, DATA), (A2, POISON), (A3, Q)]),
    );
    assert_eq!(x(&m, A0), 0x1111_2222_3333_4444, "lr.d value");
    assert_eq!(x(&m, A2), 0, "sc.d must succeed");
    assert_eq!(peek(&m, DATA, 8), Q);
}

const Q: u64 = 0x8765_4321_fedc_ba98;

#[test]
fn lr_sc_w_sign_extends_and_writes_one_word() {
    let m = run(
        &Program::of(&[lr_w(A0, A1), sc_w(A2, A3, A1)]),
        Setup::new().mem64(DATA, SENTINEL | 0x8000_0000).regs(&[(A1, DATA), (A2, POISON), (A3, Q)]),
    );
    assert_eq!(x(&m, A0), 0xffff_ffff_8000_0000, "lr.w sign-extends");
    assert_eq!(x(&m, A2), 0, "sc.w must succeed");
    assert_eq!(peek(&m, DATA, 8), SENTINEL | (Q & 0xffff_ffff));
}

#[test]
fn sc_without_reservation_fails_and_leaves_memory() {
    for (inst, name) in [(sc_w(A2, A3, A1), "sc.w"), (sc_d(A2, A3, A1), "sc.d")] {
        let m = run(
            &Program::of(&[inst]),
            Setup::new().mem64(DATA, 0x1234).regs(&[(A1, DATA), (A2, POISON), (A3, Q)]),
        );
        assert_eq!(x(&m, A2), 1, "{name} without a reservation must write 1");
        assert_eq!(peek(&m, DATA, 8), 0x1234, "{name} failed but wrote memory");
    }
}

#[test]
fn sc_to_another_address_fails() {
    let m = run(
        &Program::of(&[lr_d(A0, A1), sc_d(A2, A3, A4)]),
        Setup::new().mem64(DATA, 1).mem64(DATA + 8, 2).regs(&[
            (A1, DATA),
            (A4, DATA + 8),
            (A2, POISON),
            (A3, Q),
        ]),
    );
    assert_eq!(x(&m, A2), 1, "sc.d to another address must fail");
    assert_eq!((peek(&m, DATA, 8), peek(&m, DATA + 8, 8)), (1, 2));
}

#[test]
fn second_sc_after_success_fails() {
    let m = run(
        &Program::of(&[lr_d(A0, A1), sc_d(A2, A3, A1), sc_d(A5, A4, A1)]),
        Setup::new().mem64(DATA, 1).regs(&[
            (A1, DATA),
            (A2, POISON),
            (A3, Q),
            (A4, 99),
            (A5, POISON),
        ]),
    );
    assert_eq!((x(&m, A2), x(&m, A5)), (0, 1));
    assert_eq!(peek(&m, DATA, 8), Q);
}

/// A failed SC (to another address) still gives up the reservation: a later
/// SC to the reserved address fails too.
#[test]
fn failed_sc_clears_the_reservation() {
    let m = run(
        &Program::of(&[lr_d(A0, A1), sc_d(A2, A3, A4), sc_d(A5, A3, A1)]),
        Setup::new().mem64(DATA, 1).mem64(DATA + 8, 2).regs(&[
            (A1, DATA),
            (A4, DATA + 8),
            (A2, POISON),
            (A3, Q),
            (A5, POISON),
        ]),
    );
    assert_eq!((x(&m, A2), x(&m, A5)), (1, 1));
    assert_eq!((peek(&m, DATA, 8), peek(&m, DATA + 8, 8)), (1, 2));
}

/// A new LR after a failed SC takes a fresh reservation.
#[test]
fn lr_after_failed_sc_reserves_again() {
    let m = run(
        &Program::of(&[sc_w(A2, A3, A1), lr_w(A0, A1), sc_w(A5, A3, A1)]),
        Setup::new().mem64(DATA, 7).regs(&[(A1, DATA), (A2, POISON), (A3, 9), (A5, POISON)]),
    );
    assert_eq!((x(&m, A2), x(&m, A0), x(&m, A5)), (1, 7, 0));
    assert_eq!(peek(&m, DATA, 8), 9);
}

// ---------------------------------------------------------------------------
// AMOs

type Amo = fn(Reg, Reg, Reg) -> u32;

/// `op a0, a2, (a1)` with the 8 bytes at DATA = `mem` and a2 = `src`:
/// checks a0 (the old value, sign-extended for .w) and the 8 bytes after.
fn check_amo(cases: &[(Amo, u64, u64, u64, u64)]) {
    let mut fails = Vec::new();
    for &(op, mem, src, want_rd, want_mem) in cases {
        let inst = op(A0, A2, A1);
        let m = run(
            &Program::of(&[inst]),
            Setup::new().mem64(DATA, mem).regs(&[(A0, POISON), (A1, DATA), (A2, src)]),
        );
        let (rd, after) = (x(&m, A0), peek(&m, DATA, 8));
        if (rd, after) != (want_rd, want_mem) {
            fails.push(format!(
                "{} mem={mem:#x} a2={src:#x}: (a0, mem) = ({rd:#x}, {after:#x}), \
                 want ({want_rd:#x}, {want_mem:#x})",
                dis(inst)
            ));
        }
    }
    report(fails);
}

#[test]
fn amo_word_forms() {
    let s = SENTINEL;
    check_amo(&[
        (amoswap_w, s | 0x8000_0000, 0x1234_5678_9abc_def0, 0xffff_ffff_8000_0000, s | 0x9abc_def0),
        (amoadd_w, s | 0x7fff_ffff, 1, 0x7fff_ffff, s | 0x8000_0000),
        (amoadd_w, s | 0xffff_ffff, 0x1_0000_0001, ALL, s), // carry stays in the word
        (amoxor_w, s | 0xf0f0_f0f0, 0xff00_ff00, 0xffff_ffff_f0f0_f0f0, s | 0x0ff0_0ff0),
        (amoand_w, s | 0xf0f0_f0f0, 0xff00_ff00, 0xffff_ffff_f0f0_f0f0, s | 0xf000_f000),
        (amoor_w, s | 0xf0f0_f0f0, 0xff00_ff00, 0xffff_ffff_f0f0_f0f0, s | 0xfff0_fff0),
        (amomin_w, s | 0xffff_ffff, 1, ALL, s | 0xffff_ffff),
        (amomin_w, s | 5, 0x8000_0000, 5, s | 0x8000_0000), // a2's word is negative
        (amomax_w, s | 0xffff_ffff, 1, ALL, s | 1),
        (amomax_w, s | 5, 0x8000_0000, 5, s | 5),
        (amomax_w, s | 0x8000_0000, 0x1_0000_0000, 0xffff_ffff_8000_0000, s),
        (amominu_w, s | 0xffff_ffff, 1, ALL, s | 1),
        (amominu_w, s | 0x7fff_ffff, 0x8000_0000, 0x7fff_ffff, s | 0x7fff_ffff),
        (amominu_w, s | 0x8000_0000, 0x7fff_ffff, 0xffff_ffff_8000_0000, s | 0x7fff_ffff),
        (amominu_w, s | 3, 0xffff_ffff_0000_0002, 3, s | 2),
        (amomaxu_w, s | 0x7fff_ffff, 0x8000_0000, 0x7fff_ffff, s | 0x8000_0000),
        (amomaxu_w, s | 0xffff_ffff, 0, ALL, s | 0xffff_ffff),
        (amomaxu_w, s | 1, 0x1_0000_0000, 1, s | 1),
    ]);
}

#[test]
fn amo_double_forms() {
    check_amo(&[
        (amoswap_d, 0x1111, Q, 0x1111, Q),
        (amoadd_d, MAX, 1, MAX, MIN),
        (amoadd_d, ALL, 2, ALL, 1),
        (amoxor_d, 0xf0f0, ALL, 0xf0f0, !0xf0f0),
        (amoand_d, ALL, MIN | 1, ALL, MIN | 1),
        (amoor_d, MIN, 1, MIN, MIN | 1),
        (amomin_d, ALL, 1, ALL, ALL),
        (amomin_d, MIN, MAX, MIN, MIN),
        (amomin_d, 0x8000_0000, neg(-1), 0x8000_0000, ALL),
        (amomax_d, ALL, 1, ALL, 1),
        (amomax_d, MIN, MAX, MIN, MAX),
        (amominu_d, ALL, 1, ALL, 1),
        (amominu_d, MIN, MAX, MIN, MAX),
        (amomaxu_d, ALL, 1, ALL, ALL),
        (amomaxu_d, MAX, MIN, MAX, MIN),
    ]);
}

/// rd == rs2: the source is read before rd is written; rd = x0 still updates
/// memory.
#[test]
fn amo_register_aliasing() {
    let m = run(
        &Program::of(&[amoswap_d(A2, A2, A1), amoadd_w(ZERO, A3, A4)]),
        Setup::new().mem64(DATA, 5).mem64(DATA + 8, 10).regs(&[
            (A1, DATA),
            (A2, 7),
            (A3, 1),
            (A4, DATA + 8),
        ]),
    );
    assert_eq!(x(&m, A2), 5);
    assert_eq!((peek(&m, DATA, 8), peek(&m, DATA + 8, 8)), (7, 11));
    assert_eq!(m.vcpus[0].hart.x[0], 0);
}

// ---------------------------------------------------------------------------
// Misaligned atomics

#[test]
fn misaligned_atomics_trap_even_without_strict_align() {
    let mut fails = Vec::new();
    let cases: &[(u32, u64, u64)] = &[
        (lr_w(A0, A1), DATA + 2, 4),
        (lr_d(A0, A1), DATA + 4, 4),
        (lr_d(A0, A1), DATA + 1, 4),
        (sc_w(A0, A2, A1), DATA + 1, 6),
        (sc_d(A0, A2, A1), DATA + 4, 6),
        (amoadd_w(A0, A2, A1), DATA + 2, 6),
        (amoswap_w(A0, A2, A1), DATA + 3, 6),
        (amoswap_d(A0, A2, A1), DATA + 4, 6),
        (amomaxu_d(A0, A2, A1), DATA + 1, 6),
        (amoor_d(A0, A2, A1), DATA + 6, 6),
    ];
    for &(inst, addr, cause) in cases {
        // An aligned LR first, so SC would have a reservation nearby.
        let mut p = Program::new();
        p.i(lr_d(A3, A4)).i(inst);
        let m = run(
            &p,
            Setup::new().expect_trap().mem(DATA, &[0x77; 16]).regs(&[
                (A0, POISON),
                (A1, addr),
                (A2, 0),
                (A4, DATA),
            ]),
        );
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval);
        if got != (cause, RAM_BASE + 4, addr) {
            fails.push(format!(
                "{} at {addr:#x}: (mcause, mepc, mtval) = {got:#x?}, want ({cause}, {:#x}, {addr:#x})",
                dis(inst),
                RAM_BASE + 4
            ));
        }
        if x(&m, A0) != POISON
            || peek(&m, DATA, 8) != 0x7777_7777_7777_7777
            || peek(&m, DATA + 8, 8) != 0x7777_7777_7777_7777
        {
            fails.push(format!("{} at {addr:#x}: changed a0 or memory", dis(inst)));
        }
    }
    report(fails);
}
