"""The Markdown report: the golden report of examples/workorder, its structure, determinism,
hidden errors when present, and test sketches that are valid Python."""

from __future__ import annotations

import ast
import copy
import os
import re
from pathlib import Path

import pytest
from report_helpers import DATA, Tree

from errwise.audit.finding import Severity
from errwise.audit.report import AuditReport, render
from errwise.audit.report.fmt_markdown import label, report_date
from errwise.audit.report.impact import failure_test

GOLDEN = DATA / "workorder_report.md.golden"  # not .md: formatters would rewrite it
DATE_LINE = re.compile(r"^\*\*Date\*\*: \d{4}-\d{2}-\d{2}  $", re.M)


def _normalised(text: str) -> str:
    return DATE_LINE.sub("**Date**: <date>  ", text)


def test_golden_report_of_the_example(workorder_report: AuditReport) -> None:
    text = _normalised(render("markdown", workorder_report))
    if os.environ.get("ERRWISE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert text == expected, (
        "the Markdown report changed; if on purpose, rerun with ERRWISE_UPDATE_GOLDEN=1 and "
        "review the diff of tests/report/data/workorder_report.md.golden"
    )


def test_same_input_same_report_except_the_date(
    workorder_report: AuditReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render("markdown", workorder_report)
    again = render("markdown", copy.deepcopy(workorder_report))
    assert first == again
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    today = render("markdown", workorder_report)
    assert f"**Date**: {report_date()}  " in today
    assert _normalised(today) == _normalised(first)
    assert first != today or report_date() == "1970-01-01"


def test_report_has_the_specialists_shape(workorder_report: AuditReport) -> None:
    text = render("markdown", workorder_report)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Executive summary",
        "## Critical findings",
        "## High findings",
        "## Medium findings",
        "## Low findings",
        "## Prioritised actions",
        "## Testing recommendations",
        "## Method",
    ]
    counts = workorder_report.by_severity()
    for severity, n in counts.items():
        assert f"| {severity.capitalize()} | {n} |" in text
    assert "**Scope**: 7 Python files, " in text
    assert f"**Rules on**: {len(workorder_report.rules)} (EW101, " in text
    # What the code does well comes from safe.py, which uses Result and classified errors.
    well = text.split("### What the code does well")[1].split("---")[0]
    assert "in `examples/workorder/workorder/safe.py`: `default_branch()` (line 36)" in well
    assert "return a `Result`" in well and "raise classified errors" in well
    # every finding once, with its label, location and impact
    labels = label(workorder_report)
    for finding in workorder_report.findings:
        heading = f"### {labels[id(finding)]}: {finding.rule} {finding.name} in "
        assert text.count(heading) == 1, heading
    key = text.split("### Key problems")[1].split("###")[0]
    assert 3 <= len(re.findall(r"^\d+\. ", key, re.M)) <= 5


def test_excerpt_marks_the_reported_lines(workorder_report: AuditReport) -> None:
    text = render("markdown", workorder_report)
    rollback = next(f for f in workorder_report.findings if f.rule == "EW104")
    section = text.split(f"{rollback.rule} {rollback.name} in")[1].split("\n---\n")[0]
    source = Path("examples/workorder/workorder/rollback.py").read_text().splitlines()
    assert f">{rollback.line} | {source[rollback.line - 1]}" in section
    assert f"**Location**: `{rollback.path}:{rollback.line}-{rollback.end_line}`" in section
    assert "**Production impact**" in section and "Rollback or cleanup stops part-way" in section


def test_hidden_errors_are_rendered_when_inference_gives_them(
    workorder_report: AuditReport,
) -> None:
    report = copy.deepcopy(workorder_report)
    for other in report.findings:
        other.hidden_errors = []  # only the target below carries hidden errors here
    target = next(f for f in report.findings if f.rule == "EW101")
    target.hidden_errors = ["PermissionError", "IsADirectoryError"]
    target.hidden_errors_complete = True
    text = render("markdown", report)
    assert "**Hidden errors**: `PermissionError`, `IsADirectoryError`\n" in text
    assert text.count("**Hidden errors**: not computed") == len(report.findings) - 1
    sketch = failure_test(target)
    assert 'raise PermissionError(errno.EACCES, "Permission denied (injected)")' in sketch


def test_a_failure_test_per_critical_and_high_finding_is_valid_python(
    workorder_report: AuditReport,
) -> None:
    text = render("markdown", workorder_report)
    testing = text.split("## Testing recommendations")[1].split("## Method")[0]
    serious = [f for f in workorder_report.findings if f.severity.at_least(Severity.HIGH)]
    blocks = re.findall(r"```python\n(.*?)\n```", testing, re.S)
    assert len(blocks) == len(serious)
    for block in blocks:
        tree = ast.parse(block)  # a sketch must at least be Python
        tests = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert len(tests) == 1 and tests[0].name.startswith("test_")
        assert "pytest.raises" in block
        injects = ("monkeypatch.setattr", "make the guarded code raise", "'no-such-kind'")
        assert any(marker in block for marker in injects), block


def test_interrupt_findings_inject_keyboard_interrupt(workorder_report: AuditReport) -> None:
    finding = next(f for f in workorder_report.findings if f.rule == "EW110")
    sketch = failure_test(finding)
    assert "raise KeyboardInterrupt()" in sketch
    assert "pytest.raises(KeyboardInterrupt)" in sketch
    assert 'monkeypatch.setattr(subject, "update_lock_heartbeat", fail)' in sketch


def test_a_clean_tree_says_so(audit_tree: Tree) -> None:
    report = audit_tree({"ok.py": "def add(a, b):\n    return a + b\n"})
    text = render("markdown", report)
    assert "| **Total** | **0** |" in text
    assert "1 of 1 analysed files have no finding at all." in text
    assert "## Testing recommendations" not in text and "## Prioritised actions" not in text


def test_diagnostics_are_listed(audit_tree: Tree) -> None:
    report = audit_tree({"broken.py": "def f(:\n", "ok.py": "x = 1\n"})
    text = render("markdown", report)
    assert "## Diagnostics" in text
    assert "- `broken.py:1`: ERR_PARSE: " in text
