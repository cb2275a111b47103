"""The rule catalog: every module `ewNNN_<name>.py` in this package defines `RULE`.

Promise: `all_rules()` lists every rule once, sorted by id; ids and names are unique (checked at
load). Adding a rule is adding a module — no list to edit.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from errwise.audit.rule import Rule
from errwise.error import bug

__all__ = ["all_rules"]


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("ew"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise bug("rule module defines no RULE", module=info.name)
        rules.append(rule)
    rules.sort(key=lambda r: r.id)
    for attr in ("id", "name"):
        values = [getattr(r, attr) for r in rules]
        if len(values) != len(set(values)):
            raise bug(f"duplicate rule {attr}s in the catalog", values=values)
    return tuple(rules)
