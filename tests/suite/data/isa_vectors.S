# Test vectors for tunevm's decoder and disassembler (tests/isa_decode.rs).
#
# Every instruction form of RV64IMAC + Zicsr + Zifencei + the privileged
# instructions tunevm runs, with edge-case operands. gen_isa_vectors.sh
# assembles this file, links it at 0x80000000 and turns two objdump listings
# (-M no-aliases and the default aliases) into isa_vectors.txt.
#
# Groups: every label below starts a group; the label's name is written into
# the data file next to each instruction, so the test can treat groups
# differently:
#   g_*      plain vectors: check length and disassembly.
#   p_*      pairs: a compressed instruction (emitted with C16) followed by
#            the 32-bit instruction it expands to; the test also checks that
#            both decode to the same Inst.
#   x_*      hand-picked encodings emitted with .insn; checked like g_*.
#
# The whole file is assembled without RVC (.option norvc) so that 32-bit
# forms stay 32-bit; C16 switches RVC on for one instruction.

	.option norvc
	.option norelax

	.macro C16 insn:vararg
	.option rvc
	\insn
	.option norvc
	.endm

	.text
	.globl g_upper
# ---------------------------------------------------------------- RV64I: U/J
g_upper:
	lui	zero, 0x1
	lui	a0, 0x0
	lui	a0, 0x1
	lui	ra, 0x7ffff
	lui	t6, 0x80000
	lui	t6, 0xfffff
	auipc	zero, 0x0
	auipc	a0, 0x0
	auipc	sp, 0x7ffff
	auipc	t6, 0x80000
	auipc	t6, 0xfffff

g_jal:
	jal	zero, .
	jal	ra, .+4
	jal	a0, .+8
	jal	t6, .-4
	jal	zero, .+0xffffe
	jal	ra, .-0x100000
	jal	s0, .+0x800
	jal	zero, .+2
	jal	ra, .+0x7fe

g_jalr:
	jalr	zero, 0(ra)
	jalr	zero, 0(a0)
	jalr	zero, 0(zero)
	jalr	zero, 8(a0)
	jalr	zero, -2048(ra)
	jalr	ra, 0(a0)
	jalr	ra, 0(ra)
	jalr	ra, 2047(a0)
	jalr	ra, -1(t6)
	jalr	a0, 0(a1)
	jalr	a0, 0(zero)
	jalr	t6, -2048(t6)
	jalr	t0, 4(t1)

# ---------------------------------------------------------------- branches
g_branch:
	.irp op, beq, bne, blt, bge, bltu, bgeu
	\op	a0, a1, .+8
	\op	a0, zero, .+8
	\op	zero, a0, .-8
	\op	zero, zero, .
	\op	t6, s11, .+4094
	\op	ra, sp, .-4096
	\op	s0, s1, .+2
	.endr

# ---------------------------------------------------------------- loads/stores
g_load:
	.irp op, lb, lh, lw, ld, lbu, lhu, lwu
	\op	a0, 0(a1)
	\op	zero, 8(sp)
	\op	t6, -2048(t6)
	\op	ra, 2047(zero)
	\op	s1, -1(gp)
	.endr

g_store:
	.irp op, sb, sh, sw, sd
	\op	a0, 0(a1)
	\op	zero, 8(sp)
	\op	t6, -2048(t6)
	\op	ra, 2047(zero)
	\op	s1, -1(tp)
	.endr

# ---------------------------------------------------------------- OP-IMM
g_opimm:
	addi	zero, zero, 0
	addi	zero, zero, 1
	addi	zero, a0, 0
	addi	zero, a0, 5
	addi	a0, zero, 0
	addi	a0, zero, -1
	addi	a0, zero, 2047
	addi	t6, zero, -2048
	addi	a0, a1, 0
	addi	a0, a0, 0
	addi	sp, sp, -16
	addi	a0, a1, 2047
	addi	a0, a1, -2048
	addi	s0, sp, 16
	.irp op, slti, sltiu, xori, ori, andi
	\op	a0, a1, 0
	\op	a0, a1, 1
	\op	a0, a1, -1
	\op	t6, zero, 2047
	\op	zero, t6, -2048
	\op	a0, a0, 5
	.endr
	.irp op, slli, srli, srai
	\op	a0, a1, 0
	\op	a0, a1, 1
	\op	a0, a1, 31
	\op	a0, a1, 32
	\op	t6, zero, 63
	\op	zero, t6, 17
	.endr

