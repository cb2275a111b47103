"""Dogfood: errwise audits its own source with every rule (the strict profile) and finds nothing;
every suppression in it is explicit (names its rules) and gives a reason
(`# errwise: ignore[rule] -- why`)."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., Any]

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
_SUPPRESSION = re.compile(r"#\s*(errwise:\s*ignore|noqa:[^#]*\bEW\d+)", re.IGNORECASE)
_WITH_REASON = re.compile(r"#\s*errwise:\s*ignore\[[^\]]+\]\s+--\s+\S.{8,}", re.IGNORECASE)


def test_errwise_source_has_no_findings(cli: Cli) -> None:
    run = cli(
        "audit", "--profile", "strict", "--format", "json", "--profile", "strict", "src", cwd=REPO
    )
    doc = run.json()
    assert doc["diagnostics"] == []
    assert [f"{f['path']}:{f['line']}: {f['rule']} {f['message']}" for f in doc["findings"]] == []
    assert run.code == 0
    assert doc["summary"]["files"] >= 30


def test_every_suppression_in_src_names_its_rules_and_a_reason() -> None:
    bad: list[str] = []
    seen = 0
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.COMMENT or not _SUPPRESSION.search(tok.string):
                continue
            seen += 1
            if not _WITH_REASON.search(tok.string):
                bad.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {tok.string}")
    assert bad == [], "suppressions need `# errwise: ignore[rule] -- reason`"
    assert seen >= 1  # the scan does see our suppressions
