#!/usr/bin/env python3
"""LLM decode benchmark models (issue 9, "LLM decode"), written to the
git-ignored fixtures-large/llm_decoder/.

The model: a GPT-2-small-sized decoder-only LM with a KV cache, built from
tools/fixtures/generate.py's own blocks (KVAttention, RMSNorm), i.e. the
llm_kv_coreml_states fixture scaled up:

    embedding 32000 x 768; 12 pre-norm blocks (RMSNorm, 12-head attention with
    a fused qkv Linear 768->2304 and proj 768->768, K/V written into registered
    buffers k_cache / v_cache [1, 12, C, 64] at input_pos with index_copy_,
    boolean mask arange(C) <= input_pos, sdpa over the whole cache; RMSNorm,
    SiLU MLP 768->3072->768); final RMSNorm; lm_head 768->32000 (no bias).
    forward(tokens [1,1] int64, input_pos [1] int64) -> logits [1,1,32000].

For each max cache length C in {128, 512} it writes:

  coreml_int4_ctxC.pte    torchao IntxWeightOnlyConfig(int4, PerGroup(32)) on
                          every Linear (the embedding stays float), lowered with
                          CoreMLPartitioner(take_over_mutable_buffer=True), iOS18,
                          FLOAT16 compute precision: the caches become Core ML
                          states, the weights constexpr_blockwise_shift_scale.
  coreml_fp16_ctxC.pte    the same without quantization.
  xnnpack_8da4w_ctxC.pte  the same eager model, torchao
                          Int8DynamicActivationIntxWeightConfig(int4, PerGroup(32))
                          (ExecuTorch's "8da4w") + XnnpackPartitioner; the cache
                          stays an ExecuTorch mutable buffer updated by index_copy_.
  inputs_ctxC/input_0.npy tokens [[TOKEN]] int64
  inputs_ctxC/input_1.npy input_pos [C - 8] int64 (a decode step near the end of
                          the cache, so attention reads C - 7 valid positions)
  manifest.json           all of the above, with sizes, configs and any export
                          error (a failed export leaves no file and records the
                          exact error).

Weights are random (seeded); this is a timing model, outputs are not checked.
Usage: .venv-fixtures/bin/python bench/make_llm.py [--ctx 128,512]
       [--only coreml_int4,coreml_fp16,xnnpack_8da4w] [--out DIR]
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))

import generate as gen  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import coremltools as ct  # noqa: E402

CONFIG = {"vocab": 32000, "d": 768, "heads": 12, "layers": 12, "ff": 3072}
TOKEN = 1234
VARIANTS = ("coreml_int4", "coreml_fp16", "xnnpack_8da4w")


class DecoderLM(nn.Module):
    """generate.py's TinyDecoderLM at GPT-2-small size (same forward)."""

    def __init__(self, ctx, vocab, d, heads, layers, ff):
        super().__init__()
        self.ctx = ctx
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            blk = nn.Module()
            blk.n1, blk.n2 = gen.RMSNorm(d), gen.RMSNorm(d)
            blk.attn = gen.KVAttention(d, heads, ctx, "index_copy")
            blk.fc1, blk.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)
            self.blocks.append(blk)
        self.norm = gen.RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        with torch.no_grad():
            for p in self.parameters():
                if p.dim() == 1 and p.shape[0] == d:
                    p.uniform_(0.8, 1.2)

    def forward(self, tokens, input_pos):
        mask = torch.arange(self.ctx).unsqueeze(0) <= input_pos.unsqueeze(1)
        x = self.emb(tokens)
        for blk in self.blocks:
            x = x + blk.attn(blk.n1(x), input_pos, mask)
            x = x + blk.fc2(F.silu(blk.fc1(blk.n2(x))))
        return self.head(self.norm(x))


def make_model(ctx):
    gen.seed_everything()
    return DecoderLM(ctx, **CONFIG).eval()


def linear_weight_counts(m):
    n = sum(mod.weight.numel() for mod in m.modules() if isinstance(mod, nn.Linear))
    return {"linear_weight_params": n, "embedding_params": m.emb.weight.numel(),
            "int4_weight_bytes": n // 2, "int4_group32_fp16_scale_bytes": n // 32 * 2,
            "fp16_weight_bytes": n * 2}


def build(variant, ctx, ex):
    m = make_model(ctx)
    if variant == "coreml_int4":
        from torchao.quantization.granularity import PerGroup
        from torchao.quantization.quant_api import IntxWeightOnlyConfig, quantize_

        quantize_(m, IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup(32)))
    if variant.startswith("coreml"):
        part, _ = gen.make_partitioner(
            dict(minimum_deployment_target=ct.target.iOS18, compute_precision=ct.precision.FLOAT16),
            take_over_mutable_buffer=True)
        with torch.no_grad():
            return gen.lower(torch.export.export(m, ex), [part])
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerGroup

    quantize_(m, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                       weight_granularity=PerGroup(32)),
              filter_fn=lambda mod, fqn: isinstance(mod, nn.Linear))
    with torch.no_grad():
        return gen.lower(torch.export.export(m, ex), [XnnpackPartitioner()])


