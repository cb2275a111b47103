"""The rule catalog: every module `ewNNN_<name>.py` in this package defines `RULE`.

Promise: `all_rules()` lists every rule once, sorted by id; ids and names are unique (checked at
load). Adding a rule is adding a module — no list to edit.
"""

from __future__ import annotations

import functools

from errwise.audit.plugins import load_plugins
from errwise.audit.rule import Rule
from errwise.error import bug

__all__ = ["all_rules"]


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    rules = load_plugins(__name__, __path__, "ew", "RULE", Rule)
    rules.sort(key=lambda r: r.id)
    for attr in ("id", "name"):
        values = [getattr(r, attr) for r in rules]
        if len(values) != len(set(values)):
            raise bug(f"duplicate rule {attr}s in the catalog", values=values)
    return tuple(rules)
