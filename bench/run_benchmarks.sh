#!/usr/bin/env bash
# `make bench`: cml beside ExecuTorch+XNNPACK and onnxruntime, same machine,
# same run, same inputs. Writes bench/out/results.json and bench/out/tables.md
# (git-ignored); BENCHMARKS.md quotes them.
#
# Steps:
#   1. Python environment: .venv-bench/ in the repository root (git-ignored),
#      created on first use with Python 3.10-3.12 from
#      tools/fixtures/requirements.txt + bench/requirements.txt.
#   2. Benchmark artefacts in fixtures-large/ (git-ignored):
#      tools/fixtures/generate.py --large (full MobileNetV2 Core ML fp32/fp16,
#      XNNPACK .pte and ONNX of it and of the transformer block), then
#      bench/make_peer_models.py (XNNPACK .pte and ONNX of the small fixture
#      MobileNetV2). Each step is skipped when its files exist.
#   3. bench/peers.py suite: every model x runtime x thread count, then the
#      quantized-vs-fp16 peak-RSS comparison under cml.
#
# Environment:
#   BENCH_PYTHON      use this interpreter as is (no venv; it must already have
#                     the packages), e.g. BENCH_PYTHON=.venv-fixtures/bin/python
#   PYTHON            interpreter used to create the venv (default: first 3.10-3.12)
#   BENCH_VENV        venv location (default <repo>/.venv-bench)
#   CML               cml binary (default <repo>/build/cml)
#   BENCH_THREADS     comma-separated thread counts (default 1,2)
#   BENCH_WARMUP      untimed runs per measurement (default 10)
#   BENCH_ITERATIONS  timed runs per measurement (default 50)
#   BENCH_OUT         output directory (default <repo>/bench/out)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

pick_python() {
    local c
    for c in "${PYTHON:-}" python3.12 python3.11 python3.10 python3; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if [ -n "${BENCH_PYTHON:-}" ]; then
    py="$BENCH_PYTHON"
else
    venv="${BENCH_VENV:-$root/.venv-bench}"
    if [ ! -x "$venv/bin/python" ]; then
        base="$(pick_python)" || { echo "bench: need Python 3.10-3.12 (set PYTHON=...)" >&2; exit 1; }
        echo "bench: creating $venv with $base ($("$base" --version 2>&1))" >&2
        "$base" -m venv "$venv"
    fi
    reqs="$(cat tools/fixtures/requirements.txt bench/requirements.txt)"
    stamp="$venv/.bench-requirements"
    if [ "$reqs" != "$(cat "$stamp" 2>/dev/null)" ]; then
        echo "bench: installing requirements into $venv" >&2
        "$venv/bin/python" -m pip install --quiet -r tools/fixtures/requirements.txt -r bench/requirements.txt
        printf '%s' "$reqs" > "$stamp"
    fi
    py="$venv/bin/python"
fi

cml="${CML:-$root/build/cml}"
[ -x "$cml" ] || { echo "bench: $cml not found; run make build" >&2; exit 1; }

need_large=0
for f in mobilenet_v2_full_fp32/model.pte mobilenet_v2_full_fp16/model.pte \
         mobilenet_v2_full_xnnpack/model.pte transformer_xnnpack/model.pte \
         mobilenet_v2_full_onnx/model.onnx transformer_onnx/model.onnx; do
    [ -f "fixtures-large/$f" ] || need_large=1
done
if [ "$need_large" = 1 ]; then
    echo "bench: generating fixtures-large/ (about 4 minutes)" >&2
    "$py" tools/fixtures/generate.py --large
fi
"$py" bench/make_peer_models.py

export TQDM_DISABLE=1
exec "$py" bench/peers.py suite --cml "$cml" \
    --threads "${BENCH_THREADS:-1,2}" \
    --warmup "${BENCH_WARMUP:-10}" \
    --iterations "${BENCH_ITERATIONS:-50}" \
    --out "${BENCH_OUT:-$root/bench/out}"
