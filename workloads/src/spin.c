/*
 * spin: a runaway guest. Says so once, then loops forever without trapping,
 * without I/O and without ever exiting (for --timeout / --max-insns tests).
 * The loop body does a little work so that a JIT sees a hot loop.
 */
#include "uart.h"

int main(void)
{
    puts("spin: looping forever");
    uint64_t x = 1;
    for (;;) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x));   /* keep the loop alive */
    }
}
