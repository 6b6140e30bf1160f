#!/usr/bin/env python3
"""Benchmark driver: cml beside ExecuTorch+XNNPACK and onnxruntime.

Two sub-commands:

  peers.py one --runtime {executorch,onnxruntime} --model FILE --input X.npy
               [--input Y.npy ...] [--threads N] [--warmup N] [--iterations N]
               [--expected Y.npy]
      Runs one model in *this* process and prints one JSON object: load time,
      median / p90 / min latency, peak RSS.  `suite` starts a fresh process per
      measurement so peak RSS belongs to that model alone.  Inputs are passed
      in the order given.

  peers.py suite [--cml build/cml] [--membench build/cml_membench]
                 [--threads 1,2] [--warmup N] [--iterations N] [--rows KEYS]
                 [--out bench/out]
      Runs the selected rows of BENCHMARKS.md and writes OUT/results.json and
      OUT/tables.md.  --rows is a comma-separated subset of (default: all)

        machine      cml_membench: STREAM-style triad DRAM bandwidth and peak
                     fp32 FLOP/s at each thread count
        mv2_small    MobileNetV2 0.35x 96x96 (the committed fixture)
        mv2          MobileNetV2 1.0x 224x224
        transformer  the fixture transformer block (d 64, seq 16)
        bert         2 BERT-base encoder layers, seq 128 (bench/make_bert.py)
        llm          GPT-2-small-sized decoder, one decode step at each context
                     of fixtures-large/llm_decoder/manifest.json (bench/make_llm.py)
        quant        quantized-vs-fp16 peak RSS under cml

      with the aliases `mobilenet` (= mv2_small,mv2) and `all`; `llm` also runs
      `machine` (its bandwidth fraction needs the triad).  For each model row
      and thread count: cml (`cml bench --json`) per Core ML precision, then
      ExecuTorch+XNNPACK, then onnxruntime, back to back on the same input
      files.  A row whose files are missing is skipped with a message (in the
      output and in tables.md), never faked.

Timing method for the peers (mirrors `cml bench`): `warmup` untimed calls,
then `iterations` calls each timed with time.perf_counter_ns() around the
single execute()/run() call; median is the middle value (mean of the two middle
values for even counts), p90 the nearest-rank 90th percentile.  Load time is
program load + method load (ExecuTorch) or InferenceSession creation
(onnxruntime).  Peak RSS is the process's VmHWM at exit (not ru_maxrss,
which Linux carries over from the parent across fork+exec), which for
a Python peer includes the interpreter and the imported libraries (torch is
imported by executorch's pybindings); the RSS just before the model is loaded is
reported too, so the model's own share (peak - pre-load) can be read off.

Derived columns: `ratio` = this row's median / the reference peer's median
(ExecuTorch+XNNPACK fp32; for the decoder, XNNPACK 8da4w) at the same thread
count in the same run; `load ratio` the same for load time; `speedup` = this
runtime's 1-thread median / its N-thread median.  cml's `max abs err` comes
from one `cml run --threads 1` of the same model and input against the fp32
eager expected output.  Decoder rows add weight bytes per token over the
median time, as a fraction of the measured triad bandwidth at that thread
count.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
LARGE = ROOT / "fixtures-large"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def percentile_nearest_rank(sorted_v, p):
    k = max(1, math.ceil(p / 100.0 * len(sorted_v)))
    return sorted_v[k - 1]


def stats(ns):
    v = sorted(x / 1e6 for x in ns)
    n = len(v)
    med = v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
    return {"median_ms": med, "p90_ms": percentile_nearest_rank(v, 90), "min_ms": v[0],
            "mean_ms": sum(v) / n}


# --------------------------------------------------------------------------
# one measurement, in this process
# --------------------------------------------------------------------------


def run_one(a) -> dict:
    import numpy as np

    xs = [np.load(f) for f in a.input]
    res = {"runtime": a.runtime, "model": a.model, "threads": a.threads,
           "warmup": a.warmup, "iterations": a.iterations}

    if a.runtime == "executorch":
        import torch
        from executorch.extension.pybindings import portable_lib
        from executorch.runtime import Runtime

        torch.set_num_threads(1)  # torch itself is not used for compute here
        portable_lib._unsafe_reset_threadpool(a.threads)
        res["threadpool_threads"] = int(portable_lib._threadpool_get_thread_count())
        rt = Runtime.get()
        res["backends"] = sorted(rt.backend_registry.registered_backend_names)
        xts = [torch.from_numpy(x) for x in xs]
        res["pre_load_rss_mb"] = status_mb("VmRSS")
        t0 = time.perf_counter_ns()
        prog = rt.load_program(Path(a.model))
        method = prog.load_method("forward")
        res["load_ms"] = (time.perf_counter_ns() - t0) / 1e6

        def call():
            return method.execute(xts)

        def to_np(out):
            return out[0].numpy()

    elif a.runtime == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        res["pre_load_rss_mb"] = status_mb("VmRSS")
        t0 = time.perf_counter_ns()
        sess = ort.InferenceSession(a.model, sess_options=so, providers=["CPUExecutionProvider"])
        res["load_ms"] = (time.perf_counter_ns() - t0) / 1e6
        res["providers"] = sess.get_providers()
        feeds = {i.name: x for i, x in zip(sess.get_inputs(), xs)}

        def call():
            return sess.run(None, feeds)

        def to_np(out):
            return out[0]
    else:
        raise SystemExit(f"unknown runtime {a.runtime}")

    out = None
    for _ in range(a.warmup):
        out = call()
    ns = []
    for _ in range(a.iterations):
        t0 = time.perf_counter_ns()
        out = call()
        ns.append(time.perf_counter_ns() - t0)
    res.update(stats(ns))
    if a.expected:
        y = np.load(a.expected)
        got = np.asarray(to_np(out), dtype=np.float64).reshape(y.shape)
        res["max_abs_err"] = float(np.max(np.abs(got - y)))
        res["max_abs_ref"] = float(np.max(np.abs(y)))
    res["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    res["vm_hwm_mb"] = status_mb("VmHWM")
    res["peak_rss_mb"] = res["vm_hwm_mb"]  # see run_cml: ru_maxrss is inherited across exec
    return res


# --------------------------------------------------------------------------
# the suite: row definitions
# --------------------------------------------------------------------------

XNN_FP32 = "ExecuTorch+XNNPACK fp32"
XNN_8DA4W = "ExecuTorch+XNNPACK 8da4w"
ROW_KEYS = ("machine", "mv2_small", "mv2", "transformer", "bert", "llm", "quant")
ROW_ALIASES = {"mobilenet": ("mv2_small", "mv2"), "all": ROW_KEYS}


def parse_rows(spec: str):
    """--rows / BENCH_ROWS -> the set of row keys (ValueError on an unknown key)."""
    keys = set()
    for k in (x.strip() for x in spec.split(",")):
        if not k:
            continue
        if k in ROW_ALIASES:
            keys.update(ROW_ALIASES[k])
        elif k in ROW_KEYS:
            keys.add(k)
        else:
            raise ValueError(f"unknown row '{k}' (known: {', '.join(ROW_KEYS + tuple(ROW_ALIASES))})")
    if "llm" in keys:
        keys.add("machine")
    return keys


# key -> (row label, [(precision, cml case dir)], XNNPACK dir, ONNX dir)
def model_rows():
    return {
        "mv2_small": ("MobileNetV2 0.35x 96x96 (fixture)",
                      [("fp32", FIX / "mobilenet_v2_fp32"), ("fp16", FIX / "mobilenet_v2_fp16")],
                      LARGE / "mobilenet_v2_xnnpack", LARGE / "mobilenet_v2_onnx"),
        "mv2": ("MobileNetV2 1.0x 224x224 (full)",
                [("fp32", LARGE / "mobilenet_v2_full_fp32"), ("fp16", LARGE / "mobilenet_v2_full_fp16")],
                LARGE / "mobilenet_v2_full_xnnpack", LARGE / "mobilenet_v2_full_onnx"),
        "transformer": ("Transformer block d64 h4 ff256 seq16",
                        [("fp32", FIX / "transformer_fp32"), ("fp16", FIX / "transformer_fp16")],
                        LARGE / "transformer_xnnpack", LARGE / "transformer_onnx"),
        "bert": ("BERT-base 2 layers seq128",
                 [("fp32", LARGE / "bert2_fp32"), ("fp16", LARGE / "bert2_fp16")],
                 LARGE / "bert2_xnnpack", LARGE / "bert2_onnx"),
    }


QUANT_ROWS = [
    # (baseline fp16 case, [quantized cases])
    ("transformer_fp16", ["transformer_int4_pergroup32", "transformer_palettize_uint4",
                          "transformer_palettize_uint3", "transformer_int8_peraxis"]),
    ("mobilenet_v2_fp16", ["mobilenet_v2_palettize_uint4", "mobilenet_v2_palettize_uint3"]),
]


LLM_DIR = LARGE / "llm_decoder"
LLM_CONTEXTS = (128, 512)  # what bench/make_llm.py writes by default
# (variant in bench/make_llm.py's file names, runtime label)
LLM_VARIANTS = (("coreml_int4", "cml Core ML int4 (state)"), ("coreml_fp16", "cml Core ML fp16 (state)"),
                ("xnnpack_8da4w", XNN_8DA4W))


def llm_cases():
    """The decoder benchmark as bench/make_llm.py wrote it: a list of
    (context, [(variant, runtime label, .pte path)], [input paths]) and a list
    of messages for what is missing.  Reads manifest.json tolerantly: the
    contexts 128 and 512 plus its "contexts" keys (else the inputs_ctx* folders), each
    context's inputs from its "files" list (else input_<i>.npy in order)."""
    mpath = LLM_DIR / "manifest.json"
    if not mpath.exists():
        return [], [f"{mpath.relative_to(ROOT)} missing: run bench/make_llm.py (the decoder export)"]
    man = json.loads(mpath.read_text())
    ctx_info = man.get("contexts") or {p.name[len("inputs_ctx"):]: {} for p in LLM_DIR.glob("inputs_ctx*")}
    cases, missing = [], []
    for ctx in sorted(set(LLM_CONTEXTS) | {int(c) for c in ctx_info}):
        info = ctx_info.get(str(ctx)) or {}
        d = LLM_DIR / info.get("dir", f"inputs_ctx{ctx}")
        files = info.get("files") or sorted((p.name for p in d.glob("input_*.npy")),
                                            key=lambda n: int(n[len("input_"):-len(".npy")]))
        inputs = [d / f for f in files]
        if not inputs or not all(p.exists() for p in inputs):
            missing.append(f"{d.relative_to(ROOT)}: decoder inputs missing")
            continue
        runs = []
        for variant, label in LLM_VARIANTS:
            pte = LLM_DIR / f"{variant}_ctx{ctx}.pte"
            entry = (man.get("files") or {}).get(pte.name, {})
            if pte.exists():
                runs.append((variant, label, pte))
            elif entry.get("status") not in (None, "ok"):
                missing.append(f"{pte.name}: export failed: {str(entry.get('error', ''))[:200]}")
            else:
                missing.append(f"{pte.relative_to(ROOT)} missing")
        cases.append((ctx, runs, inputs))
    return cases, missing


