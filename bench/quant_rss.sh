#!/bin/sh
# Peak RSS (VmHWM, MB) of `cml bench --threads 1` for each MODEL: median of
# N fresh processes (default 5) with [min-max], plus the min latency (ms) and
# the `cml inspect` weights line. Issue 5's quantized RSS table in BENCHMARKS.md.
# Usage: bench/quant_rss.sh CML_BINARY MODEL... (N=5 in the environment)
cml=$1; shift
n=${N:-5}
for m in "$@"; do
  rss=$(i=0; while [ $i -lt "$n" ]; do
      "$cml" bench "$m" --threads 1 --warmup 2 --iterations 10 --json 2>/dev/null |
        sed -n 's/.*"vm_hwm_mb":[[:space:]]*\([0-9.]*\).*/\1/p'
      i=$((i + 1)); done | sort -n | tr '\n' ' ')
  med=$(echo "$rss" | awk '{print $((NF + 1) / 2)}')
  lo=$(echo "$rss" | awk '{print $1}'); hi=$(echo "$rss" | awk '{print $NF}')
  w=$("$cml" inspect "$m" 2>/dev/null | grep -o 'weights: [0-9]* bytes in the file, [0-9]* bytes resident' | head -1)
  echo "$m | $med [$lo-$hi] | $w"
done
