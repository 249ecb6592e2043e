//! The test assembler (tests/common/asm.rs) checked two ways: against
//! encodings produced by GNU as (binutils, `-march=rv64imac_zicsr_zifencei`,
//! recorded once below so the tests do not need the tool), and against
//! `tunevm::isa::decode`, which must turn every encoding into the expected
//! `Inst`. Operands are chosen to set every immediate bit somewhere.
//!
//! The GNU as column was made by assembling the quoted lines (after
//! `.option norvc` for the 32-bit table, `.option rvc` for the 16-bit one)
//! with `riscv64-unknown-elf-as -march=rv64imac_zicsr_zifencei` and reading
//! the encodings back with `riscv64-unknown-elf-objdump -d -M no-aliases`.

use crate::common;

use common::asm::*;
use tunevm::isa::{decode, AmoOp, Inst};

/// (our 32-bit encoding, GNU as, the source line given to GNU as)
fn gas32() -> Vec<(u32, u32, &'static str)> {
    vec![
        (add(A0, A1, A2), 0x00c58533, "add a0,a1,a2"),
        (sub(T6, S11, RA), 0x401d8fb3, "sub t6,s11,ra"),
        (sll(A0, A1, A2), 0x00c59533, "sll a0,a1,a2"),
        (slt(A0, A1, A2), 0x00c5a533, "slt a0,a1,a2"),
        (sltu(A0, A1, A2), 0x00c5b533, "sltu a0,a1,a2"),
        (xor(A0, A1, A2), 0x00c5c533, "xor a0,a1,a2"),
        (srl(A0, A1, A2), 0x00c5d533, "srl a0,a1,a2"),
        (sra(A0, A1, A2), 0x40c5d533, "sra a0,a1,a2"),
        (or(A0, A1, A2), 0x00c5e533, "or a0,a1,a2"),
        (and(A0, A1, A2), 0x00c5f533, "and a0,a1,a2"),
        (addw(A0, A1, A2), 0x00c5853b, "addw a0,a1,a2"),
        (subw(A0, A1, A2), 0x40c5853b, "subw a0,a1,a2"),
        (sllw(A0, A1, A2), 0x00c5953b, "sllw a0,a1,a2"),
        (srlw(A0, A1, A2), 0x00c5d53b, "srlw a0,a1,a2"),
        (sraw(A0, A1, A2), 0x40c5d53b, "sraw a0,a1,a2"),
        (addi(A0, A1, -2048), 0x80058513, "addi a0,a1,-2048"),
        (addi(A0, A1, 2047), 0x7ff58513, "addi a0,a1,2047"),
        (slti(T0, T1, -1), 0xfff32293, "slti t0,t1,-1"),
        (sltiu(T0, T1, 1), 0x00133293, "sltiu t0,t1,1"),
        (xori(A0, A1, -1), 0xfff5c513, "xori a0,a1,-1"),
        (ori(A0, A1, 0x555), 0x5555e513, "ori a0,a1,0x555"),
        (andi(A0, A1, -0x556), 0xaaa5f513, "andi a0,a1,-0x556"),
        (slli(A0, A1, 63), 0x03f59513, "slli a0,a1,63"),
        (srli(A0, A1, 32), 0x0205d513, "srli a0,a1,32"),
        (srai(A0, A1, 63), 0x43f5d513, "srai a0,a1,63"),
        (srai(A0, A1, 1), 0x4015d513, "srai a0,a1,1"),
        (addiw(A0, A1, -1), 0xfff5851b, "addiw a0,a1,-1"),
        (slliw(A0, A1, 31), 0x01f5951b, "slliw a0,a1,31"),
        (srliw(A0, A1, 31), 0x01f5d51b, "srliw a0,a1,31"),
        (sraiw(A0, A1, 31), 0x41f5d51b, "sraiw a0,a1,31"),
        (lui(A0, 0x80000), 0x80000537, "lui a0,0x80000"),
        (lui(T6, 0xfffff), 0xffffffb7, "lui t6,0xfffff"),
        (auipc(A0, 0x12345), 0x12345517, "auipc a0,0x12345"),
        (jal(RA, -2048), 0x801ff0ef, "jal ra,.-2048"),
        (jal(ZERO, 0xffffe), 0x7ffff06f, "jal zero,.+0xffffe"),
        (jal(A0, -0x100000), 0x8000056f, "jal a0,.-0x100000"),
        (jalr(RA, -1, A0), 0xfff500e7, "jalr ra,-1(a0)"),
        (jalr(ZERO, 2047, T6), 0x7fff8067, "jalr zero,2047(t6)"),
        (beq(A0, A1, 4094), 0x7eb50fe3, "beq a0,a1,.+4094"),
        (bne(A0, A1, -4096), 0x80b51063, "bne a0,a1,.-4096"),
        (blt(A0, A1, 0x7fe), 0x7eb54f63, "blt a0,a1,.+0x7fe"),
        (bge(A0, A1, 0x800), 0x00b550e3, "bge a0,a1,.+0x800"),
        (bltu(A0, A1, -2), 0xfeb56fe3, "bltu a0,a1,.-2"),
        (bgeu(A0, A1, 0x2aa), 0x2ab57563, "bgeu a0,a1,.+0x2aa"),
        (lb(A0, -1, A1), 0xfff58503, "lb a0,-1(a1)"),
        (lh(A0, 2, A1), 0x00259503, "lh a0,2(a1)"),
        (lw(A0, -2048, A1), 0x8005a503, "lw a0,-2048(a1)"),
        (ld(A0, 2047, A1), 0x7ff5b503, "ld a0,2047(a1)"),
        (lbu(A0, 0x123, A1), 0x1235c503, "lbu a0,0x123(a1)"),
        (lhu(A0, -0x123, A1), 0xedd5d503, "lhu a0,-0x123(a1)"),
        (lwu(A0, 4, A1), 0x0045e503, "lwu a0,4(a1)"),
        (sb(A0, -1, A1), 0xfea58fa3, "sb a0,-1(a1)"),
        (sh(A0, 0x7e1, A1), 0x7ea590a3, "sh a0,0x7e1(a1)"),
        (sw(T6, -2048, SP), 0x81f12023, "sw t6,-2048(sp)"),
        (sd(A0, 2047, A1), 0x7ea5bfa3, "sd a0,2047(a1)"),
        (fence(0b1111, 0b1111), 0x0ff0000f, "fence iorw,iorw"),
        (fence(0b0010, 0b0001), 0x0210000f, "fence r,w"),
        (fence_i(), 0x0000100f, "fence.i"),
        (ecall(), 0x00000073, "ecall"),
        (ebreak(), 0x00100073, "ebreak"),
        (sret(), 0x10200073, "sret"),
        (mret(), 0x30200073, "mret"),
        (wfi(), 0x10500073, "wfi"),
        (sfence_vma(ZERO, ZERO), 0x12000073, "sfence.vma zero,zero"),
        (sfence_vma(A0, A1), 0x12b50073, "sfence.vma a0,a1"),
        (csrrw(A0, MSCRATCH, A1), 0x34059573, "csrrw a0,mscratch,a1"),
        (csrrs(A0, MSTATUS, ZERO), 0x30002573, "csrrs a0,mstatus,zero"),
        (csrrc(ZERO, MIE, T6), 0x304fb073, "csrrc zero,mie,t6"),
        (csrrwi(A0, 0xfff, 31), 0xffffd573, "csrrwi a0,0xfff,31"),
        (csrrsi(A0, SATP, 1), 0x1800e573, "csrrsi a0,satp,1"),
        (csrrci(A0, CYCLE, 16), 0xc0087573, "csrrci a0,cycle,16"),
        (mul(A0, A1, A2), 0x02c58533, "mul a0,a1,a2"),
        (mulh(A0, A1, A2), 0x02c59533, "mulh a0,a1,a2"),
        (mulhsu(A0, A1, A2), 0x02c5a533, "mulhsu a0,a1,a2"),
        (mulhu(A0, A1, A2), 0x02c5b533, "mulhu a0,a1,a2"),
        (div(A0, A1, A2), 0x02c5c533, "div a0,a1,a2"),
        (divu(A0, A1, A2), 0x02c5d533, "divu a0,a1,a2"),
        (rem(A0, A1, A2), 0x02c5e533, "rem a0,a1,a2"),
        (remu(A0, A1, A2), 0x02c5f533, "remu a0,a1,a2"),
        (mulw(A0, A1, A2), 0x02c5853b, "mulw a0,a1,a2"),
        (divw(A0, A1, A2), 0x02c5c53b, "divw a0,a1,a2"),
        (divuw(A0, A1, A2), 0x02c5d53b, "divuw a0,a1,a2"),
        (remw(A0, A1, A2), 0x02c5e53b, "remw a0,a1,a2"),
        (remuw(A0, A1, A2), 0x02c5f53b, "remuw a0,a1,a2"),
        (lr_w(A0, A1), 0x1005a52f, "lr.w a0,(a1)"),
        (lr_d(A0, A1), 0x1005b52f, "lr.d a0,(a1)"),
        (sc_w(A0, A2, A1), 0x18c5a52f, "sc.w a0,a2,(a1)"),
        (sc_d(A0, A2, A1), 0x18c5b52f, "sc.d a0,a2,(a1)"),
        (amoswap_w(A0, A2, A1), 0x08c5a52f, "amoswap.w a0,a2,(a1)"),
        (amoswap_d(A0, A2, A1), 0x08c5b52f, "amoswap.d a0,a2,(a1)"),
        (amoadd_w(A0, A2, A1), 0x00c5a52f, "amoadd.w a0,a2,(a1)"),
        (amoadd_d(A0, A2, A1), 0x00c5b52f, "amoadd.d a0,a2,(a1)"),
        (amoxor_w(A0, A2, A1), 0x20c5a52f, "amoxor.w a0,a2,(a1)"),
        (amoxor_d(A0, A2, A1), 0x20c5b52f, "amoxor.d a0,a2,(a1)"),
        (amoand_w(A0, A2, A1), 0x60c5a52f, "amoand.w a0,a2,(a1)"),
        (amoand_d(A0, A2, A1), 0x60c5b52f, "amoand.d a0,a2,(a1)"),
        (amoor_w(A0, A2, A1), 0x40c5a52f, "amoor.w a0,a2,(a1)"),
        (amoor_d(A0, A2, A1), 0x40c5b52f, "amoor.d a0,a2,(a1)"),
        (amomin_w(A0, A2, A1), 0x80c5a52f, "amomin.w a0,a2,(a1)"),
        (amomin_d(A0, A2, A1), 0x80c5b52f, "amomin.d a0,a2,(a1)"),
        (amomax_w(A0, A2, A1), 0xa0c5a52f, "amomax.w a0,a2,(a1)"),
        (amomax_d(A0, A2, A1), 0xa0c5b52f, "amomax.d a0,a2,(a1)"),
        (amominu_w(A0, A2, A1), 0xc0c5a52f, "amominu.w a0,a2,(a1)"),
        (amominu_d(A0, A2, A1), 0xc0c5b52f, "amominu.d a0,a2,(a1)"),
        (amomaxu_w(A0, A2, A1), 0xe0c5a52f, "amomaxu.w a0,a2,(a1)"),
        (amomaxu_d(A0, A2, A1), 0xe0c5b52f, "amomaxu.d a0,a2,(a1)"),
        (amo(0x01, true, true, true, T6, S0, RA), 0x0e80bfaf, "amoswap.d.aqrl t6,s0,(ra)"),
    ]
}

