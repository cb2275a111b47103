"""The plan: which runs a sweep makes, in which order, and which of them a shard owns.

Promise: `make_plan(baseline, faults=...)` is deterministic for a given baseline: one `Unit` per
(site, fault) — sites in (path, line, operation) order, faults in `errwise.faults` order — each
a transient run in the cheapest swept test reaching the site, with its persistent follow-up
(run only when the transient run's test passed). `Shard(k, n).owns(index)` splits the units
round-robin: the union over k = 1..n is the whole plan, shards never overlap, and a transient
run and its persistent follow-up always fall in the same shard. Fault choices: `sweep` (each
operation's default few), `all` (every fault that fits), or a comma-separated list of fault
names (each applied where it fits the operation); a name no operation knows is a usage error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from errwise import faults as _faults
from errwise.error import usage
from errwise.sweep.model import RunSpec, SiteKey

__all__ = ["Unit", "Shard", "make_plan", "parse_shard", "choose_faults", "check_faults"]


@dataclass(frozen=True, slots=True)
class Unit:
    """A transient run and its persistent follow-up, for one site and one fault."""

    transient: RunSpec
    persistent: RunSpec

    @property
    def site(self) -> SiteKey:
        return self.transient.site

    @property
    def id(self) -> str:
        """The unit's identifier: its transient run's."""
        return self.transient.id


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `k` of `n` (1-based)."""

    k: int
    n: int

    def owns(self, index: int) -> bool:
        return index % self.n == self.k - 1

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


_SHARD_RE = re.compile(r"^([0-9]+)/([0-9]+)$")


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; a usage error otherwise."""
    found = _SHARD_RE.match(text.strip())
    if found is None or not 1 <= int(found.group(1)) <= int(found.group(2)):
        raise usage("ERR_USAGE", f"--shard takes K/N with 1 <= K <= N, not {text!r}", got=text)
    return Shard(int(found.group(1)), int(found.group(2)))


def choose_faults(operation: str, choice: str) -> tuple[str, ...]:
    """The faults to try at a site of `operation` (see the module promise)."""
    info = _faults.OPERATIONS.get(operation)
    if info is None:
        return ()  # an operation this errwise does not know: the agent recorded it, none fits
    if choice == "sweep":
        return tuple(info.sweep)
    if choice == "all":
        return tuple(info.faults)
    wanted = _fault_names(choice)
    return tuple(f for f in info.faults if f in wanted)


def check_faults(choice: str) -> None:
    """A usage error unless `choice` is sweep, all, or a list of known fault names."""
    if choice not in ("sweep", "all"):
        _fault_names(choice)


def _fault_names(choice: str) -> set[str]:
    names = {part.strip() for part in choice.split(",") if part.strip()}
    known = {f for op in _faults.OPERATIONS.values() for f in op.faults}
    unknown = sorted(names - known)
    if not names or unknown:
        err = usage(
            "ERR_USAGE",
            f"--faults: unknown fault name(s) {', '.join(unknown) or '(none given)'}",
            got=choice,
        )
        raise err.add_hint(f"use sweep, all, or names among: {', '.join(sorted(known))}")
    return names


def make_plan(sites: Mapping[SiteKey, Mapping[str, Any]], *, faults: str = "sweep") -> list[Unit]:
    """The units of a sweep over `sites` (site -> cheapest test), in order."""
    check_faults(faults)
    return [
        Unit(
            RunSpec(path, line, operation, fault, False, test.get("nodeid")),
            RunSpec(path, line, operation, fault, True, test.get("nodeid")),
        )
        for (path, line, operation), test in sorted(sites.items())
        for fault in choose_faults(operation, faults)
    ]


def shard_units(units: Sequence[Unit], shard: Shard | None) -> list[tuple[int, Unit]]:
    """The (index, unit) pairs `shard` owns (all of them without a shard)."""
    return [(i, u) for i, u in enumerate(units) if shard is None or shard.owns(i)]
