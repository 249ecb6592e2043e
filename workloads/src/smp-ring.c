/*
 * smp-ring: message passing through single-producer single-consumer rings,
 * with IPIs to wake a sleeping partner.
 *
 * The harts form a chain: hart 0 -> hart 1 -> ... -> hart N-1, ring k carrying
 * messages from hart k to hart k+1. Hart 0 produces RING_MESSAGES messages
 * (message i is msg(i), a 64-bit hash of i); every other hart checks that it
 * receives exactly msg(0), msg(1), ... in order and passes each on; the last
 * hart folds them into an order-sensitive checksum. Hart 0 prints it after a
 * barrier. The checksum does not depend on the number of harts.
 * With one hart there is no ring: it says so and exits 0.
 *
 * A ring: RING_SLOTS u64 slots and two free-running indices, `tail` (written
 * only by the producer) and `head` (only by the consumer), each on its own
 * cache line. A side that cannot go on (consumer: ring empty; producer: ring
 * full) polls a little, then sleeps in wait_ipi(); the other side sends it an
 * IPI when it changes that:
 *   push: ... tail = t + 1; fence rw,rw; if head == t (ring was empty) IPI consumer
 *   pop:  ... head = h + 1; fence rw,rw; if tail - h >= SLOTS (was full) IPI producer
 * and a side only goes to sleep after its own index store, a fence rw,rw and a
 * fresh look at the other index. That is the store-buffering pattern (see
 * smp-litmus): with both fences RVWMO forbids both loads missing the other's
 * store, so either the sleeper sees the change and does not sleep, or the
 * waker sees the sleeper's index and sends the IPI. msip stays set until the
 * sleeper clears it, so an IPI sent before the wfi is not lost, and a sleeper
 * always re-checks after waking (wfi may return early; an IPI may be for the
 * hart's other ring).
 *
 * The number of times each hart slept and of IPIs it sent depend on timing;
 * they are printed on lines starting with "~ ".
 */
#include "smp.h"

#ifndef RING_MESSAGES
#define RING_MESSAGES 50000
#endif
#define RING_SLOTS 64           /* a power of two */
#define RING_POLLS 200          /* polls of an empty/full ring before sleeping */

struct ring {
    volatile uint64_t tail __attribute__((aligned(CACHE_LINE)));  /* producer's */
    volatile uint64_t head __attribute__((aligned(CACHE_LINE)));  /* consumer's */
    volatile uint64_t slot[RING_SLOTS] __attribute__((aligned(CACHE_LINE)));
};

struct stats {
    uint64_t sleeps, ipis;
} __attribute__((aligned(CACHE_LINE)));

static struct ring rings[SMP_MAX_HARTS - 1];    /* ring k: hart k -> hart k+1 */
static struct stats stats[SMP_MAX_HARTS];
static volatile uint64_t result_checksum;
static volatile uint64_t bad_hart, bad_index;  /* first wrong message seen, if any */
static volatile uint32_t bad_seen;

static uint64_t msg(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void push(struct ring *r, unsigned consumer, uint64_t v, struct stats *st)
{
    uint64_t t = r->tail;
    for (int polls = 0; t - r->head == RING_SLOTS; polls++) {
        if (polls < RING_POLLS) {
            cpu_relax();
        } else {
            st->sleeps++;
            wait_ipi();
        }
    }
    fence_acquire();             /* the consumer is done with the slot we reuse */
    r->slot[t % RING_SLOTS] = v;
    smp_wmb();                   /* the message before the index that publishes it */
    r->tail = t + 1;
    smp_mb();                    /* our tail before we look at head (see above) */
    if (r->head == t) {          /* it was empty: the consumer may be asleep */
        st->ipis++;
        send_ipi(consumer);
    }
}

static uint64_t pop(struct ring *r, unsigned producer, struct stats *st)
{
    uint64_t h = r->head;
    for (int polls = 0; r->tail == h; polls++) {
        if (polls < RING_POLLS) {
            cpu_relax();
        } else {
            st->sleeps++;
            wait_ipi();
        }
    }
    fence_acquire();             /* the message after the index that published it */
    uint64_t v = r->slot[h % RING_SLOTS];
    fence_release();             /* done reading the slot before handing it back */
    r->head = h + 1;
    smp_mb();                    /* our head before we look at tail (see above) */
    if (r->tail - h >= RING_SLOTS) {   /* it was full: the producer may be asleep */
        st->ipis++;
        send_ipi(producer);
    }
    return v;
}

int main(unsigned hart)
{
    unsigned n = smp_hart_count();
    if (n < 2) {
        smp_puts("smp-ring: needs at least 2 harts (run with -smp 2 or more); nothing to do");
        return 0;
    }

    smp_barrier();               /* rings are zero (.bss) and everybody is up */
    struct stats *st = &stats[hart];
    if (hart == 0) {
        for (uint64_t i = 0; i < RING_MESSAGES; i++)
            push(&rings[0], 1, msg(i), st);
    } else {
        uint64_t checksum = 0;
        for (uint64_t i = 0; i < RING_MESSAGES; i++) {
            uint64_t v = pop(&rings[hart - 1], hart - 1, st);
            if (v != msg(i) && amoadd_w(&bad_seen, 1) == 0) {
                bad_hart = hart;
                bad_index = i;
            }
            if (hart + 1 < n)
                push(&rings[hart], hart + 1, v, st);
            else
                checksum = ((checksum << 7) | (checksum >> 57)) ^ v;
        }
        if (hart + 1 == n)
            result_checksum = checksum;
    }
    smp_barrier();               /* all messages through, results visible */
    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");

    smp_printf("smp-ring: %d messages through %u ring%s of %d slots, hart 0 -> ... -> hart %u\n",
               RING_MESSAGES, n - 1, n == 2 ? "" : "s", RING_SLOTS, n - 1);
    smp_printf("checksum: 0x%016lx\n", result_checksum);
    for (unsigned k = 0; k < n; k++)
        smp_printf("~ hart %u: slept %lu times, sent %lu IPIs\n", k, stats[k].sleeps,
                   stats[k].ipis);
    if (bad_seen) {
        smp_printf("smp-ring: FAIL: hart %lu got a wrong message %lu (and %u more wrong)\n",
                   bad_hart, bad_index, bad_seen - 1);
        return 1;
    }
    return 0;
}