# ---------------------------------------------------------------- OP
g_op:
	.irp op, add, sub, sll, slt, sltu, xor, srl, sra, or, and
	\op	a0, a1, a2
	\op	zero, t6, s11
	\op	t6, zero, a0
	\op	a0, a1, zero
	\op	a0, zero, zero
	\op	ra, ra, ra
	.endr

# ---------------------------------------------------------------- RV64I *W
g_opw:
	addiw	a0, a1, 0
	addiw	a0, a0, 0
	addiw	a0, zero, 0
	addiw	a0, a1, 1
	addiw	t6, zero, 2047
	addiw	zero, t6, -2048
	.irp op, slliw, srliw, sraiw
	\op	a0, a1, 0
	\op	a0, a1, 1
	\op	t6, zero, 31
	\op	zero, t6, 16
	.endr
	.irp op, addw, subw, sllw, srlw, sraw
	\op	a0, a1, a2
	\op	zero, t6, s11
	\op	t6, zero, a0
	\op	a0, a1, zero
	\op	a0, zero, zero
	.endr

# ---------------------------------------------------------------- M
g_m:
	.irp op, mul, mulh, mulhsu, mulhu, div, divu, rem, remu, mulw, divw, divuw, remw, remuw
	\op	a0, a1, a2
	\op	zero, t6, s11
	\op	t6, zero, a0
	\op	a0, a1, zero
	.endr

# ---------------------------------------------------------------- A
g_amo:
	.irp sz, w, d
	.irp ord, , .aq, .rl, .aqrl
	lr.\sz\ord	a0, (a1)
	sc.\sz\ord	a0, a1, (a2)
	amoswap.\sz\ord	a0, a1, (a2)
	amoadd.\sz\ord	a0, a1, (a2)
	amoxor.\sz\ord	a0, a1, (a2)
	amoand.\sz\ord	a0, a1, (a2)
	amoor.\sz\ord	a0, a1, (a2)
	amomin.\sz\ord	a0, a1, (a2)
	amomax.\sz\ord	a0, a1, (a2)
	amominu.\sz\ord	a0, a1, (a2)
	amomaxu.\sz\ord	a0, a1, (a2)
	.endr
	lr.\sz	zero, (t6)
	lr.\sz	t6, (zero)
	sc.\sz	zero, t6, (sp)
	sc.\sz	t6, zero, (zero)
	amoadd.\sz	zero, t6, (sp)
	amoswap.\sz	t6, zero, (zero)
	amoor.\sz\().aqrl	zero, zero, (zero)
	.endr

# ---------------------------------------------------------------- fences
g_fence:
	fence
	fence	rw, rw
	fence	r, r
	fence	w, w
	fence	r, rw
	fence	rw, w
	fence	i, o
	fence	o, i
	fence	io, io
	fence	iorw, iorw
	fence	iorw, rw
	fence.tso
	fence.i

# Every pred/succ combination (fm = 0, rd = rs1 = 0).
x_fence_all:
	.set	fence_bits, 0
	.rept	256
	.insn	i 0x0f, 0, x0, x0, fence_bits
	.set	fence_bits, fence_bits + 1
	.endr

# ---------------------------------------------------------------- system
g_system:
	ecall
	ebreak
	mret
	sret
	wfi
	sfence.vma
	sfence.vma	a0
	sfence.vma	a0, a1
	sfence.vma	zero, a1
	sfence.vma	t6, t6

