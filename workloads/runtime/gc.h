/*
 * tunevm workloads: the guest side of tunevm's garbage-collected heap (a vendor
 * extension in the custom-0 opcode space, 0x0B, R-type).
 *
 *   insn        funct3 funct7  operands         result in rd
 *   gc.alloc    0      0       rs1 size,        address of a zeroed, 16-byte
 *                              rs2 flags        aligned object; 0 when the heap is
 *                                               exhausted even after a collection
 *   gc.collect  1      0       x0, x0           heap bytes in use after a full
 *                                               stop-the-world collection
 *   gc.root     2      0       rs1 base,        0 = registered [base, base+len)
 *                              rs2 len          as a root range, 1 = table full
 *   gc.unroot   2      1       rs1 base, x0     0 = unregistered the range that
 *                                               starts at base, 1 = no such range
 *   gc.stats    3      0       rs1 number       statistic (GC_STAT_*), all ones
 *                                               for an unknown number
 *
 * (GNU as: `.insn r 0x0b, FUNCT3, FUNCT7, rd, rs1, rs2`.) Flags: bit 0 is
 * GC_NO_POINTERS (the object is never scanned, like Boehm's GC_MALLOC_ATOMIC);
 * the other bits must be 0. A size of 0 gives a valid 16-byte object. The heap
 * is the RAM from the first page after the ELF image (`_end`) upward.
 *
 * The collector is conservative (Boehm-Demers-Weiser style). An object stays
 * alive while an aligned 8-byte word that points into it (its start or any
 * byte inside it) is found in a root or in a live object that may hold
 * pointers. The roots are the calling hart's integer registers and up to 64
 * registered ranges. So a guest program must:
 *
 *   - call gc_init() first: it registers the data segment, .bss and the stack
 *     (__data_start .. __stack_top from link.ld) as one root range;
 *   - keep every pointer to a heap object it still needs in registered memory
 *     (globals, the stack), in registers, or in another live object that was
 *     not allocated with gc_alloc_atomic; never hide one (xor, tag bits,
 *     pointers to before an object), never store one misaligned;
 *   - never call free: unreachable objects are reclaimed by the next collection
 *     (gc.alloc collects when the heap is full; gc_collect forces one). Freed
 *     memory may be poisoned by the VM, so a use after "free" shows up;
 *   - rely on objects being zeroed and 16-byte aligned, and check gc_alloc for 0
 *     (out of heap) when it matters;
 *   - not print anything derived from gc_stat: it depends on the heap size.
 *
 * Plain single-hart programs: runtime/start.S + runtime/link.ld. The stack is
 * inside the registered range; a hand-made stack elsewhere must be registered.
 *
 * Build variants (the same C source for all):
 *   default     the custom instructions above (tunevm only: QEMU traps on them)
 *   -DGC_HOST   a host build (x86 cc): gc_alloc is calloc (never freed),
 *               gc_collect does nothing and returns 0, gc_stat returns 0 (all
 *               ones for an unknown number); this header then pulls in libc's
 *               printf, puts and exit in place of runtime/uart.h. Used to
 *               compute the expected outputs.
 *   -DGC_BUMP   calibration only: a guest build without the custom
 *               instructions (a bump allocator from _end that never reclaims,
 *               so it runs under QEMU, e.g. with -icount to count instructions).
 */
#ifndef TUNEVM_GC_H
#define TUNEVM_GC_H

#include <stddef.h>
#include <stdint.h>

#define GC_NO_POINTERS 1UL          /* gc.alloc flag: never scan the contents */

/* gc.stats numbers */
#define GC_STAT_IN_USE      0       /* heap bytes in use */
#define GC_STAT_HEAP_SIZE   1       /* heap size in bytes */
#define GC_STAT_COLLECTIONS 2       /* collections completed */
#define GC_STAT_ALLOCATED   3       /* total bytes allocated */
#define GC_STAT_LIVE        4       /* live objects */
#define GC_STAT_HEAP_BASE   5       /* heap base address */

