/*
 * tunevm workloads: tiny runtime (console on the 16550 UART, exit through the
 * SiFive test finisher). No libc: this is everything a workload gets.
 */
#ifndef TUNEVM_UART_H
#define TUNEVM_UART_H

#include <stdarg.h>
#include <stdint.h>

#define UART_BASE     0x10000000UL  /* 16550: THR/RBR +0, LSR +5 */
#define UART_LSR_DR   0x01          /* receive data ready */
#define UART_LSR_THRE 0x20          /* transmit holding register empty */
#define FINISHER_BASE 0x00100000UL  /* SiFive test finisher */
#define CLINT_BASE    0x02000000UL  /* msip +0, mtimecmp +0x4000, mtime +0xbff8 */

void uart_putc(char c);              /* waits for LSR.THRE, then writes THR */
int  uart_getc(void);                /* -1 when no byte is waiting */
void uart_write(const char *s);      /* no newline added */
int  puts(const char *s);            /* adds a newline, as in libc */
int  printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int  vprintf(const char *fmt, va_list ap);

/* exit(0) writes 0x5555 to the finisher, exit(n) writes n << 16 | 0x3333. */
void exit(int code) __attribute__((noreturn));

/* Called by the default trap vector (start.S): prints and exits with code 3. */
void runtime_unexpected_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval)
    __attribute__((noreturn));

#endif
