"""Lazy re-exports for a package's façade: a name is imported from its module on first use.

Promise: `exports(package, names)` returns the package's `__getattr__` and `__dir__` (PEP 562)
for `names`, a map from each exported name to the module defining it. The first access of a
name imports its module and binds the name in the package, so later accesses cost nothing and
`from package import name` works as with an eager import. An unknown name raises
AttributeError, as for any module. A name that is also a submodule of the package (`guard`,
`classify`, `ops.run`) must stay an eager import: importing the submodule would bind the module
under that name first.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["exports"]


def exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}", name=name)
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
