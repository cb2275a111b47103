"""GitHub Actions format: one workflow command per finding, shown as an annotation on the pull
request's diff.

Promise: each finding is one line `::error file=P,line=L,endLine=E,col=C,endColumn=K,title=T::M`
(`error` for critical/high, `warning` for medium, `notice` for low); each file errwise could not
analyse is one `::warning` (`::error` for an internal error). Values are escaped the way the
Actions runner unescapes them — `%`, CR and LF in the message; also `:` and `,` in properties —
and other control characters are shown as escapes, so nothing the audited code holds (a newline
in a file name, a `::` in a string) can end a command or start another one.
"""

from __future__ import annotations

from errwise.audit.finding import Finding, Severity
from errwise.audit.report import AuditReport, Format
from errwise.audit.report.escape import printable
from errwise.audit.report.model import INTERNAL_CODE

__all__ = ["render", "escape_data", "escape_property", "COMMANDS"]

COMMANDS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
}


def escape_data(text: str) -> str:
    """A message: `%`, CR and LF escaped (LF shows as a line break in the annotation)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(text)


def escape_property(text: str) -> str:
    """A property value: as data, plus `:` and `,`, which would end the value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{kind} {props}::{escape_data(message)}"


def _finding(finding: Finding) -> str:
    properties: dict[str, object] = {"file": finding.path, "line": finding.line}
    if finding.end_line > finding.line:
        properties["endLine"] = finding.end_line
    else:
        properties["col"] = finding.col
        properties["endColumn"] = max(finding.end_col, finding.col)
    properties["title"] = f"{finding.rule} {finding.name} ({finding.severity.value})"
    message = finding.message
    if finding.hidden_errors:
        message += "\n\nHidden errors: " + ", ".join(finding.hidden_errors)
    message += f"\n\nRecommendation: {finding.recommendation}"
    return _command(COMMANDS[finding.severity], properties, message)


def render(report: AuditReport) -> str:
    lines = [_finding(f) for f in report.findings]
    for d in report.diagnostics:
        properties: dict[str, object] = {"file": d.path}
        if d.line is not None:
            properties["line"] = d.line
        properties["title"] = f"errwise {d.code}"
        kind = "error" if d.code == INTERNAL_CODE else "warning"
        lines.append(_command(kind, properties, d.message))
    return "".join(line + "\n" for line in lines)


FORMAT = Format("github", "GitHub Actions annotations (::error file=...::message)", render)
