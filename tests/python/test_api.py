"""Behaviour of both APIs beyond the fixture numbers: input forms and
conversions, metadata, state, threads and the GIL, torch, and errors as
Python exceptions (never crashes)."""
import io
import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import cml
from cml.models import MLModel
from cml.runtime import Runtime
from fixture_cases import FIXTURES, extract_package, Case

MLP = FIXTURES / "mlp"


@pytest.fixture(scope="module")
def mlp():
    return Runtime.get(threads=1).load_program(MLP / "model.pte").load_method("forward")


@pytest.fixture(scope="module")
def mlp_x():
    return np.load(MLP / "input_0.npy")


@pytest.fixture(scope="module")
def mlp_want(mlp, mlp_x):
    return mlp.execute([mlp_x])[0]


def package(cml_cli, tmp_path_factory, name):
    pkg = extract_package(cml_cli, Case(FIXTURES / name), tmp_path_factory.mktemp(name))
    assert pkg is not None
    return pkg


@pytest.fixture(scope="module")
def mlp_package(cml_cli, tmp_path_factory):
    return package(cml_cli, tmp_path_factory, "mlp")


# ---- API 1: cml.runtime --------------------------------------------------

def test_runtime_get_is_cached_per_thread_count():
    assert Runtime.get() is Runtime.get()
    assert Runtime.get(threads=2) is Runtime.get(threads=2)
    assert Runtime.get(threads=2) is not Runtime.get(threads=1)
    assert Runtime.get(threads=3).threads == 3
    with pytest.raises(ValueError):
        Runtime.get(threads=-1)


@pytest.mark.parametrize("form", ["str", "path", "bytes", "bytearray", "file"])
def test_load_program_forms(form, mlp_x, mlp_want):
    path = MLP / "model.pte"
    data = {"str": str(path), "path": path, "bytes": path.read_bytes(),
            "bytearray": bytearray(path.read_bytes()),
            "file": io.BytesIO(path.read_bytes())}[form]
    program = Runtime.get().load_program(data)
    assert program.method_names == {"forward"}
    out = program.load_method("forward").execute([mlp_x])
    np.testing.assert_array_equal(out[0], mlp_want)


def test_metadata_names_dtypes_shapes(mlp):
    meta = mlp.metadata
    assert meta.name() == "forward"
    assert (meta.num_inputs(), meta.num_outputs()) == (1, 1)
    x = meta.input_tensor_meta(0)
    assert (x.name, x.sizes(), x.dtype(), x.dtype_name) == ("x", (2, 64), 6, "float32")
    assert x.numpy_dtype == np.float32 and x.nbytes() == 2 * 64 * 4
    assert meta.output_tensor_meta(0).sizes() == (2, 32)
    with pytest.raises(IndexError):
        meta.input_tensor_meta(1)
    assert "x" in repr(meta)


def test_metadata_ranges_and_enumerations():
    rt = Runtime.get()
    dyn = rt.load_program(FIXTURES / "dynamic_shapes" / "model.pte").load_method("forward")
    x = dyn.metadata.input_tensor_meta(0)
    assert x.is_dynamic and x.min_sizes[0] == 2 and x.max_sizes[0] == 8
    enum = rt.load_program(FIXTURES / "enumerated_shapes" / "model.pte").load_method("forward")
    shapes = enum.metadata.input_tensor_meta(0).enumerated_shapes
    assert sorted(shapes) == [(1, 5, 10), (4, 6, 10)]


def test_outputs_own_their_memory(mlp, mlp_x, mlp_want):
    a = mlp.execute([mlp_x])[0]
    b = mlp.execute([mlp_x * 2])[0]
    assert a.flags.owndata and b.flags.owndata
    np.testing.assert_array_equal(a, mlp_want)  # not overwritten by the next call
    assert not np.array_equal(a, b)


def test_input_layouts(mlp, mlp_x, mlp_want):
    fortran = np.asfortranarray(mlp_x)
    strided = np.repeat(mlp_x, 2, axis=1)[:, ::2]
    readonly = mlp_x.copy()
    readonly.flags.writeable = False
    swapped = mlp_x.astype(">f4")
    for x in (fortran, strided, readonly, swapped, mlp_x.tolist()):
        np.testing.assert_array_equal(mlp.execute([x])[0], mlp_want)
    np.testing.assert_array_equal(mlp.execute((mlp_x,))[0], mlp_want)


def test_contiguous_input_is_bound_not_copied(mlp, mlp_x):
    """The method reads a C-contiguous input of the right dtype in place: it
    holds that very array (until the next execute), not a copy."""
    x = mlp_x.copy()
    before = sys.getrefcount(x)
    mlp.execute([x])
    assert sys.getrefcount(x) == before + 1
    mlp.execute([mlp_x.copy()])
    assert sys.getrefcount(x) == before
    f = np.asfortranarray(x)  # converted: the method holds the copy, not f
    before = sys.getrefcount(f)
    mlp.execute([f])
    assert sys.getrefcount(f) == before
    r = x.copy()  # read-only: copied in (a program may write to its inputs)
    r.flags.writeable = False
    before = sys.getrefcount(r)
    mlp.execute([r])
    assert sys.getrefcount(r) == before


