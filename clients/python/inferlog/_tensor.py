"""``tensor()``: internals as compact ``{dtype, shape, data}`` records instead of JSON number lists."""

from __future__ import annotations

import base64
import struct
from typing import Any, Dict, Optional, Sequence

# dtype -> (struct format character, numpy little-endian type string)
_DTYPES = {
    "float32": ("f", "<f4"),
    "float16": ("e", "<f2"),
    "int8": ("b", "i1"),
    "int32": ("i", "<i4"),
    "uint8": ("B", "u1"),
}


def _numpy_dtype(kind: str, itemsize: int) -> str:
    if kind == "f":
        return "float16" if itemsize == 2 else "float32"
    if kind == "u" and itemsize == 1 or kind == "b":
        return "uint8"
    if kind == "i" and itemsize == 1:
        return "int8"
    return "int32"


def tensor(data: Any, dtype: Optional[str] = None, shape: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """A tensor record for ``internals``: ``{"dtype", "shape", "data"}`` with ``data`` base64 of little-endian bytes.

    ``data`` is a numpy array (any shape; float64 is sent as float32, wider ints as int32 unless
    ``dtype`` says otherwise) or a flat sequence of numbers (``shape`` default ``[len(data)]``,
    ``dtype`` default ``float32``). ``dtype`` is one of ``float32``, ``float16``, ``int8``,
    ``int32``, ``uint8``. Call it when logging (it copies the data); it raises ``ValueError`` on a
    bad dtype, a shape that does not match the data, or values out of the dtype's range.
    """
    if dtype is not None and dtype not in _DTYPES:
        raise ValueError(f"inferlog.tensor: dtype must be one of {', '.join(_DTYPES)} (got {dtype!r})")
    if hasattr(data, "astype") and hasattr(data, "tobytes") and hasattr(data, "shape"):
        dt = dtype or _numpy_dtype(data.dtype.kind, data.dtype.itemsize)
        dims = [int(d) for d in data.shape]
        raw = data.astype(_DTYPES[dt][1]).tobytes(order="C")
        count = len(raw) // struct.calcsize(_DTYPES[dt][0])
    else:
        values = list(data)
        dt = dtype or "float32"
        dims = [len(values)]
        count = len(values)
        try:
            raw = struct.pack(f"<{count}{_DTYPES[dt][0]}", *values)
        except (struct.error, OverflowError) as e:
            raise ValueError(f"inferlog.tensor: values do not fit {dt}: {e}") from None
    if shape is not None:
        dims = [int(d) for d in shape]
    n = 1
    for d in dims:
        n *= d
    if n != count:
        raise ValueError(f"inferlog.tensor: shape {dims} holds {n} values, the data has {count}")
    return {"dtype": dt, "shape": dims, "data": base64.b64encode(raw).decode("ascii")}
