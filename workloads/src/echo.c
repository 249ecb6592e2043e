/*
 * echo: an interactive guest. Reads lines from the UART and answers each one
 * with its number, its length in bytes and the line reversed character by
 * character (UTF-8 sequences stay whole, so "你好" reverses to "好你"); the line "quit" ends the
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

/* A UTF-8 continuation byte (10xxxxxx). */
static int continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* out = the n bytes of in, reversed by character: each UTF-8 sequence (a
 * lead byte and its continuation bytes) is copied whole. Bytes that are not
 * valid UTF-8 are reversed one by one. */
static void reverse_utf8(const char *in, int n, char *out)
{
    int end = n, k = 0;
    while (end > 0) {
        int start = end - 1;
        while (start > 0 && end - start < 4 && continuation(in[start]))
            start--;
        if (continuation(in[start]))
            start = end - 1;             /* no lead byte: one byte alone */
        for (int i = start; i < end; i++)
            out[k++] = in[i];
        end = start;
    }
    out[k] = 0;
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
        reverse_utf8(line, n, reversed);
        printf("%u: \"%s\" (%d bytes), reversed \"%s\"\n", count, line, n, reversed);
    }
}
