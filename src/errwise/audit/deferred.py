"""Checks a rule can finish only once every file of the run is summarised.

Promise: a rule's checker may yield a `Deferred` beside its findings — the part of a check that
needs the whole program's facts (raise-sets across files, callers of a function), kept as plain
data. A `Deferred` holds no syntax tree and no model, only its finding skeletons (located,
fingerprinted, with details) and the data its `resolve` function reads, so it pickles: worker
processes make it while the file's model exists, and the process that links all files resolves
it with the `Program`. Every file is therefore parsed once. `resolve` must be a module-level
function (it pickles by name) and may only return its skeletons, completed with
`dataclasses.replace`. It must learn about other files only through the program's query
methods (`raise_set`, `flow`, `handler`, `line_flow`, `tries_in`, `call_sites`, `call_at`,
`handler_calls_raising_code`, `hierarchy`...): they note what each file's result depends on, so
an edit elsewhere rechecks it (`errwise.audit.ledger`); reading the program's tables directly
would escape that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from errwise.audit.finding import Finding

if TYPE_CHECKING:
    from errwise.audit.config import AuditConfig
    from errwise.audit.infer.program import Program

__all__ = ["Deferred", "Resolver"]

T = TypeVar("T")

Resolver = Callable[["Program", "AuditConfig", T, tuple[Finding, ...]], Iterable[Finding]]
"""`resolve(program, config, data, skeletons)`: the findings the check reports (completed
skeletons), possibly none."""


@dataclass(frozen=True, slots=True)
class Deferred(Generic[T]):
    rule: str
    """The rule's id and name, for a diagnostic when resolving fails (`EW120 dead-handler`)."""
    resolve: Resolver[T]
    data: T
    skeletons: tuple[Finding, ...]
    """The findings `resolve` may report, made by `FileModel.finding` with placeholder text."""

    def run(self, program: Program, config: AuditConfig) -> list[Finding]:
        return list(self.resolve(program, config, self.data, self.skeletons))
