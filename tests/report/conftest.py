"""Helpers for report tests: audit a small tree in-process and render any format."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path

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
        return run_audit(
            AuditOptions(paths=paths or (".",), jobs=1, no_config=True, profile="strict")
        )

    return run


@pytest.fixture
def workorder_report(monkeypatch: pytest.MonkeyPatch) -> AuditReport:
    """The report of `examples/workorder`, audited from the repository root."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert os.path.isdir("examples/workorder")
    return run_audit(
        AuditOptions(paths=("examples/workorder",), jobs=1, no_config=True, profile="strict")
    )
