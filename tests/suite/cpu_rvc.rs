//! Every RV64C instruction against the 32-bit instruction it expands to:
//! both run on the same registers and memory and must leave the same
//! architectural state, and the next pc is 2 bytes on for the compressed form
//! and 4 for the full one. Immediates are chosen at their extremes and with
//! mixed bits so that a wrongly placed immediate bit shows. Control transfers
//! are compared on programs where the target sits at the same label.
//!
//! On RV64 the encoding RV32 uses for c.jal is c.addiw; the c.addiw cases
//! check it is an add (the next instruction runs, ra is untouched).

use crate::common;

use common::asm::*;
use common::*;
use tunevm::runtime::Machine;

/// Register that records the next pc (`auipc gp, 0` after the instruction).
const MARK: Reg = GP;

/// Bytes of the data area compared after each run.
const DATA_LEN: u64 = 0x400;

/// Distinct register values, high bits and bit 31 set here and there, with
/// bases for the memory instructions (sp, s0, s1, a2, a4, a5 point into the
/// data area, 16-byte aligned).
fn initial_regs() -> Vec<(Reg, u64)> {
    let mut regs: Vec<(Reg, u64)> = (1..30)
        .filter(|&r| r != MARK)
        .map(|r| {
            (r as Reg, 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(r as u64 + 1) ^ ((r as u64) << 56))
        })
        .collect();
    regs.extend_from_slice(&[
        (SP, DATA + 0x200),
        (S0, DATA + 0x100),
        (S1, DATA + 0x180),
        (A2, DATA + 0x20),
        (A4, DATA + 0x60),
        (A5, DATA + 0x40),
    ]);
    regs
}

fn data_pattern() -> Vec<u8> {
    (0..DATA_LEN).map(|i| (i * 0x9d + 0x83) as u8).collect()
}

fn setup(extra: &[(Reg, u64)]) -> Setup {
    Setup::new().regs(&initial_regs()).regs(extra).mem(DATA, &data_pattern())
}

/// Architectural state worth comparing: x1..x31 and the data area.
fn state(m: &Machine) -> (Vec<u64>, Vec<u8>) {
    let regs = m.vcpus[0].hart.x.to_vec();
    let mem = (0..DATA_LEN).map(|i| peek(m, DATA + i, 1) as u8).collect();
    (regs, mem)
}

/// Differences between two states, as text.
fn diff(a: &(Vec<u64>, Vec<u8>), b: &(Vec<u64>, Vec<u8>), skip: &[Reg]) -> Vec<String> {
    let mut out = Vec::new();
    for r in 0..32 {
        if !skip.contains(&(r as Reg)) && a.0[r] != b.0[r] {
            out.push(format!("x{r}: {:#x} vs {:#x}", a.0[r], b.0[r]));
        }
    }
    if let Some(i) = (0..a.1.len()).find(|&i| a.1[i] != b.1[i]) {
        out.push(format!("memory differs from DATA+{i:#x}"));
    }
    out
}

