/*
 * tunevm workloads: UART console and a small printf.
 *
 * printf understands %d %i %u %x %X %p %s %c %% with the length modifiers
 * l / ll / z, a field width, '0' padding and '-' (left-justify). Nothing else.
 */
#include "uart.h"

#define REG8(addr) (*(volatile uint8_t *)(addr))

void uart_putc(char c)
{
    while ((REG8(UART_BASE + 5) & UART_LSR_THRE) == 0)
        ;
    REG8(UART_BASE + 0) = (uint8_t)c;
}

int uart_getc(void)
{
    if ((REG8(UART_BASE + 5) & UART_LSR_DR) == 0)
        return -1;
    return REG8(UART_BASE + 0);
}

void uart_write(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

int puts(const char *s)
{
    uart_write(s);
    uart_putc('\n');
    return 0;
}

/* Emit one converted field: prefix (sign or 0x), digits, padded to width. */
static int emit_field(const char *prefix, const char *body, int body_len,
                      int width, int zero_pad, int left)
{
    int prefix_len = 0, n = 0;
    while (prefix[prefix_len])
        prefix_len++;
    int pad = width - prefix_len - body_len;
    if (pad < 0)
        pad = 0;
    if (!left && !zero_pad)
        for (; pad > 0; pad--, n++)
            uart_putc(' ');
    for (int i = 0; i < prefix_len; i++, n++)
        uart_putc(prefix[i]);
    if (!left && zero_pad)
        for (; pad > 0; pad--, n++)
            uart_putc('0');
    for (int i = 0; i < body_len; i++, n++)
        uart_putc(body[i]);
    for (; pad > 0; pad--, n++)
        uart_putc(' ');
    return n;
}

static int utoa_rev(uint64_t v, unsigned base, int upper, char *out)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        out[n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    int count = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            count++;
            continue;
        }
        fmt++;
        int zero_pad = 0, left = 0, width = 0, longs = 0;
        for (;; fmt++) {
            if (*fmt == '0')
                zero_pad = 1;
            else if (*fmt == '-')
                left = 1;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }

        char rev[24], body[24];
        const char *prefix = "";
        uint64_t u;
        int64_t s;
        int n;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = longs ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int);
            u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            if (s < 0)
                prefix = "-";
            goto number10;
        case 'u':
            u = longs ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, unsigned);
        number10:
            n = utoa_rev(u, 10, 0, rev);
            goto reverse;
        case 'p':
            u = (uint64_t)(uintptr_t)va_arg(ap, void *);
            prefix = "0x";
            n = utoa_rev(u, 16, 0, rev);
            goto reverse;
        case 'x':
        case 'X':
            u = longs ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, unsigned);
            n = utoa_rev(u, 16, *fmt == 'X', rev);
        reverse:
            for (int i = 0; i < n; i++)
                body[i] = rev[n - 1 - i];
            count += emit_field(prefix, body, n, width, zero_pad, left);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while (str[len])
                len++;
            count += emit_field("", str, len, width, 0, left);
            break;
        }
        case 'c':
            body[0] = (char)va_arg(ap, int);
            count += emit_field("", body, 1, width, 0, left);
            break;
        case '%':
            uart_putc('%');
            count++;
            break;
        case '\0':
            return count;
        default: /* unknown conversion: print it verbatim */
            uart_putc('%');
            uart_putc(*fmt);
            count += 2;
            break;
        }
    }
    return count;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void runtime_unexpected_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
    printf("unexpected trap mcause=0x%lx mepc=0x%lx mtval=0x%lx\n",
           mcause, mepc, mtval);
    exit(3);
}
