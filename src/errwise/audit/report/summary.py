"""The human summary of a run, written to stderr whatever the output format.

Promise: `summary_text(report)` lists each diagnostic (`path:line: ERR_PARSE: message`), then one
line counting findings per severity, files not analysed and suppressions (left out when `counts`
is false: `--quiet`); when errwise failed on a file it says plainly that this is a bug. With
`colour`, the non-zero counts are painted in their severity's colour (same characters otherwise).
"""

from __future__ import annotations

from errwise.audit.report.colour import paint
from errwise.audit.report.fmt_text import printable
from errwise.audit.report.model import AuditReport
from errwise.audit.rules import all_rules

__all__ = ["summary_text", "diagnostic_lines"]


def diagnostic_lines(report: AuditReport) -> list[str]:
    lines = []
    for d in report.diagnostics:
        where = printable(d.path) + (f":{d.line}" if d.line is not None else "")
        lines.append(f"{where}: {d.code}: {' '.join(d.message.split())}")
    return lines


def summary_text(report: AuditReport, *, counts: bool = True, colour: bool = False) -> str:
    out = [f"errwise: {line}" for line in diagnostic_lines(report)]
    out.extend(f"errwise: warning: {w}" for w in report.warnings)
    if counts:
        out.append(_counts_line(report, colour))
    internal = report.internal_errors
    if internal:
        out.append(
            f"errwise: internal error on {len(internal)} file(s): this is a bug in errwise, not "
            "in your code; please report it with the lines above (exit 70)"
        )
    return "".join(line + "\n" for line in out)


def _counts_line(report: AuditReport, colour: bool = False) -> str:
    by_severity = report.by_severity()
    total = len(report.findings)
    noun = "finding" if total == 1 else "findings"
    detail = ", ".join(
        paint(f"{n} {sev}", sev) if colour and n else f"{n} {sev}" for sev, n in by_severity.items()
    )
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    line = f"errwise: {total} {noun} ({detail}) in {files}"
    failing = len(report.failing)
    if total and failing != total:
        line += f"; {failing} at or above --fail-on {report.fail_on.value}"
    if report.unanalysed:
        line += f"; {len(report.unanalysed)} not analysed"
    if report.suppressed:
        line += f"; {report.suppressed} suppressed"
    if report.baselined:
        line += f"; {report.baselined} in the baseline"
    if report.outside_diff:
        line += f"; {report.outside_diff} outside the diff"
    cache = report.cache
    if cache is not None and cache.hits:
        line += f"; {cache.hits} of {cache.hits + cache.misses} from the cache"
        if cache.reused:
            line += f" ({cache.hits + cache.misses - cache.reused} rechecked across files)"
    if not report.files and not report.diagnostics:
        line += " (no Python files found under the given paths)"
    catalog = len(all_rules())
    if report.rules and len(report.rules) < catalog:
        line += (
            f"; {len(report.rules)} of {catalog} rules ran (`errwise rules` shows each rule's "
            "profile and measured precision; --profile strict runs them all)"
        )
    return line
