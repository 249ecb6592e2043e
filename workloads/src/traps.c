/*
 * traps: interrupts, exceptions, delegation and privilege changes.
 *
 *   M-mode: illegal instructions (16- and 32-bit) and ebreak, handled by the
 *           M handler and skipped; a CLINT software interrupt (msip); ten CLINT
 *           timer interrupts (mtimecmp, mie.MTIE, mstatus.MIE), waited for with
 *           wfi; then PMP opened, medeleg = U ecall + illegal instruction, and
 *           mret into S-mode.
 *   S-mode: ecall -> M handler (not delegated), then sret into U-mode.
 *   U-mode: ecalls -> S handler (delegated), an illegal instruction -> S
 *           handler (delegated, skipped), and an exit request that the S
 *           handler forwards to M with its own ecall.
 *
 * Output never depends on timing: the timer count is printed after waiting
 * for exactly ten interrupts, and no handler prints during the timer phase.
 */
#include "csr.h"
#include "uart.h"

#define MTIMECMP (*(volatile uint64_t *)(CLINT_BASE + 0x4000))
#define MTIME    (*(volatile uint64_t *)(CLINT_BASE + 0xbff8))
#define MSIP     (*(volatile uint32_t *)(CLINT_BASE + 0x0))

#define TIMER_INTERVAL 10000   /* mtime ticks (1 ms at 10 MHz) */
#define TIMER_TARGET   10

/* U -> S system calls (a7) */
#define SYS_PUTS 1   /* a0 = string */
#define SYS_ADD  2   /* a0 + a1 -> a0 */
#define SYS_EXIT 3   /* a0 = exit code */
/* S -> M calls (a7) */
#define MCALL_HELLO 0x10  /* returns a0 = a0 * 2 */
#define MCALL_EXIT  0x11  /* a0 = exit code */

struct frame {
    uint64_t x[32];       /* x[2] is the interrupted sp */
};

void m_trap_entry(void);
void s_trap_entry(void);
void illegal_16(void);
void illegal_32(void);
void do_ebreak(void);

static uint8_t m_trap_stack[4096] __attribute__((aligned(16)));
static uint8_t s_trap_stack[4096] __attribute__((aligned(16)));
static uint8_t u_stack[4096] __attribute__((aligned(16)));

static volatile unsigned timer_count, soft_count;
static unsigned m_traps, s_traps;
static uint64_t last_mcause;

/* Length of the instruction at pc: 2 for compressed, 4 otherwise. */
static uint64_t insn_len(uint64_t pc)
{
    return (*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2;
}

static const char *mode_name(uint64_t mpp)
{
    return mpp == 3 ? "M" : mpp == 1 ? "S" : "U";
}

void m_trap_handler(struct frame *f)
{
    uint64_t cause = csr_read(mcause);
    uint64_t epc = csr_read(mepc);
    m_traps++;
    last_mcause = cause;

    if (cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
        /* No printing here: the number of ticks between prints is timing. */
        if (++timer_count < TIMER_TARGET) {
            MTIMECMP = MTIME + TIMER_INTERVAL;
        } else {
            MTIMECMP = ~0ULL;
            csr_clear(mie, MIP_MTIP);
        }
        return;
    }
    if (cause == (CAUSE_INTERRUPT | 3)) {          /* machine software interrupt */
        MSIP = 0;
        soft_count++;
        return;
    }

    const char *from = mode_name((csr_read(mstatus) & MSTATUS_MPP_MASK) >> 11);
    switch (cause) {
    case CAUSE_ILLEGAL_INSN:
        printf("  illegal instruction (%lu bytes) in %s -> M handler, mcause=%lu, skipped\n",
               insn_len(epc), from, cause);
        csr_write(mepc, epc + insn_len(epc));
        return;
    case CAUSE_BREAKPOINT:
        printf("  ebreak in %s -> M handler, mcause=%lu, skipped\n", from, cause);
        csr_write(mepc, epc + insn_len(epc));
        return;
    case CAUSE_ECALL_S:
        csr_write(mepc, epc + 4);
        if (f->x[17] == MCALL_HELLO) {
            printf("  S ecall -> M handler, mcause=%lu, a7=0x%lx a0=%lu\n",
                   cause, f->x[17], f->x[10]);
            f->x[10] *= 2;
            return;
        }
        if (f->x[17] == MCALL_EXIT) {
            printf("  S ecall -> M handler, mcause=%lu: exit(%lu)\n", cause, f->x[10]);
            printf("summary: timer interrupts %u, software interrupts %u, "
                   "M-mode traps %u, S-mode traps %u\n",
                   timer_count, soft_count, m_traps, s_traps);
            exit((int)f->x[10]);
        }
        break;
    }
    printf("unexpected trap in M handler: mcause=0x%lx from %s mtval=0x%lx\n",
           cause, from, csr_read(mtval));
    exit(3);
}

static uint64_t s_ecall(uint64_t num, uint64_t a0)
{
    register uint64_t r_a0 __asm__("a0") = a0;
    register uint64_t r_a7 __asm__("a7") = num;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a7) : "memory");
    return r_a0;
}

