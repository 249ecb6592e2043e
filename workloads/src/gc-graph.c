/*
 * gc-graph: a large long-lived graph mutated while it is being collected (a
 * write-barrier stress test for tunevm's collector, runtime/gc.h).
 *
 * NODES nodes of 64 bytes (6 pointer slots, index, version, payload): 1 MiB
 * live at the default 16384. Slots 0 and 1 hold a binary tree that spans every node from `root`
 * (a global); slots 2..5 are cross edges to any node. The index -> node table
 * is allocated with gc_alloc_atomic, so it is never scanned: a node stays alive
 * only through the tree (and any cross edges to it). Then STEPS random steps,
 * each one of:
 *   - point a cross edge at the current node j;
 *   - copy a cross edge from another node (possibly to a replaced, stale node,
 *     which then lives on only through cross edges);
 *   - swap two tree subtrees between two unrelated parents (pointer held in a
 *     register while both stores happen: the case a missing barrier loses);
 *   - replace a node with a fresh copy (new version and payload; its parent's
 *     slot now holds the only pointer to the young object);
 *   - bump a node's version and payload in place;
 * and every step allocates a garbage object (16..1024 bytes, half of them
 * gc_alloc_atomic) that lives for the next 256 steps in a ring, with a tag at
 * both ends (checked when it leaves the ring) and checked to be zeroed.
 *
 * The expected structure is kept in plain index arrays in .bss (the shadow).
 * At CHECKPOINTS points the real graph is walked from the table and compared
 * with the shadow: every node's index, version and payload (a hash of index and
 * version), every tree edge (exact node), every cross edge (the target's index,
 * and that the target, current or stale, is intact), and that the tree from
 * `root` reaches every node once. Each checkpoint prints a checksum of the
 * shadow-checked values (no addresses, nothing from the GC); the last line is
 * "gc-graph: ok" (exit 0), or FAIL lines and exit 1.
 *
 * Defaults: 16384 nodes, 90 000 steps, ~47 MiB allocated, ~1.3-1.6 MiB live
 * (graph, stale nodes, table, ring), ~36 M instructions.
 */
#include "gc.h"

#ifndef NODES
#define NODES 16384         /* < 65535: shadow indices are uint16_t */
#endif
#ifndef STEPS
#define STEPS 90000
#endif
#define CHECKPOINTS 3
#define RING 256
#define NSLOTS 6
#define TREE 2              /* slots 0, 1: tree children; 2..5: cross edges */
#define NIL 0xffff

struct node {
    struct node *edge[NSLOTS];
    uint32_t index, version;
    uint64_t payload;
};

static struct node *root;
static struct node **table;             /* gc_alloc_atomic: not a root */

static uint16_t sh_child[NODES][TREE];
static uint16_t sh_cross[NODES][NSLOTS - TREE];
static uint16_t sh_parent[NODES];
static uint8_t sh_pslot[NODES];
static uint32_t sh_version[NODES];

static void *ring[RING];
static uint64_t ring_tag[RING];
static uint32_t ring_words[RING];

static uint64_t rng = 0x853c49e6748fea9bULL;
static long failures;

static inline uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static inline uint32_t pick(uint32_t n) { return (uint32_t)((next_rand() >> 32) % n); }

