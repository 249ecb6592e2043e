//! RV64I, one instruction at a time: arithmetic and logic with overflow and
//! signed/unsigned edges, shifts by 0/31/32/63 and masked register amounts,
//! the W forms and their sign extension, lui/auipc, jal/jalr, every branch
//! taken and not taken (forward and backward), loads and stores of every
//! width, misaligned accesses (carried out, or trapping under strict_align),
//! and fetching an instruction that straddles two pages.

use crate::common;

use common::asm::*;
use common::*;

const MIN: u64 = 0x8000_0000_0000_0000;
const MAX: u64 = 0x7fff_ffff_ffff_ffff;
const ALL: u64 = u64::MAX;

/// Negative numbers as the u64 register value.
const fn neg(x: i64) -> u64 {
    x as u64
}

// ---------------------------------------------------------------------------
// Register-register

#[test]
fn add_sub_wrap() {
    check_rr(&[
        (add, 1, 2, 3),
        (add, MAX, 1, MIN),
        (add, ALL, 1, 0),
        (add, MIN, MIN, 0),
        (add, neg(-5), 3, neg(-2)),
        (sub, 0, 1, ALL),
        (sub, MIN, 1, MAX),
        (sub, MAX, ALL, MIN),
        (sub, 5, 7, neg(-2)),
        (sub, 7, 7, 0),
    ]);
}

#[test]
fn slt_sltu_signed_vs_unsigned() {
    check_rr(&[
        (slt, neg(-1), 0, 1),
        (slt, 0, neg(-1), 0),
        (slt, MIN, MAX, 1),
        (slt, MAX, MIN, 0),
        (slt, 5, 5, 0),
        (slt, neg(-2), neg(-1), 1),
        (sltu, neg(-1), 0, 0),
        (sltu, 0, neg(-1), 1),
        (sltu, MIN, MAX, 0),
        (sltu, MAX, MIN, 1),
        (sltu, 5, 5, 0),
        (sltu, 0x1_0000_0000, 0xffff_ffff, 0),
    ]);
}

#[test]
fn logic_ops() {
    check_rr(&[
        (xor, 0xff00_ff00_ff00_ff00, 0x0ff0_0ff0_0ff0_0ff0, 0xf0f0_f0f0_f0f0_f0f0),
        (xor, ALL, ALL, 0),
        (or, 0xff00_ff00_ff00_ff00, 0x0ff0_0ff0_0ff0_0ff0, 0xfff0_fff0_fff0_fff0),
        (or, 0, 0, 0),
        (and, 0xff00_ff00_ff00_ff00, 0x0ff0_0ff0_0ff0_0ff0, 0x0f00_0f00_0f00_0f00),
        (and, ALL, MIN, MIN),
    ]);
}

#[test]
fn shifts_by_register_use_six_bits() {
    check_rr(&[
        (sll, 0x8000_0001, 0, 0x8000_0001),
        (sll, 1, 31, 0x8000_0000),
        (sll, 0x8000_0001, 32, 0x8000_0001_0000_0000),
        (sll, 1, 63, MIN),
        (sll, 1, 64, 1),
        (sll, 1, 65, 2),
        (sll, 3, neg(-1), MIN), // amount 63
        (srl, MIN, 0, MIN),
        (srl, MIN, 31, 0x1_0000_0000),
        (srl, MIN, 32, 0x8000_0000),
        (srl, MIN, 63, 1),
        (srl, ALL, 64, ALL),
        (srl, ALL, 0x7c1, MAX), // amount 1
        (sra, MIN, 0, MIN),
        (sra, MIN, 31, 0xffff_ffff_0000_0000),
        (sra, MIN, 32, 0xffff_ffff_8000_0000),
        (sra, MIN, 63, ALL),
        (sra, MAX, 63, 0),
        (sra, MIN, 64, MIN),
        (sra, MIN, 0x1_0000_0001, 0xc000_0000_0000_0000),
    ]);
}

