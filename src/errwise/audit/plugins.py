"""Load the plug-in modules of a package: every module whose name starts with a prefix defines
one object under an agreed name (a rule's `RULE`, a report format's `FORMAT`).

Promise: `load_plugins` returns those objects in module-name order and raises an internal error
(a bug in errwise) when a module lacks the object or defines one of the wrong type.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import TypeVar

from errwise.error import bug

__all__ = ["load_plugins"]

T = TypeVar("T")


def load_plugins(
    package: str, path: Iterable[str], prefix: str, attr: str, kind: type[T]
) -> list[T]:
    found: list[T] = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        if not info.name.startswith(prefix):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        obj = getattr(module, attr, None)
        if not isinstance(obj, kind):
            raise bug(f"plug-in module defines no {attr}", module=f"{package}.{info.name}")
        found.append(obj)
    return found
