"""Text format: one finding per line, `path:line:col: EW104 [critical] best-effort-loop: message`.

Promise: exactly one line per finding, in report order, nothing else (the summary goes to stderr,
see `errwise.audit.report.summary`); line breaks inside a message are folded into spaces and
control characters in a path are escaped, so one finding is always one line.
"""

from __future__ import annotations

from errwise.audit.finding import Finding
from errwise.audit.report import AuditReport, Format

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def printable(text: str) -> str:
    """`text` with control characters (a newline in a file name) escaped: one line stays one."""
    return text.translate(_CONTROL)


def line(finding: Finding) -> str:
    message = " ".join(finding.message.split())
    return (
        f"{printable(finding.path)}:{finding.line}:{finding.col}: {finding.rule} "
        f"[{finding.severity.value}] {finding.name}: {message}"
    )


def render(report: AuditReport) -> str:
    return "".join(line(f) + "\n" for f in report.findings)


FORMAT = Format(
    "text", "one finding per line (path:line:col: rule [severity] name: message)", render
)
