//! M extension: multiplication (low and high halves, all sign combinations),
//! division and remainder including division by zero and the one overflowing
//! case (unpriv. spec table 13.1), and every W form with its sign extension.

use crate::common;

use common::asm::*;
use common::*;

const MIN: u64 = 0x8000_0000_0000_0000;
const MAX: u64 = 0x7fff_ffff_ffff_ffff;
const ALL: u64 = u64::MAX;

const fn neg(x: i64) -> u64 {
    x as u64
}

/// Two values whose products set bits everywhere.
const P: u64 = 0x1234_5678_9abc_def0;
const Q: u64 = 0xfedc_ba98_7654_3210;

#[test]
fn mul_low_half() {
    check_rr(&[
        (mul, 3, 4, 12),
        (mul, ALL, ALL, 1),
        (mul, MIN, ALL, MIN),
        (mul, 0x1_0000_0001, 0x1_0000_0001, 0x2_0000_0001),
        (mul, MAX, 2, neg(-2)),
        (mul, P, 0, 0),
        (mul, P, Q, 0x236d_88fe_5618_cf00),
    ]);
}

#[test]
fn mulh_mulhsu_mulhu_high_half() {
    check_rr(&[
        (mulh, ALL, ALL, 0),
        (mulh, MIN, MIN, 0x4000_0000_0000_0000),
        (mulh, MIN, MAX, 0xc000_0000_0000_0000),
        (mulh, MAX, MAX, 0x3fff_ffff_ffff_ffff),
        (mulh, ALL, 1, ALL),
        (mulh, 1 << 32, 1 << 32, 1),
        (mulh, neg(-(1 << 32)), 1 << 32, ALL),
        (mulh, neg(-0x1234_5678_9abc_def0), neg(-0x0edc_ba98_7654_3210), 0x010e_8ef9_c66c_6321),
        // rs1 signed, rs2 unsigned.
        (mulhsu, MIN, ALL, 0x8000_0000_0000_0000),
        (mulhsu, ALL, ALL, ALL),
        (mulhsu, MAX, ALL, 0x7fff_ffff_ffff_fffe),
        (mulhsu, neg(-2), 3, ALL),
        (mulhsu, 2, MIN, 1),
        (mulhsu, 1, ALL, 0),
        (mulhsu, neg(-0x1234_5678_9abc_def0), Q, 0xede0_5ff5_2882_8bdd),
        (mulhu, ALL, ALL, 0xffff_ffff_ffff_fffe),
        (mulhu, MIN, 2, 1),
        (mulhu, ALL, 1, 0),
        (mulhu, 1 << 32, 1 << 32, 1),
        (mulhu, P, Q, 0x121f_a00a_d77d_7422),
    ]);
}

#[test]
fn div_divu_rem_remu_including_by_zero_and_overflow() {
    check_rr(&[
        (div, 7, 2, 3),
        (div, neg(-7), 2, neg(-3)), // rounds towards zero
        (div, 7, neg(-2), neg(-3)),
        (div, neg(-7), neg(-2), 3),
        (div, 5, 0, ALL),
        (div, 0, 0, ALL),
        (div, MIN, 0, ALL),
        (div, MIN, ALL, MIN), // overflow
        (div, MIN, 1, MIN),
        (divu, 7, 2, 3),
        (divu, ALL, 2, MAX),
        (divu, 5, 0, ALL),
        (divu, 0, 0, ALL),
        (divu, MIN, ALL, 0),
        (divu, ALL, ALL, 1),
        (rem, 7, 2, 1),
        (rem, neg(-7), 2, neg(-1)), // sign of the dividend
        (rem, 7, neg(-2), 1),
        (rem, neg(-7), neg(-2), neg(-1)),
        (rem, 5, 0, 5),
        (rem, neg(-5), 0, neg(-5)),
        (rem, MIN, 0, MIN),
        (rem, MIN, ALL, 0), // overflow
        (remu, 7, 2, 1),
        (remu, ALL, 10, 5),
        (remu, 5, 0, 5),
        (remu, ALL, 0, ALL),
        (remu, MIN, ALL, MIN),
    ]);
}

#[test]
fn word_forms_use_low_32_bits_and_sign_extend() {
    check_rr(&[
        (mulw, 0x7fff_ffff, 2, neg(-2)),
        (mulw, 0x1_0000_0003, 0x1_0000_0005, 15),
        (mulw, 0x1_0000, 0x1_0000, 0),
        (mulw, 0x8000, 0x1_0000, 0xffff_ffff_8000_0000),
        (mulw, ALL, ALL, 1),
        (divw, 7, 2, 3),
        (divw, neg(-7), 2, neg(-3)),
        (divw, 0xffff_ffff_0000_0007, 2, 3), // upper bits ignored
        (divw, 0x0000_0000_ffff_fff9, 2, neg(-3)), // low word is -7
        (divw, 5, 0, ALL),
        (divw, 5, 0x1_0000_0000, ALL), // low word of the divisor is 0
        (divw, 0x8000_0000, ALL, 0xffff_ffff_8000_0000), // overflow
        (divw, 0x8000_0000, 0xffff_ffff, 0xffff_ffff_8000_0000),
        (divuw, 0xffff_ffff, 1, ALL), // result sign-extended
        (divuw, 0xffff_fffe, 2, 0x7fff_ffff),
        (divuw, 0x8000_0000, 1, 0xffff_ffff_8000_0000),
        (divuw, neg(-7), 2, 0x7fff_fffc), // 0xfffffff9 / 2, unsigned
        (divuw, 5, 0, ALL),
        (divuw, 0x1_0000_0000, 0x1_0000_0000, ALL),
        (remw, neg(-7), 2, neg(-1)),
        (remw, 7, neg(-2), 1),
        (remw, 7, 0, 7),
        (remw, 0x8000_0000, 0, 0xffff_ffff_8000_0000), // dividend sign-extended
        (remw, 0x1_0000_0005, 0, 5),
        (remw, 0x8000_0000, ALL, 0), // overflow
        (remw, 0xffff_ffff_8000_0000, neg(-1), 0),
        (remuw, 0xffff_ffff, 0, ALL),
        (remuw, 0xffff_ffff, 0x10, 0xf),
        (remuw, 0x8000_0005, 0x10_0000_0000, 0xffff_ffff_8000_0005),
        (remuw, 0x8000_0005, 0x4000_0000, 5),
        (remuw, 0xffff_ffff_8000_0007, 0x8000_0000, 7),
        (remuw, neg(-1), 0xffff_fffe, 1),
    ]);
}
