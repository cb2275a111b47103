"""JSON format: the object of ../shared/design.md — `findings`, `diagnostics`, `summary`.

Promise: one JSON document with exactly those three keys; findings and diagnostics use the
stable field names of `Finding.to_dict()` / `Diagnostic.to_dict()`; the same run gives the same
bytes (no timestamps, no absolute paths beyond what the paths themselves hold); the text is
ASCII (other characters as JSON `\\u` escapes), so any terminal or pipe encoding carries it.
"""

from __future__ import annotations

import json

from errwise.audit.report import AuditReport, Format


def render(report: AuditReport) -> str:
    document = {
        "findings": [f.to_dict() for f in report.findings],
        "diagnostics": [d.to_dict() for d in report.diagnostics],
        "summary": report.summary(),
    }
    return json.dumps(document, indent=2) + "\n"


FORMAT = Format("json", "one JSON object: findings, diagnostics, summary", render)
