/*
 * mixbench kernels. See mixbench_kernels.h.
 *
 * Rules that keep the RV64 and wasm32 builds identical:
 *   - only uint32_t / uint64_t arithmetic (wrap-around is defined); text is
 *     uint8_t (plain char is unsigned on RV64, signed on wasm32);
 *   - no pointer values ever reach a checksum (nodes carry their own ids);
 *   - no libc, and no loop the compiler could turn into memset/memcpy (the
 *     symbol table uses an epoch stamp instead of being cleared).
 * Every kernel varies its input with the repetition number, so no work can be
 * hoisted out of the repetition loop. NOINLINE keeps the small helpers real
 * calls (gcc also must not clone them into specialised copies).
 */
#include "mixbench_kernels.h"

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

/* ---- pseudo-random numbers and folding ------------------------------------ */

static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static uint64_t rng_seed(uint64_t base, uint32_t rep)
{
    uint64_t z = base + (uint64_t)rep * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;               /* xorshift must not start at 0 */
}

static uint64_t fold64(uint64_t acc, uint64_t v)
{
    acc ^= v + 0x9E3779B97F4A7C15ull + (acc << 6) + (acc >> 2);
    return acc * 0xFF51AFD7ED558CCDull;
}

/* ---- calls: recursion and small helpers ----------------------------------- */

NOINLINE static uint32_t fib_rec(uint32_t n)
{
    if (n < 2)
        return n;
    return fib_rec(n - 1) + fib_rec(n - 2);
}

NOINLINE static uint32_t h_mix(uint32_t a, uint32_t b)
{
    return (a ^ (b * 0x9E3779B1u)) + (a >> 7);
}

NOINLINE static uint32_t h_rotl(uint32_t x, uint32_t r)
{
    r &= 31;
    return (x << r) | (x >> ((32 - r) & 31));
}

NOINLINE static uint32_t h_clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

NOINLINE static uint32_t h_gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

NOINLINE static uint32_t h_digits(uint32_t v)
{
    uint32_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Not a tail call: the rotation happens after the recursive call returns. */
NOINLINE static uint32_t h_chain(uint32_t x, uint32_t depth)
{
    if (depth == 0)
        return x;
    return h_rotl(h_chain(h_mix(x, depth), depth - 1), depth);
}

/* Binary search tree in a static pool, every operation recursive. */
#define TREE_MAX 384u
typedef struct tnode {
    struct tnode *left, *right;
    uint32_t key, count;
} tnode;
static tnode tree_pool[TREE_MAX];
static uint32_t tree_used;

NOINLINE static tnode *tree_insert(tnode *t, uint32_t key)
{
    if (!t) {
        t = &tree_pool[tree_used++];
        t->left = t->right = 0;
        t->key = key;
        t->count = 1;
        return t;
    }
    if (key < t->key)
        t->left = tree_insert(t->left, key);
    else if (key > t->key)
        t->right = tree_insert(t->right, key);
    else
        t->count++;
    return t;
}

/* In-order walk: keys must come out strictly increasing. */
NOINLINE static uint64_t tree_inorder(const tnode *t, uint64_t h, uint32_t *prev,
                                      uint64_t *errors)
{
    if (!t)
        return h;
    h = tree_inorder(t->left, h, prev, errors);
    if (*prev != 0xFFFFFFFFu && *prev >= t->key)
        (*errors)++;
    *prev = t->key;
    h = (h ^ t->key ^ ((uint64_t)t->count << 32)) * 0x100000001B3ull;
    return tree_inorder(t->right, h, prev, errors);
}

NOINLINE static uint32_t tree_height(const tnode *t)
{
    if (!t)
        return 0;
    uint32_t l = tree_height(t->left), r = tree_height(t->right);
    return 1 + (l > r ? l : r);
}

NOINLINE static uint32_t tree_count(const tnode *t)
{
    return t ? t->count + tree_count(t->left) + tree_count(t->right) : 0;
}

NOINLINE static uint32_t tree_depth_sum(const tnode *t, uint32_t depth)
{
    if (!t)
        return 0;
    return t->key * depth + tree_depth_sum(t->left, depth + 1)
           + tree_depth_sum(t->right, depth + 1);
}

#define TREE_KEYS 320u
#define HELPER_ROUNDS 320u

static uint64_t kernel_calls(uint32_t rep, uint64_t *errors)
{
    uint64_t rng = rng_seed(0xCA11CA11ull, rep);

    /* fib 16..19 recursively, checked against the loop */
    uint32_t n = 16 + (rep & 3);
    uint32_t f = fib_rec(n), a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = a + b;
        a = b;
        b = t;
    }
    if (f != a)
        (*errors)++;
    uint64_t h = fold64(0, f);

    /* a tree of TREE_KEYS keys, some of them repeated */
    tnode *root = 0;
    tree_used = 0;
    for (uint32_t i = 0; i < TREE_KEYS; i++)
        root = tree_insert(root, (uint32_t)(rng_next(&rng) >> 40) & 0x3FFFu);
    uint32_t prev = 0xFFFFFFFFu;
    h = fold64(h, tree_inorder(root, 0xCBF29CE484222325ull, &prev, errors));
    if (tree_count(root) != TREE_KEYS)
        (*errors)++;
    h = fold64(h, ((uint64_t)tree_height(root) << 32) | tree_used);
    h = fold64(h, tree_depth_sum(root, 1));

    /* many small helper calls */
    uint32_t x = (uint32_t)rng_next(&rng), y = 0, g = 0, z = 0;
    for (uint32_t i = 0; i < HELPER_ROUNDS; i++) {
        x = h_mix(x, i);
        x = h_rotl(x, i + rep);
        y += h_clamp(x >> 20, 100, 3000);
        g ^= h_gcd(x | 1, i + 1 + (rep & 15));
        y += h_digits(x);
        z += h_chain(x, i & 7);
    }
    h = fold64(h, ((uint64_t)x << 32) | y);
    return fold64(h, ((uint64_t)g << 32) | z);
}