# ---------------------------------------------------------------- Zicsr
g_csr:
	csrrw	a0, mstatus, a1
	csrrw	zero, mstatus, a1
	csrrw	a0, mstatus, zero
	csrrw	zero, mscratch, zero
	csrrw	zero, cycle, zero
	csrrs	a0, mstatus, a1
	csrrs	zero, mstatus, a1
	csrrs	a0, mstatus, zero
	csrrs	zero, mstatus, zero
	csrrc	a0, mstatus, a1
	csrrc	zero, mstatus, a1
	csrrc	a0, mstatus, zero
	csrrc	zero, mstatus, zero
	csrrwi	a0, mstatus, 0
	csrrwi	a0, mstatus, 31
	csrrwi	zero, mstatus, 31
	csrrwi	zero, mstatus, 0
	csrrsi	a0, mie, 1
	csrrsi	zero, mie, 31
	csrrsi	a0, mie, 0
	csrrsi	zero, mie, 0
	csrrci	a0, mip, 8
	csrrci	zero, mip, 31
	csrrci	a0, mip, 0
	csrrci	zero, mip, 0
	csrrs	t6, 0xfff, t6
	csrrw	t6, 0x000, t6
	rdcycle	a0
	rdtime	a1
	rdinstret	t6
	csrrs	a0, cycleh, zero
	csrrs	a0, fflags, zero
	csrrs	a0, frm, zero
	csrrs	a0, fcsr, zero
	csrrw	zero, fcsr, a0
	csrrw	a1, fcsr, a0
	csrrw	a1, frm, a0
	csrrw	a1, fflags, a0
	csrrwi	zero, frm, 1
	csrrwi	a0, fflags, 1
	csrrs	a0, satp, a1
	csrrs	a0, time, a1
	csrrw	a0, cycle, a1

# Every CSR number, read with csrrs a0, csr, zero (csrr a0, csr).
x_csr_all:
	.set	csr_num, 0
	.rept	4096
	csrrs	a0, csr_num, zero
	.set	csr_num, csr_num + 1
	.endr

# ---------------------------------------------------------------- RVC pairs
# Each compressed instruction is followed by its 32-bit expansion.
p_q0:
	C16 c.addi4spn	s0, sp, 4
	addi	s0, sp, 4
	C16 c.addi4spn	a5, sp, 1020
	addi	a5, sp, 1020
	C16 c.addi4spn	a0, sp, 16
	addi	a0, sp, 16
	C16 c.addi4spn	s1, sp, 512
	addi	s1, sp, 512
	C16 c.lw	s0, 0(s1)
	lw	s0, 0(s1)
	C16 c.lw	a5, 124(a5)
	lw	a5, 124(a5)
	C16 c.lw	a0, 4(a1)
	lw	a0, 4(a1)
	C16 c.lw	a1, 64(a2)
	lw	a1, 64(a2)
	C16 c.ld	s0, 0(s1)
	ld	s0, 0(s1)
	C16 c.ld	a5, 248(a5)
	ld	a5, 248(a5)
	C16 c.ld	a0, 8(a1)
	ld	a0, 8(a1)
	C16 c.ld	a2, 128(a3)
	ld	a2, 128(a3)
	C16 c.sw	s0, 0(s1)
	sw	s0, 0(s1)
	C16 c.sw	a5, 124(a5)
	sw	a5, 124(a5)
	C16 c.sw	a0, 4(a1)
	sw	a0, 4(a1)
	C16 c.sw	a1, 64(a2)
	sw	a1, 64(a2)
	C16 c.sd	s0, 0(s1)
	sd	s0, 0(s1)
	C16 c.sd	a5, 248(a5)
	sd	a5, 248(a5)
	C16 c.sd	a0, 8(a1)
	sd	a0, 8(a1)
	C16 c.sd	a2, 128(a3)
	sd	a2, 128(a3)

