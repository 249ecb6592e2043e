/*
 * cpubench: integer CPU benchmark (sieve, CRC-32, quicksort, matrix multiply,
 * hashing). The kernels live in cpubench_kernels.c, shared with the wasm32
 * baseline build. Prints one checksum per kernel and the combined checksum,
 * which must equal cpubench_run(CPUBENCH_DEFAULT_REPS) in bin/cpubench.wasm.
 * Build with -DCPUBENCH_SHOW_INSTRET to also print minstret (for calibration
 * only: that line is timing-dependent on most machines).
 */
#include "cpubench_kernels.h"
#include "uart.h"

int main(void)
{
    cpubench_result r;
    uint32_t reps = CPUBENCH_DEFAULT_REPS;

    printf("cpubench: %u repetitions of sieve, crc32, sort, matmul, hash\n", reps);
    cpubench_run_all(reps, &r);
    printf("sieve:    0x%016lx\n", r.sieve);
    printf("crc32:    0x%016lx\n", r.crc32);
    printf("sort:     0x%016lx\n", r.sort);
    printf("matmul:   0x%016lx\n", r.matmul);
    printf("hash:     0x%016lx\n", r.hash);
    printf("self-check errors: %lu\n", r.errors);
    printf("checksum: 0x%016lx\n", r.combined);
#ifdef CPUBENCH_SHOW_INSTRET
    uint64_t n;
    __asm__ volatile("csrr %0, minstret" : "=r"(n));
    printf("minstret: %lu\n", n);
#endif
    return r.errors ? 1 : 0;
}
