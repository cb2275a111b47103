"""Each rule's measured precision on real code: the share of its findings that people who read
the code around them labelled true, and how many labels that rests on.

Promise: `measured(rule_id)` is the figure `bench/precision.py --write-precision` stored in
`precision.json` beside this module (None when the rule has no labelled finding there); the
file is read once, and a missing or malformed file is an internal error naming it — never a
silent "unknown".
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from errwise.error import bug

__all__ = ["Measured", "measured", "corpus"]

_DATA = "precision.json"


@dataclass(frozen=True, slots=True)
class Measured:
    precision: float
    """True findings / labelled findings, 0.0-1.0."""
    labels: int
    """How many labelled findings the figure rests on."""

    def sentence(self) -> str:
        """`Measured precision: 91 % (23 labelled findings on real code).`"""
        noun = "finding" if self.labels == 1 else "findings"
        share = f"{self.precision:.0%}"
        return f"Measured precision: {share} ({self.labels} labelled {noun} on real code)."

    def to_dict(self) -> dict[str, float | int]:
        return {"value": self.precision, "labels": self.labels}


def measured(rule_id: str) -> Measured | None:
    """The rule's measured precision, or None when none of its findings was labelled."""
    return _table()[0].get(rule_id)


def corpus() -> str:
    """The projects (name and version) the figures were measured on."""
    return _table()[1]


@functools.cache
def _table() -> tuple[dict[str, Measured], str]:
    try:
        text = resources.files(__package__).joinpath(_DATA).read_text(encoding="utf-8")
        data = json.loads(text)
        rules = {
            str(rule_id): Measured(float(entry["precision"]), int(entry["labels"]))
            for rule_id, entry in data["rules"].items()
        }
        return rules, str(data["corpus"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bug(f"the rules' measured precision ({_DATA}) cannot be read: {exc}") from exc
