#!/usr/bin/env python3
"""Benchmark driver: cml beside ExecuTorch+XNNPACK and onnxruntime.

Two sub-commands:

  peers.py one --runtime {executorch,onnxruntime} --model FILE --input X.npy
               [--threads N] [--warmup N] [--iterations N] [--expected Y.npy]
      Runs one model in *this* process and prints one JSON object: load time,
      median / p90 / min latency, peak RSS.  `suite` starts a fresh process per
      measurement so peak RSS belongs to that model alone.

  peers.py suite [--cml build/cml] [--threads 1,2] [--warmup N] [--iterations N]
                 [--out bench/out] [--markdown FILE]
      Runs every row of BENCHMARKS.md: for each model and thread count, cml
      (`cml bench --json`), then ExecuTorch+XNNPACK, then onnxruntime, back to
      back on the same input file; then the quantized-vs-fp16 peak-RSS
      comparison (cml only).  Writes OUT/results.json and OUT/tables.md.

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
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
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

    x = np.load(a.input)
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
        xt = torch.from_numpy(x)
        res["pre_load_rss_mb"] = status_mb("VmRSS")
        t0 = time.perf_counter_ns()
        prog = rt.load_program(Path(a.model))
        method = prog.load_method("forward")
        res["load_ms"] = (time.perf_counter_ns() - t0) / 1e6

        def call():
            return method.execute([xt])

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
        name = sess.get_inputs()[0].name
        feeds = {name: x}

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
# the suite
# --------------------------------------------------------------------------

# (row label, cml .pte, XNNPACK .pte, ONNX, input, expected)
def model_rows():
    rows = [
        ("MobileNetV2 0.35x 96x96 (fixture)", [("fp32", FIX / "mobilenet_v2_fp32"), ("fp16", FIX / "mobilenet_v2_fp16")],
         LARGE / "mobilenet_v2_xnnpack", LARGE / "mobilenet_v2_onnx"),
        ("MobileNetV2 1.0x 224x224 (full)", [("fp32", LARGE / "mobilenet_v2_full_fp32"), ("fp16", LARGE / "mobilenet_v2_full_fp16")],
         LARGE / "mobilenet_v2_full_xnnpack", LARGE / "mobilenet_v2_full_onnx"),
        ("Transformer block d64 h4 ff256 seq16", [("fp32", FIX / "transformer_fp32"), ("fp16", FIX / "transformer_fp16")],
         LARGE / "transformer_xnnpack", LARGE / "transformer_onnx"),
    ]
    return rows


QUANT_ROWS = [
    # (baseline fp16 case, [quantized cases])
    ("transformer_fp16", ["transformer_int4_pergroup32", "transformer_palettize_uint4",
                          "transformer_palettize_uint3", "transformer_int8_peraxis"]),
    ("mobilenet_v2_fp16", ["mobilenet_v2_palettize_uint4", "mobilenet_v2_palettize_uint3"]),
]


def run_cml(cml, model, inp, threads, warmup, iterations):
    cmd = [str(cml), "bench", str(model), "--threads", str(threads), "--warmup", str(warmup),
           "--iterations", str(iterations), "--json"]
    if inp is not None:
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


def run_peer(runtime, model, inp, expected, threads, warmup, iterations):
    cmd = [sys.executable, str(Path(__file__).resolve()), "one", "--runtime", runtime, "--model", str(model),
           "--input", str(inp), "--threads", str(threads), "--warmup", str(warmup), "--iterations", str(iterations)]
    if expected is not None and Path(expected).exists():
        cmd += ["--expected", str(expected)]
    env = dict(os.environ, TQDM_DISABLE="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"runtime": runtime, "model": str(model), "threads": threads,
                "error": (p.stderr or p.stdout).strip()[-600:], "returncode": p.returncode}
    return json.loads(lines[-1])


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


def markdown(results) -> str:
    out = []
    s = results["settings"]
    la = lambda k: "/".join(f"{x:.1f}" for x in results.get(k, ())) or "?"
    out.append(f"warmup {s['warmup']}, iterations {s['iterations']}, threads {', '.join(map(str, s['threads']))}; "
               f"latency in ms, RSS in MB; load average (1/5/15 min) {la('loadavg_start')} at start, "
               f"{la('loadavg_end')} at end.\n")
    out.append("| model | runtime | threads | load ms | median ms | p90 ms | min ms | peak RSS MB | pre-load RSS MB | peak − pre-load MB | max abs err |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results["latency"]:
        label = r["label"]
        if "error" in r:
            out.append(f"| {label} | {r['runtime_label']} | {r['threads']} | failed: {r['error'].splitlines()[-1][:120]} |||||||| |")
            continue
        pre = r.get("pre_load_rss_mb")
        delta = (r["peak_rss_mb"] - pre) if pre is not None else None
        err = r.get("max_abs_err")
        out.append(
            f"| {label} | {r['runtime_label']} | {r['threads']} | {fmt(r.get('load_ms'), 1)} | {fmt(r['median_ms'], 3)} | "
            f"{fmt(r['p90_ms'], 3)} | {fmt(r['min_ms'], 3)} | {fmt(r['peak_rss_mb'], 1)} | {fmt(pre, 1)} | {fmt(delta, 1)} | "
            f"{'–' if err is None else f'{err:.1e}'} |")
    out.append("")
    out.append("Quantized vs fp16 under cml (peak RSS of `cml bench`, threads 1; median of "
               f"{s.get('rss_repeats', 1)} processes, [min-max] in brackets):\n")
    out.append("| fixture | status | load ms | median ms | peak RSS MB | fp16 peak RSS MB | below fp16? | model.pte MB |")
    out.append("|---|---|---:|---:|---:|---:|---|---:|")
    rng = lambda v: "" if not v else f" [{v[0]:.2f}-{v[-1]:.2f}]"
    for r in results["quantized"]:
        size = r.get("pte_mb")
        if "error" in r:
            msg = r["error"].splitlines()[-1].replace("|", "/")[:160]
            out.append(f"| {r['case']} | fails: {msg} | – | – | – | {fmt(r.get('fp16_peak_rss_mb'), 2)} | – | {fmt(size, 2)} |")
        else:
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
    return "\n".join(out) + "\n"


def run_suite(a) -> int:
    import numpy as np

    cml = Path(a.cml)
    if not cml.exists():
        print(f"error: {cml} not found (make build)", file=sys.stderr)
        return 2
    threads = [int(t) for t in a.threads.split(",")]
    results = {"settings": {"warmup": a.warmup, "iterations": a.iterations, "threads": threads,
                            "rss_repeats": a.rss_repeats},
               "machine": machine(), "versions": versions(cml),
               "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_start": os.getloadavg(),
               "latency": [], "quantized": []}
    missing = []
    for label, cml_cases, xnn_dir, onnx_dir in ([] if a.quant_only else model_rows()):
        ref_in = cml_cases[0][1] / "input_0.npy"
        if not ref_in.exists():
            missing.append(str(ref_in))
            continue
        for d in (xnn_dir, onnx_dir):
            pin = d / "input_0.npy"
            if pin.exists() and not np.array_equal(np.load(pin), np.load(ref_in)):
                print(f"error: {pin} differs from {ref_in}: peers would not run the same input", file=sys.stderr)
                return 1
        expected = cml_cases[0][1] / "expected_0.npy"
        for t in threads:
            jobs = [(f"cml Core ML {prec}", lambda c=c, t=t: run_cml(cml, c / "model.pte", c / "input_0.npy", t, a.warmup, a.iterations))
                    for prec, c in cml_cases]
            jobs.append(("ExecuTorch+XNNPACK fp32", lambda t=t: run_peer("executorch", xnn_dir / "model.pte", ref_in, expected, t, a.warmup, a.iterations)))
            jobs.append(("onnxruntime CPU fp32", lambda t=t: run_peer("onnxruntime", onnx_dir / "model.onnx", ref_in, expected, t, a.warmup, a.iterations)))
            for rl, job in jobs:
                r = job()
                r["label"], r["runtime_label"], r["threads"] = label, rl, t
                results["latency"].append(r)
                msg = r.get("error", "").splitlines()[-1] if "error" in r else \
                    f"median {r['median_ms']:.3f} ms  p90 {r['p90_ms']:.3f}  min {r['min_ms']:.3f}  peak RSS {r['peak_rss_mb']:.1f} MB"
                print(f"  {label:38s} {rl:26s} t={t}  {msg}", flush=True)

    def quant(case, base_rss):
        # a.rss_repeats fresh processes; peak RSS varies by ~0.1-0.2 MB run to run
        runs = [run_cml(cml, FIX / case / "model.pte", FIX / case / "input_0.npy", 1, a.warmup, a.iterations)
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
            print(f"  {q:38s} " + (r["error"].splitlines()[-1][:150] if "error" in r else
                                    f"peak RSS {r['peak_rss_runs_mb']} MB (fp16 {b.get('peak_rss_runs_mb')} MB)"), flush=True)

    results["missing"] = missing
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results["loadavg_end"] = os.getloadavg()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = markdown(results)
    (out / "tables.md").write_text(md)
    print(md)
    print(f"wrote {out / 'results.json'} and {out / 'tables.md'}")
    if missing:
        print("missing inputs:", ", ".join(missing), file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("one")
    o.add_argument("--runtime", required=True, choices=["executorch", "onnxruntime"])
    o.add_argument("--model", required=True)
    o.add_argument("--input", required=True)
    o.add_argument("--expected")
    o.add_argument("--threads", type=int, default=1)
    o.add_argument("--warmup", type=int, default=10)
    o.add_argument("--iterations", type=int, default=50)
    s = sub.add_parser("suite")
    s.add_argument("--cml", default=str(ROOT / "build" / "cml"))
    s.add_argument("--threads", default="1,2")
    s.add_argument("--warmup", type=int, default=10)
    s.add_argument("--iterations", type=int, default=50)
    s.add_argument("--out", default=str(ROOT / "bench" / "out"))
    s.add_argument("--rss-repeats", type=int, default=5, help="processes per quantized/fp16 RSS figure (median)")
    s.add_argument("--quant-only", action="store_true", help="only the quantized-vs-fp16 RSS table")
    a = ap.parse_args()
    if a.cmd == "one":
        print(json.dumps(run_one(a)))
        return 0
    return run_suite(a)


if __name__ == "__main__":
    sys.exit(main())
