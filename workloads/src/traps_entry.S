/*
 * traps: trap entry/exit for M and S mode.
 *
 * Each entry swaps sp with its scratch CSR (mscratch / sscratch hold the top of
 * a private trap stack), saves x1..x31 in a 256-byte frame (x[i] at 8*i; the
 * interrupted sp in slot 2), calls the C handler with a0 = frame, restores
 * everything (a handler may change frame values, e.g. a0 for a return value)
 * and returns with mret / sret. Not re-entrant: a handler must not trap into
 * its own mode.
 */
    .file "traps_entry.S"

    .macro SAVE_REGS scratch
    csrrw   sp, \scratch, sp
    addi    sp, sp, -256
    sd      x1, 8(sp)
    sd      x3, 24(sp)
    sd      x4, 32(sp)
    sd      x5, 40(sp)
    sd      x6, 48(sp)
    sd      x7, 56(sp)
    sd      x8, 64(sp)
    sd      x9, 72(sp)
    sd      x10, 80(sp)
    sd      x11, 88(sp)
    sd      x12, 96(sp)
    sd      x13, 104(sp)
    sd      x14, 112(sp)
    sd      x15, 120(sp)
    sd      x16, 128(sp)
    sd      x17, 136(sp)
    sd      x18, 144(sp)
    sd      x19, 152(sp)
    sd      x20, 160(sp)
    sd      x21, 168(sp)
    sd      x22, 176(sp)
    sd      x23, 184(sp)
    sd      x24, 192(sp)
    sd      x25, 200(sp)
    sd      x26, 208(sp)
    sd      x27, 216(sp)
    sd      x28, 224(sp)
    sd      x29, 232(sp)
    sd      x30, 240(sp)
    sd      x31, 248(sp)
    csrr    t0, \scratch            /* the interrupted sp */
    sd      t0, 16(sp)
    .endm

    .macro RESTORE_REGS scratch
    addi    t0, sp, 256             /* trap stack top back into scratch */
    csrw    \scratch, t0
    ld      x1, 8(sp)
    ld      x3, 24(sp)
    ld      x4, 32(sp)
    ld      x5, 40(sp)
    ld      x6, 48(sp)
    ld      x7, 56(sp)
    ld      x8, 64(sp)
    ld      x9, 72(sp)
    ld      x10, 80(sp)
    ld      x11, 88(sp)
    ld      x12, 96(sp)
    ld      x13, 104(sp)
    ld      x14, 112(sp)
    ld      x15, 120(sp)
    ld      x16, 128(sp)
    ld      x17, 136(sp)
    ld      x18, 144(sp)
    ld      x19, 152(sp)
    ld      x20, 160(sp)
    ld      x21, 168(sp)
    ld      x22, 176(sp)
    ld      x23, 184(sp)
    ld      x24, 192(sp)
    ld      x25, 200(sp)
    ld      x26, 208(sp)
    ld      x27, 216(sp)
    ld      x28, 224(sp)
    ld      x29, 232(sp)
    ld      x30, 240(sp)
    ld      x31, 248(sp)
    ld      sp, 16(sp)
    .endm

    .text
    .balign 4
    .globl m_trap_entry
m_trap_entry:
    SAVE_REGS mscratch
    mv      a0, sp
    call    m_trap_handler
    RESTORE_REGS mscratch
    mret

    .balign 4
    .globl s_trap_entry
s_trap_entry:
    SAVE_REGS sscratch
    mv      a0, sp
    call    s_trap_handler
    RESTORE_REGS sscratch
    sret

/* The instructions the illegal-instruction and breakpoint tests execute. */
    .globl illegal_16
illegal_16:
    .2byte  0x0000                  /* c.unimp: defined illegal, 16 bits */
    ret
    .globl illegal_32
illegal_32:
    .4byte  0xc0001073              /* csrrw zero, cycle, zero: write to a read-only CSR */
    ret
    .globl do_ebreak
do_ebreak:
    .4byte  0x00100073              /* ebreak (32-bit form) */
    ret
