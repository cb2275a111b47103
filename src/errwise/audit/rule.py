"""What a rule is: a stable id and name, a default severity, its documentation, and a checker.

Promise: one rule = one module under `errwise.audit.rules`, holding `RULE = Rule(...)`, its
checker and its documentation (what it finds, why it hurts, a bad example, the fix). Ids (`EW1xx`)
and names are assigned once and never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from errwise.audit.finding import Finding, Severity

if TYPE_CHECKING:
    from errwise.audit.deferred import Deferred
    from errwise.audit.model import FileModel

__all__ = ["Rule", "Checker", "Profile", "PROFILES"]

Profile = Literal["default", "strict"]
"""A named rule set. `default`: the rules whose findings were measured trustworthy on real code
(`errwise.audit.rules.measured`), on the code a project ships (not its tests, demos, examples,
benchmarks or docs). `strict`: every rule, on every file."""
PROFILES: tuple[Profile, ...] = ("default", "strict")

Checker = Callable[["FileModel"], Iterable["Finding | Deferred[Any]"]]
"""Yields findings, and `Deferred` checks for the parts that need the whole program's facts."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    """`EW1xx`, assigned once, never reused."""
    name: str
    """kebab-case, from the catalog in design.md."""
    severity: Severity
    """The default severity; a finding's own severity is judged from what the code does."""
    summary: str
    """One line: what the rule finds."""
    what: str
    """Markdown: what it finds, precisely (and what it deliberately does not)."""
    why: str
    """Markdown: why it hurts — what a user or operator sees when it happens."""
    example: str
    """Python source of a bad example."""
    fix: str
    """Markdown: the fix, pointing at errwise's library where one fits, with a code sketch."""
    check: Checker
    profile: Profile = "default"
    """The narrowest profile that runs the rule: `default` (and `strict`), or `strict` only —
    for a rule whose measured precision on real code is below the default profile's bar."""
    specificity: int = 0
    """Rules of the lost-error family claim the except clause they judge; when several claim the
    same clause, only the highest specificity is reported (best-effort-loop 50, error-as-sentinel
    40, silent-fallback 30, swallowed-exception 20, lost-traceback 15, broad-catch 10)."""

    def doc_markdown(self, measured: str = "") -> str:
        """The rule's full documentation as Markdown (`errwise explain`); `measured` is a
        sentence on its measured precision, if any."""
        profile = "default and strict" if self.profile == "default" else "strict only"
        return (
            f"# {self.id} {self.name}\n\n"
            f"*Default severity: {self.severity.value}. Profiles: {profile}.*"
            f"{' ' + measured if measured else ''} {self.summary}\n\n"
            f"## What it finds\n\n{self.what.strip()}\n\n"
            f"## Why it hurts\n\n{self.why.strip()}\n\n"
            f"## Example\n\n```python\n{self.example.strip()}\n```\n\n"
            f"## Fix\n\n{self.fix.strip()}\n"
        )