def llm_todo():
    """Lines "--ctx C --only V1,V2" for bench/make_llm.py: the decoder files
    (contexts 128 and 512 plus any in the manifest) that are missing and not
    recorded in manifest.json as a failed export (those are not retried)."""
    mpath = LLM_DIR / "manifest.json"
    man = json.loads(mpath.read_text()) if mpath.exists() else {}
    files = man.get("files") or {}
    lines = []
    for ctx in sorted(set(LLM_CONTEXTS) | {int(c) for c in (man.get("contexts") or {})}):
        inputs_ok = (LLM_DIR / f"inputs_ctx{ctx}" / "input_0.npy").exists()
        todo = [v for v, _ in LLM_VARIANTS
                if not inputs_ok or (not (LLM_DIR / f"{v}_ctx{ctx}.pte").exists()
                                     and files.get(f"{v}_ctx{ctx}.pte", {}).get("status") in (None, "ok"))]
        if todo:
            lines.append(f"--ctx {ctx} --only {','.join(todo)}")
    return lines


# --------------------------------------------------------------------------
# the suite: one measurement each
# --------------------------------------------------------------------------


def run_cml(cml, model, inputs, threads, warmup, iterations):
    cmd = [str(cml), "bench", str(model), "--threads", str(threads), "--warmup", str(warmup),
           "--iterations", str(iterations), "--json"]
    for inp in inputs:
        cmd += ["--input", str(inp)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"runtime": "cml", "model": str(model), "threads": threads, "error": (p.stderr or p.stdout).strip()[-600:],
                "returncode": p.returncode}
    r = json.loads(p.stdout)
    r["runtime"] = "cml"
    # ru_maxrss survives fork+exec on Linux (the child starts with the parent's
    # high-water mark), so from this Python driver it reads >= the driver's
    # RSS. VmHWM belongs to the exec'd image alone: use it.
    r["ru_maxrss_mb"] = r.get("peak_rss_mb")
    r["peak_rss_mb"] = r.get("vm_hwm_mb", r.get("peak_rss_mb"))
    return r