p_q1:
	C16 c.nop
	addi	zero, zero, 0
	C16 c.addi	a0, 1
	addi	a0, a0, 1
	C16 c.addi	a0, -32
	addi	a0, a0, -32
	C16 c.addi	t6, 31
	addi	t6, t6, 31
	C16 c.addi	sp, -1
	addi	sp, sp, -1
	C16 c.addiw	a0, 0
	addiw	a0, a0, 0
	C16 c.addiw	a0, 1
	addiw	a0, a0, 1
	C16 c.addiw	t6, -32
	addiw	t6, t6, -32
	C16 c.addiw	ra, 31
	addiw	ra, ra, 31
	C16 c.li	a0, 0
	addi	a0, zero, 0
	C16 c.li	a0, -32
	addi	a0, zero, -32
	C16 c.li	t6, 31
	addi	t6, zero, 31
	C16 c.li	sp, 1
	addi	sp, zero, 1
	C16 c.addi16sp	sp, 16
	addi	sp, sp, 16
	C16 c.addi16sp	sp, -512
	addi	sp, sp, -512
	C16 c.addi16sp	sp, 496
	addi	sp, sp, 496
	C16 c.addi16sp	sp, -16
	addi	sp, sp, -16
	C16 c.lui	a0, 1
	lui	a0, 1
	C16 c.lui	a0, 0x1f
	lui	a0, 0x1f
	C16 c.lui	ra, 0xfffe0
	lui	ra, 0xfffe0
	C16 c.lui	t6, 0xfffff
	lui	t6, 0xfffff
	C16 c.lui	gp, 0x10
	lui	gp, 0x10
	C16 c.srli	s0, 1
	srli	s0, s0, 1
	C16 c.srli	a5, 63
	srli	a5, a5, 63
	C16 c.srli	a0, 32
	srli	a0, a0, 32
	C16 c.srai	s0, 1
	srai	s0, s0, 1
	C16 c.srai	a5, 63
	srai	a5, a5, 63
	C16 c.srai	a0, 31
	srai	a0, a0, 31
	C16 c.andi	s0, 0
	andi	s0, s0, 0
	C16 c.andi	a5, -32
	andi	a5, a5, -32
	C16 c.andi	a0, 31
	andi	a0, a0, 31
	C16 c.andi	a0, -1
	andi	a0, a0, -1
	C16 c.sub	s0, a5
	sub	s0, s0, a5
	C16 c.sub	a5, s0
	sub	a5, a5, s0
	C16 c.xor	a0, a1
	xor	a0, a0, a1
	C16 c.xor	a0, a0
	xor	a0, a0, a0
	C16 c.or	s1, a2
	or	s1, s1, a2
	C16 c.and	a3, a4
	and	a3, a3, a4
	C16 c.subw	a0, a1
	subw	a0, a0, a1
	C16 c.subw	a5, s0
	subw	a5, a5, s0
	C16 c.addw	s0, a5
	addw	s0, s0, a5
	C16 c.addw	a0, a0
	addw	a0, a0, a0
	C16 c.j	.+2
	jal	zero, .+2
	C16 c.j	.+2046
	jal	zero, .+2046
	C16 c.j	.-2048
	jal	zero, .-2048
	C16 c.j	.
	jal	zero, .
	C16 c.beqz	s0, .+2
	beq	s0, zero, .+2
	C16 c.beqz	a5, .+254
	beq	a5, zero, .+254
	C16 c.beqz	a0, .-256
	beq	a0, zero, .-256
	C16 c.bnez	s0, .+2
	bne	s0, zero, .+2
	C16 c.bnez	a5, .+254
	bne	a5, zero, .+254
	C16 c.bnez	a0, .-256
	bne	a0, zero, .-256

