"""Settings and fixtures every test shares: errwise's user cache home is a temporary directory,
never the real `~/.cache/errwise`; `cli` runs the `errwise` command in this process.

Set in the environment when pytest loads this file, before any test runs, so the CLI
subprocesses and worker processes the tests start inherit it too; removed when the session ends.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import pytest

_CACHE_HOME = tempfile.mkdtemp(prefix="errwise-tests-cache-")
os.environ["ERRWISE_CACHE_DIR"] = os.path.join(_CACHE_HOME, "errwise")
os.environ["XDG_CACHE_HOME"] = os.path.join(_CACHE_HOME, "xdg")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)


class CliRun:
    """The outcome of one in-process `errwise` command."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"CliRun(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliRun]:
    """`cli(*args, cwd=None)`: run `errwise ARGS` in this process; any traceback fails the test."""

    def run(*args: str, cwd: str | os.PathLike[str] | None = None) -> CliRun:
        from errwise.cli import main

        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run