/// (our 16-bit encoding, GNU as, the source line given to GNU as)
fn gas16() -> Vec<(u16, u16, &'static str)> {
    vec![
        (c_addi4spn(S0, 4), 0x0040, "c.addi4spn s0,sp,4"),
        (c_addi4spn(A5, 1020), 0x1ffc, "c.addi4spn a5,sp,1020"),
        (c_addi4spn(A0, 0x2a8), 0x1528, "c.addi4spn a0,sp,0x2a8"),
        (c_lw(A0, 124, S1), 0x5ce8, "c.lw a0,124(s1)"),
        (c_lw(S0, 0x44, A5), 0x43e0, "c.lw s0,0x44(a5)"),
        (c_ld(A0, 248, S1), 0x7ce8, "c.ld a0,248(s1)"),
        (c_ld(A5, 0x48, S0), 0x643c, "c.ld a5,0x48(s0)"),
        (c_sw(A0, 124, S1), 0xdce8, "c.sw a0,124(s1)"),
        (c_sw(A1, 0x38, A2), 0xde0c, "c.sw a1,0x38(a2)"),
        (c_sd(A0, 248, S1), 0xfce8, "c.sd a0,248(s1)"),
        (c_sd(A3, 0x90, A4), 0xeb54, "c.sd a3,0x90(a4)"),
        (c_nop(), 0x0001, "c.nop"),
        (c_addi(A0, -32), 0x1501, "c.addi a0,-32"),
        (c_addi(T6, 31), 0x0ffd, "c.addi t6,31"),
        (c_addiw(A0, -1), 0x357d, "c.addiw a0,-1"),
        (c_addiw(RA, 17), 0x20c5, "c.addiw ra,17"),
        (c_li(A0, -32), 0x5501, "c.li a0,-32"),
        (c_li(T6, 21), 0x4fd5, "c.li t6,21"),
        (c_addi16sp(-512), 0x7101, "c.addi16sp sp,-512"),
        (c_addi16sp(496), 0x617d, "c.addi16sp sp,496"),
        (c_addi16sp(0x150), 0x6171, "c.addi16sp sp,0x150"),
        (c_lui(A0, -32), 0x7501, "c.lui a0,0xfffe0"),
        (c_lui(T6, 31), 0x6ffd, "c.lui t6,31"),
        (c_lui(RA, 1), 0x6085, "c.lui ra,1"),
        (c_srli(S0, 63), 0x907d, "c.srli s0,63"),
        (c_srli(A5, 1), 0x8385, "c.srli a5,1"),
        (c_srai(A0, 33), 0x9505, "c.srai a0,33"),
        (c_andi(A0, -32), 0x9901, "c.andi a0,-32"),
        (c_andi(S1, 21), 0x88d5, "c.andi s1,21"),
        (c_sub(S0, A5), 0x8c1d, "c.sub s0,a5"),
        (c_xor(A0, A1), 0x8d2d, "c.xor a0,a1"),
        (c_or(A2, A3), 0x8e55, "c.or a2,a3"),
        (c_and(A4, S1), 0x8f65, "c.and a4,s1"),
        (c_subw(A0, A5), 0x9d1d, "c.subw a0,a5"),
        (c_addw(S1, S0), 0x9ca1, "c.addw s1,s0"),
        (c_j(-2048), 0xb001, "c.j .-2048"),
        (c_j(2046), 0xaffd, "c.j .+2046"),
        (c_j(0x2aa), 0xa46d, "c.j .+0x2aa"),
        (c_j(-0x556), 0xb46d, "c.j .-0x556"),
        (c_beqz(S0, -256), 0xd001, "c.beqz s0,.-256"),
        (c_beqz(A5, 254), 0xcffd, "c.beqz a5,.+254"),
        (c_bnez(A0, 0xaa), 0xe54d, "c.bnez a0,.+0xaa"),
        (c_bnez(A1, -0x56), 0xf5cd, "c.bnez a1,.-0x56"),
        (c_slli(A0, 63), 0x157e, "c.slli a0,63"),
        (c_slli(RA, 1), 0x0086, "c.slli ra,1"),
        (c_lwsp(A0, 252), 0x557e, "c.lwsp a0,252(sp)"),
        (c_lwsp(RA, 0x54), 0x40d6, "c.lwsp ra,0x54(sp)"),
        (c_ldsp(A0, 504), 0x757e, "c.ldsp a0,504(sp)"),
        (c_ldsp(T6, 0x128), 0x7fb2, "c.ldsp t6,0x128(sp)"),
        (c_jr(RA), 0x8082, "c.jr ra"),
        (c_jr(T6), 0x8f82, "c.jr t6"),
        (c_mv(A0, T6), 0x857e, "c.mv a0,t6"),
        (c_ebreak(), 0x9002, "c.ebreak"),
        (c_jalr(A0), 0x9502, "c.jalr a0"),
        (c_add(T6, A0), 0x9faa, "c.add t6,a0"),
        (c_swsp(A0, 252), 0xdfaa, "c.swsp a0,252(sp)"),
        (c_swsp(T6, 0x54), 0xcafe, "c.swsp t6,0x54(sp)"),
        (c_sdsp(A0, 504), 0xffaa, "c.sdsp a0,504(sp)"),
        (c_sdsp(RA, 0x128), 0xf606, "c.sdsp ra,0x128(sp)"),
    ]
}

