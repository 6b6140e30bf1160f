#!/usr/bin/env python3
"""Acceptance of `cml lower` output by upstream readers (issue 14).

    PYTHON tests/lower_accept.py CML_BINARY FIXTURES_DIR WORK_DIR

For every case below, runs `cml lower` on a portable fixture and checks
OUT.pte with upstream's own code:
  1. executorch's deserializer (exir._serialize._program.deserialize_pte_binary)
     loads it and finds CoreMLBackend delegates with the four compile specs;
  2. executorch's extract_coreml_models() (examples/apple/coreml/scripts,
     which unflattens with the executorchcoreml pybind module) extracts every
     payload;
  3. coremltools loads each extracted .mlpackage spec (utils.load_spec) and
     its milproto loader rebuilds the MIL program without error; spec
     version and opset match the requested deployment target; with
     --quantize, its constexpr_affine_dequantize (int8) or
     constexpr_blockwise_shift_scale (int4) ops hold data in range that
     coremltools' own value inference decompresses; with --palettize, its
     constexpr_lut_to_dense ops decompress to at most 2^bits values per
     group of output channels.
Exit 0 on success, 1 on failure, 77 (skip) when executorch / coremltools
cannot be imported.
"""
import contextlib
import io

import numpy as np
import subprocess
import sys
from pathlib import Path

CASES = [
    ("portable_mlp", ["--compute-precision", "fp32"], 6, "float32"),
    ("portable_mlp", ["--compute-precision", "fp16", "--compute-units", "cpu_only"], 6, "float16"),
    ("portable_mlp", ["--min-deployment-target", "iOS17"], 8, "float16"),
    ("portable_mlp", ["--min-deployment-target", "iOS18", "--compute-precision", "fp32"], 9, "float32"),
    ("portable_mlp", ["--skip-ops", "aten::relu", "--compute-precision", "fp32"], 6, "float32"),
    ("portable_small_cnn", ["--compute-precision", "fp32"], 6, "float32"),
    ("portable_elementwise", ["--compute-precision", "fp32"], 6, "float32"),
    ("llm_kv_portable", ["--compute-precision", "fp32"], 6, "float32"),
    ("portable_small_cnn", ["--compute-precision", "fp16", "--min-deployment-target", "iOS16"], 7,
     "float16"),
    ("portable_small_cnn", ["--skip-ops", "aten::hardtanh", "--compute-units", "cpu_and_ne"], 6,
     "float16"),
    ("portable_mlp", ["--quantize", "int8", "--min-deployment-target", "iOS16",
                      "--compute-precision", "fp32"], 7, "float32"),
    ("portable_small_cnn", ["--quantize", "int8", "--weight-threshold", "0",
                            "--min-deployment-target", "iOS17"], 8, "float16"),
    ("portable_mlp", ["--quantize", "int4", "--min-deployment-target", "iOS18",
                      "--compute-precision", "fp32"], 9, "float32"),
    ("portable_small_cnn", ["--quantize", "int4", "--block-size", "0", "--weight-threshold", "0",
                            "--min-deployment-target", "iOS18"], 9, "float16"),
    ("portable_transformer", ["--compute-precision", "fp32"], 6, "float32"),
    ("portable_transformer", ["--skip-ops", "aten::any"], 6, "float16"),
    ("portable_lstm", ["--compute-precision", "fp32"], 6, "float32"),
    ("portable_lstm", ["--min-deployment-target", "iOS17"], 8, "float16"),
    ("portable_transformer", ["--min-deployment-target", "iOS18", "--quantize", "int4"], 9,
     "float16"),
    ("portable_mlp", ["--palettize", "4", "--group-size", "16", "--min-deployment-target",
                      "iOS18", "--compute-precision", "fp32"], 9, "float32"),
    ("portable_small_cnn", ["--palettize", "3", "--weight-threshold", "0",
                            "--min-deployment-target", "iOS18"], 9, "float16"),
    ("portable_mlp", ["--palettize", "6", "--group-size", "8", "--min-deployment-target",
                      "iOS18"], 9, "float16"),
]


