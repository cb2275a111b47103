"""Text format: one finding per line, `path:line:col: EW104 [critical] best-effort-loop: message`.

Promise: exactly one line per finding, in report order, nothing else (the summary goes to stderr,
see `errwise.audit.report.summary`); line breaks inside a message are folded into spaces and
control characters in a path or a message are escaped (`escape.printable`), so one finding is
always one line and the audited code cannot send escape sequences to the terminal. The coloured
rendering (for a terminal: `--format text` on a TTY, see `errwise.audit.report.colour`) has the
same characters plus ANSI colour codes. After `--sweep FILE`, a finding the sweep confirmed or
refuted ends with `[sweep confirmed: ... ; replay: COMMAND]` on the same line.
"""

from __future__ import annotations

from errwise.audit.finding import Finding
from errwise.audit.report import AuditReport, Format
from errwise.audit.report.colour import paint, paint_code
from errwise.audit.report.escape import one_line, printable

__all__ = ["printable", "line", "render", "render_colour", "sweep_note"]


def sweep_note(finding: Finding) -> str:
    """What a sweep proved about the finding's handler, in one sentence ("" when nothing)."""
    mark = finding.sweep
    if not mark:
        return ""
    fault = f"an injected {mark.get('fault')} at `{mark.get('operation')}`"
    if mark.get("status") == "confirmed":
        said = f"sweep confirmed: {fault} vanished here silently"
    else:
        said = f"sweep refuted: {fault} was {mark.get('verdict') or 'reported'} here, not lost"
    replay = mark.get("replay")
    return f"{said}; replay: {replay}" if replay else said


def line(finding: Finding, *, colour: bool = False) -> str:
    where = f"{printable(finding.path)}:{finding.line}:{finding.col}:"
    severity = finding.severity.value
    also = f" (also: {', '.join(finding.also)})" if finding.also else ""
    note = sweep_note(finding)
    also += f" [{one_line(note)}]" if note else ""
    if colour:
        return (
            f"{paint(where, 'bold')} {paint(finding.rule, 'bold')} "
            f"{paint(f'[{severity}]', severity)} {paint(finding.name + ':', 'dim')} "
            f"{paint_code(one_line(finding.message))}{paint(also, 'dim') if also else ''}"
        )
    return f"{where} {finding.rule} [{severity}] {finding.name}: {one_line(finding.message)}{also}"


def render(report: AuditReport) -> str:
    return "".join(line(f) + "\n" for f in report.findings)


def render_colour(report: AuditReport) -> str:
    return "".join(line(f, colour=True) + "\n" for f in report.findings)


FORMAT = Format(
    "text",
    "one finding per line (path:line:col: rule [severity] name: message (also: other rules))",
    render,
    render_colour,
)
