"""Call overhead of the Python package over the C execute, on one model.

Times, in the same run and interleaved over several rounds:
  C:      `cml bench MODEL --threads N --iterations I --input X --json`
          (cml_method_execute alone, the input set once), min and median;
  Python: cml.runtime's Method.execute([x]) on the same model, input and
          thread count (binds the numpy input without a copy, executes with
          the GIL released, copies the outputs into new numpy arrays), each
          call timed with time.perf_counter_ns, min and median;
and reports the overhead (Python - C) of the min and of the median.

Run it with the Python that has cml installed, e.g. after `make test`:
  build/venv-python/bin/python bench/python_overhead.py --cml build/cml
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cml.runtime import Runtime

REPO = Path(__file__).resolve().parents[1]


def c_times(args):
    cmd = [args.cml, "bench", args.model, "--threads", str(args.threads), "--warmup",
           str(args.warmup), "--iterations", str(args.iterations), "--input", args.input,
           "--json"]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return out["min_ms"] * 1e3, out["median_ms"] * 1e3


def py_times(method, x, args):
    execute = method.execute
    for _ in range(args.warmup):
        execute([x])
    t = []
    clock = time.perf_counter_ns
    for _ in range(args.iterations):
        t0 = clock()
        execute([x])
        t.append(clock() - t0)
    return min(t) / 1e3, statistics.median(t) / 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cml", default=str(REPO / "build" / "cml"))
    p.add_argument("--model", default=str(REPO / "tests" / "fixtures" / "mlp" / "model.pte"))
    p.add_argument("--input", default=str(REPO / "tests" / "fixtures" / "mlp" / "input_0.npy"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--iterations", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    method = Runtime.get(threads=args.threads).load_program(args.model).load_method("forward")
    x = np.load(args.input)
    c_min, c_med, py_min, py_med = [], [], [], []
    for _ in range(args.rounds):  # interleaved: machine load hits both alike
        a, b = c_times(args)
        c_min.append(a)
        c_med.append(b)
        a, b = py_times(method, x, args)
        py_min.append(a)
        py_med.append(b)
    r = {
        "model": args.model, "threads": args.threads, "iterations": args.iterations,
        "rounds": args.rounds,
        "c_min_us": min(c_min), "c_median_us": statistics.median(c_med),
        "python_min_us": min(py_min), "python_median_us": statistics.median(py_med),
    }
    r["overhead_min_us"] = r["python_min_us"] - r["c_min_us"]
    r["overhead_median_us"] = r["python_median_us"] - r["c_median_us"]
    if args.json:
        print(json.dumps(r, indent=1))
    else:
        print(f"{Path(args.model).parent.name}, {args.threads} thread(s), "
              f"{args.rounds} rounds x {args.iterations} calls")
        print(f"  C execute (cml bench):   min {r['c_min_us']:.2f} us, "
              f"median {r['c_median_us']:.2f} us")
        print(f"  Python Method.execute:   min {r['python_min_us']:.2f} us, "
              f"median {r['python_median_us']:.2f} us")
        print(f"  overhead:                min {r['overhead_min_us']:.2f} us, "
              f"median {r['overhead_median_us']:.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
