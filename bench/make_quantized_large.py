"""Larger quantized / palettized models for the peak-RSS comparison of issue 5
(BENCHMARKS.md, "Quantized weights: peak RSS"), written to fixtures-large/.

Same recipes as tools/fixtures/generate.py (its model classes, partitioner
and lowering helpers and the torchao configs of its _torchao_case), on
bigger networks, so that weight memory dominates the process:

  transformer4x512_{fp16,int4_pergroup32,palettize_uint4}
      4 x EncoderBlock(d=512, heads=8, ff=2048), x [1, 16, 512]; ~12.6M
      linear weights; iOS18, FLOAT16 compute precision.
  mobilenet_v2_full_palettize_uint4
      torchvision MobileNetV2 (width 1.0, 1000 classes, 224x224) with the
      fixture recipe: codebook uint4, block [16, -1], on Linear/Embedding only
      (the classifier); compare with fixtures-large/mobilenet_v2_full_fp16.

Only model.pte is written (no expected outputs): these are for `cml bench`.

Usage: .venv-fixtures/bin/python bench/make_quantized_large.py [NAME...]
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))

import generate as gen  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import coremltools as ct  # noqa: E402
from torchao.quantization.quant_api import IntxWeightOnlyConfig, quantize_  # noqa: E402
from torchao.quantization.granularity import PerGroup  # noqa: E402


class Stack(nn.Module):
    def __init__(self, n=4, d=512, heads=8, ff=2048):
        super().__init__()
        self.blocks = nn.ModuleList(gen.EncoderBlock(d=d, heads=heads, ff=ff) for _ in range(n))

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x


def quantize(m, qkind):
    linear_only = lambda mod, fqn: isinstance(mod, (nn.Embedding, nn.Linear))  # noqa: E731
    if qkind == "fp16":
        return
    if qkind == "int4_pergroup32":
        quantize_(m, IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup(32)))
    elif qkind == "palettize_uint4":
        from torchao.prototype.quantization.codebook_coreml import CodebookWeightOnlyConfig

        quantize_(m, CodebookWeightOnlyConfig(dtype=torch.uint4, block_size=[16, -1]), linear_only)
    else:
        raise ValueError(qkind)


def build(name, m, x, qkind):
    out = gen.LARGE / name
    out.mkdir(parents=True, exist_ok=True)
    quantize(m, qkind)
    part, _ = gen.make_partitioner(dict(minimum_deployment_target=ct.target.iOS18, **gen.FP16))
    prog = gen.lower(torch.export.export(m, (x,)), [part])
    (out / "model.pte").write_bytes(prog.buffer)
    print(f"{name}: {(out / 'model.pte').stat().st_size} bytes")


def main(argv):
    jobs = {}
    for q in ("fp16", "int4_pergroup32", "palettize_uint4"):
        def tf(q=q):
            gen.seed_everything()
            m = Stack().eval()
            x = gen.randn(1, 16, 512)
            return m, x, q
        jobs[f"transformer4x512_{q}"] = tf

    def mv2():
        gen.seed_everything()
        m = gen.mobilenet_v2(gen.MV2_LARGE, gen.MV2_LARGE_INPUT)
        torch.manual_seed(1)
        return m, gen.randn(*gen.MV2_LARGE_INPUT), "palettize_uint4"
    jobs["mobilenet_v2_full_palettize_uint4"] = mv2
    for name, fn in jobs.items():
        if argv and name not in argv:
            continue
        m, x, q = fn()
        build(name, m, x, q)


if __name__ == "__main__":
    main(sys.argv[1:])