#[test]
fn encoders_match_gnu_as() {
    let mut failures = Vec::new();
    for (ours, gas, text) in gas32() {
        if ours != gas {
            failures.push(format!("{text}: ours {ours:#010x}, gas {gas:#010x}"));
        }
    }
    for (ours, gas, text) in gas16() {
        if ours != gas {
            failures.push(format!("{text}: ours {ours:#06x}, gas {gas:#06x}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// Shorthands for the expected `Inst` values.
fn amo_inst(op: AmoOp, double: bool) -> Inst {
    Inst::Amo { op, rd: A0, rs1: A1, rs2: A2, double, aqrl: 0 }
}

/// (encoding from our assembler, the `Inst` the decoder must give)
fn decode_cases32() -> Vec<(u32, Inst)> {
    use Inst::*;
    let (rd, rs1, rs2) = (A0, A1, A2);
    vec![
        (add(A0, A1, A2), Add { rd, rs1, rs2 }),
        (sub(A0, A1, A2), Sub { rd, rs1, rs2 }),
        (sll(A0, A1, A2), Sll { rd, rs1, rs2 }),
        (slt(A0, A1, A2), Slt { rd, rs1, rs2 }),
        (sltu(A0, A1, A2), Sltu { rd, rs1, rs2 }),
        (xor(A0, A1, A2), Xor { rd, rs1, rs2 }),
        (srl(A0, A1, A2), Srl { rd, rs1, rs2 }),
        (sra(A0, A1, A2), Sra { rd, rs1, rs2 }),
        (or(A0, A1, A2), Or { rd, rs1, rs2 }),
        (and(A0, A1, A2), And { rd, rs1, rs2 }),
        (addw(A0, A1, A2), Addw { rd, rs1, rs2 }),
        (subw(A0, A1, A2), Subw { rd, rs1, rs2 }),
        (sllw(A0, A1, A2), Sllw { rd, rs1, rs2 }),
        (srlw(A0, A1, A2), Srlw { rd, rs1, rs2 }),
        (sraw(A0, A1, A2), Sraw { rd, rs1, rs2 }),
        (addi(A0, A1, -2048), Addi { rd, rs1, imm: -2048 }),
        (slti(A0, A1, 2047), Slti { rd, rs1, imm: 2047 }),
        (sltiu(A0, A1, -1), Sltiu { rd, rs1, imm: -1 }),
        (xori(A0, A1, -1), Xori { rd, rs1, imm: -1 }),
        (ori(A0, A1, 0x555), Ori { rd, rs1, imm: 0x555 }),
        (andi(A0, A1, -0x556), Andi { rd, rs1, imm: -0x556 }),
        (slli(A0, A1, 63), Slli { rd, rs1, imm: 63 }),
        (srli(A0, A1, 32), Srli { rd, rs1, imm: 32 }),
        (srai(A0, A1, 63), Srai { rd, rs1, imm: 63 }),
        (addiw(A0, A1, -1), Addiw { rd, rs1, imm: -1 }),
        (slliw(A0, A1, 31), Slliw { rd, rs1, imm: 31 }),
        (srliw(A0, A1, 1), Srliw { rd, rs1, imm: 1 }),
        (sraiw(A0, A1, 31), Sraiw { rd, rs1, imm: 31 }),
        (lui(A0, 0x80000), Lui { rd, imm: i32::MIN }),
        (auipc(A0, 0xfffff), Auipc { rd, imm: -4096 }),
        (jal(RA, -0x100000), Jal { rd: RA, imm: -0x100000 }),
        (jal(ZERO, 0xffffe), Jal { rd: ZERO, imm: 0xffffe }),
        (jalr(RA, -1, A1), Jalr { rd: RA, rs1, imm: -1 }),
        (beq(A1, A2, -4096), Beq { rs1, rs2, imm: -4096 }),
        (bne(A1, A2, 4094), Bne { rs1, rs2, imm: 4094 }),
        (blt(A1, A2, 0x800), Blt { rs1, rs2, imm: 0x800 }),
        (bge(A1, A2, -2), Bge { rs1, rs2, imm: -2 }),
        (bltu(A1, A2, 0x7fe), Bltu { rs1, rs2, imm: 0x7fe }),
        (bgeu(A1, A2, 0x2aa), Bgeu { rs1, rs2, imm: 0x2aa }),
        (lb(A0, -1, A1), Lb { rd, rs1, imm: -1 }),
        (lh(A0, 2, A1), Lh { rd, rs1, imm: 2 }),
        (lw(A0, -2048, A1), Lw { rd, rs1, imm: -2048 }),
        (ld(A0, 2047, A1), Ld { rd, rs1, imm: 2047 }),
        (lbu(A0, 1, A1), Lbu { rd, rs1, imm: 1 }),
        (lhu(A0, -2, A1), Lhu { rd, rs1, imm: -2 }),
        (lwu(A0, 4, A1), Lwu { rd, rs1, imm: 4 }),
        (sb(A2, -1, A1), Sb { rs1, rs2, imm: -1 }),
        (sh(A2, 0x7e1, A1), Sh { rs1, rs2, imm: 0x7e1 }),
        (sw(A2, -2048, A1), Sw { rs1, rs2, imm: -2048 }),
        (sd(A2, 2047, A1), Sd { rs1, rs2, imm: 2047 }),
        (fence(0b0010, 0b0001), Fence { pred: 0b0010, succ: 0b0001 }),
        (fence_i(), FenceI),
        (ecall(), Ecall),
        (ebreak(), Ebreak),
        (sret(), Sret),
        (mret(), Mret),
        (wfi(), Wfi),
        (sfence_vma(A1, A2), SfenceVma { rs1, rs2 }),
        (csrrw(A0, MSCRATCH, A1), Csrrw { rd, rs1, csr: MSCRATCH }),
        (csrrs(A0, MSTATUS, A1), Csrrs { rd, rs1, csr: MSTATUS }),
        (csrrc(A0, 0xfff, A1), Csrrc { rd, rs1, csr: 0xfff }),
        (csrrwi(A0, MIE, 31), Csrrwi { rd, uimm: 31, csr: MIE }),
        (csrrsi(A0, SATP, 1), Csrrsi { rd, uimm: 1, csr: SATP }),
        (csrrci(A0, CYCLE, 16), Csrrci { rd, uimm: 16, csr: CYCLE }),
        (mul(A0, A1, A2), Mul { rd, rs1, rs2 }),
        (mulh(A0, A1, A2), Mulh { rd, rs1, rs2 }),
        (mulhsu(A0, A1, A2), Mulhsu { rd, rs1, rs2 }),
        (mulhu(A0, A1, A2), Mulhu { rd, rs1, rs2 }),
        (div(A0, A1, A2), Div { rd, rs1, rs2 }),
        (divu(A0, A1, A2), Divu { rd, rs1, rs2 }),
        (rem(A0, A1, A2), Rem { rd, rs1, rs2 }),
        (remu(A0, A1, A2), Remu { rd, rs1, rs2 }),
        (mulw(A0, A1, A2), Mulw { rd, rs1, rs2 }),
        (divw(A0, A1, A2), Divw { rd, rs1, rs2 }),
        (divuw(A0, A1, A2), Divuw { rd, rs1, rs2 }),
        (remw(A0, A1, A2), Remw { rd, rs1, rs2 }),
        (remuw(A0, A1, A2), Remuw { rd, rs1, rs2 }),
        (lr_w(A0, A1), Lr { rd, rs1, double: false, aqrl: 0 }),
        (lr_d(A0, A1), Lr { rd, rs1, double: true, aqrl: 0 }),
        (sc_w(A0, A2, A1), Sc { rd, rs1, rs2, double: false, aqrl: 0 }),
        (sc_d(A0, A2, A1), Sc { rd, rs1, rs2, double: true, aqrl: 0 }),
        (amoswap_w(A0, A2, A1), amo_inst(AmoOp::Swap, false)),
        (amoswap_d(A0, A2, A1), amo_inst(AmoOp::Swap, true)),
        (amoadd_w(A0, A2, A1), amo_inst(AmoOp::Add, false)),
        (amoadd_d(A0, A2, A1), amo_inst(AmoOp::Add, true)),
        (amoxor_w(A0, A2, A1), amo_inst(AmoOp::Xor, false)),
        (amoxor_d(A0, A2, A1), amo_inst(AmoOp::Xor, true)),
        (amoand_w(A0, A2, A1), amo_inst(AmoOp::And, false)),
        (amoand_d(A0, A2, A1), amo_inst(AmoOp::And, true)),
        (amoor_w(A0, A2, A1), amo_inst(AmoOp::Or, false)),
        (amoor_d(A0, A2, A1), amo_inst(AmoOp::Or, true)),
        (amomin_w(A0, A2, A1), amo_inst(AmoOp::Min, false)),
        (amomin_d(A0, A2, A1), amo_inst(AmoOp::Min, true)),
        (amomax_w(A0, A2, A1), amo_inst(AmoOp::Max, false)),
        (amomax_d(A0, A2, A1), amo_inst(AmoOp::Max, true)),
        (amominu_w(A0, A2, A1), amo_inst(AmoOp::Minu, false)),
        (amominu_d(A0, A2, A1), amo_inst(AmoOp::Minu, true)),
        (amomaxu_w(A0, A2, A1), amo_inst(AmoOp::Maxu, false)),
        (amomaxu_d(A0, A2, A1), amo_inst(AmoOp::Maxu, true)),
        (
            amo(0x01, true, true, true, A0, A2, A1),
            Inst::Amo { op: AmoOp::Swap, rd, rs1, rs2, double: true, aqrl: 3 },
        ),
    ]
}

/// (encoding from our assembler, the `Inst` its expansion must decode to)
fn decode_cases16() -> Vec<(u16, Inst)> {
    use Inst::*;
    vec![
        (c_addi4spn(S0, 1020), Addi { rd: S0, rs1: SP, imm: 1020 }),
        (c_addi4spn(A5, 4), Addi { rd: A5, rs1: SP, imm: 4 }),
        (c_lw(A0, 124, S1), Lw { rd: A0, rs1: S1, imm: 124 }),
        (c_lw(A5, 0x44, S0), Lw { rd: A5, rs1: S0, imm: 0x44 }),
        (c_ld(A0, 248, S1), Ld { rd: A0, rs1: S1, imm: 248 }),
        (c_ld(S0, 0x48, A5), Ld { rd: S0, rs1: A5, imm: 0x48 }),
        (c_sw(A0, 124, S1), Sw { rs1: S1, rs2: A0, imm: 124 }),
        (c_sd(A0, 248, S1), Sd { rs1: S1, rs2: A0, imm: 248 }),
        (c_nop(), Addi { rd: 0, rs1: 0, imm: 0 }),
        (c_addi(A0, -32), Addi { rd: A0, rs1: A0, imm: -32 }),
        (c_addi(T6, 31), Addi { rd: T6, rs1: T6, imm: 31 }),
        (c_addiw(A0, -1), Addiw { rd: A0, rs1: A0, imm: -1 }),
        (c_li(RA, -32), Addi { rd: RA, rs1: ZERO, imm: -32 }),
        (c_addi16sp(-512), Addi { rd: SP, rs1: SP, imm: -512 }),
        (c_addi16sp(0x150), Addi { rd: SP, rs1: SP, imm: 0x150 }),
        (c_lui(A0, -32), Lui { rd: A0, imm: -32 << 12 }),
        (c_lui(T6, 31), Lui { rd: T6, imm: 31 << 12 }),
        (c_srli(S0, 63), Srli { rd: S0, rs1: S0, imm: 63 }),
        (c_srai(A5, 33), Srai { rd: A5, rs1: A5, imm: 33 }),
        (c_andi(A0, -32), Andi { rd: A0, rs1: A0, imm: -32 }),
        (c_sub(S0, A5), Sub { rd: S0, rs1: S0, rs2: A5 }),
        (c_xor(A0, A1), Xor { rd: A0, rs1: A0, rs2: A1 }),
        (c_or(A2, A3), Or { rd: A2, rs1: A2, rs2: A3 }),
        (c_and(A4, S1), And { rd: A4, rs1: A4, rs2: S1 }),
        (c_subw(A0, A5), Subw { rd: A0, rs1: A0, rs2: A5 }),
        (c_addw(S1, S0), Addw { rd: S1, rs1: S1, rs2: S0 }),
        (c_j(-2048), Jal { rd: ZERO, imm: -2048 }),
        (c_j(0x2aa), Jal { rd: ZERO, imm: 0x2aa }),
        (c_beqz(S0, -256), Beq { rs1: S0, rs2: ZERO, imm: -256 }),
        (c_bnez(A5, 254), Bne { rs1: A5, rs2: ZERO, imm: 254 }),
        (c_slli(RA, 63), Slli { rd: RA, rs1: RA, imm: 63 }),
        (c_lwsp(A0, 252), Lw { rd: A0, rs1: SP, imm: 252 }),
        (c_ldsp(T6, 504), Ld { rd: T6, rs1: SP, imm: 504 }),
        (c_jr(RA), Jalr { rd: ZERO, rs1: RA, imm: 0 }),
        (c_mv(A0, T6), Add { rd: A0, rs1: ZERO, rs2: T6 }),
        (c_ebreak(), Ebreak),
        (c_jalr(A0), Jalr { rd: RA, rs1: A0, imm: 0 }),
        (c_add(T6, A0), Add { rd: T6, rs1: T6, rs2: A0 }),
        (c_swsp(A0, 252), Sw { rs1: SP, rs2: A0, imm: 252 }),
        (c_sdsp(RA, 504), Sd { rs1: SP, rs2: RA, imm: 504 }),
    ]
}

#[test]
fn decoder_understands_every_encoder() {
    let mut failures = Vec::new();
    for (raw, want) in decode_cases32() {
        let got = decode(raw);
        if got != (want, 4) {
            failures.push(format!("{raw:#010x}: decoded {got:?}, want {want:?}"));
        }
    }
    for (raw, want) in decode_cases16() {
        // The halfword after a compressed instruction must not matter.
        let got = decode(raw as u32 | 0xffff_0000);
        if got != (want, 2) {
            failures.push(format!("{raw:#06x}: decoded {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Every compressed instruction of RV64C has an encoder above (33 of them).
#[test]
fn every_rvc_instruction_is_covered() {
    let mnemonics: std::collections::BTreeSet<&str> =
        gas16().iter().map(|(_, _, text)| text.split_whitespace().next().unwrap()).collect();
    assert_eq!(mnemonics.len(), 33, "{mnemonics:?}");
}

/// The `Program` builder: labels, forward and backward references, `la` and
/// `li` produce what they say.
#[test]
fn program_builder_resolves_labels() {
    use common::{Program, RAM_BASE};
    let mut p = Program::new();
    p.i_to("fwd", |o| beq(ZERO, ZERO, o)); // at +0
    p.c(c_nop()); // +4
    p.label("fwd"); // +6
    p.c_to("fwd", c_j); // +6, offset 0
    p.la(A0, "fwd"); // +8
    p.li(A1, 0x7fff_ffff); // +16
    let image = p.image();
    let word = |at: usize| u32::from_le_bytes(image[at..at + 4].try_into().unwrap());
    let half = |at: usize| u16::from_le_bytes(image[at..at + 2].try_into().unwrap());
    assert_eq!(p.addr("fwd"), RAM_BASE + 6);
    assert_eq!(word(0), beq(ZERO, ZERO, 6));
    assert_eq!(half(6), c_j(0));
    assert_eq!((word(8), word(12)), (auipc(A0, 0), addi(A0, A0, -2)));
    assert_eq!((word(16), word(20)), (lui(A1, 0x80000), addiw(A1, A1, -1)));
    assert_eq!(p.exit_addr(), RAM_BASE + 24);
}
