"""The sweep's tests run against a fake agent and fault table (sweep_fake.py); `sweep(...)`
runs `errwise sweep` in this process over a sample project under tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sweep_fake


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    sweep_fake.install(monkeypatch.setattr)


@pytest.fixture
def sweep(cli: Callable[..., Any], tmp_path: Path, fake: None) -> Callable[..., Any]:
    """`sweep(root, *flags, command=COMMAND, fmt="json")`: the CliRun of one sweep."""

    def run(root: Path, *flags: str, command: list[str] | None = None, fmt: str = "json") -> Any:
        return cli(
            "sweep",
            "--root",
            str(root),
            "--state",
            str(tmp_path / "state.json"),
            "--format",
            fmt,
            "-q",
            *flags,
            "--",
            *(command or sweep_fake.COMMAND),
        )

    return run
