"""errwise sweep end to end against the fake agent: verdicts, survivals, report, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sweep_fake
from sweep_fake import COMMAND, make_project, scenario


@pytest.fixture(autouse=True)
def _fake(monkeypatch: pytest.MonkeyPatch) -> None:
    sweep_fake.install(monkeypatch.setattr)


def _sweep(cli: Callable[..., Any], root: Path, tmp_path: Path, *args: str) -> Any:
    return cli(
        "sweep",
        "--root",
        str(root),
        "--state",
        str(tmp_path / "state.json"),
        "--format",
        "json",
        "-q",
        *args,
        "--",
        *COMMAND,
    )


def test_sweep_reports_the_swallowing_handler(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    root = make_project(tmp_path, scenario())
    result = _sweep(cli, root, tmp_path)
    assert result.code == 1, result
    report = result.json()
    print(json.dumps(report["summary"]))
    assert report["summary"]["silent"] >= 1
