"""coremltools' MLModel API over cml.

.. code-block:: python

    import cml
    from cml.models import MLModel

    m = MLModel("model.mlpackage", compute_units=cml.ComputeUnit.ALL)
    list(m.input_description)            # input names
    m.input_description["x"]             # dtype, shape, ranges / enumerations
    y = m.predict({"x": x})              # dict of name -> array in and out
    state = m.make_state()               # iOS18 states
    y = m.predict({"x": x}, state=state)

As coremltools does, predict converts each input to the dtype the model
declares (float64 or float16 arrays to a float32 input, float32 to a float16
one, int64 to int32, ...). A multifunction package's function is chosen
with ``function_name``.
"""
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import ComputeUnit, InputError, _cml
from ._common import numpy_dtype, open_program, thread_count



class FeatureInfo:
    """One input or output feature: name, dtype, shape (the default shape
    of a flexible input), and the shapes a flexible input accepts."""

    def __init__(self, desc: Dict[str, Any]) -> None:
        self.name: str = desc["name"]
        self.dtype_name: str = desc["dtype_name"]
        self.dtype = numpy_dtype(desc["dtype_name"])
        self.shape: Tuple[int, ...] = desc.get("default", desc["sizes"])
        self.min_shape: Tuple[int, ...] = desc.get("min", desc["sizes"])
        self.max_shape: Tuple[int, ...] = desc.get("max", desc["sizes"])
        self.enumerated_shapes: List[Tuple[int, ...]] = desc.get("enumerated", [])

    def __str__(self) -> str:
        if self.enumerated_shapes:
            shapes = " | ".join(str(list(s)) for s in self.enumerated_shapes)
            return f"{self.name}: {self.dtype_name} {{{shapes}}} (default {list(self.shape)})"
        if self.min_shape != self.max_shape:
            dims = ", ".join(str(a) if a == b else f"{a}..{b}"
                             for a, b in zip(self.min_shape, self.max_shape))
            return f"{self.name}: {self.dtype_name} [{dims}] (default {list(self.shape)})"
        return f"{self.name}: {self.dtype_name} {list(self.shape)}"

    def __repr__(self) -> str:
        return f"FeatureInfo({self})"


class FeatureDescription:
    """The inputs or outputs of a model, as coremltools'
    ``input_description``: iterate for the names; ``[name]`` gives the
    feature's FeatureInfo."""

    def __init__(self, features: List[FeatureInfo]) -> None:
        self._features = features

    def __iter__(self) -> Iterator[str]:
        return (f.name for f in self._features)

    def __len__(self) -> int:
        return len(self._features)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self._features)

    def __getitem__(self, name: str) -> FeatureInfo:
        for f in self._features:
            if f.name == name:
                return f
        raise KeyError(f"No feature with name {name}.")

    def __repr__(self) -> str:
        return "Features(%s)" % ",".join(f.name for f in self._features)


class MLState:
    """The state of a stateful model (Core ML states), from
    ``MLModel.make_state()``; each holds its own copy, starting at zero."""

    def __init__(self, model: "MLModel", method: "_cml.Method") -> None:
        self._model = model
        self._method = method


def _compute_units_value(units: Union[ComputeUnit, str, None]) -> int:
    if units is None:
        return 0
    if isinstance(units, str):
        try:
            units = ComputeUnit[units.upper()]
        except KeyError:
            raise ValueError(f"unknown compute units {units!r}") from None
    if not isinstance(units, ComputeUnit):
        raise TypeError(f"compute_units must be a cml.ComputeUnit, got {units!r}")
    return units.value


class MLModel:
    """A Core ML model (``.mlpackage`` directory) loaded for prediction.

    compute_units: a ``cml.ComputeUnit`` (cml runs on the CPU whatever it
    asks for). function_name: the function of a multifunction package
    (default: its default function; a single-function package takes None
    or "main"). threads: threads per prediction (None or 0: one per online
    CPU)."""

    def __init__(self, model: Union[str, os.PathLike],
                 compute_units: Union[ComputeUnit, str, None] = ComputeUnit.ALL,
                 function_name: Optional[str] = None,
                 threads: Optional[int] = None) -> None:
        self.package_path = os.fspath(model)
        self.is_package = os.path.isdir(self.package_path)
        self.compute_unit = compute_units
        self.function_name = function_name
        self._units = _compute_units_value(compute_units)
        self._threads = thread_count(threads)
        self._program = open_program(self.package_path)
        self._function = self._resolve_function(function_name)
        self._method = self._load()
        inputs = [FeatureInfo(d) for d in self._method.inputs()]
        outputs = [FeatureInfo(d) for d in self._method.outputs()]
        self._input_names = [f.name for f in inputs]
        self._output_names = [f.name for f in outputs]
        self._input_description = FeatureDescription(inputs)
        self._output_description = FeatureDescription(outputs)

    def _resolve_function(self, name: Optional[str]) -> Optional[str]:
        functions = self._program.method_names()
        if name is None or name in functions:
            return name
        if len(functions) == 1 and name == "main":
            return None
        if len(functions) == 1:
            raise ValueError('function_name must be "main" for non multifunction model')
        raise ValueError(f"function_name {name} not found in the model "
                         f"(functions: {', '.join(functions)})")

    def _load(self) -> "_cml.Method":
        return self._program.load_method(self._function, threads=self._threads,
                                         compute_units=self._units)

    @property
    def input_description(self) -> FeatureDescription:
        return self._input_description

    @property
    def output_description(self) -> FeatureDescription:
        return self._output_description

    def make_state(self) -> MLState:
        """A new state for ``predict(..., state=)``, all zeros."""
        method = self._load()
        method.reset_state()
        return MLState(self, method)

    def predict(self, data: Union[Dict[str, Any], List[Dict[str, Any]]],
                state: Optional[MLState] = None):
        """Runs the model: data maps input names to arrays (numpy, torch or
        anything numpy.asarray takes; converted to the declared dtypes).
        Returns a dict of output name -> numpy array (torch tensors when the
        inputs were torch tensors). With ``state``, the model's states are
        read and updated there; without, a stateful model starts from zeros
        each call. A list of dicts is a batch: a list of dicts comes back."""
        if isinstance(data, list):
            if state is not None:
                raise ValueError("State can only be used for unbatched predictions")
            return [self.predict(d) for d in data]
        if not isinstance(data, dict):
            raise TypeError('"data" parameter must be either a dict or list of dict, '
                            f"but got {type(data)}.")
        values = self._ordered_inputs(data)
        if state is None:
            method = self._method
            method.reset_state()
        else:
            if not isinstance(state, MLState) or state._model is not self:
                raise ValueError("state must come from this model's make_state()")
            method = state._method
        outputs = method.execute(values, cast=True)
        return dict(zip(self._output_names, outputs))

    def _ordered_inputs(self, data: Dict[str, Any]) -> List[Any]:
        for key in data:
            if key not in self._input_description:
                raise KeyError(f'Provided key "{key}", in the input dict, does not match any '
                               f"of the model input name(s), which are: "
                               f"{', '.join(self._input_names)}")
        missing = [n for n in self._input_names if n not in data]
        if missing:
            raise InputError(f"missing input(s) {', '.join(map(repr, missing))}: the model "
                             f"takes {', '.join(self._input_names)}")
        return [data[n] for n in self._input_names]

    def __repr__(self) -> str:
        return (f"MLModel({self.package_path!r}, inputs={self._input_description}, "
                f"outputs={self._output_description})")


__all__ = ["MLModel", "MLState", "FeatureDescription", "FeatureInfo"]