/// (compressed, its expansion, extra register values)
type Pair = (u16, u32, &'static [(Reg, u64)]);

fn pairs() -> Vec<Pair> {
    const NEG_W: &[(Reg, u64)] =
        &[(A0, 0x7fff_ffff), (A1, 0xffff_ffff_8000_0001), (S0, 0x1_8000_0000)];
    vec![
        // Quadrant 0
        (c_addi4spn(S0, 1020), addi(S0, SP, 1020), &[]),
        (c_addi4spn(A5, 4), addi(A5, SP, 4), &[]),
        (c_addi4spn(A0, 0x2a8), addi(A0, SP, 0x2a8), &[]),
        (c_addi4spn(S1, 0x154), addi(S1, SP, 0x154), &[]),
        (c_lw(A0, 124, S1), lw(A0, 124, S1), &[]),
        (c_lw(S0, 0x44, A5), lw(S0, 0x44, A5), &[]),
        (c_lw(A2, 0, A2), lw(A2, 0, A2), &[]),
        (c_lw(A3, 0x38, A4), lw(A3, 0x38, A4), &[]),
        (c_ld(A0, 248, S1), ld(A0, 248, S1), &[]),
        (c_ld(S0, 0x48, A5), ld(S0, 0x48, A5), &[]),
        (c_ld(A4, 0, A4), ld(A4, 0, A4), &[]),
        (c_ld(A1, 0xb0, S0), ld(A1, 0xb0, S0), &[]),
        (c_sw(A0, 124, S1), sw(A0, 124, S1), &[]),
        (c_sw(A1, 0x38, A2), sw(A1, 0x38, A2), &[]),
        (c_sw(S0, 0, S0), sw(S0, 0, S0), &[]),
        (c_sw(A3, 0x44, A4), sw(A3, 0x44, A4), &[]),
        (c_sd(A0, 248, S1), sd(A0, 248, S1), &[]),
        (c_sd(A3, 0x90, A4), sd(A3, 0x90, A4), &[]),
        (c_sd(S0, 0, S0), sd(S0, 0, S0), &[]),
        (c_sd(A1, 0x68, A5), sd(A1, 0x68, A5), &[]),
        // Quadrant 1
        (c_nop(), addi(ZERO, ZERO, 0), &[]),
        (c_addi(A0, -32), addi(A0, A0, -32), &[]),
        (c_addi(RA, 31), addi(RA, RA, 31), &[]),
        (c_addi(S11, 1), addi(S11, S11, 1), &[]),
        (c_addi(A0, 0), addi(A0, A0, 0), &[]), // HINT
        (c_addiw(A0, 1), addiw(A0, A0, 1), NEG_W),
        (c_addiw(A1, -1), addiw(A1, A1, -1), NEG_W),
        (c_addiw(RA, 17), addiw(RA, RA, 17), &[]),
        (c_addiw(S2, 0), addiw(S2, S2, 0), &[]),
        (c_addiw(S0, -32), addiw(S0, S0, -32), NEG_W),
        (c_li(A0, -32), addi(A0, ZERO, -32), &[]),
        (c_li(S11, 31), addi(S11, ZERO, 31), &[]),
        (c_li(RA, 0), addi(RA, ZERO, 0), &[]),
        (c_li(A5, -11), addi(A5, ZERO, -11), &[]),
        (c_addi16sp(-512), addi(SP, SP, -512), &[]),
        (c_addi16sp(496), addi(SP, SP, 496), &[]),
        (c_addi16sp(0x150), addi(SP, SP, 0x150), &[]),
        (c_addi16sp(-16), addi(SP, SP, -16), &[]),
        (c_addi16sp(-0x1b0), addi(SP, SP, -0x1b0), &[]),
        (c_lui(A0, -32), lui(A0, 0xfffe0), &[]),
        (c_lui(S11, 31), lui(S11, 31), &[]),
        (c_lui(RA, 1), lui(RA, 1), &[]),
        (c_lui(A0, -1), lui(A0, 0xfffff), &[]),
        (c_lui(T4, 0x15), lui(T4, 0x15), &[]),
        (c_srli(S0, 63), srli(S0, S0, 63), &[(S0, u64::MAX)]),
        (c_srli(A5, 1), srli(A5, A5, 1), &[(A5, 0x8000_0000_0000_0001)]),
        (c_srli(A0, 32), srli(A0, A0, 32), &[]),
        (c_srli(A1, 31), srli(A1, A1, 31), &[]),
        (c_srai(A0, 33), srai(A0, A0, 33), &[(A0, 0x8000_0000_0000_0000)]),
        (c_srai(S1, 63), srai(S1, S1, 63), &[(S1, 0x8000_0000_0000_0000)]),
        (c_srai(A2, 1), srai(A2, A2, 1), &[(A2, 0xf000_0000_0000_0000)]),
        (c_srai(A3, 32), srai(A3, A3, 32), &[]),
        (c_andi(A0, -32), andi(A0, A0, -32), &[]),
        (c_andi(S1, 21), andi(S1, S1, 21), &[(S1, u64::MAX)]),
        (c_andi(A4, 0), andi(A4, A4, 0), &[]),
        (c_andi(A5, -1), andi(A5, A5, -1), &[]),
        (c_sub(S0, A5), sub(S0, S0, A5), &[]),
        (c_sub(A3, A3), sub(A3, A3, A3), &[]),
        (c_sub(A1, S1), sub(A1, A1, S1), &[(A1, 0), (S1, 1)]),
        (c_xor(A0, A1), xor(A0, A0, A1), &[]),
        (c_xor(S1, A4), xor(S1, S1, A4), &[]),
        (c_or(A2, A3), or(A2, A2, A3), &[]),
        (c_or(A5, S0), or(A5, A5, S0), &[]),
        (c_and(A4, S1), and(A4, A4, S1), &[]),
        (c_and(A0, A3), and(A0, A0, A3), &[]),
        (c_subw(A0, A5), subw(A0, A0, A5), &[]),
        (c_subw(A1, A0), subw(A1, A1, A0), NEG_W),
        (c_subw(S0, S1), subw(S0, S0, S1), &[(S1, 1)]),
        (c_addw(S1, S0), addw(S1, S1, S0), &[]),
        (c_addw(A0, A0), addw(A0, A0, A0), NEG_W),
        (c_addw(A3, A1), addw(A3, A3, A1), NEG_W),
        // Quadrant 2
        (c_slli(A0, 63), slli(A0, A0, 63), &[]),
        (c_slli(RA, 1), slli(RA, RA, 1), &[]),
        (c_slli(S11, 32), slli(S11, S11, 32), &[]),
        (c_slli(T4, 31), slli(T4, T4, 31), &[]),
        (c_slli(SP, 0x15), slli(SP, SP, 0x15), &[]),
        (c_lwsp(A0, 252), lw(A0, 252, SP), &[]),
        (c_lwsp(RA, 0x54), lw(RA, 0x54, SP), &[]),
        (c_lwsp(S11, 0), lw(S11, 0, SP), &[]),
        (c_lwsp(T4, 0xa8), lw(T4, 0xa8, SP), &[]),
        (c_ldsp(A0, 504), ld(A0, 504, SP), &[]),
        (c_ldsp(T4, 0x128), ld(T4, 0x128, SP), &[]),
        (c_ldsp(SP, 8), ld(SP, 8, SP), &[]),
        (c_ldsp(RA, 0xd0), ld(RA, 0xd0, SP), &[]),
        (c_mv(A0, T4), add(A0, ZERO, T4), &[]),
        (c_mv(RA, SP), add(RA, ZERO, SP), &[]),
        (c_mv(S11, A5), add(S11, ZERO, A5), &[]),
        (c_add(T4, A0), add(T4, T4, A0), &[]),
        (c_add(A0, A0), add(A0, A0, A0), &[]),
        (c_add(SP, RA), add(SP, SP, RA), &[]),
        (c_swsp(A0, 252), sw(A0, 252, SP), &[]),
        (c_swsp(T4, 0x54), sw(T4, 0x54, SP), &[]),
        (c_swsp(SP, 0), sw(SP, 0, SP), &[]),
        (c_swsp(RA, 0xa8), sw(RA, 0xa8, SP), &[]),
        (c_sdsp(A0, 504), sd(A0, 504, SP), &[]),
        (c_sdsp(RA, 0x128), sd(RA, 0x128, SP), &[]),
        (c_sdsp(SP, 16), sd(SP, 16, SP), &[]),
        (c_sdsp(S3, 0xd0), sd(S3, 0xd0, SP), &[]),
    ]
}

#[test]
fn compressed_instructions_match_their_expansion() {
    let mut fails = Vec::new();
    for (c, w, extra) in pairs() {
        let mut pc = Program::new();
        pc.c(c).i(auipc(MARK, 0));
        let mut pw = Program::new();
        pw.i(w).i(auipc(MARK, 0));
        let mc = run(&pc, setup(extra));
        let mw = run(&pw, setup(extra));
        let (sc, sw) = (state(&mc), state(&mw));
        let mut d = diff(&sc, &sw, &[MARK]);
        if (sc.0[MARK as usize], sw.0[MARK as usize]) != (RAM_BASE + 2, RAM_BASE + 4) {
            d.push(format!("next pc {:#x} / {:#x}", sc.0[MARK as usize], sw.0[MARK as usize]));
        }
        if !d.is_empty() {
            fails.push(format!("{c:#06x} vs {} ({w:#010x}): {}", dis(w), d.join(", ")));
        }
    }
    report(fails);
}

/// The RV64C mnemonic of an encoding, from the spec's opcode map (names only;
/// reserved encodings are not told apart).
fn rvc_name(c: u16) -> &'static str {
    let (rd, rs2) = ((c >> 7) & 31, (c >> 2) & 31);
    match (c & 3, c >> 13) {
        (0, 0) => "c.addi4spn",
        (0, 2) => "c.lw",
        (0, 3) => "c.ld",
        (0, 6) => "c.sw",
        (0, 7) => "c.sd",
        (1, 0) if rd == 0 => "c.nop",
        (1, 0) => "c.addi",
        (1, 1) => "c.addiw",
        (1, 2) => "c.li",
        (1, 3) if rd == 2 => "c.addi16sp",
        (1, 3) => "c.lui",
        (1, 4) => match ((c >> 10) & 3, (c >> 12) & 1, (c >> 5) & 3) {
            (0, ..) => "c.srli",
            (1, ..) => "c.srai",
            (2, ..) => "c.andi",
            (3, 0, 0) => "c.sub",
            (3, 0, 1) => "c.xor",
            (3, 0, 2) => "c.or",
            (3, 0, 3) => "c.and",
            (3, 1, 0) => "c.subw",
            (3, 1, 1) => "c.addw",
            _ => "reserved",
        },
        (1, 5) => "c.j",
        (1, 6) => "c.beqz",
        (1, 7) => "c.bnez",
        (2, 0) => "c.slli",
        (2, 2) => "c.lwsp",
        (2, 3) => "c.ldsp",
        (2, 4) => match ((c >> 12) & 1, rd, rs2) {
            (0, _, 0) => "c.jr",
            (0, ..) => "c.mv",
            (1, 0, 0) => "c.ebreak",
            (1, _, 0) => "c.jalr",
            _ => "c.add",
        },
        (2, 6) => "c.swsp",
        (2, 7) => "c.sdsp",
        _ => "reserved",
    }
}

