"""Which files are the project's code, which are its tests, and how the report names them.

Promise: `ProjectFiles(root)` answers, for an absolute file path (cached per path):
- `is_project`: a real file under the root (not `<frozen …>` or `<string>`), not in a
  virtualenv / site-packages / the interpreter's prefix, not errwise itself;
- `is_test`: a collected test module, a `conftest.py`, a `test_*.py` / `*_test.py` file, or a
  file under a `tests` / `test` / `testing` directory of the root;
- `is_code`: project and not test (the sites a sweep fails).
`rel(path)` is the root-relative "/"-separated name, or the absolute path for a file outside
the root.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

__all__ = ["ProjectFiles"]

_VENV_PARTS = frozenset(
    {"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", "__pypackages__", ".eggs"}
)
_TEST_DIRS = frozenset({"tests", "test", "testing"})


def _real(path: str) -> str:
    return os.path.realpath(path)


class ProjectFiles:
    """The project under `root` (see the module promise)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = _real(os.fspath(root))
        self._prefix = self.root.rstrip(os.sep) + os.sep
        import errwise

        places = {os.path.dirname(errwise.__file__), sys.prefix, sys.exec_prefix, sys.base_prefix}
        # An interpreter prefix that holds the whole project (/usr and /usr/src/app) excludes
        # nothing: only what lies inside the root can be excluded.
        self._excluded = tuple(
            p
            for p in (_real(place).rstrip(os.sep) + os.sep for place in places)
            if not self._prefix.startswith(p)
        )
        self._tests: set[str] = set()
        self._rel: dict[str, str | None] = {}
        self._is_test: dict[str, bool] = {}

    def add_tests(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Declare these files test modules (pytest's collected modules)."""
        for path in paths:
            self._tests.add(_real(os.fspath(path)))
        self._is_test.clear()

    def _project_rel(self, path: str) -> str | None:
        cached = self._rel.get(path, "")
        if cached != "":
            return cached
        rel: str | None = None
        if os.path.basename(path).startswith("<"):  # <frozen runpy>, <string>: no file
            self._rel[path] = rel
            return rel
        real = _real(path)
        if real.startswith(self._prefix) and not any(real.startswith(x) for x in self._excluded):
            parts = real[len(self._prefix) :].split(os.sep)
            if not _VENV_PARTS.intersection(parts[:-1]):
                rel = "/".join(parts)
        self._rel[path] = rel
        return rel

    def is_project(self, path: str) -> bool:
        """Under the root and not installed code (see the module promise)."""
        return self._project_rel(path) is not None

    def is_test(self, path: str) -> bool:
        """A project test file (see the module promise)."""
        known = self._is_test.get(path)
        if known is not None:
            return known
        rel = self._project_rel(path)
        answer = False
        if rel is not None:
            parts = rel.split("/")
            name = parts[-1]
            answer = (
                _real(path) in self._tests
                or name == "conftest.py"
                or (name.startswith("test_") and name.endswith(".py"))
                or name.endswith("_test.py")
                or bool(_TEST_DIRS.intersection(parts[:-1]))
            )
        self._is_test[path] = answer
        return answer

    def is_code(self, path: str) -> bool:
        """Project code that is not a test: where a sweep's sites are."""
        return self.is_project(path) and not self.is_test(path)

    def rel(self, path: str) -> str:
        """Root-relative "/"-separated, or the absolute path outside the project."""
        rel = self._project_rel(path)
        if rel is not None:
            return rel
        real = _real(path)
        if real.startswith(self._prefix):
            return real[len(self._prefix) :].replace(os.sep, "/")
        return real
