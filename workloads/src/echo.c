/*
 * echo: an interactive guest. Reads lines from the UART and answers each one
 * with its number, its length and the line reversed; the line "quit" ends the
 * program with status 0. While it waits for a byte it polls the UART's line
 * status register in a tight loop, as simple bare-metal programs do, so a
 * waiting guest still executes millions of instructions a second.
 */
#include "uart.h"

#define LINE_CAP 128

/* Reads one line into buf (without its '\n'; '\r' is dropped), at most
 * cap - 1 bytes are kept, the rest of a longer line is discarded. */
static int read_line(char *buf, int cap)
{
    int n = 0;
    for (;;) {
        int c = uart_getc();
        if (c < 0 || c == '\r')
            continue;
        if (c == '\n')
            break;
        if (n < cap - 1)
            buf[n++] = (char)c;
    }
    buf[n] = 0;
    return n;
}

static int equals(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int main(void)
{
    char line[LINE_CAP], reversed[LINE_CAP];
    puts("echo: type a line and press Enter; \"quit\" ends the program.");
    for (unsigned count = 1;; count++) {
        uart_write("> ");
        int n = read_line(line, LINE_CAP);
        if (equals(line, "quit")) {
            printf("bye after %u lines\n", count - 1);
            return 0;
        }
        for (int i = 0; i < n; i++)
            reversed[i] = line[n - 1 - i];
        reversed[n] = 0;
        printf("%u: \"%s\" (%d bytes), reversed \"%s\"\n", count, line, n, reversed);
    }
}
