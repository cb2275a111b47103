"""Helpers for the boundary tests (a uniquely named module: other test areas have a conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_S = 30.0


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child python: no ERRWISE_* leaking in from the test runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERRWISE_")}
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(extra)
    return env


def run_python(
    code_or_args: Sequence[str], *, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `python ARGS...` with a timeout and capture its output."""
    return subprocess.run(
        [sys.executable, *code_or_args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env if env is not None else child_env(),
        timeout=CHILD_TIMEOUT_S,
        check=False,
        cwd=REPO,
    )
