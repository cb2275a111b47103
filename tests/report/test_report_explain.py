"""`errwise explain` shows the production impact; `errwise rules --format json` the docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from errwise.audit.report.impact import effect_impacts, effects_matter, rule_impact
from errwise.audit.rules import all_rules

Cli = Callable[..., Any]


@pytest.mark.parametrize("rule", [r.id for r in all_rules()])
def test_explain_ends_with_the_production_impact(cli: Cli, rule: str) -> None:
    run = cli("explain", rule)
    assert run.code == 0
    doc, _, impact = run.out.partition("\n## Production impact\n")
    assert doc.startswith(f"# {rule} ") and "## Fix" in doc
    own = rule_impact(rule)
    assert own and own in impact
    for text in effect_impacts().values():
        assert (text in impact) is effects_matter(rule)


def test_broad_catch_impact_is_right_about_ctrl_c(cli: Cli) -> None:
    # Seed 004 said `except Exception` catches KeyboardInterrupt and SystemExit: it does not.
    out = cli("explain", "broad-catch").out
    assert "does not catch Ctrl-C or `sys.exit()`" in out


def test_rules_json_carries_each_rules_documentation(cli: Cli) -> None:
    rows = cli("rules", "--format", "json").json()
    by_id = {r.id: r for r in all_rules()}
    assert [row["id"] for row in rows] == list(by_id)
    for row in rows:
        rule = by_id[row["id"]]
        assert row["what"] == rule.what.strip() and row["why"] == rule.why.strip()
        assert row["example"] == rule.example.strip("\n") and row["fix"] == rule.fix.strip()
