/*
 * mixbench kernels: pure integer C with no runtime dependence, built both for
 * the RV64 guest (mixbench.elf) and for wasm32 (mixbench.wasm). Both builds
 * must produce the same checksums.
 *
 * Where cpubench is tight loops over arrays, mixbench is control flow: many
 * small non-inlined calls and returns, recursion, indirect calls through
 * function pointers, pointer chasing over many pages, a switch-heavy lexer and
 * parser, and small-matrix arithmetic.
 */
#ifndef MIXBENCH_KERNELS_H
#define MIXBENCH_KERNELS_H

#include <stdint.h>

/* Repetitions used by mixbench.elf; the wasm exports the same number. */
#define MIXBENCH_DEFAULT_REPS 450u

typedef struct {
    uint64_t calls;     /* recursion (fib, binary search tree), small helpers */
    uint64_t indirect;  /* op table, vtable objects, sort with a comparator   */
    uint64_t lists;     /* linked list: build, reverse, find, merge sort      */
    uint64_t parse;     /* generated program text: lexer state machine, parser */
    uint64_t matrix;    /* 16x16 u32 matrix products                          */
    uint64_t combined;  /* all of the above folded together                   */
    uint64_t errors;    /* self-checks that failed (0 expected)               */
} mixbench_result;

void mixbench_run_all(uint32_t reps, mixbench_result *out);

/* The wasm export: combined checksum of `reps` repetitions. */
uint64_t mixbench_run(uint32_t reps);
uint32_t mixbench_default_reps(void);

#endif
