/*
 * gc-binary-trees: the benchmarks game's binary-trees on tunevm's collected heap
 * (runtime/gc.h). Nodes are two child pointers (16 bytes, gc_alloc), never freed.
 *
 *   - a stretch tree of depth MAX_DEPTH + 1, built, checked and dropped;
 *   - a long-lived tree of depth MAX_DEPTH, kept to the end (256 KiB at 13);
 *   - for depth 4, 6, ... up to MAX_DEPTH: 2^(MAX_DEPTH - depth + 4) short-lived trees
 *     of that depth, each built, checked (node count) and dropped;
 *   - the long-lived tree is checked again at the end.
 *
 * The lines printed are the original's. Every check is also compared with its
 * exact value (2^(depth+1) - 1 nodes a tree): a collector that frees a live node
 * makes a count go wrong or the walk trap. Prints "ok" and exits 0, or "FAIL"
 * and exits 1. Nothing printed depends on the heap size.
 *
 * MAX_DEPTH 13 (the default): 1.35 M nodes, 20.6 MiB allocated in all, ~0.75 MiB
 * live at most (stretch tree + long-lived tree), ~30 M instructions.
 * MAX_DEPTH 14 doubles all of that (~49 MiB, ~65 M instructions).
 */
#include "gc.h"

#ifndef MAX_DEPTH
#define MAX_DEPTH 13
#endif
#define MIN_DEPTH 4

struct node {
    struct node *left, *right;
};

static int failures;

static struct node *bottom_up_tree(int depth)
{
    struct node *n = gc_alloc(sizeof *n);
    if (!n) {
        puts("FAIL: out of GC heap");
        exit(1);
    }
    if (depth > 0) {
        n->left = bottom_up_tree(depth - 1);
        n->right = bottom_up_tree(depth - 1);
    }
    return n;
}

static long item_check(const struct node *n)
{
    if (!n->left)
        return 1;
    return 1 + item_check(n->left) + item_check(n->right);
}

static void expect(const char *what, int depth, long got, long want)
{
    if (got != want) {
        printf("FAIL: %s of depth %d: check %ld, expected %ld\n", what, depth, got, want);
        failures++;
    }
}

int main(void)
{
    gc_init();
    int max_depth = MAX_DEPTH < MIN_DEPTH + 2 ? MIN_DEPTH + 2 : MAX_DEPTH;

    int stretch_depth = max_depth + 1;
    struct node *stretch = bottom_up_tree(stretch_depth);
    long check = item_check(stretch);
    printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, check);
    expect("stretch tree", stretch_depth, check, (2L << stretch_depth) - 1);
    stretch = 0;

    struct node *long_lived = bottom_up_tree(max_depth);

    for (int depth = MIN_DEPTH; depth <= max_depth; depth += 2) {
        long iterations = 1L << (max_depth - depth + MIN_DEPTH);
        check = 0;
        for (long i = 0; i < iterations; i++)
            check += item_check(bottom_up_tree(depth));
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, check);
        expect("short-lived trees", depth, check, iterations * ((2L << depth) - 1));
    }

    check = item_check(long_lived);
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check);
    expect("long lived tree", max_depth, check, (2L << max_depth) - 1);

    if (failures) {
        printf("gc-binary-trees: FAIL (%d wrong checks)\n", failures);
        return 1;
    }
    puts("gc-binary-trees: ok");
    return 0;
}
