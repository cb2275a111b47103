"""What the last run over the same files finished, and what each file's result depended on.

Promise: an edit refinishes only the files whose results it can change. `Ledger.reusable` hands
back a stored result only for a file whose own scan is unchanged, and only when finishing it
again would make the same result. That is the case when both of these hold:

- every changed file kept its interface (`interface_digest`), so every call of the program
  resolves as before — or it only gained or lost functions or properties, and the code that
  names them (`Program.mentioning`) counts as changed too;
- none of the answers the result was built from reached changed code: no raise-set whose
  callees (transitively) include a function defined there, no call sites of a function that
  code calls or called, no clause, line or try looked up in it, no function asked about that
  has just been defined.

Anything else refinishes every file: files added, removed or no longer parsed, another change
of interface (classes, imports), a ledger that does not fit, a previous scan no longer cached.
The ledger is stored in the cache under a key made of every file's path and settings (not their
contents), so each edit finds the previous run's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from errwise.audit.engine import FileResult, FileScan
from errwise.audit.infer.facts import FileFacts, interface_digest, shape_digest
from errwise.audit.infer.program import Program, Reads

__all__ = ["Entry", "Ledger"]


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
    absent: frozenset[str]
    """The functions asked about that the program did not define."""

    @classmethod
    def made(
        cls, key: str, facts: FileFacts | None, result: FileResult, program: Program, reads: Reads
    ) -> Entry:
        """The entry of a result just finished with `program`, which noted `reads`."""
        reach, looked, absent = program.depends(reads)
        return cls(
            key, interface_digest(facts), result, reach, looked, frozenset(reads.sites), absent
        )


@dataclass(slots=True)
class Ledger:
    """Every file's entry from one run (see the module promise)."""

    linked: tuple[str, ...]
    """The files the run linked, in order (`Program.linked`)."""
    entries: dict[str, Entry]
    """By reported path."""

    def reusable(
        self,
        current: Mapping[str, tuple[str, FileFacts | None]],
        program: Program,
        previous: Callable[[str], object],
    ) -> dict[str, Entry]:
        """The entries still valid for this run, by path. `current` maps every file of this
        run to its scan key and facts; `program` links them; `previous(key)` is the scan
        stored under a key (None when it is gone)."""
        if current.keys() != self.entries.keys() or program.linked != self.linked:
            return {}
        changed = [path for path, (key, _) in current.items() if self.entries[path].key != key]
        if not changed:
            return dict(self.entries)
        defined: set[str] = set()
        names: set[str] = set()
        for path in changed:
            entry = self.entries[path]
            facts = current[path][1]
            if interface_digest(facts) != entry.interface:
                old = previous(entry.key)
                moved = _moved(old.facts, facts) if isinstance(old, FileScan) else None
                if moved is None:
                    return {}
                defined |= moved[0]
                names |= moved[1]
        touched = set(changed)
        if names:
            mentioning = program.mentioning(names, skip=changed)
            if mentioning is None:
                return {}
            touched |= mentioning
        bits = {path: 1 << n for n, path in enumerate(self.linked)}
        mask = 0
        called: set[str] = set()
        for path in touched:
            mask |= bits.get(path, 0)
            called |= program.callees_in(path)
        return {
            path: entry
            for path, entry in self.entries.items()
            if path not in touched
            and not (
                entry.reach & mask
                or entry.looked & mask
                or entry.sites & called
                or entry.absent & defined
            )
        }


def _moved(old: FileFacts | None, new: FileFacts | None) -> tuple[set[str], set[str]] | None:
    """(the functions defined or removed, their short names and those of the properties
    defined or removed) when that is all that changed between two interfaces; else None."""
    if old is None or new is None or shape_digest(old) != shape_digest(new):
        return None
    before = [fn.qualname for fn in old.functions]
    after = [fn.qualname for fn in new.functions]
    if len(set(before)) != len(before) or len(set(after)) != len(after):
        return None  # a name defined twice: which definition wins depends on the order
    defined = set(before) ^ set(after)
    names = {q.rpartition(".")[2] for q in defined} | (old.properties ^ new.properties)
    return defined, names
