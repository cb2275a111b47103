"""Facts reports need about each finding, taken from the file model while it still exists.

Promise: `attach_details(model, findings)` gives every finding a `FindingDetails`: a bounded
source excerpt (at most `MAX_EXCERPT_LINES` lines of at most `MAX_LINE_CHARS` characters, from
the enclosing `try` when the finding judges an except clause), the module name, what the judged
code does (its effects) and the calls in it a test can make fail. It never raises for a finding
it cannot place: the details are then just the excerpt.
"""

from __future__ import annotations

import ast
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, FindingDetails
from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import BUILTIN_NAMES
from errwise.audit.spans import Innermost

__all__ = ["attach_details", "MAX_EXCERPT_LINES", "MAX_LINE_CHARS"]

MAX_EXCERPT_LINES = 14
MAX_LINE_CHARS = 160
_CONTEXT_BEFORE = 8
"""How far above the finding the enclosing `try` may start and still be shown."""
_CONTEXT_AROUND = 3
"""Lines shown above and below a finding that is not an except clause."""
_MAX_CALLS = 4
_EFFECT_NAMES = (
    (Effect.LOCK, "lock"),
    (Effect.CLEANUP, "cleanup"),
    (Effect.DISK, "disk"),
    (Effect.PROCESS, "process"),
    (Effect.NETWORK, "network"),
)


def attach_details(model: FileModel, findings: Iterable[Finding]) -> None:
    handlers = {(h.node.lineno, h.node.col_offset + 1): h for h in model.handlers}
    calls_at = {(c.node.lineno, c.node.col_offset + 1): c for c in model.calls}
    functions = _functions(model)
    by_line = sorted((c.node.lineno, n) for n, c in enumerate(model.calls))
    call_lines = [line for line, _ in by_line]
    for finding in findings:
        where = (finding.line, finding.col)
        start = finding.line
        judged: list[ast.AST]
        handler = handlers.get(where)
        if handler is not None:
            judged = list(handler.try_.node.body)
            if finding.line - handler.try_.node.lineno <= _CONTEXT_BEFORE:
                start = handler.try_.node.lineno
        elif where in calls_at:
            judged = [calls_at[where].node]
        else:
            low = bisect_left(call_lines, finding.line)
            high = bisect_right(call_lines, finding.end_line)
            judged = [model.calls[n].node for n in sorted(n for _, n in by_line[low:high])]
        infos = list(model.calls_in(judged)) if judged else []
        effects = Effect.NONE
        for info in infos:
            effects |= info.effects
        function = functions.at(finding.line)
        end = finding.end_line
        if handler is None:  # a statement: show a little of what surrounds it
            first = function[0] if function else 1
            last = function[1] if function else len(model.lines)
            start = max(first, finding.line - _CONTEXT_AROUND)
            end = min(last, max(end, finding.line + _CONTEXT_AROUND))
        finding.details = FindingDetails(
            excerpt=_excerpt(model.lines, start, end),
            excerpt_start=start,
            module=model.module_name,
            effects=tuple(name for flag, name in _EFFECT_NAMES if effects & flag),
            calls=_patchable(model, infos),
            scope_line=function[0] if function else None,
            end_line_of_scope=function[1] if function else None,
        )


def _excerpt(lines: list[str], start: int, end: int) -> tuple[str, ...]:
    end = min(max(end, start), start + MAX_EXCERPT_LINES - 1, len(lines))
    out = []
    for raw in lines[start - 1 : end]:
        line = raw.rstrip()
        out.append(line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…")
    return tuple(out)


def _functions(model: FileModel) -> Innermost[tuple[int, int]]:
    """The innermost function at each line, as (`def` line, last line); a function's lines
    start at its first decorator."""
    spans = []
    for info in model.functions:
        node = info.node
        if isinstance(node, ast.Lambda):
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        last = node.end_lineno or node.lineno
        spans.append((first, last, (node.lineno, last)))
    return Innermost(spans)


def _patchable(model: FileModel, infos: list[CallInfo]) -> tuple[tuple[str, str], ...]:
    """(patch target, as written) of calls a test can monkeypatch, state-changing first."""
    ranked = sorted(infos, key=lambda c: (-int(c.effects.state_changing), c.node.lineno))
    out: list[tuple[str, str]] = []
    for info in ranked:
        func = info.node.func
        if isinstance(func, ast.Name):
            if func.id[:1].isupper() or (func.id in BUILTIN_NAMES and func.id != "open"):
                continue  # a class or a builtin: not where a test injects an I/O failure
            target = func.id  # a name in the audited module: patch it there
        elif info.qualname and _imported_head(model, func):
            target = info.qualname  # os.replace, subprocess.run, module.function
        elif isinstance(func, ast.Attribute) and func.attr in _PATH_METHODS:
            target = f"pathlib.Path.{func.attr}"
        else:
            continue
        if all(t != target for t, _ in out):
            out.append((target, ast.unparse(func)))
        if len(out) == _MAX_CALLS:
            break
    return tuple(out)


def _imported_head(model: FileModel, expr: ast.expr) -> bool:
    """`expr` is `name.attr...` where `name` is bound by an import (a module or a class)."""
    if not isinstance(expr, ast.Attribute):
        return False
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name) and model.imports.lookup(expr.id) is not None


_PATH_METHODS = frozenset(
    {
        "unlink",
        "rename",
        "replace",
        "mkdir",
        "rmdir",
        "touch",
        "write_text",
        "write_bytes",
        "read_text",
        "read_bytes",
        "open",
        "chmod",
        "symlink_to",
        "hardlink_to",
    }
)