#ifdef GC_HOST

#include <stdio.h>
#include <stdlib.h>

static inline void *gc_alloc_flags(size_t size, unsigned long flags)
{
    (void)flags;
    return calloc(1, size ? size : 16);
}
static inline uint64_t gc_collect(void) { return 0; }
static inline int gc_root_add(const void *ptr, size_t len) { (void)ptr; (void)len; return 0; }
static inline int gc_root_remove(const void *ptr) { (void)ptr; return 0; }
static inline uint64_t gc_stat(unsigned long n) { return n <= GC_STAT_HEAP_BASE ? 0 : ~0ULL; }
static inline void gc_init(void) {}

#else /* guest */

#include "uart.h"

extern char __data_start[], __stack_top[];

#ifdef GC_BUMP
extern char _end[];
static inline void *gc_alloc_flags(size_t size, unsigned long flags)
{
    static char *next;
    (void)flags;
    if (!next)
        next = _end;
    char *p = next;
    next += size ? (size + 15) & ~(size_t)15 : 16;
    return p;
}
static inline uint64_t gc_collect(void) { return 0; }
static inline int gc_root_add(const void *ptr, size_t len) { (void)ptr; (void)len; return 0; }
static inline int gc_root_remove(const void *ptr) { (void)ptr; return 0; }
static inline uint64_t gc_stat(unsigned long n) { return n <= GC_STAT_HEAP_BASE ? 0 : ~0ULL; }
#else
/* gc.alloc rd, rs1 = size, rs2 = flags */
static inline void *gc_alloc_flags(size_t size, unsigned long flags)
{
    void *p;
    __asm__ volatile(".insn r 0x0b, 0, 0, %0, %1, %2"
                     : "=r"(p) : "r"(size), "r"(flags) : "memory");
    return p;
}

/* gc.collect rd: full collection; heap bytes in use after it */
static inline uint64_t gc_collect(void)
{
    uint64_t in_use;
    __asm__ volatile(".insn r 0x0b, 1, 0, %0, x0, x0" : "=r"(in_use) : : "memory");
    return in_use;
}

/* gc.root rd, rs1 = base, rs2 = len (funct7 0): 0 on success, 1 if the table is full */
static inline int gc_root_add(const void *ptr, size_t len)
{
    uint64_t r;
    __asm__ volatile(".insn r 0x0b, 2, 0, %0, %1, %2"
                     : "=r"(r) : "r"(ptr), "r"(len) : "memory");
    return (int)r;
}

/* gc.root rd, rs1 = base (funct7 1): 0 on success, 1 if no range starts there */
static inline int gc_root_remove(const void *ptr)
{
    uint64_t r;
    __asm__ volatile(".insn r 0x0b, 2, 1, %0, %1, x0" : "=r"(r) : "r"(ptr) : "memory");
    return (int)r;
}

/* gc.stats rd, rs1 = statistic number (GC_STAT_*) */
static inline uint64_t gc_stat(unsigned long n)
{
    uint64_t v;
    __asm__ volatile(".insn r 0x0b, 3, 0, %0, %1, x0" : "=r"(v) : "r"(n) : "memory");
    return v;
}
#endif /* GC_BUMP */

/* Register the data segment, .bss and the stack as one root range. */
static inline void gc_init(void)
{
    if (gc_root_add(__data_start, (size_t)(__stack_top - __data_start)) != 0) {
        puts("gc_init: gc.root failed");
        exit(3);
    }
}

#endif /* GC_HOST */

/* A zeroed object that may hold pointers. */
static inline void *gc_alloc(size_t size) { return gc_alloc_flags(size, 0); }
/* A zeroed object that is never scanned for pointers (Boehm's GC_MALLOC_ATOMIC). */
static inline void *gc_alloc_atomic(size_t size) { return gc_alloc_flags(size, GC_NO_POINTERS); }

#endif
