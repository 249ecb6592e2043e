/*
 * paging: an S-mode kernel under Sv39 that walks a working set of 4 KiB pages,
 * for measuring TLBs.
 *
 * M-mode (physical addresses):
 *   - reads and checks the parameter block `paging_params` (below);
 *   - builds Sv39 page tables at PT_POOL (RISC-V privileged spec 4.4):
 *       VA 0x0000_0000 + 2 MiB megapage  -> finisher page (RW)
 *       VA 0x1000_0000 + 2 MiB megapage  -> UART (RW)
 *       VA 0x4000_0000 .. + pages*4 KiB   -> working set, 4 KiB pages (RW),
 *                                           backed by frames at FRAME_POOL
 *       VA 0x8000_0000 + 2 MiB megapage  -> the kernel itself, identity (RWX)
 *     every leaf has A and D set, so no hardware A/D update is ever needed;
 *   - writes a known value into the one word of each frame the walk touches;
 *   - opens PMP to S-mode, delegates page faults to S (medeleg 12, 13, 15),
 *     and drops to S-mode with mret.
 * S-mode:
 *   - writes satp (Sv39, root table), sfence.vma;
 *   - runs `passes` passes; each pass makes `pages` accesses, each reading and
 *     writing one u64 in a page (the word at offset (page % 512) * 8) with a
 *     single amoadd.d, so one access is one data TLB lookup:
 *       random = 0: pages in strided order: for o in 0..stride,
 *                   visit o, o+stride, o+2*stride, ... < pages
 *                   (stride 1 is a plain sequential sweep);
 *       random = 1: each access picks page = xorshift64(seed) % pages;
 *   - prints the number of accesses and a checksum of everything read, and
 *     exits 0 through the finisher (mapped above).
 *
 * The parameter block is the first thing in the data segment, whose start is
 * fixed by the build at 0x8001_0000 (symbol `paging_params`):
 *   +0  pages   working-set size in 4 KiB pages, 1..32768
 *   +8  stride  stride in pages, 1..pages (ignored when random = 1)
 *   +16 random  0 = strided order, 1 = random order
 *   +24 passes  passes over the working set, >= 1
 *   +32 seed    seed for the random order and the initial page contents (!= 0)
 *   +40 magic   0x474e494741505654 ("TVPAGING" as little-endian bytes);
 *               leave it alone, it tells a patching tool it found the block
 *   +48 bare    0 = under Sv39 (above), 1 = the same walk in S-mode with
 *               satp = 0 (bare: physical addresses, the frames themselves,
 *               no translation), to measure what translation costs
 * All fields are little-endian u64. Bad values: a message and exit code 2.
 */
#include "csr.h"
#include "uart.h"

#ifndef DEF_PAGES
#define DEF_PAGES 64
#endif
#ifndef DEF_STRIDE
#define DEF_STRIDE 1
#endif
#ifndef DEF_RANDOM
#define DEF_RANDOM 0
#endif
#ifndef DEF_PASSES
#define DEF_PASSES 32768
#endif
#ifndef DEF_SEED
#define DEF_SEED 0x2545F4914F6CDD1DULL
#endif
#ifndef DEF_BARE
#define DEF_BARE 0
#endif

#define PARAMS_MAGIC 0x474e494741505654ULL /* "TVPAGING" */

struct paging_params {
    uint64_t pages;
    uint64_t stride;
    uint64_t random;
    uint64_t passes;
    uint64_t seed;
    uint64_t magic;
    uint64_t bare;
};

__attribute__((section(".params"), used))
volatile struct paging_params paging_params = {
    DEF_PAGES, DEF_STRIDE, DEF_RANDOM, DEF_PASSES, DEF_SEED, PARAMS_MAGIC, DEF_BARE,
};

/* Physical layout (all inside the 256 MiB of RAM). */
#define KERNEL_BASE 0x80000000UL
#define KERNEL_END  0x80200000UL   /* one megapage holds the whole image */
#define PT_POOL     0x80200000UL   /* page tables: root, 3 L1, up to 64 L0 */
#define FRAME_POOL  0x80400000UL   /* working-set frames */
#define MAX_PAGES   32768UL        /* 128 MiB of frames */
#define WS_VA       0x40000000UL   /* working set's virtual base */

#define PAGE_SIZE 4096UL
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define SATP_SV39 (8UL << 60)

extern char _end[];

/* Values copied out of the parameter block once it has been checked. */
static uint64_t n_pages, stride, random_order, passes, seed, bare;
static uint64_t next_table = PT_POOL;
static uint64_t root_table;

static uint64_t *alloc_table(void)
{
    uint64_t *t = (uint64_t *)next_table;
    next_table += PAGE_SIZE;
    for (unsigned i = 0; i < 512; i++)
        t[i] = 0;
    return t;
}

/* A PTE pointing at physical address pa. */
static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << 10) | flags;
}

