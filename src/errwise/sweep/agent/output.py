"""The agent's report file.

Promise: `write_report(cfg, tests, pytest=…)` writes the JSON object of contract section 2 to
`cfg.out` atomically (readers see the whole report or none), creating its directory; `errors`
lists what went wrong inside the agent itself (empty normally). A file that cannot be written
raises the classified OS error.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from typing import Any

from errwise.sweep.agent.config import AgentConfig

__all__ = ["AGENT_VERSION", "write_report"]

AGENT_VERSION = 1


def write_report(
    cfg: AgentConfig,
    tests: Sequence[dict[str, Any]],
    *,
    pytest: bool,
    errors: Sequence[str] = (),
) -> None:
    """See the module promise."""
    from errwise.classify import classify
    from errwise.ops.atomic import atomic_write

    doc = {
        "agent": AGENT_VERSION,
        "mode": cfg.mode,
        "python": platform.python_version(),
        "pytest": pytest,
        "tests": list(tests),
        "errors": list(errors),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n"
    try:
        cfg.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise classify(exc).with_context(path=str(cfg.out.parent)) from exc
    atomic_write(cfg.out, text, fsync=False)
