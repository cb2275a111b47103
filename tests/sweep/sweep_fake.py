"""Test helpers for the sweep: a sample project, a fake agent, and a fault table of our own.

`install()` replaces the agent's environment builder with one that hands the request to
sweep_fake_suite.py in FAKE_SWEEP, and `errwise.faults.OPERATIONS` with FAKE_OPERATIONS, so the
orchestrator is tested against the agent protocol (contract section 2) alone.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SUITE = Path(__file__).with_name("sweep_fake_suite.py")
COMMAND = [sys.executable, "-S", str(SUITE)]  # -S: no site, a fast start


@dataclass(frozen=True)
class FakeOperation:
    name: str
    faults: tuple[str, ...]
    sweep: tuple[str, ...]


FAKE_OPERATIONS = {
    "open": FakeOperation("open", ("EACCES", "EIO", "ENOENT"), ("EACCES", "EIO")),
    "file.write": FakeOperation("file.write", ("ENOSPC", "EIO"), ("ENOSPC",)),
    "os.replace": FakeOperation("os.replace", ("EACCES", "EIO"), ("EACCES",)),
}

STORE = textwrap.dedent(
    """\
    import logging
    import os


    def save(path, data):
        try:
            with open(path, "w") as f:
                f.write(data)
        except OSError:
            pass


    def load(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            logging.getLogger(__name__).warning("cannot read %s", path, exc_info=True)
            return None


    def replace(a, b):
        os.replace(a, b)
    """
)

SAVE_OPEN = {"path": "pkg/store.py", "line": 7, "function": "save", "operation": "open"}
SAVE_WRITE = {"path": "pkg/store.py", "line": 8, "function": "save", "operation": "file.write"}
LOAD_OPEN = {"path": "pkg/store.py", "line": 15, "function": "load", "operation": "open"}
REPLACE = {"path": "pkg/store.py", "line": 23, "function": "replace", "operation": "os.replace"}
SWALLOW = {"path": "pkg/store.py", "line": 9, "function": "save"}
LOGGED = {"path": "pkg/store.py", "line": 17, "function": "load"}


def scenario(**overrides: Any) -> dict[str, Any]:
    """The default scenario: three passing tests over four sites, save's handler swallows."""
    data: dict[str, Any] = {
        "tests": [
            {"nodeid": "tests/test_store.py::test_save", "sites": [SAVE_OPEN, SAVE_WRITE]},
            {
                "nodeid": "tests/test_store.py::test_load",
                "sites": [LOAD_OPEN, SAVE_OPEN],
                "duration": 0.5,
            },
            {"nodeid": "tests/test_store.py::test_replace", "sites": [REPLACE]},
        ],
        "behaviour": {
            "pkg/store.py:7:open": {"verdict": "silent", "handler": SWALLOW},
            "pkg/store.py:8:file.write": {"verdict": "silent", "handler": SWALLOW},
            "pkg/store.py:15:open": {"verdict": "reported", "handler": LOGGED},
            "pkg/store.py:23:os.replace": {"verdict": "propagated"},
        },
    }
    data.update(overrides)
    return data


def make_project(tmp_path: Path, data: Mapping[str, Any], pyproject: str = "") -> Path:
    """A project under tmp_path/proj with pkg/store.py and scenario.json; returns its root."""
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "store.py").write_text(STORE, encoding="utf-8")
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    full = {"counter": str(tmp_path / "counter"), **data}
    (root / "scenario.json").write_text(json.dumps(full), encoding="utf-8")
    if pyproject:
        (root / "pyproject.toml").write_text(textwrap.dedent(pyproject), encoding="utf-8")
    return root


def fake_env(
    base: Mapping[str, str],
    *,
    mode: Literal["record", "fault"],
    root: Path,
    out: Path,
    workdir: Path,
    spec: Any = None,
) -> dict[str, str]:
    fault = None
    if spec is not None:
        fault = {
            "operation": spec.operation,
            "fault": spec.fault,
            "path": spec.path,
            "line": spec.line,
            "persistent": spec.persistent,
        }
    request = {
        "mode": mode,
        "out": str(out),
        "root": str(root),
        "test": None if spec is None else spec.test,
        "fault": fault,
    }
    return {**base, "FAKE_SWEEP": json.dumps(request), "PYTHONDONTWRITEBYTECODE": "1"}


def install(setattr_: Callable[[object, str, object], None]) -> None:
    """Patch the agent's environment builder and the fault table (monkeypatch.setattr)."""
    from errwise import faults
    from errwise.sweep import agentio

    setattr_(agentio, "agent_env", fake_env)
    setattr_(faults, "OPERATIONS", FAKE_OPERATIONS)
