#!/usr/bin/env bash
# Run the workloads under QEMU and compare (or, with --record, record) their
# console output and exit status against expected/NAME.out and expected/NAME.code.
#
#   tools/qemu-expected.sh            compare; exit 1 on any difference
#   tools/qemu-expected.sh --record   (re)write expected/
#
# Finisher workloads run on `-machine virt`, the HTIF ones on `-machine spike`.
# spin and wfi-forever never exit: they are stopped after a few seconds and
# recorded with status 124 (what `timeout` and `tunevm --timeout` report).
# QEMU adds nothing of its own to stdout here (-nographic, stdin from
# expected/NAME.in when there is one, else /dev/null); its stderr is kept apart
# and must be empty.
#
# The SMP workloads (smp-*) run with -smp N for N in 1, 2 and 4 and are kept as
# expected/NAME.smpN.out and expected/NAME.smpN.code. Lines that start with "~ "
# hold timing-dependent numbers (litmus counts, how often a hart slept): they
# are recorded as seen, but left out of the comparison.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
record=0
[[ "${1:-}" == "--record" ]] && record=1
command -v qemu-system-riscv64 >/dev/null ||
    { echo "qemu-system-riscv64 missing: apt-get install -y qemu-system-misc" >&2; exit 2; }

mkdir -p expected
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0

run() {   # run NAME MACHINE TIMEOUT [HARTS]
    local elf=$1 machine=$2 limit=$3 harts=${4:-} status start end input=/dev/null
    local name=$elf smp=()
    if [[ -n "$harts" ]]; then
        name="$elf.smp$harts"
        smp=(-smp "$harts")
    fi
    [[ -f "expected/$name.in" ]] && input="expected/$name.in"
    start=$(date +%s%N)
    timeout "$limit" qemu-system-riscv64 -machine "$machine" -bios none -nographic -m 256M \
        "${smp[@]}" -kernel "bin/$elf.elf" <"$input" >"$tmp/$name.out" 2>"$tmp/$name.err"
    status=$?
    end=$(date +%s%N)
    local ms=$(( (end - start) / 1000000 ))
    printf '%-20s status %3d  %d.%02d s\n' "$name" "$status" $((ms / 1000)) $((ms % 1000 / 10))
    # A run stopped by `timeout` makes QEMU say so on stderr; that is expected.
    [[ $status == 124 ]] && sed -i '/terminating on signal 15/d' "$tmp/$name.err"
    if [[ -s "$tmp/$name.err" ]]; then
        echo "  QEMU wrote to stderr:"; sed 's/^/    /' "$tmp/$name.err"; fail=1
    fi
    if [[ $record == 1 ]]; then
        cp "$tmp/$name.out" "expected/$name.out"
        echo "$status" >"expected/$name.code"
    else
        if grep -aq '^~ ' "expected/$name.out" "$tmp/$name.out"; then
            # "~ " lines are timing-dependent: compare everything else
            if ! cmp -s <(grep -av '^~ ' "$tmp/$name.out") <(grep -av '^~ ' "expected/$name.out"); then
                echo "  output differs (lines starting with '~ ' not compared):"
                diff <(grep -av '^~ ' "expected/$name.out") <(grep -av '^~ ' "$tmp/$name.out") |
                    sed 's/^/    /'
                fail=1
            fi
        elif ! cmp -s "$tmp/$name.out" "expected/$name.out"; then
            echo "  output differs:"; diff "expected/$name.out" "$tmp/$name.out" | sed 's/^/    /'; fail=1
        fi
        if [[ "$status" != "$(cat "expected/$name.code")" ]]; then
            echo "  status $status, expected $(cat "expected/$name.code")"; fail=1
        fi
    fi
}

# The gc-* workloads are not run: QEMU has no gc.* instructions (custom-0 opcode,
# tunevm only). tools/gc-expected.sh checks their expected/ files on the host.
for name in hello echo cpubench mixbench paging paging-random paging-stride smc traps phases; do
    run "$name" virt 60
done
run htif-hello spike 20
run htif-fail spike 20
run spin virt 3
run wfi-forever virt 3
# SMP: QEMU runs each hart on a host thread (MTTCG); on a host with fewer CPUs
# than harts, or a busy one, spinning harts make runs much slower: the limit is
# generous.
for harts in 1 2 4; do
    for name in smp-hello smp-sum smp-sum-small smp-locks smp-ring smp-litmus smp-paging; do
        run "$name" virt 300 "$harts"
    done
done
exit $fail
