"""What the last run over the same files finished, and what each file's result depended on.

Promise: an edit refinishes only the files whose results it can change. `Ledger.reusable` hands
back a stored result only for a file whose own scan is unchanged, and only when finishing it
again would make the same result. That is the case when both of these hold:

- every changed file kept its interface (`interface_digest`), so every call of the program
  resolves as before — or it only gained or lost functions or properties, and then every
  function of that file, and every function elsewhere that names them (`Program.mentioning`),
  counts as edited;
- none of the answers the result was built from reached edited code: no raise-set of an
  edited function or of one calling an edited function (transitively: functions whose bodies
  only moved are not edited, `edited_functions`), no call sites of a function that edited code
  calls or called, no clause, line or try looked up in a changed file.

Anything else refinishes every file: files added, removed or no longer parsed, another change
of interface (classes, imports), a ledger that does not fit, a previous scan no longer cached.
The ledger is stored in the cache under a key made of every file's path and settings (not their
contents), so each edit finds the previous run's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from errwise.audit.engine import FileResult, FileScan
from errwise.audit.infer.facts import (
    FileFacts,
    edited_functions,
    interface_digest,
    shape_digest,
)
from errwise.audit.infer.program import Program, Reads

__all__ = ["Edited", "Entry", "Ledger"]

Edited = frozenset[str] | None
"""The functions an edit may have changed the raise-sets of (None: any)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One file's finished result and what it was built from."""

    key: str
    """The cache key of the scan the result was finished from."""
    interface: str
    """`interface_digest` of that scan's facts."""
    result: FileResult
    reach: int
    """The files (a mask over `Ledger.linked`) whose function bodies the answers depend on."""
    looked: int
    """The files (a mask over `Ledger.linked`) whose clauses, lines, tries or calls were read."""
    sites: frozenset[str]
    """The functions whose call sites were listed."""
    functions: frozenset[str]
    """The functions whose raise-sets or flows were read (`Reads.functions`)."""

    @classmethod
    def made(
        cls, key: str, facts: FileFacts | None, result: FileResult, program: Program, reads: Reads
    ) -> Entry:
        """The entry of a result just finished with `program`, which noted `reads`."""
        reach, looked = program.depends(reads)
        sites, functions = frozenset(reads.sites), frozenset(reads.functions)
        return cls(key, interface_digest(facts), result, reach, looked, sites, functions)


@dataclass(slots=True)
class Ledger:
    """Every file's entry from one run (see the module promise)."""

    linked: tuple[str, ...]
    """The files the run linked, in order (`Program.linked`)."""
    entries: dict[str, Entry]
    """By reported path."""
    graph: dict[str, tuple[str, ...]]
    """The callees of the functions the entries depend on (`Program.callee_graph`, and what
    earlier ledgers knew of functions not edited since)."""

    def succeeded(self, program: Program, entries: dict[str, Entry], edited: Edited) -> Ledger:
        """The ledger of a run that reused what `reusable` allowed (`edited`, None: nothing)
        and finished the rest with `program`."""
        graph = program.callee_graph()
        if edited is not None:
            for qual, callees in self.graph.items():
                if qual not in edited:
                    graph.setdefault(qual, callees)
        return Ledger(program.linked, entries, graph)

    def reusable(
        self,
        current: Mapping[str, tuple[str, FileFacts | None]],
        program: Program,
        previous: Callable[[str], object],
    ) -> tuple[dict[str, Entry], Edited]:
        """The entries still valid for this run, by path, and the functions that may raise
        otherwise now (None: any). `current` maps every file of this run to its scan key
        and facts; `program` links them; `previous(key)` is the scan stored under a key
        (None when it is gone)."""
        if current.keys() != self.entries.keys() or program.linked != self.linked:
            return {}, None
        changed = [path for path, (key, _) in current.items() if self.entries[path].key != key]
        if not changed:
            return dict(self.entries), frozenset()
        edited: set[str] = set()
        """The functions that may raise otherwise: edited, defined, removed, or resolving
        their calls otherwise."""
        functions: set[str] = set()
        properties: set[str] = set()
        for path in changed:
            facts = current[path][1]
            old = previous(self.entries[path].key)
            before = old.facts if isinstance(old, FileScan) and old.path == path else None
            if interface_digest(facts) == self.entries[path].interface:
                if before is not None and facts is not None:
                    edited |= edited_functions(before, facts)
                    continue
            else:
                moved = _moved(before, facts)
                if moved is None:
                    return {}, None
                functions |= moved[0]
                properties |= moved[1]
            for version in (before, facts):  # everything there may resolve otherwise
                if version is not None:
                    edited.update(fn.qualname for fn in version.functions)
        touched = set(changed)
        if functions or properties:
            # A method is looked up by its attribute name too (`obj.m()`, overrides); any
            # function by the dotted names calls, raises and imports resolve through.
            methods = {q for q in functions if q.rpartition(".")[0] in program.classes}
            attributes = {q.rpartition(".")[2] for q in methods} | properties
            names = {q.rpartition(".")[2] for q in functions} | properties
            mentioning = program.mentioning(names, attributes)
            if mentioning is None:
                return {}, None
            touched.update(mentioning)
            for naming in mentioning.values():
                edited |= naming
        bits = {path: 1 << n for n, path in enumerate(self.linked)}
        mask = 0
        for path in touched:
            mask |= bits.get(path, 0)
        called = program.callees_of(edited)
        kept: dict[str, Entry] = {}
        candidates: dict[str, frozenset[str]] = {}
        for path, entry in self.entries.items():
            if path in touched or entry.looked & mask or entry.sites & called:
                continue
            if entry.functions & edited:
                continue
            if entry.reach & mask:
                candidates[path] = entry.functions
            kept[path] = entry
        for path in program.reaching(candidates, edited, self.graph):
            del kept[path]
        return kept, frozenset(edited)


def _moved(old: FileFacts | None, new: FileFacts | None) -> tuple[set[str], set[str]] | None:
    """(the functions defined or removed, the properties defined or removed) when that is all
    that changed between two interfaces; else None."""
    if old is None or new is None or shape_digest(old) != shape_digest(new):
        return None
    before = [fn.qualname for fn in old.functions]
    after = [fn.qualname for fn in new.functions]
    if len(set(before)) != len(before) or len(set(after)) != len(after):
        return None  # a name defined twice: which definition wins depends on the order
    return set(before) ^ set(after), set(old.properties ^ new.properties)
