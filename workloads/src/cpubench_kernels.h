/*
 * cpubench kernels: pure integer C with no runtime dependence, built both for
 * the RV64 guest (cpubench.elf) and for wasm32 (cpubench.wasm, the "native"
 * speed baseline). Both builds must produce the same checksums.
 */
#ifndef CPUBENCH_KERNELS_H
#define CPUBENCH_KERNELS_H

#include <stdint.h>

/* Repetitions used by cpubench.elf; the wasm exports the same number. */
#define CPUBENCH_DEFAULT_REPS 600u

typedef struct {
    uint64_t sieve;     /* primes found and their sum, per rep            */
    uint64_t crc32;     /* bitwise CRC-32 (IEEE, reflected) of a buffer   */
    uint64_t sort;      /* position-weighted sum of a quicksorted array   */
    uint64_t matmul;    /* trace/sum of a 64-bit integer matrix product   */
    uint64_t hash;      /* FNV-1a 64 plus an xorshift mix over a buffer   */
    uint64_t combined;  /* all of the above folded together               */
    uint64_t errors;    /* self-checks that failed (0 expected)           */
} cpubench_result;

void cpubench_run_all(uint32_t reps, cpubench_result *out);

/* The wasm export: combined checksum of `reps` repetitions. */
uint64_t cpubench_run(uint32_t reps);
uint32_t cpubench_default_reps(void);

#endif
