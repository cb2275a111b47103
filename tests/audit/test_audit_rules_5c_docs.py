"""The documentation of rules EW107 EW109 EW112 EW114 EW115 EW117 EW118 EW119 EW121: complete,
and each rule's own bad example is reported by the rule itself."""

from __future__ import annotations

import ast

import pytest

from errwise.audit.rules import all_rules

OWNED = ("EW107", "EW109", "EW112", "EW114", "EW115", "EW117", "EW118", "EW119", "EW121")
RULES = {rule.id: rule for rule in all_rules() if rule.id in OWNED}


def test_all_owned_rules_are_registered():
    assert sorted(RULES) == list(OWNED)


@pytest.mark.parametrize("rule_id", OWNED)
def test_documentation_is_complete(rule_id):
    rule = RULES[rule_id]
    doc = rule.doc_markdown()
    for heading in ("## What it finds", "## Why it hurts", "## Example", "## Fix"):
        assert heading in doc
    assert rule.summary and len(rule.summary) <= 100
    assert "errwise." in rule.fix, "the fix points at errwise's library"
    ast.parse(rule.example)


@pytest.mark.parametrize("rule_id", OWNED)
def test_bad_example_is_reported(audit, rule_id):
    rule = RULES[rule_id]
    findings = audit(rule.example, rule_id)
    assert findings, f"{rule_id} does not report its own bad example"
    assert {f.rule for f in findings} == {rule_id}
