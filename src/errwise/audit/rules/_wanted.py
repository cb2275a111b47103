"""The caught error *is* the wanted outcome: "ensure absent" (`del os.environ[key]` catching
`KeyError`, `os.unlink` catching `FileNotFoundError`, `items.remove(x)` catching `ValueError`)
and "ensure present" (`os.makedirs` catching `FileExistsError`).

Promise: `wanted_outcome(model, handler)` is true only when every statement the `try` guards
removes something (a `del`, or a call named `remove`/`discard`/`unlink`/`rmdir`/`rmtree`/`pop`/
`kill`, `os.remove`/`os.unlink`/...) and the clause catches only the errors that mean "it was
already gone" — or every statement creates a directory and the clause catches only
`FileExistsError`. It never raises on any model.
"""

from __future__ import annotations

import ast

from errwise.audit.handling import short
from errwise.audit.model import FileModel, HandlerInfo

__all__ = ["wanted_outcome"]

_REMOVALS = frozenset(
    {"remove", "discard", "unlink", "rmdir", "rmtree", "removedirs", "pop", "kill", "delenv"}
)
_CREATIONS = frozenset({"mkdir", "makedirs"})

_ALREADY_GONE = frozenset(
    {
        "KeyError",
        "IndexError",
        "LookupError",
        "ValueError",
        "AttributeError",
        "FileNotFoundError",
        "ProcessLookupError",
    }
)
_ALREADY_THERE = frozenset({"FileExistsError"})


def wanted_outcome(model: FileModel, handler: HandlerInfo) -> bool:
    """Does the clause catch only the error that means the wanted state already holds?"""
    if handler.bare or not handler.caught or handler.facts.reraises:
        return False
    caught = {short(c) for c in handler.caught}
    body = handler.try_.node.body
    kinds = {_kind(model, stmt) for stmt in body}
    if kinds == {"remove"}:
        return caught <= _ALREADY_GONE
    if kinds == {"create"}:
        return caught <= _ALREADY_THERE
    return False


def _kind(model: FileModel, stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Delete):
        return "remove"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if not isinstance(func, (ast.Attribute, ast.Name)):
            return None
        qual = model.qualify(func) or name
        last = qual.rsplit(".", 1)[-1]
        if last in _REMOVALS or name in _REMOVALS:
            return "remove"
        if last in _CREATIONS or name in _CREATIONS:
            return "create"
    return None
