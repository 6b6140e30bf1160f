"""Helpers shared by cml.runtime and cml.models."""
import errno
import os

import numpy as np

from . import _cml


def numpy_dtype(dtype_name):
    """The numpy dtype of a cml dtype name, or None (bfloat16, complex32)."""
    try:
        return np.dtype(dtype_name)
    except TypeError:
        return None


def open_program(path):
    """A _cml.Program for a file system path, FileNotFoundError when absent."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return _cml.Program(path=path)


def thread_count(threads):
    """The C API's thread count: None or 0 = one per online CPU."""
    if threads is None:
        return 0
    threads = int(threads)
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 or None: one per CPU), got {threads}")
    return threads
