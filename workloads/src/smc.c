/*
 * smc: self-modifying code. Writes RISC-V instructions into a 4 KiB buffer
 * that has a page to itself (in .bss, so writable; M-mode with no PMP entry
 * and bare addressing, so executable), executes them, patches them, fence.i,
 * executes again, in a loop. Any stale translation changes a result, and
 * every result is checked against a C model of the generated code.
 *
 * Function A (the patched loop, mixed 32/16-bit encodings), a0 = n, a1 = x:
 *   +0   addi   a2, zero, 0
 *   +4   addi   a2, a2, IMM_A      <- immediate patched every round
 *   +8   OP     a2, a2, a1         <- add / xor / sub, patched every round
 *   +12  c.addi a2, C_IMM          <- 16-bit, immediate patched every round
 *   +14  c.addi a0, -1
 *   +16  bne    a0, zero, +4
 *   +20  addi   a0, a2, 0
 *   +24  jalr   zero, 0(ra)
 * It runs n = 100..163 iterations per call, so the loop gets hot between patches.
 *
 * Function B (patches itself), a1 = an instruction word:
 *   +0   auipc  t1, 0
 *   +4   sw     a1, 16(t1)         <- stores into its own code...
 *   +8   fence.i
 *   +12  addi   zero, zero, 0
 *   +16  (the instruction from a1, here "addi a0, zero, K")
 *   +20  jalr   zero, 0(ra)
 * and must return K.
 */
#include "uart.h"

#define ROUNDS 1000

static uint8_t codebuf[4096] __attribute__((aligned(4096)));

#define FN_A 0
#define FN_B 256

enum { ZERO = 0, RA = 1, T1 = 6, A0 = 10, A1 = 11, A2 = 12 };

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x33;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
           f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

/* c.addi rd, imm6 (imm != 0) */
static uint16_t enc_c_addi(unsigned rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return (uint16_t)(((u >> 5) & 1) << 12 | rd << 7 | (u & 0x1f) << 2 | 0x1);
}

#define ADDI(rd, rs1, imm) enc_i(imm, rs1, 0, rd, 0x13)
#define JALR(rd, rs1, imm) enc_i(imm, rs1, 0, rd, 0x67)
#define AUIPC(rd, imm20)   ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x17)
#define FENCE_I            0x0000100fu

static void put32(unsigned off, uint32_t insn)
{
    /* Two halfword stores: instructions are only 2-byte aligned in general. */
    volatile uint16_t *p = (volatile uint16_t *)(codebuf + off);
    p[0] = (uint16_t)insn;
    p[1] = (uint16_t)(insn >> 16);
}

static void put16(unsigned off, uint16_t insn)
{
    *(volatile uint16_t *)(codebuf + off) = insn;
}

static void fence_i(void)
{
    __asm__ volatile("fence.i" ::: "memory");
}

typedef uint64_t (*gen_fn)(uint64_t, uint64_t);

/* The three ops function A cycles through, and their encodings. */
static uint32_t enc_op(unsigned op)
{
    switch (op) {
    case 0:  return enc_r(0x00, A1, A2, 0, A2);   /* add a2, a2, a1 */
    case 1:  return enc_r(0x00, A1, A2, 4, A2);   /* xor a2, a2, a1 */
    default: return enc_r(0x20, A1, A2, 0, A2);   /* sub a2, a2, a1 */
    }
}

static uint64_t model_a(uint64_t n, uint64_t x, int32_t imm_a, unsigned op, int32_t c_imm)
{
    uint64_t acc = 0;
    do {
        acc += (uint64_t)(int64_t)imm_a;
        acc = op == 0 ? acc + x : op == 1 ? acc ^ x : acc - x;
        acc += (uint64_t)(int64_t)c_imm;
    } while (--n);
    return acc;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int main(void)
{
    gen_fn fn_a = (gen_fn)(uintptr_t)(codebuf + FN_A);
    gen_fn fn_b = (gen_fn)(uintptr_t)(codebuf + FN_B);
    uint64_t rng = 42, sum = 0;
    unsigned bad_a = 0, bad_b = 0;

    puts("smc: generating, running and patching code in its own 4 KiB page");

    /* Function A, written once in full; later rounds patch three instructions. */
    put32(FN_A + 0, ADDI(A2, ZERO, 0));
    put32(FN_A + 4, ADDI(A2, A2, 0));
    put32(FN_A + 8, enc_op(0));
    put16(FN_A + 12, enc_c_addi(A2, 1));
    put16(FN_A + 14, enc_c_addi(A0, -1));
    put32(FN_A + 16, enc_b(4 - 16, ZERO, A0, 1));   /* bne a0, zero, loop */
    put32(FN_A + 20, ADDI(A0, A2, 0));
    put32(FN_A + 24, JALR(ZERO, RA, 0));

    /* Function B, whose slot at +16 it rewrites itself. */
    put32(FN_B + 0, AUIPC(T1, 0));
    put32(FN_B + 4, enc_s(16, A1, T1, 2));          /* sw a1, 16(t1) */
    put32(FN_B + 8, FENCE_I);
    put32(FN_B + 12, ADDI(ZERO, ZERO, 0));
    put32(FN_B + 16, ADDI(A0, ZERO, 0));
    put32(FN_B + 20, JALR(ZERO, RA, 0));
    fence_i();

    for (unsigned r = 0; r < ROUNDS; r++) {
        int32_t imm_a = (int32_t)((r * 37u) % 2047u) - 1023;
        unsigned op = r % 3;
        int32_t c_imm = (int32_t)((r * 5u) % 63u) - 31;
        if (c_imm == 0)
            c_imm = 1;
        uint64_t n = 100 + (r % 64);
        uint64_t x = splitmix64(&rng);

        put32(FN_A + 4, ADDI(A2, A2, imm_a));
        put32(FN_A + 8, enc_op(op));
        put16(FN_A + 12, enc_c_addi(A2, c_imm));
        fence_i();
        uint64_t got = fn_a(n, x);
        uint64_t want = model_a(n, x, imm_a, op, c_imm);
        if (got != want && ++bad_a <= 5)
            printf("MISMATCH A round %u: got 0x%016lx want 0x%016lx\n", r, got, want);

        int32_t k = (int32_t)((r * 131u) % 2048u) - 1024;
        uint64_t got_b = fn_b(0, ADDI(A0, ZERO, k));
        if (got_b != (uint64_t)(int64_t)k && ++bad_b <= 5)
            printf("MISMATCH B round %u: got 0x%lx want %d\n", r, got_b, k);

        sum = (sum ^ got ^ (got_b << 32)) * 0x100000001B3ull;
        if (r % 200 == 0)
            printf("round %4u: imm=%5d op=%s c.imm=%3d n=%3lu -> 0x%016lx, self-patch %5d -> %ld\n",
                   r, imm_a, op == 0 ? "add" : op == 1 ? "xor" : "sub", c_imm, n, got, k,
                   (int64_t)got_b);
    }
    printf("patched loop: %u rounds, %u mismatches\n", ROUNDS, bad_a);
    printf("self-patching function: %u calls, %u mismatches\n", ROUNDS, bad_b);
    printf("checksum: 0x%016lx\n", sum);
    return bad_a || bad_b ? 1 : 0;
}
