/*
 * tunevm workloads: what an SMP program gets (with smp_start.S and smp.c).
 *
 *   hart_id(), smp_hart_count()        who am I, how many of us (counted at boot)
 *   fences                             smp_mb/rmb/wmb, fence_acquire/release, fence_io
 *   cpu_relax()                        pause hint inside spin-wait loops
 *   amoadd_w(), amoadd_w_aqrl()        fetch-and-add (A extension)
 *   spin_lock/unlock                   test-and-test-and-set lock on lr.w/sc.w
 *   ticket_lock/unlock                 FIFO lock on amoadd.w
 *   nap()                              sleep in wfi for a while (CLINT timer)
 *   barrier_wait(), smp_barrier()      sense-reversing barrier on amoadd.w
 *   send_ipi(), wait_ipi()             CLINT software interrupts, no trap handler
 *   smp_printf(), smp_puts()           console output, one whole call at a time
 *
 * Memory model reminders (RVWMO, unprivileged spec chapter 17): two accesses to
 * different addresses are NOT ordered by program order, except for a few
 * dependency and same-address cases. What orders them is a FENCE (pred, succ),
 * or the .aq/.rl bits of LR/SC/AMO instructions. Device (I/O) accesses, like the
 * CLINT's msip, are ordered against memory only by a FENCE naming i/o.
 */
#ifndef TUNEVM_SMP_H
#define TUNEVM_SMP_H

#include <stdint.h>
#include "csr.h"
#include "uart.h"

#define SMP_MAX_HARTS 64          /* as in smp_start.S */
#define CACHE_LINE    64          /* pad per-hart data to this, against false sharing */

/* CLINT: msip[h] (u32, bit 0) at +4*h, mtimecmp[h] (u64) at +0x4000 + 8*h */
#define CLINT_MSIP(h) (*(volatile uint32_t *)(CLINT_BASE + 4 * (uintptr_t)(h)))

static inline unsigned hart_id(void)
{
    return (unsigned)csr_read(mhartid);
}

/* Set by hart 0 at boot (smp_boot_probe, smp.c) before any other hart runs main. */
extern volatile unsigned smp_nharts;

static inline unsigned smp_hart_count(void)
{
    return smp_nharts;
}

/* ---- fences --------------------------------------------------------------- */

/* all earlier loads and stores before all later ones */
static inline void smp_mb(void)  { __asm__ volatile("fence rw, rw" ::: "memory"); }
/* loads before loads / stores before stores */
static inline void smp_rmb(void) { __asm__ volatile("fence r, r" ::: "memory"); }
static inline void smp_wmb(void) { __asm__ volatile("fence w, w" ::: "memory"); }
/* after a load that takes ownership (a lock, a flag): later accesses stay after it */
static inline void fence_acquire(void) { __asm__ volatile("fence r, rw" ::: "memory"); }
/* before a store that hands something over: earlier accesses stay before it */
static inline void fence_release(void) { __asm__ volatile("fence rw, w" ::: "memory"); }
/* memory and device accesses, both ways (plain `fence` is fence iorw, iorw) */
static inline void fence_io(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }

/* pause (Zihintpause), encoded by hand so that -march needs no extension: a
   FENCE with pred = W and succ = 0, a no-op fence where it is unknown. */
static inline void cpu_relax(void)
{
    __asm__ volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory");
}

/* ---- atomics (A extension) ------------------------------------------------ */

/* *p += v, returns the old value; no ordering of other accesses */
static inline uint32_t amoadd_w(volatile uint32_t *p, uint32_t v)
{
    uint32_t old;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
    return old;
}