p_q2:
	C16 c.slli	a0, 1
	slli	a0, a0, 1
	C16 c.slli	t6, 63
	slli	t6, t6, 63
	C16 c.slli	ra, 32
	slli	ra, ra, 32
	C16 c.lwsp	a0, 0(sp)
	lw	a0, 0(sp)
	C16 c.lwsp	t6, 252(sp)
	lw	t6, 252(sp)
	C16 c.lwsp	ra, 4(sp)
	lw	ra, 4(sp)
	C16 c.lwsp	sp, 128(sp)
	lw	sp, 128(sp)
	C16 c.ldsp	a0, 0(sp)
	ld	a0, 0(sp)
	C16 c.ldsp	t6, 504(sp)
	ld	t6, 504(sp)
	C16 c.ldsp	ra, 8(sp)
	ld	ra, 8(sp)
	C16 c.ldsp	s0, 256(sp)
	ld	s0, 256(sp)
	C16 c.swsp	a0, 0(sp)
	sw	a0, 0(sp)
	C16 c.swsp	t6, 252(sp)
	sw	t6, 252(sp)
	C16 c.swsp	zero, 4(sp)
	sw	zero, 4(sp)
	C16 c.swsp	ra, 128(sp)
	sw	ra, 128(sp)
	C16 c.sdsp	a0, 0(sp)
	sd	a0, 0(sp)
	C16 c.sdsp	t6, 504(sp)
	sd	t6, 504(sp)
	C16 c.sdsp	zero, 8(sp)
	sd	zero, 8(sp)
	C16 c.sdsp	ra, 256(sp)
	sd	ra, 256(sp)
	C16 c.jr	ra
	jalr	zero, 0(ra)
	C16 c.jr	a0
	jalr	zero, 0(a0)
	C16 c.jr	t6
	jalr	zero, 0(t6)
	C16 c.jalr	a0
	jalr	ra, 0(a0)
	C16 c.jalr	ra
	jalr	ra, 0(ra)
	C16 c.jalr	t6
	jalr	ra, 0(t6)
	C16 c.mv	a0, a1
	add	a0, zero, a1
	C16 c.mv	t6, ra
	add	t6, zero, ra
	C16 c.mv	sp, s0
	add	sp, zero, s0
	C16 c.add	a0, a1
	add	a0, a0, a1
	C16 c.add	t6, t6
	add	t6, t6, t6
	C16 c.add	sp, a0
	add	sp, sp, a0
	C16 c.ebreak
	ebreak

# HINT encodings (legal, no architectural effect beyond the expansion).
p_hints:
	C16 .insn 2, 0x0005	# c.addi x0, 1
	addi	zero, zero, 1
	C16 .insn 2, 0x107d	# c.addi x0, -1
	addi	zero, zero, -1
	C16 .insn 2, 0x0501	# c.addi a0, 0
	addi	a0, a0, 0
	C16 .insn 2, 0x4001	# c.li x0, 0
	addi	zero, zero, 0
	C16 .insn 2, 0x4015	# c.li x0, 5
	addi	zero, zero, 5
	C16 .insn 2, 0x6005	# c.lui x0, 1
	lui	zero, 1
	C16 .insn 2, 0x8001	# c.srli s0, 0
	srli	s0, s0, 0
	C16 .insn 2, 0x8401	# c.srai s0, 0
	srai	s0, s0, 0
	C16 .insn 2, 0x0002	# c.slli x0, 0
	slli	zero, zero, 0
	C16 .insn 2, 0x0006	# c.slli x0, 1
	slli	zero, zero, 1
	C16 .insn 2, 0x0502	# c.slli a0, 0
	slli	a0, a0, 0
	C16 .insn 2, 0x802a	# c.mv x0, a0
	add	zero, zero, a0
	C16 .insn 2, 0x902a	# c.add x0, a0
	add	zero, zero, a0

# Encodings tunevm treats as illegal (the test checks them against the
# decoder too); objdump's text for them is its "unknown instruction" form.
x_illegal:
	C16 .insn 2, 0x0000	# all zero
	C16 .insn 2, 0x2000	# c.fld
	C16 .insn 2, 0x8000	# Q0 funct3=100 (reserved; Zcb)
	.insn	4, 0x0000000b	# custom-0
	.insn	4, 0x00000007	# LOAD-FP (flw)
	.insn	4, 0x00208053	# OP-FP (fadd.s)
	.insn	4, 0x00002067	# jalr funct3=2
	.insn	4, 0x00007003	# LOAD funct3=7
	.insn	4, 0x40001013	# slli with funct6 != 0
	.insn	4, 0x0200101b	# slliw with imm[5] = 1
	.insn	4, 0x101025af	# lr.w with rs2 != 0