/// The pair table and the control-transfer cases below exercise all 33
/// RV64C instructions.
#[test]
fn tables_cover_every_rvc_instruction() {
    let mut names: std::collections::BTreeSet<&str> =
        pairs().iter().map(|&(c, _, _)| rvc_name(c)).collect();
    assert_eq!(names.len(), 27, "non-jump instructions in the pair table: {names:?}");
    names.extend(cf_cases().iter().map(|case| case.name.split_whitespace().next().unwrap()));
    names.insert(rvc_name(c_ebreak()));
    assert!(!names.contains("reserved"));
    assert_eq!(names.len(), 33, "{names:?}");
}

// ---------------------------------------------------------------------------
// Control transfers

/// One control-transfer case: `emit(p, compressed)` appends the instruction
/// under test (and any setup it needs) jumping to label `t`.
struct Cf {
    name: &'static str,
    /// Target after (true) or before (false) the instruction.
    forward: bool,
    /// Unexecuted bytes between the instruction and the target, to stretch
    /// the offset. Forward: offset = 12 + pad (the c.nop filler, a0 = 1,
    /// j exit); backward: offset = -(8 + pad).
    pad: usize,
    regs: &'static [(Reg, u64)],
    taken: bool,
    /// Register written with the link (compared with at + 2 / at + 4).
    link: Option<Reg>,
    emit: fn(&mut Program, bool),
}

