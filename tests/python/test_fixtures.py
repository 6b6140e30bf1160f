"""Every fixture case through both APIs: the .pte through cml.runtime
(executorch.runtime's API), and the Core ML package of every fully
delegated case (`cml extract`) through cml.models.MLModel (coremltools'
API), against the PyTorch eager outputs stored beside the model."""
import pytest

import cml
from cml.models import MLModel
from cml.runtime import Runtime
from fixture_cases import all_cases, extract_package, mismatch

CASES = all_cases()


def check_outputs(case, suffix, got, expected):
    assert len(got) == len(expected), f"{case.name}{suffix}: {len(got)} outputs"
    problems = []
    for i, (g, w) in enumerate(zip(got, expected)):
        why = mismatch(g, w, case.atol, case.rtol)
        if why:
            problems.append(f"{case.name}{suffix} output {i}: {why}")
    if problems and case.upstream_issue:
        pytest.xfail(f"known upstream conversion bug: {case.upstream_issue}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pte_runtime(case):
    program = Runtime.get(threads=2).load_program(case.pte)
    ran = 0
    for suffix, inputs, expected in case.sets():
        method = program.load_method(case.method_of(suffix))
        if suffix == ".call1":
            method.reset_state()  # the set starts from the initial state
        if case.expect_error:
            with pytest.raises(cml.Error, match=case.expect_error):
                method.execute(inputs)
        else:
            check_outputs(case, suffix, method.execute(inputs), expected)
        ran += 1
    assert ran, f"{case.name}: no input sets"


def package_io_order(case, package, program):
    """For each package input / output name, the index of the program's
    input file / expected output, matched by the feature names the .pte
    reports (a program's I/O named after its delegate's features)."""
    meta = program.load_method(case.method_of("")).metadata
    pte_in = [t.name for t in meta.inputs]
    pte_out = [t.name for t in meta.outputs]
    model = MLModel(package)
    if sorted(pte_in) != sorted(model.input_description):
        return None
    outs = [pte_out.index(n) if n in pte_out else k
            for k, n in enumerate(model.output_description)]
    return pte_in, outs


@pytest.mark.parametrize("case", [c for c in CASES if c.json.get("delegated")],
                         ids=lambda c: c.name)
def test_mlpackage_mlmodel(case, cml_cli, tmp_path_factory):
    package = extract_package(cml_cli, case, tmp_path_factory.mktemp("extract"))
    if package is None:
        pytest.skip("not a single Core ML package taking the program's inputs")
    program = Runtime.get().load_program(case.pte)
    order = package_io_order(case, package, program)
    if order is None:
        pytest.skip("the package takes other inputs than the program (weights as inputs)")
    pte_in, outs = order
    models, state = {}, None
    for suffix, inputs, expected in case.sets():
        function = case.method_of(suffix) if case.json.get("methods") else None
        if function not in models:
            models[function] = MLModel(package, compute_units=cml.ComputeUnit.CPU_ONLY,
                                       function_name=function, threads=2)
        model = models[function]
        if suffix == ".call1":
            state = model.make_state()
        feed = dict(zip(pte_in, inputs))
        if case.expect_error:
            with pytest.raises(cml.Error, match=case.expect_error):
                model.predict(feed)
            continue
        got = model.predict(feed, state=state if suffix.startswith(".call") else None)
        values = list(got.values())
        check_outputs(case, suffix, [values[outs.index(i)] for i in range(len(outs))], expected)
