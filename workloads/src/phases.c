/*
 * phases: a large code working set that changes phase, for comparing the JIT
 * code cache's eviction policies (LRU, LFU, LRU_LFU).
 *
 * 600 small generated functions (src/phases_funcs.c, from tools/gen-phases.py),
 * each a different body of 10-39 instructions with a tiny loop (3-7 basic
 * blocks), are called through the table phase_funcs[]. Every call takes the
 * running accumulator and returns the new one, so the output depends on every
 * call made, in order.
 *
 *   phase_funcs[0 .. 39]      the hot core: called in every phase
 *   phase_funcs[40 .. 289]    set A: called only in phases A
 *   phase_funcs[290 .. 539]   set B: called only in phases B
 *   phase_funcs[540 .. 599]   cold: each called once at the start of every phase
 *
 * A phase = the cold functions once each (60 calls: one-off code, like a
 * loader run at a phase change), then PHASES_ROUNDS rounds. A round = the
 * core PHASES_CORE_REPS times in a burst (40 x 4 = 160 calls), then one scan
 * of the phase's set (250 calls) in a fixed permuted order
 * (j * PHASES_SCAN_STRIDE mod 250). So each core function is called 4 times
 * per round, each set function once. The phases run A, B, A, B, ...
 * (PHASES_COUNT of them).
 *
 * What a code cache should see, counting one function as one unit (a block
 * cache sees ~4.2 units per function: ~180 for the core, ~1030 per set):
 *   - smaller than core + set (290): the scan's 250 functions come back only
 *     once per round, so LRU misses on every one of them and also loses the
 *     core (whose reuse distance spans the scan); LFU keeps the core.
 *   - core + set fits (e.g. 300): LRU follows each phase change within a
 *     round; LFU without decay keeps the old set (its units carry ~1300 hits
 *     each, newcomers 0) and the new set never gets in, until the old phase
 *     comes back.
 * A simple model of jit::code_cache (one unit per function, warm-up 100, no
 * decay) gives hit rates per phase A/B/A/B: with 200 or 250 units LRU 29 %
 * each (3 of 4 core bursts hit), LFU 39 % each (the core always hits); with 300
 * units LRU 99 % each, LFU 99 / 39 / 99 / 39 %.
 *
 * Compile-time constants (each can be overridden with -D...):
 *
 *   PHASES_COUNT        4     phases, alternating A, B, A, B
 *   PHASES_ROUNDS       1300  rounds per phase
 *   PHASES_CORE_REPS    4     core bursts per round
 *   PHASES_CORE_FUNCS   40    size of the hot core
 *   PHASES_SET_FUNCS    250   size of each phase set
 *   PHASES_COLD_FUNCS   60    one-off functions at each phase start
 *                             (core + 2 sets + cold <= 600 generated functions)
 *   PHASES_SCAN_STRIDE  97    step of the scan through a set (coprime with it)
 *
 * Calls per phase = PHASES_COLD_FUNCS + PHASES_ROUNDS * (PHASES_CORE_REPS *
 * PHASES_CORE_FUNCS + PHASES_SET_FUNCS) = 60 + 1300 * 410 = 533 060; ~97 M
 * instructions in all (~45 per call, the call and the loop around it included).
 *
 * Output: two lines saying the above, one line per phase (its set, calls made
 * and the accumulator after it), then `checksum:`; exit code 0. Nothing
 * timing-dependent is printed.
 */
#include "phases_funcs.h"
#include "uart.h"

#ifndef PHASES_COUNT
#define PHASES_COUNT 4
#endif
#ifndef PHASES_ROUNDS
#define PHASES_ROUNDS 1300
#endif
#ifndef PHASES_CORE_REPS
#define PHASES_CORE_REPS 4
#endif
#ifndef PHASES_CORE_FUNCS
#define PHASES_CORE_FUNCS 40
#endif
#ifndef PHASES_SET_FUNCS
#define PHASES_SET_FUNCS 250
#endif
#ifndef PHASES_COLD_FUNCS
#define PHASES_COLD_FUNCS 60
#endif
#ifndef PHASES_SCAN_STRIDE
#define PHASES_SCAN_STRIDE 97
#endif

#define PHASES_SET_A    PHASES_CORE_FUNCS
#define PHASES_SET_B    (PHASES_SET_A + PHASES_SET_FUNCS)
#define PHASES_COLD     (PHASES_SET_B + PHASES_SET_FUNCS)

_Static_assert(PHASES_COLD + PHASES_COLD_FUNCS <= PHASES_NFUNCS,
               "core, both sets and the cold functions must fit in the generated ones");
_Static_assert(PHASES_SCAN_STRIDE > 0 && PHASES_SCAN_STRIDE < PHASES_SET_FUNCS,
               "scan stride out of range");

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* One phase: the cold functions once, then PHASES_ROUNDS rounds of (core
   bursts, scan of the set starting at base). */
static uint64_t run_phase(uint32_t base, uint64_t acc)
{
    for (uint32_t k = 0; k < PHASES_COLD_FUNCS; k++)
        acc = phase_funcs[PHASES_COLD + k](acc);
    for (uint32_t round = 0; round < PHASES_ROUNDS; round++) {
        for (uint32_t rep = 0; rep < PHASES_CORE_REPS; rep++)
            for (uint32_t c = 0; c < PHASES_CORE_FUNCS; c++)
                acc = phase_funcs[c](acc);
        uint32_t idx = 0;
        for (uint32_t j = 0; j < PHASES_SET_FUNCS; j++) {
            acc = phase_funcs[base + idx](acc);
            idx += PHASES_SCAN_STRIDE;
            if (idx >= PHASES_SET_FUNCS)
                idx -= PHASES_SET_FUNCS;
        }
    }
    return acc;
}

int main(void)
{
    const uint32_t per_round = PHASES_CORE_REPS * PHASES_CORE_FUNCS + PHASES_SET_FUNCS;
    const uint32_t calls = PHASES_COLD_FUNCS + PHASES_ROUNDS * per_round;

    if (gcd(PHASES_SCAN_STRIDE, PHASES_SET_FUNCS) != 1) {
        printf("phases: stride %u is not coprime with %u\n", PHASES_SCAN_STRIDE,
               PHASES_SET_FUNCS);
        return 2;
    }
    printf("phases: %u functions: core %u (x%u per round), sets A and B of %u, "
           "%u cold (once per phase)\n",
           PHASES_COLD + PHASES_COLD_FUNCS, PHASES_CORE_FUNCS, PHASES_CORE_REPS,
           PHASES_SET_FUNCS, PHASES_COLD_FUNCS);
    printf("phases: %u phases A/B/A/B..., %u rounds each, %u calls per round\n",
           PHASES_COUNT, PHASES_ROUNDS, per_round);

    uint64_t acc = 0x243f6a8885a308d3ull;   /* pi, as a start */
    for (uint32_t p = 0; p < PHASES_COUNT; p++) {
        int is_b = p & 1;
        uint32_t base = is_b ? PHASES_SET_B : PHASES_SET_A;
        acc = run_phase(base, acc);
        printf("phase %u (%c): core + set %c [%u..%u], %u calls, acc 0x%016lx\n",
               p + 1, is_b ? 'B' : 'A', is_b ? 'B' : 'A', base,
               base + PHASES_SET_FUNCS - 1, calls, acc);
    }
    printf("checksum: 0x%016lx\n", acc);
    return 0;
}