fn cf_program(case: &Cf, compressed: bool) -> (Program, u64) {
    let mut p = Program::new();
    let pad = |p: &mut Program| {
        for _ in 0..case.pad / 2 {
            p.half(0);
        }
    };
    let at;
    if case.forward {
        at = p.here();
        (case.emit)(&mut p, compressed);
        if compressed {
            // Keeps the target at the same address in both programs.
            p.c(c_nop());
        }
        p.i(addi(A0, ZERO, 1)).j_exit();
        pad(&mut p);
        p.label("t").i(addi(A1, ZERO, 1));
    } else {
        p.j("start").label("t").i(addi(A1, ZERO, 1)).j_exit();
        pad(&mut p);
        p.label("start");
        at = p.here();
        (case.emit)(&mut p, compressed);
        p.i(addi(A0, ZERO, 1));
    }
    (p, at)
}

fn cf_cases() -> Vec<Cf> {
    fn cj(p: &mut Program, c: bool) {
        if c {
            p.c_to("t", c_j)
        } else {
            p.i_to("t", |o| jal(ZERO, o))
        };
    }
    fn beqz(p: &mut Program, c: bool) {
        if c {
            p.c_to("t", |o| c_beqz(S0, o))
        } else {
            p.i_to("t", |o| beq(S0, ZERO, o))
        };
    }
    fn bnez(p: &mut Program, c: bool) {
        if c {
            p.c_to("t", |o| c_bnez(A5, o))
        } else {
            p.i_to("t", |o| bne(A5, ZERO, o))
        };
    }
    // The la before c.jr/c.jalr is 8 bytes in both programs.
    fn jr_t0(p: &mut Program, c: bool) {
        p.la(T0, "t");
        if c {
            p.c(c_jr(T0))
        } else {
            p.i(jalr(ZERO, 0, T0))
        };
    }
    fn jr_ra(p: &mut Program, c: bool) {
        p.la(RA, "t");
        if c {
            p.c(c_jr(RA))
        } else {
            p.i(jalr(ZERO, 0, RA))
        };
    }
    fn jalr_a5(p: &mut Program, c: bool) {
        p.la(A5, "t");
        if c {
            p.c(c_jalr(A5))
        } else {
            p.i(jalr(RA, 0, A5))
        };
    }
    fn jalr_ra(p: &mut Program, c: bool) {
        p.la(RA, "t");
        if c {
            p.c(c_jalr(RA))
        } else {
            p.i(jalr(RA, 0, RA))
        };
    }
    const ZERO_S0: &[(Reg, u64)] = &[(S0, 0), (A5, 0)];
    const HIGH_S0: &[(Reg, u64)] = &[(S0, 1 << 32), (A5, 1 << 63)];
    let case = |name, forward, pad, regs, taken, link, emit| Cf {
        name,
        forward,
        pad,
        regs,
        taken,
        link,
        emit,
    };
    vec![
        case("c.j +0x2aa", true, 0x2aa - 12, &[], true, None, cj as fn(&mut Program, bool)),
        case("c.j +2046", true, 2046 - 12, &[], true, None, cj),
        case("c.j -0x556", false, 0x556 - 8, &[], true, None, cj),
        case("c.j -2048", false, 2048 - 8, &[], true, None, cj),
        case("c.beqz taken +254", true, 254 - 12, ZERO_S0, true, None, beqz),
        case("c.beqz taken -256", false, 256 - 8, ZERO_S0, true, None, beqz),
        case("c.beqz not taken (upper bits)", true, 0xaa - 12, HIGH_S0, false, None, beqz),
        case("c.beqz not taken backward", false, 0x56 - 8, HIGH_S0, false, None, beqz),
        case("c.bnez taken +0xaa", true, 0xaa - 12, HIGH_S0, true, None, bnez),
        case("c.bnez taken -0x56", false, 0x56 - 8, HIGH_S0, true, None, bnez),
        case("c.bnez not taken", true, 0x80, ZERO_S0, false, None, bnez),
        case("c.bnez not taken backward", false, 0x100 - 8, ZERO_S0, false, None, bnez),
        case("c.jr t0 forward", true, 0x40, &[], true, None, jr_t0),
        case("c.jr ra backward", false, 0x40, &[], true, None, jr_ra),
        case("c.jalr a5 forward", true, 0x20, &[], true, Some(RA), jalr_a5),
        case("c.jalr ra backward", false, 0x20, &[], true, Some(RA), jalr_ra),
    ]
}

