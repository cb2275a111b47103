"""One identifier per run, so log records and JSON error lines of one run can be joined.

Promise: `run_id()` is stable for the life of a process unless `set_run_id` replaces it.
"""

from __future__ import annotations

import uuid

__all__ = ["run_id", "set_run_id"]

_run_id: str | None = None


def run_id() -> str:
    """Return this process's run id, creating it on first use (12 hex digits)."""
    global _run_id  # noqa: PLW0603 - one process-wide value, set once
    if _run_id is None:
        _run_id = uuid.uuid4().hex[:12]
    return _run_id


def set_run_id(value: str) -> None:
    """Replace the run id (an entry wrapper does this when a parent hands one down)."""
    global _run_id  # noqa: PLW0603
    if not isinstance(value, str) or not value:
        from errwise.error import usage

        raise usage("ERR_USAGE", "run id must be a non-empty str", got=type(value).__name__)
    _run_id = value