RECIPES = {
    "coreml_int4": {
        "quantization": "torchao quantize_ IntxWeightOnlyConfig(weight_dtype=int4, granularity=PerGroup(32)), "
                        "default filter (every nn.Linear; the embedding stays float)",
        "partitioner": "CoreMLPartitioner(take_over_mutable_buffer=True), iOS18, FLOAT16 compute precision",
        "runtime": "cml (Core ML delegate; K/V caches are fp16 Core ML states)",
    },
    "coreml_fp16": {
        "quantization": None,
        "partitioner": "CoreMLPartitioner(take_over_mutable_buffer=True), iOS18, FLOAT16 compute precision",
        "runtime": "cml (Core ML delegate; K/V caches are fp16 Core ML states)",
    },
    "xnnpack_8da4w": {
        "quantization": "torchao quantize_ Int8DynamicActivationIntxWeightConfig(weight_dtype=int4, "
                        "weight_granularity=PerGroup(32)) on every nn.Linear (ExecuTorch's 8da4w)",
        "partitioner": "XnnpackPartitioner(); the K/V caches stay ExecuTorch mutable buffers "
                       "updated by index_copy_ outside the delegate",
        "runtime": "ExecuTorch + XNNPACK (executorch.runtime)",
    },
}


def write_inputs(out, ctx):
    d = out / f"inputs_ctx{ctx}"
    d.mkdir(parents=True, exist_ok=True)
    tok = np.array([[TOKEN]], dtype=np.int64)
    pos = np.array([ctx - 8], dtype=np.int64)
    np.save(d / "input_0.npy", tok)
    np.save(d / "input_1.npy", pos)
    return {"dir": d.name, "files": ["input_0.npy", "input_1.npy"],
            "input_0.npy": f"tokens [1,1] int64 = [[{TOKEN}]]",
            "input_1.npy": f"input_pos [1] int64 = [{ctx - 8}] (ctx - 8)"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ctx", default="128,512")
    ap.add_argument("--only", default=",".join(VARIANTS))
    ap.add_argument("--out", type=Path, default=ROOT / "fixtures-large" / "llm_decoder")
    a = ap.parse_args()
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    mpath = out / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
    manifest.update({
        "description": __doc__.split("Usage:")[0].strip(),
        "config": CONFIG,
        "weights": linear_weight_counts(make_model(128)),
        "inputs_order": ["tokens [1,1] int64", "input_pos [1] int64"],
        "bench": "build/cml bench coreml_int4_ctx512.pte --input inputs_ctx512/input_0.npy "
                 "--input inputs_ctx512/input_1.npy; peers: executorch.runtime "
                 "load_program(xnnpack_8da4w_ctxC.pte).load_method('forward').execute([tokens, input_pos]). "
                 "Each call writes the cache at the same input_pos, so repeated calls are steady-state decode steps.",
        "generated_with": gen.versions(),
    })
    files = manifest.setdefault("files", {})
    for ctx in (int(c) for c in a.ctx.split(",")):
        manifest.setdefault("contexts", {})[str(ctx)] = write_inputs(out, ctx)
        ex = (torch.tensor([[TOKEN]], dtype=torch.int64), torch.tensor([ctx - 8], dtype=torch.int64))
        for variant in a.only.split(","):
            name = f"{variant}_ctx{ctx}.pte"
            entry = {"variant": variant, "context": ctx, "inputs": f"inputs_ctx{ctx}", **RECIPES[variant]}
            t0 = time.time()
            (out / name).unlink(missing_ok=True)
            try:
                prog = build(variant, ctx, ex)
                (out / name).write_bytes(prog.buffer)
                entry.update(status="ok", bytes=(out / name).stat().st_size)
            except Exception as e:  # recorded, never faked
                entry.update(status="failed", error=f"{type(e).__name__}: {e}",
                             traceback=traceback.format_exc()[-4000:])
            entry["export_s"] = round(time.time() - t0, 1)
            files[name] = entry
            print(f"  {name:28s} {entry['status']}" + (f": {entry.get('error', '')[:300]}" if entry["status"] != "ok" else
                                                        f" {entry['bytes'] / 1e6:.1f} MB in {entry['export_s']} s"), flush=True)
            mpath.write_text(json.dumps(manifest, indent=2) + "\n")
    bad = sum(f["status"] != "ok" for f in files.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
