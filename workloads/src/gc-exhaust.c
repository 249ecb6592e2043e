/*
 * gc-exhaust: runs tunevm's collected heap (runtime/gc.h) out of memory on
 * purpose, or not, depending on the heap size.
 *
 * It wants LIVE_MIB MiB (default 48) live at once, in a linked list of chunks
 * of 32..96 KiB (64 KiB on average). Half the chunks are one scanned object
 * (gc_alloc: a header with the `next` pointer, then the data); the other half
 * are a small scanned header whose data is a separate gc_alloc_atomic buffer.
 * Every data word at a 512-byte stride (and the last) is written with a value
 * derived from the chunk's seed; the check at the end reads those and the
 * (zeroed) word after each. After each chunk a 16 KiB garbage buffer is
 * allocated and dropped, so collections run with the heap nearly full.
 *
 *   - gc_alloc returns 0 (the heap is too small even after a collection):
 *     prints "out of GC heap: N KiB live of LIVE_MIB MiB wanted" and exits 3;
 *   - otherwise: a full collection (gc_collect), every chunk checked, "ok",
 *     exit 0. That is the run in expected/ (the default 256 MiB of RAM is big
 *     enough; with gc.heap_size_limit at 32 MiB it fails as above).
 * A chunk found wrong prints FAIL and exits 1.
 *
 * ~60 MiB allocated, ~2.3 M instructions (the work is in the allocator).
 */
#include "gc.h"

#ifndef LIVE_MIB
#define LIVE_MIB 48
#endif
#define STRIDE 64                           /* words: one written per 512 bytes */
#define GARBAGE (16 * 1024)

struct chunk {
    struct chunk *next;
    uint64_t *data;                         /* after the header, or its own atomic buffer */
    uint64_t words, seed;
};

static struct chunk *list;
static uint64_t rng = 0x2b992ddfa23249d6ULL;

static inline uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static inline uint64_t value(uint64_t seed, uint64_t k) { return (seed ^ k) * 0x9e3779b97f4a7c15ULL; }

static void out_of_heap(uint64_t live)
{
    printf("out of GC heap: %lu KiB live of %u MiB wanted\n", live / 1024, (unsigned)LIVE_MIB);
    exit(3);
}

static int check_word(const struct chunk *c, uint64_t n, uint64_t k, uint64_t want)
{
    static int reported;
    if (c->data[k] == want)
        return 0;
    if (reported++ < 10)
        printf("FAIL: chunk %lu word %lu: 0x%lx, expected 0x%lx\n", n, k, c->data[k], want);
    return 1;
}

int main(void)
{
    gc_init();
    if (gc_stat(99) != ~0ULL) {
        puts("gc-exhaust: FAIL: gc.stats of an unknown number is not all ones");
        return 1;
    }
    const uint64_t want = (uint64_t)LIVE_MIB << 20;
    uint64_t live = 0, chunks = 0;
    struct chunk **tailp = &list;
    while (live < want) {
        uint64_t x = next_rand();
        uint64_t words = (32 * 1024 + (x >> 20) % (64 * 1024 + 1)) / 8;
        struct chunk *c;
        if (x & 1) {
            c = gc_alloc(sizeof *c + words * 8);
            if (!c)
                out_of_heap(live);
            c->data = (uint64_t *)(c + 1);
        } else {
            c = gc_alloc(sizeof *c);
            if (!c)
                out_of_heap(live);
            c->data = gc_alloc_atomic(words * 8);
            if (!c->data)
                out_of_heap(live);
        }
        live += sizeof *c + words * 8;
        c->words = words;
        c->seed = x;
        for (uint64_t k = 0; k < words; k += STRIDE)
            c->data[k] = value(x, k);
        c->data[words - 1] = value(x, words - 1);
        *tailp = c;
        tailp = &c->next;
        chunks++;
        /* short-lived garbage: dropped at once */
        uint64_t *g = gc_alloc_atomic(GARBAGE);
        if (!g)
            out_of_heap(live);
        g[0] = g[GARBAGE / 8 - 1] = x;
    }
    gc_collect();
    uint64_t seen = 0, bad = 0;
    for (const struct chunk *c = list; c; c = c->next) {
        seen++;
        /* the written words, the (zeroed) word after each and the last word */
        for (uint64_t k = 0; k < c->words; k += STRIDE) {
            bad += check_word(c, seen, k, value(c->seed, k));
            if (k + 1 < c->words - 1)
                bad += check_word(c, seen, k + 1, 0);
        }
        bad += check_word(c, seen, c->words - 1, value(c->seed, c->words - 1));
    }
    if (seen != chunks || bad) {
        printf("gc-exhaust: FAIL (%lu of %lu chunks reached, %lu wrong)\n", seen, chunks, bad);
        return 1;
    }
    printf("%lu KiB live in %lu chunks, all intact\n", live / 1024, chunks);
    puts("gc-exhaust: ok");
    return 0;
}
