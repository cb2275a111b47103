"""Turn arbitrary context values into JSON-safe values, never failing.

Promise: `jsonable(v)` always returns something `json.dumps` accepts, whatever `v` is (a broken
`__repr__`, a self-referencing container, a mapping whose iteration raises): values it does not
know become their `repr`; paths become their string form, bytes are decoded with backslash
escapes, dates and times their ISO form, NaN and infinities their repr, ints too long for
`json.dumps` a short description.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["jsonable", "safe_repr", "safe_str"]

_MAX_DEPTH = 8


def jsonable(value: object) -> Any:
    """Return a JSON-safe rendering of `value`."""
    return _convert(value, 0)


def _convert(value: object, depth: int) -> Any:
    if value is None or type(value) is str or type(value) is bool:
        return value
    if type(value) is int:
        return value if value.bit_length() <= _MAX_INT_BITS else _big_int(value)
    try:
        return _structured(value, depth)
    # errwise: ignore[broad-catch] -- a value whose methods raise still gets reported, as its repr
    except Exception:
        return safe_repr(value)


# int -> str conversion (which json.dumps needs) refuses more than 4300 digits by default.
_MAX_INT_BITS = 13_000


def _big_int(value: int) -> str:
    return f"<int of {value.bit_length()} bits>"


def _structured(value: object, depth: int) -> Any:
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, int):  # subclasses: json encodes them by their base type
        return value if value.bit_length() <= _MAX_INT_BITS else _big_int(value)
    if isinstance(value, str):
        return value
    if depth >= _MAX_DEPTH:
        return safe_repr(value)
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        return path if isinstance(path, str) else os.fsdecode(path)
    if isinstance(value, Mapping):
        return {_key(k): _convert(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_convert(v, depth + 1) for v in sorted(value, key=safe_repr)]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return safe_repr(value)


def _key(key: object) -> str:
    return key if type(key) is str else safe_str(key)


def safe_repr(value: object) -> str:
    """`repr(value)`, or a description of the failure when its `__repr__` raises."""
    try:
        return repr(value)
    # errwise: ignore[broad-catch] -- a broken __repr__ must not break error reporting
    except Exception as exc:
        return f"<{type(value).__qualname__} whose repr() failed: {type(exc).__name__}>"


def safe_str(value: object) -> str:
    """`str(value)`, or a description of the failure when its `__str__` raises."""
    try:
        return str(value)
    # errwise: ignore[broad-catch] -- a broken __str__ must not break error reporting
    except Exception as exc:
        return f"<{type(value).__qualname__} whose str() failed: {type(exc).__name__}>"
