"""SARIF 2.1.0 format, for GitHub code scanning and other SARIF viewers.

Promise: one SARIF 2.1.0 log (valid against the OASIS schema) with one run: `tool.driver` lists
every rule of the catalog (id, name, short and full description, help as text and Markdown, default
level from its default severity); each finding is a result with `ruleId`/`ruleIndex`, a level from
its severity (critical/high → error, medium → warning, low → note), a physical location (relative
URI on the `%SRCROOT%` base, region with start/end line and column), the enclosing function as a
logical location and `partialFingerprints` from the finding's fingerprint, so code scanning tracks a
finding across commits; after `--sweep FILE`, the result's `properties.sweep` holds what the
failure-path sweep proved at its handler. Files errwise could not analyse are tool execution
notifications. The text is JSON (ASCII), so nothing the audited code holds can break it; the only
machine-specific value is the `%SRCROOT%` directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from errwise import __version__
from errwise.audit import rules as _rules
from errwise.audit.finding import Finding, Severity
from errwise.audit.report import AuditReport, Format
from errwise.audit.report.model import INTERNAL_CODE
from errwise.audit.rule import Rule

__all__ = ["render", "LEVELS", "FINGERPRINT_KEY"]

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
FINGERPRINT_KEY = "errwiseFingerprint/v1"
_BASE = "%SRCROOT%"


def _uri(path: str) -> dict[str, str]:
    """An artifactLocation: relative paths on the %SRCROOT% base, absolute ones as file URIs."""
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    return {"uri": quote(path, safe="/"), "uriBaseId": _BASE}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(rule.what.split())},
        "help": {"text": " ".join(rule.why.split()), "markdown": rule.doc_markdown()},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["error-handling", rule.name],
            "precision": "high",
            "problem.severity": _problem_severity(rule.severity),
        },
    }


def _problem_severity(severity: Severity) -> str:
    return {"error": "error", "warning": "warning", "note": "recommendation"}[LEVELS[severity]]


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    region = {
        "startLine": finding.line,
        "startColumn": finding.col,
        "endLine": max(finding.end_line, finding.line),
        "endColumn": finding.end_col,
    }
    if region["endLine"] == region["startLine"] and region["endColumn"] < region["startColumn"]:
        region["endColumn"] = region["startColumn"]
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": _uri(finding.path), "region": region}
    }
    if finding.function:
        location["logicalLocations"] = [
            {"fullyQualifiedName": finding.function, "kind": "function"}
        ]
    text = finding.message
    if finding.hidden_errors:
        text += "\n\nHidden errors: " + ", ".join(finding.hidden_errors)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{text}\n\nRecommendation: {finding.recommendation}"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "hiddenErrors": list(finding.hidden_errors),
        },
    }
    if finding.sweep is not None:
        result["properties"]["sweep"] = dict(finding.sweep)
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    return result


def render(report: AuditReport) -> str:
    catalog = _rules.all_rules()
    index = {rule.id: i for i, rule in enumerate(catalog)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "errwise",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rule) for rule in catalog],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in report.findings],
        "invocations": [
            {
                "executionSuccessful": not report.internal_errors,
                "toolExecutionNotifications": [
                    {
                        "level": "error" if d.code == INTERNAL_CODE else "warning",
                        "message": {"text": f"{d.code}: {d.message}"},
                        "descriptor": {"id": d.code},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": _uri(d.path),
                                    **({"region": {"startLine": d.line}} if d.line else {}),
                                }
                            }
                        ],
                    }
                    for d in report.diagnostics
                ],
            }
        ],
    }
    if report.root:
        root = Path(report.root).as_posix().rstrip("/") + "/"
        run["originalUriBaseIds"] = {_BASE: {"uri": "file://" + quote(root, safe="/")}}
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


FORMAT = Format("sarif", "SARIF 2.1.0 for GitHub code scanning and SARIF viewers", render)
