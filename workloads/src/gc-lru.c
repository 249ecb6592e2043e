/*
 * gc-lru: an LRU cache on tunevm's collected heap (runtime/gc.h).
 *
 * A hash table (BUCKETS chains, the bucket array itself a gc_alloc'ed object)
 * and a doubly linked recency list of at most CAPACITY entries. Each entry owns
 * a value buffer of 64..1024 bytes:
 *   - keys not divisible by 3: a gc_alloc_atomic buffer of words (no pointers);
 *   - keys divisible by 3: a gc_alloc buffer whose word 0 points to a second,
 *     atomic buffer of 16..256 bytes (so the value is reachable only through
 *     a pointer inside another heap object).
 * Word k of a buffer is seed + k * ODD for every fourth k and the last one, 0
 * for the others (objects come zeroed); the seed is a hash of the key and the
 * load number (kept in the entry and, per key, in a shadow array in .bss).
 *
 * LOOKUPS lookups of keys drawn from a skewed PRNG distribution (uniform below a
 * uniformly random bound: small keys are hot). A hit checks a few words of the
 * value (every 16th hit the whole value) and moves the entry to the front; a
 * miss loads the key (new entry and value) and, when full, evicts the least
 * recently used entry: it is only unlinked, the collector reclaims it. Halfway
 * through, the whole cache is flushed (a new, empty bucket array) at once.
 * At the end the list and table are walked and every value checked in full.
 *
 * Prints the hit / miss / eviction counts and a checksum of the values seen
 * (nothing from the GC); with -DLRU_EXPECT=... (the value of the host build,
 * see build.sh) the checksum is checked too. Exit 0 and "gc-lru: ok", or
 * FAIL lines and exit 1.
 *
 * Defaults: 2048 entries, 8192 keys, 120 000 lookups (51 384 hits, 68 616
 * misses), ~43 MiB allocated, ~1.4 MiB live, ~35 M instructions.
 */
#include "gc.h"

#ifndef CAPACITY
#define CAPACITY 2048
#endif
#ifndef KEYS
#define KEYS 8192
#endif
#ifndef LOOKUPS
#define LOOKUPS 120000
#endif
#define BUCKETS 4096                       /* a power of two */
#define ODD 0x9e3779b97f4a7c15ULL

struct entry {
    struct entry *prev, *next;             /* recency list, most recent first */
    struct entry *hnext;                   /* hash chain */
    uint64_t *value;
    uint64_t key, seed;
    uint32_t words, gen;
};

static struct entry **buckets;             /* gc_alloc'ed, BUCKETS pointers */
static struct entry *head, *tail;
static uint32_t count;

static uint32_t shadow_gen[KEYS];          /* load number of the cached copy */
static uint64_t rng = 0x9d2c5680a3b1f0e7ULL;
static uint64_t hits, misses, evictions, checksum;
static uint32_t loads;
static long failures;

static inline uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 32;
    return x;
}

static void fail(const char *what, uint64_t key, uint64_t got, uint64_t want)
{
    if (failures < 10)
        printf("FAIL: %s, key %lu: 0x%lx, expected 0x%lx\n", what, key, got, want);
    failures++;
}

static void *alloc_or_die(size_t size, unsigned long flags)
{
    void *p = gc_alloc_flags(size, flags);
    if (!p) {
        puts("FAIL: out of GC heap");
        exit(1);
    }
    return p;
}

static inline uint32_t bucket_of(uint64_t key) { return (uint32_t)(mix(key) & (BUCKETS - 1)); }

/* The extra buffer of a key divisible by 3: 2..32 words. */
static inline uint32_t extra_words(uint64_t seed) { return 2 + (uint32_t)(seed >> 59); }

/* Word k holds seed + k * ODD when k % 4 == 0 or k is the last; the others stay 0. */
static inline uint64_t word(uint64_t seed, uint32_t k, uint32_t n)
{
    return (k & 3) == 0 || k == n - 1 ? seed + k * ODD : 0;
}

static void fill(uint64_t *w, uint32_t n, uint32_t from, uint64_t seed)
{
    for (uint32_t k = (from + 3) & ~3u; k < n; k += 4)
        w[k] = seed + k * ODD;
    w[n - 1] = seed + (n - 1) * ODD;
}

static void check_words(const struct entry *e, const uint64_t *w, uint32_t n, uint32_t from,
                        uint64_t seed, const char *what)
{
    for (uint32_t k = from; k < n; k++)
        if (w[k] != word(seed, k, n)) {
            fail(what, e->key, w[k], word(seed, k, n));
            return;
        }
}

/* The whole value of e, and that it is the copy the shadow expects. */
static void check_entry(const struct entry *e)
{
    if (e->key >= KEYS || e->gen != shadow_gen[e->key] || e->seed != mix(e->key * ODD + e->gen)) {
        fail("entry", e->key, e->gen, e->key < KEYS ? shadow_gen[e->key] : 0);
        return;
    }
    if (e->key % 3 == 0) {
        const uint64_t *x = (const uint64_t *)e->value[0];
        check_words(e, e->value, e->words, 1, e->seed, "value");
        if (x)
            check_words(e, x, extra_words(e->seed), 0, ~e->seed, "extra value");
        else
            fail("extra value pointer", e->key, 0, 1);
    } else {
        check_words(e, e->value, e->words, 0, e->seed, "value");
    }
}

