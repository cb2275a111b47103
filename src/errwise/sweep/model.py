"""The sweep's plain data: a planned run, its identifier, and the shape of a finished run.

Promise: a run identifier is `PATH:LINE:OPERATION:FAULT:transient|persistent` (PATH relative to
the project root, `/`-separated) and `parse_run_id(format_run_id(spec)) == spec` for every spec;
a malformed identifier is a usage error naming it. `RunSpec` is what the orchestrator plans;
the finished run is a JSON object (contract section 3) built by `run_record`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from errwise.error import usage

__all__ = [
    "VERDICTS",
    "RunSpec",
    "SiteKey",
    "format_run_id",
    "parse_run_id",
    "replay_command",
    "run_record",
]

VERDICTS: Final = ("propagated", "reported", "silent", "unreached", "unsettled")
"""Every verdict a run can get, in report order."""

SiteKey = tuple[str, int, str]
"""(path relative to root, line, operation): one injectable site the tests reach."""


@dataclass(frozen=True, slots=True, order=True)
class RunSpec:
    """One planned run: fail `operation` at `path:line` with `fault` while `test` runs."""

    path: str
    line: int
    operation: str
    fault: str
    persistent: bool
    test: str | None

    @property
    def id(self) -> str:
        return format_run_id(self)

    @property
    def site(self) -> SiteKey:
        return (self.path, self.line, self.operation)


def format_run_id(spec: RunSpec) -> str:
    """`pkg/store.py:12:os.replace:ENOSPC:transient`."""
    how = "persistent" if spec.persistent else "transient"
    return f"{spec.path}:{spec.line}:{spec.operation}:{spec.fault}:{how}"


def parse_run_id(text: str, *, test: str | None = None) -> RunSpec:
    """The `RunSpec` an identifier names (with `test`); a usage error when it is malformed."""
    parts = text.rsplit(":", 4)
    if len(parts) != 5 or not parts[0] or not parts[2] or not parts[3]:
        raise _bad_id(text)
    path, line_text, operation, fault, how = parts
    if not line_text.isdigit() or int(line_text) < 1 or how not in ("transient", "persistent"):
        raise _bad_id(text)
    return RunSpec(path, int(line_text), operation, fault, how == "persistent", test)


def _bad_id(text: str) -> Exception:
    err = usage("ERR_USAGE", f"not a sweep run id: {text!r}", run=text)
    return err.add_hint("a run id reads PATH:LINE:OPERATION:FAULT:transient|persistent")


def replay_command(spec: RunSpec, command: Sequence[str]) -> str:
    """The shell command that repeats exactly this run."""
    words = ["errwise", "sweep", "--run", spec.id]
    if spec.test is not None:
        words += ["--test", spec.test]
    return shlex.join([*words, "--", *command])


def in_project(path: str) -> bool:
    """Whether a site or handler path names a file of the project: the agent writes those
    relative to the root; a file elsewhere (the standard library, an installed package) is
    absolute, and a frozen module is named `<frozen ...>`."""
    return not (path.startswith(("<", "/", "../")) or path == "..")


def run_record(
    spec: RunSpec,
    *,
    command: Sequence[str],
    verdict: str,
    reason: str,
    duration: float,
    agent: Mapping[str, Any] | None = None,
    hang: bool = False,
) -> dict[str, Any]:
    """The JSON object of one finished run (contract section 3, plus the agent's evidence)."""
    found = agent or {}
    return {
        "id": spec.id,
        "test": spec.test,
        "operation": spec.operation,
        "fault": spec.fault,
        "persistent": spec.persistent,
        "site": {"path": spec.path, "line": spec.line},
        "verdict": verdict,
        "reason": reason,
        "handler": found.get("handler"),
        "handlers": list(found.get("handlers") or []),
        "reports": list(found.get("reports") or []),
        "injection": found.get("injection"),
        "fired": found.get("fired", 0),
        "duration": round(duration, 3),
        "replay": replay_command(spec, command),
        "hang": hang,
    }
