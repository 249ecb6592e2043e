//! Decoder and disassembler against GNU binutils.
//!
//! tests/suite/data/isa_vectors.txt is generated once by tests/suite/data/gen_isa_vectors.sh
//! from tests/suite/data/isa_vectors.S (binutils 2.40); each line holds an address,
//! an encoding, a group name and objdump's text without and with aliases.
//! The hand-written tables below cover what the assembler cannot produce:
//! reserved encodings and fields the decoder must ignore.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use tunevm::isa::{decode, disassemble, AmoOp, GcOp, Inst};

// ---------------------------------------------------------------------------
// The vector file

struct Vector {
    addr: u64,
    raw: u32,
    /// 2 or 4, from the width of objdump's hex column.
    len: u8,
    group: String,
    no_aliases: String,
    text: String,
}

fn vectors() -> Vec<Vector> {
    let data = include_str!("data/isa_vectors.txt");
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "isa_vectors.txt:{}: bad line {line:?}", i + 1);
        out.push(Vector {
            addr: u64::from_str_radix(f[0], 16).unwrap(),
            raw: u32::from_str_radix(f[1], 16).unwrap(),
            len: (f[1].len() / 2) as u8,
            group: f[2].to_string(),
            no_aliases: f[3].to_string(),
            text: normalize(f[4]),
        });
    }
    assert!(out.len() > 5000, "vector file looks truncated");
    out
}

/// Collapse runs of whitespace to one space.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_illegal(inst: &Inst) -> bool {
    matches!(inst, Inst::Illegal { .. })
}

/// Vectors objdump itself does not decode (`.2byte`/`.4byte`/`unimp`): the
/// x_illegal group of the .S file. Custom-0 encodings that are tunevm's
/// GC extension (`gc.*`) are vendor instructions objdump cannot know.
fn objdump_rejects(v: &Vector) -> bool {
    v.group == "x_illegal" && !matches!(decode(v.raw).0, Inst::Gc { .. })
}

// ---------------------------------------------------------------------------
// (a) lengths and legality