static inline uint64_t payload_of(uint64_t index, uint64_t version)
{
    uint64_t x = index * 0x9e3779b97f4a7c15ULL + version * 0xd1b54a32d192ed03ULL + 1;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

static void fail(const char *what, uint32_t i, uint64_t got, uint64_t want)
{
    if (failures < 10)
        printf("FAIL: %s at node %u: 0x%lx, expected 0x%lx\n", what, i, got, want);
    failures++;
}

static void *alloc_or_die(size_t size, unsigned long flags)
{
    void *p = gc_alloc_flags(size, flags);
    if (!p) {
        puts("FAIL: out of GC heap");
        exit(1);
    }
    return p;
}

static struct node *new_node(uint32_t i, uint32_t version)
{
    struct node *n = alloc_or_die(sizeof *n, 0);
    n->index = i;
    n->version = version;
    n->payload = payload_of(i, version);
    return n;
}

/* Is x an ancestor of (or equal to) y in the shadow tree? */
static int is_ancestor(uint32_t x, uint32_t y)
{
    for (uint32_t v = y; v != NIL; v = sh_parent[v])
        if (v == x)
            return 1;
    return 0;
}

static void build(void)
{
    table = alloc_or_die(NODES * sizeof *table, GC_NO_POINTERS);
    /* node i is the child of node (i - 1) / 2: linked as soon as it exists (the
       table does not keep it alive) */
    for (uint32_t i = 0; i < NODES; i++) {
        table[i] = new_node(i, 0);
        sh_version[i] = 0;
        sh_child[i][0] = sh_child[i][1] = NIL;
        if (i == 0) {
            root = table[0];
            sh_parent[0] = NIL;
        } else {
            uint32_t p = (i - 1) / 2, s = (i - 1) % 2;
            table[p]->edge[s] = table[i];
            sh_child[p][s] = i;
            sh_parent[i] = p;
            sh_pslot[i] = s;
        }
    }
    for (uint32_t i = 0; i < NODES; i++) {
        for (uint32_t s = TREE; s < NSLOTS; s++) {
            uint32_t j = pick(NODES);
            table[i]->edge[s] = table[j];
            sh_cross[i][s - TREE] = j;
        }
    }
}

static void garbage(uint32_t step)
{
    uint32_t r = step % RING;
    uint64_t *g = ring[r];
    if (g) {
        uint32_t w = ring_words[r];
        if (g[0] != ring_tag[r] || g[w - 1] != ~ring_tag[r])
            fail("garbage ring object", r, g[0], ring_tag[r]);
    }
    uint64_t x = next_rand();
    uint32_t words = 2 + (uint32_t)(x % 127);         /* 16 .. 1024 bytes */
    g = alloc_or_die(words * 8, (x >> 8) & 1 ? GC_NO_POINTERS : 0);
    if (g[words / 2] != 0)
        fail("fresh object not zeroed", r, g[words / 2], 0);
    g[0] = x;
    g[words - 1] = ~x;
    ring[r] = g;
    ring_tag[r] = x;
    ring_words[r] = words;
}

static void step(uint32_t k)
{
    uint32_t op = pick(100);
    if (op < 30) {                      /* cross edge -> current node j */
        uint32_t a = pick(NODES), s = TREE + pick(NSLOTS - TREE), j = pick(NODES);
        table[a]->edge[s] = table[j];
        sh_cross[a][s - TREE] = j;
    } else if (op < 45) {               /* copy a cross edge from node b */
        uint32_t a = pick(NODES), s = TREE + pick(NSLOTS - TREE);
        uint32_t b = pick(NODES), t = TREE + pick(NSLOTS - TREE);
        table[a]->edge[s] = table[b]->edge[t];
        sh_cross[a][s - TREE] = sh_cross[b][t - TREE];
    } else if (op < 55) {               /* swap subtrees a.s <-> b.t */
        uint32_t a = pick(NODES), s = pick(TREE), b = pick(NODES), t = pick(TREE);
        if (a == b ? s == t : is_ancestor(a, b) || is_ancestor(b, a))
            return;
        struct node *na = table[a], *nb = table[b];
        struct node *x = na->edge[s];
        na->edge[s] = nb->edge[t];
        nb->edge[t] = x;
        uint32_t ca = sh_child[a][s], cb = sh_child[b][t];
        sh_child[a][s] = cb;
        sh_child[b][t] = ca;
        if (cb != NIL) { sh_parent[cb] = a; sh_pslot[cb] = s; }
        if (ca != NIL) { sh_parent[ca] = b; sh_pslot[ca] = t; }
    } else if (op < 75) {               /* replace node i by a fresh copy */
        uint32_t i = pick(NODES);
        struct node *old = table[i];
        struct node *n = new_node(i, ++sh_version[i]);
        for (uint32_t s = 0; s < NSLOTS; s++)
            n->edge[s] = old->edge[s];
        uint32_t p = sh_parent[i];
        if (p == NIL)
            root = n;
        else
            table[p]->edge[sh_pslot[i]] = n;
        table[i] = n;
    } else if (op < 85) {               /* new version in place */
        uint32_t i = pick(NODES);
        struct node *n = table[i];
        n->version = ++sh_version[i];
        n->payload = payload_of(i, n->version);
    }
    (void)k;
}

static uint16_t stack[NODES];

static uint64_t verify(void)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < NODES; i++) {
        const struct node *n = table[i];
        if (n->index != i) { fail("index", i, n->index, i); continue; }
        if (n->version != sh_version[i]) fail("version", i, n->version, sh_version[i]);
        if (n->payload != payload_of(i, sh_version[i]))
            fail("payload", i, n->payload, payload_of(i, sh_version[i]));
        sum = (sum ^ n->payload) * 0x100000001b3ULL + n->version;
        for (uint32_t s = 0; s < TREE; s++) {
            uint32_t c = sh_child[i][s];
            const struct node *want = c == NIL ? 0 : table[c];
            if (n->edge[s] != want)
                fail("tree edge", i, n->edge[s] ? n->edge[s]->index : NIL, c);
            sum = sum * 31 + c;
        }
        for (uint32_t s = TREE; s < NSLOTS; s++) {
            const struct node *t = n->edge[s];
            uint32_t j = sh_cross[i][s - TREE];
            if (!t || t->index != j) {
                fail("cross edge", i, t ? t->index : NIL, j);
                continue;
            }
            if (t->version > sh_version[j] || t->payload != payload_of(j, t->version))
                fail("cross edge target", i, t->payload, payload_of(j, t->version));
            sum = sum * 31 + j;
        }
    }
    /* the tree from root reaches every node exactly once */
    uint32_t seen = 0, top = 0;
    if (root != table[0] && sh_parent[0] == NIL)
        fail("root", 0, root->index, 0);
    for (uint32_t i = 0; i < NODES; i++)
        if (sh_parent[i] == NIL)
            stack[top++] = (uint16_t)i;
    if (top != 1)
        fail("tree roots", 0, top, 1);
    top = 0;
    stack[top++] = (uint16_t)root->index;
    while (top && seen <= NODES) {
        const struct node *n = table[stack[--top]];
        seen++;
        for (uint32_t s = 0; s < TREE; s++)
            if (n->edge[s])
                stack[top++] = (uint16_t)n->edge[s]->index;
    }
    if (seen != NODES)
        fail("nodes reached from root", 0, seen, NODES);
    return sum;
}

int main(void)
{
    gc_init();
    build();
    for (uint32_t c = 1; c <= CHECKPOINTS; c++) {
        for (uint32_t k = (c - 1) * (STEPS / CHECKPOINTS); k < c * (STEPS / CHECKPOINTS); k++) {
            step(k);
            garbage(k);
        }
        uint64_t sum = verify();
        printf("checkpoint %u (%u steps): checksum 0x%016lx\n", c, c * (STEPS / CHECKPOINTS), sum);
    }
    if (failures) {
        printf("gc-graph: FAIL (%ld mismatches)\n", failures);
        return 1;
    }
    puts("gc-graph: ok");
    return 0;
}
