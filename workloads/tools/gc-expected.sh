#!/usr/bin/env bash
# Expected output of the GC workloads (src/gc-*.c): they use tunevm's gc.*
# instructions, which QEMU does not have, so their expected/NAME.out and
# NAME.code come from the same C built for the host with -DGC_HOST (runtime/gc.h
# maps the heap onto calloc and the console onto libc) and run there.
#
#   tools/gc-expected.sh            compare; exit 1 on any difference
#   tools/gc-expected.sh --record   (re)write expected/gc-*.out and .code
#
# Needs a host C compiler (cc). Keep the -D flags in step with build.sh.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
record=0
[[ "${1:-}" == "--record" ]] && record=1
HOSTCC=${HOSTCC:-cc}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0

run() {   # run NAME [extra flags...]
    local name=$1; shift
    "$HOSTCC" -O2 -Wall -Wextra -DGC_HOST -Iruntime -Isrc -o "$tmp/$name" "src/${SRC:-$name}.c" "$@" || {
        fail=1; return; }
    "$tmp/$name" >"$tmp/$name.out"
    local status=$?
    printf '%-20s status %3d\n' "$name" "$status"
    if [[ $record == 1 ]]; then
        cp "$tmp/$name.out" "expected/$name.out"
        echo "$status" >"expected/$name.code"
    else
        if ! cmp -s "$tmp/$name.out" "expected/$name.out"; then
            echo "  output differs:"; diff "expected/$name.out" "$tmp/$name.out" | sed 's/^/    /'; fail=1
        fi
        if [[ "$status" != "$(cat "expected/$name.code")" ]]; then
            echo "  status $status, expected $(cat "expected/$name.code")"; fail=1
        fi
    fi
}

run gc-binary-trees
run gc-graph
run gc-lru -DLRU_EXPECT=0x84bf55b659e5b70dULL
run gc-exhaust
# Benchmark sizes (build.sh): the same sources with other -D values.
SRC=gc-binary-trees run gc-binary-trees-large -DMAX_DEPTH=17
SRC=gc-graph run gc-graph-large -DNODES=60000 -DSTEPS=540000
exit $fail
