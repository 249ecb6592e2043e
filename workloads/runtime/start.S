/*
 * tunevm workloads: crt0 for bare-metal RV64 programs.
 *
 * Entry in M-mode at _start with every register zero except pc.
 *   - harts other than 0 park in wfi (the workloads are single-hart)
 *   - gp, sp (top of the stack region from link.ld), mtvec = runtime_trap_vector
 *   - .sbss/.bss zeroed
 *   - a0 = main(); exit(a0) through the SiFive test finisher
 *
 * The default trap vector reports "unexpected trap mcause=... mepc=... mtval=..."
 * on the UART and exits with code 3. Programs that expect traps install their
 * own mtvec/stvec.
 */
    .file "start.S"
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park

    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

    la      t0, runtime_trap_vector
    csrw    mtvec, t0

    /* zero .sbss and .bss (both 8-byte aligned by link.ld) */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    call    main
    call    exit            /* never returns */

park:
    wfi
    j       park

/*
 * Default trap vector (direct mode, so 4-byte aligned). The program is dying:
 * take a fresh stack instead of trusting sp, then report and exit(3).
 */
    .text
    .balign 4
    .globl runtime_trap_vector
runtime_trap_vector:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    runtime_unexpected_trap
1:  j       1b

/*
 * void exit(int code): SiFive test finisher at 0x100000.
 *   code == 0 -> 0x5555 (pass)
 *   else      -> code << 16 | 0x3333 (fail with code)
 * A 32-bit store. If nothing is there (not a virt-like machine), spin.
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
2:  sw      t1, 0(t0)
3:  j       3b