#[test]
fn word_ops_sign_extend() {
    check_rr(&[
        (addw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (addw, 0xffff_ffff, 1, 0),
        (addw, 0xdead_beef_0000_0001, 0x1234_5678_0000_0002, 3),
        (addw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (addw, neg(-1), neg(-1), neg(-2)),
        (subw, 0, 1, ALL),
        (subw, 0x8000_0000, 1, 0x7fff_ffff),
        (subw, 0x1_0000_0000, 0, 0),
        (subw, 0x7fff_ffff, neg(-1), 0xffff_ffff_8000_0000),
        (sllw, 1, 31, 0xffff_ffff_8000_0000),
        (sllw, 1, 32, 1),
        (sllw, 1, 33, 2),
        (sllw, 0xffff_ffff, 63, 0xffff_ffff_8000_0000),
        (sllw, 0x1_0000_0001, 0, 1),
        (sllw, 0x1_4000_0000, 1, 0xffff_ffff_8000_0000),
        (srlw, 0x8000_0000, 31, 1),
        (srlw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (srlw, 0x8000_0000, 32, 0xffff_ffff_8000_0000),
        (srlw, ALL, 1, 0x7fff_ffff),
        (srlw, 0xffff_ffff_0000_0010, 36, 1),
        (sraw, 0x8000_0000, 31, ALL),
        (sraw, 0x8000_0000, 1, 0xffff_ffff_c000_0000),
        (sraw, 0x7fff_ffff, 63, 0),
        (sraw, 0x1_8000_0000, 32, 0xffff_ffff_8000_0000),
        (sraw, 0xffff_ffff_4000_0000, 30, 1),
    ]);
}

/// x0 reads as zero and ignores writes; rd may equal the sources.
#[test]
fn x0_and_register_aliasing() {
    let m = run(
        &Program::of(&[addi(ZERO, ZERO, 5), add(A0, ZERO, ZERO), add(A1, A1, A1), sub(A2, A2, A2)]),
        [(A0, POISON), (A1, 0x4000_0000_0000_0001), (A2, 77)],
    );
    assert_eq!(m.vcpus[0].hart.x[0], 0);
    assert_eq!(m.vcpus[0].hart.x[A0 as usize], 0);
    assert_eq!(m.vcpus[0].hart.x[A1 as usize], 0x8000_0000_0000_0002);
    assert_eq!(m.vcpus[0].hart.x[A2 as usize], 0);
}

// ---------------------------------------------------------------------------
// Register-immediate

/// (encoder, a1, immediate, expected a0).
type RiCase<I> = (fn(Reg, Reg, I) -> u32, u64, I, u64);

/// Each case runs `op a0, a1, imm` with a1 = a and checks a0. `I` is the
/// immediate's type (`i32` for ALU immediates, `u32` for shift amounts).
fn check_ri<I: Copy>(cases: &[RiCase<I>]) {
    let mut fails = Vec::new();
    for &(op, a, imm, want) in cases {
        let inst = op(A0, A1, imm);
        let m = run(&Program::of(&[inst]), [(A0, POISON), (A1, a)]);
        let got = m.vcpus[0].hart.x[A0 as usize];
        if got != want {
            fails.push(format!("{} with a1={a:#x}: got {got:#x}, want {want:#x}", dis(inst)));
        }
    }
    report(fails);
}

#[test]
fn immediate_alu_ops() {
    check_ri(&[
        (addi, 1, -1, 0),
        (addi, MAX, 1, MIN),
        (addi, 0, -2048, neg(-2048)),
        (addi, 0, 2047, 2047),
        (addi, 0xffff_ffff, 1, 0x1_0000_0000),
        (slti, neg(-1), 0, 1),
        (slti, 0, neg(-1) as i32, 0),
        (slti, MIN, -2048, 1),
        (slti, neg(-2048), -2048, 0),
        (slti, neg(-2049), -2048, 1),
        (slti, MAX, 2047, 0),
        (sltiu, 0, 1, 1),
        (sltiu, 0, 0, 0),
        (sltiu, 1, 1, 0),
        (sltiu, MAX, -1, 1), // -1 sign-extends to all ones, then compares unsigned
        (sltiu, ALL, -1, 0),
        (sltiu, 0xffff_ffff_ffff_f800, -2048, 0),
        (sltiu, 0xffff_ffff_ffff_f7ff, -2048, 1),
        (xori, 0x1234, -1, !0x1234),
        (xori, 0xff, 0x0f0, 0x0f),
        (xori, MIN, 0x7ff, MIN | 0x7ff),
        (ori, 0, -2048, 0xffff_ffff_ffff_f800),
        (ori, 0x1_0000_0000, 0x555, 0x1_0000_0555),
        (andi, ALL, 0x7ff, 0x7ff),
        (andi, ALL, -2048, 0xffff_ffff_ffff_f800),
        (andi, 0x1234, 0, 0),
        (addiw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (addiw, 0xffff_ffff, 1, 0),
        (addiw, 0, -1, ALL),
        (addiw, 0x1_0000_0000, 0, 0),
        (addiw, 0x1_8000_0000, 0, 0xffff_ffff_8000_0000),
        (addiw, 0x8000_0000, -1, 0x7fff_ffff),
    ]);
}

#[test]
fn shifts_by_immediate() {
    check_ri::<u32>(&[
        (slli, 0x8000_0001, 0, 0x8000_0001),
        (slli, 1, 31, 0x8000_0000),
        (slli, 0x8000_0001, 32, 0x8000_0001_0000_0000),
        (slli, 3, 63, MIN),
        (srli, MIN, 0, MIN),
        (srli, MIN, 31, 0x1_0000_0000),
        (srli, MIN, 32, 0x8000_0000),
        (srli, ALL, 63, 1),
        (srai, MIN, 0, MIN),
        (srai, MIN, 31, 0xffff_ffff_0000_0000),
        (srai, MIN, 32, 0xffff_ffff_8000_0000),
        (srai, MIN, 63, ALL),
        (srai, MAX, 63, 0),
        (slliw, 1, 31, 0xffff_ffff_8000_0000),
        (slliw, 0xffff_ffff_0000_0001, 0, 1),
        (slliw, 0x1_c000_0001, 1, 0xffff_ffff_8000_0002),
        (slliw, 0x0000_0000_0001_0000, 16, 0),
        (srliw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (srliw, 0x8000_0000, 31, 1),
        (srliw, neg(-8), 1, 0x7fff_fffc),
        (srliw, neg(-8), 31, 1),
        (srliw, 0xffff_ffff_0000_0000, 4, 0),
        (sraiw, 0x8000_0000, 31, ALL),
        (sraiw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (sraiw, 0x1_7fff_ffff, 4, 0x07ff_ffff),
        (sraiw, neg(-8), 1, neg(-4)),
        (sraiw, 0xffff_ffff_7fff_ffff, 31, 0),
    ]);
}

// ---------------------------------------------------------------------------
// lui, auipc

#[test]
fn lui_sign_extends() {
    let mut fails = Vec::new();
    for (imm20, want) in [
        (0x80000, 0xffff_ffff_8000_0000),
        (0x7ffff, 0x7fff_f000),
        (0xfffff, 0xffff_ffff_ffff_f000),
        (0, 0),
        (1, 0x1000),
    ] {
        let m = run(&Program::of(&[lui(A0, imm20)]), [(A0, POISON)]);
        let got = m.vcpus[0].hart.x[A0 as usize];
        if got != want {
            fails.push(format!("lui a0,{imm20:#x}: got {got:#x}, want {want:#x}"));
        }
    }
    report(fails);
}

/// auipc at RAM_BASE + 2 (after a c.nop): pc plus the sign-extended immediate.
#[test]
fn auipc_adds_sign_extended_immediate_to_pc() {
    let pc = RAM_BASE + 2;
    let mut fails = Vec::new();
    for (imm20, want) in [
        (0, pc),
        (1, pc + 0x1000),
        (0x7ffff, pc + 0x7fff_f000),
        (0x80000, pc.wrapping_sub(0x8000_0000)),
        (0xfffff, pc - 0x1000),
    ] {
        let mut p = Program::new();
        p.c(c_nop()).i(auipc(A0, imm20));
        let m = run(&p, [(A0, POISON)]);
        let got = m.vcpus[0].hart.x[A0 as usize];
        if got != want {
            fails.push(format!("auipc a0,{imm20:#x} at {pc:#x}: got {got:#x}, want {want:#x}"));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// jal, jalr

#[test]
fn jal_links_and_jumps_forward_and_backward() {
    // Forward: skip one instruction.
    let mut p = Program::new();
    p.i_to("t", |o| jal(RA, o)).i(addi(A0, ZERO, 1)).label("t");
    let m = run(&p, [(A0, 0), (RA, POISON)]);
    assert_eq!(m.vcpus[0].hart.x[RA as usize], RAM_BASE + 4);
    assert_eq!(m.vcpus[0].hart.x[A0 as usize], 0, "jal fell through");

    // Backward, linking in t0.
    let mut p = Program::new();
    p.j("start").label("back").i(addi(A1, ZERO, 7)).j_exit();
    p.label("start");
    let at = p.here();
    p.i_to("back", |o| jal(T0, o)).i(addi(A0, ZERO, 1));
    let m = run(&p, [(A0, 0), (A1, 0), (T0, POISON)]);
    assert_eq!(m.vcpus[0].hart.x[T0 as usize], at + 4);
    assert_eq!((m.vcpus[0].hart.x[A0 as usize], m.vcpus[0].hart.x[A1 as usize]), (0, 7));

    // rd = x0 links nowhere.
    let mut p = Program::new();
    p.i_to("t", |o| jal(ZERO, o)).i(addi(A0, ZERO, 1)).label("t");
    let m = run(&p, [(A0, 0)]);
    assert_eq!((m.vcpus[0].hart.x[0], m.vcpus[0].hart.x[A0 as usize]), (0, 0));
}

/// `jalr rd, imm(a1)` with a1 = target + delta: lands on the target with
/// bit 0 of the sum cleared (`auipc a2, 0` there records the pc), links pc +
/// 4 (also when rd = rs1).
#[test]
fn jalr_target_link_and_bit0() {
    let mut fails = Vec::new();
    for (rd, delta, imm) in [
        (RA, 0, 0),
        (RA, 1, 0),  // odd register value
        (RA, 0, 1),  // odd immediate
        (RA, 8, -8), // negative offset
        (T1, -2047, 2047),
        (A1, 0, 0), // rd == rs1: the target uses the old value
        (A1, 3, -2),
    ] {
        let mut p = Program::new();
        p.la(A1, "target").i(addi(A1, A1, delta));
        let at = p.here();
        p.i(jalr(rd, imm, A1)).i(addi(A0, ZERO, 1)).label("target").i(auipc(A2, 0));
        let m = run(&p, [(A0, 0), (A2, POISON)]);
        let (link, a0, landed) = (
            m.vcpus[0].hart.x[rd as usize],
            m.vcpus[0].hart.x[A0 as usize],
            m.vcpus[0].hart.x[A2 as usize],
        );
        let target = p.addr("target");
        if link != at + 4 || a0 != 0 || landed != target {
            fails.push(format!(
                "jalr x{rd},{imm}(a1) with a1=target{delta:+}: link {link:#x} (want {:#x}), \
                 skipped instruction ran: {}, landed at {landed:#x} (want {target:#x})",
                at + 4,
                a0 != 0
            ));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Branches

type BrOp = fn(Reg, Reg, i32) -> u32;

/// Each case runs `op a1, a2` once jumping forward and once backward and
/// checks whether it was taken.
fn check_branches(cases: &[(BrOp, u64, u64, bool)]) {
    let mut fails = Vec::new();
    for &(op, a, b, taken) in cases {
        let name = dis(op(A1, A2, 8));
        let name = name.split_whitespace().next().unwrap();
        // Forward: taken skips `a0 = 1`.
        let mut p = Program::new();
        p.i_to("t", move |o| op(A1, A2, o)).i(addi(A0, ZERO, 1)).label("t");
        let m = run(&p, [(A0, 0), (A1, a), (A2, b)]);
        if (m.vcpus[0].hart.x[A0 as usize] == 0) != taken {
            fails.push(format!("{name} a1={a:#x} a2={b:#x} forward: taken should be {taken}"));
        }
        // Backward: taken goes to `a3 = 7` before the branch.
        let mut p = Program::new();
        p.j("start").label("back").i(addi(A3, ZERO, 7)).j_exit();
        p.label("start").i_to("back", move |o| op(A1, A2, o)).i(addi(A0, ZERO, 1));
        let m = run(&p, [(A0, 0), (A1, a), (A2, b), (A3, 0)]);
        let (a0, a3) = (m.vcpus[0].hart.x[A0 as usize], m.vcpus[0].hart.x[A3 as usize]);
        if (a0, a3) != if taken { (0, 7) } else { (1, 0) } {
            fails.push(format!("{name} a1={a:#x} a2={b:#x} backward: taken should be {taken}"));
        }
    }
    report(fails);
}

#[test]
fn branches_taken_and_not_taken() {
    check_branches(&[
        (beq, 5, 5, true),
        (beq, 5, 6, false),
        (beq, 0x1_0000_0000, 0, false),
        (beq, ALL, ALL, true),
        (bne, 5, 5, false),
        (bne, 5, 6, true),
        (bne, 0x1_0000_0000, 0, true),
        (blt, neg(-1), 0, true),
        (blt, 0, neg(-1), false),
        (blt, MIN, MAX, true),
        (blt, MAX, MIN, false),
        (blt, 5, 5, false),
        (blt, neg(-2), neg(-1), true),
        (bge, neg(-1), 0, false),
        (bge, 0, neg(-1), true),
        (bge, 5, 5, true),
        (bge, MIN, MIN, true),
        (bge, MAX, MIN, true),
        (bge, MIN, MAX, false),
        (bltu, neg(-1), 0, false),
        (bltu, 0, neg(-1), true),
        (bltu, MIN, MAX, false),
        (bltu, MAX, MIN, true),
        (bltu, 5, 5, false),
        (bgeu, neg(-1), 0, true),
        (bgeu, 0, neg(-1), false),
        (bgeu, 5, 5, true),
        (bgeu, MIN, MAX, true),
        (bgeu, 0, 0, true),
    ]);
}

/// A backward loop: count a0 down from 10 with bne.
#[test]
fn backward_branch_loop() {
    let mut p = Program::new();
    p.label("loop").i(addi(A0, A0, -1)).i(addi(A1, A1, 3)).i_to("loop", |o| bne(A0, ZERO, o));
    let m = run(&p, [(A0, 10), (A1, 0)]);
    assert_eq!((m.vcpus[0].hart.x[A0 as usize], m.vcpus[0].hart.x[A1 as usize]), (0, 30));
    assert_eq!(
        m.vcpus[0].hart.retired(),
        30 + 4,
        "3 instructions x 10 iterations + the exit stores"
    );
}

// ---------------------------------------------------------------------------
// Loads and stores

/// 16 bytes at DATA: sign bits set and clear in every width.
const LOAD_BYTES: [u8; 16] = [
    0x80, 0xff, 0x7f, 0x01, 0x00, 0x80, 0xff, 0xff, // DATA + 0
    0x78, 0x56, 0x34, 0x92, 0xf0, 0xde, 0xbc, 0x9a, // DATA + 8
];

type MemOp = fn(Reg, i32, Reg) -> u32;

/// Each case runs `op a0, imm(a1)` with a1 = base and checks a0.
fn check_loads(setup: &Setup, cases: &[(MemOp, u64, i32, u64)]) {
    let mut fails = Vec::new();
    for &(op, base, imm, want) in cases {
        let inst = op(A0, imm, A1);
        let m = run(&Program::of(&[inst]), setup.clone().regs(&[(A0, POISON), (A1, base)]));
        let got = m.vcpus[0].hart.x[A0 as usize];
        if got != want {
            fails.push(format!("{} with a1={base:#x}: got {got:#x}, want {want:#x}", dis(inst)));
        }
    }
    report(fails);
}

#[test]
fn loads_sign_and_zero_extend() {
    let b = DATA + 8;
    check_loads(
        &Setup::new().mem(DATA, &LOAD_BYTES),
        &[
            (lb, b, -8, neg(-128)),
            (lb, b, -6, 0x7f),
            (lb, b, -7, ALL),
            (lbu, b, -8, 0x80),
            (lbu, b, -7, 0xff),
            (lbu, b, 7, 0x9a),
            (lh, b, -8, 0xffff_ffff_ffff_ff80),
            (lh, b, -6, 0x017f),
            (lh, b, -2, ALL),
            (lh, b, 6, 0xffff_ffff_ffff_9abc),
            (lhu, b, -8, 0xff80),
            (lhu, b, -2, 0xffff),
            (lhu, b, 6, 0x9abc),
            (lw, b, -8, 0x017f_ff80),
            (lw, b, -4, 0xffff_ffff_ffff_8000),
            (lw, b, 0, 0xffff_ffff_9234_5678),
            (lw, b, 4, 0xffff_ffff_9abc_def0),
            (lwu, b, -4, 0xffff_8000),
            (lwu, b, 0, 0x9234_5678),
            (lwu, b, -8, 0x017f_ff80),
            (ld, b, -8, 0xffff_8000_017f_ff80),
            (ld, b, 0, 0x9abc_def0_9234_5678),
            (ld, DATA + 8 - 2040, 2040, 0x9abc_def0_9234_5678),
            (ld, DATA + 2048, -2048, 0xffff_8000_017f_ff80),
        ],
    );
}

/// A load into x0 happens (no trap) but x0 stays zero.
#[test]
fn load_into_x0_is_discarded() {
    let m = run(&Program::of(&[ld(ZERO, 0, A1)]), Setup::new().mem64(DATA, 5).reg(A1, DATA));
    assert_eq!(m.vcpus[0].hart.x[0], 0);
}

/// Each case stores a1 = 0x8877665544332211 with `op a1, imm(a2)` into 24
/// bytes of 0xaa and checks all 24 bytes.
#[test]
fn stores_write_only_their_bytes() {
    const V: u64 = 0x8877_6655_4433_2211;
    let mut fails = Vec::new();
    for (op, base, imm, want_at_8) in [
        (sb as MemOp, DATA, 8, &[0x11u8][..]),
        (sh, DATA, 8, &[0x11, 0x22]),
        (sw, DATA, 8, &[0x11, 0x22, 0x33, 0x44]),
        (sd, DATA, 8, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]),
        (sb, DATA + 16, -8, &[0x11]),
        (sh, DATA + 2056, -2048, &[0x11, 0x22]),
        (sw, DATA - 2039, 2047, &[0x11, 0x22, 0x33, 0x44]),
        (sd, DATA + 9, -1, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]),
    ] {
        let inst = op(A1, imm, A2);
        let m = run(
            &Program::of(&[inst]),
            Setup::new().mem(DATA, &[0xaa; 24]).regs(&[(A1, V), (A2, base)]),
        );
        let mut want = [0xaa; 24];
        want[8..8 + want_at_8.len()].copy_from_slice(want_at_8);
        let got: Vec<u8> = (0..24).map(|i| peek(&m, DATA + i, 1) as u8).collect();
        if got != want {
            fails.push(format!(
                "{} with a2={base:#x}: memory {got:02x?}, want {want:02x?}",
                dis(inst)
            ));
        }
    }
    report(fails);
}

// ---------------------------------------------------------------------------
// Misaligned loads and stores

/// The page boundary the misaligned cases straddle.
const PAGE_END: u64 = DATA + 0x1000;

/// 16 bytes around PAGE_END: 0x10, 0x91, 0x12, 0x93, ... (sign bit set on odd bytes).
fn boundary_bytes() -> Vec<u8> {
    (0..16u8).map(|i| (0x10 + i) | if i % 2 == 1 { 0x80 } else { 0 }).collect()
}

/// Little-endian value of `n` bytes of `boundary_bytes` starting at
/// PAGE_END - 8 + start.
fn boundary_value(start: usize, n: usize) -> u64 {
    boundary_bytes()[start..start + n].iter().rev().fold(0, |v, &b| v << 8 | b as u64)
}

#[test]
fn misaligned_loads_are_carried_out() {
    let b = PAGE_END - 8;
    let v = boundary_value;
    let sx = |x: u64, bits: u32| ((x << (64 - bits)) as i64 >> (64 - bits)) as u64;
    check_loads(
        &Setup::new().mem(b, &boundary_bytes()),
        &[
            (lh, b, 1, sx(v(1, 2), 16)),
            (lhu, b, 1, v(1, 2)),
            (lw, b, 1, sx(v(1, 4), 32)),
            (lw, b, 3, sx(v(3, 4), 32)),
            (lwu, b, 2, v(2, 4)),
            (ld, b, 1, v(1, 8)),
            (ld, b, 4, v(4, 8)),
            // Across the 4 KiB page boundary.
            (lh, b, 7, sx(v(7, 2), 16)),
            (lhu, b, 7, v(7, 2)),
            (lw, b, 5, sx(v(5, 4), 32)),
            (lw, b, 7, sx(v(7, 4), 32)),
            (lwu, b, 6, v(6, 4)),
            (ld, b, 3, v(3, 8)),
            (ld, b, 7, v(7, 8)),
        ],
    );
}

#[test]
fn misaligned_stores_are_carried_out() {
    const V: u64 = 0x8877_6655_4433_2211;
    let mut fails = Vec::new();
    for (op, addr, n) in [
        (sh as MemOp, PAGE_END - 7, 2),
        (sw, PAGE_END - 6, 4),
        (sd, PAGE_END - 5, 8),
        (sh, PAGE_END - 1, 2),
        (sw, PAGE_END - 3, 4),
        (sw, PAGE_END - 1, 4),
        (sd, PAGE_END - 7, 8),
        (sd, PAGE_END - 1, 8),
    ] {
        let inst = op(A1, 0, A2);
        let m = run(
            &Program::of(&[inst]),
            Setup::new().mem(PAGE_END - 16, &[0xaa; 32]).regs(&[(A1, V), (A2, addr)]),
        );
        let mut want = [0xaa; 32];
        let at = (addr - (PAGE_END - 16)) as usize;
        want[at..at + n].copy_from_slice(&V.to_le_bytes()[..n]);
        let got: Vec<u8> = (0..32).map(|i| peek(&m, PAGE_END - 16 + i, 1) as u8).collect();
        if got != want {
            fails.push(format!("{} at {addr:#x}: memory {got:02x?}, want {want:02x?}", dis(inst)));
        }
    }
    report(fails);
}

/// With strict_align, every misaligned load traps with cause 4 and every
/// misaligned store with cause 6; mtval is the address, mepc the access,
/// and a trapping store leaves memory alone.
#[test]
fn misaligned_accesses_trap_with_strict_align() {
    let mut fails = Vec::new();
    let cases: &[(MemOp, u64, u64)] = &[
        (lh, DATA + 1, 4),
        (lhu, DATA + 3, 4),
        (lw, DATA + 2, 4),
        (lw, PAGE_END - 2, 4),
        (lwu, DATA + 1, 4),
        (ld, DATA + 4, 4),
        (ld, PAGE_END - 1, 4),
        (sh, DATA + 1, 6),
        (sw, DATA + 2, 6),
        (sw, PAGE_END - 1, 6),
        (sd, DATA + 4, 6),
        (sd, DATA + 7, 6),
    ];
    for &(op, addr, cause) in cases {
        let inst = op(A0, 0, A1);
        let mut p = Program::new();
        p.c(c_nop()).i(inst);
        let setup = Setup::new()
            .strict_align()
            .expect_trap()
            .mem(DATA, &[0x5a; 16])
            .mem(PAGE_END - 8, &[0x5a; 16])
            .regs(&[(A0, POISON), (A1, addr)]);
        let m = run(&p, setup);
        let c = &m.vcpus[0].hart.csr;
        let got = (c.mcause, c.mepc, c.mtval);
        if got != (cause, RAM_BASE + 2, addr) {
            fails.push(format!(
                "{} at {addr:#x}: (mcause, mepc, mtval) = {got:#x?}, want ({cause}, {:#x}, {addr:#x})",
                dis(inst),
                RAM_BASE + 2
            ));
        }
        if cause == 4 && m.vcpus[0].hart.x[A0 as usize] != POISON {
            fails.push(format!("{} at {addr:#x}: trapping load wrote a0", dis(inst)));
        }
        if cause == 6
            && (peek(&m, addr & !7, 8) != 0x5a5a_5a5a_5a5a_5a5a
                || peek(&m, (addr & !7) + 8, 8) != 0x5a5a_5a5a_5a5a_5a5a)
        {
            fails.push(format!("{} at {addr:#x}: trapping store changed memory", dis(inst)));
        }
    }
    report(fails);
}

/// Aligned accesses (and byte accesses anywhere) still work with strict_align.
#[test]
fn aligned_accesses_work_with_strict_align() {
    let m = run(
        &Program::of(&[
            sd(A2, 8, A1),
            ld(A3, 8, A1),
            sb(A2, 3, A1),
            lbu(A4, 3, A1),
            sh(A2, 6, A1),
            lh(A5, 6, A1),
            sw(A2, 4, A1),
            lw(A6, 4, A1),
        ]),
        Setup::new().strict_align().regs(&[(A1, DATA), (A2, 0x8877_6655_4433_2211)]),
    );
    let x = |r: Reg| m.vcpus[0].hart.x[r as usize];
    assert_eq!(x(A3), 0x8877_6655_4433_2211);
    assert_eq!(x(A4), 0x11);
    assert_eq!(x(A5), 0x2211);
    assert_eq!(x(A6), 0x4433_2211);
}

// ---------------------------------------------------------------------------
// Fetch

/// A 32-bit instruction whose halves lie on two pages executes normally,
/// reached first by falling through, then by a jump.
#[test]
fn instruction_straddling_a_page_boundary() {
    let mut p = Program::new();
    p.i(addi(A1, ZERO, 1)).j("before");
    while p.here() < RAM_BASE + 0xffa {
        p.half(0); // illegal, never executed
    }
    p.label("before").i(addi(A0, A0, 1));
    p.label("straddle").i(addi(A0, A0, 5)); // at 0x8000_0ffe..0x8000_1002
    p.i_to("again", |o| bne(A1, ZERO, o)).j_exit();
    p.label("again").i(addi(A1, ZERO, 0)).j("straddle");
    let m = run(&p, [(A0, 0)]);
    assert_eq!(p.addr("straddle"), RAM_BASE + 0xffe);
    assert_eq!(m.vcpus[0].hart.x[A0 as usize], 11);
}

/// The second half of a 32-bit instruction lies beyond the end of RAM: an
/// instruction access fault with mepc = the instruction and mtval = the
/// address of the half that could not be fetched (priv spec 3.1.16).
#[test]
fn fetch_fault_on_second_half_of_instruction() {
    let end = RAM_BASE + tunevm::config::VmConfig::default().memory.ram_bytes;
    let low_half = (addi(A0, A0, 1) & 0xffff) as u16;
    let m = run(
        &Program::of(&[jalr(ZERO, 0, A1)]),
        Setup::new().expect_trap().mem(end - 2, &low_half.to_le_bytes()).reg(A1, end - 2),
    );
    let c = &m.vcpus[0].hart.csr;
    assert_eq!((c.mcause, c.mepc, c.mtval), (1, end - 2, end), "{}", describe(&m));
}
