"""One end-to-end sweep with the real agent (no fake): pytest under the sweep, a swallowing
handler found silent at its line and confirmed by the auditor, a propagating one not."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

CODE = """\
import os


def publish(src, dst):
    try:
        os.replace(src, dst)
    except OSError:
        pass


def publish_strict(src, dst):
    os.replace(src, dst)
"""

TESTS = """\
from pkg.tidy import publish, publish_strict


def test_publish(tmp_path):
    (tmp_path / "a").write_text("x")
    publish(str(tmp_path / "a"), str(tmp_path / "b"))


def test_publish_strict(tmp_path):
    (tmp_path / "a").write_text("x")
    publish_strict(str(tmp_path / "a"), str(tmp_path / "b"))
"""


def test_a_real_sweep_finds_the_swallowing_handler(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "tidy.py").write_text(CODE, encoding="utf-8")
    (root / "tests" / "test_tidy.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = cli(
        "sweep",
        "--root",
        str(root),
        "--state",
        str(tmp_path / "state.json"),
        "--faults",
        "EACCES",
        "--format",
        "json",
        "-q",
        "--",
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        f"--basetemp={tmp_path / 'basetemp'}",  # not the shared /tmp/pytest-of-<user> rotation
        "tests",
    )
    assert result.code == 1, result
    report = result.json()
    verdicts = {(r["site"]["line"], r["persistent"]): r["verdict"] for r in report["runs"]}
    assert verdicts == {(6, False): "silent", (6, True): "silent", (12, False): "propagated"}
    survival = report["survivals"][0]
    assert survival["handler"]["path"] == "pkg/tidy.py"
    assert survival["handler"]["line"] == 7
    assert survival["tests"] == ["tests/test_tidy.py::test_publish"]
    assert survival["finding"] is not None  # `except OSError: pass`: the auditor agrees
    assert report["summary"]["confirmed"] == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing left behind
