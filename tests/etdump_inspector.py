"""`cml run --etdump` files load in ExecuTorch's devtools Inspector.

usage: python etdump_inspector.py CML_CLI FIXTURE_DIR WORK_DIR

Runs the CLI on delegated fixtures (a whole-model Core ML delegate, and a
program with two delegates around a portable aten op), twice each (--call),
and reads the ETDump with the pinned executorch's Inspector: every run
becomes one "Execute" block whose events carry the runtime's names
(Method::execute, DELEGATE_CALL, OPERATOR_CALL, native_call_<op>) and,
for each Core ML op, a delegated event keyed by the op's debug symbol
"<output>:<op type>" (what the payload's debug_info.json maps to debug
handles). Then it exports a small partially delegated program itself with
an ETRecord and checks that the Inspector maps each Core ML op event to the
exported graph's aten nodes. Exits 77 (ctest SKIP_RETURN_CODE) when
executorch is missing.
"""

import json
import os
import subprocess
import sys

SKIP = 77


def load_inspector():
    try:
        from executorch.devtools import Inspector  # noqa: F401
    except Exception as e:  # any import failure means "no toolchain here"
        print(f"skipped: executorch devtools not importable ({e})")
        sys.exit(SKIP)
    return Inspector


def run_cli(cli, fixture, etdump, calls):
    model = os.path.join(fixture, "model.pte")
    x = os.path.join(fixture, "input_0.npy")
    args = [cli, "run", model, "--input", x, "--etdump", etdump]
    for _ in range(calls - 1):
        args += ["--call", "--input", x]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def payload_symbols(cli, fixture, work):
    """Debug symbols of every delegate's debug_info.json (cml extract)."""
    out = os.path.join(work, "extract_" + os.path.basename(fixture))
    subprocess.run([cli, "extract", os.path.join(fixture, "model.pte"), "-o", out],
                   check=True, stdout=subprocess.DEVNULL)
    symbols = set()
    for root, _, files in os.walk(out):
        if "debug_info.json" in files:
            with open(os.path.join(root, "debug_info.json")) as f:
                symbols |= set(json.load(f)["debugSymbolToHandles"])
    return symbols


def check(Inspector, cli, fixture, work, want_ops, want_delegate_instrs):
    name = os.path.basename(fixture)
    etdump = os.path.join(work, name + ".etdp")
    calls = 2
    run_cli(cli, fixture, etdump, calls)
    inspector = Inspector(etdump_path=etdump)
    blocks = inspector.event_blocks
    assert len(blocks) == 1 and blocks[0].name == "Execute", [b.name for b in blocks]
    events = blocks[0].events
    by_name = {}
    for e in events:
        assert e.perf_data is not None, e.name
        assert len(e.perf_data.raw) == calls, (e.name, e.perf_data.raw)
        assert all(t >= 0 for t in e.perf_data.raw), (e.name, e.perf_data.raw)
        by_name.setdefault(e.name, []).append(e)

    execute = by_name["Method::execute"][0]
    assert all(t > 0 for t in execute.perf_data.raw)
    delegate_calls = by_name["DELEGATE_CALL"]
    assert sorted(e._instruction_id for e in delegate_calls) == want_delegate_instrs
    for e in delegate_calls:
        assert all(t > 0 for t in e.perf_data.raw), e.perf_data.raw
        assert not e.is_delegated_op

    delegated = [e for e in events if e.is_delegated_op]
    symbols = {e.delegate_debug_identifier for e in delegated}
    assert symbols == want_ops, symbols
    assert symbols <= payload_symbols(cli, fixture, work), symbols
    assert any(t > 0 for e in delegated for t in e.perf_data.raw)
    # The ops of a delegate call run inside it, in every run.
    for call in delegate_calls:
        inside = [e for e in delegated if e._instruction_id == call._instruction_id]
        assert inside, call._instruction_id
        for k in range(calls):
            ops = sum(e.perf_data.raw[k] for e in inside)
            assert ops <= call.perf_data.raw[k] * 1.0001, (ops, call.perf_data.raw[k])
    return by_name


def export_with_etrecord(work):
    """A program exported here with an ETRecord: linear -> Core ML, sigmoid
    kept portable, relu + linear -> Core ML (as partial_delegation)."""
    import numpy as np
    import torch
    from executorch.backends.apple.coreml.partition import CoreMLPartitioner
    from executorch.exir import to_edge_transform_and_lower

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(8, 8)
            self.b = torch.nn.Linear(8, 4)

        def forward(self, x):
            return self.b(torch.sigmoid(self.a(x)).relu())

    torch.manual_seed(0)
    x = torch.randn(2, 8)
    ep = torch.export.export(Model().eval(), (x,))
    part = CoreMLPartitioner(skip_ops_for_coreml_delegation=["aten.sigmoid.default"])
    edge = to_edge_transform_and_lower(ep, partitioner=[part], generate_etrecord=True)
    program = edge.to_executorch()
    fixture = os.path.join(work, "etrecord_case")
    os.makedirs(fixture, exist_ok=True)
    with open(os.path.join(fixture, "model.pte"), "wb") as f:
        f.write(program.buffer)
    np.save(os.path.join(fixture, "input_0.npy"), x.numpy())
    etrecord = os.path.join(fixture, "model.etrecord")
    program.get_etrecord().save(etrecord)
    return fixture, etrecord


def check_etrecord(Inspector, cli, work):
    """With the ETRecord, the Inspector maps every Core ML op event through
    the delegate's debug-handle map to the exported graph's aten nodes."""
    fixture, etrecord = export_with_etrecord(work)
    etdump = os.path.join(work, "etrecord_case.etdp")
    run_cli(cli, fixture, etdump, 1)
    events = Inspector(etdump_path=etdump, etrecord=etrecord).event_blocks[0].events
    delegated = [e for e in events if e.is_delegated_op]
    assert delegated
    for e in delegated:
        assert e.delegate_backend_name == "CoreMLBackend", e.name
        assert e.debug_handles, e.name
        assert e.op_types and all(t.startswith("aten.") for t in e.op_types), (e.name, e.op_types)
    ops = {t for e in delegated for t in e.op_types}
    assert {"aten.linear.default", "aten.relu.default"} <= ops, ops
    kernel = [e for e in events if e.name == "OPERATOR_CALL"]
    assert len(kernel) == 1 and kernel[0].op_types == ["aten.sigmoid.default"], kernel


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cli, fixtures, work = sys.argv[1:]
    Inspector = load_inspector()
    os.makedirs(work, exist_ok=True)
    check(Inspector, cli, os.path.join(fixtures, "mlp"), work,
          {"aten_linear_default:linear", "aten_relu_default:relu",
           "aten_linear_default_1:linear", "aten_softmax_int:softmax"}, [0])
    by_name = check(Inspector, cli, os.path.join(fixtures, "partial_delegation"), work,
                    {"aten_linear_default:linear", "aten_relu_default:relu",
                     "aten_linear_default_1:linear"}, [0, 2])
    # The portable op between the two delegates: both of the runtime's events.
    for name in ("OPERATOR_CALL", "native_call_sigmoid.out"):
        assert [e._instruction_id for e in by_name[name]] == [1], name
        assert not by_name[name][0].is_delegated_op
    check_etrecord(Inspector, cli, work)
    print("etdump-inspector-ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
