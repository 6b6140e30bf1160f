"""The fixture cases of tests/fixtures (see tests/fixtures/README.md), as
the C suite reads them (tests/fixture_util.h, test_fixtures_cli.c): every
case.json with status "ok"; its `io` sets (suffix "", ".alt<k>",
".call<k>" or ".<method>"), inputs input_<i><suffix>.npy, expected outputs
expected_<i><suffix>.npy compared with numpy allclose semantics
(|got - want| <= atol + rtol * |want|, NaN matching NaN)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def cli_path():
    """The cml CLI (for `cml extract`): $CML_CLI, else build/cml."""
    path = os.environ.get("CML_CLI") or str(REPO / "build" / "cml")
    return path if os.access(path, os.X_OK) else None


class Case:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.name = directory.name
        self.json = json.loads((directory / "case.json").read_text())
        tol = self.json.get("tolerance") or {}
        self.atol = float(tol.get("atol", 1e-5))
        self.rtol = float(tol.get("rtol", 1e-5))
        self.expect_error = self.json.get("expect_error")
        self.upstream_issue = self.json.get("upstream_issue")
        self.pte = directory / "model.pte"

    def runnable(self) -> bool:
        return self.json.get("status") != "upstream-fails" and self.pte.exists()

    def method_of(self, suffix: str) -> str:
        methods = self.json.get("methods") or []
        if suffix.startswith(".") and suffix[1:] in methods:
            return suffix[1:]
        return self.json.get("method") or "forward"

    def sets(self):
        """(suffix, [input arrays], [expected arrays or None]) in io order."""
        for entry in self.json.get("io", []):
            inputs = [np.load(self.dir / i["file"]) for i in entry.get("inputs") or []]
            expected = [np.load(self.dir / e["file"]) for e in entry.get("expected") or []]
            yield entry["suffix"], inputs, expected

    def __repr__(self) -> str:
        return self.name


def all_cases():
    cases = [Case(d) for d in sorted(FIXTURES.iterdir()) if (d / "case.json").exists()]
    return [c for c in cases if c.runnable()]


def mismatch(got, want, atol, rtol):
    """None when got matches want within the tolerance, else a message."""
    got = np.asarray(got)
    if got.size != want.size:
        return f"{got.size} elements (shape {got.shape}), expected {want.size} {want.shape}"
    g = got.astype(np.float64).ravel()
    w = want.astype(np.float64).ravel()
    nan = np.isnan(g) | np.isnan(w)
    if np.any(np.isnan(g) != np.isnan(w)):
        return "NaN where the reference has none (or the reverse)"
    err = np.abs(g - w)
    bad = (err > atol + rtol * np.abs(w)) & ~nan
    if np.any(bad):
        return (f"{int(bad.sum())} of {g.size} elements off; max abs err "
                f"{float(err[~nan].max()):.3g} (atol {atol:g}, rtol {rtol:g})")
    return None


def inspect_json(cli, model):
    out = subprocess.run([cli, "inspect", "--json", str(model)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def extract_package(cli, case: Case, workdir: Path):
    """The .mlpackage of a case whose program is one Core ML delegate call
    and nothing else (as test_fixtures_cli's standalone scope picks), else
    None. A multi-method program qualifies when its methods share one
    multifunction package."""
    if not case.json.get("delegated"):
        return None
    doc = inspect_json(cli, case.pte)
    plans = doc.get("pte", {}).get("plans", [])
    for plan in plans:
        ins = plan.get("instructions", {})
        if ins.get("kernel_calls") != 0 or ins.get("delegate_calls") != 1:
            return None
    out = workdir / case.name
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([cli, "extract", str(case.pte), "-o", str(out)], capture_output=True,
                   check=True)
    packages = sorted(out.rglob("model.mlpackage"))
    return packages[0] if len(packages) == 1 else None
