"""1-D audio front end: cml against PyTorch CPU eager, one thread, same run.

The model is the `audio_conv1d` fixture (a CREPE-like pitch front end: a
1-channel conv1d with a 512-tap kernel, stride 4, on a [1, 1, 4096] waveform,
then a small conv, pooling and a linear head), lowered to Core ML by the
pinned toolchain. PyTorch runs the same architecture (same shapes and FLOPs;
its own random weights) in eager mode. Rounds interleave the two so that
machine load affects both alike; the medians and their ratio are printed.

    python bench/audio_conv1d.py [--cml build/cml] [--rounds 5] [--iterations 200]

Needs torch (tools/fixtures/requirements.txt), e.g. with
.venv-fixtures/bin/python.
"""
import argparse
import re
import statistics
import subprocess
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/fixtures/audio_conv1d/model.pte"


class AudioConv1d(nn.Module):
    """The fixture's architecture (tools/fixtures/generate.py)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 16, 512, stride=4, padding=254)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(16, 16, 16, padding=8)
        self.fc = nn.Linear(16, 64)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        h = torch.relu(self.conv2(h)).mean(dim=-1)
        return torch.sigmoid(self.fc(h))


def torch_median_ms(model, x, iterations):
    with torch.no_grad():
        for _ in range(10):
            model(x)
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def cml_median_ms(cml, iterations):
    out = subprocess.run([cml, "bench", str(FIXTURE), "--threads", "1", "--warmup", "10",
                          "--iterations", str(iterations)], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"latency:\s+median ([0-9.]+) (ms|us)", out)
    value = float(m.group(1))
    return value / 1e3 if m.group(2) == "us" else value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cml", default=str(ROOT / "build/cml"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = AudioConv1d().eval()
    x = torch.randn(1, 1, 4096)
    t_torch, t_cml = [], []
    for _ in range(args.rounds):
        t_torch.append(torch_median_ms(model, x, args.iterations))
        t_cml.append(cml_median_ms(args.cml, args.iterations))
    mt, mc = statistics.median(t_torch), statistics.median(t_cml)
    print("audio_conv1d [1,1,4096], 1 thread, median of %d rounds of %d runs" %
          (args.rounds, args.iterations))
    print("  pytorch %s eager: %.3f ms" % (torch.__version__, mt))
    print("  cml:              %.3f ms" % mc)
    print("  ratio cml/pytorch: %.2f" % (mc / mt))


if __name__ == "__main__":
    main()
