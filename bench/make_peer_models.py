#!/usr/bin/env python3
"""Peer-runtime artefacts for the benchmark (written into the git-ignored
fixtures-large/).

`tools/fixtures/generate.py --large` already writes the XNNPACK .pte and the
ONNX file of the *full* MobileNetV2 (width 1.0, 224x224) and of the
transformer block.  It does not write peers of the *small* MobileNetV2 that is
committed as tests/fixtures/mobilenet_v2_fp32 / _fp16 (width_mult 0.35,
128 classes, 96x96).  This script adds those two, built from exactly the same
eager module and input as the Core ML fixtures (generate.py's own
`mobilenet_v2()` with the same seeds), so every cml row in BENCHMARKS.md has
peers that run the same network on the same input:

    fixtures-large/mobilenet_v2_xnnpack/  model.pte (XnnpackPartitioner)
    fixtures-large/mobilenet_v2_onnx/     model.onnx (torch.onnx.export, opset 17)

Both directories also get input_0.npy / expected_0.npy; the input is checked
to be bit-identical to tests/fixtures/mobilenet_v2_fp32/input_0.npy.

Usage: python bench/make_peer_models.py [--force] [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def load_generator():
    path = ROOT / "tools" / "fixtures" / "generate.py"
    spec = importlib.util.spec_from_file_location("cml_fixture_generate", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def small_mv2(gen):
    """Same construction as generate.py's _mv2_case for mobilenet_v2_fp32/fp16."""
    gen.seed_everything()
    m = gen.mobilenet_v2(gen.MV2_SMALL, gen.MV2_SMALL_INPUT)
    torch.manual_seed(1)
    x = gen.randn(*gen.MV2_SMALL_INPUT)
    return m, x


def write_onnx(gen, name, m, x, out_root: Path, description=None):
    d = out_root / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    status, error = "ok", None
    try:
        torch.onnx.export(
            m, (x,), str(d / "model.onnx"), input_names=["x"], output_names=["y"],
            opset_version=17, dynamo=False,
        )
    except Exception as e:  # recorded, not fatal
        status, error = "failed", f"{type(e).__name__}: {e}"
    np.save(d / "input_0.npy", x.numpy())
    np.save(d / "expected_0.npy", gen.run_eager(m, [x])[0])
    (d / "case.json").write_text(json.dumps({
        "name": name, "status": status, "error": error, "benchmark_only": True,
        "description": description or "Benchmark-only ONNX export (TorchScript-based torch.onnx.export, opset 17) "
                                      "of the small MobileNetV2 of tests/fixtures/mobilenet_v2_fp32; same weights and input.",
        "generated_with": gen.versions(),
    }, indent=2) + "\n")
    return {"name": name, "status": status, "error": error}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="regenerate even if the files exist")
    ap.add_argument("--out", type=Path, default=ROOT / "fixtures-large")
    args = ap.parse_args()

    xnn_dir = args.out / "mobilenet_v2_xnnpack"
    onnx_dir = args.out / "mobilenet_v2_onnx"
    if not args.force and (xnn_dir / "model.pte").exists() and (onnx_dir / "model.onnx").exists():
        print("peer models present:", xnn_dir, onnx_dir)
        return 0

    gen = load_generator()
    args.out.mkdir(parents=True, exist_ok=True)
    m, x = small_mv2(gen)
    ref = ROOT / "tests" / "fixtures" / "mobilenet_v2_fp32" / "input_0.npy"
    if ref.exists() and not np.array_equal(np.load(ref), x.numpy()):
        print(f"error: regenerated input differs from {ref}", file=sys.stderr)
        return 1

    results = [gen.write_case(gen._xnnpack_case("mobilenet_v2_xnnpack", m, x), args.out)]
    results.append(write_onnx(gen, "mobilenet_v2_onnx", m, x, args.out))
    bad = 0
    for r in results:
        print(f"  {r['name']:28s} {r['status']}" + (f": {str(r['error'])[:300]}" if r.get("error") else ""))
        bad += r["status"] != "ok"
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
