"""The interpreter bootstrap: this file's source is the `sitecustomize.py` that
`launch.child_env` writes into the child's bootstrap directory (standard library only).

Promise: run as `sitecustomize`, it first runs the `sitecustomize` the environment would have
run without it (the next one on sys.path), then — unless this interpreter runs pytest
(`sys.orig_argv`, see `is_pytest`), where the pytest plugin does the work — imports errwise,
reads the agent's request (popping its variables, so child processes are not armed) and arms
the whole-run agent. Under pytest it imports nothing from errwise, so pytest's assertion
rewriting of errwise (a pytest11 plugin) is not disturbed. An exception from the other
`sitecustomize` propagates as it would without this one (after the agent is armed).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence

__all__ = ["is_pytest", "main"]

_PYTEST_NAMES = frozenset({"pytest", "py.test", "pytest.exe", "py.test.exe"})


def is_pytest(argv: Sequence[str]) -> bool:
    """Whether the command runs pytest: `pytest …`, `py.test …`, `python -m pytest …`, or a
    wrapper that ends in one (`coverage run -m pytest`, `uv run pytest`, `/venv/bin/pytest`)."""
    args = list(argv)
    for index, arg in enumerate(args):
        name = os.path.basename(arg)
        if name in _PYTEST_NAMES or name.startswith("pytest-3"):
            return True
        if arg == "-m" and index + 1 < len(args) and args[index + 1] in _PYTEST_NAMES:
            return True
        if arg in ("-mpytest", "-mpy.test"):
            return True
    return False


def _chain(our_file: str) -> None:
    """Run the next `sitecustomize` on sys.path, if there is one."""
    ours = os.path.dirname(os.path.realpath(our_file))
    path = [p for p in sys.path if os.path.realpath(p or os.curdir) != ours]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def main(our_file: str) -> None:
    """See the module promise."""
    try:
        _chain(our_file)
    finally:
        if not is_pytest(sys.orig_argv):
            from errwise.sweep.agent import config, process

            cfg = config.load()
            if cfg is not None:
                process.start(cfg)


if __name__ == "sitecustomize":
    main(__file__)
