/* hello: the smallest useful guest. Prints two lines and exits 0. */
#include "uart.h"

int main(void)
{
    puts("Hello from tunevm!");
    printf("RV64IMAC, M-mode, console on the 16550 UART at %p\n",
           (void *)UART_BASE);
    return 0;
}