#[test]
fn compressed_control_transfers_match_their_expansion() {
    let mut fails = Vec::new();
    for case in cf_cases() {
        let (pc, at_c) = cf_program(&case, true);
        let (pw, at_w) = cf_program(&case, false);
        assert_eq!(at_c, at_w);
        let s = || setup(case.regs).reg(A0, 0).reg(A1, 0);
        let (mc, mw) = (run(&pc, s()), run(&pw, s()));
        let (sc, sw) = (state(&mc), state(&mw));
        let skip: Vec<Reg> = case.link.into_iter().collect();
        let mut d = diff(&sc, &sw, &skip);
        if let Some(r) = case.link {
            let got = (sc.0[r as usize], sw.0[r as usize]);
            // The la before the jump is 8 bytes.
            if got != (at_c + 10, at_w + 12) {
                d.push(format!("link {got:#x?}, want ({:#x}, {:#x})", at_c + 10, at_w + 12));
            }
        }
        let path = (sc.0[A0 as usize], sc.0[A1 as usize]);
        if path != if case.taken { (0, 1) } else { (1, 0) } {
            d.push(format!("taken should be {}", case.taken));
        }
        if !d.is_empty() {
            fails.push(format!("{}: {}", case.name, d.join(", ")));
        }
    }
    report(fails);
}