void s_trap_handler(struct frame *f)
{
    uint64_t cause = csr_read(scause);
    uint64_t epc = csr_read(sepc);
    s_traps++;

    if (cause == CAUSE_ECALL_U) {
        csr_write(sepc, epc + 4);
        switch (f->x[17]) {
        case SYS_PUTS:
            printf("  U ecall -> S handler, scause=%lu: %s\n", cause, (const char *)f->x[10]);
            return;
        case SYS_ADD:
            printf("  U ecall -> S handler, scause=%lu: add(%lu, %lu)\n",
                   cause, f->x[10], f->x[11]);
            f->x[10] += f->x[11];
            return;
        case SYS_EXIT:
            printf("  U ecall -> S handler, scause=%lu: exit(%lu), forwarding to M\n",
                   cause, f->x[10]);
            s_ecall(MCALL_EXIT, f->x[10]);
            break;   /* not reached */
        }
    } else if (cause == CAUSE_ILLEGAL_INSN) {
        printf("  illegal instruction (%lu bytes) in U -> S handler, scause=%lu, skipped\n",
               insn_len(epc), cause);
        csr_write(sepc, epc + insn_len(epc));
        return;
    }
    printf("unexpected trap in S handler: scause=0x%lx stval=0x%lx\n", cause, csr_read(stval));
    exit(3);
}

/* ---- U-mode ---------------------------------------------------------------- */

static uint64_t u_ecall(uint64_t num, uint64_t a0, uint64_t a1)
{
    register uint64_t r_a0 __asm__("a0") = a0;
    register uint64_t r_a1 __asm__("a1") = a1;
    register uint64_t r_a7 __asm__("a7") = num;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a7) : "memory");
    return r_a0;
}

__attribute__((noreturn)) static void u_main(void)
{
    u_ecall(SYS_PUTS, (uint64_t)"hello from U-mode", 0);
    uint64_t sum = u_ecall(SYS_ADD, 40, 2);
    u_ecall(SYS_PUTS, (uint64_t)(sum == 42 ? "U got add result 42" : "U got a WRONG add result"), 0);
    /* Reading mstatus from U is illegal; medeleg sends it to S. */
    uint64_t v;
    __asm__ volatile("csrr %0, mstatus" : "=r"(v));
    u_ecall(SYS_PUTS, (uint64_t)"U resumed after the illegal instruction", 0);
    u_ecall(SYS_EXIT, sum == 42 ? 0 : 1, 0);
    for (;;)
        ;
}

/* ---- S-mode ---------------------------------------------------------------- */

__attribute__((noreturn)) static void s_main(void)
{
    puts("S-mode: entered with mret");
    uint64_t r = s_ecall(MCALL_HELLO, 21);
    printf("S-mode: ecall returned %lu\n", r);

    puts("S-mode: sret into U-mode");
    csr_clear(sstatus, MSTATUS_SPP);                 /* return to U */
    csr_write(sepc, (uint64_t)u_main);
    __asm__ volatile("mv sp, %0\n\tsret" :: "r"(u_stack + sizeof u_stack) : "memory");
    __builtin_unreachable();
}

/* ---- M-mode ---------------------------------------------------------------- */

int main(void)
{
    puts("traps: M-mode start");
    csr_write(mscratch, (uint64_t)(m_trap_stack + sizeof m_trap_stack));
    csr_write(mtvec, (uint64_t)m_trap_entry);

    puts("M-mode exceptions:");
    illegal_16();
    illegal_32();
    do_ebreak();

    puts("M-mode interrupts:");
    csr_set(mie, MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    MSIP = 1;
    while (soft_count == 0)
        ;
    csr_clear(mie, MIP_MSIP);
    printf("  software interrupts: %u (mcause=0x%lx)\n", soft_count, last_mcause);

    MTIMECMP = MTIME + TIMER_INTERVAL;
    csr_set(mie, MIP_MTIP);
    while (timer_count < TIMER_TARGET)
        __asm__ volatile("wfi");
    csr_clear(mstatus, MSTATUS_MIE);
    printf("  timer interrupts: %u (mcause=0x%lx)\n", timer_count, last_mcause);

    puts("M-mode: delegating U ecall and illegal instruction to S, mret into S-mode");
    pmp_allow_all();
    csr_write(mideleg, 0);
    csr_write(medeleg, (1UL << CAUSE_ECALL_U) | (1UL << CAUSE_ILLEGAL_INSN));
    csr_write(sscratch, (uint64_t)(s_trap_stack + sizeof s_trap_stack));
    csr_write(stvec, (uint64_t)s_trap_entry);
    csr_write(satp, 0);
    uint64_t ms = csr_read(mstatus);
    csr_write(mstatus, (ms & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S);
    csr_write(mepc, (uint64_t)s_main);
    __asm__ volatile("mret");
    __builtin_unreachable();
}
