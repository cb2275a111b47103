"""Markdown format: the report a specialist hands to a team (the shape of seed 004), written by
errwise — right where a hand-written one is often wrong.

Promise: title, date, scope (paths, files and lines audited, rules on), an executive summary (counts
per severity, the key problems one line each, what the code already does well), one section per
severity with every finding (id and title, `path:line-range` and function, the code excerpt with
line numbers, what goes wrong, hidden errors, production impact, the recommendation with a
before/after sketch from the rule's documentation; after `--sweep FILE`, what the failure-path sweep
proved at its handler: confirmed or refuted, with the replay command), a prioritised action list,
and a pytest sketch per critical/high finding that injects the failure. The same report renders the
same text except the date line (which honours `SOURCE_DATE_EPOCH`). Everything that comes from the
audited code (paths, excerpts, names in messages) is escaped (`escape`): no content can break the
layout or inject markup in GitHub's renderer, and the text reads well as plain text.
"""

from __future__ import annotations

import datetime
import os
from collections import defaultdict

from errwise import __version__
from errwise.audit import rules as _rules
from errwise.audit.finding import Finding, FindingDetails, Severity
from errwise.audit.report import AuditReport, Format
from errwise.audit.report.escape import md_code, md_fence, md_text, printable
from errwise.audit.report.impact import failure_test, impact
from errwise.audit.rule import Rule
from errwise.audit.strengths import KINDS

__all__ = ["render", "label", "report_date"]

_MAX_KEY_PROBLEMS = 5
_MAX_NAMES = 6
_PRIORITY = {
    Severity.CRITICAL: "Critical: do immediately",
    Severity.HIGH: "High: next",
    Severity.MEDIUM: "Medium: soon",
    Severity.LOW: "Low: when convenient",
}


