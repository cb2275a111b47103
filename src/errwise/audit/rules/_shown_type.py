"""Two facts about a generic raise that decide whether a caller really meets it untyped.

Promise: `shows_as_message(program, "RuntimeError")` is True when some function of the program
catches that builtin type by name (not a catch-all) and ends the program in the handler
(`sys.exit`, `exit`, `raise SystemExit`): the project uses the type as its command line's
error, shown as a message — a convention, not an unclassified failure. Answered once per
program. `translation_siblings(model, raise_node)` names the exception types the other
branches of the `if`/`elif` chain whose final `else` holds the raise raise (`if exp == "A":
raise ValueError ... else: raise RuntimeError(msg)`), when every other branch raises: an error
translation table whose fallback is the unknown case of the same failure; empty otherwise.
`inherited_unchanged(program, class_qual, method)` is True when a subclass of the class, in
the program, does not define the method: its users meet the base class's stub.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from errwise.audit.infer.facts import Block, Call, Raise, Try
from errwise.audit.model import FileModel
from errwise.audit.names import dotted

if TYPE_CHECKING:
    from errwise.audit.infer.program import Program

_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit", "SystemExit", "builtins.SystemExit"})
_MEMO: WeakKeyDictionary[Program, dict[str, bool]] = WeakKeyDictionary()


def shows_as_message(program: Program, builtin: str) -> bool:
    """Does a handler of the program catch `builtin` by name and end the program?"""
    memo = _MEMO.setdefault(program, {})
    found = memo.get(builtin)
    if found is None:
        wanted = {builtin, f"builtins.{builtin}"}
        found = memo[builtin] = any(
            wanted.intersection(h.caught) and _ends_program(h.body)
            for path in program.linked
            for _, _, t in program.tries_in(path)
            for h in t.handlers
        )
    return found


def _ends_program(block: Block) -> bool:
    for item in block:
        if isinstance(item, Call) and item.text in _EXITS:
            return True
        if isinstance(item, Raise) and any(n in _EXITS for n in item.names):
            return True
        if isinstance(item, Try) and (
            _ends_program(item.body) or any(_ends_program(h.body) for h in item.handlers)
        ):
            return True
    return False


def translation_siblings(model: FileModel, node: ast.stmt) -> list[str]:
    """The types the other branches of the chain raise (see the module doc)."""
    parent = model.parents.get(node)
    if not isinstance(parent, ast.If) or node not in parent.orelse:
        return []
    chain = [parent]
    above = model.parents.get(parent)
    while isinstance(above, ast.If) and above.orelse == [chain[-1]]:
        chain.append(above)
        above = model.parents.get(above)
    if len(chain) < 2:
        return []  # a lone `if/else`: no table
    raised: list[str] = []
    for branch in chain:
        last = branch.body[-1] if branch.body else None
        if not isinstance(last, ast.Raise) or last.exc is None:
            return []
        exc = last.exc.func if isinstance(last.exc, ast.Call) else last.exc
        name = dotted(exc)
        if name is None:
            return []
        if name not in raised:
            raised.append(name)
    return sorted(raised)


def inherited_unchanged(program: Program, class_qual: str, method: str) -> bool:
    """Does a subclass of `class_qual` in the program leave `method` to the base class?"""
    base = program.canonical_name(class_qual)
    return any(
        base in bases and f"{sub}.{method}" not in program.functions
        for sub, bases in program.classes.items()
    )