/* the same, and ordered against everything before (.rl) and after (.aq) it */
static inline uint32_t amoadd_w_aqrl(volatile uint32_t *p, uint32_t v)
{
    uint32_t old;
    __asm__ volatile("amoadd.w.aqrl %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
    return old;
}

/* ---- spinlock on LR/SC ---------------------------------------------------- */

typedef struct {
    volatile uint32_t locked;     /* 0 free, 1 held */
} spinlock_t;

#define SPINLOCK_INIT { 0 }

/*
 * Test-and-test-and-set: wait with plain loads while the lock looks held (no
 * reservations, no stores: the line can stay shared), then try to take it with
 * lr.w.aq / sc.w. sc.w writes 0 to its rd on success, non-zero if the
 * reservation was lost (another hart wrote the word in between). The .aq on the
 * lr keeps the critical section after it (the C11 acquire CAS mapping).
 */
static inline void spin_lock(spinlock_t *l)
{
    uint32_t tmp;
    __asm__ volatile(
        "1: lw      %0, 0(%1)\n"
        "   beqz    %0, 2f\n"
        "   .insn i 0x0f, 0, x0, x0, 0x010\n"   /* pause */
        "   j       1b\n"
        "2: lr.w.aq %0, (%1)\n"
        "   bnez    %0, 1b\n"                  /* taken meanwhile: wait again */
        "   sc.w    %0, %2, (%1)\n"
        "   bnez    %0, 1b\n"                  /* reservation lost: retry */
        : "=&r"(tmp)
        : "r"(&l->locked), "r"(1)
        : "memory");
}

static inline void spin_unlock(spinlock_t *l)
{
    fence_release();              /* the critical section before the release */
    l->locked = 0;
}

/* ---- napping -------------------------------------------------------------- */

/* CLINT timer: mtimecmp[h] (u64) at +0x4000 + 8*h, mtime (u64) at +0xbff8, 10 MHz */
#define CLINT_MTIMECMP(h) (*(volatile uint64_t *)(CLINT_BASE + 0x4000 + 8 * (uintptr_t)(h)))
#define CLINT_MTIME       (*(volatile uint64_t *)(CLINT_BASE + 0xbff8))

/*
 * Sleep in wfi for about `ticks` of mtime (100 ns each), woken by this hart's
 * timer (mie.MTIE, mstatus.MIE = 0: no trap). A hart that has nothing to do for
 * a while should not spin: on a host with fewer CPUs than harts (QEMU's MTTCG
 * runs each hart on a thread) a spinning hart takes the CPU from the hart it is
 * waiting for, and a VM that runs harts in turn wastes its slices on it.
 */
void nap(uint64_t ticks);

/* ---- ticket lock on amoadd.w ---------------------------------------------- */

typedef struct {
    volatile uint32_t next;       /* next ticket to hand out */
    volatile uint32_t owner;      /* ticket allowed in; written only by the holder */
} ticket_lock_t;

#define TICKET_LOCK_INIT { 0, 0 }
#define TICKET_NAP_TICKS 20       /* 2 us of napping per place in the queue */

/*
 * Harts get in in the order they drew their tickets (fair, unlike spin_lock).
 * That fairness has a price when a hart is not running: if the next ticket's
 * hart has been preempted by the host, every other waiter spins until it comes
 * back (with 4 harts on 2 host CPUs, 80 000 acquisitions took from 0.1 s to
 * minutes in QEMU). So only the next in line spins; a waiter d places back
 * naps for about d - 1 critical sections and looks again (proportional
 * back-off), which gives its host CPU back. That helps when our own harts
 * outnumber the host's CPUs; it cannot help when other host jobs preempt the
 * next in line (README: "SMP programs").
 */
static inline void ticket_lock(ticket_lock_t *l)
{
    uint32_t me = amoadd_w(&l->next, 1);
    uint32_t d;
    while ((d = me - l->owner) != 0) {
        if (d == 1)
            cpu_relax();
        else
            nap((uint64_t)(d - 1) * TICKET_NAP_TICKS);
    }
    fence_acquire();
}

static inline void ticket_unlock(ticket_lock_t *l)
{
    uint32_t next = l->owner + 1;
    fence_release();
    l->owner = next;
}

/* ---- barrier -------------------------------------------------------------- */

struct smp_barrier {
    volatile uint32_t arrived;    /* harts in this episode so far */
    volatile uint32_t sense;      /* flips when the last one arrives */
} __attribute__((aligned(CACHE_LINE)));

/* Wait until n harts (those calling it on this barrier) have arrived. Reusable. */
void barrier_wait(struct smp_barrier *b, unsigned n);
/* barrier_wait on one barrier for all smp_hart_count() harts */
void smp_barrier(void);

/* ---- inter-processor interrupts ------------------------------------------- */

/*
 * send_ipi sets the target's msip (its mip.MSIP). The fence makes the stores the
 * IPI announces visible before the device store that raises it: normal memory
 * (w) and the CLINT (o) are different channels.
 */
static inline void send_ipi(unsigned hart)
{
    fence_io();
    CLINT_MSIP(hart) = 1;
}

/*
 * Sleep until this hart's msip is set, then clear it. With mstatus.MIE = 0 and
 * mie.MSIE = 1 a pending software interrupt wakes wfi without trapping. An IPI
 * sent before the call is not lost: msip stays set until cleared here. wfi may
 * also return for no reason: callers always re-check what they wait for.
 */
void wait_ipi(void);

/* ---- console -------------------------------------------------------------- */

/* printf / puts under a ticket lock: one call's output is never split by
   another hart's. Print whole lines per call. */
int smp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int smp_puts(const char *s);

/* ---- called by smp_start.S ------------------------------------------------ */

void smp_boot_probe(void);
void smp_unexpected_trap(uint64_t hart, uint64_t mcause, uint64_t mepc, uint64_t mtval)
    __attribute__((noreturn));

#endif
