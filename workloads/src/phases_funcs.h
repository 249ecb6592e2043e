/*
 * phases: the generated functions (src/phases_funcs.c, written by
 * tools/gen-phases.py) and the table that src/phases.c calls them through.
 */
#ifndef TUNEVM_PHASES_FUNCS_H
#define TUNEVM_PHASES_FUNCS_H

#include <stdint.h>

#define PHASES_NFUNCS 600

typedef uint64_t (*phase_fn)(uint64_t acc);

extern const phase_fn phase_funcs[PHASES_NFUNCS];

#endif
