"""JSON lines for the wire: what ``json`` cannot encode by itself, and RFC 3339 timestamps."""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import math
import uuid
from typing import Any, Callable

_UTC = _dt.timezone.utc


def _default(o: Any) -> Any:
    """Turns the values model code commonly logs into JSON: numpy arrays and scalars (``tolist()``),
    pydantic models, dataclasses, datetimes (naive ones are local time, as ``astimezone`` reads
    them), dates, ``Decimal``, ``UUID``, enums, sets, tuples and bytes (base64). Anything else is a
    ``TypeError``, reported as ``serialize_failed``."""
    if hasattr(o, "tolist") and callable(o.tolist):
        return o.tolist()
    if hasattr(o, "model_dump") and callable(o.model_dump):
        return o.model_dump(mode="json")
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if isinstance(o, _dt.datetime):
        return iso_datetime(o)
    if isinstance(o, (_dt.date, _dt.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, uuid.UUID):
        return str(o)
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, (set, frozenset)):
        return list(o)
    if isinstance(o, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(o)).decode("ascii")
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _finite(o: Any) -> Any:
    """A copy of ``o`` with NaN and infinities as null (what JSON.stringify does), for the rare slow path."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, (str, int, bool)) or o is None:
        return o
    return _finite(_default(o))


_fast = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default).encode
_ascii = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=_default).encode


def json_line(record: Any) -> bytes:
    """One compact UTF-8 JSON line (no newline). Non-finite numbers become null. Raises on values it cannot encode."""
    try:
        text = _fast(record)
    except ValueError as e:
        if "Out of range float" not in str(e):
            raise  # e.g. a circular reference
        # allow_nan=False found a NaN or an infinity somewhere: the collector would refuse the line.
        record = _finite(record)
        text = _fast(record)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; as a \u escape it is still valid JSON.
        return _ascii(record).encode("ascii")


def iso_datetime(d: _dt.datetime) -> str:
    """RFC 3339 with millisecond precision, in UTC."""
    d = d.astimezone(_UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def iso_formatter() -> Callable[[float], str]:
    """Formats epoch seconds as RFC 3339 (ms, UTC), reusing the last result: events come many per millisecond."""
    last_ms = -1
    last = ""

    def iso(t: float) -> str:
        nonlocal last_ms, last
        ms = int(t * 1000)
        if ms != last_ms:
            last_ms = ms
            sec, milli = divmod(ms, 1000)
            last = _dt.datetime.fromtimestamp(sec, _UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{milli:03d}Z"
        return last

    return iso
