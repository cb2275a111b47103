"""Settings every test shares: errwise's user cache home is a temporary directory, never the
real `~/.cache/errwise`.

Set in the environment when pytest loads this file, before any test runs, so the CLI
subprocesses and worker processes the tests start inherit it too; removed when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE_HOME = tempfile.mkdtemp(prefix="errwise-tests-cache-")
os.environ["ERRWISE_CACHE_DIR"] = os.path.join(_CACHE_HOME, "errwise")
os.environ["XDG_CACHE_HOME"] = os.path.join(_CACHE_HOME, "xdg")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)
