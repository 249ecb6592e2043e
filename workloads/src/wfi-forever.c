/*
 * wfi-forever: a guest that can never wake. Every interrupt is disabled
 * (mie = 0, mstatus.MIE = 0, no mtimecmp armed), then wfi in a loop.
 * A VM should detect that nothing can ever wake the hart, or stop it at its
 * time/instruction limit.
 */
#include "csr.h"
#include "uart.h"

int main(void)
{
    puts("wfi-forever: all interrupts disabled, waiting for ever");
    csr_clear(mstatus, MSTATUS_MIE);
    csr_write(mie, 0);
    for (;;)
        __asm__ volatile("wfi");
}
