"""cml: run ExecuTorch programs (.pte) with Core ML delegates, and Core ML
ML Programs (.mlpackage), on any CPU.

Two APIs over the same C runtime:

* ``cml.runtime`` mirrors ``executorch.runtime``
  (``Runtime.get().load_program(path).load_method("forward").execute([x])``);
* ``cml.models.MLModel`` mirrors ``coremltools.models.MLModel``
  (``MLModel(path).predict({"x": x})``, ``make_state()``).

Failures raise Python exceptions: ``cml.InputError`` (a ``ValueError``) for
a wrong input count, dtype or shape, ``FileNotFoundError`` for a missing
file, ``cml.Error`` with the runtime's message for everything else (corrupt
files, unsupported ops). ``Error.status`` names the runtime's status code.
"""
import enum

from ._cml import Error, InputError
from ._cml import version as _c_version

__version__ = "0.1.0"


class ComputeUnit(enum.Enum):
    """Compute units, as coremltools' ``ct.ComputeUnit``. cml always runs on
    the CPU; the request is recorded (and logged) as Core ML would see it."""

    ALL = 1
    CPU_ONLY = 2
    CPU_AND_GPU = 3
    CPU_AND_NE = 4


def version() -> str:
    """The C library's version and the kernel ISA level in use, e.g.
    ``"0.1.0 (avx2)"``."""
    return _c_version()


__all__ = ["ComputeUnit", "Error", "InputError", "version"]