static void unlink_list(struct entry *e)
{
    if (e->prev) e->prev->next = e->next; else head = e->next;
    if (e->next) e->next->prev = e->prev; else tail = e->prev;
    e->prev = e->next = 0;
}

static void push_front(struct entry *e)
{
    e->prev = 0;
    e->next = head;
    if (head) head->prev = e; else tail = e;
    head = e;
}

static void evict(void)
{
    struct entry *e = tail;
    unlink_list(e);
    struct entry **pp = &buckets[bucket_of(e->key)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    shadow_gen[e->key] = 0;
    count--;
    evictions++;
}

static struct entry *load(uint64_t key)
{
    struct entry *e = alloc_or_die(sizeof *e, 0);
    e->key = key;
    e->gen = ++loads;
    e->seed = mix(key * ODD + e->gen);
    e->words = 8 + (uint32_t)(mix(e->seed) % 121);     /* 64 .. 1024 bytes */
    if (key % 3 == 0) {
        e->value = alloc_or_die(e->words * 8, 0);
        uint32_t n = extra_words(e->seed);
        uint64_t *x = alloc_or_die(n * 8, GC_NO_POINTERS);
        fill(x, n, 0, ~e->seed);
        e->value[0] = (uint64_t)(uintptr_t)x;
        fill(e->value, e->words, 1, e->seed);
    } else {
        e->value = alloc_or_die(e->words * 8, GC_NO_POINTERS);
        fill(e->value, e->words, 0, e->seed);
    }
    shadow_gen[key] = e->gen;
    return e;
}

static void lookup(uint64_t key)
{
    uint32_t b = bucket_of(key);
    struct entry *e = buckets[b];
    while (e && e->key != key)
        e = e->hnext;
    if (e) {
        hits++;
        if (e->gen != shadow_gen[key])
            fail("hit on a stale entry", key, e->gen, shadow_gen[key]);
        if ((hits & 15) == 0) {
            check_entry(e);
        } else {
            uint32_t last = e->words - 1;
            if (e->value[last] != e->seed + last * ODD)
                fail("value (last word)", key, e->value[last], e->seed + last * ODD);
        }
        checksum = (checksum ^ e->value[e->words - 1]) * 0x100000001b3ULL + key;
        if (e != head) {
            unlink_list(e);
            push_front(e);
        }
        return;
    }
    if (shadow_gen[key] != 0)
        fail("miss on a cached key", key, 0, shadow_gen[key]);
    misses++;
    if (count == CAPACITY)
        evict();
    e = load(key);
    e->hnext = buckets[b];
    buckets[b] = e;
    push_front(e);
    count++;
    checksum = (checksum ^ e->seed) * 0x100000001b3ULL + key;
}

static void flush(void)
{
    buckets = alloc_or_die(BUCKETS * sizeof *buckets, 0);
    head = tail = 0;
    count = 0;
    for (uint32_t k = 0; k < KEYS; k++)
        shadow_gen[k] = 0;
}

static void check_all(void)
{
    uint32_t n = 0;
    for (const struct entry *e = head; e; e = e->next) {
        n++;
        if (n > CAPACITY || (e->next && e->next->prev != e)) {
            fail("recency list", e->key, n, count);
            return;
        }
        const struct entry *h = buckets[bucket_of(e->key)];
        while (h && h != e)
            h = h->hnext;
        if (!h)
            fail("entry missing from its hash chain", e->key, 0, 1);
        check_entry(e);
    }
    if (n != count)
        fail("entries in the list", 0, n, count);
    uint32_t cached = 0;
    for (uint32_t k = 0; k < KEYS; k++)
        cached += shadow_gen[k] != 0;
    if (cached != count)
        fail("keys cached", 0, cached, count);
}

int main(void)
{
    gc_init();
    flush();
    for (uint32_t i = 0; i < LOOKUPS; i++) {
        uint64_t span = 1 + (next_rand() >> 33) % KEYS;
        lookup((next_rand() >> 33) % span);
        if (i == LOOKUPS / 2) {
            check_all();
            flush();
        }
    }
    check_all();
    printf("lookups %u: %lu hits, %lu misses, %lu evictions\n", (unsigned)LOOKUPS, hits, misses,
           evictions);
    printf("checksum 0x%016lx\n", checksum);
#ifdef LRU_EXPECT
    if (checksum != LRU_EXPECT)
        fail("checksum", 0, checksum, LRU_EXPECT);
#endif
    if (failures) {
        printf("gc-lru: FAIL (%ld mismatches)\n", failures);
        return 1;
    }
    puts("gc-lru: ok");
    return 0;
}
