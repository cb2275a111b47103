"""SARIF validated against the official 2.1.0 schema; GitHub workflow-command annotations
escaped the way the Actions runner reads them."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from report_helpers import DATA, Tree

from errwise.audit.finding import Severity
from errwise.audit.report import AuditReport, render
from errwise.audit.report.fmt_github import escape_data, escape_property
from errwise.audit.report.fmt_sarif import FINGERPRINT_KEY, LEVELS
from errwise.audit.rules import all_rules

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_of_the_example_is_valid_and_complete(workorder_report: AuditReport) -> None:
    log = json.loads(render("sarif", workorder_report))
    jsonschema.validate(log, SCHEMA)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    catalog = all_rules()
    assert [r["id"] for r in driver["rules"]] == [r.id for r in catalog]
    for entry, rule in zip(driver["rules"], catalog, strict=True):
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.summary
        assert entry["fullDescription"]["text"]
        assert entry["help"]["markdown"].startswith(f"# {rule.id} {rule.name}")
        assert entry["defaultConfiguration"]["level"] == LEVELS[rule.severity]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    results = run["results"]
    assert len(results) == len(workorder_report.findings)
    for result, finding in zip(results, workorder_report.findings, strict=True):
        assert result["ruleId"] == finding.rule
        assert driver["rules"][result["ruleIndex"]]["id"] == finding.rule
        assert result["level"] == LEVELS[finding.severity]
        assert result["partialFingerprints"] == {FINGERPRINT_KEY: finding.fingerprint}
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": finding.path, "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] == finding.line
        assert location["region"]["endLine"] == finding.end_line
        assert location["region"]["startColumn"] == finding.col
    levels = {r["level"] for r in results}
    assert levels == {"error", "warning", "note"}
    assert LEVELS[Severity.CRITICAL] == LEVELS[Severity.HIGH] == "error"


def test_sarif_reports_unanalysed_files_and_stays_valid(audit_tree: Tree) -> None:
    report = audit_tree({"broken.py": "def f(:\n", "ok.py": "x = 1\n"})
    log = json.loads(render("sarif", report))
    jsonschema.validate(log, SCHEMA)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "ERR_PARSE"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert log["runs"][0]["results"] == []


def test_sarif_is_never_coloured(workorder_report: AuditReport) -> None:
    assert render("sarif", workorder_report, colour=True) == render("sarif", workorder_report)
    assert render("json", workorder_report, colour=True) == render("json", workorder_report)


# -- GitHub annotations --------------------------------------------------------------------------


def _unescape_data(text: str) -> str:
    """What the Actions runner does to a command's message."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@pytest.mark.parametrize(
    "text",
    ["100% done", "a\nb\r\nc", "%0A stays literal", "a::b", "x,y:z", "%25%3A%2C", "::error::x"],
)
def test_escaping_round_trips_through_the_runner(text: str) -> None:
    data = escape_data(text)
    assert "\n" not in data and "\r" not in data
    assert _unescape_data(data) == text
    prop = escape_property(text)
    assert not re.search(r"[,:\n\r]", prop)
    assert _unescape_property(prop) == text


def test_annotations_of_the_example(workorder_report: AuditReport) -> None:
    lines = render("github", workorder_report).splitlines()
    assert len(lines) == len(workorder_report.findings)
    kinds = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}
    pattern = re.compile(r"::(error|warning|notice) ((?:[a-zA-Z]+=[^,:]*,?)+)::(.*)")
    for line, finding in zip(lines, workorder_report.findings, strict=True):
        match = pattern.fullmatch(line)
        assert match, line
        assert match.group(1) == kinds[finding.severity.value]
        props = dict(p.split("=", 1) for p in match.group(2).split(","))
        assert _unescape_property(props["file"]) == finding.path
        assert int(props["line"]) == finding.line
        if finding.end_line > finding.line:
            assert int(props["endLine"]) == finding.end_line
        else:
            assert int(props["col"]) == finding.col
        assert _unescape_property(props["title"]) == (
            f"{finding.rule} {finding.name} ({finding.severity.value})"
        )
        message = _unescape_data(match.group(3))
        assert message.startswith(finding.message)
        assert message.endswith("Recommendation: " + finding.recommendation)


def test_annotations_for_a_file_name_with_commas_and_colons(audit_tree: Tree) -> None:
    source = (
        "import os\n\ndef f(p):\n    try:\n        os.remove(p)\n"
        "    except Exception:\n        pass\n"
    )
    report = audit_tree({"a,b:c%d.py": source})
    (line,) = render("github", report).splitlines()
    assert line.startswith("::error file=a%2Cb%3Ac%25d.py,line=6,")


def test_hidden_errors_reach_sarif_and_annotations(workorder_report: AuditReport) -> None:
    for other in workorder_report.findings:
        other.hidden_errors = []  # only the finding below carries hidden errors here
    finding = workorder_report.findings[0]
    finding.hidden_errors = ["PermissionError", "subprocess.CalledProcessError"]
    sarif = json.loads(render("sarif", workorder_report))
    first = sarif["runs"][0]["results"][0]
    assert (
        "Hidden errors: PermissionError, subprocess.CalledProcessError" in first["message"]["text"]
    )
    assert first["properties"]["hiddenErrors"] == finding.hidden_errors
    line = render("github", workorder_report).splitlines()[0]
    assert "%0A%0AHidden errors: PermissionError, subprocess.CalledProcessError%0A%0A" in line
    assert "Hidden errors" not in render("github", workorder_report).splitlines()[1]