def report_date() -> str:
    """Today (UTC), or the date of `SOURCE_DATE_EPOCH` for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    else:
        moment = datetime.datetime.now(tz=datetime.UTC)
    return moment.date().isoformat()


def label(report: AuditReport) -> dict[int, str]:
    """`CRITICAL-1`, `HIGH-2`, ... for each finding (by `id()`), in report order per severity."""
    counters: dict[Severity, int] = defaultdict(int)
    labels: dict[int, str] = {}
    for finding in _ordered(report.findings):
        counters[finding.severity] += 1
        labels[id(finding)] = f"{finding.severity.value.upper()}-{counters[finding.severity]}"
    return labels


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity.rank, *f.sort_key()))


def _fn(name: str | None) -> str:
    return md_code(f"{name}()") if name else "module level"


def _where(finding: Finding) -> str:
    span = (
        f"{finding.line}-{finding.end_line}"
        if finding.end_line > finding.line
        else str(finding.line)
    )
    return md_code(f"{printable(finding.path)}:{span}")


def render(report: AuditReport) -> str:
    rules = {r.id: r for r in _rules.all_rules()}
    labels = label(report)
    out: list[str] = []
    out += _header(report)
    out += _summary(report, rules, labels)
    out += _sections(report, rules, labels)
    out += _actions(report, labels)
    out += _testing(report, labels)
    out += _diagnostics(report)
    out += _method(report)
    return "\n".join(out).rstrip("\n") + "\n"


def _header(report: AuditReport) -> list[str]:
    paths = report.paths or (".",)
    shown = ", ".join(md_code(printable(p)) for p in paths)
    files = report.files - len(report.unanalysed)
    rule_ids = ", ".join(report.rules) or "none"
    lines = [
        f"# Error-handling audit: {shown}",
        "",
        f"**Date**: {report_date()}  ",
        f"**Tool**: errwise {__version__} (static analysis: the code was read, never run)  ",
        f"**Scope**: {files} Python file{'s' if files != 1 else ''}, "
        f"{report.lines} line{'s' if report.lines != 1 else ''} under {shown}  ",
        f"**Rules on**: {len(report.rules)} ({rule_ids})",
    ]
    if report.unanalysed:
        lines[-1] += "  "
        lines.append(
            f"**Not analysed**: {len(report.unanalysed)} file(s), see [Diagnostics](#diagnostics)"
        )
    if report.suppressed or report.baselined or report.outside_diff:
        lines[-1] += "  "
        parts = []
        if report.outside_diff:
            parts.append(f"{report.outside_diff} on lines unchanged since the `--diff` revision")
        if report.suppressed:
            parts.append(f"{report.suppressed} silenced by suppression comments")
        if report.baselined:
            parts.append(f"{report.baselined} already in the baseline")
        lines.append(f"**Not shown**: {'; '.join(parts)}")
    return [*lines, "", "---", ""]


def _summary(report: AuditReport, rules: dict[str, Rule], labels: dict[int, str]) -> list[str]:
    counts = report.by_severity()
    out = [
        "## Executive summary",
        "",
        "| Severity | Findings |",
        "|---|---:|",
        *(f"| {sev.capitalize()} | {n} |" for sev, n in counts.items()),
        f"| **Total** | **{len(report.findings)}** |",
        "",
    ]
    if report.findings:
        out += ["### Key problems", ""]
        out += [f"{i}. {line}" for i, line in enumerate(_key_problems(report, rules, labels), 1)]
        out.append("")
    out += ["### What the code does well", ""]
    out += _strengths(report)
    return [*out, "", "---", ""]


def _key_problems(report: AuditReport, rules: dict[str, Rule], labels: dict[int, str]) -> list[str]:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in _ordered(report.findings):
        by_rule[finding.rule].append(finding)
    ranked = sorted(by_rule.items(), key=lambda kv: (-kv[1][0].severity.rank, -len(kv[1]), kv[0]))
    lines = []
    for rule_id, found in ranked[:_MAX_KEY_PROBLEMS]:
        rule = rules.get(rule_id)
        counts: dict[str, int] = defaultdict(int)
        for f in found:
            counts[f.severity.value] += 1
        tally = ", ".join(f"{n} {sev}" for sev, n in counts.items())
        summary = md_text(rule.summary) if rule else ""
        first = found[0]
        lines.append(
            f"**{found[0].name}** ({rule_id}; {tally}): {summary} "
            f"First: {labels[id(first)]}, {_fn(first.function)} at {_where(first)}."
        )
    return lines


def _strengths(report: AuditReport) -> list[str]:
    out = []
    by_kind: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in report.strengths:
        names = by_kind[s.kind][s.path]
        name = f"{md_code(s.function + '()')} (line {s.line})"
        if name not in names:
            names.append(name)
    for kind, phrase in KINDS.items():
        files = by_kind.get(kind)
        if not files:
            continue
        total = sum(len(names) for names in files.values())
        parts = []
        for path, names in files.items():
            shown = ", ".join(names[:_MAX_NAMES])
            more = len(names) - _MAX_NAMES
            parts.append(
                f"in {md_code(printable(path))}: {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        out.append(f"- Functions that {md_text(phrase)} ({total}): {'; '.join(parts)}.")
    analysed = report.files - len(report.unanalysed)
    with_findings = len({f.path for f in report.findings})
    if analysed:
        out.append(
            f"- {analysed - with_findings} of {analysed} analysed files have no finding at all."
        )
    if not report.strengths:
        out.append(
            "- No function already returns a `Result`, raises classified errors or uses "
            "errwise's safe operations (`atomic_write`, `FileLock`, `Transaction`, `run`)."
        )
    return out


def _sections(report: AuditReport, rules: dict[str, Rule], labels: dict[int, str]) -> list[str]:
    out: list[str] = []
    sketched: dict[str, str] = {}
    for severity in Severity:
        found = [f for f in _ordered(report.findings) if f.severity is severity]
        if not found:
            continue
        out += [f"## {severity.value.capitalize()} findings", ""]
        for finding in found:
            out += _finding(finding, rules.get(finding.rule), labels[id(finding)], sketched)
            out += ["---", ""]
    return out


def _finding(finding: Finding, rule: Rule | None, tag: str, sketched: dict[str, str]) -> list[str]:
    details = finding.details or FindingDetails()
    out = [
        f"### {tag}: {finding.rule} {finding.name} in {_fn(finding.function)}",
        "",
        f"**Location**: {_where(finding)}, {_fn(finding.function)}"
        + (
            f" (lines {details.scope_line}-{details.end_line_of_scope})"
            if details.scope_line and details.end_line_of_scope
            else ""
        ),
        "",
    ]
    if details.excerpt:
        out += [_excerpt(finding, details), ""]
    out += [f"**What goes wrong**: {md_text(finding.message)}", ""]
    if finding.also:
        out += [f"**Also breaks**: {', '.join(md_code(name) for name in finding.also)}", ""]
    if finding.sweep:
        out += [_sweep(finding), ""]
    out += [f"**Hidden errors**: {_hidden(finding)}", ""]
    effects = impact(finding)
    if effects:
        out += ["**Production impact**:", "", *(f"- {md_text(e)}" for e in effects), ""]
    out += [f"**Recommendation**: {md_text(finding.recommendation)}", ""]
    if rule is not None:
        if finding.rule in sketched:
            out += [f"Before/after sketch: see {sketched[finding.rule]}.", ""]
        else:
            sketched[finding.rule] = tag
            out += [
                f"**Before** (the pattern `errwise explain {finding.rule}` describes):",
                "",
                md_fence(rule.example.strip("\n"), "python"),
                "**After**:",
                "",
                rule.fix.strip(),
                "",
            ]
    return out


def _sweep(finding: Finding) -> str:
    mark = finding.sweep or {}
    operation = md_code(str(mark.get("operation")))
    fault = f"an injected {md_code(str(mark.get('fault')))} at {operation}"
    if mark.get("status") == "confirmed":
        said = f"**Sweep: confirmed** — {fault} vanished silently in this handler"
    else:
        verdict = str(mark.get("verdict") or "reported")
        said = f"**Sweep: refuted** — {fault} was {md_text(verdict)} here, not lost"
    test = mark.get("test")
    if isinstance(test, str):
        said += f", in test {md_code(test)}"
    replay = mark.get("replay")
    return f"{said}. Replay: {md_code(str(replay))}" if replay else said + "."


def _excerpt(finding: Finding, details: FindingDetails) -> str:
    last = details.excerpt_start + len(details.excerpt) - 1
    width = len(str(last))
    lines = []
    for number, text in enumerate(details.excerpt, details.excerpt_start):
        mark = ">" if finding.line <= number <= finding.end_line else " "
        lines.append(f"{mark}{number:>{width}} | {text}")
    if last < finding.end_line:
        lines.append(f" {'':>{width}} | ...  (continues to line {finding.end_line})")
    return md_fence("\n".join(lines), "python")


def _hidden(finding: Finding) -> str:
    if not finding.hidden_errors:
        return (
            "not computed (exception-flow inference gave no list for this code; "
            "see the calls named above)"
        )
    names = ", ".join(md_code(h) for h in finding.hidden_errors)
    if not finding.hidden_errors_complete:
        names += " (possibly more: some calls could not be resolved)"
    return names


def _actions(report: AuditReport, labels: dict[int, str]) -> list[str]:
    if not report.findings:
        return []
    groups: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
    for finding in _ordered(report.findings):
        groups[(finding.path, finding.function)].append(finding)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (-kv[1][0].severity.rank, -len(kv[1]), kv[0][0], kv[1][0].line),
    )
    out = ["## Prioritised actions", ""]
    number = 0
    for severity in Severity:
        items = [(key, found) for key, found in ordered if found[0].severity is severity]
        if not items:
            continue
        out += [f"### {_PRIORITY[severity]}", ""]
        for (path, function), found in items:
            number += 1
            what = "; ".join(f"{f.rule} {f.name} (line {f.line}, {labels[id(f)]})" for f in found)
            first_step = _first_step(found[0].recommendation)
            out.append(
                f"{number}. Fix {_fn(function)} in {md_code(printable(path))}: {what}."
                + (f" First step: {md_text(first_step)}." if first_step else "")
            )
        out.append("")
    return [*out, "---", ""]


def _first_step(recommendation: str) -> str:
    """The recommendation's opening clause (up to the first `:`, `;` or `.` outside code and
    parentheses); "" when that is longer than a line."""
    text = " ".join(recommendation.split())
    in_code, depth = False, 0
    for i, char in enumerate(text):
        if char == "`":
            in_code = not in_code
        elif in_code:
            continue
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif depth == 0 and char in ":;." and text[i + 1 : i + 2] in (" ", ""):
            return text[:i] if i <= 160 else ""
    return text if len(text) <= 160 else ""


def _testing(report: AuditReport, labels: dict[int, str]) -> list[str]:
    serious = [f for f in _ordered(report.findings) if f.severity.at_least(Severity.HIGH)]
    if not serious:
        return []
    out = [
        "## Testing recommendations",
        "",
        "One test per critical or high finding: inject the failure the code hides "
        "(monkeypatch a call to raise, or to return its failure value) and assert that it "
        "surfaces. Each test fails today and passes once the finding is fixed. Fill in the "
        "arguments (`...`) that reach the reported line.",
        "",
    ]
    for finding in serious:
        out += [
            f"#### {labels[id(finding)]}: {finding.rule} in {_fn(finding.function)}",
            "",
            md_fence(failure_test(finding).rstrip("\n"), "python"),
        ]
    return [*out, "---", ""]


def _diagnostics(report: AuditReport) -> list[str]:
    if not report.diagnostics:
        return []
    out = [
        "## Diagnostics",
        "",
        "Files errwise could not analyse (no finding can be reported for them):",
        "",
    ]
    for d in report.diagnostics:
        where = printable(d.path) + (f":{d.line}" if d.line is not None else "")
        out.append(f"- {md_code(where)}: {d.code}: {md_text(d.message)}")
    return [*out, "", "---", ""]


def _method(report: AuditReport) -> list[str]:
    paths = " ".join(printable(p) for p in (report.paths or (".",)))
    return [
        "## Method",
        "",
        "errwise parsed every file and judged each except clause by what it does (re-raises, "
        "records, logs, falls back, swallows) and each finding's severity by what the guarded "
        "code does (changes files, takes locks, runs processes). Critical: a failure silently "
        "leaves shared state wrong; high: the cause of an error is lost or replaced by a "
        "plausible value; medium: too broad or too late, but the failure still surfaces; low: "
        "robustness gaps and hygiene. `errwise explain RULE` shows each rule's full "
        "documentation.",
        "",
        f"Regenerate: {md_code('errwise audit --format markdown ' + paths)}",
    ]


FORMAT = Format(
    "markdown",
    "a report for people: summary, findings with code and impact, actions, test sketches",
    render,
)
