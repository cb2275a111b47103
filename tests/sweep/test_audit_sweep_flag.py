"""`errwise audit --sweep FILE`: each finding the sweep confirmed or refuted says so, in every
format; a missing or malformed sweep file is a usage error naming it."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sweep_runs import run

SOURCE = """
import os

def drop(path):
    try:
        os.unlink(path)
    except Exception:
        pass

def logged(path, log):
    try:
        os.unlink(path)
    except Exception:
        log.warning("gone")

def untouched(path):
    try:
        os.unlink(path)
    except Exception:
        pass
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mod.py").write_text(textwrap.dedent(SOURCE).lstrip("\n"))
    lines = (root / "mod.py").read_text().splitlines()
    drop, logged, _ = [i + 1 for i, text in enumerate(lines) if "except Exception:" in text]
    document = {
        "version": 1,
        "command": ["python", "-m", "pytest", "-q"],
        "root": str(root),
        "runs": [
            run("mod.py", drop, "silent", fault="ENOSPC", operation="os.unlink"),
            run("mod.py", logged, "reported", fault="EACCES", operation="os.unlink"),
        ],
        "survivals": [],
    }
    (tmp_path / "sweep.json").write_text(json.dumps(document))
    return root


def _audit(cli: Callable[..., Any], project: Path, *args: str) -> Any:
    return cli(
        "audit",
        "--no-cache",
        "--profile",
        "strict",
        "--sweep",
        "../sweep.json",
        *args,
        ".",
        cwd=project,
    )


def test_json_findings_gain_the_sweep_field(cli: Callable[..., Any], project: Path) -> None:
    result = _audit(cli, project, "--format", "json")
    assert result.code == 1, result
    findings = {f["line"]: f for f in result.json()["findings"]}
    drop, logged, untouched = sorted(findings)
    assert findings[drop]["sweep"] == {
        "status": "confirmed",
        "fault": "ENOSPC",
        "operation": "os.unlink",
        "replay": f"errwise sweep --run 'mod.py:{drop - 1}:os.unlink:ENOSPC:transient' "
        "-- python -m pytest -q",
        "verdict": "silent",
        "test": "tests/test_x.py::test_x",
        "runs": 1,
    }
    assert findings[logged]["sweep"]["status"] == "refuted"
    assert findings[logged]["sweep"]["verdict"] == "reported"
    assert "sweep" not in findings[untouched]  # absent when the sweep did not reach it
    assert "1 finding(s) confirmed, 1 refuted" in result.err


def test_without_the_flag_the_json_is_unchanged(cli: Callable[..., Any], project: Path) -> None:
    result = cli("audit", "--no-cache", "--profile", "strict", "--format", "json", ".", cwd=project)
    assert all("sweep" not in f for f in result.json()["findings"])
    assert "sweep" not in result.err


def test_text_says_it_on_the_findings_line(cli: Callable[..., Any], project: Path) -> None:
    result = _audit(cli, project)
    lines = result.out.splitlines()
    assert len(lines) == 3
    assert (
        "[sweep confirmed: an injected ENOSPC at `os.unlink` vanished here silently; "
        "replay: errwise sweep --run 'mod.py:" in lines[0]
    )
    assert (
        "[sweep refuted: an injected EACCES at `os.unlink` was reported here, not lost" in lines[1]
    )
    assert "sweep" not in lines[2]


def test_quiet_leaves_stderr_alone(cli: Callable[..., Any], project: Path) -> None:
    result = _audit(cli, project, "--quiet")
    assert "sweep" not in result.err


def test_markdown_has_a_sweep_line(cli: Callable[..., Any], project: Path) -> None:
    result = _audit(cli, project, "--format", "markdown")
    assert (
        "**Sweep: confirmed** — an injected `ENOSPC` at `os.unlink` vanished silently" in result.out
    )
    assert (
        "**Sweep: refuted** — an injected `EACCES` at `os.unlink` was reported here" in result.out
    )
    assert result.out.count("**Sweep:") == 2


def test_sarif_puts_it_in_the_result_properties(cli: Callable[..., Any], project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = _audit(cli, project, "--format", "sarif")
    log = result.json()
    schema = Path(__file__).resolve().parents[1] / "report" / "data" / "sarif-schema-2.1.0.json"
    jsonschema.validate(log, json.loads(schema.read_text()))
    marks = [r["properties"].get("sweep") for r in log["runs"][0]["results"]]
    assert [m and m["status"] for m in marks] == ["confirmed", "refuted", None]


def _bad(tmp_path: Path, content: Any) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


GOOD_RUN = run("mod.py", 5, "silent")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "is not valid JSON"),
        ([1, 2], "is not a sweep report"),
        ({"findings": []}, "is not a sweep report"),
        ({"version": 2, "root": "/x", "runs": []}, "has version 2"),
        ({"version": 1, "runs": []}, "has no absolute `root`"),
        ({"version": 1, "root": "rel", "runs": []}, "has no absolute `root`"),
        ({"version": 1, "root": "/x", "runs": {}}, "`runs` that is not a list"),
        ({"version": 1, "root": "/x", "runs": [{"id": "x"}]}, "run 0 is not an object"),
        (
            {"version": 1, "root": "/x", "runs": [GOOD_RUN, {**GOOD_RUN, "handler": {"line": 3}}]},
            "run 1 has a malformed `handler`",
        ),
        (
            {"version": 1, "root": "/x", "runs": [{**GOOD_RUN, "handlers": "mod.py:3"}]},
            "`handlers` that is not a list",
        ),
    ],
)
def test_a_malformed_sweep_file_is_a_usage_error(
    cli: Callable[..., Any], project: Path, tmp_path: Path, content: Any, why: str
) -> None:
    path = _bad(tmp_path, content)
    result = cli("audit", "--no-cache", "--sweep", path, ".", cwd=project)
    assert result.code == 2, result
    assert why in result.err
    assert path in result.err
    assert result.out == ""  # refused before any audit output


def test_a_missing_sweep_file_is_a_usage_error(
    cli: Callable[..., Any], project: Path, tmp_path: Path
) -> None:
    result = cli("audit", "--no-cache", "--sweep", str(tmp_path / "none.json"), ".", cwd=project)
    assert result.code == 2
    assert "none.json: does not exist" in result.err
    assert "errwise sweep --format json --output" in result.err


def test_a_directory_is_not_a_sweep_file(
    cli: Callable[..., Any], project: Path, tmp_path: Path
) -> None:
    result = cli("audit", "--no-cache", "--sweep", str(tmp_path), ".", cwd=project)
    assert result.code == 2
    assert "is a directory" in result.err


def test_an_unreadable_sweep_file_is_a_usage_error_with_the_reason(
    cli: Callable[..., Any], project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _bad(tmp_path, {"version": 1, "root": "/x", "runs": []})
    real_open = os.open

    def refuse(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(name) == path:
            raise PermissionError(13, os.strerror(13), path)
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    result = cli("audit", "--no-cache", "--sweep", path, ".", cwd=project)
    assert result.code == 2, result
    assert "cannot be read (Permission denied)" in result.err
