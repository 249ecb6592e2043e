/*
 * selftime: a guest benchmark that times itself with mtime, as benchmarks on
 * real machines do, for seeing what guest time means.
 *
 * It reads mtime (the CLINT's, 10 MHz), runs a fixed integer kernel (LOOPS
 * rounds of a hash mix and a small table walk), reads mtime again and prints
 * the elapsed ticks, the time they stand for and a score (rounds per
 * millisecond), then a checksum of the work. With tunevm's default guest time
 * mtime advances one tick per 10 instructions, so the elapsed ticks count
 * instructions: the score is the same with the JIT on or off. With
 * runtime.host_time on, mtime follows the host clock and the score shows how
 * fast the host really ran the kernel.
 */
#include "uart.h"

#ifndef LOOPS
#define LOOPS 3000000UL
#endif

#define CLINT_MTIME (*(volatile uint64_t *)(CLINT_BASE + 0xbff8))

static uint32_t table[256];

int main(void)
{
    for (unsigned i = 0; i < 256; i++)
        table[i] = (i * 2654435761u) ^ (i << 7);

    uint64_t t0 = CLINT_MTIME;
    uint64_t h = 0x9E3779B97F4A7C15ULL, sum = 0;
    for (uint64_t i = 0; i < LOOPS; i++) {
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= table[h & 255] + i;
        sum += h >> 32;
    }
    uint64_t ticks = CLINT_MTIME - t0;

    uint64_t us = ticks / 10;            /* 10 MHz: 10 ticks per microsecond */
    printf("elapsed: %lu ticks of mtime (%lu.%03lu ms)\n", ticks, us / 1000, us % 1000);
    if (us > 0)
        printf("score: %lu rounds per ms\n", LOOPS * 1000 / us);
    printf("checksum: 0x%016lx\n", sum);
    return 0;
}