/* ---- indirect calls: op table, vtables, sort with a comparator ------------- */

typedef uint32_t (*op_fn)(uint32_t, uint32_t);

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
static uint32_t op_rotl(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}
static uint32_t op_rotr(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a >> b) | (a << ((32 - b) & 31));
}
static uint32_t op_min(uint32_t a, uint32_t b) { return (a < b ? a : b) + 0x1234567u; }
static uint32_t op_max(uint32_t a, uint32_t b) { return (a > b ? a : b) - 0x7654321u; }
static uint32_t op_avg(uint32_t a, uint32_t b) { return (a & b) + ((a ^ b) >> 1) + 3; }
static uint32_t op_absdiff(uint32_t a, uint32_t b) { return (a > b ? a - b : b - a) ^ a; }
static uint32_t op_mulhi(uint32_t a, uint32_t b)
{
    return (uint32_t)(((uint64_t)a * b) >> 32) + a;
}
static uint32_t op_bswap(uint32_t a, uint32_t b)
{
    a ^= b;
    return (a >> 24) | ((a >> 8) & 0xFF00u) | ((a << 8) & 0xFF0000u) | (a << 24);
}
static uint32_t op_orand(uint32_t a, uint32_t b) { return (a | b) - (a & b) + 1; }
static uint32_t op_shmix(uint32_t a, uint32_t b) { return a ^ (a << 5) ^ (b >> 3); }
static uint32_t op_popc(uint32_t a, uint32_t b)
{
    uint32_t v = a & b, n = 0;
    while (v) {
        v &= v - 1;
        n++;
    }
    return a + n * 0x01000193u;
}
static uint32_t op_hash(uint32_t a, uint32_t b)
{
    a ^= b;
    a ^= a >> 16;
    a *= 0x7FEB352Du;
    a ^= a >> 15;
    return a;
}

static op_fn op_table[16] = {
    op_add, op_sub, op_xor, op_mul, op_rotl, op_rotr, op_min, op_max,
    op_avg, op_absdiff, op_mulhi, op_bswap, op_orand, op_shmix, op_popc, op_hash,
};

#define PROG_LEN 1024u
static uint8_t prog_op[PROG_LEN];
static uint32_t prog_arg[PROG_LEN];

/* Objects with a table of methods. */
typedef struct shape shape;
typedef struct {
    uint32_t (*area)(const shape *);
    uint32_t (*perimeter)(const shape *);
    void (*grow)(shape *, uint32_t);
} shape_ops;
struct shape {
    const shape_ops *ops;
    uint32_t w, h, id;
};

static uint32_t rect_area(const shape *s) { return s->w * s->h; }
static uint32_t rect_perimeter(const shape *s) { return 2 * (s->w + s->h); }
static void rect_grow(shape *s, uint32_t k) { s->w += k; s->h += k >> 1; }
static uint32_t square_area(const shape *s) { return s->w * s->w; }
static uint32_t square_perimeter(const shape *s) { return 4 * s->w; }
static void square_grow(shape *s, uint32_t k) { s->w += k + 1; }
static uint32_t tri_area(const shape *s) { return (s->w * s->h) >> 1; }
static uint32_t tri_perimeter(const shape *s) { return s->w + s->h + ((s->w + s->h) >> 1); }
static void tri_grow(shape *s, uint32_t k) { s->h += k; s->w ^= k & 7; }
static uint32_t ring_area(const shape *s) { return 3 * (s->w * s->w - s->h * s->h); }
static uint32_t ring_perimeter(const shape *s) { return 6 * (s->w + s->h); }
static void ring_grow(shape *s, uint32_t k) { s->w += 2 * k; s->h += k; }

static const shape_ops shape_kinds[4] = {
    {rect_area, rect_perimeter, rect_grow},
    {square_area, square_perimeter, square_grow},
    {tri_area, tri_perimeter, tri_grow},
    {ring_area, ring_perimeter, ring_grow},
};

#define SHAPES 256u
static shape shapes[SHAPES];

