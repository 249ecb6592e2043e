/*
 * smp-litmus: memory-model litmus tests between harts 0 and 1.
 *
 * Three classic shapes, each without and with fences, each run LITMUS_RUNS
 * times. x and y start at 0 (on separate cache lines); each hart runs its half
 * (inline asm, so the compiler cannot reorder or merge anything) and hart 0
 * counts the outcomes. What RVWMO (unprivileged spec, chapter 17) says:
 *
 *   MP  (message passing)   hart 0: x = 1; [fence w,w]; y = 1
 *                           hart 1: r1 = y; [fence r,r]; r2 = x
 *       relaxed r1=1 r2=0: allowed without fences (two stores, or two loads,
 *       to different addresses are not in preserved program order);
 *       forbidden with both fences (ppo rule 4: a FENCE orders its predecessor
 *       set before its successor set).
 *   SB  (store buffering)   hart 0: x = 1; [fence rw,rw]; r1 = y
 *                           hart 1: y = 1; [fence rw,rw]; r2 = x
 *       relaxed r1=0 r2=0: allowed without fences (a store followed by a load
 *       of another address is not ordered: the store may wait in a store
 *       buffer; x86 and Arm do this too); forbidden with fences (a FENCE whose
 *       predecessor set has w and successor set r; fence w,r would do).
 *   LB  (load buffering)    hart 0: r1 = x; [fence r,w]; y = 1
 *                           hart 1: r2 = y; [fence r,w]; x = 1
 *       relaxed r1=1 r2=1: allowed by RVWMO without fences or dependencies
 *       (load -> store to another address is not in ppo; rarely seen on real
 *       hardware, never on an x86 host, which is TSO); forbidden with fences.
 *
 * A forbidden outcome prints which test and how often, and the exit status is
 * 1. How often an allowed relaxed outcome shows up depends on timing (QEMU's
 * MTTCG on an x86 host shows SB, never MP or LB): those counts are printed on
 * lines starting with "~ ". The other lines are fixed.
 *
 * Each run: hart 0 resets x and y; barrier (harts 0 and 1 only); each hart
 * waits a few loop iterations, a different skew each run, so that the two
 * halves overlap in many different ways; runs its half; hart 1 stores its
 * register in `res1`; barrier; hart 0 counts. Harts 2 and up have nothing to
 * do: they sleep in wait_ipi (rather than spinning in a barrier, which on a host
 * with fewer CPUs than harts would take CPU time from harts 0 and 1) until
 * hart 0 wakes them for the final barrier.
 * With one hart there is nobody to race with: it says so and exits 0.
 */
#include "smp.h"

#ifndef LITMUS_RUNS
#define LITMUS_RUNS 2000
#endif

static struct { volatile uint32_t v; } x __attribute__((aligned(CACHE_LINE))),
                                       y __attribute__((aligned(CACHE_LINE)));
static struct { volatile uint32_t r; } res1 __attribute__((aligned(CACHE_LINE)));
static struct smp_barrier pair;           /* harts 0 and 1 */
static volatile uint32_t done;            /* wakes harts 2.. */

enum shape { MP, SB, LB };

struct test {
    const char *name;
    enum shape shape;
    int fenced;
    unsigned relaxed_r1, relaxed_r2;      /* the relaxed (or forbidden) outcome */
};

static const struct test tests[] = {
    { "MP",        MP, 0, 1, 0 },
    { "MP+fences", MP, 1, 1, 0 },
    { "SB",        SB, 0, 0, 0 },
    { "SB+fences", SB, 1, 0, 0 },
    { "LB",        LB, 0, 1, 1 },
    { "LB+fences", LB, 1, 1, 1 },
};
#define NTESTS (sizeof tests / sizeof tests[0])

/* stores and loads of x and y, with or without a fence between them */
#define ST_ST(a, b, F)  __asm__ volatile("sw %2, 0(%0)\n" F "sw %2, 0(%1)" \
                                         :: "r"(a), "r"(b), "r"(1) : "memory")
#define LD_LD(a, b, F)  __asm__ volatile("lw %0, 0(%2)\n" F "lw %1, 0(%3)" \
                                         : "=&r"(r), "=&r"(r2) : "r"(a), "r"(b) : "memory")
#define ST_LD(a, b, F)  __asm__ volatile("sw %2, 0(%1)\n" F "lw %0, 0(%3)" \
                                         : "=&r"(r) : "r"(a), "r"(1), "r"(b) : "memory")
