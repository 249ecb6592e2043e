/*
 * cpubench kernels. See cpubench_kernels.h.
 *
 * Rules that keep the RV64 and wasm32 builds identical:
 *   - only uint32_t / uint64_t arithmetic (wrap-around is defined);
 *   - no pointer values ever reach a checksum;
 *   - no libc, and no loop the compiler could turn into memset/memcpy
 *     (the sieve uses an epoch stamp instead of clearing its array).
 * Every kernel varies its input with the repetition number, so no work can be
 * hoisted out of the repetition loop.
 */
#include "cpubench_kernels.h"

/* ---- pseudo-random numbers ------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static uint64_t mix64(uint64_t acc, uint64_t v)
{
    acc ^= v + 0x9E3779B97F4A7C15ull + (acc << 6) + (acc >> 2);
    return acc * 0xFF51AFD7ED558CCDull;
}

/* ---- sieve of Eratosthenes ------------------------------------------------ */

#define SIEVE_N 12000u
static uint32_t sieve_stamp[SIEVE_N];   /* == epoch: composite in this run */
static uint32_t sieve_epoch;

static uint64_t kernel_sieve(uint32_t rep)
{
    uint32_t limit = SIEVE_N - (rep & 127);
    uint32_t epoch = ++sieve_epoch;
    uint64_t count = 0, sum = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (sieve_stamp[i] == epoch)
            continue;
        count++;
        sum += i;
        for (uint32_t j = i * i; j < limit; j += i)
            sieve_stamp[j] = epoch;
    }
    return (count << 32) ^ sum;
}

/* ---- CRC-32, bit by bit ---------------------------------------------------- */

#define CRC_BYTES 1536u
static uint8_t crc_buf[CRC_BYTES];

static uint64_t kernel_crc32(uint32_t rep)
{
    uint64_t rng = 0x1234567ull + rep;
    for (uint32_t i = 0; i < CRC_BYTES; i += 8) {
        uint64_t r = splitmix64(&rng);
        for (uint32_t k = 0; k < 8; k++)
            crc_buf[i + k] = (uint8_t)(r >> (8 * k));
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < CRC_BYTES; i++) {
        crc ^= crc_buf[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- quicksort ----------------------------------------------------------- */

#define SORT_N 1536u
static uint32_t sort_buf[SORT_N];

static void insertion_sort(uint32_t *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = a[i], j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Recurse on the smaller side, loop on the larger: depth stays O(log n). */
static void quicksort(uint32_t *a, uint32_t n)
{
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x))
                               : (x < z ? x : (y < z ? z : y));
        uint32_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        uint32_t left = j + 1;          /* a[0..left) <= pivot <= a[left..n) */
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

static uint64_t kernel_sort(uint32_t rep, uint64_t *errors)
{
    uint64_t rng = 0xC0FFEE00ull ^ ((uint64_t)rep << 20) ^ rep;
    for (uint32_t i = 0; i < SORT_N; i++)
        sort_buf[i] = (uint32_t)(xorshift64(&rng) >> 16);
    quicksort(sort_buf, SORT_N);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < SORT_N; i++) {
        if (i > 0 && sort_buf[i - 1] > sort_buf[i])
            (*errors)++;
        sum += (uint64_t)sort_buf[i] * (i + 1);
    }
    return sum;
}

/* ---- 64-bit integer matrix multiply ---------------------------------------- */

#define MAT_N 24u
static uint64_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint64_t kernel_matmul(uint32_t rep)
{
    uint64_t rng = 0xA5A5A5A5ull + rep * 7919ull;
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++) {
            mat_a[i][j] = splitmix64(&rng);
            mat_b[i][j] = splitmix64(&rng) >> 3;
        }
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++) {
            uint64_t s = 0;
            for (uint32_t k = 0; k < MAT_N; k++)
                s += mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = s;
        }
    uint64_t trace = 0, sum = 0;
    for (uint32_t i = 0; i < MAT_N; i++) {
        trace += mat_c[i][i];
        for (uint32_t j = 0; j < MAT_N; j++)
            sum = (sum ^ mat_c[i][j]) * 0x100000001B3ull;
    }
    return trace ^ sum;
}

/* ---- hashing: FNV-1a 64 and a xorshift-multiply mix ------------------------ */

#define HASH_WORDS 1536u
static uint64_t hash_buf[HASH_WORDS];

static uint64_t kernel_hash(uint32_t rep)
{
    uint64_t rng = 0x5EED0000ull | rep;
    for (uint32_t i = 0; i < HASH_WORDS; i++)
        hash_buf[i] = xorshift64(&rng) + i;
    uint64_t fnv = 0xCBF29CE484222325ull;
    const uint64_t prime = 0x100000001B3ull;
    for (uint32_t i = 0; i < HASH_WORDS; i++) {
        uint64_t w = hash_buf[i];
        for (uint32_t k = 0; k < 8; k++) {
            fnv ^= (w >> (8 * k)) & 0xFF;
            fnv *= prime;
        }
    }
    uint64_t h = 0;
    for (uint32_t i = 0; i < HASH_WORDS; i++) {
        h ^= hash_buf[i];
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53ull;
        h ^= h >> 29;
    }
    return fnv ^ (h << 1);
}

/* ---- driver ---------------------------------------------------------------- */

void cpubench_run_all(uint32_t reps, cpubench_result *out)
{
    cpubench_result r = {0, 0, 0, 0, 0, 0, 0};
    for (uint32_t rep = 0; rep < reps; rep++) {
        r.sieve  = mix64(r.sieve,  kernel_sieve(rep));
        r.crc32  = mix64(r.crc32,  kernel_crc32(rep));
        r.sort   = mix64(r.sort,   kernel_sort(rep, &r.errors));
        r.matmul = mix64(r.matmul, kernel_matmul(rep));
        r.hash   = mix64(r.hash,   kernel_hash(rep));
    }
    uint64_t c = mix64(0, reps);
    c = mix64(c, r.sieve);
    c = mix64(c, r.crc32);
    c = mix64(c, r.sort);
    c = mix64(c, r.matmul);
    c = mix64(c, r.hash);
    r.combined = c ^ r.errors;
    *out = r;
}

uint64_t cpubench_run(uint32_t reps)
{
    cpubench_result r;
    cpubench_run_all(reps, &r);
    return r.combined;
}

uint32_t cpubench_default_reps(void)
{
    return CPUBENCH_DEFAULT_REPS;
}
