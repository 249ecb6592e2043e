/*
 * smp-sum: a parallel integer kernel with a reduction, for measuring how a VM
 * scales with harts.
 *
 * The work is fixed: hash every index i in [0, SUM_INDICES) with two rounds of
 * the splitmix64 finaliser and fold the hashes into a sum, an xor and a count
 * (hashes whose low byte is 0). Hart K of N takes the K-th contiguous slice of
 * the index range; its loop keeps everything in registers (no shared writes in
 * the hot loop) and stores its partial results once, at the end, in its own
 * cache line. After a barrier hart 0 adds the partials up. Sum, xor and count do
 * not care how the range was split, so the checksum is the same on any number
 * of harts; hart 0 checks it against the value for this build (SUM_EXPECT) and
 * that the slices covered every index exactly once.
 *
 *   smp-sum.elf        SUM_INDICES = 9 000 000 (~200 M instructions in all)
 *   smp-sum-small.elf  SUM_INDICES =   450 000 (~10 M), for tests
 *   smp-sum-large.elf  SUM_INDICES = 90 000 000 (~2 G), for the JIT's scaling
 *
 * -DSMP_SHOW_INSTRET adds a `~ ` line per hart with the minstret of its slice
 * (for calibration; exact under QEMU with -icount shift=0).
 */
#include "smp.h"

#ifndef SUM_INDICES
#define SUM_INDICES 9000000UL
#endif

/* One per hart, each in its own cache line: no false sharing at the end. */
struct partial {
    uint64_t sum, xor, count, indices;
    uint64_t instret;
} __attribute__((aligned(CACHE_LINE)));

static struct partial partials[SMP_MAX_HARTS];

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static void work(uint64_t lo, uint64_t hi, struct partial *out)
{
    uint64_t sum = 0, xor = 0, count = 0;
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t h = mix(mix(i * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL));
        sum += h;
        xor ^= h;
        count += (h & 0xff) == 0;
    }
    out->sum = sum;
    out->xor = xor;
    out->count = count;
    out->indices = hi - lo;
}

int main(unsigned hart)
{
    unsigned n = smp_hart_count();
    uint64_t lo = SUM_INDICES * hart / n, hi = SUM_INDICES * (hart + 1) / n;

    uint64_t t0 = csr_read(minstret);
    work(lo, hi, &partials[hart]);
    partials[hart].instret = csr_read(minstret) - t0;

    smp_barrier();                       /* all partials written and visible */
    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");     /* hart 0 ends the run */

    uint64_t sum = 0, xor = 0, count = 0, indices = 0;
    for (unsigned k = 0; k < n; k++) {
        sum += partials[k].sum;
        xor ^= partials[k].xor;
        count += partials[k].count;
        indices += partials[k].indices;
#ifdef SMP_SHOW_INSTRET
        smp_printf("~ hart %u: %lu indices, minstret %lu\n", k,
                   partials[k].indices, partials[k].instret);
#endif
    }
    uint64_t checksum = sum ^ (xor << 1) ^ (count << 40);
    smp_printf("smp-sum: %lu indices on %u hart%s\n", (uint64_t)SUM_INDICES, n,
               n == 1 ? "" : "s");
    smp_printf("sum 0x%016lx xor 0x%016lx low-byte-zero %lu\n", sum, xor, count);
    smp_printf("checksum: 0x%016lx\n", checksum);
    if (indices != SUM_INDICES) {
        smp_printf("smp-sum: FAIL: the slices covered %lu indices\n", indices);
        return 1;
    }
#ifdef SUM_EXPECT
    if (checksum != SUM_EXPECT) {
        smp_printf("smp-sum: FAIL: checksum should be 0x%016lx\n", (uint64_t)SUM_EXPECT);
        return 1;
    }
#endif
    return 0;
}
