/*
 * smp-paging: several harts in S-mode under one Sv39 address space, walking a
 * sliding window of 4 KiB pages together, for measuring how TLB organisations
 * behave with several harts (private TLBs per hart against one shared TLB).
 *
 * M-mode, hart 0: builds the page tables (RISC-V privileged spec 4.4) at
 * PT_POOL, every leaf with A and D set:
 *     VA 0x0000_0000..   2 MiB megapages -> finisher, CLINT, UART (RW)
 *     VA 0x4000_0000..   WS_PAGES 4 KiB pages (R) -> frames at FRAME_POOL
 *     VA 0x8000_0000..   4 MiB identity (RWX): image, stacks, tables
 * and writes one known word into each frame. Then every hart (after a
 * barrier) opens PMP, and drops to S-mode with mret.
 *
 * S-mode, every hart: satp = the one root (ASID 0), sfence.vma, then for
 * window w = 0 .. WINDOWS-1, pages [w * STEP, w * STEP + WINDOW) mod WS_PAGES:
 * ROUNDS rounds of one load from each page of the window, hart K starting at
 * page K * WINDOW / N of it (so harts rarely miss on the same page at the
 * same moment); a barrier every SYNC_EVERY windows keeps the harts within
 * (SYNC_EVERY + 1) * STEP + WINDOW pages of each other (fewer than a TLB of
 * 512 entries holds) without making them wait often. Consecutive windows
 * overlap by WINDOW - STEP pages.
 *
 * Every hart loads every page of every window, so each hart's sum is the same
 * whatever the hart count: hart 0 checks that all sums agree, prints it and
 * exits through the finisher. With private TLBs each hart walks each new page
 * itself; with one shared TLB one hart's walk serves the others.
 */
#include "smp.h"

#ifndef WS_PAGES
#define WS_PAGES 2048UL            /* 8 MiB mapped with 4 KiB pages */
#endif
#ifndef WINDOW
#define WINDOW   128UL
#endif
#ifndef STEP
#define STEP     64UL
#endif
#ifndef WINDOWS
#define WINDOWS  1024UL
#endif
#ifndef ROUNDS
#define ROUNDS   2UL
#endif
#ifndef SYNC_EVERY
#define SYNC_EVERY 4UL             /* windows between barriers */
#endif

#define KERNEL_BASE 0x80000000UL   /* identity-mapped: 2 megapages */
#define PT_POOL     0x80400000UL
#define FRAME_POOL  0x80800000UL
#define WS_VA       0x40000000UL

#define PAGE_SIZE 4096UL
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define SATP_SV39 (8UL << 60)

extern char __stack_top[];

static uint64_t next_table = PT_POOL;
static volatile uint64_t root_table;

struct result {
    volatile uint64_t sum, loads;
} __attribute__((aligned(CACHE_LINE)));
static struct result results[SMP_MAX_HARTS];

/* A barrier usable in S-mode (smp_barrier's own state lives in M-mode data,
   which is mapped too, but keep S-mode's separate and obvious). */
static struct smp_barrier s_barrier;

static uint64_t *alloc_table(void)
{
    uint64_t *t = (uint64_t *)next_table;
    next_table += PAGE_SIZE;
    for (unsigned i = 0; i < 512; i++)
        t[i] = 0;
    return t;
}

static uint64_t pte(uint64_t pa, uint64_t flags) { return ((pa >> 12) << 10) | flags; }
static uint64_t vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 511; }
static uint64_t word_offset(uint64_t i) { return (i % 512) * 8; }
static uint64_t initial_value(uint64_t i) { return (i + 1) * 0x9E3779B97F4A7C15ULL; }

