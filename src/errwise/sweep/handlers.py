"""The handlers that statically guard a call site: which `except` clauses could catch an error
raised at a given line.

Promise: `guarding_handlers(root, sites)` reads each file named by a site (a path relative to
`root`, `/`-separated, or absolute) once, parses it with the auditor's parser (never importing
it) and returns `(path, line)` for every except clause of every `try` (and `try/except*`) whose
*body* encloses a site line within the same function as the site: a `def` or `class`
between the try and the site is a boundary (that code runs later, not under the try), while
comprehensions are not (they run in place); a `lambda` is not told apart from the line holding
it (a line number cannot say which of the two made the call). A `with contextlib.suppress(...)` (or
`with suppress(...)`) whose body encloses the site counts as a handler too, reported at the
`with` line. Clauses of a try's `except`, `else` or `finally` parts do not guard that try's own
body. Paths come back as the site gave them. A file that cannot be read, decoded or parsed is a
classified `errwise.Error` naming it (ERR_NOT_FOUND / ERR_IO ..., ERR_DECODE, ERR_PARSE): a
site was recorded from code that ran, so it should always parse — no silent empty answer.
`site_guards` gives the same per site.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from errwise.audit.chunkparse import parse_module
from errwise.audit.engine import decode_source
from errwise.audit.finding import Diagnostic
from errwise.error import Error, env
from errwise.ops.safeio import read_regular

__all__ = ["guarding_handlers", "site_guards", "SOURCE_LIMIT"]

SOURCE_LIMIT = 32 * 1024 * 1024
"""The largest source file read (the auditor's own bound)."""

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRIES = (ast.Try, ast.TryStar)
_WITHS = (ast.With, ast.AsyncWith)


def guarding_handlers(root: Path, sites: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """Every handler `(path, line)` guarding at least one of `sites` (see the module promise)."""
    found: set[tuple[str, int]] = set()
    for guards in site_guards(root, sites).values():
        found.update(guards)
    return found


def site_guards(
    root: Path, sites: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[tuple[str, int], ...]]:
    """For each site, the handlers guarding it, outermost try first, clauses in source order."""
    trees: dict[str, ast.Module] = {}
    out: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
    for path, line in sites:
        tree = trees.get(path)
        if tree is None:
            tree = trees[path] = _parse(Path(root) / path, path)
        out[(path, line)] = tuple((path, n) for n in dict.fromkeys(_guards(tree, line)))
    return out


def _parse(file: Path, shown: str) -> ast.Module:
    data = read_regular(file, limit=SOURCE_LIMIT, follow_symlinks=True)
    text = decode_source(data, shown)
    if isinstance(text, Diagnostic):
        raise _unparsable(text.code, shown, text.message)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the project's SyntaxWarnings are not ours
            return parse_module(text, os.fspath(file))
    except (SyntaxError, ValueError) as exc:
        raise _unparsable("ERR_PARSE", shown, f"cannot be parsed: {exc}") from exc
    except (RecursionError, MemoryError) as exc:
        raise _unparsable("ERR_PARSE", shown, "is nested too deeply to parse") from exc


def _unparsable(code: str, path: str, why: str) -> Error:
    return env(code, f"{path}: {why}; its handlers cannot be found", path=path)


def _encloses(node: ast.AST, line: int) -> bool:
    first = getattr(node, "lineno", None)
    if first is None:
        return False
    last = getattr(node, "end_lineno", None) or first
    return bool(first <= line <= last)


def _suppresses(node: ast.With | ast.AsyncWith) -> bool:
    for item in node.items:
        call = item.context_expr
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if (isinstance(func, ast.Name) and func.id == "suppress") or (
            isinstance(func, ast.Attribute) and func.attr == "suppress"
        ):
            return True
    return False


def _guards(tree: ast.Module, line: int) -> list[int]:
    """The handler lines guarding `line`, outermost first, reset at each scope boundary."""
    found: list[int] = []
    for node in _path_to(tree, line):
        if isinstance(node, _SCOPES):
            found.clear()  # a try around a definition does not guard what runs in it later
        elif isinstance(node, _TRIES) and any(_encloses(s, line) for s in node.body):
            found.extend(h.lineno for h in node.handlers)
        elif (
            isinstance(node, _WITHS)
            and _suppresses(node)
            and any(_encloses(s, line) for s in node.body)
        ):
            found.append(node.lineno)
    return found


def _path_to(tree: ast.Module, line: int) -> list[ast.AST]:
    """The statements and clauses (`except`, `case`) enclosing `line`, outermost first."""
    path: list[ast.AST] = []
    node: ast.AST = tree
    while True:
        inner = next(
            (
                child
                for child in ast.iter_child_nodes(node)
                if not isinstance(child, ast.expr) and _encloses(child, line)
            ),
            None,
        )
        if inner is None:
            return path
        path.append(inner)
        node = inner