#[test]
fn vectors_decode_with_right_length_and_legality() {
    let mut failures = Vec::new();
    for v in vectors() {
        let (inst, len) = decode(v.raw);
        if len != v.len {
            failures.push(format!("{:08x} {}: length {len}, want {}", v.raw, v.no_aliases, v.len));
        }
        if is_illegal(&inst) != objdump_rejects(&v) {
            failures.push(format!("{:08x} {}: decoded {inst:?}", v.raw, v.no_aliases));
        }
        if let Inst::Illegal { raw } = inst {
            assert_eq!(raw, v.raw, "Illegal raw for {:08x}", v.raw);
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------
// (b) compressed == expansion

#[test]
fn compressed_pairs_decode_to_their_expansion() {
    let vs = vectors();
    let pairs: Vec<&Vector> = vs.iter().filter(|v| v.group.starts_with("p_")).collect();
    assert_eq!(pairs.len() % 2, 0, "p_* groups must hold (compressed, expansion) pairs");
    assert!(pairs.len() >= 2 * 100, "too few pairs: {}", pairs.len() / 2);
    let mut failures = Vec::new();
    for pair in pairs.chunks(2) {
        let (c, e) = (pair[0], pair[1]);
        assert_eq!((c.len, e.len), (2, 4), "pair at {:x} is not 16+32 bit", c.addr);
        let (ci, _) = decode(c.raw);
        let (ei, _) = decode(e.raw);
        if ci != ei || is_illegal(&ci) {
            failures.push(format!(
                "{:04x} {} -> {ci:?}\n  {:08x} {} -> {ei:?}",
                c.raw, c.no_aliases, e.raw, e.no_aliases
            ));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------
// (c) disassembly == objdump

/// Deliberate differences from objdump's default text, by encoding. Keep this
/// list short: each entry needs a reason the disassembler cannot (or should
/// not) follow objdump. `Inst` does not record whether an instruction was
/// compressed, so where objdump prints a 16-bit encoding and its 32-bit
/// expansion differently, the text can only match one of them.
const ALLOWED_DIFFERENCES: &[(u32, &str, &str)] = &[
    // FENCE.TSO (fm=1000) decodes to Fence { rw, rw }: the fm field is not
    // kept, and a full rw,rw fence is a correct (stronger) implementation.
    (0x8330_000f, "fence rw,rw", "fence.tso"),
    // `add rd,zero,rs2` is C.MV's expansion; it is shown as `mv` like C.MV,
    // since that is how it nearly always appears (as a 16-bit c.mv).
    (0x00a0_0fb3, "mv t6,a0", "add t6,zero,a0"),
    (0x00b0_0533, "mv a0,a1", "add a0,zero,a1"),
    (0x0010_0fb3, "mv t6,ra", "add t6,zero,ra"),
    (0x0080_0133, "mv sp,s0", "add sp,zero,s0"),
    // Compressed HINTs: objdump has no 32-bit alias for them and prints the
    // RVC mnemonic; tunevm prints the expansion, as for every other RVC
    // instruction (the same text objdump gives the 32-bit expansion).
    (0x0005, "li zero,1", "c.nop 1"),
    (0x107d, "li zero,-1", "c.nop -1"),
    (0x0501, "mv a0,a0", "add a0,a0,0"),
    (0x4001, "nop", "c.li zero,0"),
    (0x4015, "li zero,5", "c.li zero,5"),
    (0x6005, "lui zero,0x1", "c.lui zero,0x1"),
    (0x8001, "srl s0,s0,0x0", "c.srli64 s0"),
    (0x8401, "sra s0,s0,0x0", "c.srai64 s0"),
    (0x0002, "sll zero,zero,0x0", "c.slli64 zero"),
    (0x0006, "sll zero,zero,0x1", "c.slli zero,0x1"),
    (0x0502, "sll a0,a0,0x0", "c.slli64 a0"),
    (0x802a, "add zero,zero,a0", "c.mv zero,a0"),
    (0x902a, "add zero,zero,a0", "c.add zero,a0"),
    // custom-0 with every field 0 is tunevm's gc.alloc (src/gc).
    (0x0000_000b, "gc.alloc zero,zero,zero", ".4byte 0xb"),
];

#[test]
fn disassembly_matches_objdump() {
    let mut failures = Vec::new();
    let mut used = vec![false; ALLOWED_DIFFERENCES.len()];
    let mut checked = 0;
    for v in vectors() {
        let (inst, _) = decode(v.raw);
        let got = disassemble(&inst, v.addr);
        checked += 1;
        if got == v.text {
            continue;
        }
        let allowed = ALLOWED_DIFFERENCES
            .iter()
            .position(|&(raw, ours, theirs)| raw == v.raw && ours == got && theirs == v.text);
        match allowed {
            Some(i) => used[i] = true,
            None => failures.push(format!(
                "{:08x} at {:x}: got {got:?}, objdump {:?} ({})",
                v.raw, v.addr, v.text, v.no_aliases
            )),
        }
    }
    for (i, (raw, ..)) in ALLOWED_DIFFERENCES.iter().enumerate() {
        if !used[i] {
            failures.push(format!("allow-list entry {raw:08x} is stale (no such difference)"));
        }
    }
    assert!(checked > 5000);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------
// (d) reserved and illegal encodings

/// Encodings that must decode to `Illegal { raw }` (raw truncated to 16 bits
/// for compressed encodings).
const ILLEGAL: &[(u32, &str)] = &[
    // ---- RVC ----
    (0x0000, "all-zero halfword (defined illegal)"),
    (0x0010, "C.ADDI4SPN with nzuimm = 0, rd' = s0"),
    (0x001c, "C.ADDI4SPN with nzuimm = 0, rd' = a5"),
    (0x2000, "C.FLD (no FPU)"),
    (0x3ffc, "C.FLD (no FPU), all operand bits set"),
    (0x8000, "quadrant 0, funct3 = 100 (reserved)"),
    (0x9ffc, "quadrant 0, funct3 = 100 (reserved), operand bits set"),
    (0xa000, "C.FSD (no FPU)"),
    (0x2001, "C.ADDIW with rd = 0"),
    (0x307d, "C.ADDIW with rd = 0, imm = -1"),
    (0x6101, "C.ADDI16SP with nzimm = 0"),
    (0x6001, "C.LUI rd = 0 with nzimm = 0"),
    (0x6501, "C.LUI rd = a0 with nzimm = 0"),
    (0x6f81, "C.LUI rd = t6 with nzimm = 0"),
    (0x9c41, "C.SUBW/C.ADDW space: c[12]=1, c[6:5]=10 (reserved)"),
    (0x9c61, "C.SUBW/C.ADDW space: c[12]=1, c[6:5]=11 (reserved)"),
    (0x9ffd, "C.SUBW/C.ADDW space: c[12]=1, c[6:5]=11, all regs set"),
    (0x2002, "C.FLDSP (no FPU)"),
    (0x4002, "C.LWSP with rd = 0"),
    (0x507e, "C.LWSP with rd = 0, offset bits set"),
    (0x6002, "C.LDSP with rd = 0"),
    (0x8002, "C.JR with rs1 = 0"),
    (0xa002, "C.FSDSP (no FPU)"),
    (0xffff_0000, "upper half ignored: all-zero halfword"),
    (0x1234_4002, "upper half ignored: C.LWSP with rd = 0"),
    // ---- opcodes outside RV64IMAC ----
    (0x0000_0007, "LOAD-FP (flw)"),
    (0x0000_0027, "STORE-FP (fsw)"),
    (0x0000_0043, "MADD"),
    (0x0000_0047, "MSUB"),
    (0x0000_004b, "NMSUB"),
    (0x0000_004f, "NMADD"),
    (0x0020_8053, "OP-FP (fadd.s)"),
    (0x0000_0057, "OP-V"),
    (0x0000_400b, "custom-0, funct3 4 (no gc.* operation)"),
    (0x0200_000b, "custom-0, funct7 1 with funct3 0"),
    (0x0050_100b, "custom-0 gc.collect with rs2 set"),
    (0x0050_300b, "custom-0 gc.stats with rs2 set"),
    (0x0000_002b, "custom-1"),
    (0x0000_005b, "custom-2 / rv128"),
    (0x0000_007b, "custom-3 / rv128"),
    (0x0000_006b, "reserved opcode 0x6b"),
    (0x0000_0077, "OP-P/reserved opcode 0x77"),
    (0x0000_001f, "48-bit encoding prefix"),
    (0x0000_003f, "64-bit encoding prefix"),
    (0x0000_007f, ">= 80-bit encoding prefix"),
    (0xffff_ffff, "all ones"),
    // ---- wrong funct3/funct7 ----
    (0x0000_1067, "JALR funct3 = 1"),
    (0x0000_2067, "JALR funct3 = 2"),
    (0x0000_2063, "BRANCH funct3 = 2"),
    (0x0000_3063, "BRANCH funct3 = 3"),
    (0x0000_7003, "LOAD funct3 = 7"),
    (0x0000_4023, "STORE funct3 = 4 (sq)"),
    (0x0000_7023, "STORE funct3 = 7"),
    (0x4000_1013, "SLLI with funct6 = 010000"),
    (0x0400_1013, "SLLI with funct6 = 000001"),
    (0x0400_5013, "SRLI with funct6 = 000001"),
    (0x4400_5013, "SRAI with funct6 = 010001"),
    (0x8000_5013, "SRLI with funct6 = 100000"),
    (0x0200_101b, "SLLIW with imm[5] = 1"),
    (0x0200_501b, "SRLIW with imm[5] = 1"),
    (0x4200_501b, "SRAIW with imm[5] = 1"),
    (0x4000_101b, "SLLIW with funct7 = 0100000"),
    (0x0000_201b, "OP-IMM-32 funct3 = 2"),
    (0x0000_301b, "OP-IMM-32 funct3 = 3"),
    (0x0000_601b, "OP-IMM-32 funct3 = 6"),
    (0x4000_1033, "OP funct7 = 0100000, funct3 = 1"),
    (0x4000_4033, "OP funct7 = 0100000, funct3 = 4"),
    (0x0400_0033, "OP funct7 = 0000010"),
    (0x8000_0033, "OP funct7 = 1000000"),
    (0x0200_103b, "OP-32 funct7 = 1, funct3 = 1"),
    (0x0200_203b, "OP-32 funct7 = 1, funct3 = 2"),
    (0x0200_303b, "OP-32 funct7 = 1, funct3 = 3"),
    (0x4000_103b, "OP-32 funct7 = 0100000, funct3 = 1"),
    (0x0000_203b, "OP-32 funct3 = 2"),
    (0x0000_703b, "OP-32 funct3 = 7"),
    (0x0000_200f, "MISC-MEM funct3 = 2 (cbo.*)"),
    (0x0000_700f, "MISC-MEM funct3 = 7"),
    // ---- A ----
    (0x1010_25af, "LR.W with rs2 != 0"),
    (0x11f0_35af, "LR.D with rs2 = 31"),
    (0x0000_002f, "AMO funct3 = 0 (amo*.b)"),
    (0x0000_102f, "AMO funct3 = 1 (amo*.h)"),
    (0x0000_402f, "AMO funct3 = 4 (amo*.q)"),
    (0x2800_202f, "AMO funct5 = 00101 (amocas.w)"),
    (0x2800_302f, "AMO funct5 = 00101 (amocas.d)"),
    (0x3000_202f, "AMO funct5 = 00110"),
    (0xf800_202f, "AMO funct5 = 11111"),
    // ---- SYSTEM ----
    (0x0000_00f3, "ECALL with rd != 0"),
    (0x0000_8073, "ECALL with rs1 != 0"),
    (0x0010_8073, "EBREAK with rs1 != 0"),
    (0x0010_00f3, "EBREAK with rd != 0"),
    (0x3020_00f3, "MRET with rd != 0"),
    (0x3020_8073, "MRET with rs1 != 0"),
    (0x1020_8073, "SRET with rs1 != 0"),
    (0x1020_00f3, "SRET with rd != 0"),
    (0x1050_8073, "WFI with rs1 != 0"),
    (0x1050_00f3, "WFI with rd != 0"),
    (0x0020_0073, "URET (N extension, removed)"),
    (0x7b20_0073, "DRET (debug mode only)"),
    (0x7020_0073, "MNRET (Smrnmi)"),
    (0x1030_0073, "funct12 = 0x103"),
    (0x1200_00f3, "SFENCE.VMA with rd != 0"),
    (0x2200_0073, "HFENCE.VVMA (no H extension)"),
    (0x6200_0073, "HFENCE.GVMA (no H extension)"),
    (0x1600_0073, "SINVAL.VMA (no Svinval)"),
    (0x0000_4073, "SYSTEM funct3 = 4 (hlv/hsv)"),
    (0x6000_4073, "HLV.B"),
];

#[test]
fn reserved_encodings_are_illegal() {
    let mut failures = Vec::new();
    for &(raw, why) in ILLEGAL {
        let want_raw = if raw & 3 == 3 { raw } else { raw & 0xffff };
        let want_len = if raw & 3 == 3 { 4 } else { 2 };
        let got = decode(raw);
        if got != (Inst::Illegal { raw: want_raw }, want_len) {
            failures.push(format!("{raw:08x} ({why}): decoded {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Encodings with fields the spec tells implementations to ignore, and HINTs:
/// legal, and decoded to exactly this.
#[test]
fn ignored_fields_and_hints_decode() {
    use Inst::*;
    let cases: &[(u32, Inst, &str)] = &[
        // FENCE: rd, rs1 and fm are ignored (reserved fm = a normal fence).
        (0x0ff5_050f, Fence { pred: 15, succ: 15 }, "FENCE with rd, rs1 != 0"),
        (0x8110_000f, Fence { pred: 1, succ: 1 }, "FENCE fm=1000 with pred/succ != rw"),
        (0xf330_000f, Fence { pred: 3, succ: 3 }, "FENCE reserved fm=1111"),
        (0x0100_000f, Fence { pred: 1, succ: 0 }, "PAUSE (fence w,0)"),
        (0x8330_000f, Fence { pred: 3, succ: 3 }, "FENCE.TSO"),
        // FENCE.I: imm, rs1, rd are ignored.
        (0x0000_100f, FenceI, "FENCE.I"),
        (0x0010_100f, FenceI, "FENCE.I with imm != 0"),
        (0xffff_9f8f, FenceI, "FENCE.I with every field set"),
        // HINTs decode to the instruction they are encoded as.
        (0x0000_0013, Addi { rd: 0, rs1: 0, imm: 0 }, "NOP"),
        (0x0050_0013, Addi { rd: 0, rs1: 0, imm: 5 }, "ADDI x0 hint"),
        (0x0000_1037, Lui { rd: 0, imm: 0x1000 }, "LUI x0 hint"),
        (0x0000_1033, Sll { rd: 0, rs1: 0, rs2: 0 }, "SLL x0 hint"),
        (0x0001, Addi { rd: 0, rs1: 0, imm: 0 }, "C.NOP"),
        (0x107d, Addi { rd: 0, rs1: 0, imm: -1 }, "C.NOP with imm (hint)"),
        (0x0501, Addi { rd: 10, rs1: 10, imm: 0 }, "C.ADDI imm=0 (hint)"),
        (0x4015, Addi { rd: 0, rs1: 0, imm: 5 }, "C.LI rd=0 (hint)"),
        (0x6005, Lui { rd: 0, imm: 0x1000 }, "C.LUI rd=0 (hint)"),
        (0x7005, Lui { rd: 0, imm: -0x1f000 }, "C.LUI rd=0 negative (hint)"),
        (0x8001, Srli { rd: 8, rs1: 8, imm: 0 }, "C.SRLI shamt=0 (hint)"),
        (0x8401, Srai { rd: 8, rs1: 8, imm: 0 }, "C.SRAI shamt=0 (hint)"),
        (0x0002, Slli { rd: 0, rs1: 0, imm: 0 }, "C.SLLI rd=0 shamt=0 (hint)"),
        (0x0502, Slli { rd: 10, rs1: 10, imm: 0 }, "C.SLLI shamt=0 (hint)"),
        (0x802a, Add { rd: 0, rs1: 0, rs2: 10 }, "C.MV rd=0 (hint)"),
        (0x902a, Add { rd: 0, rs1: 0, rs2: 10 }, "C.ADD rd=0 (hint)"),
        (0xc002, Sw { rs1: 2, rs2: 0, imm: 0 }, "C.SWSP rs2=0 (legal)"),
        // Privileged instructions with their register fields.
        (0x13ff_8073, SfenceVma { rs1: 31, rs2: 31 }, "SFENCE.VMA t6,t6"),
        // Boundary immediates.
        (0x8000_0fef, Jal { rd: 31, imm: -0x10_0000 }, "JAL min offset"),
        (0x7fff_f06f, Jal { rd: 0, imm: 0xf_fffe }, "JAL max offset"),
        (0x8000_0063, Beq { rs1: 0, rs2: 0, imm: -4096 }, "BEQ min offset"),
        (0x7e00_0fe3, Beq { rs1: 0, rs2: 0, imm: 4094 }, "BEQ max offset"),
        (0x8000_0023, Sb { rs1: 0, rs2: 0, imm: -2048 }, "SB min offset"),
        (0x7e00_0fa3, Sb { rs1: 0, rs2: 0, imm: 2047 }, "SB max offset"),
        (0xb001, Jal { rd: 0, imm: -2048 }, "C.J min offset"),
        (0x2ffd, Addiw { rd: 31, rs1: 31, imm: 31 }, "C.ADDIW max imm"),
        (0x1ffc_5ffe, Lw { rd: 31, rs1: 2, imm: 252 }, "C.LWSP max (upper half ignored)"),
        (
            0x4100_202f,
            Amo { op: AmoOp::Or, rd: 0, rs1: 0, rs2: 16, double: false, aqrl: 0 },
            "AMOOR.W",
        ),
    ];
    let mut failures = Vec::new();
    for &(raw, want, why) in cases {
        let (got, _) = decode(raw);
        if got != want {
            failures.push(format!("{raw:08x} ({why}): decoded {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------
// (e) exhaustive 16-bit space, random 32-bit space

/// Every halfword: decode never panics, compressed results have length 2,
/// ignore the upper half, stay in range, and re-encode as a 32-bit
/// instruction that decodes to the same `Inst`.
#[test]
fn every_16bit_encoding() {
    let mut legal = 0;
    for c in 0..=0xffffu32 {
        if c & 3 == 3 {
            continue;
        }
        let (inst, len) = decode(c);
        assert_eq!(len, 2, "{c:04x}");
        assert_eq!(decode(c | 0xdead_0000), (inst, 2), "{c:04x}: upper half must be ignored");
        let text = disassemble(&inst, 0x8000_0000);
        match inst {
            Inst::Illegal { raw } => {
                assert_eq!(raw, c, "{c:04x}");
                assert!(text.starts_with(".2byte") || text == "unimp", "{c:04x}: {text}");
            }
            _ => {
                legal += 1;
                check_invariants(&inst, c);
                assert!(!text.starts_with('.'), "{c:04x}: {text}");
                assert!(compressible(&inst), "{c:04x}: {inst:?} has no RVC form");
            }
        }
    }
    // Each (quadrant, funct3) holds 2048 halfwords. Counted from the RVC
    // listing:
    //   Q0: ADDI4SPN 2048 - 8 (nzuimm = 0), LW/LD/SW/SD 4 * 2048,
    //       FLD/FSD/reserved 0                                       = 10232
    //   Q1: ADDI 2048, ADDIW 2048 - 64 (rd = 0), LI 2048,
    //       ADDI16SP/LUI 2048 - 32 (imm = 0), MISC-ALU 2048 - 128
    //       (reserved SUBW/ADDW space), J/BEQZ/BNEZ 3 * 2048           = 16160
    //   Q2: SLLI 2048, LWSP/LDSP 2 * (2048 - 64) (rd = 0),
    //       JR/MV/EBREAK/JALR/ADD 2048 - 1 (JR x0), SWSP/SDSP 2 * 2048,
    //       FLDSP/FSDSP 0                                            = 12159
    assert_eq!(legal, 10232 + 16160 + 12159, "legal halfwords");
}

/// Field ranges every decoded instruction must respect.
fn check_invariants(inst: &Inst, raw: u32) {
    // encode32 masks every field to its width, so a decode that produced an
    // out-of-range register, shift amount or immediate would not survive
    // the round trip.
    let w = encode32(inst).unwrap_or_else(|| panic!("{raw:08x}: {inst:?} not encodable"));
    assert_eq!(decode(w), (*inst, 4), "{raw:08x}: {inst:?} does not round-trip via {w:08x}");
}

/// Whether an RVC encoding could have produced `inst` (the shapes of the
/// 32-bit instructions RVC expands to).
fn compressible(inst: &Inst) -> bool {
    use Inst::*;
    let small = |r: u8| (8..16).contains(&r);
    match *inst {
        Addi { rd, rs1, imm } => {
            (rd == rs1 && (-32..32).contains(&imm))
                || (rs1 == 0 && (-32..32).contains(&imm))
                || (rd == 2 && rs1 == 2 && imm % 16 == 0 && imm != 0 && (-512..512).contains(&imm))
                || (small(rd) && rs1 == 2 && imm % 4 == 0 && (4..1024).contains(&imm))
        }
        Addiw { rd, rs1, imm } => rd == rs1 && rd != 0 && (-32..32).contains(&imm),
        Lui { rd, imm } => {
            rd != 2 && imm != 0 && imm % 4096 == 0 && (-32 * 4096..32 * 4096).contains(&imm)
        }
        Lw { rs1: 2, rd, imm } => rd != 0 && imm % 4 == 0 && (0..256).contains(&imm),
        Ld { rs1: 2, rd, imm } => rd != 0 && imm % 8 == 0 && (0..512).contains(&imm),
        Lw { rd, rs1, imm } | Sw { rs1, rs2: rd, imm } => {
            (small(rd) && small(rs1) && imm % 4 == 0 && (0..128).contains(&imm))
                || (rs1 == 2 && imm % 4 == 0 && (0..256).contains(&imm))
        }
        Ld { rd, rs1, imm } | Sd { rs1, rs2: rd, imm } => {
            (small(rd) && small(rs1) && imm % 8 == 0 && (0..256).contains(&imm))
                || (rs1 == 2 && imm % 8 == 0 && (0..512).contains(&imm))
        }
        Slli { rd, rs1, imm } => rd == rs1 && (0..64).contains(&imm),
        Srli { rd, rs1, imm } | Srai { rd, rs1, imm } => {
            small(rd) && rd == rs1 && (0..64).contains(&imm)
        }
        Andi { rd, rs1, imm } => small(rd) && rd == rs1 && (-32..32).contains(&imm),
        Sub { rd, rs1, rs2 }
        | Xor { rd, rs1, rs2 }
        | Or { rd, rs1, rs2 }
        | And { rd, rs1, rs2 }
        | Subw { rd, rs1, rs2 }
        | Addw { rd, rs1, rs2 } => small(rd) && rd == rs1 && small(rs2),
        Add { rd, rs1, rs2 } => rs2 != 0 && (rs1 == 0 || rs1 == rd),
        Jal { rd: 0, imm } => imm % 2 == 0 && (-2048..2048).contains(&imm),
        Beq { rs1, rs2: 0, imm } | Bne { rs1, rs2: 0, imm } => {
            small(rs1) && imm % 2 == 0 && (-256..256).contains(&imm)
        }
        Jalr { rd, rs1, imm: 0 } => rs1 != 0 && (rd == 0 || rd == 1),
        Ebreak => true,
        _ => false,
    }
}

/// Decode never panics on any 32-bit word; results are well-formed, and
/// every legal result re-encodes to a word that decodes to the same `Inst`.
fn check_word(w: u32) {
    let (inst, len) = decode(w);
    let _ = disassemble(&inst, 0x8000_0000);
    if w & 3 != 3 {
        assert_eq!(len, 2);
        return;
    }
    assert_eq!(len, 4, "{w:08x}");
    match inst {
        Inst::Illegal { raw } => assert_eq!(raw, w),
        _ => check_invariants(&inst, w),
    }
}

proptest! {
    #![proptest_config(crate::proptest_config(200_000))]
    #[test]
    fn random_32bit_words(w in any::<u32>()) {
        check_word(w | 3);
        check_word(w);
    }
}

/// (rd, rs1, rs2) fields for the sweep: zeros, ones, and mixes, so that
/// checks on "must be zero" fields are exercised both ways.
const REG_PATTERNS: [(u32, u32, u32); 6] =
    [(0, 0, 0), (31, 31, 31), (1, 2, 3), (31, 0, 31), (0, 31, 0), (0, 0, 1)];

/// A structured sweep: every opcode x funct3 x funct7, with several operand
/// patterns in the remaining fields.
#[test]
fn every_opcode_funct3_funct7() {
    let mut legal = 0u32;
    for op in 0..128u32 {
        for f3 in 0..8u32 {
            for f7 in 0..128u32 {
                for (rd, rs1, rs2) in REG_PATTERNS {
                    let w = (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
                    check_word(w);
                    if w & 3 == 3 && !is_illegal(&decode(w).0) {
                        legal += 1;
                    }
                }
            }
        }
    }
    assert!(legal > 10_000, "{legal}");
}

// ---------------------------------------------------------------------------
// A small encoder (32-bit forms), used only to cross-check the decoder.

fn encode32(inst: &Inst) -> Option<u32> {
    use Inst::*;
    let r = |x: u8| (x as u32) & 31;
    let i_type = |op: u32, f3: u32, rd: u8, rs1: u8, imm: i32| {
        ((imm as u32 & 0xfff) << 20) | (r(rs1) << 15) | (f3 << 12) | (r(rd) << 7) | op
    };
    let r_type = |op: u32, f3: u32, f7: u32, rd: u8, rs1: u8, rs2: u8| {
        (f7 << 25) | (r(rs2) << 20) | (r(rs1) << 15) | (f3 << 12) | (r(rd) << 7) | op
    };
    let s_type = |f3: u32, rs1: u8, rs2: u8, imm: i32| {
        let imm = imm as u32;
        (((imm >> 5) & 0x7f) << 25)
            | (r(rs2) << 20)
            | (r(rs1) << 15)
            | (f3 << 12)
            | ((imm & 31) << 7)
            | 0x23
    };
    let b_type = |f3: u32, rs1: u8, rs2: u8, imm: i32| {
        let imm = imm as u32;
        (((imm >> 12) & 1) << 31)
            | (((imm >> 5) & 0x3f) << 25)
            | (r(rs2) << 20)
            | (r(rs1) << 15)
            | (f3 << 12)
            | (((imm >> 1) & 0xf) << 8)
            | (((imm >> 11) & 1) << 7)
            | 0x63
    };
    let csr_type = |f3: u32, rd: u8, src: u8, csr: u16| {
        ((csr as u32 & 0xfff) << 20) | (r(src) << 15) | (f3 << 12) | (r(rd) << 7) | 0x73
    };
    let amo = |f5: u32, rd: u8, rs1: u8, rs2: u8, double: bool, aqrl: u8| {
        (f5 << 27) | ((aqrl as u32 & 3) << 25) | r_type(0x2f, 2 + double as u32, 0, rd, rs1, rs2)
    };
    Some(match *inst {
        Lui { rd, imm } => (imm as u32 & 0xffff_f000) | (r(rd) << 7) | 0x37,
        Auipc { rd, imm } => (imm as u32 & 0xffff_f000) | (r(rd) << 7) | 0x17,
        Jal { rd, imm } => {
            let imm = imm as u32;
            (((imm >> 20) & 1) << 31)
                | (((imm >> 1) & 0x3ff) << 21)
                | (((imm >> 11) & 1) << 20)
                | (imm & 0xff000)
                | (r(rd) << 7)
                | 0x6f
        }
        Jalr { rd, rs1, imm } => i_type(0x67, 0, rd, rs1, imm),
        Beq { rs1, rs2, imm } => b_type(0, rs1, rs2, imm),
        Bne { rs1, rs2, imm } => b_type(1, rs1, rs2, imm),
        Blt { rs1, rs2, imm } => b_type(4, rs1, rs2, imm),
        Bge { rs1, rs2, imm } => b_type(5, rs1, rs2, imm),
        Bltu { rs1, rs2, imm } => b_type(6, rs1, rs2, imm),
        Bgeu { rs1, rs2, imm } => b_type(7, rs1, rs2, imm),
        Lb { rd, rs1, imm } => i_type(0x03, 0, rd, rs1, imm),
        Lh { rd, rs1, imm } => i_type(0x03, 1, rd, rs1, imm),
        Lw { rd, rs1, imm } => i_type(0x03, 2, rd, rs1, imm),
        Ld { rd, rs1, imm } => i_type(0x03, 3, rd, rs1, imm),
        Lbu { rd, rs1, imm } => i_type(0x03, 4, rd, rs1, imm),
        Lhu { rd, rs1, imm } => i_type(0x03, 5, rd, rs1, imm),
        Lwu { rd, rs1, imm } => i_type(0x03, 6, rd, rs1, imm),
        Sb { rs1, rs2, imm } => s_type(0, rs1, rs2, imm),
        Sh { rs1, rs2, imm } => s_type(1, rs1, rs2, imm),
        Sw { rs1, rs2, imm } => s_type(2, rs1, rs2, imm),
        Sd { rs1, rs2, imm } => s_type(3, rs1, rs2, imm),
        Addi { rd, rs1, imm } => i_type(0x13, 0, rd, rs1, imm),
        Slti { rd, rs1, imm } => i_type(0x13, 2, rd, rs1, imm),
        Sltiu { rd, rs1, imm } => i_type(0x13, 3, rd, rs1, imm),
        Xori { rd, rs1, imm } => i_type(0x13, 4, rd, rs1, imm),
        Ori { rd, rs1, imm } => i_type(0x13, 6, rd, rs1, imm),
        Andi { rd, rs1, imm } => i_type(0x13, 7, rd, rs1, imm),
        Slli { rd, rs1, imm } => i_type(0x13, 1, rd, rs1, imm & 63),
        Srli { rd, rs1, imm } => i_type(0x13, 5, rd, rs1, imm & 63),
        Srai { rd, rs1, imm } => i_type(0x13, 5, rd, rs1, 0x400 | (imm & 63)),
        Add { rd, rs1, rs2 } => r_type(0x33, 0, 0, rd, rs1, rs2),
        Sub { rd, rs1, rs2 } => r_type(0x33, 0, 0x20, rd, rs1, rs2),
        Sll { rd, rs1, rs2 } => r_type(0x33, 1, 0, rd, rs1, rs2),
        Slt { rd, rs1, rs2 } => r_type(0x33, 2, 0, rd, rs1, rs2),
        Sltu { rd, rs1, rs2 } => r_type(0x33, 3, 0, rd, rs1, rs2),
        Xor { rd, rs1, rs2 } => r_type(0x33, 4, 0, rd, rs1, rs2),
        Srl { rd, rs1, rs2 } => r_type(0x33, 5, 0, rd, rs1, rs2),
        Sra { rd, rs1, rs2 } => r_type(0x33, 5, 0x20, rd, rs1, rs2),
        Or { rd, rs1, rs2 } => r_type(0x33, 6, 0, rd, rs1, rs2),
        And { rd, rs1, rs2 } => r_type(0x33, 7, 0, rd, rs1, rs2),
        Addiw { rd, rs1, imm } => i_type(0x1b, 0, rd, rs1, imm),
        Slliw { rd, rs1, imm } => i_type(0x1b, 1, rd, rs1, imm & 31),
        Srliw { rd, rs1, imm } => i_type(0x1b, 5, rd, rs1, imm & 31),
        Sraiw { rd, rs1, imm } => i_type(0x1b, 5, rd, rs1, 0x400 | (imm & 31)),
        Addw { rd, rs1, rs2 } => r_type(0x3b, 0, 0, rd, rs1, rs2),
        Subw { rd, rs1, rs2 } => r_type(0x3b, 0, 0x20, rd, rs1, rs2),
        Sllw { rd, rs1, rs2 } => r_type(0x3b, 1, 0, rd, rs1, rs2),
        Srlw { rd, rs1, rs2 } => r_type(0x3b, 5, 0, rd, rs1, rs2),
        Sraw { rd, rs1, rs2 } => r_type(0x3b, 5, 0x20, rd, rs1, rs2),
        Fence { pred, succ } => ((pred as u32 & 15) << 24) | ((succ as u32 & 15) << 20) | 0x0f,
        Ecall => 0x0000_0073,
        Ebreak => 0x0010_0073,
        FenceI => 0x0000_100f,
        Mret => 0x3020_0073,
        Sret => 0x1020_0073,
        Wfi => 0x1050_0073,
        SfenceVma { rs1, rs2 } => r_type(0x73, 0, 0x09, 0, rs1, rs2),
        Csrrw { rd, rs1, csr } => csr_type(1, rd, rs1, csr),
        Csrrs { rd, rs1, csr } => csr_type(2, rd, rs1, csr),
        Csrrc { rd, rs1, csr } => csr_type(3, rd, rs1, csr),
        Csrrwi { rd, uimm, csr } => csr_type(5, rd, uimm, csr),
        Csrrsi { rd, uimm, csr } => csr_type(6, rd, uimm, csr),
        Csrrci { rd, uimm, csr } => csr_type(7, rd, uimm, csr),
        Mul { rd, rs1, rs2 } => r_type(0x33, 0, 1, rd, rs1, rs2),
        Mulh { rd, rs1, rs2 } => r_type(0x33, 1, 1, rd, rs1, rs2),
        Mulhsu { rd, rs1, rs2 } => r_type(0x33, 2, 1, rd, rs1, rs2),
        Mulhu { rd, rs1, rs2 } => r_type(0x33, 3, 1, rd, rs1, rs2),
        Div { rd, rs1, rs2 } => r_type(0x33, 4, 1, rd, rs1, rs2),
        Divu { rd, rs1, rs2 } => r_type(0x33, 5, 1, rd, rs1, rs2),
        Rem { rd, rs1, rs2 } => r_type(0x33, 6, 1, rd, rs1, rs2),
        Remu { rd, rs1, rs2 } => r_type(0x33, 7, 1, rd, rs1, rs2),
        Mulw { rd, rs1, rs2 } => r_type(0x3b, 0, 1, rd, rs1, rs2),
        Divw { rd, rs1, rs2 } => r_type(0x3b, 4, 1, rd, rs1, rs2),
        Divuw { rd, rs1, rs2 } => r_type(0x3b, 5, 1, rd, rs1, rs2),
        Remw { rd, rs1, rs2 } => r_type(0x3b, 6, 1, rd, rs1, rs2),
        Remuw { rd, rs1, rs2 } => r_type(0x3b, 7, 1, rd, rs1, rs2),
        Lr { rd, rs1, double, aqrl } => amo(0x02, rd, rs1, 0, double, aqrl),
        Sc { rd, rs1, rs2, double, aqrl } => amo(0x03, rd, rs1, rs2, double, aqrl),
        Amo { op, rd, rs1, rs2, double, aqrl } => {
            let f5 = match op {
                AmoOp::Add => 0x00,
                AmoOp::Swap => 0x01,
                AmoOp::Xor => 0x04,
                AmoOp::Or => 0x08,
                AmoOp::And => 0x0c,
                AmoOp::Min => 0x10,
                AmoOp::Max => 0x14,
                AmoOp::Minu => 0x18,
                AmoOp::Maxu => 0x1c,
            };
            amo(f5, rd, rs1, rs2, double, aqrl)
        }
        Gc { op, rd, rs1, rs2 } => {
            let (f3, f7) = match op {
                GcOp::Alloc => (0, 0),
                GcOp::Collect => (1, 0),
                GcOp::RootAdd => (2, 0),
                GcOp::RootRemove => (2, 1),
                GcOp::Stats => (3, 0),
            };
            r_type(0x0b, f3, f7, rd, rs1, rs2)
        }
        Illegal { .. } => return None,
    })
}

/// tunevm's GC extension in custom-0 (`.insn r 0x0b, f3, f7, rd, rs1, rs2`
/// as workloads/runtime/gc.h writes it).
#[test]
fn gc_extension_encodings() {
    let cases: [(u32, &str); 5] = [
        (0x00b5_050b, "gc.alloc a0,a0,a1"),
        (0x0000_150b, "gc.collect a0"),
        (0x00b5_250b, "gc.root a0,a0,a1"),
        (0x0205_250b, "gc.unroot a0,a0"),
        (0x0005_b50b, "gc.stats a0,a1"),
    ];
    for (raw, text) in cases {
        let (inst, _) = decode(raw);
        assert!(matches!(inst, Inst::Gc { .. }), "{raw:#010x}: {inst:?}");
        assert_eq!(disassemble(&inst, 0), text, "{raw:#010x}");
    }
    assert!(matches!(decode(0x0000_150b).0, Inst::Gc { op: GcOp::Collect, rd: 10, .. }));
}
