/*
 * htif-hello / htif-fail: console output and exit through HTIF, the
 * Spike / riscv-tests host interface, instead of the UART and the finisher.
 *
 * The ELF defines `tohost` and `fromhost` in section .tohost (link.ld gives
 * that section its own 4 KiB page at the start of the data segment). A 64-bit
 * store to tohost is a command: device in bits 63:56, command in 55:48,
 * payload in 47:0.
 *   device 1, command 1: print the payload's low byte
 *   device 0, payload (code << 1) | 1: exit with code
 * The host clears tohost and writes fromhost when it has handled a command.
 * Built with HTIF_EXIT_CODE=0 (htif-hello) and =5 (htif-fail).
 * Does not run on QEMU's virt machine (no HTIF there); QEMU's spike machine
 * runs it.
 */
#include <stdint.h>

#ifndef HTIF_EXIT_CODE
#define HTIF_EXIT_CODE 0
#endif
#define STR_(x) #x
#define XSTR_(x) STR_(x)
#define HTIF_CODE_STR XSTR_(HTIF_EXIT_CODE)

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64))) = 0;
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64))) = 0;

/* Bounded waits: a host that never answers must not hang the guest forever. */
#define HTIF_SPINS 1000000

static void htif_command(uint64_t cmd)
{
    for (int i = 0; i < HTIF_SPINS && tohost != 0; i++)
        ;
    tohost = cmd;   /* one 64-bit sd */
}

static void htif_putc(char c)
{
    htif_command((1ULL << 56) | (1ULL << 48) | (uint8_t)c);
    for (int i = 0; i < HTIF_SPINS && fromhost == 0; i++)
        ;
    fromhost = 0;
}

static void htif_puts(const char *s)
{
    while (*s)
        htif_putc(*s++);
}

static __attribute__((noreturn)) void htif_exit(uint64_t code)
{
    htif_command((code << 1) | 1);
    for (;;)
        ;
}

int main(void)
{
#if HTIF_EXIT_CODE == 0
    htif_puts("hello via htif\n");
#else
    htif_puts("htif-fail: exiting with code " HTIF_CODE_STR " via htif\n");
#endif
    htif_exit(HTIF_EXIT_CODE);
}
