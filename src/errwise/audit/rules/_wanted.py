"""The caught error *is* the wanted outcome: "ensure absent" (`del os.environ[key]` catching
`KeyError`, `os.unlink` catching `FileNotFoundError`, `items.remove(x)` catching `ValueError`)
and "ensure present" (`os.makedirs` catching `FileExistsError`); and an exception thrown on
purpose (`coro.throw(exc)` caught by `except exc`).

Promise: `wanted_outcome(model, handler)` is true only when every statement the `try` guards
removes something (a `del`, or a call named `remove`/`discard`/`unlink`/`rmdir`/`rmtree`/`pop`/
`kill`, `os.remove`/`os.unlink`/...) and the clause catches only the errors that mean "it was
already gone" — or every statement creates a directory and the clause catches only
`FileExistsError`. `throws_caught(model, handler)` is true only when the clause catches one
name and the guarded code calls `.throw(<that name>)`. Neither raises on any model.
"""

from __future__ import annotations

import ast

from errwise.audit.handling import short
from errwise.audit.model import FileModel, HandlerInfo

__all__ = ["wanted_outcome", "throws_caught"]

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


def throws_caught(model: FileModel, handler: HandlerInfo) -> bool:
    """The guarded code throws the very exception the clause catches, on purpose
    (`gen.throw(exc)` / `coro.throw(exc)` caught by `except exc`): catching it is the point."""
    if handler.bare or len(handler.caught) != 1:
        return False
    caught = handler.node.type
    if not isinstance(caught, ast.Name):
        return False
    for call in model.calls_in(handler.try_.node.body):
        func = call.node.func
        if isinstance(func, ast.Attribute) and func.attr == "throw" and call.node.args:
            first = call.node.args[0]
            if isinstance(first, ast.Name) and first.id == caught.id:
                return True
    return False