#define LD_ST(a, b, F)  __asm__ volatile("lw %0, 0(%1)\n" F "sw %2, 0(%3)" \
                                         : "=&r"(r) : "r"(a), "r"(1), "r"(b) : "memory")

/* Hart 0's or hart 1's half of a test; returns its register. For MP, hart 1
   returns r1 | r2 << 1 and hart 0 (the writer) returns 0. */
static unsigned run_half(unsigned hart, const struct test *t)
{
    uint32_t r = 0, r2 = 0;
    volatile uint32_t *px = &x.v, *py = &y.v;
    switch (t->shape) {
    case MP:
        if (hart == 0) {
            if (t->fenced) ST_ST(px, py, "fence w, w\n"); else ST_ST(px, py, "");
        } else {
            if (t->fenced) LD_LD(py, px, "fence r, r\n"); else LD_LD(py, px, "");
            r |= r2 << 1;
        }
        break;
    case SB:
        if (hart == 0) {
            if (t->fenced) ST_LD(px, py, "fence rw, rw\n"); else ST_LD(px, py, "");
        } else {
            if (t->fenced) ST_LD(py, px, "fence rw, rw\n"); else ST_LD(py, px, "");
        }
        break;
    case LB:
        if (hart == 0) {
            if (t->fenced) LD_ST(px, py, "fence r, w\n"); else LD_ST(px, py, "");
        } else {
            if (t->fenced) LD_ST(py, px, "fence r, w\n"); else LD_ST(py, px, "");
        }
        break;
    }
    return r;
}

static void delay(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        __asm__ volatile("");
}

int main(unsigned hart)
{
    unsigned n = smp_hart_count();
    if (n < 2) {
        smp_puts("smp-litmus: needs at least 2 harts (run with -smp 2 or more); nothing to do");
        return 0;
    }
    if (hart >= 2) {                       /* idle: sleep until the end */
        while (!done)
            wait_ipi();
        smp_barrier();
        for (;;)
            __asm__ volatile("wfi");
    }

    int forbidden_seen = 0;
    if (hart == 0)
        smp_printf("smp-litmus: harts 0 and 1, %d runs per test (harts 2.. idle: %u)\n",
                   LITMUS_RUNS, n - 2);
    for (unsigned k = 0; k < NTESTS; k++) {
        const struct test *t = &tests[k];
        unsigned count[4] = { 0, 0, 0, 0 };   /* by r1 | r2 << 1 */
        for (unsigned run = 0; run < LITMUS_RUNS; run++) {
            if (hart == 0) {
                x.v = 0;
                y.v = 0;
            }
            barrier_wait(&pair, 2);
            delay(hart == 0 ? run % 16 : (run / 16) % 16);
            unsigned r = run_half(hart, t);
            if (hart == 1)
                res1.r = r;
            barrier_wait(&pair, 2);
            if (hart == 0) {
                unsigned r1, r2;
                if (t->shape == MP) {
                    r1 = res1.r & 1;          /* both registers are hart 1's */
                    r2 = res1.r >> 1;
                } else {
                    r1 = r;
                    r2 = res1.r;
                }
                count[r1 | r2 << 1]++;
            }
        }
        if (hart != 0)
            continue;
        unsigned relaxed = count[t->relaxed_r1 | t->relaxed_r2 << 1];
        smp_printf("~ %s: r1r2=00 %u, 10 %u, 01 %u, 11 %u\n", t->name,
                   count[0], count[1], count[2], count[3]);
        if (!t->fenced) {
            smp_printf("%s (no fences): %d runs, relaxed outcome r1=%u r2=%u allowed\n",
                       t->name, LITMUS_RUNS, t->relaxed_r1, t->relaxed_r2);
            smp_printf("~ %s no fence: relaxed %u/%d\n", t->name, relaxed, LITMUS_RUNS);
        } else if (relaxed == 0) {
            smp_printf("%s: forbidden outcome never seen\n", t->name);
        } else {
            smp_printf("%s: FORBIDDEN outcome r1=%u r2=%u seen %u times in %d runs\n",
                       t->name, t->relaxed_r1, t->relaxed_r2, relaxed, LITMUS_RUNS);
            forbidden_seen = 1;
        }
    }

    if (hart == 1) {
        smp_barrier();
        for (;;)
            __asm__ volatile("wfi");
    }
    done = 1;                              /* wake the idle harts for the end */
    for (unsigned k = 2; k < n; k++)
        send_ipi(k);
    smp_barrier();
    smp_printf("smp-litmus: %s\n", forbidden_seen ? "FAIL" : "no forbidden outcome");
    return forbidden_seen;
}