static void build_page_tables(void)
{
    const uint64_t rw = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    uint64_t *root = alloc_table();

    uint64_t *mmio = alloc_table();
    root[0] = pte((uint64_t)mmio, PTE_V);
    mmio[vpn(FINISHER_BASE, 1)] = pte(FINISHER_BASE & ~0x1FFFFFUL, rw);
    mmio[vpn(CLINT_BASE, 1)] = pte(CLINT_BASE & ~0x1FFFFFUL, rw);
    mmio[vpn(UART_BASE, 1)] = pte(UART_BASE & ~0x1FFFFFUL, rw);

    uint64_t *kern = alloc_table();
    root[vpn(KERNEL_BASE, 2)] = pte((uint64_t)kern, PTE_V);
    kern[vpn(KERNEL_BASE, 1)] = pte(KERNEL_BASE, rw | PTE_X);
    kern[vpn(KERNEL_BASE, 1) + 1] = pte(KERNEL_BASE + 0x200000UL, rw | PTE_X);

    uint64_t *ws = alloc_table();
    root[vpn(WS_VA, 2)] = pte((uint64_t)ws, PTE_V);
    uint64_t *leaf = 0;
    for (uint64_t i = 0; i < WS_PAGES; i++) {
        uint64_t va = WS_VA + i * PAGE_SIZE;
        if (vpn(va, 0) == 0) {
            leaf = alloc_table();
            ws[vpn(va, 1)] = pte((uint64_t)leaf, PTE_V);
        }
        uint64_t frame = FRAME_POOL + i * PAGE_SIZE;
        leaf[vpn(va, 0)] = pte(frame, PTE_V | PTE_R | PTE_A);
        *(volatile uint64_t *)(frame + word_offset(i)) = initial_value(i);
    }
    root_table = (uint64_t)root;
}

/* S-mode trap vector: nothing is expected to trap here. */
__attribute__((aligned(4), noreturn)) static void s_trap(void)
{
    printf("smp-paging: unexpected S-mode trap scause=0x%lx sepc=0x%lx stval=0x%lx\n",
           csr_read(scause), csr_read(sepc), csr_read(stval));
    exit(3);
}

static inline uint64_t load_page(uint64_t i)
{
    return *(volatile uint64_t *)(WS_VA + i * PAGE_SIZE + word_offset(i));
}

/* Entered by mret with a0 = hart id, a1 = hart count (set up in main). */
__attribute__((noreturn)) static void s_main(uint64_t hart, uint64_t n)
{
    csr_write(satp, SATP_SV39 | (root_table >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");

    uint64_t sum = 0, loads = 0;
    uint64_t start = hart * WINDOW / n;
    for (uint64_t w = 0; w < WINDOWS; w++) {
        uint64_t base = w * STEP;
        for (uint64_t r = 0; r < ROUNDS; r++) {
            for (uint64_t k = 0; k < WINDOW; k++) {
                uint64_t page = (base + (start + k) % WINDOW) % WS_PAGES;
                sum += load_page(page) ^ (page * 2 + r);
            }
        }
        loads += ROUNDS * WINDOW;
        if (w % SYNC_EVERY == SYNC_EVERY - 1)
            barrier_wait(&s_barrier, (unsigned)n);
    }
    results[hart].sum = sum;
    results[hart].loads = loads;
    barrier_wait(&s_barrier, (unsigned)n);

    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");
    for (unsigned k = 1; k < n; k++) {
        if (results[k].sum != sum || results[k].loads != loads) {
            printf("smp-paging: hart %u got sum 0x%016lx loads %lu, hart 0 0x%016lx %lu\n", k,
                   results[k].sum, results[k].loads, sum, loads);
            exit(1);
        }
    }
    printf("loads per hart: %lu\n", loads);
    printf("checksum: 0x%016lx\n", sum);
    exit(0);
}

int main(unsigned hart)
{
    unsigned n = smp_hart_count();
    if (hart == 0) {
        if ((uint64_t)__stack_top > PT_POOL) {
            printf("smp-paging: image and stacks too big (__stack_top=%p)\n", (void *)__stack_top);
            return 2;
        }
        smp_printf("smp-paging: %lu pages at VA 0x40000000, windows of %lu pages, step %lu\n",
                   WS_PAGES, WINDOW, STEP);
        build_page_tables();
    }
    smp_barrier();                       /* the tables are built and visible */

    pmp_allow_all();
    csr_write(medeleg, (1UL << CAUSE_FETCH_PAGE_FAULT) | (1UL << CAUSE_LOAD_PAGE_FAULT) |
                       (1UL << CAUSE_STORE_PAGE_FAULT));
    csr_write(stvec, (uint64_t)s_trap);
    csr_write(satp, 0);
    uint64_t ms = csr_read(mstatus);
    ms = (ms & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S;
    csr_write(mstatus, ms);
    csr_write(mepc, (uint64_t)s_main);
    register uint64_t a0 __asm__("a0") = hart;
    register uint64_t a1 __asm__("a1") = n;
    __asm__ volatile("mret" : : "r"(a0), "r"(a1));
    __builtin_unreachable();
}
