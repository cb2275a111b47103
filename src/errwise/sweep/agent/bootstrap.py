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
_WRAPPERS = frozenset(
    {
        "coverage",
        "uv",
        "uvx",
        "poetry",
        "pipenv",
        "hatch",
        "pdm",
        "rye",
        "env",
        "nice",
        "time",
        "timeout",
        "xvfb-run",
        "conda",
        "nox",
        "ddtrace-run",
        "opentelemetry-instrument",
    }
)


def _is_python(name: str) -> bool:
    return name.startswith(("python", "pypy")) or name in ("py", "py.exe")


def is_pytest(argv: Sequence[str]) -> bool:
    """Whether the command runs pytest: `pytest …`, `py.test …`, `python -m pytest …`,
    `python /venv/bin/pytest …`, or a wrapper around one (`coverage run -m pytest`, `uv run
    pytest`). A script's own arguments never count (`python tool.py pytest` is not pytest)."""
    args = list(argv)
    if not args:
        return False
    name = os.path.basename(args[0])
    if name in _PYTEST_NAMES or name.startswith("pytest-3"):
        return True
    if name in _WRAPPERS:
        return _wraps_pytest(args[1:])
    if not _is_python(name):
        return False
    index = 1
    while index < len(args):
        arg = args[index]
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            module = args[index + 1] if arg == "-m" and index + 1 < len(args) else arg[2:]
            if module == "coverage":
                return _wraps_pytest(args[index + 2 :])
            return module in _PYTEST_NAMES
        if arg == "-c":
            return False
        if arg in ("-W", "-X", "--check-hash-based-pycs"):
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        return is_pytest(args[index:])  # a script: judged as the program
    return False


def _wraps_pytest(args: Sequence[str]) -> bool:
    """A wrapper's arguments: pytest if the command they start is pytest."""
    for index, arg in enumerate(args):
        name = os.path.basename(arg)
        if _is_python(name):
            return is_pytest(args[index:])
        if name in _PYTEST_NAMES or (arg == "-m" and list(args[index + 1 :][:1]) == ["pytest"]):
            return True
        if name.endswith(".py"):
            return False
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
    # The import system keeps whatever sys.modules holds when this file is done: `import
    # sitecustomize` in the program then finds the environment's own module, as without us.
    sys.modules["sitecustomize"] = module


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
