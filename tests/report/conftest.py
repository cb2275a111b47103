"""Helpers for report tests: audit a small tree in-process and render any format."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from report_helpers import REPO, Tree

from errwise.audit.report import AuditReport
from errwise.audit.runner import AuditOptions, run_audit


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


@pytest.fixture
def audit_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tree:
    """`audit_tree({name: source}, *paths)`: the report of auditing those files from tmp_path."""

    def run(files: Mapping[str, str], *paths: str) -> AuditReport:
        write_tree(tmp_path, files)
        monkeypatch.chdir(tmp_path)
        return run_audit(AuditOptions(paths=paths or (".",), jobs=1, no_config=True))

    return run


@pytest.fixture
def workorder_report(monkeypatch: pytest.MonkeyPatch) -> AuditReport:
    """The report of `examples/workorder`, audited from the repository root."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert os.path.isdir("examples/workorder")
    return run_audit(AuditOptions(paths=("examples/workorder",), jobs=1, no_config=True))


class CliRun:
    """The outcome of one in-process `errwise` command."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"CliRun(code={self.code}, out={self.out[-1500:]!r}, err={self.err[-1500:]!r})"


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliRun]:
    """`cli(*args, cwd=None)`: run `errwise ARGS` in this process."""

    def run(*args: str, cwd: str | os.PathLike[str] | None = None) -> CliRun:
        from errwise.cli import main

        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run