/// c.ebreak and ebreak trap alike: cause 3, mepc = mtval = the pc.
#[test]
fn c_ebreak_matches_ebreak() {
    let mut pc = Program::new();
    pc.c(c_nop()).c(c_ebreak());
    let mut pw = Program::new();
    pw.c(c_nop()).i(ebreak());
    let (mc, mw) = (run(&pc, setup(&[]).expect_trap()), run(&pw, setup(&[]).expect_trap()));
    let csrs = |m: &Machine| {
        (m.vcpus[0].hart.csr.mcause, m.vcpus[0].hart.csr.mepc, m.vcpus[0].hart.csr.mtval)
    };
    assert_eq!(csrs(&mc), (3, RAM_BASE + 2, RAM_BASE + 2));
    assert_eq!(csrs(&mc), csrs(&mw));
    assert!(diff(&state(&mc), &state(&mw), &[]).is_empty());
}

/// 0x2801 is `c.jal .+16` on RV32 (GNU as, -march=rv32imac) but `c.addiw
/// a6, 0` (sext.w a6) on RV64: no jump, no link.
#[test]
fn rv32_c_jal_encoding_is_c_addiw_on_rv64() {
    assert_eq!(c_addiw(A6, 0), 0x2801);
    let mut p = Program::new();
    p.c(0x2801).i(addi(A0, A0, 1));
    let m = run(&p, [(A0, 0), (A6, 0x1_8000_0000), (RA, 0x1234)]);
    assert_eq!(m.vcpus[0].hart.x[A6 as usize], 0xffff_ffff_8000_0000);
    assert_eq!((m.vcpus[0].hart.x[A0 as usize], m.vcpus[0].hart.x[RA as usize]), (1, 0x1234));
}