def cml_accuracy(cml, model, inputs, expected):
    """Max abs error of one `cml run --threads 1` against expected (fp32 eager),
    as a dict to merge into the row (an "accuracy_error" if the run fails)."""
    import tempfile

    import numpy as np

    if expected is None or not Path(expected).exists():
        return {}
    with tempfile.TemporaryDirectory(prefix="cml-bench-") as tmp:
        cmd = [str(cml), "run", str(model), "--threads", "1", "--output-dir", tmp]
        for inp in inputs:
            cmd += ["--input", str(inp)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        out = Path(tmp) / "output_0.npy"
        if p.returncode != 0 or not out.exists():
            return {"accuracy_error": (p.stderr or p.stdout).strip()[-300:]}
        y = np.load(expected)
        got = np.asarray(np.load(out), dtype=np.float64).reshape(y.shape)
    return {"max_abs_err": float(np.max(np.abs(got - y))), "max_abs_ref": float(np.max(np.abs(y)))}


def cml_weight_bytes(cml, model):
    """Sum over delegates of `cml inspect`'s "weights: X bytes in the file"."""
    p = subprocess.run([str(cml), "inspect", str(model)], capture_output=True, text=True)
    found = [int(v) for v in re.findall(r"weights: (\d+) bytes in the file", p.stdout)]
    return sum(found) if found else None


def run_peer(runtime, model, inputs, expected, threads, warmup, iterations):
    cmd = [sys.executable, str(Path(__file__).resolve()), "one", "--runtime", runtime, "--model", str(model),
           "--threads", str(threads), "--warmup", str(warmup), "--iterations", str(iterations)]
    for inp in inputs:
        cmd += ["--input", str(inp)]
    if expected is not None and Path(expected).exists():
        cmd += ["--expected", str(expected)]
    env = dict(os.environ, TQDM_DISABLE="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"runtime": runtime, "model": str(model), "threads": threads,
                "error": (p.stderr or p.stdout).strip()[-600:], "returncode": p.returncode}
    return json.loads(lines[-1])


def run_membench(membench, threads):
    """cml_membench --json at these thread counts, or {"error": ...}."""
    if membench is None or not Path(membench).exists():
        return {"error": f"{membench} not found (cmake --build build --target cml_membench)"}
    cmd = [str(membench), "--json", "--threads", ",".join(map(str, sorted(set(threads))))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip()[-300:]}
    return json.loads(p.stdout)


def triad_gbs(machine_measured, threads):
    for t in (machine_measured or {}).get("threads", []):
        if t["threads"] == threads:
            return t["triad_gbs"]
    return None


def versions(cml):
    from importlib.metadata import PackageNotFoundError, version

    v = {"python": platform.python_version()}
    for pkg in ("torch", "executorch", "onnxruntime", "onnx", "numpy", "coremltools"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            v[pkg] = None
    try:
        v["cml_git"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                      capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            v["cml_git"] += "+dirty"
    except OSError:
        pass
    try:
        v["cc"] = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        v["cc"] = None
    return v


def machine():
    info = {"uname": " ".join(platform.uname()[i] for i in (0, 2, 4))}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C")).stdout
        kv = {}
        for line in out.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                kv[k.strip()] = v.strip()
        flags = set(kv.get("Flags", "").split())
        info.update({
            "model_name": kv.get("Model name"),
            "cpus": kv.get("CPU(s)"),
            "threads_per_core": kv.get("Thread(s) per core"),
            "hypervisor": kv.get("Hypervisor vendor"),
            "l2": kv.get("L2 cache"), "l3": kv.get("L3 cache"),
            "isa": [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                                "avx512_bf16", "avx512_fp16", "amx_tile") if f in flags],
        })
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def fmt(v, nd=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{nd}f}"


def fmt_ratio(v):
    return "–" if v is None else f"{v:.2f}×"


def first_line(msg, n=120):
    lines = [ln for ln in str(msg).splitlines() if ln.strip()] or [""]
    return lines[-1].replace("|", "/")[:n]


def add_derived(entries, ref_label):
    """Ratio to ref_label's row (same label, same thread count) and speedup
    over the same runtime's 1-thread row, on every successful entry."""
    ok = [e for e in entries if "error" not in e]
    ref = {(e["label"], e["threads"]): e for e in ok if e["runtime_label"] == ref_label}
    one = {(e["label"], e["runtime_label"]): e for e in ok if e["threads"] == 1}
    for e in ok:
        r = ref.get((e["label"], e["threads"]))
        if r is not None and r["median_ms"] > 0:
            e["ratio_median"] = e["median_ms"] / r["median_ms"]
            e["ratio_ref"] = ref_label
            if e.get("load_ms") is not None and r.get("load_ms"):
                e["ratio_load"] = e["load_ms"] / r["load_ms"]
        b = one.get((e["label"], e["runtime_label"]))
        if b is not None and e["threads"] != 1 and e["median_ms"] > 0:
            e["speedup_vs_1t"] = b["median_ms"] / e["median_ms"]


def md_machine(results):
    mm = results.get("machine_measured")
    if mm is None:
        return []
    out = ["Machine, measured in this run by `cml_membench` (bench/membench.c):\n"]
    if "error" in mm:
        return out + [f"- failed: {first_line(mm['error'], 200)}", ""]
    out.append(f"| threads | DRAM triad GB/s | peak fp32 GFLOP/s ({mm.get('isa')} FMA loop) |")
    out.append("|---:|---:|---:|")
    for t in mm["threads"]:
        out.append(f"| {t['threads']} | {fmt(t['triad_gbs'], 2)} | {fmt(t['peak_gflops'], 1)} |")
    out.append(f"\nTriad: 3 × {mm.get('triad_array_mib')} MiB double arrays, best of {mm.get('runs')} runs, "
               "24 bytes per element (STREAM's count); peak: 12 independent FMA accumulators per thread, best of "
               f"{mm.get('runs')} runs.\n")
    return out


def md_latency(results):
    if not results["latency"]:
        return []
    out = [f"Latency in ms, RSS in MB. `ratio` and `load ratio`: cml (or any runtime) / {XNN_FP32} at the same "
           "thread count, this run; `speedup`: the runtime's 1-thread median / this row's median.\n",
           "| model | runtime | threads | load ms | load ratio | median ms | ratio | speedup | p90 ms | min ms | "
           "peak RSS MB | pre-load RSS MB | peak − pre-load MB | max abs err |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["latency"]:
        head = f"| {r['label']} | {r['runtime_label']} | {r['threads']} |"
        if "error" in r:
            out.append(f"{head} failed: {first_line(r['error'])} |" + " |" * 10)
            continue
        pre = r.get("pre_load_rss_mb")
        delta = (r["peak_rss_mb"] - pre) if pre is not None else None
        err = r.get("max_abs_err")
        out.append(
            f"{head} {fmt(r.get('load_ms'), 1)} | {fmt_ratio(r.get('ratio_load'))} | {fmt(r['median_ms'], 3)} | "
            f"{fmt_ratio(r.get('ratio_median'))} | {fmt_ratio(r.get('speedup_vs_1t'))} | {fmt(r['p90_ms'], 3)} | "
            f"{fmt(r['min_ms'], 3)} | {fmt(r['peak_rss_mb'], 1)} | {fmt(pre, 1)} | {fmt(delta, 1)} | "
            f"{'–' if err is None else f'{err:.1e}'} |")
    return out + [""]


def md_llm(results):
    if not results.get("llm"):
        return []
    out = [f"LLM decode, one step (ms per token = median of the calls), GPT-2-small-sized decoder. `ratio`: "
           f"/ {XNN_8DA4W} at the same context and thread count. `weights MB`: the weight bytes as stored "
           "(cml: `cml inspect`'s \"weights: X bytes in the file\", summed over delegates; XNNPACK: int4 "
           "linear weights + a 16-bit scale per group of 32 + the fp32 embedding, from manifest.json); `GB/s` = weights / median; `% triad` = GB/s / the triad at that thread count. `excl. emb.`: "
           "the same with the embedding table (vocab × d as stored; a step reads one row of it) taken out.\n",
           "| context | runtime | threads | load ms | load ratio | ms/token | ratio | speedup | min ms | "
           "peak RSS MB | weights MB | GB/s | % triad | % triad excl. emb. |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["llm"]:
        head = f"| {r['context']} | {r['runtime_label']} | {r['threads']} |"
        if "error" in r:
            out.append(f"{head} failed: {first_line(r['error'])} |" + " |" * 10)
            continue
        wb = r.get("weight_bytes")
        out.append(
            f"{head} {fmt(r.get('load_ms'), 1)} | {fmt_ratio(r.get('ratio_load'))} | {fmt(r['median_ms'], 2)} | "
            f"{fmt_ratio(r.get('ratio_median'))} | {fmt_ratio(r.get('speedup_vs_1t'))} | {fmt(r['min_ms'], 2)} | "
            f"{fmt(r['peak_rss_mb'], 1)} | {fmt(wb / 1e6 if wb else None, 1)} | {fmt(r.get('weight_gbs'), 2)} | "
            f"{fmt(r.get('triad_fraction') and 100 * r['triad_fraction'], 1)} | "
            f"{fmt(r.get('triad_fraction_excl_emb') and 100 * r['triad_fraction_excl_emb'], 1)} |")
    return out + [""]


# (row label, ratio target): issue 9's latency targets for every cml precision
RATIO_TARGETS = (("MobileNetV2 1.0x 224x224 (full)", 0.9), ("MobileNetV2 0.35x 96x96 (fixture)", 1.0),
                 ("BERT-base 2 layers seq128", 0.8))
SPEEDUP_TARGET, LOAD_TARGET, TRIAD_TARGET = 1.7, 1.0, 0.6


def target_lines(results):
    """(target, measured, met) triples for issue 9's targets, from this run."""
    lat = [r for r in results["latency"] if "error" not in r and r["runtime"] == "cml"]
    out = []
    for label, goal in RATIO_TARGETS:
        for r in (r for r in lat if r["label"] == label and r.get("ratio_median") is not None):
            out.append((f"{label}, {r['runtime_label']}, {r['threads']}t: ratio ≤ {goal}",
                        fmt_ratio(r["ratio_median"]), r["ratio_median"] <= goal))
    for r in lat:
        if r.get("speedup_vs_1t") is not None and r["label"] in (RATIO_TARGETS[0][0], RATIO_TARGETS[2][0]):
            out.append((f"{r['label']}, {r['runtime_label']}: {r['threads']}-thread speedup ≥ {SPEEDUP_TARGET}",
                        fmt_ratio(r["speedup_vs_1t"]), r["speedup_vs_1t"] >= SPEEDUP_TARGET))
    loads = [r for r in lat + [r for r in results.get("llm", []) if r.get("runtime") == "cml" and "error" not in r]
             if r.get("ratio_load") is not None]
    if loads:
        w = max(loads, key=lambda r: r["ratio_load"])
        out.append((f"load ratio ≤ {LOAD_TARGET} on every cml row ({len(loads)} rows)",
                    f"max {w['ratio_load']:.2f}× ({w['label']}, {w['runtime_label']}, {w['threads']}t)",
                    w["ratio_load"] <= LOAD_TARGET))
    for r in (r for r in results.get("llm", []) if "error" not in r and r.get("variant") == "coreml_int4"):
        # A decode step reads one embedding row, not the table: the bytes
        # read per token are the weights without the embedding.
        frac = r.get("triad_fraction_excl_emb") or r.get("triad_fraction")
        if frac is not None:
            out.append((f"LLM ctx {r['context']}, cml int4, {r['threads']}t: ≥ {TRIAD_TARGET:.0%} of triad "
                        "(weight bytes read per token, embedding table excluded)",
                        f"{frac:.1%}" + (f" ({r['triad_fraction']:.1%} counting the whole embedding)"
                                         if r.get("triad_fraction_excl_emb") else ""),
                        frac >= TRIAD_TARGET))
        if r.get("ratio_median") is not None:
            out.append((f"LLM ctx {r['context']}, cml int4, {r['threads']}t: faster than XNNPACK 8da4w",
                        fmt_ratio(r["ratio_median"]), r["ratio_median"] < 1.0))
    return out


def md_targets(results):
    lines = target_lines(results)
    if not lines:
        return []
    out = ["Issue 9's targets against this run (medians; ratios are cml / the XNNPACK row):\n",
           "| target | measured | met |", "|---|---:|---|"]
    out += [f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in lines]
    return out + [""]


def md_quant(results):
    if not results.get("quantized"):
        return []
    s = results["settings"]
    out = ["Quantized vs fp16 under cml (peak RSS of `cml bench`, threads 1; median of "
           f"{s.get('rss_repeats', 1)} processes, [min-max] in brackets):\n",
           "| fixture | status | load ms | median ms | peak RSS MB | fp16 peak RSS MB | below fp16? | model.pte MB |",
           "|---|---|---:|---:|---:|---:|---|---:|"]
    rng = lambda v: "" if not v else f" [{v[0]:.2f}-{v[-1]:.2f}]"  # noqa: E731
    for r in results["quantized"]:
        size = r.get("pte_mb")
        if "error" in r:
            out.append(f"| {r['case']} | fails: {first_line(r['error'], 160)} | – | – | – | "
                       f"{fmt(r.get('fp16_peak_rss_mb'), 2)} | – | {fmt(size, 2)} |")
            continue
        base = r.get("fp16_peak_rss_mb")
        runs, bruns = r.get("peak_rss_runs_mb"), r.get("fp16_peak_rss_runs_mb")
        if r["case"].endswith("_fp16"):
            below = "(baseline)"
        elif base is None:
            below = "–"
        elif runs and bruns and runs[-1] < bruns[0]:
            below = "yes (every run)"
        else:
            below = "yes (median)" if r["peak_rss_mb"] < base else "no"
        out.append(f"| {r['case']} | ok | {fmt(r['load_ms'], 1)} | {fmt(r['median_ms'], 3)} | {fmt(r['peak_rss_mb'], 2)}{rng(runs)} | "
                   f"{fmt(base, 2)}{rng(bruns)} | {below} | {fmt(size, 2)} |")
    return out + [""]


def markdown(results) -> str:
    s = results["settings"]
    la = lambda k: "/".join(f"{x:.1f}" for x in results.get(k, ())) or "?"  # noqa: E731
    out = [f"rows {','.join(s.get('rows', []))}; warmup {s['warmup']}, iterations {s['iterations']}, threads "
           f"{', '.join(map(str, s['threads']))}; load average (1/5/15 min) {la('loadavg_start')} at start, "
           f"{la('loadavg_end')} at end; cml {results['versions'].get('cml_git')}.\n"]
    out += md_machine(results) + md_latency(results) + md_llm(results) + md_targets(results) + md_quant(results)
    if results.get("missing"):
        out.append("Skipped (files missing):\n")
        out += [f"- {m}" for m in results["missing"]]
        out.append("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# the suite: driving
# --------------------------------------------------------------------------


def echo(r):
    msg = first_line(r["error"], 150) if "error" in r else \
        f"median {r['median_ms']:.3f} ms  p90 {r['p90_ms']:.3f}  min {r['min_ms']:.3f}  peak RSS {r['peak_rss_mb']:.1f} MB"
    print(f"  {r['label']:38s} {r['runtime_label']:28s} t={r['threads']}  {msg}", flush=True)


def missing_entry(runtime, path, threads, results):
    msg = f"{Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path} missing (skipped)"
    if msg not in results["missing"]:
        results["missing"].append(msg)
    return {"runtime": runtime, "model": str(path), "threads": threads, "error": msg}


def run_model_row(a, cml, label, cml_cases, xnn_dir, onnx_dir, results):
    """Every runtime of one model row at every thread count, appended to
    results["latency"]; returns False if the row was skipped."""
    import numpy as np

    ref_in = cml_cases[0][1] / "input_0.npy"
    if not ref_in.exists():
        results["missing"].append(f"{label}: {ref_in.relative_to(ROOT)} missing (row skipped)")
        print(f"  {label}: skipped, {ref_in} missing", flush=True)
        return False
    for d in (xnn_dir, onnx_dir):
        pin = d / "input_0.npy"
        if pin.exists() and not np.array_equal(np.load(pin), np.load(ref_in)):
            raise SystemExit(f"error: {pin} differs from {ref_in}: peers would not run the same input")
    expected = cml_cases[0][1] / "expected_0.npy"
    acc = {prec: cml_accuracy(cml, c / "model.pte", [c / "input_0.npy"], expected)
           for prec, c in cml_cases if (c / "model.pte").exists()}
    for t in a.thread_list:
        jobs = []
        for prec, c in cml_cases:
            pte = c / "model.pte"
            jobs.append((f"cml Core ML {prec}", lambda pte=pte, c=c, t=t, prec=prec: dict(
                run_cml(cml, pte, [c / "input_0.npy"], t, a.warmup, a.iterations), **acc.get(prec, {}))
                if pte.exists() else missing_entry("cml", pte, t, results)))
        for rl, rt, f in ((XNN_FP32, "executorch", xnn_dir / "model.pte"),
                          ("onnxruntime CPU fp32", "onnxruntime", onnx_dir / "model.onnx")):
            jobs.append((rl, lambda rt=rt, f=f, t=t: run_peer(rt, f, [ref_in], expected, t, a.warmup, a.iterations)
                         if f.exists() else missing_entry(rt, f, t, results)))
        for rl, job in jobs:
            r = job()
            r["label"], r["runtime_label"], r["threads"] = label, rl, t
            results["latency"].append(r)
            echo(r)
    return True


def llm_weight_bytes(cml, variant, pte, manifest):
    """(weight bytes as stored, embedding table bytes as stored) of one decoder
    file. Core ML: `cml inspect`'s count (its FLOAT16 program holds an fp16
    table). XNNPACK 8da4w: manifest.json's int4 linear weights + one 16-bit
    scale per group of 32 + the fp32 embedding (it stays outside the delegate);
    the .pte size if the manifest lacks those counts."""
    w = manifest.get("weights") or {}
    emb = w.get("embedding_params")
    if variant.startswith("coreml"):
        return cml_weight_bytes(cml, pte), (2 * emb if emb else None)
    if emb and w.get("int4_weight_bytes") and w.get("int4_group32_fp16_scale_bytes"):
        return w["int4_weight_bytes"] + w["int4_group32_fp16_scale_bytes"] + 4 * emb, 4 * emb
    return pte.stat().st_size, (4 * emb if emb else None)


def run_llm(a, cml, results):
    cases, missing = llm_cases()
    results["missing"] += missing
    for m in missing:
        print(f"  LLM decode: skipped: {m}", flush=True)
    mpath = LLM_DIR / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
    for ctx, runs, inputs in cases:
        label = f"LLM decode ctx {ctx}"
        wbytes = {v: llm_weight_bytes(cml, v, pte, manifest) for v, _, pte in runs}
        for t in a.thread_list:
            for variant, rl, pte in runs:
                if variant.startswith("coreml"):
                    r = run_cml(cml, pte, inputs, t, a.warmup, a.iterations)
                else:
                    r = run_peer("executorch", pte, inputs, None, t, a.warmup, a.iterations)
                r.update(label=label, runtime_label=rl, threads=t, context=ctx, variant=variant)
                wb, emb = wbytes[variant]
                tri = triad_gbs(results.get("machine_measured"), t)
                if "error" not in r and wb:
                    r["weight_bytes"], r["embedding_bytes"] = wb, emb
                    r["weight_gbs"] = wb / (r["median_ms"] * 1e-3) / 1e9
                    if tri:
                        r["triad_fraction"] = r["weight_gbs"] / tri
                        if emb and wb > emb:
                            r["triad_fraction_excl_emb"] = (wb - emb) / (r["median_ms"] * 1e-3) / 1e9 / tri
                results["llm"].append(r)
                echo(r)
    add_derived(results["llm"], XNN_8DA4W)


def run_quant(a, cml, results):
    def quant(case, base_rss):
        # a.rss_repeats fresh processes; peak RSS varies by ~0.1-0.2 MB run to run
        runs = [run_cml(cml, FIX / case / "model.pte", [FIX / case / "input_0.npy"], 1, a.warmup, a.iterations)
                for _ in range(a.rss_repeats)]
        ok = [r for r in runs if "error" not in r]
        r = dict(ok[len(ok) // 2] if ok else runs[0])
        if ok:
            rss = sorted(x["peak_rss_mb"] for x in ok)
            r.update(peak_rss_mb=rss[len(rss) // 2], peak_rss_runs_mb=rss)
        r.update(case=case, fp16_peak_rss_mb=base_rss if base_rss is not None else r.get("peak_rss_mb"),
                 pte_mb=(FIX / case / "model.pte").stat().st_size / 1e6)
        return r

    for base, qcases in QUANT_ROWS:
        b = quant(base, None)
        base_rss = b.get("peak_rss_mb")
        b["fp16_peak_rss_runs_mb"] = b.get("peak_rss_runs_mb")
        results["quantized"].append(b)
        for q in qcases:
            r = quant(q, base_rss)
            r["fp16_peak_rss_runs_mb"] = b.get("peak_rss_runs_mb")
            results["quantized"].append(r)
            print(f"  {q:38s} " + (first_line(r["error"], 150) if "error" in r else
                                    f"peak RSS {r['peak_rss_runs_mb']} MB (fp16 {b.get('peak_rss_runs_mb')} MB)"), flush=True)


def run_suite(a) -> int:
    cml = Path(a.cml)
    if not cml.exists():
        print(f"error: {cml} not found (make build)", file=sys.stderr)
        return 2
    try:
        rows = parse_rows("quant" if a.quant_only else a.rows)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    a.thread_list = [int(t) for t in a.threads.split(",")]
    results = {"settings": {"warmup": a.warmup, "iterations": a.iterations, "threads": a.thread_list,
                            "rss_repeats": a.rss_repeats, "rows": [k for k in ROW_KEYS if k in rows]},
               "machine": machine(), "versions": versions(cml),
               "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_start": os.getloadavg(),
               "latency": [], "llm": [], "quantized": [], "missing": []}
    if "machine" in rows:
        membench = Path(a.membench) if a.membench else cml.parent / "cml_membench"
        results["machine_measured"] = mm = run_membench(membench, a.thread_list)
        print("  machine: " + (first_line(mm["error"], 200) if "error" in mm else
                               "; ".join(f"t={t['threads']} triad {t['triad_gbs']:.2f} GB/s, peak "
                                         f"{t['peak_gflops']:.1f} GFLOP/s" for t in mm["threads"])), flush=True)
    for key, (label, cml_cases, xnn_dir, onnx_dir) in model_rows().items():
        if key in rows:
            run_model_row(a, cml, label, cml_cases, xnn_dir, onnx_dir, results)
    add_derived(results["latency"], XNN_FP32)
    if "llm" in rows:
        run_llm(a, cml, results)
    if "quant" in rows:
        run_quant(a, cml, results)

    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["loadavg_end"] = os.getloadavg()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = markdown(results)
    (out / "tables.md").write_text(md)
    print(md)
    print(f"wrote {out / 'results.json'} and {out / 'tables.md'}")
    if results["missing"]:
        print("skipped (missing files):\n  " + "\n  ".join(results["missing"]), file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("one")
    o.add_argument("--runtime", required=True, choices=["executorch", "onnxruntime"])
    o.add_argument("--model", required=True)
    o.add_argument("--input", required=True, action="append", help="repeat per input, in order")
    o.add_argument("--expected")
    o.add_argument("--threads", type=int, default=1)
    o.add_argument("--warmup", type=int, default=10)
    o.add_argument("--iterations", type=int, default=50)
    s = sub.add_parser("suite")
    s.add_argument("--cml", default=str(ROOT / "build" / "cml"))
    s.add_argument("--membench", default=None, help="cml_membench binary (default: next to --cml)")
    s.add_argument("--rows", default="all", help="comma-separated rows: " + ",".join(ROW_KEYS) +
                   " (aliases: mobilenet, all)")
    s.add_argument("--threads", default="1,2")
    s.add_argument("--warmup", type=int, default=10)
    s.add_argument("--iterations", type=int, default=50)
    s.add_argument("--out", default=str(ROOT / "bench" / "out"))
    s.add_argument("--rss-repeats", type=int, default=5, help="processes per quantized/fp16 RSS figure (median)")
    s.add_argument("--quant-only", action="store_true", help="only the quantized-vs-fp16 RSS table (= --rows quant)")
    sub.add_parser("llm-todo", help="print what bench/make_llm.py still has to export (for run_benchmarks.sh)")
    a = ap.parse_args()
    if a.cmd == "llm-todo":
        for line in llm_todo():
            print(line)
        return 0
    if a.cmd == "one":
        print(json.dumps(run_one(a)))
        return 0
    return run_suite(a)


if __name__ == "__main__":
    sys.exit(main())