def test_reset_state_restores_initial_state():
    case = FIXTURES / "stateful_states"
    method = Runtime.get().load_program(case / "model.pte").load_method("forward")
    x1 = np.load(case / "input_0.call1.npy")
    first = method.execute([x1])[0]
    second = method.execute([x1])[0]
    assert not np.allclose(first, second)  # the state carried over
    method.reset_state()
    np.testing.assert_array_equal(method.execute([x1])[0], first)


def test_execute_releases_the_gil():
    """While execute runs in one thread, another thread runs Python. The
    switch interval is made long, so without a release inside execute the
    executing thread would keep the GIL through all its calls."""
    case = FIXTURES / "flexible_batch"  # batch 256: about 40 ms per execute
    method = Runtime.get(threads=1).load_program(case / "model.pte").load_method("forward")
    x = np.random.default_rng(0).random((256, 3, 32, 32), np.float32)
    method.execute([x])
    counter = [0]
    done = threading.Event()
    overlapped = []

    def work():
        for _ in range(3):
            before = counter[0]
            method.execute([x])
            overlapped.append(counter[0] > before)
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    try:
        t = threading.Thread(target=work)
        t.start()
        while not done.is_set():
            counter[0] += 1
        t.join()
    finally:
        sys.setswitchinterval(interval)
    assert any(overlapped), overlapped


def test_threads_share_a_program():
    program = Runtime.get(threads=1).load_program(MLP / "model.pte")
    x = np.load(MLP / "input_0.npy")
    want = program.load_method("forward").execute([x])[0]
    method = program.load_method("forward")
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(method.execute([x])[0])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 60
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_torch_tensors_in_and_out(mlp, mlp_x, mlp_want):
    torch = pytest.importorskip("torch")
    out = mlp.execute([torch.from_numpy(mlp_x)])
    assert isinstance(out[0], torch.Tensor)
    np.testing.assert_array_equal(out[0].numpy(), mlp_want)
    grad = torch.from_numpy(mlp_x).requires_grad_(True)
    np.testing.assert_array_equal(mlp.execute([grad])[0].numpy(), mlp_want)
    with pytest.raises(ValueError, match="'x'.*float32"):
        mlp.execute([torch.from_numpy(mlp_x).double()])


# ---- errors --------------------------------------------------------------

def test_wrong_shape_names_the_input(mlp, mlp_x):
    with pytest.raises(ValueError, match=r"input 'x'.*\[3, 64\].*expected \[2, 64\]"):
        mlp.execute([np.zeros((3, 64), np.float32)])
    with pytest.raises(ValueError, match=r"input 'x'.*expected \[2, 64\]"):
        mlp.execute([mlp_x[0]])


def test_wrong_dtype_names_the_input(mlp, mlp_x):
    with pytest.raises(ValueError, match="input 'x': expected dtype float32, got float64"):
        mlp.execute([mlp_x.astype(np.float64)])
    with pytest.raises(cml.InputError):
        mlp.execute([mlp_x.astype(np.int32)])


def test_wrong_input_count(mlp, mlp_x):
    with pytest.raises(ValueError, match="expected 1 inputs, got 2"):
        mlp.execute([mlp_x, mlp_x])
    with pytest.raises(TypeError):
        mlp.execute(None)


def test_dynamic_shape_out_of_range():
    method = Runtime.get().load_program(
        FIXTURES / "dynamic_shapes" / "model.pte").load_method("forward")
    x = np.load(FIXTURES / "dynamic_shapes" / "input_0.npy")
    with pytest.raises(ValueError, match=r"input '.*'.*\[9, .*expected \[2\.\.8, "):
        method.execute([np.zeros((9,) + x.shape[1:], np.float32)])


def test_missing_files():
    with pytest.raises(FileNotFoundError):
        Runtime.get().load_program("/nonexistent/model.pte")
    with pytest.raises(FileNotFoundError):
        MLModel("/nonexistent/model.mlpackage")


