/*
 * mixbench: integer benchmark of control flow (calls and recursion, indirect
 * calls, linked lists over many pages, a lexer and parser, small matrices).
 * The kernels live in mixbench_kernels.c, shared with the wasm32 build.
 * Prints one checksum per kernel and the combined checksum, which must equal
 * mixbench_run(MIXBENCH_DEFAULT_REPS) in bin/mixbench.wasm. Build with
 * -DMIXBENCH_SHOW_INSTRET to also print minstret (for calibration only: that
 * line is timing-dependent on most machines).
 */
#include "mixbench_kernels.h"
#include "uart.h"

int main(void)
{
    mixbench_result r;
    uint32_t reps = MIXBENCH_DEFAULT_REPS;

    printf("mixbench: %u repetitions of calls, indirect, lists, parse, matrix\n", reps);
    mixbench_run_all(reps, &r);
    printf("calls:    0x%016lx\n", r.calls);
    printf("indirect: 0x%016lx\n", r.indirect);
    printf("lists:    0x%016lx\n", r.lists);
    printf("parse:    0x%016lx\n", r.parse);
    printf("matrix:   0x%016lx\n", r.matrix);
    printf("self-check errors: %lu\n", r.errors);
    printf("checksum: 0x%016lx\n", r.combined);
#ifdef MIXBENCH_SHOW_INSTRET
    uint64_t n;
    __asm__ volatile("csrr %0, minstret" : "=r"(n));
    printf("minstret: %lu\n", n);
#endif
    return r.errors ? 1 : 0;
}
