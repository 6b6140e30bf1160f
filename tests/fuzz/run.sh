#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) over a corpus seeded from
# the fixtures. usage: run.sh BUILD_DIR [SECONDS]
#   BUILD_DIR/fuzz-seeds/<kind>     seeds (regenerated each run, make_seeds.sh)
#   BUILD_DIR/fuzz-corpus/<target>  the growing corpus (kept between runs)
#   BUILD_DIR/fuzz-crashes/<target> crash/leak/timeout inputs, if any
# Exits non-zero if any target failed. Found inputs stay in the build
# directory; one that exposes a bug becomes a regression input under
# tests/fuzz/regressions/<target>/ with the fix.
set -uo pipefail
build=$1
seconds=${2:-60}
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/make_seeds.sh" "$build" "$build/fuzz-seeds" || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in pte program payload mlmodel milblob npy; do
  seeds=$t
  [ "$t" = program ] && seeds=pte
  corpus="$build/fuzz-corpus/$t"
  crashes="$build/fuzz-crashes/$t"
  mkdir -p "$corpus" "$crashes"
  echo "== fuzz_$t: ${seconds}s"
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$build/fuzz-seeds/$seeds" \
    > "$build/fuzz-$t.log" 2>&1
  rc=$?
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|Done)" "$build/fuzz-$t.log"
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "fuzz_$t FAILED (exit $rc); the report:"
    grep -E -A30 "ERROR|runtime error|==[0-9]+==" "$build/fuzz-$t.log" | head -60
    ls "$crashes"
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: failures in: ${failed[*]} (inputs under $build/fuzz-crashes/)"
  exit 1
fi
echo "fuzz: no crashes"
