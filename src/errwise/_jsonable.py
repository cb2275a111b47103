"""Turn arbitrary context values into JSON-safe values, never failing.

Promise: `jsonable(v)` always returns something `json.dumps` accepts; values it does not know
become their `repr` (paths become their string form).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["jsonable", "safe_repr", "safe_str"]

_MAX_DEPTH = 8


def jsonable(value: object, _depth: int = 0) -> Any:
    """Return a JSON-safe rendering of `value`."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth >= _MAX_DEPTH:
        return safe_repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value) if isinstance(os.fspath(value), str) else safe_repr(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, _depth + 1) for v in items]
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return safe_repr(value)


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