def check(cml, fixtures, work, i, case, args, spec_version, precision):
    from executorch.exir._serialize._program import deserialize_pte_binary
    from executorch.examples.apple.coreml.scripts.extract_coreml_models import (
        extract_coreml_models,
    )
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load as milproto_load

    out = work / f"{case}_{i}.pte"
    subprocess.run([cml, "lower", str(fixtures / case / "model.pte"), "-o", str(out), *args],
                   check=True, stdout=subprocess.DEVNULL)
    data = out.read_bytes()
    pte = deserialize_pte_binary(data)
    program = getattr(pte, "program", pte)
    delegates = [d for plan in program.execution_plan for d in plan.delegates]
    assert delegates, "no delegates"
    for d in delegates:
        assert d.id == "CoreMLBackend", d.id
        specs = {s.key: bytes(s.value).decode() for s in d.compile_specs}
        assert list(specs) == ["compute_units", "min_deployment_target",
                               "model_compute_precision", "model_type"], specs
        assert specs["model_compute_precision"] == precision, specs
        units = args[args.index("--compute-units") + 1] if "--compute-units" in args else "all"
        assert specs["compute_units"] == units, specs
        target = {6: "", 7: "7", 8: "8", 9: "9"}[spec_version]
        assert specs["min_deployment_target"] == target and specs["model_type"] == "model", specs
    ext = work / f"extracted_{i}"
    with contextlib.redirect_stdout(io.StringIO()):
        paths = extract_coreml_models(data, ext)
    packages = sorted(ext.rglob("model.mlpackage"))
    assert len(packages) == len(delegates), (paths, packages)
    compressed = 0
    for pkg in packages:
        spec = ct.utils.load_spec(str(pkg))
        assert spec.specificationVersion == spec_version, spec.specificationVersion
        weights = pkg / "Data" / "com.apple.CoreML" / "weights"
        prog = milproto_load(spec, specification_version=spec.specificationVersion,
                             file_weights_dir=str(weights))
        nops = sum(len(f.operations) for f in prog.functions.values())
        prog.validate()
        assert nops > 0
        if "--palettize" in args:
            bits = int(args[args.index("--palettize") + 1])
            g = int(args[args.index("--group-size") + 1]) if "--group-size" in args else 0
            luts = [op for f in prog.functions.values() for op in f.operations
                    if op.op_type == "constexpr_lut_to_dense"]
            compressed += len(luts)
            for op in luts:
                v = op.materialized_val_inference()
                assert v.shape == op.outputs[0].shape and np.isfinite(v).all(), op.name
                rows = v.shape[0]
                gs = g if g and rows % g == 0 else rows
                for q in range(rows // gs):  # at most 2^bits values per group
                    assert len(np.unique(v[q * gs:(q + 1) * gs])) <= 2 ** bits, op.name
        if "--quantize" in args:
            # coremltools' own value inference decompresses each weight
            int4 = args[args.index("--quantize") + 1] == "int4"
            kind = "constexpr_blockwise_shift_scale" if int4 else "constexpr_affine_dequantize"
            deq = [op for f in prog.functions.values() for op in f.operations
                   if op.op_type == kind]
            compressed += len(deq)
            for op in deq:
                v = op.materialized_val_inference()
                assert v.shape == op.outputs[0].shape and np.isfinite(v).all(), op.name
                q = op.data.val if int4 else op.quantized_data.val
                assert q.dtype == np.int8 and q.min() >= (-8 if int4 else -127), (q.dtype, q.min())
                assert q.max() <= (7 if int4 else 127), q.max()
        print(f"ok {case} {' '.join(args)}: {pkg.relative_to(work)} spec {spec_version}, "
              f"{nops} MIL ops")
    if "--quantize" in args or "--palettize" in args:
        assert compressed > 0, "no compressed weight in any package"


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    cml, fixtures, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            import coremltools  # noqa: F401
            import executorch.exir._serialize._program  # noqa: F401
            from executorch.examples.apple.coreml.scripts import extract_coreml_models  # noqa: F401
    except ImportError as e:
        print(f"SKIP: upstream readers not importable ({e})")
        return 77
    work.mkdir(parents=True, exist_ok=True)
    for i, (case, args, spec_version, precision) in enumerate(CASES):
        check(cml, fixtures, work, i, case, args, spec_version, precision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
