#!/usr/bin/env python3
"""LLM decode timing (issue 9): cml against ExecuTorch+XNNPACK 8da4w on the
models of bench/make_llm.py, interleaved in one run.

  llm_decode.py [--cml build/cml[,OTHER_CML...]] [--ctx 128,512] [--threads 1,2]
                [--warmup 3] [--iterations 30] [--rounds 2] [--triad build/qgemv_bench]

For each context, thread count and round it runs every cml binary on
coreml_int4_ctxC.pte (`cml bench --json`, same input files) and then the
XNNPACK program (executorch.runtime, `one` sub-command in a fresh process:
load_program + load_method('forward'), `warmup` untimed calls, then
`iterations` calls each timed with perf_counter_ns around execute()). Every
call decodes one token at input_pos = C - 8. Prints one line per
measurement and a summary with the best median over the rounds, and the
fraction of DRAM bandwidth: linear-weight bytes in the file (int4 + fp16
scales, manifest.json) / median time, against the triad figure of
bench/qgemv_bench.c when --triad is given.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
D = ROOT / "fixtures-large" / "llm_decoder"


def stats(ns):
    v = sorted(x / 1e6 for x in ns)
    n = len(v)
    med = v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
    return {"median_ms": med, "min_ms": v[0]}


def run_one(a):
    import numpy as np
    import torch
    from executorch.extension.pybindings import portable_lib
    from executorch.runtime import Runtime

    torch.set_num_threads(1)
    portable_lib._unsafe_reset_threadpool(a.threads)
    ins = [torch.from_numpy(np.load(D / f"inputs_ctx{a.ctx}" / f)) for f in ("input_0.npy", "input_1.npy")]
    rt = Runtime.get()
    t0 = time.perf_counter_ns()
    method = rt.load_program(D / f"xnnpack_8da4w_ctx{a.ctx}.pte").load_method("forward")
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    for _ in range(a.warmup):
        method.execute(ins)
    ns = []
    c0 = time.process_time_ns()
    for _ in range(a.iterations):
        t0 = time.perf_counter_ns()
        method.execute(ins)
        ns.append(time.perf_counter_ns() - t0)
    r = stats(ns)
    r["cpu_ms_mean"] = (time.process_time_ns() - c0) / 1e6 / a.iterations  # all threads
    r["load_ms"] = load_ms
    r["threadpool_threads"] = int(portable_lib._threadpool_get_thread_count())
    print(json.dumps(r))


def cml_bench(cml, ctx, threads, warmup, iterations):
    inp = D / f"inputs_ctx{ctx}"
    cmd = [cml, "bench", str(D / f"coreml_int4_ctx{ctx}.pte"), "--threads", str(threads), "--warmup",
           str(warmup), "--iterations", str(iterations), "--input", str(inp / "input_0.npy"), "--input",
           str(inp / "input_1.npy"), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        return {"error": p.stderr.strip()[-300:]}
    return json.loads(p.stdout)


def xnn_bench(ctx, threads, warmup, iterations):
    cmd = [sys.executable, str(Path(__file__).resolve()), "one", "--ctx", str(ctx), "--threads", str(threads),
           "--warmup", str(warmup), "--iterations", str(iterations)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode or not lines:
        return {"error": (p.stderr or p.stdout).strip()[-300:]}
    return json.loads(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", nargs="?", default="suite", choices=["suite", "one"])
    ap.add_argument("--cml", default=str(ROOT / "build" / "cml"))
    ap.add_argument("--ctx", default="128,512")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--triad", default=None, help="bench/qgemv_bench.c binary: prints the triad GB/s")
    a = ap.parse_args()
    if a.cmd == "one":
        a.ctx, a.threads = int(a.ctx), int(a.threads)
        run_one(a)
        return 0
    manifest = json.loads((D / "manifest.json").read_text())
    wbytes = manifest["weights"]["int4_weight_bytes"] + manifest["weights"]["int4_group32_fp16_scale_bytes"]
    triad = None
    if a.triad:
        out = subprocess.run([a.triad, "0"], capture_output=True, text=True).stdout
        triad = float(out.split("triad:")[1].split()[0])
        print(f"triad {triad:.2f} GB/s; linear weight bytes per token {wbytes}")
    best = {}
    for _ in range(a.rounds):
        for ctx in (int(c) for c in a.ctx.split(",")):
            for t in (int(x) for x in a.threads.split(",")):
                jobs = [(f"cml {c}", lambda c=c: cml_bench(c, ctx, t, a.warmup, a.iterations)) for c in a.cml.split(",")]
                jobs.append(("xnnpack 8da4w", lambda: xnn_bench(ctx, t, a.warmup, a.iterations)))
                for name, job in jobs:
                    r = job()
                    key = (name, ctx, t)
                    if "error" in r:
                        print(f"{name:40s} ctx {ctx:4d} t={t}: {r['error']}", flush=True)
                        continue
                    print(f"{name:40s} ctx {ctx:4d} t={t}: median {r['median_ms']:.2f} ms  min {r['min_ms']:.2f} ms "
                          f"load {r['load_ms']:.0f} ms" + (f"  cpu {r['cpu_ms_mean']:.2f} ms/call" if "cpu_ms_mean" in r else "") + f"  (loadavg {open('/proc/loadavg').read().split()[0]})", flush=True)
                    if key not in best or r["median_ms"] < best[key]["median_ms"]:
                        best[key] = r
    print("\nbest median over rounds (ms/token), min in brackets; GB/s = linear weight bytes / median")
    for (name, ctx, t), r in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        gbs = wbytes / (r["median_ms"] * 1e-3) / 1e9
        frac = f", {100 * gbs / triad:.0f}% of triad" if triad else ""
        print(f"  ctx {ctx:4d} t={t} {name:40s} {r['median_ms']:8.2f} [{r['min_ms']:.2f}]  {gbs:.2f} GB/s{frac}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
