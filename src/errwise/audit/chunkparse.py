"""Parse a large module in pieces, so that Ctrl-C, SIGTERM and the per-file time budget are
served while it is parsed.

`ast.parse` is one call into C: on a multi-megabyte file it runs for seconds, and a signal
handler (a `KeyboardInterrupt`, the budget's alarm) waits until it returns.

Promise: `parse_module(source, filename)` returns a tree equal to
`ast.parse(source, filename=filename)` — the same nodes with the same positions — or raises
what that call raises. A source of up to `CHUNK_CHARS * 2` characters, or one holding a
carriage return, is parsed whole. A larger one is cut, at about every `CHUNK_CHARS` characters,
before a line that may start a top-level statement — a name or keyword in column 0 other than
`else`, `elif`, `except` and `finally`, or a decorator — keeping decorators with what they
decorate; each piece is parsed with as many newlines before it as there are lines
above it, so every position is the one the whole parse gives, and the pieces' statements are
joined into one module. A cut inside a construct (a string, brackets, a backslash continuation,
a compound statement's clauses) always leaves one of the pieces unfinished, so it fails to
parse: then, and on any other failure of a piece, the whole source is parsed in one call, which
gives the exact tree or the exact error. A piece that parses ends where a logical line ends at
depth 0, so the whole parse would put a statement boundary there too.
"""

from __future__ import annotations

import ast
import re

__all__ = ["CHUNK_CHARS", "parse_module"]

CHUNK_CHARS = 256 * 1024
"""About how much one piece holds: parsed in well under a second."""

_TOP_LEVEL = re.compile(r"^(?:@|(?!(?:else|elif|except|finally)\b)[A-Za-z_])", re.M)
"""A line that may start a top-level statement: a decorator, or a name or keyword in column 0
(but the clauses that continue a compound statement)."""


def parse_module(source: str, filename: str, *, chunk: int = CHUNK_CHARS) -> ast.Module:
    """The module's tree (see the module promise)."""
    cuts = _cuts(source, chunk) if len(source) > 2 * chunk and "\r" not in source else []
    if not cuts:
        return ast.parse(source, filename=filename)
    body: list[ast.stmt] = []
    start, line = 0, 0
    for end in [*cuts, len(source)]:
        piece = source[start:end]
        try:
            tree = ast.parse("\n" * line + piece, filename=filename)
        except (SyntaxError, ValueError):
            return ast.parse(source, filename=filename)  # the exact tree, or the exact error
        body.extend(tree.body)
        line += piece.count("\n")
        start = end
    return ast.Module(body=body, type_ignores=[])


def _cuts(source: str, chunk: int) -> list[int]:
    """Offsets of line starts to cut at, about `chunk` characters apart."""
    cuts: list[int] = []
    target = chunk
    while target < len(source) - chunk:
        found = _TOP_LEVEL.search(source, target)
        if found is None:
            break
        at = found.start()
        while at > 0:  # keep a definition's decorators with it: cut above them
            above = source.rfind("\n", 0, at - 1) + 1  # where the line above starts
            if not source.startswith("@", above):
                break
            at = above
        if at > (cuts[-1] if cuts else 0):
            cuts.append(at)
        target = max(found.end(), at + chunk)
    return cuts