/* Comparators for a sort that only knows a function pointer. */
typedef int (*cmp_fn)(uint32_t, uint32_t);
static int cmp_up(uint32_t a, uint32_t b) { return a < b ? -1 : a > b; }
static int cmp_down(uint32_t a, uint32_t b) { return a > b ? -1 : a < b; }
static int cmp_lowbyte(uint32_t a, uint32_t b)
{
    uint32_t x = a & 0xFF, y = b & 0xFF;
    if (x != y)
        return x < y ? -1 : 1;
    return a < b ? -1 : a > b;
}
static int cmp_popcount(uint32_t a, uint32_t b)
{
    uint32_t x = 0, y = 0;
    for (uint32_t v = a; v; v &= v - 1)
        x++;
    for (uint32_t v = b; v; v &= v - 1)
        y++;
    if (x != y)
        return x < y ? -1 : 1;
    return a < b ? -1 : a > b;
}
static cmp_fn cmp_table[4] = {cmp_up, cmp_down, cmp_lowbyte, cmp_popcount};

NOINLINE static void sort_with(uint32_t *a, uint32_t n, cmp_fn cmp)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = a[i], j = i;
        while (j > 0 && cmp(a[j - 1], v) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

#define CSORT_N 96u
static uint32_t csort_buf[CSORT_N];

static uint64_t kernel_indirect(uint32_t rep, uint64_t *errors)
{
    uint64_t rng = rng_seed(0x1D1EC7ull, rep);

    /* a straight-line "program" of table operations, run three times */
    for (uint32_t i = 0; i < PROG_LEN; i++) {
        uint64_t r = rng_next(&rng);
        prog_op[i] = (uint8_t)(r & 15);
        prog_arg[i] = (uint32_t)(r >> 32);
    }
    uint32_t acc = rep * 0x2545F491u;
    uint64_t h = 0;
    for (uint32_t pass = 0; pass < 3; pass++) {
        for (uint32_t i = 0; i < PROG_LEN; i++)
            acc = op_table[prog_op[i]](acc, prog_arg[i] + pass);
        h = fold64(h, acc);
    }

    /* objects: every method call goes through the object's table */
    for (uint32_t i = 0; i < SHAPES; i++) {
        uint64_t r = rng_next(&rng);
        shapes[i].ops = &shape_kinds[r & 3];
        shapes[i].w = (uint32_t)(r >> 8) & 0xFFF;
        shapes[i].h = (uint32_t)(r >> 24) & 0x3FF;
        shapes[i].id = i;
    }
    uint32_t area = 0, perim = 0;
    for (uint32_t pass = 0; pass < 3; pass++)
        for (uint32_t i = 0; i < SHAPES; i++) {
            shape *s = &shapes[i];
            area += s->ops->area(s) ^ s->id;
            perim += s->ops->perimeter(s);
            s->ops->grow(s, pass + (i & 3));
        }
    h = fold64(h, ((uint64_t)area << 32) | perim);

    /* a sort through a comparator pointer, then checked with it */
    cmp_fn cmp = cmp_table[rep & 3];
    for (uint32_t i = 0; i < CSORT_N; i++)
        csort_buf[i] = (uint32_t)(rng_next(&rng) >> 29);
    sort_with(csort_buf, CSORT_N, cmp);
    uint64_t s = 0;
    for (uint32_t i = 0; i < CSORT_N; i++) {
        if (i > 0 && cmp(csort_buf[i - 1], csort_buf[i]) > 0)
            (*errors)++;
        s = (s ^ csort_buf[i]) * 0x100000001B3ull;
    }
    return fold64(h, s);
}

/* ---- linked lists over many pages ------------------------------------------- */

/* One node per 64 bytes; the pool spans 512 KiB (128 pages of 4 KiB), and
 * consecutive list nodes are LIST_STRIDE pool slots apart. */
typedef struct lnode {
    struct lnode *next;
    uint32_t key, id;
} __attribute__((aligned(64))) lnode;

#define LIST_POOL 8192u
#define LIST_N 800u
#define LIST_STRIDE 2053u
#define LIST_FINDS 24u
static lnode list_pool[LIST_POOL];

NOINLINE static lnode *list_reverse(lnode *l)
{
    lnode *r = 0;
    while (l) {
        lnode *next = l->next;
        l->next = r;
        r = l;
        l = next;
    }
    return r;
}

/* 1-based position of the first node with this key, 0 if none. */
NOINLINE static uint32_t list_find(const lnode *l, uint32_t key)
{
    for (uint32_t pos = 1; l; l = l->next, pos++)
        if (l->key == key)
            return pos;
    return 0;
}

static int lnode_before(const lnode *a, const lnode *b)
{
    return a->key < b->key || (a->key == b->key && a->id <= b->id);
}

NOINLINE static lnode *list_merge(lnode *a, lnode *b)
{
    lnode *head = 0, **tail = &head;
    while (a && b) {
        if (lnode_before(a, b)) {
            *tail = a;
            a = a->next;
        } else {
            *tail = b;
            b = b->next;
        }
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return head;
}

/* Merge sort of a list of n nodes (stable; ties are ordered by id anyway). */
NOINLINE static lnode *list_sort(lnode *l, uint32_t n)
{
    if (n < 2)
        return l;
    uint32_t half = n / 2;
    lnode *mid = l;
    for (uint32_t i = 1; i < half; i++)
        mid = mid->next;
    lnode *right = mid->next;
    mid->next = 0;
    return list_merge(list_sort(l, half), list_sort(right, n - half));
}

/* Unlink every node whose key is a multiple of m; returns how many went. */
NOINLINE static uint32_t list_remove_multiples(lnode **l, uint32_t m)
{
    uint32_t removed = 0;
    while (*l) {
        if ((*l)->key % m == 0) {
            *l = (*l)->next;
            removed++;
        } else {
            l = &(*l)->next;
        }
    }
    return removed;
}

static uint64_t kernel_lists(uint32_t rep, uint64_t *errors)
{
    uint64_t rng = rng_seed(0x115757ull, rep);
    uint32_t base = (rep * 97u) & (LIST_POOL - 1);

    /* build by pushing at the front: ids come out descending */
    lnode *l = 0;
    for (uint32_t i = 0; i < LIST_N; i++) {
        lnode *n = &list_pool[(base + i * LIST_STRIDE) & (LIST_POOL - 1)];
        n->key = (uint32_t)(rng_next(&rng) >> 48) & 0x7FFu;
        n->id = i;
        n->next = l;
        l = n;
    }
    l = list_reverse(l);
    uint64_t h = 0;
    uint32_t count = 0, expect = 0;
    for (const lnode *p = l; p; p = p->next) {
        if (p->id != expect++)
            (*errors)++;
        h = (h ^ p->key) * 0x100000001B3ull;
        count++;
    }
    if (count != LIST_N)
        (*errors)++;

    /* look up keys known to be there (those of some ids) and random ones */
    uint32_t found = 0;
    for (uint32_t q = 0; q < LIST_FINDS; q++) {
        uint32_t id = (q * 331u + rep) % LIST_N;
        uint32_t key = list_pool[(base + id * LIST_STRIDE) & (LIST_POOL - 1)].key;
        uint32_t pos = list_find(l, key);
        if (pos == 0 || pos > id + 1)
            (*errors)++;
        found += pos;
        found += list_find(l, (uint32_t)(rng_next(&rng) >> 50) & 0x7FFu) * 3;
    }
    h = fold64(h, found);

    l = list_sort(l, LIST_N);
    uint64_t s = 0;
    count = 0;
    for (const lnode *p = l; p; p = p->next) {
        if (p->next && !lnode_before(p, p->next))
            (*errors)++;
        s += (uint64_t)p->key * (count + 1) + p->id;
        count++;
    }
    if (count != LIST_N)
        (*errors)++;
    h = fold64(h, s);

    uint32_t removed = list_remove_multiples(&l, 3 + (rep & 3));
    l = list_reverse(l);
    count = 0;
    for (const lnode *p = l; p; p = p->next) {
        h = (h ^ p->id) * 0x100000001B3ull;
        count++;
    }
    if (count + removed != LIST_N)
        (*errors)++;
    return fold64(h, ((uint64_t)removed << 32) | count);
}

/* ---- parse: generated program text, a lexer state machine, a parser --------- */

/*
 * The language: statements `let NAME = EXPR;`, `NAME = EXPR;` and
 * `print EXPR;`, `#` comments to the end of the line. EXPR over u32 with,
 * loosest first: | ^ & (<< >>) (+ -) *, unary - and ~, parentheses, names and
 * numbers (decimal with optional `_` separators, 0x hex, 0b binary). The
 * generator writes random statements and computes their values as it goes;
 * the parser must arrive at the same values.
 */
enum {
    T_END, T_NUM, T_NAME, T_LET, T_PRINT, T_ASSIGN, T_SEMI, T_LPAREN, T_RPAREN,
    T_OR, T_XOR, T_AND, T_SHL, T_SHR, T_PLUS, T_MINUS, T_STAR, T_TILDE, T_BAD
};
enum { S_START, S_NAME, S_ZERO, S_DEC, S_HEX, S_BIN, S_COMMENT, S_LT, S_GT };

#define LEVEL_ATOM 6u
#define FNV32_OFFSET 0x811C9DC5u
#define FNV32_PRIME 0x01000193u

static const char *const gen_names[] = {
    "a", "b", "c", "x1", "y2", "tmp", "acc", "count", "idx", "lo", "hi",
    "mask", "bits", "sum", "val", "_t0", "Q9", "delta", "seed", "k_2",
};
#define GEN_NAMES (sizeof gen_names / sizeof gen_names[0])

static uint32_t name_hash(const char *s)
{
    uint32_t h = FNV32_OFFSET;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * FNV32_PRIME;
    return h;
}

/* The value of `a op b` for a binary operator token. */
static uint32_t apply_op(uint32_t op, uint32_t a, uint32_t b)
{
    switch (op) {
    case T_OR: return a | b;
    case T_XOR: return a ^ b;
    case T_AND: return a & b;
    case T_SHL: return a << (b & 31);
    case T_SHR: return a >> (b & 31);
    case T_PLUS: return a + b;
    case T_MINUS: return a - b;
    case T_STAR: return a * b;
    default: return 0;
    }
}

/* Precedence level of a binary operator token (0 loosest), or LEVEL_ATOM. */
static uint32_t op_level(uint32_t tok)
{
    switch (tok) {
    case T_OR: return 0;
    case T_XOR: return 1;
    case T_AND: return 2;
    case T_SHL: case T_SHR: return 3;
    case T_PLUS: case T_MINUS: return 4;
    case T_STAR: return 5;
    default: return LEVEL_ATOM;
    }
}

static uint64_t fold_stmt(uint64_t h, uint32_t kind, uint32_t value)
{
    return fold64(h, ((uint64_t)kind << 32) | value);
}

#define TEXT_MAX 4096u
#define TEXT_FILL (TEXT_MAX - 1024u)   /* no statement is longer than 1024 */
static uint8_t text_buf[TEXT_MAX];

typedef struct {
    uint32_t pos;           /* next byte of text_buf to write */
    uint64_t rng;
    uint32_t budget;        /* decisions left for the current statement */
    uint32_t depth;         /* parentheses open */
    uint32_t defined;       /* bit i: gen_names[i] has a value */
    uint32_t vals[GEN_NAMES];
} gen_state;

static uint32_t gen_rand(gen_state *g, uint32_t n)
{
    return (uint32_t)((rng_next(&g->rng) >> 33) % n);
}

static int gen_take(gen_state *g)
{
    if (g->budget == 0)
        return 0;
    g->budget--;
    return 1;
}

static void emit_char(gen_state *g, uint32_t c) { text_buf[g->pos++] = (uint8_t)c; }

static void emit_str(gen_state *g, const char *s)
{
    for (; *s; s++)
        emit_char(g, (uint8_t)*s);
}

static void emit_space(gen_state *g)
{
    uint32_t r = gen_rand(g, 16);
    emit_char(g, r == 0 ? '\t' : ' ');
    if (r == 1)
        emit_char(g, ' ');
}

static void emit_number(gen_state *g, uint32_t v)
{
    uint8_t digits[40];
    uint32_t n = 0, kind = gen_rand(g, 4);
    if (kind == 0) {                                /* hex, mixed case */
        uint32_t upper = gen_rand(g, 2);
        emit_char(g, '0');
        emit_char(g, upper ? 'X' : 'x');
        do {
            uint32_t d = v & 15;
            digits[n++] = (uint8_t)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
            v >>= 4;
        } while (v);
    } else if (kind == 1 && v < 256) {              /* binary */
        emit_str(g, "0b");
        do {
            digits[n++] = (uint8_t)('0' + (v & 1));
            v >>= 1;
        } while (v);
    } else {                                         /* decimal, maybe 1_000_000 */
        uint32_t sep = gen_rand(g, 3) == 0, k = 0;
        do {
            if (sep && k && k % 3 == 0)
                digits[n++] = '_';
            digits[n++] = (uint8_t)('0' + v % 10);
            v /= 10;
            k++;
        } while (v);
    }
    while (n)
        emit_char(g, digits[--n]);
}

static uint32_t gen_expr(gen_state *g, uint32_t level);

static uint32_t gen_atom(gen_state *g)
{
    uint32_t r = gen_rand(g, 16);
    if (r < 2 && gen_take(g)) {                      /* unary */
        emit_char(g, r ? '-' : '~');
        uint32_t v = gen_atom(g);
        return r ? 0u - v : ~v;
    }
    if (r < 5 && g->depth < 3 && gen_take(g)) {      /* parentheses */
        emit_char(g, '(');
        emit_space(g);
        g->depth++;
        uint32_t v = gen_expr(g, 0);
        g->depth--;
        emit_space(g);
        emit_char(g, ')');
        return v;
    }
    if (r < 11 && g->defined) {                      /* a name with a value */
        uint32_t i = gen_rand(g, GEN_NAMES);
        while (!(g->defined & (1u << i)))
            i = (i + 1) % GEN_NAMES;
        emit_str(g, gen_names[i]);
        return g->vals[i];
    }
    uint32_t v;
    switch (gen_rand(g, 4)) {
    case 0: v = gen_rand(g, 10); break;
    case 1: v = gen_rand(g, 1000); break;
    case 2: v = gen_rand(g, 1u << 20); break;
    default: v = (uint32_t)(rng_next(&g->rng) >> 32); break;
    }
    emit_number(g, v);
    return v;
}

static const uint8_t level_ops[6][2] = {
    {T_OR, T_OR}, {T_XOR, T_XOR}, {T_AND, T_AND},
    {T_SHL, T_SHR}, {T_PLUS, T_MINUS}, {T_STAR, T_STAR},
};

static uint32_t gen_expr(gen_state *g, uint32_t level)
{
    if (level == LEVEL_ATOM)
        return gen_atom(g);
    uint32_t v = gen_expr(g, level + 1);
    uint32_t extra = gen_rand(g, 4);
    extra = extra == 3 ? 0 : extra;
    for (uint32_t k = 0; k < extra && gen_take(g); k++) {
        uint32_t op = level_ops[level][gen_rand(g, 2)];
        emit_space(g);
        switch (op) {
        case T_OR: emit_char(g, '|'); break;
        case T_XOR: emit_char(g, '^'); break;
        case T_AND: emit_char(g, '&'); break;
        case T_SHL: emit_str(g, "<<"); break;
        case T_SHR: emit_str(g, ">>"); break;
        case T_PLUS: emit_char(g, '+'); break;
        case T_MINUS: emit_char(g, '-'); break;
        default: emit_char(g, '*'); break;
        }
        emit_space(g);
        v = apply_op(op, v, gen_expr(g, level + 1));
    }
    return v;
}

/* Writes statements into text_buf; returns the fold of their values. */
static uint64_t gen_program(uint32_t rep, uint32_t *statements)
{
    gen_state g;
    g.pos = 0;
    g.rng = rng_seed(0x9A45Eull, rep);
    g.depth = 0;
    g.defined = 0;
    uint64_t h = 0;
    uint32_t n = 0;
    while (g.pos < TEXT_FILL) {
        g.budget = 14;
        uint32_t r = gen_rand(&g, 8);
        if (r == 0 && g.defined) {
            emit_str(&g, "print");
            emit_space(&g);
            uint32_t v = gen_expr(&g, 0);
            h = fold_stmt(h, 0, v);
        } else {
            uint32_t i = gen_rand(&g, GEN_NAMES);
            if (!(g.defined & (1u << i)) || r == 1) {
                emit_str(&g, "let");
                emit_space(&g);
            }
            emit_str(&g, gen_names[i]);
            emit_space(&g);
            emit_char(&g, '=');
            emit_space(&g);
            uint32_t v = gen_expr(&g, 0);
            g.vals[i] = v;
            g.defined |= 1u << i;
            h = fold_stmt(h, 1 + i, v);
        }
        emit_char(&g, ';');
        switch (gen_rand(&g, 6)) {
        case 0:
            emit_str(&g, " # note ");
            emit_number(&g, n);
            emit_char(&g, '\n');
            break;
        case 1: emit_char(&g, ' '); break;
        default: emit_char(&g, '\n'); break;
        }
        n++;
    }
    text_buf[g.pos] = 0;
    *statements = n;
    return h;
}

typedef struct {
    const uint8_t *p;
    uint32_t tok, val;      /* current token; its number or name hash */
    uint32_t lines, tokens;
    uint32_t kw_let, kw_print;
} lexer;

/* The state machine: one switch on the state, one on the byte in each. */
NOINLINE static void lex_next(lexer *lx)
{
    uint32_t state = S_START, val = 0;
    lx->tokens++;
    for (;;) {
        uint32_t c = *lx->p;
        switch (state) {
        case S_START:
            switch (c) {
            case 0: lx->tok = T_END; return;
            case ' ': case '\t': case '\r': lx->p++; break;
            case '\n': lx->lines++; lx->p++; break;
            case '#': state = S_COMMENT; lx->p++; break;
            case 'a' ... 'z': case 'A' ... 'Z': case '_':
                val = (FNV32_OFFSET ^ c) * FNV32_PRIME;
                state = S_NAME;
                lx->p++;
                break;
            case '0': state = S_ZERO; lx->p++; break;
            case '1' ... '9': val = c - '0'; state = S_DEC; lx->p++; break;
            case '=': lx->p++; lx->tok = T_ASSIGN; return;
            case ';': lx->p++; lx->tok = T_SEMI; return;
            case '(': lx->p++; lx->tok = T_LPAREN; return;
            case ')': lx->p++; lx->tok = T_RPAREN; return;
            case '|': lx->p++; lx->tok = T_OR; return;
            case '^': lx->p++; lx->tok = T_XOR; return;
            case '&': lx->p++; lx->tok = T_AND; return;
            case '+': lx->p++; lx->tok = T_PLUS; return;
            case '-': lx->p++; lx->tok = T_MINUS; return;
            case '*': lx->p++; lx->tok = T_STAR; return;
            case '~': lx->p++; lx->tok = T_TILDE; return;
            case '<': state = S_LT; lx->p++; break;
            case '>': state = S_GT; lx->p++; break;
            default: lx->p++; lx->tok = T_BAD; return;
            }
            break;
        case S_NAME:
            switch (c) {
            case 'a' ... 'z': case 'A' ... 'Z': case '0' ... '9': case '_':
                val = (val ^ c) * FNV32_PRIME;
                lx->p++;
                break;
            default:
                lx->val = val;
                lx->tok = val == lx->kw_let ? T_LET : val == lx->kw_print ? T_PRINT : T_NAME;
                return;
            }
            break;
        case S_ZERO:
            switch (c) {
            case 'x': case 'X': state = S_HEX; lx->p++; break;
            case 'b': case 'B': state = S_BIN; lx->p++; break;
            case '0' ... '9': case '_': state = S_DEC; break;
            default: lx->val = 0; lx->tok = T_NUM; return;
            }
            break;
        case S_DEC:
            switch (c) {
            case '0' ... '9': val = val * 10 + (c - '0'); lx->p++; break;
            case '_': lx->p++; break;
            default: lx->val = val; lx->tok = T_NUM; return;
            }
            break;
        case S_HEX:
            switch (c) {
            case '0' ... '9': val = (val << 4) | (c - '0'); lx->p++; break;
            case 'a' ... 'f': val = (val << 4) | (c - 'a' + 10); lx->p++; break;
            case 'A' ... 'F': val = (val << 4) | (c - 'A' + 10); lx->p++; break;
            case '_': lx->p++; break;
            default: lx->val = val; lx->tok = T_NUM; return;
            }
            break;
        case S_BIN:
            switch (c) {
            case '0': case '1': val = (val << 1) | (c - '0'); lx->p++; break;
            case '_': lx->p++; break;
            default: lx->val = val; lx->tok = T_NUM; return;
            }
            break;
        case S_COMMENT:
            switch (c) {
            case 0: case '\n': state = S_START; break;
            default: lx->p++; break;
            }
            break;
        case S_LT:
        case S_GT:
            if (c == (state == S_LT ? '<' : '>')) {
                lx->p++;
                lx->tok = state == S_LT ? T_SHL : T_SHR;
            } else {
                lx->tok = T_BAD;
            }
            return;
        }
    }
}

#define SYM_SLOTS 64u
typedef struct {
    lexer lx;
    uint32_t errors;
    uint32_t epoch;
    uint32_t sym_hash[SYM_SLOTS], sym_val[SYM_SLOTS], sym_epoch[SYM_SLOTS];
} parser;

static parser the_parser;

NOINLINE static uint32_t *sym_slot(parser *ps, uint32_t hash, int create)
{
    for (uint32_t i = hash & (SYM_SLOTS - 1);; i = (i + 1) & (SYM_SLOTS - 1)) {
        if (ps->sym_epoch[i] != ps->epoch) {
            if (!create)
                return 0;
            ps->sym_epoch[i] = ps->epoch;
            ps->sym_hash[i] = hash;
            ps->sym_val[i] = 0;
            return &ps->sym_val[i];
        }
        if (ps->sym_hash[i] == hash)
            return &ps->sym_val[i];
    }
}

static void expect_tok(parser *ps, uint32_t tok)
{
    if (ps->lx.tok != tok)
        ps->errors++;
    else
        lex_next(&ps->lx);
}

NOINLINE static uint32_t parse_expr(parser *ps, uint32_t level);

NOINLINE static uint32_t parse_atom(parser *ps)
{
    uint32_t v;
    switch (ps->lx.tok) {
    case T_MINUS:
        lex_next(&ps->lx);
        return 0u - parse_atom(ps);
    case T_TILDE:
        lex_next(&ps->lx);
        return ~parse_atom(ps);
    case T_NUM:
        v = ps->lx.val;
        lex_next(&ps->lx);
        return v;
    case T_NAME: {
        uint32_t *slot = sym_slot(ps, ps->lx.val, 0);
        if (!slot)
            ps->errors++;
        lex_next(&ps->lx);
        return slot ? *slot : 0;
    }
    case T_LPAREN:
        lex_next(&ps->lx);
        v = parse_expr(ps, 0);
        expect_tok(ps, T_RPAREN);
        return v;
    default:
        ps->errors++;
        lex_next(&ps->lx);
        return 0;
    }
}

/* Precedence climbing, one level per call: every atom costs 7 calls. */
NOINLINE static uint32_t parse_expr(parser *ps, uint32_t level)
{
    if (level == LEVEL_ATOM)
        return parse_atom(ps);
    uint32_t v = parse_expr(ps, level + 1);
    while (op_level(ps->lx.tok) == level) {
        uint32_t op = ps->lx.tok;
        lex_next(&ps->lx);
        v = apply_op(op, v, parse_expr(ps, level + 1));
    }
    return v;
}

/* Parses text_buf; returns the fold of the statements' values. */
static uint64_t parse_program(parser *ps, uint32_t *statements)
{
    uint64_t h = 0;
    uint32_t n = 0;
    ps->lx.p = text_buf;
    ps->lx.lines = ps->lx.tokens = 0;
    ps->epoch++;
    /* the generator folds name index i as kind 1 + i: map hashes back */
    uint32_t kind_hash[GEN_NAMES];
    for (uint32_t i = 0; i < GEN_NAMES; i++)
        kind_hash[i] = name_hash(gen_names[i]);
    lex_next(&ps->lx);
    while (ps->lx.tok != T_END) {
        if (ps->lx.tok == T_PRINT) {
            lex_next(&ps->lx);
            h = fold_stmt(h, 0, parse_expr(ps, 0));
        } else {
            if (ps->lx.tok == T_LET)
                lex_next(&ps->lx);
            uint32_t hash = ps->lx.val, kind = 0;
            expect_tok(ps, T_NAME);
            expect_tok(ps, T_ASSIGN);
            uint32_t v = parse_expr(ps, 0);
            *sym_slot(ps, hash, 1) = v;
            for (uint32_t i = 0; i < GEN_NAMES; i++)
                if (kind_hash[i] == hash)
                    kind = 1 + i;
            if (!kind)
                ps->errors++;
            h = fold_stmt(h, kind, v);
        }
        if (ps->lx.tok != T_SEMI) {             /* resynchronise after an error */
            ps->errors++;
            while (ps->lx.tok != T_SEMI && ps->lx.tok != T_END)
                lex_next(&ps->lx);
        }
        if (ps->lx.tok == T_SEMI)
            lex_next(&ps->lx);
        n++;
    }
    *statements = n;
    return h;
}

static uint64_t kernel_parse(uint32_t rep, uint64_t *errors)
{
    parser *ps = &the_parser;
    uint32_t gen_n, parse_n;
    uint64_t want = gen_program(rep, &gen_n);
    ps->errors = 0;
    ps->lx.kw_let = name_hash("let");
    ps->lx.kw_print = name_hash("print");
    uint64_t got = parse_program(ps, &parse_n);
    if (got != want || gen_n != parse_n || ps->errors)
        (*errors)++;
    uint64_t h = fold64(got, ((uint64_t)ps->lx.tokens << 32) | ps->lx.lines);
    return fold64(h, parse_n);
}

/* ---- small matrices: 16x16 u32 products over a ring of matrices ------------- */

#define MAT_N 16u
#define MAT_COUNT 4u
static uint32_t mats[MAT_COUNT][MAT_N][MAT_N];
static uint32_t mat_prod[MAT_N][MAT_N];
static uint32_t mat_acc[MAT_N][MAT_N];

NOINLINE static void mat_mul(uint32_t c[MAT_N][MAT_N], const uint32_t a[MAT_N][MAT_N],
                             const uint32_t b[MAT_N][MAT_N])
{
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++) {
            uint32_t s = 0;
            for (uint32_t k = 0; k < MAT_N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
}

static uint64_t kernel_matrix(uint32_t rep)
{
    uint64_t rng = rng_seed(0x3A7121Cull, rep);
    for (uint32_t m = 0; m < MAT_COUNT; m++)
        for (uint32_t i = 0; i < MAT_N; i++)
            for (uint32_t j = 0; j < MAT_N; j += 2) {
                uint64_t r = rng_next(&rng);
                mats[m][i][j] = (uint32_t)r & 0xFFFFu;
                mats[m][i][j + 1] = (uint32_t)(r >> 32) & 0xFFFFu;
            }
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++)
            mat_acc[i][j] = i == j;
    uint64_t h = 0;
    for (uint32_t m = 0; m < MAT_COUNT; m++) {
        mat_mul(mat_prod, mats[m], mats[(m + 1) % MAT_COUNT]);
        uint32_t trace = 0, colx = 0;
        for (uint32_t i = 0; i < MAT_N; i++) {
            trace += mat_prod[i][i];
            for (uint32_t j = 0; j < MAT_N; j++)
                colx ^= mat_prod[j][i] + i;
        }
        h = fold64(h, ((uint64_t)trace << 32) | colx);
        /* mat_acc = mat_acc * (mat_prod >> 8): a running product */
        for (uint32_t i = 0; i < MAT_N; i++)
            for (uint32_t j = 0; j < MAT_N; j++)
                mat_prod[i][j] >>= 8;
        mat_mul(mats[m], mat_acc, mat_prod);
        for (uint32_t i = 0; i < MAT_N; i++)
            for (uint32_t j = 0; j < MAT_N; j++)
                mat_acc[i][j] = mats[m][i][j] | 1;
    }
    for (uint32_t i = 0; i < MAT_N; i++)
        for (uint32_t j = 0; j < MAT_N; j++)
            h = (h ^ mat_acc[i][j]) * 0x100000001B3ull;
    return h;
}

/* ---- driver ---------------------------------------------------------------- */

/* Build with -DMIXBENCH_ONLY=k (1 calls, 2 indirect, 3 lists, 4 parse,
 * 5 matrix) to run one kernel alone, for measurements of one shape of code
 * (BENCHMARKS.md); the checksum then differs. 0, the default, runs all. */
#ifndef MIXBENCH_ONLY
#define MIXBENCH_ONLY 0
#endif
#define MIXBENCH_RUNS(k) (MIXBENCH_ONLY == 0 || MIXBENCH_ONLY == (k))

void mixbench_run_all(uint32_t reps, mixbench_result *out)
{
    mixbench_result r = {0, 0, 0, 0, 0, 0, 0};
    for (uint32_t rep = 0; rep < reps; rep++) {
        if (MIXBENCH_RUNS(1))
            r.calls    = fold64(r.calls,    kernel_calls(rep, &r.errors));
        if (MIXBENCH_RUNS(2))
            r.indirect = fold64(r.indirect, kernel_indirect(rep, &r.errors));
        if (MIXBENCH_RUNS(3))
            r.lists    = fold64(r.lists,    kernel_lists(rep, &r.errors));
        if (MIXBENCH_RUNS(4))
            r.parse    = fold64(r.parse,    kernel_parse(rep, &r.errors));
        if (MIXBENCH_RUNS(5))
            r.matrix   = fold64(r.matrix,   kernel_matrix(rep));
    }
    uint64_t c = fold64(0, reps);
    c = fold64(c, r.calls);
    c = fold64(c, r.indirect);
    c = fold64(c, r.lists);
    c = fold64(c, r.parse);
    c = fold64(c, r.matrix);
    r.combined = c ^ r.errors;
    *out = r;
}

uint64_t mixbench_run(uint32_t reps)
{
    mixbench_result r;
    mixbench_run_all(reps, &r);
    return r.combined;
}

uint32_t mixbench_default_reps(void)
{
    return MIXBENCH_DEFAULT_REPS;
}
