"""The agent's request, read once from the environment.

Promise: `load()` returns the `AgentConfig` the orchestrator passed (or None when this process
was not started by `errwise sweep`). The first call pops every `ERRWISE_SWEEP_*` variable and
puts PYTHONPATH and PYTEST_ADDOPTS back as they were, so processes this one starts are not
armed; later calls (the bootstrap, then the pytest plugin) return the same object. A malformed
request is a usage error naming the variable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from errwise.sweep.agent import launch

__all__ = ["AgentConfig", "load", "reset"]


@dataclass(frozen=True)
class AgentConfig:
    """What the agent does in this process."""

    mode: Literal["record", "fault"]
    root: Path
    out: Path
    fault: launch.FaultRequest | None
    test: str | None
    boot: Path | None


class _Loaded:
    """The request once read: `done` tells a read "nothing" (None) from no read yet."""

    done = False
    value: AgentConfig | None = None


def load() -> AgentConfig | None:
    """The request of this process (see the module promise)."""
    if not _Loaded.done:
        _Loaded.value = _read(os.environ)
        _Loaded.done = True
    return _Loaded.value


def reset() -> None:
    """Forget the loaded request (for tests of the agent itself)."""
    _Loaded.done = False
    _Loaded.value = None


def _read(environ: os._Environ[str]) -> AgentConfig | None:
    from errwise.error import usage

    mode = environ.get(launch.ENV_MODE)
    if mode is None:
        return None
    root = environ.get(launch.ENV_ROOT, "")
    out = environ.get(launch.ENV_OUT, "")
    fault_text = environ.get(launch.ENV_FAULT)
    test = environ.get(launch.ENV_TEST)
    boot = environ.get(launch.ENV_BOOT)
    _restore(environ, "PYTHONPATH", environ.get(launch.ENV_ORIG_PYTHONPATH))
    _restore(environ, "PYTEST_ADDOPTS", environ.get(launch.ENV_ORIG_ADDOPTS))
    for name in [name for name in environ if name.startswith("ERRWISE_SWEEP_")]:
        del environ[name]
    if mode not in ("record", "fault"):
        raise usage("ERR_USAGE", f"{launch.ENV_MODE} must be 'record' or 'fault'", got=mode)
    if not os.path.isabs(root) or not os.path.isabs(out):
        raise usage("ERR_USAGE", f"{launch.ENV_ROOT} and {launch.ENV_OUT} must be absolute paths")
    fault = None
    if mode == "fault":
        if fault_text is None:
            raise usage("ERR_USAGE", f"fault mode needs {launch.ENV_FAULT}")
        fault = launch.FaultRequest.from_json(fault_text)
    return AgentConfig(
        mode="fault" if mode == "fault" else "record",
        root=Path(root),
        out=Path(out),
        fault=fault,
        test=test or None,
        boot=Path(boot) if boot else None,
    )


def _restore(environ: os._Environ[str], name: str, saved: str | None) -> None:
    """Put `name` back to the JSON-encoded `saved` value (null: unset); no record, no change."""
    if saved is None:
        return
    value = json.loads(saved)
    if value is None:
        environ.pop(name, None)
    elif isinstance(value, str):
        environ[name] = value
