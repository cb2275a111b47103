"""The auditor's settings, whatever their source (defaults, `[tool.errwise]`, command line).

Promise: an `AuditConfig` is immutable and validated; `selects(rule)` says whether a rule runs
on a given path, honouring the profile, select, ignore and per-file-ignores: an explicit `select`
runs exactly the rules it names, whatever the profile; without one, the profile's rules run.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from errwise.audit.finding import Severity
from errwise.audit.rule import Profile, Rule

__all__ = ["AuditConfig", "DEFAULT_BOUNDARIES"]

DEFAULT_BOUNDARIES = ("main", "*.main", "cli", "*.cli", "__main__")


@dataclass(frozen=True, slots=True)
class AuditConfig:
    select: frozenset[str] | None = None
    """Rule ids or names to run; None runs the profile's rules."""
    profile: Profile = "default"
    """`default`: the rules measured trustworthy, on the code a project ships (its tests, demos,
    examples, benchmarks and docs are not searched); `strict`: every rule on every file."""
    ignore: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    """(glob, rule ids or names) pairs."""
    exclude: tuple[str, ...] = ()
    fail_on: Severity = Severity.LOW
    boundaries: tuple[str, ...] = DEFAULT_BOUNDARIES
    """Function qualnames or decorator names (fnmatch patterns) marking a top-level boundary."""
    extend_state_changing: tuple[str, ...] = ()
    """Extra qualified call names (fnmatch patterns) that mutate state."""
    knowledge: str | None = None
    """The project's `raises` / `exception-classes` tables as canonical JSON (None: only the
    shipped knowledge base). Kept as text so the configuration stays hashable and cheap to
    ship to worker processes; `errwise.audit.infer.kb_for(config)` builds the knowledge base."""
    file_timeout: float | None = None
    """`file-timeout`: seconds one file's analysis may take (None: the default; 0: no limit)."""
    file_memory: int | None = None
    """`file-memory`: MiB of address space a worker process may use (None: the default; 0: no
    limit)."""
    lint_ignores: frozenset[str] = frozenset()
    """Rule codes the audited project's ruff configuration explicitly ignores (`[tool.ruff]`
    `ignore` / `extend-ignore`, upper-case, e.g. `B904`, `B`): decisions the project made that a
    rule may honour (`lint_decided`). Only an explicit ignore counts, never a missing select."""
    source: str | None = field(default=None, compare=False)
    """Where this configuration came from (a pyproject.toml path), for messages."""

    def selects(self, rule: Rule, path: str = "") -> bool:
        keys = {rule.id, rule.name}
        if self.select is not None and not keys & self.select:
            return False
        if self.select is None and self.profile == "default" and rule.profile != "default":
            return False
        if keys & self.ignore:
            return False
        return not any(
            keys & rules and fnmatch.fnmatchcase(path, pattern)
            for pattern, rules in self.per_file_ignores
        )

    def lint_decided(self, code: str) -> bool:
        """Did the project's ruff configuration turn `code` (e.g. `B904`) off, by the code itself
        or by one of its prefixes (`B9`, `B`, `ALL`)?"""
        code = code.upper()
        return any(code.startswith(p) or p == "ALL" for p in self.lint_ignores if p)

    def is_boundary(self, qualname: str, decorators: list[str]) -> bool:
        """Does the qualname or a decorator match one of the boundary patterns?"""
        if not self.boundaries:
            return False
        matches = _any_of(tuple(self.boundaries))
        return matches(qualname) is not None or any(matches(d) is not None for d in decorators)


@functools.lru_cache(maxsize=32)
def _any_of(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One regular expression matching what any of the fnmatch patterns matches (case-sensitive,
    as `fnmatch.fnmatchcase`)."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match
