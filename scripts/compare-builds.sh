#!/usr/bin/env bash
# Behaviour check between two tunevm binaries (e.g. before and after a
# refactoring): every workload in workloads/bin, interpreted and with the JIT
# at its reproducible settings (compile budget off, fixed threshold), must
# give the same console output, exit status, retired instruction count and
# stop reason. Prints one line per run; exits 1 if any differs.
#
#   scripts/compare-builds.sh OLD_BIN NEW_BIN
#
# `echo` reads its input while it runs, so its instruction count depends on
# when the host delivers the bytes; only its output and status are compared.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
differ=0
run() { # bin mode elf input tag
  local args=(--set jit.enabled=false)
  [ "$2" = jit ] && args=(--set jit.enable_compile_time_budget=false --set jit.min_threshold=50 --set jit.max_threshold=50)
  "$1" run "${args[@]}" --max-insns 1000000000 --report "$tmp/$5.json" "$3" <"$4" >"$tmp/$5.out" 2>/dev/null
  echo "status $?" >"$tmp/$5.sum"
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['instructions'], r['stop_reason'])" "$tmp/$5.json" >>"$tmp/$5.sum"
}
for elf in workloads/bin/*.elf; do
  name=$(basename "$elf" .elf)
  input=/dev/null; [ -f "workloads/expected/$name.in" ] && input="workloads/expected/$name.in"
  for mode in interp jit; do
    run "$1" $mode "$elf" "$input" old; run "$2" $mode "$elf" "$input" new
    [ "$name" = echo ] && { head -1 "$tmp/old.sum" >"$tmp/old.cmp"; head -1 "$tmp/new.sum" >"$tmp/new.cmp"; } \
      || { cp "$tmp/old.sum" "$tmp/old.cmp"; cp "$tmp/new.sum" "$tmp/new.cmp"; }
    if cmp -s "$tmp/old.out" "$tmp/new.out" && cmp -s "$tmp/old.cmp" "$tmp/new.cmp"; then
      echo "same  $name $mode: $(tr '\n' ' ' <"$tmp/new.sum")"
    else
      echo "DIFF  $name $mode: $(tr '\n' ' ' <"$tmp/old.sum")| $(tr '\n' ' ' <"$tmp/new.sum")"; differ=1
    fi
  done
done
exit $differ
