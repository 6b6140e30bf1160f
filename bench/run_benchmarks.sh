#!/usr/bin/env bash
# `make bench`: cml beside ExecuTorch+XNNPACK and onnxruntime, same machine,
# same run, same inputs. Writes bench/out/results.json and bench/out/tables.md
# (git-ignored); BENCHMARKS.md quotes them.
#
# Steps:
#   1. Python environment: .venv-bench/ in the repository root (git-ignored),
#      created on first use with Python 3.10-3.12 from
#      tools/fixtures/requirements.txt + bench/requirements.txt.
#   2. Benchmark artefacts in fixtures-large/ (git-ignored), for the selected
#      rows only, each step skipped when its files exist:
#      tools/fixtures/generate.py --large (full MobileNetV2 Core ML fp32/fp16,
#      XNNPACK .pte and ONNX of it and of the transformer block);
#      bench/make_peer_models.py (XNNPACK .pte and ONNX of the small fixture
#      MobileNetV2); bench/make_bert.py (2 BERT-base layers: Core ML fp32/fp16,
#      XNNPACK, ONNX); bench/make_llm.py (the decoder: Core ML int4/fp16 with
#      states, XNNPACK 8da4w, per context; an export recorded as failed in its
#      manifest is not retried). cml_membench is built next to $CML if absent.
#   3. bench/peers.py suite: the machine's triad bandwidth and peak FLOP/s,
#      every model x runtime x thread count, the decoder rows, then the
#      quantized-vs-fp16 peak-RSS comparison under cml.
#
# Environment:
#   BENCH_PYTHON      use this interpreter as is (no venv; it must already have
#                     the packages), e.g. BENCH_PYTHON=.venv-fixtures/bin/python
#   PYTHON            interpreter used to create the venv (default: first 3.10-3.12)
#   BENCH_VENV        venv location (default <repo>/.venv-bench)
#   CML               cml binary (default <repo>/build/cml)
#   MEMBENCH          cml_membench binary (default: next to $CML)
#   BENCH_ROWS        comma-separated rows (default all): machine, mv2_small,
#                     mv2, transformer, bert, llm, quant; aliases mobilenet
#                     (= mv2_small,mv2) and all. E.g. BENCH_ROWS=mobilenet,bert,llm
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

export TQDM_DISABLE=1
cml="${CML:-$root/build/cml}"
[ -x "$cml" ] || { echo "bench: $cml not found; run make build" >&2; exit 1; }
rows="${BENCH_ROWS:-all}"

# want KEY: is row KEY selected (directly or through an alias)?
want() {
    case ",$rows," in *",all,"* | *",$1,"*) return 0 ;; esac
    case "$1" in mv2 | mv2_small) case ",$rows," in *",mobilenet,"*) return 0 ;; esac ;; esac
    return 1
}

if want mv2 || want transformer; then
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
fi
if want mv2_small; then
    "$py" bench/make_peer_models.py
fi
if want bert; then
    "$py" bench/make_bert.py  # about 3 minutes the first time
fi
if want llm; then
    # one line per context with files to export: "--ctx C --only V1,V2"
    "$py" bench/peers.py llm-todo | while read -r todo; do
        [ -n "$todo" ] || continue
        if [ ! -f bench/make_llm.py ]; then
            echo "bench: decoder files to export ($todo) but bench/make_llm.py is not in this tree: their rows will be skipped" >&2
            continue
        fi
        echo "bench: bench/make_llm.py $todo (several minutes)" >&2
        # shellcheck disable=SC2086
        "$py" bench/make_llm.py $todo || echo "bench: make_llm.py $todo failed (see its manifest)" >&2
    done
fi

membench="${MEMBENCH:-$(dirname "$cml")/cml_membench}"
if want machine || want llm; then
    if [ ! -x "$membench" ] && [ -f "$(dirname "$membench")/CMakeCache.txt" ]; then
        cmake --build "$(dirname "$membench")" --target cml_membench
    fi
fi

exec "$py" bench/peers.py suite --cml "$cml" --membench "$membench" \
    --rows "$rows" \
    --threads "${BENCH_THREADS:-1,2}" \
    --warmup "${BENCH_WARMUP:-10}" \
    --iterations "${BENCH_ITERATIONS:-50}" \
    --out "${BENCH_OUT:-$root/bench/out}"
