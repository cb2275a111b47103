"""Fill findings with the exceptions the guarded code can raise ("hidden errors").

Promise: `fill_hidden_errors(findings, program)` sets `Finding.hidden_errors` (most specific
first, deduplicated) and `Finding.hidden_errors_complete` on every finding that does not carry its
own list: for a finding that claims an except clause (or sits on one), what that clause
receives; for one inside a try body, what the try's clauses receive; otherwise what the code on
the finding's line can raise. `describe(...)` renders such a list for a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from errwise.audit.finding import Finding
from errwise.audit.infer.hierarchy import errnos_of
from errwise.audit.infer.kb import ERRNO_CLASS
from errwise.audit.infer.program import Program

__all__ = ["fill_hidden_errors", "hidden_for", "describe"]


def hidden_for(
    program: Program,
    path: str,
    line: int,
    col: int | None = None,
    claim: tuple[int, int] | None = None,
) -> tuple[frozenset[str], bool] | None:
    """The raise-set items hidden at a place and whether they are complete (None: no facts)."""
    if claim is not None:
        result = program.handler(path, claim[0], claim[1])
        if result is not None:
            return result.received, result.complete
    result = program.handler(path, line, col)
    if result is None and col is not None:
        result = program.handler(path, line)
    if result is not None:
        return result.received, result.complete
    t = program.try_around(path, line)
    if t is not None:
        items: set[str] = set()
        complete = True
        for h in t.handlers:
            r = program.handler(path, h.line, h.col)
            if r is not None:
                items |= r.received
                complete = complete and r.complete
        return frozenset(items), complete
    flow = program.line_flow(path, line)
    if flow is None:
        return None
    return flow.items, not flow.unknown


def fill_hidden_errors(findings: Iterable[Finding], program: Program) -> None:
    """Fill `hidden_errors` / `hidden_errors_complete` in place (see the module promise)."""
    for f in findings:
        if f.hidden_errors:
            continue
        found = hidden_for(program, f.path, f.line, f.col - 1, f.claim)
        if found is None:
            continue
        items, complete = found
        f.hidden_errors = program.hierarchy.ordered(items)
        f.hidden_errors_complete = complete


def describe(
    names: Sequence[str], errnos: Sequence[str] = (), complete: bool = True, limit: int = 5
) -> str:
    """E.g. "PermissionError, FileNotFoundError, OSError (ENOSPC, EXDEV), possibly more"."""
    shown = [n.removeprefix("builtins.") for n in names[:limit]]
    text = ", ".join(shown)
    if len(names) > limit:
        text += f" and {len(names) - limit} more"
    # errnos a named subclass already stands for (EACCES: PermissionError) add nothing
    extra = [e for e in errnos if ERRNO_CLASS.get(e) not in names]
    if extra:
        text += f" ({', '.join(extra[:6])}{', ...' if len(extra) > 6 else ''})"
    if not complete:
        text += (", " if text else "") + "possibly more (some calls could not be resolved)"
    return text or "nothing known"


def errnos_for(items: Iterable[str]) -> list[str]:
    return errnos_of(items)
