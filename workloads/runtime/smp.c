/*
 * tunevm workloads: SMP runtime (see smp.h): hart count, barrier, wait_ipi,
 * nap, locked console output, the trap report.
 */
#include "smp.h"

volatile unsigned smp_nharts;    /* .bss: hart 0 writes it after zeroing .bss */

/*
 * Count the harts (hart 0, at boot, before the others are released).
 * Nothing in the machine says how many harts it has, short of parsing QEMU's
 * device tree; but the CLINT has one msip register per hart, and writes to the
 * msip of a hart that does not exist are ignored (reads give 0), in QEMU and in
 * tunevm. So: set msip[i], read it back, clear it again, for i = 1, 2, ...
 * until one reads back 0. Interrupts are disabled (mie = 0, mstatus.MIE = 0 on
 * every hart), so the short pending bit wakes or traps nobody.
 */
void smp_boot_probe(void)
{
    unsigned n = 1;                              /* hart 0 exists: it runs this */
    while (n < SMP_MAX_HARTS) {
        CLINT_MSIP(n) = 1;
        uint32_t seen = CLINT_MSIP(n) & 1;
        CLINT_MSIP(n) = 0;
        if (!seen)
            break;
        n++;
    }
    smp_nharts = n;
}

/*
 * Sense-reversing centralised barrier. The sense this episode waits to see
 * flip is read on entry; it cannot flip before this hart has arrived, and the
 * .aqrl on the amoadd keeps that read before the arrival. The last hart to
 * arrive resets the count and then flips the sense (release); the others spin
 * on the sense with plain loads, then acquire. Every hart's writes before the
 * barrier are visible to every hart after it.
 */
void barrier_wait(struct smp_barrier *b, unsigned n)
{
    uint32_t sense = b->sense;
    if (amoadd_w_aqrl(&b->arrived, 1) == n - 1) {
        b->arrived = 0;                  /* nobody arrives again before the flip */
        fence_release();
        b->sense = !sense;
    } else {
        while (b->sense == sense)
            cpu_relax();
        fence_acquire();
    }
}

static struct smp_barrier all_harts;

void smp_barrier(void)
{
    barrier_wait(&all_harts, smp_hart_count());
}

void wait_ipi(void)
{
    csr_clear(mstatus, MSTATUS_MIE);     /* wake up, but take no trap */
    csr_set(mie, MIP_MSIP);
    while (!(csr_read(mip) & MIP_MSIP))
        __asm__ volatile("wfi");
    CLINT_MSIP(hart_id()) = 0;
    fence_io();                          /* the clear before what we read next */
}

void nap(uint64_t ticks)
{
    unsigned h = hart_id();
    CLINT_MTIMECMP(h) = CLINT_MTIME + ticks;
    csr_clear(mstatus, MSTATUS_MIE);
    csr_set(mie, MIP_MTIP);
    while (!(csr_read(mip) & MIP_MTIP))
        __asm__ volatile("wfi");
    CLINT_MTIMECMP(h) = ~0ULL;           /* disarm: mip.MTIP drops */
    csr_clear(mie, MIP_MTIP);
}

static ticket_lock_t print_lock = TICKET_LOCK_INIT;

int smp_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ticket_lock(&print_lock);
    int n = vprintf(fmt, ap);
    ticket_unlock(&print_lock);
    va_end(ap);
    return n;
}

int smp_puts(const char *s)
{
    ticket_lock(&print_lock);
    puts(s);
    ticket_unlock(&print_lock);
    return 0;
}

/* From smp_trap_vector. Prints without the lock: the trapping hart may hold it,
   and the machine is about to stop anyway. */
void smp_unexpected_trap(uint64_t hart, uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
    printf("hart %lu: unexpected trap mcause=0x%lx mepc=0x%lx mtval=0x%lx\n",
           hart, mcause, mepc, mtval);
    exit(3);
}
