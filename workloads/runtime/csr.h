/*
 * tunevm workloads: CSR access and the privileged-architecture constants the
 * trap and paging workloads use (RISC-V privileged spec, chapter 3 and 4).
 */
#ifndef TUNEVM_CSR_H
#define TUNEVM_CSR_H

#include <stdint.h>

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, val)   __asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")

/* mstatus / sstatus */
#define MSTATUS_SIE      (1UL << 1)
#define MSTATUS_MIE      (1UL << 3)
#define MSTATUS_SPIE     (1UL << 5)
#define MSTATUS_MPIE     (1UL << 7)
#define MSTATUS_SPP      (1UL << 8)
#define MSTATUS_MPP_MASK (3UL << 11)
#define MSTATUS_MPP_U    (0UL << 11)
#define MSTATUS_MPP_S    (1UL << 11)
#define MSTATUS_MPP_M    (3UL << 11)

/* mie / mip */
#define MIP_MSIP (1UL << 3)
#define MIP_MTIP (1UL << 7)

/* mcause */
#define CAUSE_INTERRUPT         (1UL << 63)
#define CAUSE_MISALIGNED_FETCH  0
#define CAUSE_ILLEGAL_INSN      2
#define CAUSE_BREAKPOINT        3
#define CAUSE_ECALL_U           8
#define CAUSE_ECALL_S           9
#define CAUSE_ECALL_M           11
#define CAUSE_FETCH_PAGE_FAULT  12
#define CAUSE_LOAD_PAGE_FAULT   13
#define CAUSE_STORE_PAGE_FAULT  15
#define IRQ_M_TIMER             7

/* PMP: one TOR entry from 0 up to pmpaddr0 << 2 */
#define PMPCFG_R   0x01
#define PMPCFG_W   0x02
#define PMPCFG_X   0x04
#define PMPCFG_TOR 0x08

/* Open all of memory to S and U (QEMU denies them everything otherwise). */
static inline void pmp_allow_all(void)
{
    csr_write(pmpaddr0, ~0UL >> 10);
    csr_write(pmpcfg0, PMPCFG_TOR | PMPCFG_R | PMPCFG_W | PMPCFG_X);
}

#endif
