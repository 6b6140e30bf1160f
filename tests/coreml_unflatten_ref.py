#!/usr/bin/env python3
"""Reference extraction of the Core ML payloads of every delegated fixture,
made by upstream's own code: executorch's extract_coreml_models() (which
unflattens with the executorchcoreml pybind module), so that cml's
extraction can be compared with it byte for byte.

    .venv-fixtures/bin/python tests/coreml_unflatten_ref.py OUT_DIR [FIXTURES_DIR]
    CML_COREML_REF_DIR=OUT_DIR build/test_coreml_fixtures

writes OUT_DIR/<case>/model_<n>/<root>/... (or OUT_DIR/<case>/<named data
key>/... for CMJR payloads), the layout cml_coreml_extract() produces for
OUT_DIR/<case>. Needs a Python with executorch (and so torch) installed.
"""
import contextlib
import io
import json
import os
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_root = Path(sys.argv[1])
    fixtures = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "fixtures"
    try:
        from executorch.examples.apple.coreml.scripts.extract_coreml_models import (
            extract_coreml_models,
        )
    except ImportError as e:  # pragma: no cover - environment dependent
        print(f"executorch is not importable ({e}); use the toolchain venv", file=sys.stderr)
        return 2
    count = 0
    for case_dir in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        case_json = case_dir / "case.json"
        pte = case_dir / "model.pte"
        if not case_json.exists() or not pte.exists():
            continue
        if not json.loads(case_json.read_text()).get("delegated"):
            continue
        out = out_root / case_dir.name
        out.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):
            paths = extract_coreml_models(pte.read_bytes(), out)
        print(f"{case_dir.name}: {len(paths)} payload(s) -> {out}")
        count += 1
    print(f"{count} delegated fixtures extracted with upstream unflatten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
