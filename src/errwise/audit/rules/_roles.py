"""What role a file plays in its project, judged from its path alone: test code, or the build
and task scripts that sit beside it.

Promise: pure functions of a `/`- or `\\`-separated path relative to the audit's root; they
never touch the file system.
"""

from __future__ import annotations

import posixpath

__all__ = ["TEST_DIRS", "TOOLING_FILES", "is_test_path", "is_test_or_tooling_path"]

TEST_DIRS = frozenset({"tests", "test", "testing"})
"""Directory names that hold a project's tests."""
TOOLING_FILES = frozenset({"conftest.py", "setup.py", "noxfile.py"})
"""File names of test fixtures and build and task scripts."""


def is_test_path(path: str) -> bool:
    """A test file: `test_*.py`, `*_test.py`, `conftest.py`, or one under `tests`/`test`/
    `testing`."""
    norm = path.replace("\\", "/")
    base = posixpath.basename(norm)
    if base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py":
        return True
    return any(part in TEST_DIRS for part in norm.split("/")[:-1])


def is_test_or_tooling_path(path: str) -> bool:
    """A test file, or a build or task script (`setup.py`, `noxfile.py`)."""
    return is_test_path(path) or posixpath.basename(path.replace("\\", "/")) in TOOLING_FILES