def test_corrupt_program(tmp_path):
    data = (MLP / "model.pte").read_bytes()
    with pytest.raises(cml.Error, match="exceeds the file size") as e:
        Runtime.get().load_program(data[: len(data) // 2])
    assert e.value.status == "corrupt model file"
    bad = tmp_path / "bad.pte"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(cml.Error):
        Runtime.get().load_program(bad)
    with pytest.raises(cml.Error):
        Runtime.get().load_program(b"")


def test_unsupported_op_in_program():
    data = (FIXTURES / "portable_mlp" / "model.pte").read_bytes()
    renamed = data.replace(b"aten::relu\0", b"aten::reLU\0")
    assert renamed != data
    program = Runtime.get().load_program(renamed)
    with pytest.raises(cml.Error, match="not implemented: aten::reLU") as e:
        program.load_method("forward")
    assert e.value.status == "unsupported"


def test_unknown_method():
    program = Runtime.get().load_program(MLP / "model.pte")
    with pytest.raises(KeyError):
        program.load_method("backward")


# ---- API 2: cml.models.MLModel ---------------------------------------------

def test_mlmodel_descriptions(mlp_package):
    m = MLModel(mlp_package)
    assert list(m.input_description) == ["x"] and "x" in m.input_description
    assert len(m.output_description) == 1
    x = m.input_description["x"]
    assert (x.dtype, x.shape) == (np.float32, (2, 64))
    assert repr(m.input_description) == "Features(x)"
    with pytest.raises(KeyError):
        m.input_description["y"]


def test_mlmodel_casts_inputs_to_the_declared_dtype(mlp_package, mlp_x):
    m = MLModel(mlp_package, compute_units=cml.ComputeUnit.CPU_ONLY, threads=1)
    name = list(m.output_description)[0]
    half = mlp_x.astype(np.float16)
    want = m.predict({"x": half.astype(np.float32)})[name]
    np.testing.assert_array_equal(m.predict({"x": half})[name], want)
    np.testing.assert_array_equal(m.predict({"x": mlp_x.astype(np.float64)})[name],
                                  m.predict({"x": mlp_x})[name])


def test_mlmodel_errors(mlp_package, mlp_x):
    m = MLModel(mlp_package)
    with pytest.raises(ValueError, match=r"input 'x'.*expected \[2, 64\]"):
        m.predict({"x": np.zeros((2, 63), np.float32)})
    with pytest.raises(ValueError, match="missing input"):
        m.predict({})
    with pytest.raises(KeyError):
        m.predict({"x": mlp_x, "y": mlp_x})
    with pytest.raises(TypeError):
        m.predict(mlp_x)
    with pytest.raises(ValueError, match="main"):
        MLModel(mlp_package, function_name="other")
    MLModel(mlp_package, function_name="main")


def test_mlmodel_unsupported_op(mlp_package, tmp_path):
    bad = tmp_path / "bad.mlpackage"
    shutil.copytree(mlp_package, bad)
    spec = bad / "Data" / "com.apple.CoreML" / "model.mlmodel"
    data = spec.read_bytes()
    spec.write_bytes(data.replace(b"softmax", b"softmaZ"))
    with pytest.raises(cml.Error, match="softmaZ.*not supported"):
        MLModel(bad)
    spec.write_bytes(data[: len(data) // 3])
    with pytest.raises(cml.Error):
        MLModel(bad)


def test_mlmodel_multifunction(cml_cli, tmp_path_factory):
    pkg = package(cml_cli, tmp_path_factory, "multi_method")
    assert MLModel(pkg).input_description["x"].shape == (1, 64)  # default function
    assert MLModel(pkg, function_name="prefill").input_description["x"].shape == (8, 64)
    with pytest.raises(ValueError, match="not found"):
        MLModel(pkg, function_name="decode")


def test_mlmodel_states(cml_cli, tmp_path_factory):
    pkg = package(cml_cli, tmp_path_factory, "stateful_states")
    case = FIXTURES / "stateful_states"
    x1, x2 = np.load(case / "input_0.call1.npy"), np.load(case / "input_0.call2.npy")
    want2 = np.load(case / "expected_0.call2.npy")
    m = MLModel(pkg)
    s, other = m.make_state(), m.make_state()
    first = m.predict({"x": x1}, state=s)
    m.predict({"x": x2}, state=other)  # states are independent
    got = list(m.predict({"x": x2}, state=s).values())[0]
    np.testing.assert_allclose(got, want2, atol=5e-3, rtol=1e-4)
    # Without a state, each prediction starts from zeros.
    np.testing.assert_array_equal(list(m.predict({"x": x1}).values())[0],
                                  list(first.values())[0])
    np.testing.assert_array_equal(list(m.predict({"x": x1}).values())[0],
                                  list(first.values())[0])
    with pytest.raises(ValueError):
        MLModel(pkg).predict({"x": x1}, state=s)


def test_mlmodel_batch_list(mlp_package, mlp_x):
    m = MLModel(mlp_package)
    out = m.predict([{"x": mlp_x}, {"x": mlp_x * 2}])
    assert len(out) == 2 and not np.array_equal(*[list(o.values())[0] for o in out])


def test_package_has_no_stray_exports():
    so = Path(cml._cml.__file__)
    assert so.name.startswith("_cml")
    if sys.platform.startswith("linux") and shutil.which("nm"):
        import subprocess
        out = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True,
                             text=True, check=True).stdout.split()
        assert [s for s in out if s.isidentifier() and not s.isupper() and len(s) > 2
                and s not in ("T", "B", "D")] == ["PyInit__cml"]
