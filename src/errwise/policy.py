"""The process error policy: what a guard does with an error, and how errors are reported.

Promise: `current()` is cheap and thread-safe (one reference read); `set_current()` replaces the
whole policy atomically, so a reader never sees a half-updated one. Nothing here runs at
`import errwise`: loading from the environment or flags happens only when asked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["Policy", "current", "set_current", "OnError", "LogLevel"]

OnError = Literal["abort", "disable"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]


@dataclass(frozen=True, slots=True)
class Policy:
    """What to do on error (`on_error`), whether partial outputs are kept, and where logs go."""

    on_error: OnError = "abort"
    keep_partial: bool = False
    log_level: LogLevel = "warning"
    log_file: str | None = None
    json_errors: bool = False


_current = Policy()
_write_lock = threading.Lock()


def current() -> Policy:
    """The policy in force for this process."""
    return _current


def set_current(policy: Policy) -> Policy:
    """Replace the process policy; returns the previous one."""
    global _current
    if not isinstance(policy, Policy):
        from errwise.error import usage

        raise usage("ERR_USAGE", "set_current() takes an errwise.Policy", got=type(policy).__name__)
    with _write_lock:
        previous, _current = _current, policy
    return previous
