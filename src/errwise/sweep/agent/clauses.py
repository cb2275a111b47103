"""Where a file's handlers are: except clauses, `with` statements and `finally` bodies by line.

Promise: `clauses_of(path)` parses the file once (cached) and answers, for a line the tracer
saw: the except clause whose header holds it, the except clause whose body holds it
(innermost), the `with` statements whose header holds it, and whether it lies in a `finally`
body. A file that cannot be read or parsed has no clauses (None): the tracer then names no
handler there rather than guessing.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

__all__ = ["Clause", "FileClauses", "clauses_of"]


@dataclass(frozen=True)
class Clause:
    """An except clause or a `with` statement: `line` is its first line, `header` its source
    (`except OSError`, `with contextlib.suppress(OSError)`), `body` the lines of its body."""

    kind: str
    line: int
    header: str
    body_start: int
    end: int

    def header_holds(self, line: int) -> bool:
        """`line` is the header's (a one-line clause's only line counts as its header)."""
        return self.line <= line < self.body_start or line == self.line == self.body_start

    def body_holds(self, line: int) -> bool:
        return self.body_start <= line <= self.end


@dataclass(frozen=True)
class FileClauses:
    """The clauses of one file."""

    excepts: tuple[Clause, ...]
    withs: tuple[Clause, ...]
    finally_bodies: tuple[tuple[int, int], ...]

    def except_header(self, line: int) -> Clause | None:
        for clause in self.excepts:
            if clause.header_holds(line):
                return clause
        return None

    def except_body(self, line: int) -> Clause | None:
        """The innermost except clause whose body holds `line`."""
        best: Clause | None = None
        for clause in self.excepts:
            if clause.body_holds(line) and (best is None or clause.body_start >= best.body_start):
                best = clause
        return best

    def with_header(self, line: int, inside: int) -> Clause | None:
        """The innermost `with` whose header holds `line` and whose body holds `inside`."""
        best: Clause | None = None
        for clause in self.withs:
            if (
                clause.header_holds(line)
                and clause.body_holds(inside)
                and (best is None or clause.body_start >= best.body_start)
            ):
                best = clause
        return best

    def in_finally(self, line: int) -> bool:
        return any(start <= line <= end for start, end in self.finally_bodies)


def _header(node: ast.ExceptHandler | ast.With | ast.AsyncWith) -> str:
    if isinstance(node, ast.ExceptHandler):
        text = "except"
        if node.type is not None:
            text += " " + ast.unparse(node.type)
        return text
    word = "async with" if isinstance(node, ast.AsyncWith) else "with"
    return word + " " + ", ".join(ast.unparse(item.context_expr) for item in node.items)


def _clause(kind: str, node: ast.ExceptHandler | ast.With | ast.AsyncWith) -> Clause:
    end = node.end_lineno or node.body[-1].lineno
    return Clause(kind, node.lineno, _header(node), node.body[0].lineno, end)


@functools.lru_cache(maxsize=512)
def clauses_of(path: str) -> FileClauses | None:
    """The clauses of the file at `path` (see the module promise)."""
    import tokenize

    try:
        with tokenize.open(path) as handle:
            source = handle.read()
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None  # not a readable Python source file (`<string>`, a frozen module): no clauses
    excepts: list[Clause] = []
    withs: list[Clause] = []
    finals: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            excepts.append(_clause("except", node))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            withs.append(_clause("with", node))
        elif isinstance(node, (ast.Try, ast.TryStar)) and node.finalbody:
            last = node.finalbody[-1]
            finals.append((node.finalbody[0].lineno, last.end_lineno or last.lineno))
    return FileClauses(tuple(excepts), tuple(withs), tuple(finals))
