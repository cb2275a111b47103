"""Fabricated sweep runs (the run objects of the sweep JSON) for the cross-link tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweepdemo"


def line_of(root: Path, path: str, text: str, *, last: bool = False) -> int:
    """The line of `path` (under `root`) holding `text` (the first, or the last)."""
    lines = (root / path).read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if text in line]
    assert hits, (path, text)
    return hits[-1] if last else hits[0]


def run(
    path: str,
    handler_line: int | None,
    verdict: str,
    *,
    fault: str = "ENOSPC",
    operation: str = "file.write",
    persistent: bool = False,
    test: str | None = "tests/test_x.py::test_x",
    caught: list[int] | None = None,
    function: str = "f",
) -> dict[str, Any]:
    """One run object whose error stopped at `path:handler_line` (None: no handler) and was
    caught on its way by the handlers at `caught` lines (default: the stopping one)."""
    mode = "persistent" if persistent else "transient"
    rid = f"{path}:{(handler_line or 1) - 1}:{operation}:{fault}:{mode}"
    stopped = (
        None if handler_line is None else {"path": path, "line": handler_line, "function": function}
    )
    if caught is None:
        caught = [] if handler_line is None else [handler_line]
    return {
        "id": rid,
        "test": test,
        "operation": operation,
        "fault": fault,
        "persistent": persistent,
        "site": {"path": path, "line": (handler_line or 2) - 1},
        "verdict": verdict,
        "reason": "fabricated",
        "handler": stopped,
        "handlers": [{"path": path, "line": n, "function": function} for n in caught],
        "duration": 0.01,
        "replay": f"errwise sweep --run '{rid}' -- python -m pytest -q",
    }
