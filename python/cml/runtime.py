"""The executorch.runtime API over cml.

.. code-block:: python

    from cml.runtime import Runtime

    rt = Runtime.get()                       # or Runtime.get(threads=2)
    program = rt.load_program("model.pte")   # str, pathlib.Path or bytes
    print(program.method_names)              # {'forward'}
    method = program.load_method("forward")
    print(method.metadata)                   # inputs / outputs
    outputs = method.execute([x])            # numpy arrays or torch tensors

Names follow ExecuTorch 1.5.1's ``executorch.runtime`` (Runtime.get,
load_program, Program.method_names / load_method / metadata, Method.execute /
metadata, MethodMeta and TensorInfo); ``Method.reset_state`` and the
``threads`` argument are cml's.
"""
import functools
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

from . import _cml
from ._common import numpy_dtype, open_program, thread_count


class TensorInfo:
    """One input or output of a method: dtype, shape and, for flexible
    inputs, the shapes accepted (ranges or enumerations)."""

    def __init__(self, desc: Dict[str, Any]) -> None:
        self._desc = desc
        self.name: str = desc["name"]
        self.dtype_name: str = desc["dtype_name"]
        self.numpy_dtype = numpy_dtype(desc["dtype_name"])
        self.is_tensor: bool = desc["is_tensor"]
        sizes = desc["sizes"]
        self.min_sizes: Tuple[int, ...] = desc.get("min", sizes)
        self.max_sizes: Tuple[int, ...] = desc.get("max", sizes)
        self.default_sizes: Tuple[int, ...] = desc.get("default", sizes)
        self.enumerated_shapes: List[Tuple[int, ...]] = desc.get("enumerated", [])

    def sizes(self) -> Tuple[int, ...]:
        """Shape of the tensor; upper bounds for dynamic dimensions."""
        return self._desc["sizes"]

    def dtype(self) -> int:
        """The element type as an ExecuTorch ScalarType number (6 = float)."""
        return self._desc["dtype"]

    def nbytes(self) -> int:
        """Bytes of the tensor at its upper-bound sizes."""
        n = (self.numpy_dtype.itemsize if self.numpy_dtype is not None
             else {"bfloat16": 2, "complex32": 4}.get(self.dtype_name, 0))
        for s in self.sizes():
            n *= s
        return n

    def is_memory_planned(self) -> bool:
        """True: cml plans every tensor's memory itself."""
        return True

    @property
    def is_dynamic(self) -> bool:
        return self.min_sizes != self.max_sizes or bool(self.enumerated_shapes)

    def __repr__(self) -> str:
        if self.enumerated_shapes:
            shape = " | ".join(str(list(s)) for s in self.enumerated_shapes)
            shape = "{" + shape + "}"
        elif self.is_dynamic:
            shape = "[" + ", ".join(str(a) if a == b else f"{a}..{b}"
                                    for a, b in zip(self.min_sizes, self.max_sizes)) + "]"
        else:
            shape = str(list(self.sizes()))
        kind = "" if self.is_tensor else " scalar"
        return f"TensorInfo(name={self.name!r}, dtype={self.dtype_name}{kind}, shape={shape})"


class MethodMeta:
    """Inputs and outputs of a method (ExecuTorch's MethodMeta names)."""

    def __init__(self, name: str, method: "_cml.Method") -> None:
        self._name = name
        self.inputs: List[TensorInfo] = [TensorInfo(d) for d in method.inputs()]
        self.outputs: List[TensorInfo] = [TensorInfo(d) for d in method.outputs()]

    def name(self) -> str:
        return self._name

    def num_inputs(self) -> int:
        return len(self.inputs)

    def num_outputs(self) -> int:
        return len(self.outputs)

    def input_tensor_meta(self, index: int) -> TensorInfo:
        if not 0 <= index < len(self.inputs):
            raise IndexError(f"input index {index} out of range ({len(self.inputs)} inputs)")
        return self.inputs[index]

    def output_tensor_meta(self, index: int) -> TensorInfo:
        if not 0 <= index < len(self.outputs):
            raise IndexError(f"output index {index} out of range ({len(self.outputs)} outputs)")
        return self.outputs[index]

    def __repr__(self) -> str:
        ins = ", ".join(map(repr, self.inputs))
        outs = ", ".join(map(repr, self.outputs))
        return f"MethodMeta(name={self._name!r}, inputs=[{ins}], outputs=[{outs}])"


