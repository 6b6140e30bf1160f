"""Conversions the extension calls for values that are not numpy arrays:
torch tensors in (shared memory, no copy where torch allows) and torch
tensors out. torch is optional: it is only imported when the caller already
passed torch tensors."""
import sys

import numpy as np

_BFLOAT16 = 15  # cml_dtype CML_DTYPE_BFLOAT16


def to_numpy(obj):
    """(array, cml dtype override or -1) for a tensor-like input."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        t = obj.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.is_conj():
            t = t.resolve_conj()
        if not t.is_contiguous():
            t = t.contiguous()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16: pass the bits
            return t.view(torch.int16).numpy(), _BFLOAT16
        return t.numpy(), -1
    if hasattr(obj, "__dlpack__"):
        try:
            return np.from_dlpack(obj), -1
        except (TypeError, RuntimeError, BufferError):
            pass
    return np.asarray(obj), -1


def to_torch(outputs, dtypes):
    """The outputs as torch tensors sharing the arrays' memory (bfloat16
    outputs, widened to float32 for numpy, go back to bfloat16)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - inputs were torch tensors
        return outputs
    result = []
    for value, dtype in zip(outputs, dtypes):
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
            if dtype == "bfloat16":
                value = value.to(torch.bfloat16)
        result.append(value)
    return result
