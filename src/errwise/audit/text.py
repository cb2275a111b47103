"""Short renderings of code for finding messages.

Promise: renderings are single-line, bounded in length, and name calls the way the code wrote
them (`lock_path.unlink()`), resolved names where that is clearer (`subprocess.run(...)`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from errwise.audit.handling import short
from errwise.audit.model import FileModel, HandlerInfo

__all__ = ["call_list", "caught_text", "call_text"]

_MAX_CALLS = 3


def call_text(model: FileModel, call: ast.Call) -> str:
    name = model.qualify(call.func)
    if name is None:
        name = ast.unparse(call.func)
    if len(name) > 40:
        name = "…" + name[-39:]
    return f"`{name}()`"


def call_list(model: FileModel, nodes: Iterable[ast.AST]) -> str:
    """The distinct calls in the statements, most state-changing first ("" when none)."""
    infos = sorted(
        model.calls_in(list(nodes)), key=lambda c: (-int(c.effects.state_changing), c.node.lineno)
    )
    names: list[str] = []
    for info in infos:
        text = call_text(model, info.node)
        if text not in names:
            names.append(text)
    if not names:
        return ""
    shown = ", ".join(names[:_MAX_CALLS])
    return shown + (f" and {len(names) - _MAX_CALLS} more" if len(names) > _MAX_CALLS else "")


def caught_text(handler: HandlerInfo) -> str:
    if handler.bare:
        return ""
    names = [short(c) for c in handler.caught]
    return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