class Method:
    """A loaded method: execute it with inputs."""

    def __init__(self, name: str, method: "_cml.Method") -> None:
        self._name = name
        self._method = method
        self._meta: Optional[MethodMeta] = None

    def execute(self, inputs: Sequence[Any]) -> List[Any]:
        """Runs the method once. inputs: one value per method input, numpy
        arrays or torch tensors of the input's dtype (C-contiguous ones are
        read in place). Returns a list of outputs: numpy arrays that own
        their memory, or torch tensors when the inputs were torch tensors.
        State (Core ML states, mutable buffers) carries over between calls."""
        return self._method.execute(inputs)

    @property
    def metadata(self) -> MethodMeta:
        if self._meta is None:
            self._meta = MethodMeta(self._name, self._method)
        return self._meta

    def reset_state(self) -> None:
        """Core ML states and mutable buffers back to their initial values."""
        self._method.reset_state()

    @property
    def delegates(self) -> List[str]:
        """One line per delegate instance (backend, compute units, device)."""
        return self._method.delegates()


class Program:
    """A loaded program: its methods load on demand and are cached."""

    def __init__(self, program: "_cml.Program", threads: int) -> None:
        self._program = program
        self._threads = threads
        self._methods: Dict[str, Optional[Method]] = {
            name: None for name in program.method_names()}

    @property
    def method_names(self) -> Set[str]:
        return set(self._methods)

    def load_method(self, name: str) -> Method:
        if name not in self._methods:
            raise KeyError(f"no method {name!r} in the program (methods: "
                           f"{sorted(self._methods)})")
        method = self._methods[name]
        if method is None:
            method = Method(name, self._program.load_method(name, threads=self._threads))
            self._methods[name] = method
        return method

    def metadata(self, method_name: str) -> MethodMeta:
        return self.load_method(method_name).metadata


class BackendRegistry:
    """The backends cml runs: Core ML delegates (on the CPU)."""

    @property
    def registered_backend_names(self) -> List[str]:
        return ["CoreMLBackend"]

    def is_available(self, backend_name: str) -> bool:
        return backend_name in self.registered_backend_names


class Runtime:
    """The cml runtime: loads programs whose methods run with `threads`
    threads (0: one per online CPU)."""

    def __init__(self, *, threads: int = 0) -> None:
        self.threads = threads
        self.backend_registry = BackendRegistry()

    @staticmethod
    def get(threads: Optional[int] = None) -> "Runtime":
        """The Runtime for a thread count (one instance per count; None or
        0: one thread per online CPU)."""
        return _runtime_for(thread_count(threads))

    def load_program(self, data: Union[bytes, bytearray, memoryview, os.PathLike, str, Any],
                     *, verification: Any = None) -> Program:
        """Loads a .pte program from a path (str or pathlib.Path; an
        .mlpackage directory works too), bytes, or a file-like object.
        cml verifies every program fully: `verification` is accepted for
        compatibility and ignored."""
        del verification
        if isinstance(data, (str, Path, os.PathLike)):
            program = open_program(data)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            program = _cml.Program(data=bytes(data))
        elif hasattr(data, "read"):
            program = _cml.Program(data=bytes(data.read()))
        else:
            raise TypeError("expected bytes, bytearray, a path or a file-like object, got "
                            f"{type(data).__name__}")
        return Program(program, self.threads)


@functools.lru_cache(maxsize=None)
def _runtime_for(threads: int) -> Runtime:
    return Runtime(threads=threads)


__all__ = ["Runtime", "Program", "Method", "MethodMeta", "TensorInfo", "BackendRegistry"]
