/*
 * smp-hello: every hart says hello, in hart order, then hart 0 signs off.
 *
 * Hart order is not the order harts happen to run in: each hart waits for its
 * turn (a shared `turn` counter), prints its line, and passes the turn on. The
 * handover is a release store (fence rw,w; sw) answered by an acquire load
 * (lw; fence r,rw), so hart K+1 prints only after hart K's line is out.
 */
#include "smp.h"

static volatile uint32_t turn;         /* whose line is next */

int main(unsigned hart)
{
    unsigned n = smp_hart_count();

    while (turn != hart)
        cpu_relax();
    fence_acquire();
    smp_printf("hello from hart %u of %u\n", hart, n);
    fence_release();
    turn = hart + 1;

    smp_barrier();                     /* everyone has printed */
    if (hart == 0) {
        smp_printf("smp-hello: %u hart%s said hello\n", n, n == 1 ? "" : "s");
        exit(0);
    }
    for (;;)                           /* the others wait for the end */
        __asm__ volatile("wfi");
}
