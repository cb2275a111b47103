"""EW121 shadowed-handler: an except clause that can never run, because an earlier clause of the
same `try` already catches the same class or a superclass.

Promise: compares each clause's types with those of the earlier clauses, using the builtin
exception hierarchy (read from `builtins`), a table of well-known standard-library exceptions,
and the classes defined in the audited file. A class the auditor cannot resolve is only judged
shadowed by the very same name, by `BaseException`, or — when its name ends in `Error`,
`Exception` or `Warning` — by `Exception`. A clause all of whose types are shadowed is reported
(medium); a tuple element already caught while its siblings are not is reported as low.
"""

from __future__ import annotations

from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import short
from errwise.audit.model import FileModel, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import canonical_exception, exception_ancestors

_CONVENTIONAL = ("Error", "Exception", "Warning")
_NOT_EXCEPTION_SUBCLASS = ("Cancelled", "Exit", "Interrupt", "Timeout")


def check(model: FileModel) -> Iterator[Finding]:
    for try_ in model.tries:
        earlier = _Earlier()
        for later in try_.handlers:
            if later.index and not later.bare:
                hits = [
                    (name, by)
                    for name in later.caught
                    if name != "?" and (by := earlier.shadowing(model, name))
                ]
                if hits:
                    yield _finding(model, later, hits, len(hits) == len(later.caught))
            earlier.add(later)


class _Earlier:
    """The clauses of a try seen so far, indexed by what they catch: which one first catches a
    name is a few lookups, not a scan of every earlier clause (a try may have thousands)."""

    def __init__(self) -> None:
        self.handlers: list[HandlerInfo] = []
        self.by_name: dict[str, int] = {}
        """A caught name as written -> the first clause listing it (by position)."""
        self.by_base: dict[str, int] = {}
        """A caught class with builtin aliases resolved -> the first clause catching it."""

    def add(self, handler: HandlerInfo) -> None:
        position = len(self.handlers)
        self.handlers.append(handler)
        for caught in handler.caught:
            if caught != "?":
                self.by_name.setdefault(caught, position)
                self.by_base.setdefault(canonical_exception(caught), position)

    def shadowing(self, model: FileModel, name: str) -> HandlerInfo | None:
        """The first earlier clause that already catches `name`, or None."""
        ancestry = exception_ancestors(model, short(name))
        found = [self.by_name.get(name), self.by_base.get("BaseException")]
        if ancestry is not None:
            found.extend(self.by_base.get(base) for base in ancestry)
        elif _conventional(name):
            found.append(self.by_base.get("Exception"))
        first = min((p for p in found if p is not None), default=None)
        return None if first is None else self.handlers[first]


def _conventional(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.endswith(_CONVENTIONAL) and not any(w in last for w in _NOT_EXCEPTION_SUBCLASS)


def _finding(
    model: FileModel, later: HandlerInfo, hits: list[tuple[str, HandlerInfo]], whole: bool
) -> Finding:
    name, by = hits[0]
    by_text = ", ".join(short(c) for c in by.caught)
    if short(name) in {short(c) for c in by.caught}:
        relation = "the same class"
    elif exception_ancestors(model, short(name)) is None and "BaseException" not in by_text:
        relation = f"assuming {short(name)} derives from Exception, as its name says"
    else:
        relation = f"{short(name)} is a subclass of {by_text}"
    if whole:
        names = ", ".join(short(n) for n, _ in hits)
        message = (
            f"`except {names}` can never run: `except {by_text}` at line {by.node.lineno} "
            f"already catches it ({relation}), so this clause's handling is dead code and those "
            f"errors get the earlier clause's treatment instead"
        )
        fix = (
            f"Move `except {names}` above `except {by_text}` (the most specific clause first), "
            "or delete it if the earlier handling is what you want."
        )
        severity = Severity.MEDIUM
    else:
        message = (
            f"`{short(name)}` in this clause's tuple is already caught by `except {by_text}` at "
            f"line {by.node.lineno} ({relation}): listing it here has no effect"
        )
        fix = (
            f"Remove `{short(name)}` from the tuple, or move this clause above line "
            f"{by.node.lineno} if it was meant to handle {short(name)}."
        )
        severity = Severity.LOW
    return model.finding(
        RULE,
        later.node,
        message,
        recommendation=fix,
        severity=severity,
    )


RULE = Rule(
    id="EW121",
    name="shadowed-handler",
    severity=Severity.MEDIUM,
    summary="An except clause unreachable because an earlier clause catches a superclass.",
    what="""
An `except` clause whose types are all caught by an earlier clause of the same `try` — the same
class or a superclass: `except OSError` before `except FileNotFoundError`, `except Exception`
before `except ValueError`. The hierarchy comes from the builtins, well-known standard-library
exceptions and the classes defined in the file; an unresolved class counts as shadowed only by
its own name, `BaseException`, or (when named `...Error`/`...Exception`) `Exception`. Medium
when the whole clause is dead; low when only one element of a tuple is redundant.
""",
    why="""
Python tries clauses top to bottom and takes the first match. The specific handling the author
wrote — a fallback for a missing file, a retry for a timeout — never runs; those errors get the
broad clause's treatment, and nothing says so until the day it matters.
""",
    example="""
try:
    config = path.read_text()
except OSError:
    raise errwise.env("ERR_IO", "cannot read config", path=str(path))
except FileNotFoundError:
    config = DEFAULT_CONFIG       # never reached
""",
    fix="""
Order clauses from the most specific to the most general:

```python
try:
    config = path.read_text()
except FileNotFoundError:
    config = DEFAULT_CONFIG
except OSError as exc:
    raise errwise.classify(exc).with_context(path=str(path)) from exc
```
""",
    check=check,
    profile="strict",
)
