#!/usr/bin/env python3
"""BERT-base encoder benchmark artefacts (written into the git-ignored
fixtures-large/) for the BERT rows of `make bench`.

The network: 2 BERT-base encoder layers (d 768, 12 heads, ffn 3072), seq 128,
batch 1, eval, on a [1, 128, 768] hidden-state input (no embeddings, no
attention mask, no dropout). `transformers` is not part of the pinned
toolchain, so the layer is a plain torch module with BertLayer's structure:

    q, k, v = three Linear(768, 768); attention = scaled_dot_product_attention
    over 12 heads of 64; x = LayerNorm(x + Linear(768, 768)(attention))
    x = LayerNorm(x + Linear(3072, 768)(GELU(Linear(768, 3072)(x))))

post-LN, exact (erf) GELU, LayerNorm eps 1e-12 as in BERT. Weights: BERT's
initializer (normal, std 0.02) for the linear weights, with the biases drawn
from the same distribution instead of BERT's zeros (so a runtime that drops a
bias shows up in max abs err); LayerNorm weight 1, bias 0. torch.manual_seed(0)
for the weights, torch.manual_seed(1) for the input.

Every artefact is lowered from the same eager module, weights and input:

    fixtures-large/bert2_fp32/     Core ML .pte, FLOAT32 compute precision
    fixtures-large/bert2_fp16/     Core ML .pte, FLOAT16 compute precision
    fixtures-large/bert2_xnnpack/  XnnpackPartitioner .pte (fp32)
    fixtures-large/bert2_onnx/     torch.onnx.export, opset 17

(CoreMLPartitioner + to_edge_transform_and_lower, the recipe of
tools/fixtures/generate.py, through its own helpers). Each directory has
input_0.npy and expected_0.npy (fp32 eager) and a case.json.

Usage: python bench/make_bert.py [--force] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from make_peer_models import load_generator, write_onnx  # noqa: E402

D, HEADS, FFN, SEQ, LAYERS = 768, 12, 3072, 128, 2
NAMES = ("bert2_fp32", "bert2_fp16", "bert2_xnnpack", "bert2_onnx")


class BertLayer(nn.Module):
    """One BERT encoder layer (post-LN), without dropout or attention mask."""

    def __init__(self, d=D, heads=HEADS, ffn=FFN, eps=1e-12):
        super().__init__()
        self.h = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Linear(d, ffn)
        self.output = nn.Linear(ffn, d)
        self.ln2 = nn.LayerNorm(d, eps=eps)

    def heads(self, t):
        b, s, d = t.shape
        return t.reshape(b, s, self.h, d // self.h).transpose(1, 2)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, s, d)
        x = self.ln1(x + self.attn_out(a))
        return self.ln2(x + self.output(F.gelu(self.intermediate(x))))


class BertEncoder(nn.Module):
    def __init__(self, layers=LAYERS):
        super().__init__()
        self.layers = nn.ModuleList(BertLayer() for _ in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def bert_model():
    """The eager module and its input (seeded as the docstring says)."""
    torch.manual_seed(0)
    m = BertEncoder()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.Linear):
                mod.weight.normal_(0.0, 0.02)
                mod.bias.normal_(0.0, 0.02)
    torch.manual_seed(1)
    x = torch.randn(1, SEQ, D)
    return m.eval(), x


def coreml_case(gen, name, m, x, precision):
    size = (f"{LAYERS} BERT-base encoder layers (post-LN, d {D}, {HEADS} heads, ffn {FFN}, exact GELU, "
            f"LayerNorm eps 1e-12; plain torch module with BertLayer's structure), input [1, {SEQ}, {D}]")
    if precision == "float16":
        return gen.simple_case(name, f"Benchmark-only: {size}; FLOAT16 compute precision.", m, [x],
                               gen_args=gen.FP16, precision="float16")
    return gen.simple_case(name, f"Benchmark-only: {size}; FLOAT32 compute precision.", m, [x],
                           tolerance=gen.fp32_tolerance(m, [x], atol=1e-3, rtol=1e-3))


def present(out: Path) -> bool:
    files = [out / n / "model.pte" for n in NAMES[:3]] + [out / "bert2_onnx" / "model.onnx"]
    return all(f.exists() for f in files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="regenerate even if the files exist")
    ap.add_argument("--out", type=Path, default=ROOT / "fixtures-large")
    args = ap.parse_args()
    if not args.force and present(args.out):
        print("BERT artefacts present:", ", ".join(str(args.out / n) for n in NAMES))
        return 0

    gen = load_generator()
    args.out.mkdir(parents=True, exist_ok=True)
    m, x = bert_model()
    results = [gen.write_case(coreml_case(gen, "bert2_fp32", m, x, "float32"), args.out),
               gen.write_case(coreml_case(gen, "bert2_fp16", m, x, "float16"), args.out),
               gen.write_case(gen._xnnpack_case("bert2_xnnpack", m, x), args.out),
               write_onnx(gen, "bert2_onnx", m, x, args.out,
                          description=f"Benchmark-only ONNX export (TorchScript-based torch.onnx.export, "
                                      f"opset 17) of the {LAYERS}-layer BERT-base encoder of bench/make_bert.py; "
                                      "same weights and input as bert2_fp32/_fp16/_xnnpack.")]
    bad = 0
    for r in results:
        print(f"  {r['name']:16s} {r['status']}" + (f": {str(r['error'])[:300]}" if r.get("error") else ""))
        bad += r["status"] != "ok"
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
