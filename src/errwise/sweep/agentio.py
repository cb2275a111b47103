"""The orchestrator's side of the agent protocol (contract section 2): the child's environment,
and the agent's JSON report, read and checked.

Promise: `agent_env` asks `errwise.sweep.agent.launch.child_env` for everything a child needs
(record mode, or fault mode for one `RunSpec`). `read_report` returns the agent's report, or
None when the file is absent (the agent never ran or the process died); a file that is present
but is not a contract-2 report is ERR_SWEEP_CORRUPT naming the file and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from errwise.error import env
from errwise.sweep.agent import launch
from errwise.sweep.model import RunSpec

__all__ = ["agent_env", "read_report"]


def agent_env(
    base: Mapping[str, str],
    *,
    mode: Literal["record", "fault"],
    root: Path,
    out: Path,
    workdir: Path,
    spec: RunSpec | None = None,
) -> dict[str, str]:
    """The environment of one child: `base` plus what the agent needs."""
    fault = None
    if spec is not None:
        fault = launch.FaultRequest(
            operation=spec.operation,
            fault=spec.fault,
            path=spec.path,
            line=spec.line,
            persistent=spec.persistent,
        )
    return launch.child_env(
        base,
        mode=mode,
        root=root,
        out=out,
        fault=fault,
        test=spec.test if spec is not None else None,
        workdir=workdir,
    )


def read_report(path: Path) -> dict[str, Any] | None:
    """The agent's report at `path`, checked; None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _corrupt(path, f"not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("agent") != 1:
        raise _corrupt(path, "not a version-1 agent report")
    tests = data.get("tests")
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise _corrupt(path, "`tests` is not a list of objects")
    errors = data.get("errors", [])
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
        raise _corrupt(path, "`errors` is not a list of strings")
    for test in tests:
        if not isinstance(test.get("outcome"), str):
            raise _corrupt(path, "a test has no `outcome`")
        sites = test.get("sites", [])
        if not isinstance(sites, list) or not all(_is_site(s) for s in sites):
            raise _corrupt(path, f"the sites of {test.get('nodeid')!r} are malformed")
    return data


def _is_site(site: object) -> bool:
    return (
        isinstance(site, dict)
        and isinstance(site.get("path"), str)
        and isinstance(site.get("line"), int)
        and isinstance(site.get("operation"), str)
    )


def _corrupt(path: Path, what: str) -> Exception:
    err = env("ERR_SWEEP_CORRUPT", f"the sweep agent's report {path} is {what}", path=str(path))
    return err.add_hint("this is a bug in errwise's sweep agent if the file was not edited")
