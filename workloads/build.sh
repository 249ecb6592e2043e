#!/usr/bin/env bash
# Rebuild every workload ELF (bin/*.elf) and the cpubench and mixbench wasm
# (bin/cpubench.wasm, bin/mixbench.wasm) from source. Idempotent: run it from
# anywhere, as often as you like.
#
#   workloads/build.sh           build everything
#   workloads/build.sh --check   build into a temporary directory and compare with
#                                bin/ (reports which committed files differ)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

CC=${CC:-riscv64-unknown-elf-gcc}
OBJCOPY=${OBJCOPY:-riscv64-unknown-elf-objcopy}
CLANG=${CLANG:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "build.sh: $CC not found. Install the RISC-V cross compiler with:" >&2
    echo "  apt-get install -y --no-install-recommends gcc-riscv64-unknown-elf" >&2
    exit 1
fi

out=bin
if [[ "${1:-}" == "--check" ]]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

ARCH=(-march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany)
CFLAGS=("${ARCH[@]}" -O2 -g0 -ffreestanding -nostdlib -nostartfiles
        -fno-asynchronous-unwind-tables -fno-common -Wall -Wextra
        -Iruntime -Isrc)
LDFLAGS=(-Wl,--build-id=none -Wl,-z,noexecstack)
# The memory functions must not be turned into calls to themselves.
MEMFLAGS=(-fno-tree-loop-distribute-patterns)

# build NAME [extra flags and sources...]
# (CRT0 and LDSCRIPT, when set, replace runtime/start.S and runtime/link.ld.)
build() {
    local name=$1; shift
    local tmp
    tmp="$(mktemp -d)"
    # mem.c gets its own flags; everything else shares CFLAGS.
    "$CC" "${CFLAGS[@]}" "${MEMFLAGS[@]}" -c runtime/mem.c -o "$tmp/mem.o"
    "$CC" "${CFLAGS[@]}" -T "${LDSCRIPT:-runtime/link.ld}" "${LDFLAGS[@]}" -o "$out/$name.elf" \
        "${CRT0:-runtime/start.S}" runtime/uart.c "$tmp/mem.o" "$@" -lgcc
    rm -rf "$tmp"
    echo "  built $out/$name.elf ($(stat -c %s "$out/$name.elf") bytes)"
}

echo "RISC-V ELFs ($("$CC" --version | head -1))"
build hello        src/hello.c
build echo         src/echo.c
build cpubench     src/cpubench.c src/cpubench_kernels.c
build mixbench     src/mixbench.c src/mixbench_kernels.c
build spin         src/spin.c
build wfi-forever  src/wfi-forever.c
build smc          src/smc.c
build traps        src/traps.c src/traps_entry.S
# selftime: times itself with mtime (guest time against runtime.host_time).
build selftime     src/selftime.c
# phases: src/phases_funcs.c is generated (tools/gen-phases.py) and committed.
build phases       src/phases.c src/phases_funcs.c
# paging: the data segment (and so the parameter block) starts at 0x8001_0000.
PAGING=(-Wl,--defsym=DATA_BASE=0x80010000 src/paging.c)
build paging         -DDEF_PAGES=64   -DDEF_STRIDE=1 -DDEF_RANDOM=0 -DDEF_PASSES=32768 "${PAGING[@]}"
build paging-random  -DDEF_PAGES=1024 -DDEF_STRIDE=1 -DDEF_RANDOM=1 -DDEF_PASSES=2048  "${PAGING[@]}"
build paging-stride  -DDEF_PAGES=256  -DDEF_STRIDE=3 -DDEF_RANDOM=0 -DDEF_PASSES=8192  "${PAGING[@]}"
build htif-hello   -DHTIF_EXIT_CODE=0 src/htif.c
build htif-fail    -DHTIF_EXIT_CODE=5 src/htif.c
# GC workloads: runtime/gc.h, tunevm's gc.* instructions (custom-0 opcode), so
# not for QEMU. Their expected/ files come from the same C built for the host
# with -DGC_HOST (tools/gc-expected.sh).
build gc-binary-trees  src/gc-binary-trees.c
build gc-graph         src/gc-graph.c
# gc-lru checks its checksum against LRU_EXPECT (the host build's value).
build gc-lru           -DLRU_EXPECT=0x84bf55b659e5b70dULL src/gc-lru.c
build gc-exhaust       src/gc-exhaust.c
# Benchmark sizes (BENCHMARKS.md "GC"): enough allocation to fill a 256 MiB heap
# several times over (binary-trees ~330 MiB; the graph ~6 MiB live, ~280 MiB
# allocated). Not in the tests: they take seconds.
build gc-binary-trees-large -DMAX_DEPTH=17 src/gc-binary-trees.c
build gc-graph-large        -DNODES=60000 -DSTEPS=540000 src/gc-graph.c

# SMP programs: every hart runs main (runtime/smp_start.S, smp.c, smp.h); the
# linker script reserves 16 KiB of stack for each of up to 64 harts.
build_smp() {
    local name=$1; shift
    CRT0=runtime/smp_start.S LDSCRIPT=runtime/smp_link.ld \
        build "$name" -Lruntime runtime/smp.c "$@"
}
build_smp smp-hello      src/smp-hello.c
# smp-sum checks its checksum against SUM_EXPECT (the same C built for the host
# gives the same value).
build_smp smp-sum        -DSUM_EXPECT=0x66aa50908d4e66e9ULL src/smp-sum.c
build_smp smp-sum-small  -DSUM_INDICES=450000UL -DSUM_EXPECT=0xe184fc5f42b0b5a3ULL src/smp-sum.c
# Ten times smp-sum: long enough that compiling is a small part of a run
# with the JIT (`tunevm bench --only smp`'s JIT table).
build_smp smp-sum-large  -DSUM_INDICES=90000000UL -DSUM_EXPECT=0x366f578a55eac060ULL src/smp-sum.c
build_smp smp-locks      src/smp-locks.c
build_smp smp-ring       src/smp-ring.c
build_smp smp-litmus     src/smp-litmus.c
# smp-paging: harts in S-mode sharing one Sv39 address space (TLB strategies).
build_smp smp-paging     src/smp-paging.c

# cpubench and mixbench for wasm32: the same kernel source, exported as
# cpubench_run(reps) and mixbench_run(reps).
if command -v "$CLANG" >/dev/null 2>&1; then
    "$CLANG" --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra \
        -Wl,--no-entry -Wl,--export=cpubench_run -Wl,--export=cpubench_default_reps \
        -o "$out/cpubench.wasm" src/cpubench_kernels.c
    echo "  built $out/cpubench.wasm ($(stat -c %s "$out/cpubench.wasm") bytes)"
    "$CLANG" --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra \
        -Wl,--no-entry -Wl,--export=mixbench_run -Wl,--export=mixbench_default_reps \
        -o "$out/mixbench.wasm" src/mixbench_kernels.c
    echo "  built $out/mixbench.wasm ($(stat -c %s "$out/mixbench.wasm") bytes)"
else
    echo "build.sh: $CLANG not found, bin/cpubench.wasm and bin/mixbench.wasm not rebuilt" >&2
    echo "  apt-get install -y clang lld" >&2
    exit 1
fi

if [[ "$out" != bin ]]; then
    status=0
    for f in "$out"/*; do
        if ! cmp -s "$f" "bin/$(basename "$f")"; then
            echo "differs from the committed copy: bin/$(basename "$f")"
            status=1
        fi
    done
    [[ $status == 0 ]] && echo "bin/ is up to date"
    exit $status
fi
