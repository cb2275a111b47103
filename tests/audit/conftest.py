"""Shared helpers for auditor tests: audit a dedented snippet with some rules selected."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source
from errwise.audit.finding import Finding

Audit = Callable[..., list[Finding]]


@pytest.fixture
def audit() -> Audit:
    """`audit(source, *rules)`: the findings of the given rules (ids or names; all when none)."""

    def run(source: str, *rules: str, path: str = "snippet.py") -> list[Finding]:
        config = AuditConfig(select=frozenset(rules) if rules else None)
        result = analyze_source(textwrap.dedent(source), path, config)
        assert not result.diagnostics, result.diagnostics
        return result.findings

    return run


# -- the command line (tests of `errwise audit`, `rules`, `explain`) ----------------------------


class CliRun:
    """The outcome of one in-process `errwise` command."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"CliRun(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


Cli = Callable[..., CliRun]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli(*args, cwd=None)`: run `errwise ARGS` in this process; any traceback fails the test."""

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