static uint64_t vpn(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* Word the walk touches in page i, and its starting value. */
static uint64_t word_offset(uint64_t i) { return (i % 512) * 8; }
static uint64_t initial_value(uint64_t i) { return (i + 1) * 0x9E3779B97F4A7C15ULL ^ seed; }

static void check_params(void)
{
    n_pages = paging_params.pages;
    stride = paging_params.stride;
    random_order = paging_params.random;
    passes = paging_params.passes;
    seed = paging_params.seed;
    bare = paging_params.bare;
    const char *bad = 0;
    if (paging_params.magic != PARAMS_MAGIC)
        bad = "magic";
    else if (n_pages < 1 || n_pages > MAX_PAGES)
        bad = "pages (1..32768)";
    else if (stride < 1 || stride > n_pages)
        bad = "stride (1..pages)";
    else if (random_order > 1)
        bad = "random (0 or 1)";
    else if (passes < 1)
        bad = "passes (>= 1)";
    else if (seed == 0)
        bad = "seed (!= 0)";
    else if (bare > 1)
        bad = "bare (0 or 1)";
    if (bad) {
        printf("paging: bad parameter %s: pages=%lu stride=%lu random=%lu passes=%lu seed=0x%lx\n",
               bad, n_pages, stride, random_order, passes, seed);
        exit(2);
    }
}

static void build_page_tables(void)
{
    uint64_t *root = alloc_table();
    root_table = (uint64_t)root;

    /* Slot 0 (VA 0..1 GiB): MMIO megapages, identity, no execute. */
    uint64_t *mmio = alloc_table();
    root[0] = pte((uint64_t)mmio, PTE_V);
    mmio[vpn(FINISHER_BASE, 1)] = pte(FINISHER_BASE & ~0x1FFFFFUL, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    mmio[vpn(UART_BASE, 1)] = pte(UART_BASE & ~0x1FFFFFUL, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);

    /* Slot 2 (VA 2..3 GiB): the kernel image, one identity megapage. */
    uint64_t *kern = alloc_table();
    root[vpn(KERNEL_BASE, 2)] = pte((uint64_t)kern, PTE_V);
    kern[vpn(KERNEL_BASE, 1)] = pte(KERNEL_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);

    /* Slot 1 (VA 1..2 GiB): the working set, 4 KiB pages. */
    uint64_t *ws = alloc_table();
    root[vpn(WS_VA, 2)] = pte((uint64_t)ws, PTE_V);
    uint64_t *leaf = 0;
    for (uint64_t i = 0; i < n_pages; i++) {
        uint64_t va = WS_VA + i * PAGE_SIZE;
        if (vpn(va, 0) == 0) {
            leaf = alloc_table();
            ws[vpn(va, 1)] = pte((uint64_t)leaf, PTE_V);
        }
        uint64_t frame = FRAME_POOL + i * PAGE_SIZE;
        leaf[vpn(va, 0)] = pte(frame, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
        *(volatile uint64_t *)(frame + word_offset(i)) = initial_value(i);
    }
}

/* S-mode trap vector: nothing is expected to trap here. */
__attribute__((aligned(4), noreturn)) static void s_trap(void)
{
    printf("unexpected S-mode trap scause=0x%lx sepc=0x%lx stval=0x%lx\n",
           csr_read(scause), csr_read(sepc), csr_read(stval));
    exit(3);
}

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/*
 * One access: amoadd.d reads the page's word and writes it back increased by
 * i + 1, in one instruction and so one TLB lookup per access (a load and a
 * store would make the store a guaranteed hit). The value read goes into the
 * checksum.
 */
static inline uint64_t touch(uint64_t base, uint64_t i, uint64_t sum)
{
    uint64_t *p = (uint64_t *)(base + i * PAGE_SIZE + word_offset(i));
    uint64_t old;
    __asm__ volatile("amoadd.d %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(i + 1) : "memory");
    return (sum ^ old) * 0x100000001B3ULL;
}

__attribute__((noreturn)) static void s_main(void)
{
    /* Where the walk finds page 0: WS_VA under Sv39; bare, satp stays 0
     * and the walk uses the frames' own addresses. */
    const uint64_t base = bare ? FRAME_POOL : WS_VA;
    if (!bare) {
        csr_write(satp, SATP_SV39 | (root_table >> 12));
        __asm__ volatile("sfence.vma" ::: "memory");
    }

    uint64_t sum = 0xCBF29CE484222325ULL, accesses = 0;
    uint64_t rng = seed;
    for (uint64_t pass = 0; pass < passes; pass++) {
        if (random_order) {
            for (uint64_t k = 0; k < n_pages; k++)
                sum = touch(base, xorshift64(&rng) % n_pages, sum);
        } else {
            for (uint64_t o = 0; o < stride; o++)
                for (uint64_t i = o; i < n_pages; i += stride)
                    sum = touch(base, i, sum);
        }
        accesses += n_pages;
    }

    printf("accesses: %lu\n", accesses);
    printf("checksum: 0x%016lx\n", sum);
    exit(0);
}

int main(void)
{
    puts("paging: Sv39 S-mode kernel, working set of 4 KiB pages at VA 0x40000000");
    check_params();
    printf("params: pages=%lu stride=%lu random=%lu passes=%lu seed=0x%lx%s\n",
           n_pages, stride, random_order, passes, seed, bare ? " bare=1" : "");
    if ((uint64_t)_end > KERNEL_END) {
        printf("paging: image too big (_end=%p)\n", (void *)_end);
        return 2;
    }
    build_page_tables();
    printf("page tables: %lu KiB, working set: %lu KiB\n",
           (next_table - PT_POOL) / 1024, n_pages * PAGE_SIZE / 1024);

    pmp_allow_all();
    csr_write(medeleg, (1UL << CAUSE_FETCH_PAGE_FAULT) | (1UL << CAUSE_LOAD_PAGE_FAULT) |
                       (1UL << CAUSE_STORE_PAGE_FAULT));
    csr_write(stvec, (uint64_t)s_trap);
    csr_write(satp, 0);
    uint64_t ms = csr_read(mstatus);
    ms = (ms & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S;
    csr_write(mstatus, ms);
    csr_write(mepc, (uint64_t)s_main);
    __asm__ volatile("mret");
    __builtin_unreachable();
}
