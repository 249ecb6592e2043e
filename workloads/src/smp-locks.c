/*
 * smp-locks: two locks, each guarding a shared counter.
 *
 * Every hart increments each counter LOCKS_INCREMENTS times, the increment
 * being a plain load, add and store inside the critical section: without
 * mutual exclusion two harts load the same value and one increment is lost.
 *   phase 1: spin_lock   (lr.w.aq / sc.w, test-and-test-and-set; smp.h)
 *   phase 2: ticket_lock (amoadd.w draws a ticket, wait for `owner`; smp.h)
 * A barrier starts each phase, so all harts contend at once. Hart 0 then checks
 * that each counter is exactly harts x increments and exits 0, or 1 if not.
 *
 * Build with -DLOCKS_BROKEN to take the locks out (and see the counts go wrong
 * on more than one hart).
 */
#include "smp.h"

#ifndef LOCKS_INCREMENTS
#define LOCKS_INCREMENTS 5000
#endif

/* Each lock with its counter in a cache line of its own. */
static struct {
    spinlock_t lock;
    volatile uint64_t count;
} spin __attribute__((aligned(CACHE_LINE))) = { SPINLOCK_INIT, 0 };

static struct {
    ticket_lock_t lock;
    volatile uint64_t count;
} ticket __attribute__((aligned(CACHE_LINE))) = { TICKET_LOCK_INIT, 0 };

#ifdef LOCKS_BROKEN
#define spin_lock(l)     ((void)(l))
#define spin_unlock(l)   ((void)(l))
#define ticket_lock(l)   ((void)(l))
#define ticket_unlock(l) ((void)(l))
#endif

static int check(const char *what, uint64_t got, uint64_t want)
{
    smp_printf("%s: %lu (expected %lu)\n", what, got, want);
    if (got == want)
        return 0;
    smp_printf("smp-locks: FAIL: %s lost %ld increments\n", what, (int64_t)(want - got));
    return 1;
}

int main(unsigned hart)
{
    unsigned n = smp_hart_count();

    smp_barrier();
    for (int i = 0; i < LOCKS_INCREMENTS; i++) {
        spin_lock(&spin.lock);
        spin.count = spin.count + 1;
        spin_unlock(&spin.lock);
    }

    smp_barrier();
    for (int i = 0; i < LOCKS_INCREMENTS; i++) {
        ticket_lock(&ticket.lock);
        ticket.count = ticket.count + 1;
        ticket_unlock(&ticket.lock);
    }

    smp_barrier();                   /* both counters final and visible */
    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");

    uint64_t want = (uint64_t)n * LOCKS_INCREMENTS;
    smp_printf("smp-locks: %u hart%s x %d increments per lock\n", n, n == 1 ? "" : "s",
               LOCKS_INCREMENTS);
    int bad = check("spinlock (lr/sc)", spin.count, want);
    bad |= check("ticket lock (amoadd)", ticket.count, want);
    return bad;
}
