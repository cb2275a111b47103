"""The interpreter bootstrap behind the `sitecustomize.py` that `launch.child_env` writes.

Promise: `start(our_file)` first runs the `sitecustomize` the environment would have run without
us (the next one on sys.path), then reads the agent's request (popping its variables, so child
processes are not armed) and, when this interpreter is not running pytest (`sys.orig_argv`),
arms the whole-run agent. Under pytest the plugin does the work. An exception from the other
`sitecustomize` propagates as it would without us (after our agent is armed).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["start"]


def _chain(our_file: str) -> None:
    """Run the next `sitecustomize` on sys.path, if there is one."""
    ours = os.path.dirname(os.path.realpath(our_file))
    path = [p for p in sys.path if os.path.realpath(p or os.curdir) != ours]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def start(our_file: str) -> None:
    """See the module promise."""
    try:
        _chain(our_file)
    finally:
        from errwise.sweep.agent import config
        from errwise.sweep.agent.launch import is_pytest

        cfg = config.load()
        if cfg is not None and not is_pytest(sys.orig_argv):
            from errwise.sweep.agent import process

            process.start(cfg)
