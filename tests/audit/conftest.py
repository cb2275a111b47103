"""Shared helpers for auditor tests: audit a dedented snippet with some rules selected."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source
from errwise.audit.finding import Finding

Audit = Callable[..., list[Finding]]


@pytest.fixture
def audit() -> Audit:
    """`audit(source, *rules)`: the findings of the given rules (ids or names; all when none)."""

    def run(source: str, *rules: str, path: str = "snippet.py") -> list[Finding]:
        config = AuditConfig(select=frozenset(rules) if rules else None, profile="strict")
        result = analyze_source(textwrap.dedent(source), path, config)
        assert not result.diagnostics, result.diagnostics
        return result.findings

    return run
