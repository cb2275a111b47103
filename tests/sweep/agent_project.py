"""A tiny sample project and a driver that runs it under the sweep agent in a real child.

`write_project(root)` writes the project; `run_child(...)` runs one command with the agent's
environment from `launch.child_env` and returns the agent's JSON report and the process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from errwise.sweep.agent.launch import FaultRequest, child_env

STORE = """\
import contextlib
import logging
import os
import sys

log = logging.getLogger("pkg.store")


def save_swallow(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError:
        return False
    return True


def save_logged(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError:
        log.exception("could not save %s", path)


def save_raise(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError as exc:
        raise RuntimeError(f"cannot save {path}") from exc


def remove_quietly(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


def save_warn_text(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError as exc:
        log.warning("could not save: %s", exc)


def save_stderr(path, data):
    try:
        with open(path, "w") as f:
            f.write(data)
    except OSError as exc:
        print(f"warning: not saved ({exc.strerror})", file=sys.stderr)


def save_plain(path, data):
    with open(path, "w") as f:
        f.write(data)
"""

TESTS = """\
import os
import sys

import pytest

from pkg import store


def test_swallow(tmp_path):
    store.save_swallow(tmp_path / "a", "x")


def test_logged(tmp_path):
    store.save_logged(tmp_path / "a", "x")


def test_raise(tmp_path):
    store.save_raise(tmp_path / "a", "x")


def test_suppress(tmp_path):
    (tmp_path / "a").write_text("x")
    store.remove_quietly(tmp_path / "a")


def test_warn_text(tmp_path):
    store.save_warn_text(tmp_path / "a", "x")


def test_stderr(tmp_path):
    print("the test's own output, before the fault", file=sys.stderr)
    store.save_stderr(tmp_path / "a", "x")
    print("the test's own output, after the fault", file=sys.stderr)


def test_pytest_raises(tmp_path):
    with pytest.raises(OSError):
        store.save_plain(tmp_path / "missing" / "a", "x")


def test_fails_otherwise(tmp_path):
    ok = store.save_swallow(tmp_path / "a", "x")
    assert ok, "the file was not saved"


def test_no_io():
    assert store.log.name == "pkg.store"


def test_environment_is_clean():
    assert not [name for name in os.environ if name.startswith("ERRWISE_SWEEP_")]
    assert os.environ.get("PYTHONPATH", "") == os.environ.get("AGENT_TEST_PYTHONPATH")


def test_tracer_chained(tmp_path):
    seen = []

    def tracer(frame, event, arg):
        if event == "call":
            seen.append(frame.f_code.co_name)
        return tracer

    sys.settrace(tracer)
    sys.modules["conftest"].TRACER = tracer
    store.save_swallow(tmp_path / "a", "x")
    store.save_plain(tmp_path / "b", "y")
    assert "save_plain" in seen
"""

CONFTEST = """\
import json
import os
import sys

TRACER = None


def pytest_sessionfinish(session, exitstatus):
    probe = os.environ.get("AGENT_TEST_PROBE")
    if probe and TRACER is not None:
        with open(probe, "w") as f:
            json.dump({"tracer_restored": sys.gettrace() is TRACER}, f)
        sys.settrace(None)
"""

TOOL = """\
import sys

from pkg import store

if sys.argv[1] == "swallow":
    store.save_swallow(sys.argv[2], "x")
    print("done")
else:
    try:
        store.save_plain(sys.argv[2], "x")
    except OSError as exc:
        print(f"tool: {exc}", file=sys.stderr)
        sys.exit(1)
import sitecustomize

ran = getattr(sys, "user_sitecustomize_ran", False)
print("user sitecustomize:", ran, getattr(sitecustomize, "MARK", None))
"""


def write_project(root: Path) -> None:
    """The sample project at `root` (pkg/, tests/, tool.py)."""
    files = {
        "pkg/__init__.py": "",
        "pkg/store.py": STORE,
        "tests/conftest.py": CONFTEST,
        "tests/test_store.py": TESTS,
        "tool.py": TOOL,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def line_of(root: Path, text: str, path: str = "pkg/store.py", nth: int = 1) -> int:
    """The line number of the `nth` line of `path` holding `text`."""
    hits = [
        number
        for number, line in enumerate((root / path).read_text().splitlines(), start=1)
        if text in line
    ]
    return hits[nth - 1]


def run_child(
    root: Path,
    work: Path,
    name: str,
    command: Sequence[str],
    *,
    fault: FaultRequest | None = None,
    test: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """Run `command` in `root` under the agent; the agent's report and the process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    base.pop("PYTHONPATH", None)
    base["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the sample needs none: 4x faster children
    base.update(extra_env or {})
    out = work / "out" / f"{name}.json"
    env = child_env(
        base,
        mode="record" if fault is None else "fault",
        root=root,
        out=out,
        fault=fault,
        test=test,
        workdir=work / "agent",
    )
    env["AGENT_TEST_PYTHONPATH"] = base.get("PYTHONPATH", "")
    argv = [sys.executable if part == "python" else part for part in command]
    if "pytest" in argv:  # a private pytest temp root: parallel children never clean each other's
        (work / "tmp").mkdir(parents=True, exist_ok=True)
        argv += ["--basetemp", str(work / "tmp" / name)]
    proc = subprocess.run(
        argv,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.is_file(), f"the agent wrote no report: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    return json.loads(out.read_text(encoding="utf-8")), proc
