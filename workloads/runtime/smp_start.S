/*
 * tunevm workloads: crt0 for SMP programs (every hart runs main).
 *
 * Every hart of the machine starts here, at the ELF entry, in M-mode and at
 * about the same time. Nothing tells a hart who it is or how many others there
 * are except `mhartid` (QEMU also passes a0 = hartid, a1 = device tree, tunevm
 * zeroes every register: use neither).
 *
 *   - a hart with mhartid >= SMP_MAX_HARTS (64) has no stack: it parks in wfi
 *   - gp; sp = __stack_top - mhartid * 16 KiB (smp_link.ld reserves 64 x 16 KiB);
 *     mtvec = smp_trap_vector; mie = 0 and mstatus.MIE = 0
 *   - hart 0 zeroes .sbss/.bss, counts the harts (smp_boot_probe in smp.c, which
 *     probes the CLINT) and only then sets `smp_release`
 *   - the other harts spin on `smp_release` until it is 1. It lives in .data with
 *     the initial value 0 (loaded from the ELF, so correct before any hart runs):
 *     a flag in .bss would be cleared by hart 0 *after* a fast hart had read it,
 *     and nobody but hart 0 may touch .bss before it is zeroed.
 *   - every hart: a0 = main(hartid); exit(a0)
 *
 * exit from any hart ends the whole machine (SiFive test finisher).
 * The trap vector reports "hart K: unexpected trap ..." and exits with code 3.
 */
    .file "smp_start.S"

    .equ    SMP_MAX_HARTS, 64
    .equ    SMP_STACK_SHIFT, 14          /* 16 KiB of stack per hart */
    /* exported so that smp_link.ld can check that the stack region is big enough */
    .globl  SMP_MAX_HARTS, SMP_STACK_SHIFT

/* pause (Zihintpause): a spin-wait hint. It is a FENCE with pred = W, succ = 0,
   so a VM that does not know it runs it as a (no-op) fence. */
#define PAUSE .insn i 0x0f, 0, x0, x0, 0x010

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    csrr    s0, mhartid                  /* s0 survives the calls below */
    li      t0, SMP_MAX_HARTS
    bgeu    s0, t0, park

    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top              /* hart K: top of slot K, counting down */
    slli    t0, s0, SMP_STACK_SHIFT
    sub     sp, sp, t0

    la      t0, smp_trap_vector
    csrw    mtvec, t0
    csrw    mie, zero                    /* reset values, but say so */
    csrci   mstatus, 8                   /* mstatus.MIE = 0 */

    bnez    s0, wait_release

    /* hart 0: zero .sbss and .bss (8-byte aligned by link.ld) */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    smp_boot_probe               /* counts the harts, sets smp_nharts */
    fence   rw, w                        /* release: .bss and the count before the flag */
    la      t0, smp_release
    li      t1, 1
    sw      t1, 0(t0)
    j       run

wait_release:
    la      t0, smp_release
1:  lw      t1, 0(t0)
    bnez    t1, 2f
    PAUSE
    j       1b
2:  fence   r, rw                        /* acquire: see everything hart 0 wrote before */

run:
    mv      a0, s0
    call    main
    call    exit                         /* never returns */

park:
    wfi
    j       park

/*
 * Trap vector (direct mode, 4-byte aligned). The program is dying: take this
 * hart's fresh stack instead of trusting sp, then report and exit(3).
 */
    .text
    .balign 4
    .globl smp_trap_vector
smp_trap_vector:
    csrr    a0, mhartid
    la      sp, __stack_top
    slli    t0, a0, SMP_STACK_SHIFT
    sub     sp, sp, t0
    csrr    a1, mcause
    csrr    a2, mepc
    csrr    a3, mtval
    call    smp_unexpected_trap
1:  j       1b

/*
 * void exit(int code), from any hart: SiFive test finisher at 0x100000 (as in
 * start.S). code == 0 -> 0x5555 (pass), else code << 16 | 0x3333 (fail).
 */
    .globl exit
exit:
    li      t0, 0x100000
    bnez    a0, 1f
    li      t1, 0x5555
    j       2f
1:  slli    t1, a0, 16
    li      t2, 0x3333
    or      t1, t1, t2
2:  fence                                /* earlier stores (and UART bytes) first */
    sw      t1, 0(t0)
3:  j       3b

    .data
    .balign 4
    .globl smp_release
smp_release:
    .word   0                            /* 1 once hart 0 has zeroed .bss */
