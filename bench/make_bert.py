#!/usr/bin/env python3
"""Two BERT-base encoder layers (d 768, 12 heads, ffn 3072, seq 128, batch 1,
post-norm, exact GELU, separate q/k/v projections as in HF BERT) written as:

    fixtures-large/bert2_fp32/     Core ML delegate, compute_precision FLOAT32
    fixtures-large/bert2_fp16/     Core ML delegate, compute_precision FLOAT16
    fixtures-large/bert2_xnnpack/  XnnpackPartitioner (fp32)

each with model.pte, input_0.npy and expected_0.npy (torch eager, fp32).
Built with the same upstream recipe as tools/fixtures/generate.py
(torch.export -> to_edge_transform_and_lower -> to_executorch).

Usage: .venv-fixtures/bin/python bench/make_bert.py [--out fixtures-large]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import coremltools as ct
from executorch.backends.apple.coreml.compiler import CoreMLBackend
from executorch.backends.apple.coreml.partition import CoreMLPartitioner
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower

D, HEADS, FFN, SEQ, LAYERS = 768, 12, 3072, 128, 2


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(D, D)
        self.k = nn.Linear(D, D)
        self.v = nn.Linear(D, D)
        self.o = nn.Linear(D, D)
        self.ln1 = nn.LayerNorm(D, eps=1e-12)
        self.fc1 = nn.Linear(D, FFN)
        self.fc2 = nn.Linear(FFN, D)
        self.ln2 = nn.LayerNorm(D, eps=1e-12)

    def forward(self, x):
        b, t, _ = x.shape
        hd = D // HEADS

        def heads(y):
            return y.reshape(b, t, HEADS, hd).transpose(1, 2)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        a = torch.matmul(torch.softmax(s, dim=-1), v)
        a = a.transpose(1, 2).reshape(b, t, D)
        x = self.ln1(x + self.o(a))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([BertLayer() for _ in range(LAYERS)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def write(out: Path, name: str, prog, x: torch.Tensor, y: torch.Tensor) -> None:
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.pte").write_bytes(prog.buffer)
    np.save(d / "input_0.npy", x.numpy())
    np.save(d / "expected_0.npy", y.numpy())
    print(f"wrote {d}/model.pte ({len(prog.buffer)} bytes)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "fixtures-large"))
    a = ap.parse_args()
    out = Path(a.out)
    torch.manual_seed(0)
    m = Bert().eval()
    x = torch.randn(1, SEQ, D)
    with torch.no_grad():
        y = m(x)
    ep = torch.export.export(m, (x,))
    for name, prec in (("bert2_fp32", ct.precision.FLOAT32), ("bert2_fp16", ct.precision.FLOAT16)):
        specs = CoreMLBackend.generate_compile_specs(compute_precision=prec)
        part = CoreMLPartitioner(compile_specs=specs)
        prog = to_edge_transform_and_lower(ep, partitioner=[part]).to_executorch()
        write(out, name, prog, x, y)
    prog = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()]).to_executorch()
    write(out, "bert2_xnnpack", prog, x, y)


if __name__ == "__main__":
    main()
