"""Which intercepted calls a rule fails, and the record of each fault it injected.

Promise: a `Rule` counts the calls that match its selection (operation name or glob, path glob,
calling-module glob, exact call site) and fires on the nth one, on the nth and every later one
(`persistent`), or on each with a seeded probability — the same seed gives the same faults. A
fault that fits none of the selected operations is a `UsageError` when the rule is made.
"""

from __future__ import annotations

import fnmatch
import os
import random
from dataclasses import dataclass, field

from errwise.error import usage
from errwise.faults.errors import check_fault
from errwise.faults.site import Site
from errwise.faults.tables import OPERATIONS

__all__ = ["Injection", "Rule"]


@dataclass(eq=False)
class Injection:
    """One fault injected: what, where (site and stack into the code under test), which call."""

    operation: str
    fault: str
    site: Site | None
    stack: tuple[Site, ...]
    call: int
    exception: BaseException | None

    def describe(self) -> str:
        """One line: `os.replace ENOSPC at /abs/pkg/store.py:12 in save (call 2)`."""
        where = f"{self.site.path}:{self.site.line} in {self.site.function}" if self.site else "?"
        return f"{self.operation} {self.fault} at {where} (call {self.call})"


def _operations(pattern: str) -> tuple[str, ...]:
    if pattern in OPERATIONS:
        return (pattern,)
    found = tuple(name for name in OPERATIONS if fnmatch.fnmatchcase(name, pattern))
    if not found:
        raise usage(
            "ERR_USAGE",
            "no fault operation matches this name or glob",
            operation=pattern,
            known=sorted(OPERATIONS),
        )
    return found


@dataclass(eq=False)
class Rule:
    """A selection of calls and the fault to inject into them (see `FaultPlan.fail`)."""

    operation: str
    fault: str | None = None
    path: str | None = None
    module: str | None = None
    site: tuple[str, int] | None = None
    nth: int = 1
    persistent: bool = False
    probability: float | None = None
    seed: int = 0
    calls: int = 0
    injections: list[Injection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ops = _operations(self.operation)
        if self.fault is None and len(self._ops) == 1:
            self.fault = OPERATIONS[self._ops[0]].faults[0]
        if self.fault is not None:
            fits = [op for op in self._ops if self.fault in OPERATIONS[op].faults]
            if not fits:
                check_fault(self._ops[0], self.fault)
            self._ops = tuple(fits)
        if type(self.nth) is not int or self.nth < 1:
            raise usage("ERR_USAGE", "nth counts matching calls from 1", nth=self.nth)
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise usage("ERR_USAGE", "probability is between 0 and 1", probability=self.probability)
        if self.site is not None:
            site_path, line = self.site
            if not isinstance(site_path, str) or type(line) is not int:
                raise usage("ERR_USAGE", "site is (absolute file path, line)", site=self.site)
            self._site = (os.path.realpath(site_path), line)
        self._rng = random.Random(self.seed)

    @property
    def fired(self) -> bool:
        """True once this rule injected a fault."""
        return bool(self.injections)

    def needs_site(self) -> bool:
        """True when the rule selects by calling module or site: no site, no match."""
        return self.module is not None or self.site is not None

    def decide(
        self, operation: str, path: str | None, site: Site | None, exclude: tuple[str, ...]
    ) -> str | None:
        """Count a matching call and return the fault to inject now, or None."""
        if operation not in self._ops:
            return None
        fault = self.fault if self.fault is not None else OPERATIONS[operation].faults[0]
        if fault in exclude:
            return None
        if self.path is not None and (path is None or not _path_matches(self.path, path)):
            return None
        if self.module is not None and (
            site is None or site.module is None or not fnmatch.fnmatchcase(site.module, self.module)
        ):
            return None
        if self.site is not None and (site is None or (site.path, site.line) != self._site):
            return None
        self.calls += 1
        if self.probability is not None:
            hit = self.calls >= self.nth and self._rng.random() < self.probability
        elif self.persistent:
            hit = self.calls >= self.nth
        else:
            hit = self.calls == self.nth
        return fault if hit else None

    def describe(self) -> str:
        """The rule as the user wrote it."""
        parts = [self.operation, self.fault or "(first fault)"]
        for name in ("path", "module", "site"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        parts.append(f"nth={self.nth}" + (" persistent" if self.persistent else ""))
        if self.probability is not None:
            parts.append(f"probability={self.probability} seed={self.seed}")
        return " ".join(parts)


def _path_matches(pattern: str, path: str) -> bool:
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return fnmatch.fnmatchcase(os.path.abspath(path), pattern)
